#!/usr/bin/env python3
"""tests/run/test_output.py — guest output reaches stdout promptly even when
the guest makes no more exits after printing (queued output ports are
drained by a timer, not only at the next exit)."""
import select
import subprocess
import time

import testlib


def test_output_of_a_guest_that_then_spins_arrives_while_it_spins():
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", testlib.guest("printspin.bin")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        got = b""
        deadline = time.monotonic() + 5
        while b"\n" not in got and time.monotonic() < deadline:
            r, _, _ = select.select([proc.stdout], [], [], 0.05)
            if r:
                got += proc.stdout.read1(64)
        assert got == b"ready\n", "stdout %r within 5 s of start" % got
        assert proc.poll() is None, "the spinning guest ended: %s" % proc.returncode
        testlib.wait_signal_handlers(proc.pid)
        proc.terminate()
        assert proc.wait(timeout=10) == 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    testlib.main(globals())
