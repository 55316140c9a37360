#!/usr/bin/env python3
"""tests/gdb/test_gdb_modes.py — stock gdb in every CPU mode kvmstub offers:
real mode (i8086 disassembly, linear pc with CS != 0, stepping over `out`),
long mode stepping over `out`, and a higher-half long-mode kernel that runs
on its own page tables. Addresses come from the guests' sources and maps
(guests/stepper.S, guests/realcs.S, build/guests/*.map)."""
import testlib
from gdblib import read_map, session, symbols_for, tolerant

HIGHER_HALF_PML4 = 0x101000      # guests/README.md: the CR3 higherhalf.elf loads


def test_first_stop_in_real_mode_disassembles_16_bit_code():
    # No symbol file: gdb takes its architecture (i8086) from the target
    # description alone.
    r = session("stepper.bin", ["x/i $pc", "p/x $pc", "show architecture",
                                "x/3i $pc"], symbols=None)
    r.refuse("internal-error", "too long")
    r.expect("=> 0x1000:\txor    %ax,%ax", "$1 = 0x1000", 'currently "i8086"',
             "=> 0x1000:\txor    %ax,%ax",
             "0x1002:\tmov    %ax,%ds",
             "0x1004:\tcld")


def test_stepi_over_out_in_real_mode_stops_at_the_next_instruction():
    m = read_map("stepper.map")
    r = session("stepper.bin", [
        "break *0x%x" % m["step_out"], "continue",
        "p/x $pc", "p/x $eax",
        "stepi", "p/x $pc", "p/x $eax",      # after out: inc not yet run
        "stepi", "p/x $pc", "p/x $eax",      # after inc
        "delete", "continue"], symbols=None)
    r.expect("Breakpoint 1, 0x%08x in ?? ()" % m["step_out"],
             "[Inferior 1 (Remote target) exited normally]")
    assert r.values() == [
        "0x%x" % m["step_out"], "0x31",
        "0x%x" % m["step_inc"], "0x31",
        "0x%x" % m["step_mov_ecx"], "0x32"], r.describe()
    assert r.stub_out == b"1ok\n" and r.status == 0, r.describe()


def test_stepi_on_rep_outsb_runs_one_iteration_per_step():
    # rep outsb with cx = 3: each stepi is one iteration (as hardware traps
    # after each); the one that brings cx to 0 completes the instruction,
    # so the third stepi lands on the nop after it (SDM: REP exits its loop
    # as soon as the count reaches 0; QEMU's gdbstub does the same).
    m = read_map("stepper.map")
    r = session("stepper.bin", [
        "break *0x%x" % m["step_rep_outsb"], "continue", "delete",
        "p/x $ecx",
        "stepi", "p/x $pc", "p/x $ecx", "p/x $esi",
        "stepi", "p/x $pc", "p/x $ecx",
        "stepi", "p/x $pc", "p/x $ecx",
        "continue"], symbols=None)
    rep, nop = "0x%x" % m["step_rep_outsb"], "0x%x" % m["step_nop"]
    assert r.values() == ["0x3",
                          rep, "0x2", "0x%x" % (m["msg"] + 1),
                          rep, "0x1",
                          nop, "0x0"], r.describe()
    r.expect("[Inferior 1 (Remote target) exited normally]")
    assert r.stub_out == b"1ok\n", r.describe()


def test_real_mode_symbol_file_after_connect_gives_names_and_16_bit_code():
    # `symbol-file` after `target remote` keeps the target's i8086 (a `file`
    # before connecting makes gdb prefer the ELF's i386 machine).
    r = session("stepper.bin", [
        "symbol-file " + symbols_for("stepper.bin"),
        "x/i $pc",
        "break step_out", "continue", "p/x $pc",
        "stepi", "p/x $pc", "x/i $pc"], symbols=None)
    r.expect("=> 0x1000 <start>:\txor    %ax,%ax",
             "Breakpoint 1 at 0x100b: file guests/stepper.S, line",
             "Breakpoint 1, step_out () at guests/stepper.S:",
             "=> 0x100d <step_inc>:\tinc    %eax")
    assert r.values() == ["0x100b", "0x100d"], r.describe()


def test_stepi_over_out_in_long_mode_stops_at_the_next_instruction():
    # step_target is five `mov $c,%eax` (b8 imm32) + `out %al,$0xe9` (e6 e9).
    r = session("cdemo64.elf", [
        "break step_target", "continue",
        "while *(unsigned char *)$pc != 0xe6",
        "stepi",
        "end",
        "p/x $pc",
        "x/i $pc",
        "stepi",
        "p/x $pc",
        "x/i $pc",
        "p/x $eax",
        "stepi",
        "p/x $pc",
        "delete", "continue"])
    r.expect("Breakpoint 1, step_target ()",
             "out    %al,$0xe9",
             "mov    $0x74,%eax",
             "[Inferior 1 (Remote target) exited with code 017]")
    out_pc, after_out, eax, after_mov = r.values()
    assert int(after_out, 16) == int(out_pc, 16) + 2, r.describe()
    assert eax == "0x73", r.describe()                  # 's', not yet 't'
    assert int(after_mov, 16) == int(after_out, 16) + 5, r.describe()
    assert r.stub_out == b"step\ncdemo done\n", r.describe()


def test_real_mode_with_cs_nonzero_shows_linear_pc_and_hits_breakpoints():
    m = read_map("realcs.map")
    r = session("realcs.bin", [
        "x/i $pc",
        "stepi",                                   # the far jump
        "p/x $pc",
        "x/i $pc",
        "info registers cs",
        "p/x $cs",
        "break *0x%x" % m["out_byte"],
        "continue",
        "p/x $pc",
        "p/x $al",
        "x/s 0x%x" % m["msg"],
        "continue",
        "p/x $al",
        "delete", "continue"], symbols=None)
    r.refuse("internal-error")
    r.expect("=> 0x1000:\tljmp   $0x200,$0x10",
             "=> 0x%x:\tmov    %%cs,%%ax" % m["far_entry"],
             "cs             0x200               512",
             "Breakpoint 1, 0x%08x in ?? ()" % m["out_byte"],
             ':\t"real\\n"',
             "Breakpoint 1, 0x%08x in ?? ()" % m["out_byte"],
             "[Inferior 1 (Remote target) exited normally]")
    assert r.values() == ["0x%x" % m["far_entry"], "0x200",
                          "0x%x" % m["out_byte"], "0x72",    # 'r'
                          "0x65"], r.describe()             # 'e'
    assert r.stub_out == b"real\n" and r.status == 0, r.describe()


def test_real_mode_pc_written_by_gdb_is_a_linear_address():
    # Jump from out_byte straight to `done` (hlt) by writing the linear pc:
    # with CS = 0x200 the stub must set ip = 0x21, and the guest halts having
    # printed nothing.
    m = read_map("realcs.map")
    r = session("realcs.bin", [
        "break *0x%x" % m["out_byte"], "continue", "delete",
        "set var $pc = 0x%x" % m["done"],
        "p/x $pc", "x/i $pc", "info registers cs",
        "continue"], symbols=None, timeout=30)
    r.expect("=> 0x%x:\thlt" % m["done"], "cs             0x200",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.values() == ["0x%x" % m["done"]], r.describe()
    assert r.stub_out == b"" and r.status == 0, r.describe()


def test_software_breakpoint_set_before_the_guest_maps_its_address_still_stops():
    """`break hh_main` at the first instruction: 0xffffffff8... is not
    mapped until the guest loads its own CR3, so kvmstub plants it in a
    debug register; gdb sees an ordinary breakpoint stop."""
    r = session("higherhalf.elf", ["break hh_main", "continue", "p/x $pc", "p/x $cr3",
                                   "delete", "continue"])
    r.refuse("Cannot insert breakpoint", "Cannot access memory")
    r.expect("Breakpoint 1 at 0xffffffff8",
             "Breakpoint 1, hh_main () at guests/higherhalf.c:",
             "[Inferior 1 (Remote target) exited with code 07]")
    pc, cr3 = r.values()
    assert int(pc, 16) >> 31 == 0x1ffffffff, r.describe()
    assert int(cr3, 16) == HIGHER_HALF_PML4, r.describe()
    assert r.status == 7, r.describe()


def test_higher_half_kernel_on_its_own_page_tables():
    r = session("higherhalf.elf", [
        "p/x $cr3",                    # kvmstub's identity map
        "hbreak hh_main", "continue",
        "p/x $pc", "p/x $cr3", "p/x hh_marker",
        "bt",
        "break print",                 # software breakpoint via the guest's tables
        "continue",
        "p/x hh_marker",
        "x/s s",
        "bt",
        "delete", "continue"])
    r.refuse("Cannot access memory", "Cannot insert breakpoint")
    r.expect("Hardware assisted breakpoint 1 at 0xffffffff8",
             "Breakpoint 1, hh_main () at guests/higherhalf.c:",
             "#0  hh_main () at guests/higherhalf.c:",
             "#1  0xffffffff8", " in higher_half_entry ()",
             "Breakpoint 2 at 0xffffffff8",
             'Breakpoint 2, print (s=0xffffffff8', ' "higher half\\n") at guests/uart.c:',
             ':\t"higher half\\n"',
             "#0  print (", "#1  0xffffffff8", " in hh_main () at guests/higherhalf.c:",
             "[Inferior 1 (Remote target) exited with code 07]")
    boot_cr3, pc, cr3, marker, marker_after = r.values()
    assert int(boot_cr3, 16) != HIGHER_HALF_PML4, r.describe()
    assert int(pc, 16) >> 31 == 0x1ffffffff, r.describe()   # 0xffffffff8...
    assert int(cr3, 16) == HIGHER_HALF_PML4, r.describe()
    assert (marker, marker_after) == ("0x4848", "0x4849"), r.describe()
    assert r.status == 7 and r.stub_out == b"higher half\n", r.describe()


def test_stepi_onto_hlt_reports_that_the_guest_exited_normally():
    m = read_map("stepper.map")
    r = session("stepper.bin", ["break *0x%x" % m["step_hlt"], "continue",
                                "stepi"], symbols=None)
    r.expect("Breakpoint 1, 0x%08x in ?? ()" % m["step_hlt"],
             "[Inferior 1 (Remote target) exited normally]")
    assert r.status == 0 and r.stub_out == b"1ok\n", r.describe()


def test_guest_triple_fault_stops_with_a_signal_and_registers_readable():
    # triplefault.bin enters protected mode with an empty IDT and runs ud2.
    m = read_map("triplefault.map")
    r = session("triplefault.bin", ["continue", "p/x $pc", "x/i $pc",
                                    "p/x $cr0 & 1", "kill"], symbols=None)
    r.expect("Program received signal SIG", "0x%08x in ?? ()" % m["faulting_insn"],
             "ud2", "[Inferior 1 (Remote target) killed]")
    assert r.values() == ["0x%x" % m["faulting_insn"], "0x1"], r.describe()
    assert r.status == 12, r.describe()


def test_a_fifth_real_mode_breakpoint_is_refused_and_kvmstubs_stderr_says_why():
    """In real mode on the pc machine of a host whose int3 goes to the
    guest's IVT, software breakpoints take the four debug registers: gdb
    can only say "Cannot insert breakpoint 5"; kvmstub's stderr names the
    reason. (Where int3 traps in real mode, all five are taken.)"""
    m = read_map("stepper.map")
    names = ("step_out", "step_inc", "step_mov_ecx", "step_mov_dx", "step_rep_outsb")
    r = session("stepper.bin", ["break *0x%x" % m[n] for n in names]
                + tolerant("continue") + ["delete 5", "continue", "p/x $pc", "delete"],
                symbols=None)
    if b"int3 (this host traps it)" in r.stub_err:
        # All five are taken: the first is hit and nothing is refused.
        r.refuse("Cannot insert breakpoint")
        r.expect("Breakpoint 1, ")
        assert b"refused" not in r.stub_err, r.describe()
        return
    r.expect("Cannot insert breakpoint 5.", "Breakpoint 1, ")
    line = ("kvmstub: breakpoint at 0x%x refused: all four debug registers are in use: in real "
            "mode on this host software breakpoints use debug registers\n" % m["step_rep_outsb"])
    assert line.encode() in r.stub_err, r.describe()
    assert r.values() == ["0x%x" % m["step_out"]], r.describe()


if __name__ == "__main__":
    testlib.main(globals())
