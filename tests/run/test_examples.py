#!/usr/bin/env python3
"""tests/run/test_examples.py — every command block of examples/README.md
run exactly as written (with bash, from a directory that looks like the
top of the source tree: build/ is the build under test, examples/ the
repository's), only the port 1234 changed to a free one. A block whose
first line says `# passes` must end with status 0 and a PASS: line, one
that says `# fails` with a non-zero status and a FAIL: line; kvmstub must
end by itself once gdb is gone. Every script in examples/ has a section
with both kinds of block."""
import glob
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import testlib

EXAMPLES = os.path.join(testlib.ROOT, "examples")


def readme_sections():
    """{script name: [(first line, block text)]} from examples/README.md."""
    with open(os.path.join(EXAMPLES, "README.md")) as f:
        readme = f.read()
    sections = {}
    for part in readme.split("\n## ")[1:]:
        name = part.split()[0]
        sections[name] = [(b.splitlines()[0], b) for b in re.findall(r"```sh\n(.*?)```", part, re.S)]
    return sections


def session_processes(sid):
    """Pids of the processes in session SID."""
    pids = []
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[3]) == sid:
            pids.append(int(stat.split("/")[2]))
    return pids


def run_block(block, timeout=90):
    """Runs BLOCK with bash in a scratch copy of the tree's top; returns
    (status, output, what was left running and had to be killed)."""
    port = testlib.free_port()
    text = block.replace("1234", str(port))
    work = tempfile.mkdtemp(prefix="kvmstub-examples-")
    try:
        os.symlink(os.path.dirname(os.path.abspath(testlib.KVMSTUB)), os.path.join(work, "build"))
        os.symlink(EXAMPLES, os.path.join(work, "examples"))
        proc = subprocess.Popen(["bash", "-c", text], cwd=work, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            raise AssertionError("the block did not finish in %s s:\n%s\n%s" % (
                timeout, text, out.decode(errors="replace")))
        # kvmstub, in the background, must end by itself once gdb is gone.
        deadline = time.monotonic() + 20
        while session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = session_processes(proc.pid)
        for pid in left:
            os.kill(pid, signal.SIGKILL)
        with open(os.path.join(work, "guest.log"), "rb") as f:
            guest_log = f.read()
        return proc.returncode, out.decode(errors="replace"), left, guest_log
    finally:
        shutil.rmtree(work)


def check_example(script):
    blocks = readme_sections().get(script)
    assert blocks, "examples/README.md has no section for %s" % script
    kinds = [first.split(":")[0] for first, _ in blocks]
    assert "# passes" in kinds and "# fails" in kinds, (script, kinds)
    for first, block in blocks:
        assert "-x examples/%s" % script in block, block
        status, out, left, guest_log = run_block(block)
        shown = "%s\nstatus %s\n%s\nguest.log %r" % (block, status, out, guest_log)
        assert not left, "kvmstub still ran after gdb ended:\n" + shown
        if first.startswith("# passes"):
            assert status == 0 and "PASS: " in out and "FAIL: " not in out, shown
        else:
            assert first.startswith("# fails"), first
            assert status != 0 and "FAIL: " in out and "PASS: " not in out, shown


def test_every_example_script_has_a_readme_section_that_runs_it():
    scripts = sorted(os.path.basename(p) for p in glob.glob(os.path.join(EXAMPLES, "*.gdb")))
    assert scripts, "no examples"
    assert sorted(readme_sections()) == scripts, (sorted(readme_sections()), scripts)


def test_assert_register_passes_on_the_right_value_and_fails_on_a_wrong_one():
    check_example("assert-register.gdb")


def test_expect_output_passes_on_the_expected_line_and_fails_without_it():
    check_example("expect-output.gdb")


def test_fail_on_crash_passes_on_an_exit_and_fails_on_a_triple_fault():
    check_example("fail-on-crash.gdb")


if __name__ == "__main__":
    testlib.main(globals())
