#!/usr/bin/env python3
"""tests/gdb/test_gdb_trapped_pages.py — stock gdb on gdtboot.elf, which
boots from protected to long mode with its GDT, IDT and TSS on the page of
its entry code: `break` on that page (hit and not hit), `watch` beside the
GDT, and a breakpoint next to a hot loop. The guest's output with gdb must
be what a --no-gdb run prints."""
import testlib
from gdblib import session

IMAGE = "gdtboot.elf"


def reference():
    status, out, err = testlib.run(["--no-gdb", testlib.guest(IMAGE)])
    assert status == 0 and out.endswith(b"rep 0x5280\n"), (status, out, err)
    return out


def test_break_on_the_gdt_page_not_hit_runs_to_the_same_output():
    ref = reference()
    r = session(IMAGE, ["break never_run_32", "continue"])
    r.expect("Breakpoint 1 at 0x", "[Inferior 1 (Remote target) exited normally]")
    assert r.stub_out == ref, r.describe()


def test_break_on_the_gdt_page_stops_after_the_far_jump():
    ref = reference()
    r = session(IMAGE, ["break never_run_32", "break after_segments", "continue",
                        "p (long)$pc - (long)&after_segments", "continue"])
    r.expect("Breakpoint 2, ", "after_segments",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.values() == ["0"], r.describe()
    assert r.stub_out == ref, r.describe()


def test_watch_beside_the_gdt_fires_on_the_store_only():
    ref = reference()
    r = session(IMAGE, ["watch *(int *)&beside_gdt", "continue", "continue"])
    r.expect("atchpoint 1: *(int *)&beside_gdt",
             "Old value = 0", "New value = 23130",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.stub_out == ref, r.describe()


def test_break_beside_a_hot_loop_finishes_with_the_right_sum():
    ref = reference()
    r = session(IMAGE, ["break hot_site", "continue"])
    r.expect("[Inferior 1 (Remote target) exited normally]")
    assert b"hot 0x44a444\n" in r.stub_out and r.stub_out == ref, r.describe()


if __name__ == "__main__":
    testlib.main(globals())
