#!/usr/bin/env python3
"""tests/gdb/test_gdb_sessions.py — the life of a gdb connection with stock
gdb: Ctrl-C stops a running guest, detach lets it run on and a new gdb finds
it further on, a second gdb is turned away, `kill` ends kvmstub, and the
repository's gdbinit.example works as written (on a free port)."""
import os
import re
import time

import gdblib
import testlib
from gdblib import InteractiveGdb, gdb_batch, preamble, session
from gdblib import printed_values as values
from testlib import Stub, guest

STATUS_SIGNAL = 10
STATUS_KILLED = 12
# kvmsample.bin: 0x1000 xor %ax,%ax; 0x1002 out %ax,$0x10; 0x1004 inc %ax;
# 0x1005 jmp 0x1002 — where a running kvmsample can be stopped.
KVMSAMPLE_LOOP = (0x1002, 0x1004, 0x1005)


def stop_stub(stub):
    """kvmstub's status once ended: by itself within 0.5 s, else by SIGTERM."""
    terminated = []
    status, _, err = gdblib.finish_stub(stub, 0.5, terminated)
    return (status if status is not None else terminated[0]), err


def test_ctrl_c_stops_a_running_guest_with_sigint():
    stub = Stub([guest("kvmsample.bin")])
    gdb = InteractiveGdb(stub)
    try:
        gdb.send("continue")
        gdb.wait_for("Continuing.")
        time.sleep(0.5)
        gdb.interrupt()
        gdb.wait_for("Program received signal SIGINT")
        gdb.send("p/x $pc")
        gdb.send("p/x $eax")
        # A second run and a second Ctrl-C work the same way.
        gdb.send("continue")
        gdb.wait_for("Continuing.", timeout=10)
        time.sleep(0.3)
        gdb.interrupt()
        gdb.wait_for("Program received signal SIGINT, Interrupt.\n0x")
        gdb.send("p/x $pc")
        gdb.send("kill")
        out = gdb.finish()
    finally:
        gdb.kill()
    assert out.count("Program received signal SIGINT, Interrupt.") == 2, out
    pc1, eax, pc2 = values(out)
    assert int(pc1, 16) in KVMSAMPLE_LOOP and int(pc2, 16) in KVMSAMPLE_LOOP, out
    assert int(eax, 16) != 0, out           # the guest did run for 0.5 s
    assert "[Inferior 1 (Remote target) killed]" in out, out
    status, err = stop_stub(stub)
    assert status == STATUS_KILLED, (status, err)


def test_detach_then_reconnect_sees_the_guest_moved_on():
    stub = Stub([guest("kvmsample.bin")])
    try:
        first, _, hung = gdb_batch(preamble(stub, None) + [
            "stepi", "stepi", "stepi",           # xor; out 0; inc → ax = 1
            "p/x $pc", "p/x $eax", "detach"], timeout=30)
        assert not hung, first
        assert "[Inferior 1 (Remote target) detached]" in first, first
        assert values(first) == ["0x1005", "0x1"], first
        time.sleep(0.5)
        assert stub.proc.poll() is None, "kvmstub ended after detach"
        second, _, hung = gdb_batch(preamble(stub, None) + [
            "p/x $pc", "p/x $eax", "stepi", "p/x $pc", "detach"], timeout=30)
        assert not hung, second
        pc, eax, pc_after = values(second)
        assert int(pc, 16) in KVMSAMPLE_LOOP, second
        assert int(eax, 16) not in (0, 1), "counter did not move:\n" + second
        assert pc_after != pc, second
        assert stub.proc.poll() is None, "kvmstub ended after the second detach"
    finally:
        status, err = stop_stub(stub)
    assert status == STATUS_SIGNAL, (status, err)


def test_second_gdb_is_turned_away_while_one_is_attached():
    stub = Stub([guest("kvmsample.bin")])
    gdb = InteractiveGdb(stub)
    try:
        gdb.send("p/x $pc")
        gdb.wait_for("$1 = 0x1000")
        other, _, hung = gdb_batch(preamble(stub, None) + ["p/x $pc"], timeout=30)
        assert not hung, other
        assert "$1 = " not in other, "a second gdb got in:\n" + other
        # The first session is undisturbed.
        gdb.send("stepi")
        gdb.send("p/x $pc")
        gdb.wait_for("$2 = 0x1002")
        gdb.send("kill")
        out = gdb.finish()
    finally:
        gdb.kill()
    assert "[Inferior 1 (Remote target) killed]" in out, out
    status, err = stop_stub(stub)
    assert status == STATUS_KILLED, (status, err)


def test_kill_ends_kvmstub_with_status_12():
    r = session("cdemo64.elf", ["break add", "continue", "kill"])
    r.expect("Breakpoint 1, add (a=0, b=1)", "[Inferior 1 (Remote target) killed]")
    assert r.status == STATUS_KILLED, r.describe()
    assert r.stub_out == b"", r.describe()      # killed before "step"


def test_gdb_quitting_while_stopped_lets_the_guest_run_to_its_end():
    # gdb -batch ends by detaching: breakpoints go, the guest runs on.
    r = session("cdemo64.elf", ["break add", "continue"])
    r.expect("Breakpoint 1, add (a=0, b=1)", "[Inferior 1 (Remote target) detached]")
    assert r.status == 15 and r.stub_out == b"step\ncdemo done\n", r.describe()


def test_gdbinit_example_connects_loads_hello64_and_stops_at_its_breakpoint():
    path = os.path.join(testlib.ROOT, "gdbinit.example")
    assert os.path.exists(path), (
        "gdbinit.example is missing at the repository root (DESIGN.md's layout "
        "promises it: connect to :1234, load build/guests/hello64.elf, set a "
        "first breakpoint)")
    with open(path) as f:
        text = f.read()
    stub = Stub([guest("hello64.elf")])
    pattern = r"^(\s*target\s+(?:extended-)?remote\s+)\S*:1234\b"
    assert re.search(pattern, text, re.M), \
        "gdbinit.example has no `target remote ...:1234` line:\n" + text
    text = re.sub(pattern, r"\g<1>127.0.0.1:%d" % stub.port, text, flags=re.M)
    assert "hello64.elf" in text, "gdbinit.example does not load hello64.elf:\n" + text
    lines = list(gdblib.PREAMBLE) + text.splitlines()
    if not re.search(r"^\s*(c|cont|continue)\s*$", text, re.M):
        lines.append("continue")       # an init that only sets the breakpoint
    lines += ["p counter", "delete", "continue"]
    r = gdblib.run_script(stub, lines)
    r.refuse("No symbol table", "No such file", "Connection refused",
             "Error in sourced command file")
    r.expect("Breakpoint 1, ", "$1 = 0",
             "[Inferior 1 (Remote target) exited normally]")
    assert r.status == 0 and r.stub_out == b"Hello from long mode\n", r.describe()


if __name__ == "__main__":
    testlib.main(globals())
