#!/usr/bin/env python3
"""tests/run/test_uart_input.py — the UART's input side: bytes on kvmstub's
stdin reach a guest polling LSR.DR and reading RBR (echo.bin echoes until
'q'); a guest waiting for input does not block kvmstub."""
import subprocess
import time

import testlib


def test_stdin_bytes_reach_the_guest_through_rbr_in_order():
    status, out, err = testlib.run(["--no-gdb", testlib.guest("echo.bin")],
                                   input_bytes=b"hello, uart\nq")
    assert (status, out) == (0, b"hello, uart\n"), (status, out, err)


def test_input_that_arrives_later_is_still_read():
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", testlib.guest("echo.bin")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"ab")
        proc.stdin.flush()
        time.sleep(0.3)     # the guest polls an empty LSR meanwhile
        proc.stdin.write(b"cq")
        proc.stdin.close()
        out = proc.stdout.read()
        assert proc.wait(timeout=20) == 0
        assert out == b"abc", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_guest_waiting_for_input_still_stops_on_sigterm():
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", testlib.guest("echo.bin")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)
        testlib.wait_signal_handlers(proc.pid)
        proc.terminate()
        assert proc.wait(timeout=10) == 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    testlib.main(globals())
