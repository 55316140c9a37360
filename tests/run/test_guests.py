#!/usr/bin/env python3
"""tests/run/test_guests.py — every guest in guests/ run to its end without
gdb (--no-gdb): what it prints on stdout, byte for byte, and the exit status,
exactly. The statuses are the README's: 0 guest hlt, (v << 1) | 1 exit
device, 8 guest crashed, 10 stopped by SIGINT/SIGTERM."""
import os
import re
import select
import signal
import subprocess
import time

import testlib
from testlib import guest, run

STATUS_HLT = 0
STATUS_CRASH = 8
STATUS_SIGNAL = 10


def exit_status(value):
    return (value << 1) | 1


def check_run(args, want_out, want_status, timeout=30):
    status, out, err = run(["--no-gdb"] + list(args), timeout=timeout)
    assert out == want_out, "stdout %r, want %r (status %s, stderr %r)" % (
        out, want_out, status, err[-300:])
    assert status == want_status, "status %s, want %s (stderr %r)" % (
        status, want_status, err[-300:])
    return err


read_map = testlib.read_map


# --- images as built ---------------------------------------------------------

def test_kvmtest_image_is_the_lwn_articles_12_bytes():
    with open(guest("kvmtest.bin"), "rb") as f:
        assert f.read() == bytes.fromhex("baf80300d80430eeb00aeef4")


def test_stepper_map_addresses_point_at_the_documented_instructions():
    symbols = read_map("stepper.map")
    with open(guest("stepper.bin"), "rb") as f:
        image = f.read()
    load = symbols["start"]
    assert load == 0x1000, hex(load)
    want = {
        "step_mov_eax": "66b831000000",
        "step_out": "e6e9",
        "step_inc": "6640",
        "step_mov_ecx": "66b903000000",
        "step_mov_dx": "baf803",
        "step_rep_outsb": "f36e",
        "step_nop": "90",
        "step_hlt": "f4",
    }
    for sym, code in want.items():
        off = symbols[sym] - load
        got = image[off:off + len(code) // 2].hex()
        assert got == code, "%s at %#x: %s, want %s" % (sym, symbols[sym], got, code)


def test_realcs_map_puts_far_entry_at_0x2010():
    symbols = read_map("realcs.map")
    assert symbols["start"] == 0x1000
    assert symbols["far_entry"] == 0x2010
    with open(guest("realcs.bin"), "rb") as f:
        image = f.read()
    assert image[:5] == bytes.fromhex("ea10000002"), image[:5].hex()  # ljmp 0x200:0x10


# --- real-mode flat images ---------------------------------------------------

def test_kvmtest_prints_4_and_newline():
    check_run(["--reg", "rax=2", "--reg", "rbx=2", guest("kvmtest.bin")],
              b"4\n", STATUS_HLT)


def test_reg_option_sets_initial_registers():
    check_run(["--reg", "rax=3", "--reg", "rbx=4", guest("kvmtest.bin")],
              b"7\n", STATUS_HLT)


def test_load_option_places_flat_image_and_entry_follows():
    # The code is position independent: anywhere it prints the same.
    check_run(["--load", "0x8000", "--reg", "rax=1", "--reg", "rbx=1",
               guest("kvmtest.bin")], b"2\n", STATUS_HLT)


def test_entry_option_starts_at_the_given_address():
    # 0x1005 is `add al,'0'`: mov dx and add al,bl are skipped, so bl is
    # not added and dx must come from --reg.
    check_run(["--entry", "0x1005", "--reg", "rdx=0x3f8", "--reg", "rax=2",
               "--reg", "rbx=5", guest("kvmtest.bin")], b"2\n", STATUS_HLT)


def test_tiny_kernel_prints_hello_world_on_port_0xf1():
    check_run(["--console-port", "0xf1", "--load", "0", guest("tiny_kernel.bin")],
              b"Hello,world\n", STATUS_HLT)


def test_unknown_out_port_is_ignored_without_console_port():
    check_run(["--load", "0", guest("tiny_kernel.bin")], b"", STATUS_HLT)


def test_rep_outsb_prints_every_byte_of_the_string():
    check_run([guest("repouts.bin")], b"ABCDEFGHIJKLMNOPQRSTUVWXYZ\n", STATUS_HLT)


def test_exit_device_status_is_v_shifted_or_1():
    check_run([guest("exit42.bin")], b"", exit_status(42))
    assert exit_status(42) == 85


def test_exit_device_value_0_gives_status_1():
    check_run([guest("exit0.bin")], b"", exit_status(0))


def test_far_jump_to_nonzero_cs_runs_and_prints_on_port_0xe9():
    check_run([guest("realcs.bin")], b"real\n", STATUS_HLT)


def test_stepper_prints_1ok():
    check_run([guest("stepper.bin")], b"1ok\n", STATUS_HLT)


def test_triple_fault_exits_8_with_one_line_diagnosis():
    err = check_run([guest("triplefault.bin")], b"", STATUS_CRASH)
    lines = err.decode(errors="replace").splitlines()
    assert len(lines) == 1 and lines[0].strip(), "stderr %r: want one line" % err
    assert err.endswith(b"\n"), err


# --- ELF kernels -------------------------------------------------------------

def test_hello32_prints_through_the_uart_in_protected_mode():
    check_run([guest("hello32.elf")], b"Hello from protected mode\n", STATUS_HLT)


def test_hello64_prints_through_the_uart_in_long_mode():
    check_run([guest("hello64.elf")], b"Hello from long mode\n", STATUS_HLT)


def test_cdemo32_prints_and_exits_with_15():
    check_run([guest("cdemo32.elf")], b"step\ncdemo done\n", exit_status(7))


def test_cdemo64_prints_and_exits_with_15():
    check_run([guest("cdemo64.elf")], b"step\ncdemo done\n", exit_status(7))


def test_higher_half_kernel_with_own_page_tables_prints_and_exits_7():
    check_run([guest("higherhalf.elf")], b"higher half\n", exit_status(3))


# --- the endless guest: --trace-io and signals -------------------------------

# The README's trace line; kvm_report() may put "kvmstub: " in front of it.
TRACE_OUT = re.compile(rb"^(?:kvmstub: )?io: out port=0x([0-9a-f]+) size=(\d+) "
                       rb"count=(\d+) value=0x([0-9a-f]+)$")


def start_kvmsample(extra):
    return subprocess.Popen([testlib.KVMSTUB, "--no-gdb"] + extra +
                            [guest("kvmsample.bin")], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def read_lines(stream, want, timeout):
    """Reads whole lines from a pipe until `want` of them or the timeout."""
    fd = stream.fileno()
    data = b""
    deadline = time.monotonic() + timeout
    while data.count(b"\n") < want and time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\n")[:-1]


def stop_with(proc, sig):
    testlib.wait_signal_handlers(proc.pid)
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("kvmstub did not stop within 10 s of signal %d" % sig)
    return proc.returncode, out, err


def test_kvmsample_trace_io_shows_increasing_values():
    proc = start_kvmsample(["--trace-io"])
    try:
        lines = read_lines(proc.stderr, 210, 10)
        values = []
        for line in lines:
            if b"io:" not in line:
                continue  # e.g. a start-up warning; every trace line is checked
            m = TRACE_OUT.match(line)
            assert m, "not a trace line: %r" % line
            port, size, count, value = m.groups()
            assert (int(port, 16), int(size), int(count)) == (0x10, 2, 1), line
            values.append(int(value, 16))
        assert len(values) >= 200, "only %d trace lines in 10 s" % len(values)
        assert values[:200] == list(range(200)), values[:20]
        status, out, _ = stop_with(proc, signal.SIGTERM)
        assert out == b"", out
        assert status == STATUS_SIGNAL, "status %s after SIGTERM" % status
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigterm_stops_guest_cleanly():
    proc = start_kvmsample([])
    try:
        time.sleep(0.3)
        assert proc.poll() is None, "kvmsample ended by itself: %s" % proc.returncode
        status, out, err = stop_with(proc, signal.SIGTERM)
        assert status == STATUS_SIGNAL, "status %s after SIGTERM; stderr %r" % (status, err)
        assert out == b"", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_sigint_stops_guest_cleanly():
    proc = start_kvmsample([])
    try:
        time.sleep(0.3)
        assert proc.poll() is None, "kvmsample ended by itself: %s" % proc.returncode
        status, out, err = stop_with(proc, signal.SIGINT)
        assert status == STATUS_SIGNAL, "status %s after SIGINT; stderr %r" % (status, err)
        assert out == b"", out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    testlib.main(globals())
