#!/usr/bin/env python3
"""tests/run/test_boot.py — kernels booted by their protocols, run to their
end without gdb: the Multiboot v1 kernel (ELF, a.out kludge as ELF and as a
flat file), the Multiboot2 ELF64 and the PVH ELF64 each print the whole
information block they received, and the output must be exactly what the
specifications and DESIGN.md's PC contract say (command line strings,
module strings and contents, the memory map for the default 128 MiB, the
loader name). Bad headers and bad requests end kvmstub with status 4 and
one line naming the field; the guest never runs."""
import os
import re
import struct
import tempfile

import testlib
from testlib import guest, run

STATUS_IMAGE = 4


def mmap_lines(prefix, mb1=False, ram=128 << 20):
    """The memory map every protocol gets (DESIGN.md, the PC contract)."""
    regions = [(0, 0x9fc00, 1), (0x9fc00, 0x60400, 2), (0x100000, ram - 0x100000, 1),
               (0xfffc0000, 0x40000, 2)]
    size = " size=0x14" if mb1 else ""
    return "".join("%s%s base=%#x length=%#x type=%#x\n" % (prefix, size, b, l, t)
                   for b, l, t in regions)


def mb1_expected(image, args=None, modules=()):
    """modules: (path, args or None, contents) in order."""
    text = ("multiboot magic=0x2badb002 flags=0x24d info_after_kernel=0x1\n"
            "memory mem_lower=0x27f mem_upper=0x1fc00\n"
            + mmap_lines("mmap", mb1=True)
            + "cmdline=<%s>\n" % (image + (" " + args if args is not None else ""))
            + "modules mods_count=%#x\n" % len(modules))
    for path, margs, data in modules:
        text += ("module size=%#x page_aligned=0x1 after_kernel=0x1 string=<%s> data=<%s>\n"
                 % (len(data), path + (" " + margs if margs is not None else ""), shown(data)))
    return (text + "boot_loader_name=<kvmstub>\n").encode()


def mb2_expected(args=None, modules=(), acpi=False):
    text = ("multiboot2 magic=0x36d76289 aligned8=0x1 info_after_kernel=0x1\n"
            "cmdline=<%s>\n" % (args or "") + "boot_loader_name=<kvmstub>\n")
    for path, margs, data in modules:
        text += ("module size=%#x page_aligned=0x1 after_kernel=0x1 string=<%s> data=<%s>\n"
                 % (len(data), margs or "", shown(data)))
    text += ("basic_meminfo mem_lower=0x27f mem_upper=0x1fc00\n"
             "mmap entry_size=0x18 entry_version=0x0\n" + mmap_lines("mmap"))
    if acpi:  # the pc machine's RSDP (revision 2, 36 bytes): both copies
        text += ("acpi_old_rsdp size=0x1c signature=<RSD PTR > revision=0x2\n"
                 "acpi_new_rsdp size=0x2c signature=<RSD PTR > revision=0x2\n")
    text += "end size=0x8 total_size_matches=0x1\n"
    return text.encode()


def pvh_expected(args=None, modules=()):
    text = ("pvh magic=0x336ec578 version=0x1 flags=0x0 info_after_kernel=0x1\n"
            "cmdline=<%s>\n" % (args or "") + "modules nr_modules=%#x\n" % len(modules))
    for path, margs, data in modules:
        text += ("module size=%#x page_aligned=0x1 after_kernel=0x1 cmdline=<%s> data=<%s>\n"
                 % (len(data), margs or "", shown(data)))
    return (text + mmap_lines("memmap") + "acpi rsdp_paddr=0x0\n").encode()


def shown(data):
    return "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in data[:16])


class Modules:
    """Two module files in a temporary directory: text and binary."""

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory(prefix="kvmstub-mod-")
        self.text = os.path.join(self.dir.name, "initrd.txt")
        self.binary = os.path.join(self.dir.name, "blob.bin")
        self.text_data = b"first module, longer than sixteen bytes\n"
        self.binary_data = bytes([0x42, 0, 1, 2, 0x7f, 0x41])
        with open(self.text, "wb") as f:
            f.write(self.text_data)
        with open(self.binary, "wb") as f:
            f.write(self.binary_data)
        return self

    def __exit__(self, *exc):
        self.dir.cleanup()

    def args(self):
        return ["--module", self.text + ",root=/dev/ram0 quiet", "--module", self.binary]

    def expected(self):
        return [(self.text, "root=/dev/ram0 quiet", self.text_data),
                (self.binary, None, self.binary_data)]


def check_run(args, want_out):
    status, out, err = run(["--no-gdb"] + list(args), timeout=30)
    assert out == want_out, "stdout:\n%s\nwant:\n%s\nstatus %s, stderr %r" % (
        out.decode(errors="replace"), want_out.decode(), status, err[-300:])
    assert status == 0, "status %s, stderr %r" % (status, err[-300:])


def check_refused(args, *names):
    status, out, err = run(["--no-gdb"] + list(args), timeout=10)
    text = err.decode(errors="replace")
    assert status == STATUS_IMAGE, "status %s, stderr %r" % (status, text)
    assert out == b"", out
    lines = text.splitlines()
    assert len(lines) == 1, "want one line on stderr, got %r" % text
    for name in names:
        assert name in lines[0], "%r does not name %r" % (lines[0], name)


# --- Multiboot v1 ------------------------------------------------------------

def test_multiboot_elf_prints_its_whole_information_block():
    image = guest("mb1info.elf")
    check_run([image], mb1_expected(image))


def test_multiboot_gets_image_and_append_as_cmdline_and_file_args_as_module_strings():
    image = guest("mb1info.elf")
    with Modules() as m:
        check_run(["--append", "console=ttyS0 loglevel=7"] + m.args() + [image],
                  mb1_expected(image, "console=ttyS0 loglevel=7", m.expected()))


def test_multiboot_aout_kludge_elf_loads_by_its_address_fields():
    image = guest("mb1aout.elf")
    with Modules() as m:
        check_run(["--append", "a=1"] + m.args() + [image],
                  mb1_expected(image, "a=1", m.expected()))


def test_multiboot_aout_kludge_flat_file_loads_by_its_address_fields():
    image = guest("mb1aout.bin")
    with Modules() as m:
        check_run(["--append", "a=1"] + m.args() + [image],
                  mb1_expected(image, "a=1", m.expected()))


def test_multiboot_memory_fields_follow_mem():
    image = guest("mb1info.elf")
    status, out, err = run(["--no-gdb", "--mem", "32M", image])
    assert status == 0, err
    text = out.decode()
    assert "memory mem_lower=0x27f mem_upper=0x7c00\n" in text, text
    assert mmap_lines("mmap", mb1=True, ram=32 << 20) in text, text


# --- Multiboot2 --------------------------------------------------------------

def test_multiboot2_elf64_switches_to_long_mode_and_prints_its_tags():
    # The bare machine has no ACPI tables, so no RSDP tags (the pc test below).
    check_run(["--machine", "bare", guest("mb2info64.elf")], mb2_expected())


def test_multiboot2_gets_append_alone_and_module_args_alone():
    with Modules() as m:
        check_run(["--machine", "bare", "--append", "console=ttyS0"] + m.args() +
                  [guest("mb2info64.elf")],
                  mb2_expected("console=ttyS0", m.expected()))


def test_multiboot2_on_the_pc_machine_gets_both_acpi_rsdp_tags():
    check_run(["--machine", "pc", guest("mb2info64.elf")], mb2_expected(acpi=True))


# --- PVH ---------------------------------------------------------------------

def test_pvh_elf64_enters_at_its_note_and_prints_its_start_info():
    check_run(["--machine", "bare", guest("pvhinfo64.elf")], pvh_expected())


def test_pvh_gets_append_alone_and_module_args_alone():
    with Modules() as m:
        check_run(["--machine", "bare", "--append", "root=/dev/vda"] + m.args() +
                  [guest("pvhinfo64.elf")],
                  pvh_expected("root=/dev/vda", m.expected()))


def test_pvh_on_the_pc_machine_gets_the_rsdp_address():
    status, out, err = run(["--no-gdb", "--machine", "pc", guest("pvhinfo64.elf")])
    assert status == 0, (status, err)
    last = out.decode().splitlines()[-1]
    m = re.fullmatch(r"acpi rsdp_paddr=(0x[0-9a-f]+) signature=<RSD PTR >", last)
    assert m and 0xe0000 <= int(m.group(1), 16) < 0x100000, last


# --- overrides ---------------------------------------------------------------

def test_boot_elf_runs_a_pvh_kernel_at_its_e_entry():
    # e_entry is wrong_entry (guests/long_entry.S): it writes 0x7f to the
    # exit device, so status (0x7f << 1) | 1.
    status, out, err = run(["--no-gdb", "--boot", "elf", guest("pvhinfo64.elf")])
    assert (status, out) == (0xff, b""), (status, out, err)


def test_boot_multiboot2_on_a_multiboot_v1_kernel_is_refused():
    check_refused(["--boot", "multiboot2", guest("mb1info.elf")], "no Multiboot2 header")


def test_mode_other_than_protected_for_a_multiboot_kernel_is_refused():
    check_refused(["--mode", "long", guest("mb1info.elf")], "--mode long",
                  "protected mode")


def test_append_for_a_plain_elf_kernel_is_refused():
    check_refused(["--append", "x", guest("hello64.elf")], "--append", "plain elf")


def test_a_missing_module_file_is_named():
    check_refused(["--module", "/nonexistent/initrd,x", guest("mb1info.elf")],
                  "cannot open module /nonexistent/initrd")


def test_modules_that_do_not_fit_in_ram_are_refused():
    with tempfile.NamedTemporaryFile(prefix="kvmstub-big-") as f:
        f.truncate(40 << 20)
        check_refused(["--mem", "64M", "--module", f.name, "--module", f.name,
                       guest("mb1info.elf")], "--module " + f.name, "do not fit")


# --- hostile headers ---------------------------------------------------------

def write_temp(data):
    f = tempfile.NamedTemporaryFile(prefix="kvmstub-hdr-", delete=False)
    f.write(data)
    f.close()
    return f.name


def mb1_flat(flags, header_addr, load_addr, load_end, bss_end, entry):
    head = struct.pack("<III", 0x1badb002, flags, (-(0x1badb002 + flags)) & 0xffffffff)
    head += struct.pack("<5I", header_addr, load_addr, load_end, bss_end, entry)
    return head + b"\x90" * 64


def test_hostile_multiboot_headers_are_refused_naming_the_field():
    cases = [
        (mb1_flat(0x10003, 0x100000, 0x100010, 0, 0, 0x100020), "load_addr 0x100010 is above header_addr"),
        (mb1_flat(0x10003, 0x100000, 0x100000, 0x200000, 0, 0x100020), "load_end_addr 0x200000 reads past"),
        (mb1_flat(0x10003, 0x100000, 0x100000, 0, 0xffffff00, 0x100020), "does not fit in guest RAM"),
        (mb1_flat(0x10003, 0x100000, 0x100000, 0, 0, 0xf0000000), "entry_addr 0xf0000000 is outside guest RAM"),
        (mb1_flat(0x10007, 0x100000, 0x100000, 0, 0, 0x100020), "bit 2 (video mode)"),
        (mb1_flat(0x00003, 0x100000, 0x100000, 0, 0, 0x100020), "bit 16 (address fields)"),
    ]
    for data, name in cases:
        path = write_temp(data)
        try:
            check_refused([path], name)
        finally:
            os.unlink(path)


if __name__ == "__main__":
    testlib.main(globals())
