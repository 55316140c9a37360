#!/usr/bin/env python3
"""tests/gdb/test_gdb_watch.py — hardware breakpoints and watchpoints from
stock gdb: hbreak (and gdb's error when the four debug registers are used
up), watch, rwatch and awatch on cdemo's globals, in long and protected mode.
cdemo writes `watched` = 42 then reads it into `seen`, and adds add(i, 1) for
i = 0..4 into `counter` (1, 3, 6, 10, 15)."""
import testlib
from gdblib import session, tolerant

CDEMO_STATUS = 15


def test_hbreak_on_add_stops_there_each_time():
    r = session("cdemo64.elf", ["hbreak add", "continue", "continue",
                                "delete", "continue"])
    r.expect("Hardware assisted breakpoint 1 at 0x",
             "Breakpoint 1, add (a=0, b=1) at guests/cdemo.c:19",
             "Breakpoint 1, add (a=1, b=1) at guests/cdemo.c:19",
             "[Inferior 1 (Remote target) exited with code 017]")
    assert r.status == CDEMO_STATUS, r.describe()


def test_hbreak_in_protected_mode_stops_there():
    r = session("cdemo32.elf", ["hbreak add", "continue"])
    r.expect("Hardware assisted breakpoint 1 at 0x",
             "Breakpoint 1, add (a=0, b=1) at guests/cdemo.c:19")


def test_fifth_hbreak_is_refused_with_a_gdb_error_and_the_guest_survives():
    # Four debug registers: the fifth Z1 must be refused (an E reply), which
    # gdb reports when it inserts breakpoints at `continue`.
    r = session("cdemo64.elf", [
        "hbreak add", "hbreak step_target", "hbreak print", "hbreak uart_putc",
        "hbreak exit_device"]
        + tolerant("continue") + [
        "delete 5",
        "continue",
        "p a"])
    r.expect("Hardware assisted breakpoint 5 at 0x",
             "Could not insert hardware breakpoint",
             "gdb error:",
             "Breakpoint 1, add (a=0, b=1)")
    assert r.values() == ["0"], r.describe()


def test_watch_counter_reports_old_and_new_values():
    r = session("cdemo64.elf", ["watch counter", "continue", "continue", "continue",
                                "p counter"])
    r.expect("Hardware watchpoint 1: counter",
             "Old value = 0", "New value = 1",
             "Old value = 1", "New value = 3",
             "Old value = 3", "New value = 6",
             "kernel_main () at guests/cdemo.c:")
    assert r.values() == ["6"], r.describe()


def test_watch_counter_in_protected_mode_reports_old_and_new_values():
    r = session("cdemo32.elf", ["watch counter", "continue", "continue"])
    r.expect("Hardware watchpoint 1: counter",
             "Old value = 0", "New value = 1",
             "Old value = 1", "New value = 3")


def test_watch_then_delete_runs_to_the_end_with_the_right_output():
    r = session("cdemo64.elf", ["watch counter", "continue", "delete", "continue"])
    r.expect("New value = 1", "[Inferior 1 (Remote target) exited with code 017]")
    assert r.status == CDEMO_STATUS and r.stub_out == b"step\ncdemo done\n", r.describe()


def test_rwatch_watched_reports_the_value_read():
    r = session("cdemo64.elf", ["rwatch watched", "continue", "p seen", "next", "p seen"])
    r.expect("Hardware read watchpoint 1: watched",
             "Value = 42",
             "in kernel_main () at guests/cdemo.c:36")
    # Stopped after the read of `watched`, before the store into `seen`
    # completes its line; one `next` finishes the line.
    assert r.values()[-1] == "42", r.describe()


def test_rwatch_in_protected_mode_reports_the_value_read():
    r = session("cdemo32.elf", ["rwatch watched", "continue"])
    r.expect("Hardware read watchpoint 1: watched", "Value = 42",
             "kernel_main () at guests/cdemo.c:36")


def test_awatch_watched_reports_the_write_then_the_read():
    r = session("cdemo64.elf", ["awatch watched", "continue", "continue", "continue"])
    r.expect("Hardware access (read/write) watchpoint 1: watched",
             "Old value = 0", "New value = 42",
             "kernel_main () at guests/cdemo.c:36",
             "Value = 42",
             "kernel_main () at guests/cdemo.c:36",
             "[Inferior 1 (Remote target) exited with code 017]")
    assert r.status == CDEMO_STATUS, r.describe()


if __name__ == "__main__":
    testlib.main(globals())
