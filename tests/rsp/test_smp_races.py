#!/usr/bin/env python3
"""tests/rsp/test_smp_races.py — all-stop with several vCPUs under races,
each looped (KVMSTUB_RACE_LOOPS, default 200): vCPUs hitting one
breakpoint at once, a step on one vCPU while another hits a breakpoint,
vCPUs halted in `hlt` when the stop comes, a vCPU that triple-faults while
the others run. The guest is smp64.elf: every CPU calls smp_spot(id),
which adds one to spot_hits[id] with a `lock` instruction, so the guest's
own count says how often each vCPU passed the breakpoint — a hit lost or
told twice shows as a difference."""
import os
import re

import rsplib
import testlib
from rsplib import Stub, GDB_SIGINT, GDB_SIGTRAP

LOOPS = int(os.environ.get("KVMSTUB_RACE_LOOPS", "200"))
SYMS = rsplib.nm("smp64.elf")
SPOT = SYMS["smp_spot"]
HITS = SYMS["spot_hits"]
GDB_SIGSEGV = 11


def start(ncpus, scenario):
    st = Stub(["--smp", str(ncpus), "--reg", "rdi=%d" % scenario, testlib.guest("smp64.elf")])
    c = st.client()
    c.load_layout()
    return st, c


def thread_of(stop):
    assert "thread" in stop.fields, "no thread in %r" % stop
    return int(stop.fields["thread"], 16)


def hits(c, ncpus):
    data = c.read(HITS, 8 * ncpus)
    return [int.from_bytes(data[8 * i:8 * i + 8], "little") for i in range(ncpus)]


def pc_of(c, thread):
    assert c.cmd("Hg%x" % thread) == b"OK"
    return c.pc()


def settle(c, ncpus, told, reason="swbreak"):
    """Runs each vCPU alone to its next breakpoint stop: a hit it had
    waiting is told now, otherwise it runs on to a new one. After this
    every vCPU stands on the breakpoint with that hit told and not yet
    counted by the guest."""
    for t in range(1, ncpus + 1):
        stop = c.resume("vCont;c:%x" % t)
        assert thread_of(stop) == t and stop.reason == reason, stop
        told[t - 1] += 1


def run_until_aps_are_up(c):
    """Continues until an AP (thread 2 and up) stops at the breakpoint."""
    for _ in range(1000):
        stop = c.cont(timeout=30)
        assert stop.kind == "T" and stop.reason == "swbreak", stop
        if thread_of(stop) > 1:
            return stop
    raise AssertionError("no AP reached the breakpoint")


def vcpus_hit_one_breakpoint(kind):
    ncpus = 4
    st, c = start(ncpus, 1)
    try:
        assert c.insert(kind, SPOT) == b"OK"
        told = [0] * ncpus
        for _ in range(LOOPS):
            stop = c.cont()
            assert stop.kind == "T" and stop.code == GDB_SIGTRAP, stop
            assert stop.reason == ("swbreak" if kind == 0 else "hwbreak"), stop
            last = thread_of(stop)
            told[last - 1] += 1
            assert pc_of(c, last) == SPOT, "thread %d stopped away from the breakpoint" % last
        settle(c, ncpus, told, "swbreak" if kind == 0 else "hwbreak")
        counted = hits(c, ncpus)
        # Every pass through smp_spot was told exactly once.
        for i in range(ncpus):
            assert counted[i] == told[i] - 1, "vCPU %d: guest counted %d, stub told %d" % (
                i, counted[i], told[i])
        assert sum(1 for t in told if t) >= 2, "only one vCPU ever stopped: %r" % told
    finally:
        c.close()
        st.close()


def test_vcpus_hitting_one_software_breakpoint_at_once_each_hit_is_told_once():
    vcpus_hit_one_breakpoint(0)


def test_vcpus_hitting_one_hardware_breakpoint_at_once_each_hit_is_told_once():
    # The breakpoint stays inserted between continues, so each vCPU steps
    # off it and may be kicked back on it after a loop, before its #DB:
    # that hit must fire at the next resume, not be stepped over.
    vcpus_hit_one_breakpoint(1)


def test_a_debug_register_watchpoint_with_several_vcpus_tells_each_write_once():
    # vCPU 2 alone writes spot_hits[2] (lock incq) while the others run
    # through the same code: every write is one stop of thread 3 with the
    # counter one higher, none lost under the all-stop kicks.
    ncpus = 4
    st, c = start(ncpus, 1)
    try:
        watched = HITS + 8 * 2
        assert c.insert(2, watched, 8) == b"OK"
        last = None
        for _ in range(LOOPS):
            stop = c.cont()
            assert stop.kind == "T" and stop.code == GDB_SIGTRAP, stop
            assert stop.reason == "watch", stop
            assert thread_of(stop) == 3, stop
            now = hits(c, ncpus)[2]
            if last is not None:
                assert now == last + 1, "spot_hits[2] went %d -> %d between stops" % (last, now)
            last = now
    finally:
        c.close()
        st.close()


def test_a_step_on_one_vcpu_while_another_hits_a_breakpoint():
    st, c = start(2, 1)
    try:
        # vCPU 1 (thread 2) runs into the breakpoint again and again while
        # thread 1 is stepped with the others running (scheduler-locking off).
        assert c.insert(0, SPOT) == b"OK"
        steps = bp_hits = 0
        stop = run_until_aps_are_up(c)
        bp_hits += 1
        for _ in range(LOOPS):
            before = pc_of(c, 1)
            stop = c.resume("vCont;s:1;c")
            assert stop.kind == "T" and stop.code == GDB_SIGTRAP, stop
            thread = thread_of(stop)
            if thread == 1:
                assert stop.reason in (None, "swbreak"), stop
                steps += 1
                after = pc_of(c, 1)
                assert after != before or stop.reason, "a step of thread 1 did not move it"
            else:
                assert stop.reason == "swbreak" and pc_of(c, 2) == SPOT, stop
                bp_hits += 1
        told = [0, bp_hits]
        settle(c, 2, told)
        bp_hits = told[1]
        counted = hits(c, 2)[1]
        assert counted == bp_hits - 1, "vCPU 1 counted %d, stub told %d hits" % (counted, bp_hits)
        assert steps > 0 and bp_hits > 1, (steps, bp_hits)
    finally:
        c.close()
        st.close()


def extra_info(c, thread):
    reply = c.cmd("qThreadExtraInfo,%x" % thread)
    return bytes.fromhex(reply.decode()).decode()


def test_vcpus_halted_in_hlt_stay_halted_through_every_stop():
    ncpus = 4
    st, c = start(ncpus, 3)
    try:
        assert c.insert(0, SPOT) == b"OK"
        stop = c.cont()
        assert thread_of(stop) == 1 and stop.reason == "swbreak", stop
        for _ in range(LOOPS):
            stop = c.cont()
            # Only the BSP runs; the APs sit in hlt and every stop stops them there.
            assert thread_of(stop) == 1 and stop.reason == "swbreak", stop
        for t in range(2, ncpus + 1):
            info = extra_info(c, t)
            if "running" in info:  # not there yet: give it a moment
                c.cont()
                info = extra_info(c, t)
            assert info == "vCPU %d: halted, long mode" % (t - 1), info
        assert extra_info(c, 1) == "vCPU 0: running, long mode"
        assert hits(c, ncpus)[0] == LOOPS
        # Ctrl-C with the APs halted: every time a SIGINT stop, and still halted.
        assert c.remove(0, SPOT) == b"OK"
        for _ in range(LOOPS // 10):
            c.send("vCont;c")
            c.interrupt()
            reply = c.recv_timeout(10)
            assert reply is not None, "no stop after ^C"
            stop = rsplib.Stop(reply)
            assert stop.kind == "T" and stop.code == GDB_SIGINT, stop
        assert extra_info(c, 4) == "vCPU 3: halted, long mode"
    finally:
        c.close()
        st.close()


def test_a_vcpu_that_triple_faults_while_others_run_is_the_one_told():
    runs = max(1, LOOPS // 20)
    for _ in range(runs):
        st, c = start(4, 2)
        try:
            stop = c.cont(timeout=30)
            assert stop.kind == "T" and stop.code == GDB_SIGSEGV, stop
            assert thread_of(stop) == 2, stop
            # Its registers are there to see, and the others stopped too.
            assert c.cmd("Hg2") == b"OK"
            assert c.g()
            for t in (1, 3, 4):
                assert c.cmd("Hg%x" % t) == b"OK"
                assert c.g()
            c.send("k")
            assert st.wait(10) is not None
        finally:
            c.close()
            st.close()


testlib.main(globals())
