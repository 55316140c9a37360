#!/usr/bin/env python3
"""tests/run/test_pc_devices.py — the PC's devices as kernels see them,
end to end on real KVM (--no-gdb): fw_cfg and CMOS read by a guest
(pcprobe.elf), MP and ACPI tables found and checked by one (tables.elf),
resets through 0xcf9 and the i8042 starting the guest again (reboots.bin)
or, with --no-reboot, ending it with status 0, ACPI power-off ending it,
VGA text printed at the end and drawn live in a terminal (vgahello.elf), stdin typed on the keyboard (kbdecho.elf),
and the bare machine without any of them."""
import datetime
import os
import pty
import select
import subprocess
import time

import testlib
from testlib import guest, run

PROBE_LINES = [
    b"fw_cfg: QEMU id=1 ram=134217728 cpus=1",
    b"cmos: D=80 base=640 ext=65535 above16m=1792",
]


def probe(action, *extra):
    before = datetime.datetime.now(datetime.timezone.utc).date()
    status, out, err = run(["--no-gdb", "--machine", "pc", "--mem", "128M",
                            "--reg", "rdi=%d" % action] + list(extra)
                           + [guest("pcprobe.elf")])
    after = datetime.datetime.now(datetime.timezone.utc).date()
    lines = out.split(b"\n")
    assert lines[:2] == PROBE_LINES, (lines, err[-300:])
    dates = {("rtc: %d-%d-%d" % (d.year, d.month, d.day)).encode() for d in (before, after)}
    assert lines[2] in dates, (lines[2], dates)
    assert lines[3] == b"port61: refresh toggles", lines
    return status, lines[4:], err


def test_guest_reads_fw_cfg_signature_ram_size_and_cpu_count_and_cmos_date():
    status, rest, err = probe(0)
    assert (status, rest) == (0, [b""]), (status, rest, err[-300:])


def test_reset_through_0xcf9_with_no_reboot_ends_with_status_0():
    status, rest, err = probe(1, "--no-reboot")
    assert (status, rest) == (0, [b""]), (status, rest, err[-300:])


def test_reset_through_the_keyboard_controller_with_no_reboot_ends_with_status_0():
    status, rest, err = probe(2, "--no-reboot")
    assert (status, rest) == (0, [b""]), (status, rest, err[-300:])


def test_guest_reset_through_0xcf9_and_the_i8042_starts_the_guest_again_and_cmos_ram_survives():
    # reboots.bin counts its boots in CMOS RAM: each boot from the image
    # (RAM reloaded), the count from the CMOS, which a reset keeps.
    status, out, err = run(["--no-gdb", guest("reboots.bin")])
    assert (status, out) == (7, b"boot 1\nboot 2\nboot 3\n"), (status, out, err[-300:])


def test_guest_reset_with_no_reboot_ends_after_one_boot_with_status_0():
    status, out, err = run(["--no-gdb", "--no-reboot", guest("reboots.bin")])
    assert (status, out) == (0, b"boot 1\n"), (status, out, err[-300:])


def test_acpi_power_off_at_0x604_ends_with_status_0():
    status, rest, err = probe(3)
    assert (status, rest) == (0, [b""]), (status, rest, err[-300:])


def test_acpi_power_off_at_0xb004_ends_with_status_0():
    status, rest, err = probe(4)
    assert (status, rest) == (0, [b""]), (status, rest, err[-300:])


def test_bare_machine_has_no_fw_cfg_and_ignores_reset_and_power_off():
    # The guest's UIP loop would spin on a CMOS that reads all-ones, so
    # only what comes before it is checked; the run is ended by timeout.
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", "--machine", "bare", "--reg", "rdi=3",
                             guest("pcprobe.elf")], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        line = proc.stdout.readline()
        assert line.startswith(b"fw_cfg: \xff\xff\xff\xff id=4294967295"), line
        time.sleep(0.2)
        assert proc.poll() is None, "the bare machine has no CMOS: the guest must still spin"
    finally:
        proc.kill()
        proc.wait()


def test_guest_finds_mp_and_acpi_tables_and_powers_off_through_the_fadt():
    status, out, err = run(["--no-gdb", "--machine", "pc", guest("tables.elf")])
    assert out == (b"mp: cpus=1 bsp=0 irq0->pin2\n"
                   b"acpi: rev=2 cpus=1 irq0->gsi2 pm1a_cnt=0x0604\n"), (out, err[-300:])
    assert status == 0, (status, err[-300:])


def test_bare_machine_has_no_firmware_tables():
    status, out, err = run(["--no-gdb", "--machine", "bare", guest("tables.elf")])
    assert (status, out) == (3, b"bad MP floating pointer\n"), (status, out, err[-300:])


VGA_SCREEN = ("Hello from VGA text mode\n"
              "\n"
              "  \u2554\u2550\u2550\u2550\u2550\u2557\n"
              "  \u2551box!\u2551\n"
              "  \u255a\u2550\u2550\u2550\u2550\u255d\n"
              + "\n" * 19 +
              " " * 70 + "last row\n").encode()


def test_vga_final_screen_is_printed_as_plain_text_when_the_guest_ends():
    status, out, err = run(["--no-gdb", "--vga", guest("vgahello.elf")])
    assert (status, out) == (0, VGA_SCREEN), (status, out, err[-300:])


def test_vga_on_the_pc_machine_prints_the_same_screen():
    status, out, err = run(["--no-gdb", "--machine", "pc", "--vga", guest("vgahello.elf")])
    assert (status, out) == (0, VGA_SCREEN), (status, out, err[-300:])


def test_without_vga_a_vga_only_guest_prints_nothing():
    status, out, err = run(["--no-gdb", guest("vgahello.elf")])
    assert (status, out) == (0, b""), (status, out, err[-300:])


def check_live_vga(extra):
    master, slave = pty.openpty()
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", "--vga", "--reg", "rdi=1"] + extra
                            + [guest("vgahello.elf")], stdin=subprocess.PIPE,
                            stdout=slave, stderr=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    try:
        deadline = time.time() + 20
        # The guest waits for a byte on COM1: whatever is on the terminal
        # meanwhile was drawn live.
        while time.time() < deadline and b"last row" not in shown:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                shown += os.read(master, 65536)
        assert shown.startswith(b"\x1b[?1049h"), shown[:100]
        assert b"\x1b[0;97;44mHello from VGA text mode" in shown, shown[:400]
        proc.stdin.write(b"x")
        proc.stdin.close()
        assert proc.wait(timeout=20) == 0
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    # The terminal turns \n into \r\n.
    tail = shown.split(b"\x1b[r\x1b[?1049l", 1)
    assert len(tail) == 2, shown[-300:]
    assert tail[1].replace(b"\r\n", b"\n") == VGA_SCREEN, tail[1][-300:]


def test_vga_in_a_terminal_draws_the_screen_live_then_leaves_the_final_text():
    check_live_vga([])


def test_vga_live_view_also_runs_with_trace_io_where_output_is_not_queued():
    check_live_vga(["--trace-io"])


def test_keyboard_option_types_stdin_as_scancodes_the_guest_decodes():
    status, out, err = run(["--no-gdb", "--keyboard", guest("kbdecho.elf")],
                           input_bytes=b"Hello, World! {x|y} ~_+\nq")
    assert (status, out) == (0, b"kbc ok\nHello, World! {x|y} ~_+\n"), (status, out, err[-300:])


def test_keyboard_input_that_arrives_later_is_still_typed():
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", "--machine", "pc", "--keyboard",
                             guest("kbdecho.elf")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proc.stdin.write(b"ab")
        proc.stdin.flush()
        time.sleep(0.3)
        proc.stdin.write(b"Cq")
        proc.stdin.close()
        out = proc.stdout.read()
        assert proc.wait(timeout=20) == 0
        assert out == b"kbc ok\nabC", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_keyboard_from_a_terminal_gets_each_key_unechoed_and_the_terminal_is_restored():
    import termios
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([testlib.KVMSTUB, "--no-gdb", "--keyboard", guest("kbdecho.elf")],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"kbc ok\n"
        # No newline: a terminal in line mode would hold these back.
        os.write(master, b"ab")
        got = b""
        deadline = time.time() + 20
        while time.time() < deadline and got != b"ab":
            ready, _, _ = select.select([proc.stdout], [], [], 0.2)
            if ready:
                got += os.read(proc.stdout.fileno(), 64)
        assert got == b"ab", got
        ready, _, _ = select.select([master], [], [], 0.2)
        assert not ready, "the terminal echoed %r" % os.read(master, 64)
        os.write(master, b"q")
        assert proc.wait(timeout=20) == 0
        assert termios.tcgetattr(slave) == before
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


def test_without_keyboard_option_stdin_still_goes_to_com1_on_the_pc_machine():
    status, out, err = run(["--no-gdb", "--machine", "pc", guest("echo.bin")],
                           input_bytes=b"serial\nq")
    assert (status, out) == (0, b"serial\n"), (status, out, err[-300:])


if __name__ == "__main__":
    testlib.main(globals())
