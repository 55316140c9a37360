#!/usr/bin/env python3
"""tests/gdb/test_gdb_boot.py — stock gdb on kernels booted by their
protocols, with no `set architecture`: the register layout follows the
image (ELF64 → x86-64 from the first stop even though Multiboot2 and PVH
enter in 32-bit code; ELF32 → i386; flat → by mode; --arch overrides),
the first stop is the protocol's entry with its registers (eax magic, ebx
information, IF = 0), and the session goes from the first instruction to
a breakpoint in 64-bit C code and on to the guest's end."""
import testlib
from gdblib import session

EXITED = "[Inferior 1 (Remote target) exited normally]"


def test_multiboot2_elf64_is_x86_64_from_the_32_bit_entry_to_64_bit_c():
    r = session("mb2info64.elf", [
        "show architecture", "info symbol $pc",
        "p/x $eax", "p $ebx >= (long)&_end", "p/x $eflags", "p/x $cs",
        "p ($cr0 & 0x80000001) == 1",          # PE on, paging off
        "stepi", "info symbol $pc",            # cli is one byte
        "break boot64_main", "continue",
        "p/x magic", "p/x $cs", "p ($efer >> 10) & 1",   # LMA: long mode now
        "p $rip == (long)&boot64_main + 16",
        "bt 1",
        "continue"])
    r.refuse("too long", "internal-error", "not compatible")
    r.expect('currently "i386:x86-64"', "_start in section .text",
             "_start + 1 in section .text",
             "Breakpoint 1, boot64_main (magic=920085129, info=",
             "#0  boot64_main", EXITED)
    assert r.values() == ["0x36d76289", "1", "0x2", "0x8", "1",
                          "0x36d76289", "0x8", "1", "1"], r.describe()
    assert r.stub_out.startswith(b"multiboot2 magic=0x36d76289"), r.describe()
    assert r.status == 0, r.describe()


def test_pvh_elf64_starts_at_its_note_with_cr0_pe_and_cr4_zero():
    r = session("pvhinfo64.elf", [
        "show architecture", "info symbol $pc",
        "p/x $cr0", "p/x $cr4", "p/x $eflags", "p *(unsigned int *)$rbx == 0x336ec578",
        "break print_pvh", "continue",
        "p/x *(unsigned int *)info", "p ($efer >> 10) & 1",
        "finish",
        "continue"])
    r.refuse("too long", "internal-error")
    r.expect('currently "i386:x86-64"', "_start in section .text",
             "Breakpoint 1, print_pvh (info=", "boot64_main (", EXITED)
    assert r.values()[:6] == ["0x11", "0x0", "0x2", "1", "0x336ec578", "1"], r.describe()
    assert b"pvh magic=0x336ec578 version=0x1" in r.stub_out, r.describe()


def test_multiboot_elf32_is_i386_with_the_magic_in_eax():
    r = session("mb1info.elf", [
        "show architecture", "info symbol $pc",
        "p/x $eax", "p/x $eflags",
        "break mb1_main", "continue",
        "p/x magic", "p/x ((unsigned int *)info_addr)[0]",
        "p (char *)((unsigned int *)info_addr)[4]",
        "continue"], stub_args=["--append", "quiet"])
    r.refuse("too long", "internal-error")
    r.expect('currently "i386"', "_start in section .text",
             "Breakpoint 1, mb1_main (magic=", EXITED)
    values = r.values()
    assert values[:4] == ["0x2badb002", "0x2", "0x2badb002", "0x24d"], r.describe()
    assert values[4].endswith('"%s quiet"' % testlib.guest("mb1info.elf")), r.describe()


def test_multiboot_flat_image_is_i386_by_its_protected_mode_entry():
    r = session("mb1aout.bin", ["show architecture", "p/x $pc", "p/x $eax"], symbols=None)
    r.refuse("too long")
    r.expect('currently "i386"')
    assert r.values()[1] == "0x2badb002", r.describe()


def test_rflags_from_the_command_line_wins_over_the_boot_state():
    r = session("mb1info.elf", ["p/x $eflags", "p/x $eax"],
                stub_args=["--reg", "rflags=0x202"])
    assert r.values() == ["0x202", "0x2badb002"], r.describe()


def test_arch_i386_override_shows_the_32_bit_prologue_of_an_elf64_as_32_bit_code():
    # README, "Booting your kernel": the layout stays i386 for the session;
    # symbols come after `target remote` so gdb keeps the stub's i386.
    r = session("mb2info64.elf", [
        "show architecture",
        "symbol-file " + testlib.guest("mb2info64.elf"),
        "break enable_long_mode", "continue", "x/2i $pc", "p/x $eip"],
        stub_args=["--arch", "i386"], symbols=None)
    r.refuse("too long", "internal-error")
    r.expect('currently "i386"', "Breakpoint 1, ",
             "<enable_long_mode>:\tmov    %cr4,%eax",
             "or     $0x20,%eax")


def test_arch_override_applies_to_a_flat_real_mode_image():
    r = session("stepper.bin", ["show architecture", "p/x $pc"],
                stub_args=["--arch", "x86-64"], symbols=None)
    r.refuse("too long")
    r.expect('currently "i386:x86-64"')
    assert r.values() == ["0x1000"], r.describe()


if __name__ == "__main__":
    testlib.main(globals())
