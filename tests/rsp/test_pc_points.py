#!/usr/bin/env python3
"""tests/rsp/test_pc_points.py — software breakpoints on the pc machine,
where `hlt` belongs to the guest. In protected and long mode they are as
many as gdb wants (int3 bytes: on this host the emulator's refusal of
int3 is the trap, on VMX/SVM KVM_GUESTDBG_USE_SW_BP); in real mode on a
host whose int3 goes to the guest's IVT they take the four debug
registers and a fifth is refused (kvmstub's stderr says why, as it does
for a refused watchpoint), while the bare machine keeps them unlimited
(hlt bytes)."""
import rsplib
from rsplib import Stub, read_map
from testlib import guest

MAP = read_map("stepper.map")
REAL_MODE_ADDRS = [MAP[s] for s in ("step_out", "step_inc", "step_mov_ecx", "step_mov_dx",
                                    "step_rep_outsb")]


def int3_traps_here(st):
    return b"int3 (this host traps it)" in st.banner


def test_real_mode_z0_on_pc_takes_debug_registers_and_a_fifth_is_refused():
    with Stub([guest("stepper.bin")]) as st:
        c = st.client()
        c.load_layout()
        replies = [c.insert(0, a) for a in REAL_MODE_ADDRS]
        if int3_traps_here(st):
            assert replies == [b"OK"] * 5, replies   # VMX/SVM: int3 traps in real mode
        else:
            assert replies[:4] == [b"OK"] * 4 and replies[4].startswith(b"E"), replies
            # gdb shows no reason for a refused Z: kvmstub's stderr has it.
            line = (b"kvmstub: breakpoint at 0x%x refused: all four debug registers are in "
                    b"use: in real mode on this host software breakpoints use debug registers\n"
                    % REAL_MODE_ADDRS[4])
            assert rsplib.wait_until(lambda: line in bytes(st.err), 5), bytes(st.err)
        stop = c.cont()
        assert stop.reason == "swbreak" and c.pc() == MAP["step_out"], (stop, hex(c.pc()))
        assert c.reg("eax") == 0x31
        # Removing one frees its debug register for another.
        assert c.remove(0, MAP["step_out"]) == b"OK"
        assert c.insert(0, MAP["step_rep_outsb"]) == b"OK"
        stop = c.cont()
        assert stop.reason == "swbreak" and c.pc() == MAP["step_inc"], (stop, hex(c.pc()))


def test_a_refused_watchpoint_says_why_on_stderr():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        assert c.insert(2, 0x200000, 0x2000).startswith(b"E")
        assert c.insert(3, 0x7000000000, 4).startswith(b"E")   # not mapped
        want = [b"kvmstub: watchpoint at 0x200000 refused: a watchpoint covers 1 to 4096 bytes\n",
                b"kvmstub: watchpoint at 0x7000000000 refused: 0x7000000000 is not mapped to "
                b"guest RAM, and watchpoints on this host trap the page it maps to\n"]
        assert rsplib.wait_until(lambda: all(w in bytes(st.err) for w in want), 5), bytes(st.err)
        assert c.insert(2, 0x200000, 4) == b"OK"
        assert bytes(st.err).count(b"refused") == 2, bytes(st.err)


def test_real_mode_z0_on_bare_is_unlimited():
    with Stub(["--machine", "bare", guest("stepper.bin")]) as st:
        c = st.client()
        c.load_layout()
        assert [c.insert(0, a) for a in REAL_MODE_ADDRS] == [b"OK"] * 5
        for want in REAL_MODE_ADDRS:
            stop = c.cont()
            assert stop.reason == "swbreak" and c.pc() == want, (stop, hex(c.pc()), hex(want))


def test_protected_mode_z0_on_pc_is_unlimited_and_each_fires():
    syms = rsplib.nm("cdemo32.elf")
    # Every function of cdemo32 the guest calls, more than four of them.
    names = ["kernel_main", "step_target", "add", "print", "uart_putc", "exit_device"]
    with Stub([guest("cdemo32.elf")]) as st:
        c = st.client()
        c.load_layout()
        assert [c.insert(0, syms[n]) for n in names] == [b"OK"] * len(names)
        seen = set()
        for _ in range(200):
            stop = c.cont()
            if stop.kind == "W":
                break
            assert stop.reason == "swbreak" and c.pc() in (syms[n] for n in names), stop
            seen.add(c.pc())
        assert stop.kind == "W" and stop.code == 0x0f, stop
        assert seen == {syms[n] for n in names}, sorted(map(hex, seen))
        status, out, err = st.finish()
        assert (status, out) == (15, b"step\ncdemo done\n"), (status, out, err)


if __name__ == "__main__":
    import testlib
    testlib.main(globals())
