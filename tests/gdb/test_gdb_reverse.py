#!/usr/bin/env python3
"""tests/gdb/test_gdb_reverse.py — reverse execution from stock gdb on the
bare machine: reverse-stepi over `in` and `rep outsb` (output not written
again), reverse-next over a C loop, reverse-finish, reverse-continue to
breakpoints and watchpoints, going back past stdin reads, forward to the
present and on to the guest's end (same output and status as without
recording), registers and memory at a reverse stop equal to a forward run
stopped at the same instruction, divergence reported, the window limit.

revdemo64 reads "abc\\n" from stdin, mixes it into `total` over
`iterations` rounds of a C loop, writes "sum " with rep outsb to port 0xe9,
reads port 0x80, prints total in hex and exits with total & 0x7f."""
import os
import re
import subprocess
import tempfile

import testlib
from gdblib import preamble, run_script, symbols_for, tolerant
from testlib import Stub, guest

IMAGE = "revdemo64.elf"
INPUT = b"abc\n"

# gdb's python: the instruction position kvmstub reports.
POSITION = [
    "python",
    "import re",
    "def position():",
    "    s = gdb.execute('monitor record status', to_string=True)",
    "    m = re.search(r'replaying: at instruction (\\d+)', s)",
    "    if m:",
    "        return int(m.group(1))",
    "    return int(re.search(r'positions \\d+ to (\\d+)', s).group(1))",
    "end",
]


def mix_line():
    """The source line of the loop body's `total = mix(...)`."""
    with open(os.path.join(testlib.ROOT, "guests", "revdemo.c")) as f:
        for n, text in enumerate(f, 1):
            if "total = mix(" in text:
                return n
    raise AssertionError("revdemo.c has no mix line")


def input_file(data=INPUT):
    f = tempfile.TemporaryFile()
    f.write(data)
    f.seek(0)
    return f


def reference_run(iterations=None):
    """revdemo without gdb or recording: its output and status."""
    out = subprocess.run([testlib.KVMSTUB, "--no-gdb", guest(IMAGE)], input=INPUT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return out.stdout, out.returncode


def record_session(commands, stub_args=("--record",), env=None, timeout=120):
    with input_file() as stdin:
        saved = dict(os.environ)
        try:
            if env:
                os.environ.update(env)
            stub = Stub(list(stub_args) + [guest(IMAGE)], stdin=stdin)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        lines = preamble(stub, symbols_for(IMAGE)) + POSITION + list(commands)
        return run_script(stub, lines, timeout=timeout)


def objdump_address(pattern):
    text = subprocess.run(["objdump", "-d", guest(IMAGE)], stdout=subprocess.PIPE,
                          check=True).stdout.decode()
    m = re.search(r"^\s*([0-9a-f]+):\s+(?:[0-9a-f]{2} )+\s*" + pattern, text, re.M)
    assert m, "no %r in revdemo64" % pattern
    return int(m.group(1), 16)


def test_reverse_stepi_over_in_and_rep_outsb_replays_without_writing_output_again():
    rep = objdump_address(r"rep outsb")
    ref_out, ref_status = reference_run()
    r = record_session([
        "break print_hex", "continue", "delete",
        "python",
        "seen_in = False",
        "for n in range(400):",
        "    gdb.execute('reverse-stepi', to_string=True)",
        "    pc = int(gdb.parse_and_eval('$pc'))",
        "    here = gdb.execute('x/i $pc', to_string=True)",
        "    seen_in = seen_in or ('kernel_main' in here and '(%dx),%al' in here)",
        # The counter counts a rep string instruction twice (its
        # iterations, then its end), so going back over it shows it
        # first with the count spent, then as it started (recording by
        # steps: once per iteration).
        "    if pc == %d and int(gdb.parse_and_eval('$rcx')) == 4:" % rep,
        "        break",
        "print('AT_REP=%d SEEN_IN=%d' % (pc == " + str(rep) + ", seen_in))",
        "end",
        "p $rcx",
        "python",
        "while int(gdb.parse_and_eval('$pc')) == %d:" % rep,
        "    gdb.execute('stepi', to_string=True)",
        "end",
        "p $rcx",
        "continue"])
    r.expect("AT_REP=1 SEEN_IN=1", "$1 = 4", "$2 = 0",
             "[Inferior 1 (Remote target) exited with code")
    assert r.stub_out == ref_out, (r.stub_out, ref_out)
    assert r.stub_out.count(b"sum ") == 1
    assert r.status == ref_status, r.describe()


def test_reverse_continue_reverse_next_and_reverse_finish_in_a_c_loop():
    r = record_session([
        "break mix", "continue", "continue", "continue", "continue",
        "p v", "reverse-continue", "p v",
        "reverse-finish", "p i",
        "delete", "break %d" % mix_line(), "continue", "p i",
        "next", "next", "next", "next", "p i",
        "reverse-next", "reverse-next", "p i",
        "delete", "continue"])
    values = r.values()
    # v at the fourth call is total after three rounds; reverse-continue
    # goes to the third call, one round less.
    assert values[0] != values[1], r.describe()
    r.expect("$2 = ", "in kernel_main () at guests/revdemo.c:%d" % mix_line(), "$3 = ")
    assert values[2] == "2", r.describe()   # reverse-finish: the third call, i = 2
    assert values[3] == "3", r.describe()   # forward (replayed) to line 71, next round
    assert values[4] == "4", r.describe()
    assert values[5] == "3", r.describe()   # back over the loop step
    r.expect("exited with code")


def test_reverse_continue_stops_at_hardware_and_conditional_breakpoints():
    r = record_session([
        "break mix", "continue", "continue", "continue", "continue", "delete",
        "hbreak mix", "reverse-continue", "p v",
        "delete", "break mix if v == 97", "reverse-continue", "p v",
        "delete", "continue"])
    r.expect("Hardware assisted breakpoint 2 at", "$1 = 3105",
             "Breakpoint 3, mix (v=97, i=98)", "$2 = 97", "exited with code")


def test_a_gdb_write_while_recording_is_replayed_and_writes_are_refused_in_the_past():
    r = record_session([
        "break mix", "continue", "continue",
        "set var input[2] = 100", "continue", "p i",
        "reverse-continue", "reverse-continue", "p/d input[2]"]
        + tolerant("set var input[2] = 1") + [
        "continue", "continue", "p i", "p/d input[2]",
        "delete", "continue"])
    values = r.values()
    # The third call saw the write; before it the guest's own byte is
    # there; replay applies the write again; a write in the past is refused.
    assert values == ["100", "99", "100", "100"], r.describe()
    r.expect("Cannot access memory", "exited with code")


BY_STEPS = {"KVMSTUB_TEST_RECORD_BY_STEPS": "1"}


def test_recording_by_single_steps_where_there_is_no_counter_goes_back_the_same():
    # What a host without KVM's instruction counter gets (forced here; on
    # the bare machine: recording by steps does not take interrupts yet).
    # Exact, with no divergence, also on a loaded host.
    ref_out, ref_status = reference_run()
    r = record_session([
        "monitor record status",
        "break mix", "continue", "continue", "continue", "continue",
        "p v", "reverse-continue", "p v",
        "reverse-finish", "p i", "delete",
        "watch total", "reverse-continue", "p total",
        "delete", "continue"], stub_args=("--record", "--machine", "bare"), env=BY_STEPS)
    r.expect("recording: on (every instruction single-stepped)", "Old value = ", "New value = ")
    assert b"replay diverged" not in r.stub_err, r.describe()
    assert r.values()[:4] == ["96354", "3105", "2", "97"], r.describe()
    assert r.stub_out == ref_out and r.status == ref_status, r.describe()


def test_reverse_step_goes_back_into_the_function_just_returned_from():
    r = record_session([
        "break revdemo.c:%d" % mix_line(), "continue", "continue", "delete",
        "next", "reverse-step", "bt 1", "p v",
        "delete", "continue"])
    r.expect("#0  mix (v=97, i=98) at guests/revdemo.c:", "$1 = 97", "exited with code")


def test_reverse_watch_shows_the_state_before_the_write():
    r = record_session([
        "break mix", "continue", "continue", "continue",
        "p total", "delete 1", "watch total",
        "reverse-continue", "p total", "p/x $pc",
        "reverse-continue", "p total",
        "delete", "continue"])
    store = objdump_address(r"mov\s+%rax,0x[0-9a-f]+\(%rip\)\s+# [0-9a-f]+ <total>")
    values = r.values()
    r.expect("Old value = ", "New value = ")
    # Before the third call total holds two rounds; back before the write
    # of round 2 it holds one, the pc on the storing instruction.
    assert values[1] != values[0], r.describe()
    assert values[2] == hex(store), (values, hex(store), r.describe())
    assert values[3] != values[1], r.describe()


def test_going_back_past_stdin_reads_replays_the_same_bytes():
    ref_out, ref_status = reference_run()
    r = record_session([
        "break string_out", "continue",
        "p ninput", "x/3cb input",
        "break read_input", "reverse-continue", "p ninput",
        "delete", "break string_out", "continue",
        "p ninput", "x/3cb input", "p/x total",
        "delete", "continue"])
    values = r.values()
    assert values == ["3", "0", "3", values[3]], r.describe()
    r.expect("97 'a'\t98 'b'\t99 'c'", "Breakpoint 2, read_input",
             "97 'a'\t98 'b'\t99 'c'")
    assert r.stub_out == ref_out
    assert r.status == ref_status


def test_registers_and_memory_at_a_reverse_stop_equal_a_forward_run_at_that_instruction():
    dump = ["info registers", "x/64gx &trail", "p total", "x/8xb input",
            "x/32gx $rsp"]
    back = record_session([
        "break mix", "continue", "continue", "continue", "continue", "continue",
        "delete",
        "python",
        "for n in range(37):",
        "    gdb.execute('reverse-stepi', to_string=True)",
        "print('POS=%d' % position())",
        "end"] + ["echo DUMP\\n"] + dump + ["kill"])
    pos = int(re.search(r"POS=(\d+)", back.out).group(1))
    forward = record_session([
        "break mix", "continue", "continue", "delete",
        "python",
        "while position() < %d:" % pos,
        "    gdb.execute('stepi', to_string=True)",
        "print('POS=%d' % position())",
        "end"] + ["echo DUMP\\n"] + dump + ["kill"])
    assert "POS=%d" % pos in forward.out, forward.describe()
    a = back.out[back.out.index("DUMP"):]
    b = forward.out[forward.out.index("DUMP"):]
    a = a[:a.index("[Inferior")] if "[Inferior" in a else a
    b = b[:b.index("[Inferior")] if "[Inferior" in b else b
    assert a == b, "reverse stop:\n%s\nforward run:\n%s" % (a, b)


def diverge_then_run_to_the_end(stub_args, env):
    ref_out, ref_status = reference_run()
    r = record_session([
        "break string_out", "continue",
        "break read_input", "reverse-continue",
        "bt 1",
        "monitor record status",
        "delete", "continue"], stub_args=stub_args, env=dict(env, KVMSTUB_TEST_PERTURB_REPLAY="1"))
    # Reported, to gdb and on stderr; the history before the segment that
    # diverged is gone; the machine is back at the present (where the
    # reverse-continue began), not where the wrong replay got to, so the
    # guest ends exactly as a run without recording does.
    r.expect("replay diverged", "#0  string_out", "recording: on", "positions ",
             "exited with code")
    assert "replaying: at instruction" not in r.out, r.describe()
    first = int(re.search(r"positions (\d+) to", r.out).group(1))
    assert first > 0, r.describe()
    assert b"replay diverged" in r.stub_err, r.stub_err
    assert r.stub_out == ref_out and r.status == ref_status, r.describe()


def test_a_replay_that_diverges_is_reported_the_history_cut_and_the_guest_ends_as_unrecorded():
    diverge_then_run_to_the_end(("--record",), {})


def test_by_steps_a_replay_that_diverges_is_reported_and_the_guest_ends_as_unrecorded():
    diverge_then_run_to_the_end(("--record", "--machine", "bare"), BY_STEPS)


def test_record_limit_keeps_the_newest_history_within_the_limit():
    r = record_session([
        "set var iterations = 30000",
        "break string_out", "continue",
        "monitor record status",
        "break read_input", "reverse-continue",
        "p i > 0",
        "delete", "continue"], stub_args=("--record", "--record-limit", "1M"))
    m = re.search(r"positions (\d+) to (\d+)", r.out)
    held = int(re.search(r"history memory: (\d+) bytes", r.out).group(1))
    assert m and int(m.group(1)) > 0, r.describe()
    assert held <= 1 << 20, r.describe()
    r.expect("No more reverse-execution history", "$1 = 1", "exited with code")


def test_a_reset_while_recording_starts_a_new_history():
    r = record_session([
        "break mix", "continue", "continue",
        "monitor system_reset", "maint flush register-cache",
        "monitor record status",
        "continue", "reverse-continue", "p/x $pc",
        "delete", "kill"])
    r.expect("recording: on", "instructions recorded: 0 (positions 0 to 0)",
             "Breakpoint 1, mix (v=0, i=0)", "No more reverse-execution history")


def test_timer_interrupts_replay_and_reverse_continue_lands_on_the_previous_tick():
    # The pc machine, the PIT at 1 kHz through the 8259 (timer64.elf: also
    # int $0x80, #DE, its own int3, #UD, #GP, IOAPIC and LAPIC timers).
    ref = subprocess.run([testlib.KVMSTUB, "--no-gdb", guest("timer64.elf")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    stub = Stub(["--record", "--machine", "pc", guest("timer64.elf")])
    r = run_script(stub, preamble(stub, guest("timer64.elf")) + [
        "break pit_tick", "continue", "continue", "continue", "p pic_ticks",
        "reverse-continue", "p pic_ticks", "reverse-continue", "p pic_ticks",
        "continue", "p pic_ticks", "continue", "p pic_ticks",
        "continue", "p pic_ticks",
        "monitor record status",
        "delete", "continue"], timeout=120)
    assert r.values() == ["2", "1", "0", "1", "2", "3"], r.describe()
    r.expect("interrupt windows: ", "exited normally")
    assert r.stub_out == ref.stdout and r.status == ref.returncode == 0, r.describe()


def test_reverse_without_recording_is_the_start_of_history():
    r = record_session(["stepi", "stepi", "reverse-stepi", "p/x $pc",
                        "monitor record status", "kill"], stub_args=())
    r.expect("No more reverse-execution history", "recording: off")


def test_monitor_record_on_in_gdb_then_reverse_to_where_it_began():
    r = record_session([
        "break read_input", "continue",
        "monitor record on",
        "break mix", "continue", "continue",
        "reverse-continue", "reverse-continue", "p ninput", "reverse-continue",
        "delete", "continue"], stub_args=())
    # The history starts where recording was turned on: at breakpoint 1.
    r.expect("recording: on", "Breakpoint 2, mix", "Breakpoint 2, mix",
             "Breakpoint 2, mix", "Breakpoint 1, read_input", "$1 = 0",
             "No more reverse-execution history", "exited with code")


if __name__ == "__main__":
    testlib.main(globals())
