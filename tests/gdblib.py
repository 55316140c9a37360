"""tests/gdblib.py — what the real-gdb tests share: run stock gdb against a
fresh kvmstub and hand back what both printed.

`session(image, commands)` starts kvmstub (testlib.Stub) on a free port with
the guest stopped, runs `gdb -batch -nx` with the commands in a temporary
command file (after `set confirm off`, `set pagination off`, the symbol file
and `target remote`), and returns a GdbSession: gdb's output (stdout and
stderr in one stream, in order), gdb's status, and kvmstub's exit status and
stdout. Everything has a timeout; a hang is an assertion error that shows
what gdb had printed so far. Standard library only.
"""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import testlib
from testlib import GUESTS, Stub, guest

GDB = os.environ.get("GDB", "gdb")

# The lines every session starts with: no questions, no pager, no wrapping.
PREAMBLE = ["set confirm off", "set pagination off", "set width 0",
            "set height 0", "set print pretty off"]


def gdb_available():
    return shutil.which(GDB) is not None


def symbols_for(image):
    """The ELF gdb should load for IMAGE: the image itself when it is an ELF,
    else the linked ELF the build leaves in build/guests/debug/."""
    if image.endswith(".elf"):
        return guest(image)
    debug = os.path.join(GUESTS, "debug", os.path.splitext(image)[0] + ".elf")
    return debug if os.path.exists(debug) else None


class GdbSession:
    """What one gdb session left behind."""

    def __init__(self, out, gdb_status, status, stub_out, stub_err, timed_out):
        self.out = out                # gdb stdout + stderr, as text
        self.gdb_status = gdb_status
        self.status = status          # kvmstub's exit status, None if it kept running
        self.stub_out = stub_out      # guest output (bytes)
        self.stub_err = stub_err
        self.timed_out = timed_out

    def expect(self, *texts):
        """Asserts that every text appears in gdb's output, in this order."""
        pos = 0
        for text in texts:
            found = self.out.find(text, pos)
            assert found >= 0, "gdb output lacks %r (after offset %d):\n%s" % (
                text, pos, self.describe())
            pos = found + len(text)
        return self

    def refuse(self, *texts):
        for text in texts:
            assert text not in self.out, "gdb output has %r:\n%s" % (text, self.describe())
        return self

    def value(self, expr_output_prefix):
        """The rest of the first output line starting with the prefix."""
        for line in self.out.splitlines():
            if line.startswith(expr_output_prefix):
                return line[len(expr_output_prefix):].strip()
        raise AssertionError("no line starts with %r:\n%s" % (expr_output_prefix, self.describe()))

    def describe(self):
        return ("--- gdb (status %s%s) ---\n%s\n--- kvmstub status %s, stdout %r, stderr %r"
                % (self.gdb_status, ", timed out" if self.timed_out else "",
                   self.out[-6000:], self.status, self.stub_out[-300:],
                   self.stub_err[-600:]))


def command_file(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".gdb", prefix="kvmstub-", delete=False)
    f.write("\n".join(lines) + "\n")
    f.close()
    return f.name


def gdb_argv(script):
    return [GDB, "-batch", "-nx", "-q", "-x", script]


def preamble(stub, symbols):
    lines = list(PREAMBLE)
    if symbols:
        lines.append("file " + symbols)
    lines.append(stub.gdb_target())
    return lines


def finish_stub(stub, wait_exit):
    """kvmstub's (status, stdout, stderr) once gdb is gone. With wait_exit it
    gets that long to end by itself, then it is killed (status None)."""
    status = None
    try:
        status = stub.proc.wait(timeout=wait_exit)
    except subprocess.TimeoutExpired:
        stub.proc.send_signal(signal.SIGTERM)
        try:
            stub.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            stub.proc.kill()
            stub.proc.wait()
    out = stub.proc.stdout.read() if stub.proc.stdout else b""
    err = stub.proc.stderr.read() if stub.proc.stderr else b""
    stub.close()
    return status, out, err


def session(image, commands, stub_args=(), symbols="auto", timeout=60,
            wait_exit=5, connect=True):
    """Runs kvmstub IMAGE (stopped at its first instruction) and one batch gdb
    session with COMMANDS. wait_exit: how long kvmstub may take to end after
    gdb has gone (a guest that exits, or gdb's kill at the end of a batch)."""
    if symbols == "auto":
        symbols = symbols_for(image)
    stub = Stub(list(stub_args) + [guest(image)])
    lines = (preamble(stub, symbols) if connect else list(PREAMBLE)) + list(commands)
    return run_script(stub, lines, timeout, wait_exit)


def run_script(stub, lines, timeout=60, wait_exit=5):
    script = command_file(lines)
    timed_out = False
    try:
        proc = subprocess.Popen(gdb_argv(script), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=testlib.ROOT)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, _ = proc.communicate()
        status, stub_out, stub_err = finish_stub(stub, 1 if timed_out else wait_exit)
    finally:
        os.unlink(script)
        stub.close()
    result = GdbSession(out.decode(errors="replace"), proc.returncode, status,
                        stub_out, stub_err, timed_out)
    assert not timed_out, "gdb did not finish within %s s:\n%s" % (timeout, result.describe())
    return result


class InteractiveGdb:
    """gdb reading commands from a pipe (not -batch), for what a batch script
    cannot do: send it SIGINT while `continue` runs, as a user's Ctrl-C."""

    def __init__(self, stub, symbols=None):
        self.stub = stub
        argv = [GDB, "-nx", "-q"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=testlib.ROOT)
        for line in preamble(stub, symbols):
            self.send(line)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout=30):
        """Closes gdb's stdin (gdb quits at end of input) and returns its output."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
            raise AssertionError("interactive gdb did not end within %s s:\n%s"
                                 % (timeout, out.decode(errors="replace")[-4000:]))
        return out.decode(errors="replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def read_map(name):
    """build/guests/NAME.map: {symbol: linear address}."""
    symbols = {}
    with open(guest(name)) as f:
        for line in f:
            addr, sym = line.split()
            symbols[sym] = int(addr, 16)
    return symbols
