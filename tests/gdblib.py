"""tests/gdblib.py — what the real-gdb tests share: run stock gdb against a
fresh kvmstub and hand back what both printed.

`session(image, commands)` starts kvmstub (testlib.Stub) on a free port with
the guest stopped, runs `gdb -batch -nx` with the commands in a temporary
command file (after `set confirm off`, `set pagination off`, the symbol file
and `target remote`), and returns a GdbSession: gdb's output (stdout and
stderr in one stream, in order), gdb's status, and kvmstub's exit status and
stdout. Everything has a timeout; a hang is an assertion error that shows
what gdb had printed so far. `run_script`/`gdb_batch` run a batch gdb
against a kvmstub the test started itself (several sessions on one stub);
`InteractiveGdb` is gdb reading commands from a pipe, for Ctrl-C (SIGINT to
gdb) while `continue` runs. gdb never dumps core (into the repository).
Standard library only.
"""
import os
import re
import resource
import select
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


def symbols_for(image):
    """The ELF gdb should load for IMAGE: the image itself when it is an ELF,
    else the linked ELF the build leaves in build/guests/debug/."""
    if image.endswith(".elf"):
        return guest(image)
    debug = os.path.join(GUESTS, "debug", os.path.splitext(image)[0] + ".elf")
    return debug if os.path.exists(debug) else None


def printed_values(text):
    """Every `$N = VALUE` line gdb printed (print, p/x), VALUE as text, in
    order (an interactive gdb's `(gdb) ` prompts before them are skipped)."""
    return [m.group(1) for m in re.finditer(r"^(?:\(gdb\) )*\$\d+ = (.*)$", text, re.M)]


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

    def values(self):
        return printed_values(self.out)

    def describe(self):
        # gdb's internal-error backtrace is noise here: keep the message.
        shown = "\n".join(l for l in self.out.splitlines()
                           if not re.match(r"^(0x[0-9a-f]+ \?\?\?|0x[0-9a-f]+ \w+$|\t\.\./)", l))
        return ("--- gdb (status %s%s) ---\n%s\n--- kvmstub status %s, stdout %r, stderr %r"
                % (self.gdb_status, ", timed out" if self.timed_out else "",
                   shown[-6000:], self.status, self.stub_out[-300:],
                   self.stub_err[-600:]))


def tolerant(command):
    """Lines that run COMMAND and go on when it fails (a batch script stops at
    the first error): gdb's error is printed as `gdb error: MESSAGE`."""
    return ["python",
            "try:",
            "    gdb.execute(%r)" % command,
            "except gdb.error as e:",
            "    print('gdb error: %s' % e)",
            "end"]


def command_file(lines):
    f = tempfile.NamedTemporaryFile("w", suffix=".gdb", prefix="kvmstub-", delete=False)
    f.write("\n".join(lines) + "\n")
    f.close()
    return f.name


def no_core_dump():
    """preexec_fn for gdb: a gdb internal error aborts; its core must not land
    in the repository (gdb runs with cwd at the repository root)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def gdb_argv(script):
    return [GDB, "-batch", "-nx", "-q", "-x", script]


def preamble(stub, symbols):
    lines = list(PREAMBLE)
    if symbols:
        lines.append("file " + symbols)
    lines.append(stub.gdb_target())
    return lines


def finish_stub(stub, wait_exit, terminated=None):
    """kvmstub's (status, stdout, stderr) once gdb is gone. With wait_exit it
    gets that long to end by itself; then it gets SIGTERM, and status is None
    (or, when TERMINATED is a list, its status after SIGTERM is appended)."""
    status = None
    try:
        status = stub.proc.wait(timeout=wait_exit)
    except subprocess.TimeoutExpired:
        stub.proc.send_signal(signal.SIGTERM)
        try:
            after = stub.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            stub.proc.kill()
            after = stub.proc.wait()
        if terminated is not None:
            terminated.append(after)
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


def gdb_batch(lines, timeout=60):
    """Runs one `gdb -batch -nx` with LINES as its command file; returns
    (output text, gdb status, timed out). A gdb that hangs is killed."""
    script = command_file(lines)
    timed_out = False
    try:
        proc = subprocess.Popen(gdb_argv(script), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd=testlib.ROOT, preexec_fn=no_core_dump)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            out, _ = proc.communicate()
    finally:
        os.unlink(script)
    return out.decode(errors="replace"), proc.returncode, timed_out


def run_script(stub, lines, timeout=60, wait_exit=5):
    """Runs LINES (already holding the `target remote`) in a batch gdb against
    STUB, then waits for STUB to end; returns a GdbSession."""
    try:
        out, gdb_status, timed_out = gdb_batch(lines, timeout)
        status, stub_out, stub_err = finish_stub(stub, 1 if timed_out else wait_exit)
    finally:
        stub.close()
    result = GdbSession(out, gdb_status, status, stub_out, stub_err, timed_out)
    assert not timed_out, "gdb did not finish within %s s:\n%s" % (timeout, result.describe())
    return result


class InteractiveGdb:
    """gdb reading commands from a pipe (not -batch), for what a batch script
    cannot do: send it SIGINT while `continue` runs, as a user's Ctrl-C."""

    def __init__(self, stub, symbols=None):
        self.stub = stub
        self.out = ""
        self.proc = subprocess.Popen([GDB, "-nx", "-q"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=testlib.ROOT, preexec_fn=no_core_dump)
        for line in preamble(stub, symbols):
            self.send(line)

    def send(self, line):
        self.proc.stdin.write((line + "\n").encode())
        self.proc.stdin.flush()

    def interrupt(self):
        self.proc.send_signal(signal.SIGINT)

    def wait_for(self, text, timeout=20):
        """Reads gdb's output until TEXT has appeared; returns all output so far."""
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while text not in self.out:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("gdb did not print %r within %s s:\n%s"
                                     % (text, timeout, self.out[-4000:]))
            ready, _, _ = select.select([fd], [], [], min(left, 0.1))
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError("gdb ended before printing %r:\n%s"
                                         % (text, self.out[-4000:]))
                self.out += chunk.decode(errors="replace")
        return self.out

    def finish(self, timeout=30):
        """Closes gdb's stdin (gdb quits at the end of its input) and returns
        everything it printed."""
        try:
            rest, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rest, _ = self.proc.communicate()
            self.out += rest.decode(errors="replace")
            raise AssertionError("interactive gdb did not end within %s s:\n%s"
                                 % (timeout, self.out[-4000:]))
        self.out += rest.decode(errors="replace")
        return self.out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


read_map = testlib.read_map
