#!/usr/bin/env python3
"""tests/gdb/test_gdb_smp.py — stock gdb debugging smp64.elf with --smp N,
vCPUs as threads: `info threads` names each vCPU and its state, `thread N`
switches registers and frames, breakpoints fire on application
processors, scheduler-locking on steps one vCPU while the others stay
put (off: they run), and Ctrl-C stops every vCPU. Asserts on what gdb
prints, as a user reads it."""
import time

import gdblib
import testlib
from gdblib import InteractiveGdb, session
from gdblib import printed_values as values
from testlib import Stub, guest


def smp(n, scenario, commands, timeout=90):
    return session("smp64.elf", commands,
                   stub_args=["--smp", str(n), "--reg", "rdi=%d" % scenario], timeout=timeout)


def test_info_threads_names_every_vcpu_and_its_state():
    # Scenario 3: the APs halt with interrupts off, the BSP loops.
    r = smp(4, 3, ["break smp_spot", "continue", "info threads"])
    r.expect("Thread 1 \"vCPU 0\" hit Breakpoint 1, smp_spot (id=0)",
             "* 1    Thread 1 \"vCPU 0\" (vCPU 0: running, long mode) smp_spot (id=0)",
             "  2    Thread 2 \"vCPU 1\" (vCPU 1: halted, long mode)",
             "  3    Thread 3 \"vCPU 2\" (vCPU 2: halted, long mode)",
             "  4    Thread 4 \"vCPU 3\" (vCPU 3: halted, long mode)")


def test_aps_wait_for_sipi_before_the_bsp_starts_them():
    r = smp(2, 0, ["info threads"])
    r.expect("Thread 1 \"vCPU 0\" (vCPU 0: running, long mode)",
             "Thread 2 \"vCPU 1\" (vCPU 1: waiting for SIPI, real mode)")


def test_breakpoint_on_an_ap_stops_that_vcpu_and_names_it():
    r = smp(4, 1, ["break smp_spot if id == 3", "continue", "p id", "p $_thread"])
    r.expect("[Switching to Thread 4]",
             "Thread 4 \"vCPU 3\" hit Breakpoint 1, smp_spot (id=3)")
    assert r.values() == ["3", "4"], r.describe()


def test_hbreak_fires_on_several_vcpus_and_no_pass_goes_unseen():
    # A debug-register breakpoint sits in every vCPU's debug registers.
    # Between the first stop and the 31st, the passes the guest completed
    # through smp_spot (its lock incq, where the breakpoint is) are at
    # most the 30 hits told before them: the 31st stands on its hit, and
    # a pass that slipped by unseen would make it more. (The exact race
    # count is tests/rsp/test_smp_races.py's.)
    total = "p spot_hits[0]+spot_hits[1]+spot_hits[2]+spot_hits[3]"
    r = smp(4, 1, ["hbreak smp_spot", "continue", total] + ["continue"] * 30 + [total])
    r.expect("Hardware assisted breakpoint 1 at", "hit Breakpoint 1, smp_spot")
    before, after = (int(v) for v in r.values())
    assert 30 - 4 <= after - before <= 30, r.describe()
    assert sum(r.out.count('Thread %d "vCPU %d" hit' % (t, t - 1)) > 0 for t in (1, 2, 3, 4)) >= 2, \
        r.describe()


def test_monitor_system_reset_with_four_vcpus_starts_again_from_the_bsp():
    r = smp(4, 1, ["break smp_spot if id == 2", "continue", "monitor system_reset",
                   "maint flush register-cache", "info threads", "p spot_hits[2]",
                   "continue", "p id"])
    r.expect("Thread 3 \"vCPU 2\" hit Breakpoint 1, smp_spot (id=2)",
             "the guest was reset and is stopped at its first instruction",
             "Thread 1 \"vCPU 0\" (vCPU 0: running, long mode)", "_start () at",
             "Thread 2 \"vCPU 1\" (vCPU 1: waiting for SIPI, real mode) 0x000000000000fff0",
             "Thread 3 \"vCPU 2\" (vCPU 2: waiting for SIPI, real mode) 0x000000000000fff0",
             "Thread 4 \"vCPU 3\" (vCPU 3: waiting for SIPI, real mode) 0x000000000000fff0",
             "Thread 3 \"vCPU 2\" hit Breakpoint 1, smp_spot (id=2)")
    assert r.values() == ["0", "2"], r.describe()


def test_thread_n_shows_that_vcpus_registers_and_frame():
    # APs come up in any order: vCPU 1 first reaches its loop, then vCPU 2
    # stops on the breakpoint.
    r = smp(4, 1, [
        "break smp_spot if id == 1", "continue", "delete",
        "break smp_spot if id == 2", "continue",
        # Each AP's stack is its own page of ap_stacks, chosen by APIC id.
        "p ((unsigned long)$rsp - (unsigned long)&ap_stacks) / 4096",
        "thread 2", "frame",
        "p ((unsigned long)$rsp - (unsigned long)&ap_stacks) / 4096",
        "thread 1", "p $rsp < (unsigned long)&ap_stacks"])
    r.expect("Thread 3 \"vCPU 2\" hit Breakpoint 2, smp_spot (id=2)",
             "[Switching to thread 2 (Thread 2)]", "(id=1)")
    assert r.values() == ["2", "1", "1"], r.describe()


# Both vCPUs first reach their loops (the BSP has started the APs), then
# vCPU 1 stops on the breakpoint.
TO_THE_LOOPS = ["break smp_spot if id == 0", "continue", "delete",
                "break smp_spot if id == 1", "continue", "delete"]


def test_scheduler_locking_on_steps_one_vcpu_while_the_others_stay():
    r = smp(2, 1, TO_THE_LOOPS + [
        "thread 1", "p/x $pc", "p spot_hits[0]",
        "thread 2", "set scheduler-locking on",
        "stepi", "stepi", "stepi", "next", "next", "next", "next",
        "p $_thread",
        "thread 1", "p/x $pc", "p spot_hits[0]"])
    r.expect("Thread 2 \"vCPU 1\" hit Breakpoint 2, smp_spot (id=1)", "spin (id=1)")
    v = r.values()
    assert len(v) == 5 and v[2] == "2" and v[0] == v[3] and v[1] == v[4], r.describe()


def test_scheduler_locking_off_lets_the_others_run_during_next():
    r = smp(2, 1, TO_THE_LOOPS + [
        "thread 1", "p spot_hits[0]",
        "thread 2", "set scheduler-locking off",
        "next", "next", "next", "next",
        "p $_thread",
        "thread 1", "p spot_hits[0]"])
    r.expect("spin (id=1)")
    v = r.values()
    assert len(v) == 3 and v[1] == "2" and int(v[2]) > int(v[0]), r.describe()


def test_ctrl_c_stops_every_vcpu():
    stub = Stub(["--smp", "4", "--reg", "rdi=1", guest("smp64.elf")])
    gdb = InteractiveGdb(stub, guest("smp64.elf"))
    try:
        # Let the BSP start the APs first.
        gdb.send("break smp_spot if id == 3")
        gdb.send("continue")
        gdb.wait_for("hit Breakpoint 1", timeout=60)
        gdb.send("delete")
        gdb.send("continue")
        gdb.wait_for("Continuing.")
        time.sleep(0.5)
        gdb.interrupt()
        gdb.wait_for("received signal SIGINT")
        gdb.send("info threads")
        gdb.send("p spot_hits[1] + spot_hits[2] + spot_hits[3] > 0")
        gdb.send("p spot_hits[1] == spot_hits[1]")
        gdb.send("kill")
        out = gdb.finish()
    finally:
        gdb.kill()
        stub.close()
    for t in range(1, 5):
        assert "Thread %d \"vCPU %d\" (vCPU %d: running, long mode)" % (t, t - 1, t - 1) in out, \
            out[-3000:]
    assert values(out)[-2:] == ["1", "1"], out[-3000:]


testlib.main(globals())
