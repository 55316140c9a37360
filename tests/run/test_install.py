#!/usr/bin/env python3
"""tests/run/test_install.py — kvmstub installs as a tool: `make install`
puts the binary, the manual page, the docs and the CI examples under
DESTDIR/PREFIX and `make uninstall` takes every file away again; `make deb`
builds a Debian package that `dpkg -i` installs (kvmstub --version and
man kvmstub work from it) and `dpkg -r` removes without a trace. The
package test installs into the system, so it needs root: run as anyone
else it fails, saying so (CI runs as root)."""
import os
import re
import subprocess
import tempfile
import time

import testlib

PACKAGE = "kvmstub"
MAINTAINER = "kvmstub developers <dev@kvmstub.invalid>"


def build_dir():
    """The build under test (build, or build/san for SAN=1), relative."""
    return os.path.relpath(os.path.dirname(os.path.abspath(testlib.KVMSTUB)), testlib.ROOT)


def make(*args, timeout=300):
    """Runs make in the repository on the build under test; returns its output."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL"):   # not the outer make's jobserver
        env.pop(name, None)
    build = build_dir()
    cmd = ["make", "--no-print-directory", "BUILD=" + build] + \
          (["SAN=1"] if os.path.basename(build) == "san" else []) + list(args)
    proc = subprocess.run(cmd, cwd=testlib.ROOT, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    out = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, "%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode, out)
    return out


def files_under(top):
    found = []
    for dirpath, _, names in os.walk(top):
        found += [os.path.relpath(os.path.join(dirpath, n), top) for n in names]
    return sorted(found)


def version():
    status, out, _ = testlib.run(["--version"], timeout=10)
    assert status == 0, status
    return out.decode().split()[1]


def test_make_install_honours_prefix_and_destdir_and_uninstall_removes_every_file():
    examples = sorted(os.listdir(os.path.join(testlib.ROOT, "examples")))
    with tempfile.TemporaryDirectory(prefix="kvmstub-install-") as dest:
        make("install", "DESTDIR=" + dest, "PREFIX=/opt/kvmstub")
        want = ["opt/kvmstub/bin/kvmstub",
                "opt/kvmstub/share/doc/kvmstub/README.md",
                "opt/kvmstub/share/doc/kvmstub/gdbinit.example"] + \
               ["opt/kvmstub/share/doc/kvmstub/examples/" + e for e in examples] + \
               ["opt/kvmstub/share/man/man1/kvmstub.1"]
        assert files_under(dest) == sorted(want), files_under(dest)
        installed = os.path.join(dest, "opt/kvmstub/bin/kvmstub")
        assert os.stat(installed).st_mode & 0o777 == 0o755, oct(os.stat(installed).st_mode)
        out = subprocess.run([installed, "--version"], stdout=subprocess.PIPE,
                             timeout=10).stdout.decode()
        assert out == "kvmstub %s\n" % version(), out
        make("uninstall", "DESTDIR=" + dest, "PREFIX=/opt/kvmstub")
        assert files_under(dest) == [], files_under(dest)
        assert not os.path.exists(os.path.join(dest, "opt/kvmstub/share/doc/kvmstub"))


def dpkg_status():
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}|${Maintainer}", PACKAGE],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return proc.stdout.decode() if proc.returncode == 0 else ""


def run_root(*cmd):
    """Runs CMD; dpkg waits (up to a minute) for an apt or dpkg that holds
    its lock at the same moment rather than failing the test."""
    deadline = time.monotonic() + 60
    while True:
        proc = subprocess.run(list(cmd), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
        out = proc.stdout.decode(errors="replace")
        if proc.returncode == 0 or "lock" not in out or time.monotonic() > deadline:
            return proc.returncode, out
        time.sleep(1)


def test_make_deb_installs_with_dpkg_runs_and_removes_cleanly():
    assert os.geteuid() == 0, (
        "this test installs a Debian package into the system and must run as "
        "root (CI does); run make test as root to check `make deb`")
    status = dpkg_status()
    if "installed" in status.split("|")[0].split():
        # A leftover of an earlier run of this test may go; anything else
        # is somebody's installation, which a test must not replace.
        assert status.endswith("|" + MAINTAINER), (
            "a kvmstub package that this tree did not build is installed: %r" % status)
        code, out = run_root("dpkg", "-r", PACKAGE)
        assert code == 0, out

    out = make("deb")
    debs = re.findall(r"^(\S+\.deb)$", out, re.M)
    assert len(debs) == 1, out
    deb = os.path.join(testlib.ROOT, debs[0])
    assert os.path.basename(deb).startswith("kvmstub_%s_" % version()), deb

    code, out = run_root("dpkg", "-i", deb)
    try:
        assert code == 0, "dpkg -i:\n" + out
        assert dpkg_status().startswith("install ok installed|"), dpkg_status()
        code, listing = run_root("dpkg", "-L", PACKAGE)
        assert code == 0, listing
        files = [f for f in listing.splitlines() if os.path.isfile(f)]
        for want in ("/usr/bin/kvmstub", "/usr/share/man/man1/kvmstub.1.gz",
                     "/usr/share/doc/kvmstub/copyright",
                     "/usr/share/doc/kvmstub/examples/README.md",
                     "/usr/share/doc/kvmstub/examples/fail-on-crash.gdb"):
            assert want in files, (want, files)
        code, out = run_root("/usr/bin/kvmstub", "--version")
        assert code == 0 and out == "kvmstub %s\n" % version(), (code, out)
        code, out = run_root("man", "-P", "cat", "kvmstub")
        assert code == 0 and "kvmstub - run a tiny x86 kernel" in out, (code, out[:500])
        code, out = run_root("dpkg", "-r", PACKAGE)
        assert code == 0, "dpkg -r:\n" + out
    finally:
        if "installed" in dpkg_status().split("|")[0].split():
            run_root("dpkg", "-r", PACKAGE)
    left = [f for f in files if os.path.lexists(f)]
    assert not left, "files left after dpkg -r: %s" % left
    assert not os.path.exists("/usr/share/doc/kvmstub"), os.listdir("/usr/share/doc/kvmstub")
    assert "installed" not in dpkg_status().split("|")[0].split(), dpkg_status()


if __name__ == "__main__":
    testlib.main(globals())
