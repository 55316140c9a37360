#!/usr/bin/env python3
"""tests/rsp/test_smp_range_step.py — a range step (vCont;r, what gdb's
`step` and `next` send) with several vCPUs, the others running
(scheduler-locking off, gdb's default), that starts on a breakpoint. The
step off it, which that vCPU makes alone, lands on the next instruction:
a breakpoint there stops the range, told as the kind it is (swbreak,
hwbreak), as with one vCPU; with none there the range runs on. The guest
is smp64.elf, whose APs halt at once while the BSP loops through smp_spot
(scenario 3), so only the vCPU stepped can meet the breakpoints."""
import rsplib
import testlib
from rsplib import Stub

SPOT = rsplib.nm("smp64.elf")["smp_spot"]
PROLOGUE = bytes.fromhex("554889e5")   # push %rbp; mov %rsp,%rbp
NEXT = SPOT + 1                        # the mov
AFTER_NEXT = SPOT + 4


def thread_of(stop):
    assert "thread" in stop.fields, "no thread in %r" % stop
    return int(stop.fields["thread"], 16)


def range_step_from_spot(kind_at_next):
    """Stops a vCPU on smp_spot, then range-steps it over [SPOT, NEXT]
    with a breakpoint of kind_at_next (Z0 or Z1; None: none) on NEXT;
    returns the stop, the pc where it stopped and the thread."""
    with Stub(["--smp", "2", "--reg", "rdi=3", testlib.guest("smp64.elf")]) as st:
        c = st.client()
        c.load_layout()
        assert c.insert(0, SPOT) == b"OK"
        stop = c.cont(timeout=30)
        assert stop.kind == "T" and stop.reason == "swbreak", stop
        t = thread_of(stop)
        assert c.cmd("Hg%x" % t) == b"OK" and c.pc() == SPOT
        assert c.read(SPOT, len(PROLOGUE)) == PROLOGUE, "smp_spot's code changed"
        if kind_at_next is not None:
            assert c.insert(kind_at_next, NEXT) == b"OK"
        stop = c.resume("vCont;r%x,%x:%x;c" % (SPOT, NEXT + 1, t), timeout=30)
        assert c.cmd("Hg%x" % thread_of(stop)) == b"OK"
        return stop, c.pc(), t


def test_a_range_step_off_a_breakpoint_onto_a_sw_breakpoint_stops_there_as_swbreak():
    stop, pc, t = range_step_from_spot(0)
    assert stop.kind == "T" and stop.reason == "swbreak" and thread_of(stop) == t, stop
    assert pc == NEXT, hex(pc)


def test_a_range_step_off_a_breakpoint_onto_a_hw_breakpoint_stops_there_as_hwbreak():
    stop, pc, t = range_step_from_spot(1)
    assert stop.kind == "T" and stop.reason == "hwbreak" and thread_of(stop) == t, stop
    assert pc == NEXT, hex(pc)


def test_a_range_step_off_a_breakpoint_with_none_next_runs_past_it():
    stop, pc, t = range_step_from_spot(None)
    assert stop.kind == "T" and stop.reason is None and thread_of(stop) == t, stop
    assert pc == AFTER_NEXT, hex(pc)


if __name__ == "__main__":
    testlib.main(globals())
