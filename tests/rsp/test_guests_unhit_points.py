#!/usr/bin/env python3
"""tests/rsp/test_guests_unhit_points.py — every guest added for the pc
machine, the boot protocols, restarts and several vCPUs runs the same
under the stub, with a software breakpoint and a write watchpoint it never
hits, as without gdb: same output, same exit status. The points sit in
page 0 (the BIOS data area, below every guest's code and data), so their
trap pages are live while the guest runs and a stall or a changed byte
would show."""
import subprocess

import testlib
from rsplib import Stub
from testlib import guest

UNHIT_BREAK = 0x600
UNHIT_WATCH = 0x700

# Input is in a pipe before the guest starts, in both runs: a guest that
# reads it (COM1 interrupts, the keyboard) must get every byte either way.
UART_INPUT = b"interrupt echo\nqignored"
KEYS = b"Hello, World! {x|y} ~_+\nq"
# (name, image, arguments, stdin)
CASES = [
    ("pcprobe", "pcprobe", ["--mem", "128M"], b""),
    ("vgahello", "vgahello", ["--vga"], b""),
    ("tables", "tables", [], b""),
    ("timer32", "timer32", [], b""),
    ("timer64", "timer64", [], b""),
    ("restart64", "restart64", [], b""),
    ("mb1info", "mb1info", ["--append", "a b"], b""),
    ("mb2info64", "mb2info64", ["--append", "a b"], b""),
    ("pvhinfo64", "pvhinfo64", ["--append", "a b"], b""),
    ("smp64", "smp64", ["--smp", "2"], b""),
    ("smp64_reset", "smp64", ["--smp", "4", "--reg", "rdi=4"], b""),
    ("uartirq32", "uartirq32", [], UART_INPUT),
    ("uartirq64", "uartirq64", [], UART_INPUT),
    ("kbdecho", "kbdecho", ["--keyboard"], KEYS),
]


def reference(image, args, stdin_bytes):
    proc = subprocess.run([testlib.KVMSTUB, "--no-gdb"] + args + [guest(image + ".elf")],
                          input=stdin_bytes, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60)
    return proc.returncode, proc.stdout


def under_stub(image, args, stdin_bytes):
    st = Stub(args + [guest(image + ".elf")], stdin=subprocess.PIPE)
    try:
        st.proc.stdin.write(stdin_bytes)
        st.proc.stdin.close()
        c = st.client()
        assert c.insert(0, UNHIT_BREAK) == b"OK"
        assert c.insert(2, UNHIT_WATCH, 4) == b"OK"
        stop = c.cont(timeout=60)
        assert stop.kind == "W", "%s stopped: %r" % (image, stop)
        c.close()
        status, out, _ = st.finish()
        return status, bytes(out)
    finally:
        st.close()


# What the guests that read input print: every byte before the 'q'.
EXPECTED = {
    "uartirq32": b"uart irq echo\ninterrupt echo\nbye\n",
    "uartirq64": b"uart irq echo\ninterrupt echo\nbye\n",
    "kbdecho": b"kbc ok\nHello, World! {x|y} ~_+\n",
}


def make_test(image, args, stdin_bytes):
    def test():
        want = reference(image, args, stdin_bytes)
        assert want[1], "%s printed nothing without gdb" % image
        if image in EXPECTED:
            assert want == (0, EXPECTED[image]), "%s without gdb: %r" % (image, want)
        got = under_stub(image, args, stdin_bytes)
        assert got == want, "%s: under the stub %r, without gdb %r" % (image, got, want)
    return test


for _name, _image, _args, _stdin in CASES:
    globals()["test_%s_runs_the_same_with_points_it_never_hits" % _name] = \
        make_test(_image, _args, _stdin)


if __name__ == "__main__":
    testlib.main(globals())
