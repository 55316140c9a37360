#!/usr/bin/env python3
"""tests/rsp/test_execution.py — running the guest over the raw protocol:
single steps that move the pc exactly as guests/stepper.S says (over `out`,
`rep outsb` and `hlt` too), continue to the end and the exit statuses,
crashes, Ctrl-C, range stepping, software and hardware breakpoints, and
write/read/access watchpoints on cdemo64's variables."""
import time

import rsplib
import testlib
from rsplib import Stop, Stub, image_bytes, read_map
from testlib import guest

MAP = read_map("stepper.map")


def stepper(*extra):
    return Stub(list(extra) + [guest("stepper.bin")])


def is_trap(stop):
    return stop.kind == "T" and stop.code == 5


def step_to(c, addr, limit=20):
    """Steps until pc == addr (each step checked to be a T05)."""
    for _ in range(limit):
        if c.pc() == addr:
            return
        stop = c.step()
        assert is_trap(stop), stop
    raise AssertionError("pc never reached %#x (at %#x)" % (addr, c.pc()))


# --- single steps ------------------------------------------------------------------

def test_each_step_moves_pc_exactly_as_the_map_says():
    # rep outsb with ecx = 3: two steps stay on it, the third (last
    # iteration) ends past it, as a hardware single-step trap does.
    expected = [MAP["start"], 0x1002, 0x1004, MAP["step_mov_eax"], MAP["step_out"],
                MAP["step_inc"], MAP["step_mov_ecx"], MAP["step_mov_dx"], MAP["step_lea"],
                MAP["step_rep_outsb"], MAP["step_rep_outsb"], MAP["step_rep_outsb"],
                MAP["step_nop"], MAP["step_hlt"]]
    with stepper() as st:
        c = st.client()
        lay = c.load_layout()
        seen = [c.pc()]
        for _ in expected[1:]:
            stop = c.step()
            assert is_trap(stop), stop
            assert stop.regs.get(lay.num("eip")) == c.pc(), "expedited pc differs from p"
            seen.append(c.pc())
        assert seen == expected, "pcs %s, want %s" % ([hex(a) for a in seen],
                                                      [hex(a) for a in expected])


def test_step_over_out_stops_after_one_instruction():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        step_to(c, MAP["step_out"])
        assert c.reg("eax") == 0x31
        stop = c.step()
        assert is_trap(stop), stop
        assert c.pc() == MAP["step_inc"], "after out: pc %#x, want %#x" % (c.pc(), MAP["step_inc"])
        assert c.reg("eax") == 0x31, "inc ran too: eax %#x" % c.reg("eax")
        stop = c.step()
        assert c.pc() == MAP["step_mov_ecx"] and c.reg("eax") == 0x32
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, stop
        status, out, err = st.finish()
        assert out == b"1ok\n", out
        assert status == 0, (status, err)


def test_step_over_rep_outsb_does_one_iteration_per_step():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        step_to(c, MAP["step_rep_outsb"])
        assert (c.reg("ecx"), c.reg("esi")) == (3, MAP["msg"])
        for left in (2, 1, 0):
            stop = c.step()
            assert is_trap(stop), stop
            ecx, si, pc = c.reg("ecx"), c.reg("esi"), c.pc()
            want_pc = MAP["step_rep_outsb"] if left else MAP["step_nop"]
            assert (ecx, si, pc) == (left, MAP["msg"] + 3 - left, want_pc), \
                "step with ecx %d: ecx %d si %#x pc %#x, want %d %#x %#x" % (
                    left + 1, ecx, si, pc, left, MAP["msg"] + 3 - left, want_pc)
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, stop
        status, out, _ = st.finish()
        assert out == b"1ok\n", out


def test_step_over_hlt_reports_the_guest_exit():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        step_to(c, MAP["step_hlt"])
        stop = c.step()
        assert stop.kind == "W" and stop.code == 0, "step over hlt: %r" % stop
        status, out, _ = st.finish()
        assert status == 0 and out == b"1ok\n", (status, out)


def test_s_with_an_address_resumes_there():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        stop = c.resume("s%x" % MAP["step_inc"])
        assert is_trap(stop), stop
        assert c.pc() == MAP["step_mov_ecx"], hex(c.pc())
        assert c.reg("eax") == 1, "inc at 0x100d ran on eax 0: %#x" % c.reg("eax")


# --- continue, exits and crashes ----------------------------------------------------------

def test_continue_to_the_end_exits_0_with_1ok():
    with stepper() as st:
        c = st.client()
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, stop
        status, out, err = st.finish()
        assert (status, out) == (0, b"1ok\n"), (status, out, err)


def test_exit42_reports_W55_and_status_85():
    with Stub([guest("exit42.bin")]) as st:
        c = st.client()
        stop = c.resume("c")
        assert stop.kind == "W" and stop.code == 0x55, stop
        status, out, err = st.finish()
        assert status == 85, (status, err)


def test_triplefault_reports_a_signal_and_keeps_registers():
    with Stub([guest("triplefault.bin")]) as st:
        c = st.client()
        lay = c.load_layout()
        stop = c.cont()
        assert stop.kind == "T" and stop.code not in (0, 5), \
            "a crash must be a stop with a signal: %r" % stop
        g = c.g()
        assert len(g) == lay.g_bytes
        assert lay.value(g, "cr0") & 1, "guest was in protected mode: cr0 %#x" % lay.value(g, "cr0")
        assert c.pc() == read_map("triplefault.map")["faulting_insn"], hex(c.pc())
        assert c.cmd("qC") == b"QC1"
        assert c.read(0x1000, 2) == image_bytes("triplefault.bin")[:2]
        assert st.alive()
        # Continuing a dead guest must not turn it into an exit 0.
        stop = c.cont()
        assert stop.kind in "TX" or (stop.kind == "W" and stop.code != 0), stop


def test_ctrl_c_stops_a_running_guest_with_T02():
    with Stub([guest("kvmsample.bin")]) as st:
        c = st.client()
        c.load_layout()
        latencies = []
        for _ in range(5):
            c.send("vCont;c")
            assert c.recv_timeout(0.2) is None, "the guest stopped by itself"
            start = time.monotonic()
            c.interrupt()
            reply = c.recv_timeout(5)
            latencies.append(time.monotonic() - start)
            assert reply is not None, "no stop after Ctrl-C"
            stop = Stop(reply)
            assert stop.kind == "T" and stop.code == 2, stop
            assert MAP_KVMSAMPLE_START <= c.pc() < MAP_KVMSAMPLE_START + 16, hex(c.pc())
        print("# Ctrl-C latency: median %.2f ms, max %.2f ms" % (
            sorted(latencies)[2] * 1000, max(latencies) * 1000))
        assert max(latencies) < 2.0, latencies


MAP_KVMSAMPLE_START = read_map("kvmsample.map")["start"]


def test_ctrl_c_sent_with_the_continue_is_not_lost():
    """A script may send the continue and the interrupt back to back; they
    can arrive in one segment."""
    with Stub([guest("kvmsample.bin")]) as st:
        c = st.client()
        c.send_raw(testlib.frame("vCont;c") + b"\x03")
        reply = c.recv_timeout(3)
        assert reply is not None, "Ctrl-C right behind vCont;c was lost: the guest runs on"
        stop = Stop(reply)
        assert stop.kind == "T" and stop.code == 2, stop


def test_range_step_stops_at_the_range_end():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        step_to(c, MAP["step_mov_eax"])
        stop = c.resume("vCont;r%x,%x" % (MAP["step_mov_eax"], MAP["step_rep_outsb"]))
        assert is_trap(stop), stop
        assert c.pc() == MAP["step_rep_outsb"], hex(c.pc())
        assert c.reg("ecx") == 3 and c.reg("esi") == MAP["msg"]
        assert c.reg("eax") == 0x32
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, stop
        status, out, _ = st.finish()
        assert out == b"1ok\n", out


def test_range_step_stops_after_one_instruction_when_pc_leaves_the_range():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        stop = c.resume("vCont;r%x,%x" % (0x1000, 0x1002))
        assert is_trap(stop), stop
        assert c.pc() == 0x1002, hex(c.pc())


# --- breakpoints ------------------------------------------------------------------------------

def check_breakpoint(kind, reason):
    bp = MAP["step_inc"]
    file_bytes = image_bytes("stepper.bin")[bp - 0x1000:bp - 0x1000 + 2]
    with stepper() as st:
        c = st.client()
        lay = c.load_layout()
        assert c.insert(kind, bp) == b"OK"
        stop = c.cont()
        assert is_trap(stop) and stop.reason == reason, "want %s: %r" % (reason, stop)
        assert stop.regs.get(lay.num("eip")) == bp and c.pc() == bp, hex(c.pc())
        assert c.reg("eax") == 0x31, "inc ran before the stop"
        assert c.read(bp, 2) == file_bytes, "memory at the breakpoint: %s, file %s" % (
            c.read(bp, 2).hex(), file_bytes.hex())
        assert c.read(0x1000, 0x20) == image_bytes("stepper.bin")[:0x20]
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, "continue from the breakpoint: %r" % stop
        status, out, err = st.finish()
        assert (status, out) == (0, b"1ok\n"), (status, out, err)


def test_sw_breakpoint_stops_with_swbreak_and_shows_the_original_bytes():
    check_breakpoint(0, "swbreak")


def test_hw_breakpoint_stops_with_hwbreak():
    check_breakpoint(1, "hwbreak")


def test_step_from_a_breakpoint_executes_the_original_instruction():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        assert c.insert(0, MAP["step_inc"]) == b"OK"
        assert c.cont().reason == "swbreak"
        stop = c.step()
        assert is_trap(stop) and c.pc() == MAP["step_mov_ecx"], hex(c.pc())
        assert c.reg("eax") == 0x32


def test_removed_breakpoint_does_not_stop():
    with stepper() as st:
        c = st.client()
        assert c.insert(0, MAP["step_inc"]) == b"OK"
        assert c.insert(0, MAP["step_nop"]) == b"OK"
        assert c.remove(0, MAP["step_inc"]) == b"OK"
        c.load_layout()
        stop = c.cont()
        assert stop.reason == "swbreak" and c.pc() == MAP["step_nop"], (stop, hex(c.pc()))


# --- watchpoints --------------------------------------------------------------------------------

CDEMO = rsplib.nm("cdemo64.elf")


def test_write_watchpoint_reports_watch_with_the_address():
    with Stub([guest("cdemo64.elf")]) as st:
        c = st.client()
        c.load_layout()
        addr = CDEMO["counter"]
        assert c.insert(2, addr, 4) == b"OK"
        values = []
        for _ in range(5):
            stop = c.cont()
            assert is_trap(stop) and stop.reason == "watch" and stop.reason_value == addr, stop
            values.append(int.from_bytes(c.read(addr, 4), "little"))
        assert values == [1, 3, 6, 10, 15], values
        assert c.remove(2, addr, 4) == b"OK"
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 15, stop
        status, out, _ = st.finish()
        assert (status, out) == (15, b"step\ncdemo done\n"), (status, out)


def test_read_watchpoint_reports_rwatch():
    with Stub([guest("cdemo64.elf")]) as st:
        c = st.client()
        c.load_layout()
        addr = CDEMO["watched"]
        assert c.insert(3, addr, 4) == b"OK"
        stop = c.cont()
        assert is_trap(stop) and stop.reason == "rwatch" and stop.reason_value == addr, stop
        # The write (watched = 42) came first and did not stop.
        assert int.from_bytes(c.read(addr, 4), "little") == 42
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 15, "one read only: %r" % stop


def test_access_watchpoint_reports_awatch_for_write_and_read():
    with Stub([guest("cdemo64.elf")]) as st:
        c = st.client()
        c.load_layout()
        addr = CDEMO["watched"]
        assert c.insert(4, addr, 4) == b"OK"
        for _ in range(2):
            stop = c.cont()
            assert is_trap(stop) and stop.reason == "awatch" and stop.reason_value == addr, stop
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 15, stop


if __name__ == "__main__":
    testlib.main(globals())
