#!/usr/bin/env python3
"""tests/run/test_cli.py — bad command lines and bad images: each ends
kvmstub at once with its documented status (2 usage error, 4 image that
cannot be loaded), nothing on stdout, and exactly one line on stderr that
names the problem. Never a guest run, a crash or a hang."""
import os
import struct
import tempfile

import testlib
from testlib import guest, run

STATUS_USAGE = 2
STATUS_IMAGE = 4


def check_refused(args, want_status, *names):
    """Runs kvmstub --no-gdb ARGS; wants want_status, an empty stdout and one
    stderr line containing every string in names. A usage error may add one
    short "usage: ..." reminder line after it, not the whole --help text."""
    status, out, err = run(["--no-gdb"] + list(args), timeout=10)
    text = err.decode(errors="replace")
    assert status == want_status, "status %s, want %s; stderr %r" % (
        status, want_status, text)
    assert out == b"", "stdout %r" % out
    lines = text.splitlines()
    assert text.endswith("\n") and lines and lines[0].strip(), \
        "want one line on stderr, got %r" % text
    extra = lines[1:]
    if want_status == STATUS_USAGE and len(extra) == 1:
        assert extra[0].startswith("usage:"), "second line %r" % extra[0]
    else:
        assert not extra, "want one line on stderr, got %r" % text
    for name in names:
        assert name in lines[0], "%r does not name %r" % (lines[0], name)
    return lines[0]


def temp_image(data):
    f = tempfile.NamedTemporaryFile(prefix="kvmstub-test-", suffix=".img", delete=False)
    f.write(data)
    f.close()
    return f.name


class TempImage:
    def __init__(self, data):
        self.path = temp_image(data)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        os.unlink(self.path)


def elf64_with_segment(p_offset, p_filesz, p_paddr=0x100000, p_memsz=None):
    """An ELF64 x86-64 executable header plus one PT_LOAD, nothing else."""
    if p_memsz is None:
        p_memsz = p_filesz
    ehdr = struct.pack("<4sBBBBB7xHHIQQQIHHHHHH",
                       b"\x7fELF", 2, 1, 1, 0, 0,  # 64-bit, little endian
                       2, 62, 1,                    # ET_EXEC, EM_X86_64
                       p_paddr, 64, 0, 0,           # entry, phoff, shoff, flags
                       64, 56, 1, 64, 0, 0)
    phdr = struct.pack("<IIQQQQQQ", 1, 5, p_offset, p_paddr, p_paddr,
                       p_filesz, p_memsz, 0x1000)
    return ehdr + phdr


# --- usage errors ------------------------------------------------------------

def test_unknown_option_is_a_usage_error_naming_it():
    check_refused(["--bogus-option", guest("kvmtest.bin")], STATUS_USAGE, "--bogus-option")


def test_mem_not_a_number_is_a_usage_error():
    check_refused(["--mem", "abc", guest("kvmtest.bin")], STATUS_USAGE, "--mem", "abc")


def test_mem_zero_is_a_usage_error():
    check_refused(["--mem", "0", guest("kvmtest.bin")], STATUS_USAGE, "--mem")


def test_mem_not_a_multiple_of_4k_is_a_usage_error():
    check_refused(["--mem", "100001", guest("kvmtest.bin")], STATUS_USAGE, "--mem", "100001")


def test_load_not_a_number_is_a_usage_error():
    check_refused(["--load", "xyz", guest("kvmtest.bin")], STATUS_USAGE, "--load", "xyz")


def test_entry_with_trailing_junk_is_a_usage_error():
    check_refused(["--entry", "0x1000z", guest("kvmtest.bin")], STATUS_USAGE, "--entry")


def test_unknown_mode_is_a_usage_error():
    check_refused(["--mode", "virtual86", guest("kvmtest.bin")], STATUS_USAGE, "--mode", "virtual86")


def test_unknown_register_is_a_usage_error():
    check_refused(["--reg", "xyz=1", guest("kvmtest.bin")], STATUS_USAGE, "--reg", "xyz")


def test_reg_without_value_is_a_usage_error():
    check_refused(["--reg", "rax", guest("kvmtest.bin")], STATUS_USAGE, "--reg")


def test_console_port_above_0xffff_is_a_usage_error():
    check_refused(["--console-port", "0x10000", guest("kvmtest.bin")], STATUS_USAGE,
                  "--console-port")


def test_option_missing_its_value_is_a_usage_error():
    check_refused([guest("kvmtest.bin"), "--mem"], STATUS_USAGE, "--mem")


def test_missing_image_is_a_usage_error():
    check_refused([], STATUS_USAGE, "IMAGE")


def test_two_images_is_a_usage_error():
    check_refused([guest("kvmtest.bin"), guest("exit0.bin")], STATUS_USAGE, "IMAGE")


# --- images that cannot be loaded --------------------------------------------

def test_nonexistent_image_file_is_an_image_error_naming_it():
    path = "/nonexistent/kvmstub-no-such-image.bin"
    check_refused([path], STATUS_IMAGE, path)


def test_directory_as_image_is_an_image_error():
    d = tempfile.mkdtemp(prefix="kvmstub-test-")
    try:
        check_refused([d], STATUS_IMAGE, d)
    finally:
        os.rmdir(d)


def test_empty_image_file_is_an_image_error():
    with TempImage(b"") as path:
        check_refused([path], STATUS_IMAGE, "empty")


def test_truncated_elf_is_an_image_error():
    # The ELF magic and class, then nothing: an ELF that is not executable,
    # not a flat binary.
    with TempImage(b"\x7fELF\x02\x01\x01" + b"\0" * 9) as path:
        check_refused([path], STATUS_IMAGE, "ELF")


def test_elf_segment_beyond_end_of_file_is_an_image_error():
    data = elf64_with_segment(p_offset=0x10000, p_filesz=0x100)
    with TempImage(data) as path:
        check_refused([path], STATUS_IMAGE, "segment")


def test_elf_segment_offset_overflowing_is_an_image_error():
    data = elf64_with_segment(p_offset=0xffffffffffffff00, p_filesz=0x200)
    with TempImage(data) as path:
        check_refused([path], STATUS_IMAGE, "segment")


def test_elf_segment_outside_guest_ram_is_an_image_error():
    # hello64 is linked at 1 MiB; 64 KiB of RAM cannot hold it.
    check_refused(["--mem", "64K", guest("hello64.elf")], STATUS_IMAGE, "segment")


def test_elf_segment_wrapping_past_2_to_64_is_an_image_error():
    data = elf64_with_segment(p_offset=0x78, p_filesz=0, p_paddr=0xfffffffffffff000,
                              p_memsz=0x2000)
    with TempImage(data) as path:
        check_refused([path], STATUS_IMAGE, "segment")


def test_flat_image_loaded_past_end_of_ram_is_an_image_error():
    check_refused(["--mem", "64K", "--load", "0xfffa", guest("kvmtest.bin")], STATUS_IMAGE)


# --- the two options that need no image ----------------------------------------

def test_help_prints_usage_on_stdout_and_exits_0():
    status, out, err = run(["--help"], timeout=10)
    assert status == 0, (status, err)
    assert out.startswith(b"usage: kvmstub"), out[:100]
    assert err == b"", err


def test_version_prints_one_line_and_exits_0():
    status, out, err = run(["--version"], timeout=10)
    assert status == 0, (status, err)
    assert out.count(b"\n") == 1 and b"kvmstub" in out, out
    assert err == b"", err


if __name__ == "__main__":
    testlib.main(globals())
