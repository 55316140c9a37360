#!/usr/bin/env python3
"""tests/run/test_pc.py — the pc machine without gdb: the timer kernels
take every interrupt source (PIT through the 8259 and IOAPIC pin 2, the
LAPIC timer), `int $0x80` and exception handlers, in protected and long
mode, with exact output and status; a COM1 echo driven by IRQ4; a vCPU
halted with interrupts off ends the guest promptly; `sti; hlt` idles
without ending; and every earlier guest behaves the same on `--machine pc` (the default) and `--machine bare`."""
import os
import select
import signal
import subprocess
import time

import rsplib
import testlib
from testlib import guest, run

TIMER_LINES = [
    b"int $0x80 returned 0x2a\n",
    b"#DE handled\n",
    b"#BP handled\n",
    b"#UD handled\n",
    b"#GP error code 0x1234\n",
    b"PIT through the 8259: 5 ticks\n",
    b"PIT through the IOAPIC pin 2: 5 ticks\n",
    b"LAPIC timer: 5 ticks\n",
    b"done\n",
]


def timer_output(mode_name):
    return b"timer kernel in " + mode_name + b"\n" + b"".join(TIMER_LINES)


def check(args, want_out, want_status, input_bytes=None, timeout=30):
    status, out, err = run(["--no-gdb"] + list(args), timeout=timeout, input_bytes=input_bytes)
    assert (status, out) == (want_status, want_out), \
        "status %s stdout %r, want %s %r (stderr %r)" % (status, out, want_status, want_out,
                                                         err[-300:])
    return err


def test_timer32_takes_pic_ioapic_lapic_ticks_and_int_0x80_with_iret():
    check([guest("timer32.elf")], timer_output(b"protected mode"), 0)


def test_timer64_takes_pic_ioapic_lapic_ticks_and_int_0x80_with_iretq():
    check([guest("timer64.elf")], timer_output(b"long mode"), 0)


def test_explicit_machine_pc_is_the_default():
    check(["--machine", "pc", guest("timer64.elf")], timer_output(b"long mode"), 0)


def test_timer_kernel_on_the_bare_machine_ends_at_its_first_hlt():
    # No interrupt controller: the first `sti; hlt` is the guest's end, as
    # it always was on the bare machine.
    check(["--machine", "bare", guest("timer64.elf")],
          b"timer kernel in long mode\n" + b"".join(TIMER_LINES[:5]), 0)


def test_machine_option_rejects_other_kinds():
    status, out, err = run(["--machine", "q35", guest("hello64.elf")])
    assert status == 2 and b"--machine: 'q35' is not one of pc, bare" in err, (status, err)


def test_cli_hlt_ends_the_guest_within_20_ms():
    """From the last byte the guest prints before `cli; hlt` (every OUT an
    exit under --trace-io, so it reaches stdout at once) to gdb's W00. (The
    process itself ends some 15-25 ms later: closing a VM with an in-kernel
    irqchip and PIT takes the kernel that long.)"""
    latencies = []
    for _ in range(5):
        with rsplib.Stub(["--trace-io", guest("hello64.elf")]) as st:
            c = st.client()
            c.send("vCont;c")
            assert rsplib.wait_until(lambda: st.out.endswith(b"\n"), 5, interval=0.0005), st.out
            seen = time.monotonic()
            out = bytes(st.out)
            reply = c.recv_timeout(5)
            latencies.append(time.monotonic() - seen)
            assert reply == b"W00" and out == b"Hello from long mode\n", (reply, out)
    latencies.sort()
    print("# cli; hlt to W00: median %.1f ms, max %.1f ms" % (latencies[2] * 1000,
                                                            latencies[-1] * 1000))
    assert latencies[2] < 0.020, latencies


def test_sti_hlt_idles_until_a_signal_on_pc_and_ends_on_bare():
    check(["--machine", "bare", guest("idle.bin")], b"idle\n", 0)
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", guest("idle.bin")],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        testlib.wait_signal_handlers(proc.pid)
        r, _, _ = select.select([proc.stdout], [], [], 5)
        assert r and os.read(proc.stdout.fileno(), 16) == b"idle\n"
        time.sleep(0.3)
        assert proc.poll() is None, "an idle guest (IF=1) ended by itself"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_com1_interrupt_echo_in_protected_and_long_mode():
    for image in ("uartirq32.elf", "uartirq64.elf"):
        check([guest(image)], b"uart irq echo\ninterrupt echo\nbye\n", 0,
              input_bytes=b"interrupt echo\nqignored")


def test_com1_input_that_arrives_while_the_guest_idles_raises_irq4():
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", guest("uartirq64.elf")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        time.sleep(0.3)     # the guest waits in sti; hlt meanwhile
        proc.stdin.write(b"ab")
        proc.stdin.flush()
        time.sleep(0.3)
        proc.stdin.write(b"cq")
        proc.stdin.close()
        out = proc.stdout.read()
        assert proc.wait(timeout=20) == 0
        assert out == b"uart irq echo\nabcbye\n", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# Every guest that ends by itself, as tests/run/test_guests.py runs it.
EARLIER_GUESTS = [
    (["--reg", "rax=2", "--reg", "rbx=2", "kvmtest.bin"], None),
    (["--console-port", "0xf1", "--load", "0", "tiny_kernel.bin"], None),
    (["repouts.bin"], None),
    (["exit42.bin"], None),
    (["exit0.bin"], None),
    (["triplefault.bin"], None),
    (["realcs.bin"], None),
    (["stepper.bin"], None),
    (["selfcopy.bin"], None),
    (["echo.bin"], b"pc and bare\nq"),
    (["hello32.elf"], None),
    (["hello64.elf"], None),
    (["cdemo32.elf"], None),
    (["cdemo64.elf"], None),
    (["higherhalf.elf"], None),
]


def test_every_earlier_guest_has_the_same_output_and_status_on_pc_and_bare():
    for args, stdin in EARLIER_GUESTS:
        argv = args[:-1] + [guest(args[-1])]
        results = {}
        for machine in ("pc", "bare"):
            status, out, err = run(["--no-gdb", "--machine", machine] + argv, input_bytes=stdin)
            # A crash line names rip and cs, the same on both machines.
            results[machine] = (status, out, err.replace(b"kvmstub: ", b""))
        assert results["pc"] == results["bare"], "%s: pc %r, bare %r" % (
            args[-1], results["pc"], results["bare"])


def test_spinning_guests_print_the_same_on_pc_and_bare_until_stopped():
    for image in ("printspin.bin", "kvmsample.bin"):
        outs = {}
        for machine in ("pc", "bare"):
            proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", "--machine", machine,
                                     guest(image)], stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                testlib.wait_signal_handlers(proc.pid)
                time.sleep(0.3)
                proc.send_signal(signal.SIGTERM)
                out, _ = proc.communicate(timeout=5)
                outs[machine] = (proc.returncode, out)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        assert outs["pc"] == outs["bare"], (image, outs)


if __name__ == "__main__":
    testlib.main(globals())
