#!/usr/bin/env python3
"""tests/gdb/test_gdb_pc.py — gdb on the pc machine, where the guest owns
`hlt` and takes interrupts: a breakpoint in the PIT handler of the timer
kernels (protected mode: the handler returns with an iret kvmstub
completes; long mode: iretq), steps in a loop while the PIT ticks never
enter a handler and the ticks come on continue (`monitor step-irq on`
lets them), Ctrl-C stops a guest idling in `sti; hlt` (and a step after it runs the next instruction), and a
breakpoint at the entry fires again after the guest resets itself."""
import time

import gdblib
from gdblib import InteractiveGdb, session
from gdblib import printed_values as values
from testlib import Stub, guest, read_map


def timer_out(mode):
    return (b"timer kernel in " + mode + b"\nint $0x80 returned 0x2a\n#DE handled\n"
            b"#BP handled\n#UD handled\n#GP error code 0x1234\nPIT through the 8259: 5 ticks\n"
            b"PIT through the IOAPIC pin 2: 5 ticks\nLAPIC timer: 5 ticks\ndone\n")


def check_break_in_timer_handler(image, mode):
    r = session(image, ["break pit_tick", "continue", "bt", "p pic_ticks", "continue",
                        "p pic_ticks", "delete", "continue"])
    r.expect("Breakpoint 1, pit_tick () at guests/timer.c:",
             "in isr_dispatch", "Breakpoint 1, pit_tick ()",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.values() == ["0", "1"], r.describe()
    assert r.status == 0 and r.stub_out == timer_out(mode), r.describe()


def test_break_in_pit_handler_in_long_mode_then_run_to_the_end():
    check_break_in_timer_handler("timer64.elf", b"long mode")


def test_break_in_pit_handler_in_protected_mode_then_run_to_the_end():
    check_break_in_timer_handler("timer32.elf", b"protected mode")


def test_a_breakpoint_at_the_entry_fires_again_after_each_guest_reset():
    # reboots.bin resets itself twice (0xcf9, then the i8042): gdb is not
    # told of the resets, the guest starts again from the image and its
    # first instruction is the breakpoint gdb inserted before.
    r = session("reboots.bin", ["break start", "continue", "p/x $pc", "continue",
                                "p/x $pc", "continue"])
    r.expect("Breakpoint 1, ", "Breakpoint 1, ",
             "[Inferior 1 (Remote target) exited with code 07]")
    assert r.values() == ["0x1000", "0x1000"], r.describe()
    assert r.status == 7 and r.stub_out == b"boot 1\nboot 2\nboot 3\n", r.describe()


STEPS = 300


def stepping_script(limit=STEPS, until_handler=False):
    """Steps `limit` times in spin_with_ticks (interrupts on, PIT at 1 kHz),
    or until a step lands in the handler; prints how many steps landed in
    an interrupt entry stub or the C handler, and the tick count before
    and after."""
    return ["break spin_with_ticks", "continue", "delete",
            "p pic_ticks",
            "set $in_handler = 0",
            "set $n = 0",
            ("while $n < %d && $in_handler == 0" if until_handler else "while $n < %d") % limit,
            "  stepi",
            "  if $pc >= (unsigned long)&isr_0 && $pc <= (unsigned long)&isr_return",
            "    set $in_handler = $in_handler + 1",
            "  end",
            "  if $pc >= (unsigned long)&pit_tick && $pc < (unsigned long)&wait_ticks",
            "    set $in_handler = $in_handler + 1",
            "  end",
            "  set $n = $n + 1",
            "end",
            "p $in_handler",
            "p pic_ticks",
            "continue"]


def check_steps_never_enter_handler(image, mode):
    start = time.monotonic()
    r = session(image, ["set pagination off"] + stepping_script(), timeout=120)
    secs = time.monotonic() - start
    r.expect("Breakpoint 1, spin_with_ticks ()", "[Inferior 1 (Remote target) exited normally]")
    ticks_before, in_handler, ticks_after = r.values()
    assert in_handler == "0", "%s steps landed in a handler\n%s" % (in_handler, r.describe())
    # The steps took longer than a tick, but the ticks were held back...
    assert secs > 0.05 and ticks_before == ticks_after, r.describe()
    # ...and delivered on continue: the kernel still counts every source.
    assert r.status == 0 and r.stub_out == timer_out(mode), r.describe()


def test_steps_in_a_loop_while_the_pit_ticks_never_enter_the_handler_long_mode():
    check_steps_never_enter_handler("timer64.elf", b"long mode")


def test_steps_in_a_loop_while_the_pit_ticks_never_enter_the_handler_protected_mode():
    check_steps_never_enter_handler("timer32.elf", b"protected mode")


IDLE = read_map("idle.map")


def test_ctrl_c_stops_a_guest_idling_in_sti_hlt_and_a_step_runs_on():
    stub = Stub([guest("idle.bin")])
    gdb = InteractiveGdb(stub, gdblib.symbols_for("idle.bin"))
    try:
        gdb.send("continue")
        gdb.wait_for("Continuing.")
        time.sleep(0.5)
        gdb.interrupt()
        gdb.wait_for("Program received signal SIGINT")
        gdb.send("p/x $pc")
        gdb.send("stepi")
        gdb.send("p/x $pc")
        gdb.send("kill")
        out = gdb.finish()
    finally:
        gdb.kill()
        stub.close()
    pcs = [int(v, 16) for v in values(out)]
    # Stopped in the idle loop; the halted vCPU is woken for the step, which
    # runs the jmp back to the hlt instead of waiting for an interrupt.
    assert pcs == [IDLE["idle_jmp"], IDLE["idle_hlt"]], out



def check_step_irq_on_enters_the_handler(image, mode):
    # Steps until one lands in the handler: KVM's PIT ticks from a kernel
    # worker thread, which a busy host can hold back for a few hundred ms.
    script = stepping_script(limit=5000, until_handler=True)
    r = session(image, ["set pagination off", "monitor step-irq on"] + script, timeout=120)
    r.expect("step-irq is on", "Breakpoint 1, spin_with_ticks ()",
             "STUB(32)", "[Inferior 1 (Remote target) exited normally]")
    ticks_before, in_handler, ticks_after = r.values()
    # A tick came while stepping and the step stopped at the first
    # instruction of its entry stub (the count is not up yet).
    assert in_handler == "1" and ticks_after == ticks_before, r.describe()
    assert r.status == 0 and r.stub_out == timer_out(mode), r.describe()


def test_step_irq_on_lets_steps_enter_the_timer_handler_long_mode():
    check_step_irq_on_enters_the_handler("timer64.elf", b"long mode")


def test_step_irq_on_lets_steps_enter_the_timer_handler_protected_mode():
    check_step_irq_on_enters_the_handler("timer32.elf", b"protected mode")


def test_step_irq_off_again_holds_ticks_back():
    r = session("timer64.elf", ["set pagination off", "monitor step-irq on",
                                "monitor step-irq off"] + stepping_script(), timeout=120)
    r.expect("step-irq is on", "step-irq is off")
    ticks_before, in_handler, ticks_after = r.values()
    assert in_handler == "0" and ticks_before == ticks_after, r.describe()


if __name__ == "__main__":
    import testlib
    testlib.main(globals())
