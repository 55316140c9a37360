#!/usr/bin/env python3
"""tests/rsp/test_smp_restart.py — restarting a guest with several vCPUs,
as a PC does: `monitor system_reset`, extended-remote `run` and the
guest's own reset (port 0xcf9) boot vCPU 0 from the image again while
every other vCPU waits for INIT/SIPI again, with RAM reloaded, the
breakpoints back in the new image and no stop of the old run told
afterwards. The guest is smp64.elf (see guests/smp.c's scenarios)."""
import rsplib
import testlib
from rsplib import Stub, GDB_SIGTRAP
from testlib import guest

SYMS = rsplib.nm("smp64.elf")
SPOT = SYMS["smp_spot"]
HITS = SYMS["spot_hits"]
MAIN = SYMS["kernel_main"]


def extra_info(c, thread):
    reply = c.cmd("qThreadExtraInfo,%x" % thread)
    return bytes.fromhex(reply.decode()).decode()


def thread_of(stop):
    return int(stop.fields["thread"], 16)


def entry_pc(c):
    assert c.cmd("Hg1") == b"OK"
    return c.pc()


def test_system_reset_with_four_vcpus_boots_the_bsp_and_sends_the_aps_back_to_sipi():
    with Stub(["--smp", "4", "--reg", "rdi=1", guest("smp64.elf")]) as st:
        c = st.client()
        c.load_layout()
        start = entry_pc(c)
        assert c.insert(0, SPOT) == b"OK"
        for _ in range(200):  # until an AP stands on the breakpoint
            stop = c.cont(timeout=30)
            assert stop.kind == "T" and stop.reason == "swbreak", stop
            if thread_of(stop) > 1:
                break
        else:
            raise AssertionError("no AP reached the breakpoint")
        assert any(extra_info(c, t).startswith("vCPU %d: running" % (t - 1)) for t in (2, 3, 4))
        text, reply = c.monitor("system_reset")
        assert reply == b"OK" and "the guest was reset" in text, (text, reply)
        stop = rsplib.Stop(c.cmd("?"))
        assert stop.kind == "T" and thread_of(stop) == 1, stop
        assert entry_pc(c) == start
        for t in (2, 3, 4):
            assert extra_info(c, t) == "vCPU %d: waiting for SIPI, real mode" % (t - 1)
        # RAM came back from the image: the old run's counts are gone.
        assert c.read(HITS, 32) == bytes(32)
        # The breakpoint is in the new image; the APs start again and reach it.
        seen = set()
        for _ in range(200):
            stop = c.cont(timeout=30)
            assert stop.kind == "T" and stop.code == GDB_SIGTRAP and stop.reason == "swbreak", stop
            seen.add(thread_of(stop))
            if len(seen) >= 2:
                break
        assert len(seen) >= 2, seen
        assert rsplib.wait_until(lambda: bytes(st.out).count(b"smp: BSP up\n") == 2, 5), \
            bytes(st.out)


def test_run_in_extended_mode_with_two_vcpus_starts_the_guest_again_to_its_end():
    with Stub(["--smp", "2", guest("smp64.elf")]) as st:
        c = st.client()
        assert c.cmd("!") == b"OK"
        stop = c.cont(timeout=60)
        assert stop.kind == "W" and stop.code == 0, stop
        reply = c.cmd("vRun;")
        stop = rsplib.Stop(reply)
        assert stop.kind == "T" and thread_of(stop) == 1, reply
        stop = c.cont(timeout=60)
        assert stop.kind == "W" and stop.code == 0, stop
        assert bytes(st.out).count(b"smp: total 2000\n") == 2, bytes(st.out)


def test_the_guests_own_reset_with_four_vcpus_boots_it_again_under_the_debugger():
    # Scenario 4 resets through port 0xcf9 after its first boot: a
    # breakpoint on kernel_main fires once for each boot, then the guest ends.
    with Stub(["--smp", "4", "--reg", "rdi=4", guest("smp64.elf")]) as st:
        c = st.client()
        c.load_layout()
        assert c.insert(0, MAIN) == b"OK"
        for boot in (1, 2):
            stop = c.cont(timeout=60)
            assert stop.kind == "T" and stop.reason == "swbreak" and thread_of(stop) == 1, stop
            assert entry_pc(c) == MAIN, boot
        stop = c.cont(timeout=60)
        assert stop.kind == "W" and stop.code == 0, stop
        out = bytes(st.out)
        assert out.count(b"smp: CPUs running: 4\n") == 2 and b"smp: boot 2\n" in out, out


testlib.main(globals())
