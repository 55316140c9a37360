#!/usr/bin/env python3
"""tests/gdb/test_gdb_valgrind.py — one full gdb session (breakpoints,
registers, memory, a step, a watchpoint, a hardware breakpoint, next, run
to the end) with kvmstub under valgrind's memcheck: no invalid access, no
uninitialised value used, no leak."""
import os
import shutil
import subprocess
import tempfile

import gdblib
import testlib


def test_full_gdb_session_under_memcheck_is_clean():
    assert shutil.which("valgrind"), "valgrind is missing: apt-get install valgrind"
    # memcheck cannot run an AddressSanitizer build: under `make SAN=1`
    # check the plain build, which .ci/run makes first.
    binary = testlib.KVMSTUB
    if os.sep + "san" + os.sep in binary:
        binary = os.path.join(testlib.ROOT, "build", "kvmstub")
        assert os.path.exists(binary), "memcheck needs the plain build: run make first"
    port = testlib.free_port()
    log = tempfile.NamedTemporaryFile(prefix="kvmstub-memcheck-", suffix=".log", delete=False)
    log.close()
    stub = subprocess.Popen(
        ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
         "--errors-for-leak-kinds=definite,indirect", "--log-file=" + log.name,
         binary, "--gdb", str(port), testlib.guest("cdemo64.elf")],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Under valgrind the listener takes a while: wait for its line.
        fake = testlib.Stub.__new__(testlib.Stub)
        fake.proc = stub
        testlib.Stub.wait_listening(fake, timeout=60)
        lines = gdblib.PREAMBLE + [
            "file " + testlib.guest("cdemo64.elf"),
            "target remote 127.0.0.1:%d" % port,
            "break add", "continue", "p a", "info registers", "x/8xb $pc",
            "stepi", "watch counter", "continue", "delete",
            "hbreak step_target", "continue", "next", "delete", "continue"]
        script = gdblib.command_file(lines)
        out = subprocess.run(gdblib.gdb_argv(script), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=180).stdout.decode()
        os.unlink(script)
        status = stub.wait(timeout=60)
        report = open(log.name).read()
        assert "exited with code 017" in out, out
        assert status == 15, "kvmstub status %s under memcheck:\n%s" % (status, report)
        assert report.strip() == "", "memcheck reported:\n" + report
    finally:
        if stub.poll() is None:
            stub.kill()
            stub.wait()
        os.unlink(log.name)


if __name__ == "__main__":
    testlib.main(globals())
