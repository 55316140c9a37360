#!/usr/bin/env python3
"""tests/gdb/test_gdb_target_side.py — what kvmstub does inside the stub on
gdb's behalf: breakpoint conditions evaluated from gdb's agent bytecode (a
false condition never reaches gdb) and range stepping (`vCont;r`) for
`next`/`step`. Checks that they are right, not that they are fast: the
remote log shows which packets went over the wire."""
import re

import testlib
from gdblib import session

REMOTE_LOG = ["set debug remote 1"]


def stop_replies(out):
    """The T packets gdb received (one per stop it saw)."""
    return re.findall(r'Packet received: (T[0-9a-f]{2}[^\n"]*)', out)


def test_false_condition_never_reaches_gdb_and_true_one_stops_with_its_value():
    r = session("cdemo64.elf", ["set breakpoint condition-evaluation target",
                                "break add if a == 3"] + REMOTE_LOG +
                ["continue", "set debug remote 0", "p a", "p counter"])
    r.expect("Breakpoint 1, add (a=3, b=1)")
    assert r.values() == ["3", "6"], r.describe()
    assert re.search(r"Z0,[0-9a-f]+,1;X[0-9a-f]+,", r.out), \
        "gdb sent no condition bytecode with Z0:\n" + r.describe()
    # a == 0, 1, 2 were false in the stub: gdb saw exactly one stop.
    stops = [t for t in stop_replies(r.out) if "swbreak" in t]
    assert len(stops) == 1, "gdb saw %d breakpoint stops: %s" % (len(stops), stops)


def test_condition_on_a_register_in_protected_mode_is_evaluated_in_the_stub():
    r = session("cdemo32.elf", ["set breakpoint condition-evaluation target",
                                "break add if b == 1 && a >= 4"] + REMOTE_LOG +
                ["continue", "set debug remote 0", "p a", "continue"])
    r.expect("Breakpoint 1, add (a=4, b=1)",
             "[Inferior 1 (Remote target) exited with code 017]")
    assert r.values() == ["4"], r.describe()
    stops = [t for t in stop_replies(r.out) if "swbreak" in t]
    assert len(stops) == 1, "gdb saw %d breakpoint stops: %s" % (len(stops), stops)
    assert r.status == 15, r.describe()


def test_condition_that_is_never_true_runs_the_guest_to_its_end():
    r = session("cdemo64.elf", ["set breakpoint condition-evaluation target",
                                "break add if a == 99", "continue"])
    r.expect("[Inferior 1 (Remote target) exited with code 017]")
    r.refuse("Breakpoint 1, add")
    assert r.status == 15 and r.stub_out == b"step\ncdemo done\n", r.describe()


def test_next_over_a_loop_line_uses_range_stepping_and_lands_on_the_next_line():
    r = session("cdemo64.elf", ["break kernel_main", "continue", "next", "next"] +
                REMOTE_LOG + ["next", "set debug remote 0", "p seen", "info line *$pc"])
    # watched = 42; seen = watched; the for line; then its body.
    r.expect("Breakpoint 1, kernel_main ()")
    assert re.search(r"vCont;r[0-9a-f]+,[0-9a-f]+", r.out), \
        "next did not range-step:\n" + r.describe()
    assert r.values() == ["42"], r.describe()
    r.expect('Line 38 of "guests/cdemo.c"')


def test_step_into_add_then_finish_with_range_stepping():
    r = session("cdemo64.elf", ["break cdemo.c:38", "continue", "step", "bt 1", "finish"])
    r.expect("Breakpoint 1, kernel_main () at guests/cdemo.c:38",
             "add (a=0, b=1) at guests/cdemo.c:19",
             "#0  add (a=0, b=1)", "kernel_main () at guests/cdemo.c:38",
             "Value returned is $1 = 1")


if __name__ == "__main__":
    testlib.main(globals())
