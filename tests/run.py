#!/usr/bin/env python3
"""tests/run.py — run every test and add up the results.

Runs the unit test binaries (build/tests/test_*) and every python test
script under tests/run, tests/rsp and tests/gdb. Each prints one line per
test, `ok NAME` or `not ok NAME`; a script that crashes or times out counts
as one failure. Ends with `N passed, N failed`.
"""
import argparse
import glob
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_one(cmd, env, timeout):
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout,
                              cwd=ROOT, stdin=subprocess.DEVNULL)
        out, code, timed_out = proc.stdout.decode(errors="replace"), proc.returncode, False
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        code, timed_out = None, True
    return out, code, timed_out, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--only", default="", help="substring of the test file names to run")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    build = os.path.join(ROOT, args.build)
    env = dict(os.environ)
    env["KVMSTUB"] = os.path.join(build, "kvmstub")
    env["KVMSTUB_GUESTS"] = os.path.join(build, "guests")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONPATH"] = os.path.join(ROOT, "tests")

    cmds = [[b] for b in sorted(glob.glob(os.path.join(build, "tests", "test_*")))
            if os.access(b, os.X_OK) and not b.endswith(".d")]
    for sub in ("run", "rsp", "gdb"):
        cmds += [[sys.executable, p] for p in
                 sorted(glob.glob(os.path.join(ROOT, "tests", sub, "test_*.py")))]
    cmds = [c for c in cmds if args.only in c[-1]]

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        print("warning: /dev/kvm is missing or not usable: the KVM tests will fail", flush=True)

    passed = failed = 0
    for cmd in cmds:
        name = os.path.relpath(cmd[-1], ROOT)
        out, code, timed_out, secs = run_one(cmd, env, args.timeout)
        p = sum(1 for l in out.splitlines() if l.startswith("ok "))
        f_lines = [l for l in out.splitlines() if l.startswith("not ok ")]
        f = len(f_lines)
        trouble = None
        if timed_out:
            trouble = "timed out after %.0f s" % args.timeout
        elif code != 0 and f == 0:
            trouble = "exited with status %s and reported no failure" % code
        elif p + f == 0:
            trouble = "ran no test"
        if trouble:
            f += 1
        passed += p
        failed += f
        print("%-40s %3d passed, %d failed  (%.1f s)%s" %
              (name, p, f, secs, ("  " + trouble) if trouble else ""), flush=True)
        if f or args.verbose:
            for line in out.splitlines():
                if not line.startswith("ok "):
                    print("    " + line)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
