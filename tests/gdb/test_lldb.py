#!/usr/bin/env python3
"""tests/gdb/test_lldb.py — stock lldb (`gdb-remote`) debugging the C guests
through kvmstub: connect, a breakpoint by function name, continue,
`register read`, `memory read`, `si` off a breakpoint, a write watchpoint,
continue to the end.
Asserts on what lldb prints, as a user reads it, and on kvmstub's status
and the guest's output. lldb missing is a failure, not a skip (the
Makefile's tools check installs it in CI)."""
import os
import re
import shutil
import subprocess
import tempfile

import gdblib
import testlib
from testlib import Stub, guest

LLDB = os.environ.get("LLDB", "lldb")

CDEMO_OUT = b"step\ncdemo done\n"
CDEMO_STATUS = 15           # exit device value 7: (7 << 1) | 1
LONG_MODE_CR0_BITS = 0x80000001   # PG | PE
EFER_LMA = 0x400


class LldbSession:
    def __init__(self, out, lldb_status, status, stub_out, stub_err):
        self.out = out
        self.lldb_status = lldb_status
        self.status = status
        self.stub_out = stub_out
        self.stub_err = stub_err

    def describe(self):
        return ("--- lldb (status %s) ---\n%s\n--- kvmstub status %s, stdout %r, stderr %r"
                % (self.lldb_status, self.out[-6000:], self.status,
                   self.stub_out[-300:], self.stub_err[-600:]))

    def expect(self, *texts):
        """Asserts that every text appears in lldb's output, in this order."""
        pos = 0
        for text in texts:
            found = self.out.find(text, pos)
            assert found >= 0, "lldb output lacks %r (after offset %d):\n%s" % (
                text, pos, self.describe())
            pos = found + len(text)

    def refuse(self, *texts):
        for text in texts:
            assert text not in self.out, "lldb output has %r:\n%s" % (text, self.describe())

    def register(self, name, nth=0):
        """The value of register NAME in the NTH `register read` that showed it."""
        values = re.findall(r"^\s*%s = (0x[0-9a-f]+)" % re.escape(name), self.out, re.M)
        assert len(values) > nth, "no %s value #%d:\n%s" % (name, nth, self.describe())
        return int(values[nth], 16)

    def breakpoint_address(self):
        m = re.search(r"^Breakpoint 1: where = .*, address = (0x[0-9a-f]+)$", self.out, re.M)
        assert m, "lldb set no breakpoint 1:\n" + self.describe()
        return int(m.group(1), 16)


def lldb_session(image, commands, timeout=90, wait_exit=5):
    """Runs kvmstub IMAGE (stopped at its first instruction) and one batch
    lldb with COMMANDS after `gdb-remote`; returns an LldbSession."""
    assert shutil.which(LLDB), "lldb is not installed: apt-get install lldb"
    stub = Stub([guest(image)])
    script = tempfile.NamedTemporaryFile("w", suffix=".lldb", prefix="kvmstub-", delete=False)
    script.write("\n".join(["settings set auto-confirm true",
                            "gdb-remote 127.0.0.1:%d" % stub.port] + list(commands)) + "\n")
    script.close()
    try:
        proc = subprocess.Popen([LLDB, "--no-lldbinit", "--batch", "--source", script.name,
                                 guest(image)],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, cwd=testlib.ROOT,
                                preexec_fn=gdblib.no_core_dump)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            status, stub_out, stub_err = gdblib.finish_stub(stub, 1)
            raise AssertionError("lldb did not finish within %s s:\n%s" % (
                timeout, LldbSession(out.decode(errors="replace"), None, status,
                                     stub_out, stub_err).describe()))
        status, stub_out, stub_err = gdblib.finish_stub(stub, wait_exit)
    finally:
        os.unlink(script.name)
        stub.close()
    return LldbSession(out.decode(errors="replace"), proc.returncode, status, stub_out, stub_err)


def symbol(image, name):
    """The address of symbol NAME in IMAGE (nm)."""
    table = subprocess.run(["nm", guest(image)], stdout=subprocess.PIPE,
                           check=True).stdout.decode()
    m = re.search(r"^([0-9a-f]+) \w %s$" % re.escape(name), table, re.M)
    assert m, "no symbol %s in %s" % (name, image)
    return int(m.group(1), 16)


def next_instruction(image, addr):
    """The address of the instruction after the one at ADDR (objdump)."""
    dump = subprocess.run(["objdump", "-d", "--no-show-raw-insn", guest(image)],
                          stdout=subprocess.PIPE, check=True).stdout.decode()
    addrs = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\t", dump, re.M)]
    assert addr in addrs, "no instruction at %#x in %s" % (addr, image)
    return addrs[addrs.index(addr) + 1]


def test_lldb_stops_at_a_breakpoint_by_name_with_its_arguments():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name add", "continue",
                                     "frame variable"])
    r.expect("stop reason = breakpoint 1.1", "cdemo64.elf`add(a=0, b=1) at cdemo.c:19",
             "(int) a = 0", "(int) b = 1")


def test_lldb_register_read_shows_the_breakpoint_pc_and_control_registers():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name add", "continue",
                                     "register read", "register read rip cr0 efer cs"])
    bp = r.breakpoint_address()
    r.expect("general:", "rax = 0x", "rsp = 0x", "rip = 0x%016x" % bp)
    assert r.register("rip", 1) == bp, r.describe()
    assert r.register("cr0") & LONG_MODE_CR0_BITS == LONG_MODE_CR0_BITS, r.describe()
    assert r.register("efer") & EFER_LMA, r.describe()
    assert r.register("cs", 1) == 0x18, r.describe()


def test_lldb_memory_read_shows_what_the_guest_computed():
    # At step_target the loop is done: counter == 0+1 + 1+1 + ... + 4+1 == 15.
    r = lldb_session("cdemo64.elf", ["breakpoint set --name step_target", "continue",
                                     "memory read --size 4 --format d --count 1 &counter",
                                     "memory read --size 4 --format x --count 1 &watched"])
    r.expect("stop reason = breakpoint 1.1",
             "0x%08x: 15\n" % symbol("cdemo64.elf", "counter"),
             "0x%08x: 0x0000002a\n" % symbol("cdemo64.elf", "watched"))   # 42


def test_lldb_si_steps_off_a_breakpoint_to_the_next_instruction():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name add", "continue",
                                     "register read rip", "si", "register read rip",
                                     "si", "register read rip"])
    bp = r.breakpoint_address()
    after1 = next_instruction("cdemo64.elf", bp)
    after2 = next_instruction("cdemo64.elf", after1)
    assert [r.register("rip", n) for n in range(3)] == [bp, after1, after2], r.describe()
    r.expect("stop reason = breakpoint 1.1", "stop reason = instruction step into",
             "stop reason = instruction step into")


def test_lldb_continue_from_a_breakpoint_reaches_the_next_hit():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name add", "continue",
                                     "continue", "continue", "frame variable a"])
    r.expect("add(a=0, b=1)", "add(a=1, b=1)", "add(a=2, b=1)", "(int) a = 2")


def test_lldb_write_watchpoint_stops_with_the_old_and_new_value():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name kernel_main", "continue",
                                     "watchpoint set variable counter", "continue",
                                     "frame variable counter"])
    r.expect("Watchpoint created: Watchpoint 1: addr = 0x%08x size = 4"
             % symbol("cdemo64.elf", "counter"),
             "Watchpoint 1 hit:", "old value: 0", "new value: 1",
             "stop reason = watchpoint 1", "cdemo64.elf`kernel_main at cdemo.c:",
             "(int) counter = 1")


def test_lldb_continue_to_the_end_reports_status_15_and_the_guest_output():
    r = lldb_session("cdemo64.elf", ["breakpoint set --name add", "continue", "si",
                                     "breakpoint delete 1", "continue"])
    r.expect("stop reason = breakpoint 1.1", "stop reason = instruction step into",
             "Process 1 exited with status = 15 (0x0000000f)")
    assert r.status == CDEMO_STATUS, r.describe()
    assert r.stub_out == CDEMO_OUT, r.describe()


def test_lldb_debugs_a_protected_mode_guest_with_i386_registers():
    r = lldb_session("cdemo32.elf", ["breakpoint set --name add", "continue",
                                     "register read eip esp", "si", "register read eip",
                                     "breakpoint delete 1", "continue"])
    bp = r.breakpoint_address()
    r.expect("cdemo32.elf`add(a=0, b=1) at cdemo.c:19",
             "Process 1 exited with status = 15 (0x0000000f)")
    assert r.register("eip", 0) == bp, r.describe()
    assert r.register("eip", 1) == next_instruction("cdemo32.elf", bp), r.describe()
    assert r.status == CDEMO_STATUS and r.stub_out == CDEMO_OUT, r.describe()


if __name__ == "__main__":
    testlib.main(globals())
