#!/usr/bin/env python3
"""tests/gdb/test_gdb_monitor.py — stock gdb driving what issue 11 added:
`monitor ...` lines, `maint packet Qqemu.PhyMemMode`, and `target
extended-remote` with `run`, `start`, `kill` then `run`, and `run ARGS`,
all against real guests. Asserts on what gdb prints and what the guest
wrote."""
import re

import gdblib
import testlib
from gdblib import PREAMBLE, Stub, run_script, session, symbols_for
from testlib import guest
import rsplib

GUEST_LINE = "restart guest: runs=00000000 marker=00000007 far=00000000"


def extended_session(image, commands, stub_args=(), wait_exit=5):
    stub = Stub(list(stub_args) + [guest(image)])
    target = stub.gdb_target().replace("target remote", "target extended-remote")
    lines = list(PREAMBLE) + ["file " + symbols_for(image), target] + list(commands)
    return run_script(stub, lines, wait_exit=wait_exit)


# --- extended-remote ---------------------------------------------------------------

def test_run_twice_restarts_the_guest_from_its_image():
    r = extended_session("restart64.elf", [
        "break main", "run", "p runs", "p marker", "continue",
        "run", "p runs", "p marker", "continue"])
    r.refuse("internal-error", "failed")
    r.expect("Breakpoint 1, main () at guests/restart.c",
             "Breakpoint 1, main () at guests/restart.c")
    assert r.values() == ["0", "7", "0", "7"], r.describe()
    lines = r.stub_out.decode().splitlines()
    assert lines == [GUEST_LINE, GUEST_LINE], r.describe()


def test_start_stops_at_main_with_a_temporary_breakpoint():
    r = extended_session("restart64.elf", ["start", "info breakpoints", "p runs"])
    r.expect("Temporary breakpoint 1 at", "Temporary breakpoint 1, main () at guests/restart.c",
             "No breakpoints or watchpoints.")
    assert r.values() == ["0"], r.describe()


def test_kill_then_run_starts_again_in_the_same_kvmstub():
    r = extended_session("restart64.elf", [
        "break main", "run", "kill", "info threads", "run", "p runs", "continue"])
    r.expect("Breakpoint 1, main ()", "[Inferior 1 (Remote target) killed]",
             "No threads.", "Breakpoint 1, main ()")
    assert r.values() == ["0"], r.describe()
    assert r.stub_out.decode().splitlines() == [GUEST_LINE], r.describe()


def test_run_arguments_reach_a_multiboot2_kernel_as_its_command_line():
    r = extended_session("mb2info64.elf", [
        "set debug remote 1", "run root=/dev/sda1 quiet", "set debug remote 0", "run single"])
    # gdb hex-encodes each argument into vRun; the kernel sees them joined.
    arg1, arg2 = "root=/dev/sda1".encode().hex(), "quiet".encode().hex()
    assert re.search(r"vRun;[0-9a-f]*;%s;%s" % (arg1, arg2), r.out), r.describe()
    r.expect("[Inferior 1 (Remote target) exited normally]",
             "[Inferior 1 (Remote target) exited normally]")
    lines = re.findall(r"cmdline=<([^>]*)>", r.stub_out.decode())
    assert lines == ["root=/dev/sda1 quiet", "single"], r.describe()


def test_a_guest_that_exits_under_extended_remote_can_be_run_again():
    r = extended_session("restart64.elf", ["run", "run", "info threads"])
    r.expect("[Inferior 1 (Remote target) exited normally]",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.stub_out.decode().splitlines() == [GUEST_LINE, GUEST_LINE], r.describe()


# --- monitor -------------------------------------------------------------------------

def test_monitor_help_lists_every_command():
    r = session("hello64.elf", ["monitor help"])
    for command in ("info registers", "info gdt", "info idt", "info tlb", "info mem",
                    "info lapic", "info pic", "info exits", "gva2gpa ADDR", "xp /FMT ADDR",
                    "system_reset", "screen", "trace-io on|off", "step-irq on|off"):
        r.expect(command + " ")


def test_monitor_info_registers_agrees_with_gdbs_registers():
    r = session("hello64.elf", ["break kernel_main", "continue", "monitor info registers",
                                "p/x $cr3", "p/x $efer", "p/x $rip"])
    cr3 = int(re.search(r"CR3=([0-9a-f]{16})", r.out).group(1), 16)
    efer = int(re.search(r"EFER=([0-9a-f]{16})", r.out).group(1), 16)
    rip = int(re.search(r"RIP=([0-9a-f]{16})", r.out).group(1), 16)
    values = r.values()
    assert int(values[0], 16) == cr3, r.describe()
    assert int(values[2], 16) == rip, r.describe()
    assert efer & 0x500 == 0x500, r.describe()   # LME | LMA
    r.expect("mode: long (64-bit)", "CS =0018")


def test_monitor_info_gdt_xp_gva2gpa_and_errors_from_gdb():
    syms = rsplib.nm("hello64.elf")
    main = syms["kernel_main"]
    r = session("hello64.elf", [
        "monitor info gdt",
        "monitor xp /4xb 0x%x" % main, "x/4xb 0x%x" % main,
        "monitor gva2gpa 0x%x" % main, "monitor gva2gpa 0x7fff00000000",
        "monitor frobnicate", "monitor xp /4q 0", "p 1"])
    r.expect("0018  00af9b000000ffff  base=0x0 limit=0xffffffff code64")
    m = re.search(r"%016x: (0x.. 0x.. 0x.. 0x..)" % main, r.out)
    assert m, r.describe()
    gdb_bytes = re.search(r"<kernel_main>:\s+(0x..)\s+(0x..)\s+(0x..)\s+(0x..)", r.out)
    assert gdb_bytes and m.group(1).split() == list(gdb_bytes.groups()), r.describe()
    r.expect("gpa: 0x%x" % main, "0x7fff00000000: unmapped",
             "unknown command 'frobnicate' (see 'monitor help')",
             "xp: unknown format letter 'q'")
    assert r.values() == ["1"], r.describe()   # the session went on


def test_maint_packet_phymemmode_switches_gdbs_reads_to_physical_memory():
    syms = rsplib.nm("higherhalf.elf")
    hh_main = syms["hh_main"]
    phys = hh_main - 0xffffffff80000000
    r = session("higherhalf.elf", [
        "break hh_main", "continue",
        "maint packet qqemu.Supported",
        "x/4xb 0x%x" % hh_main,
        "maint packet Qqemu.PhyMemMode:1",
        "maint flush dcache",
        "x/4xb 0x%x" % phys,
        "maint packet Qqemu.PhyMemMode:0"])
    r.expect('received: "PhyMemMode"', 'received: "OK"', 'received: "OK"')
    linear = re.search(r"<hh_main>:\s+((?:0x..\s*){4})", r.out)
    physical = re.search(r"0x%x:\s+((?:0x..\s*){4})" % phys, r.out)
    assert linear and physical, r.describe()
    assert linear.group(1).split() == physical.group(1).split(), r.describe()


def test_monitor_system_reset_from_target_remote_and_a_register_cache_flush():
    entry = rsplib.nm("restart64.elf")["_start"]
    r = session("restart64.elf", [
        "break halt", "continue", "monitor system_reset", "maint flush register-cache",
        "p/x $pc", "p $pc == _start", "delete", "continue"], wait_exit=10)
    r.expect("Breakpoint 1, ", "the guest was reset")
    assert r.values()[-1] == "1", r.describe()
    assert int(r.values()[0], 16) == entry, r.describe()
    assert r.stub_out.decode().splitlines() == [GUEST_LINE, GUEST_LINE], r.describe()
    assert r.status == 0, r.describe()


if __name__ == "__main__":
    testlib.main(globals())
