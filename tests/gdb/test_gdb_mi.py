#!/usr/bin/env python3
"""tests/gdb/test_gdb_mi.py — gdb/MI (`gdb --interpreter=mi3`) driven as an
IDE drives it: the VS Code launch configuration in README.md is read from
the README itself and turned into the MI commands VS Code's cppdbg sends
for it (setupCommands, -file-exec-and-symbols, -break-insert main,
-target-select remote ADDRESS), then the commands behind the IDE's
breakpoints, continue, step over, registers and memory views, pause, and
the guest's end. Asserts on the MI records gdb answers with."""
import json
import os
import re
import select
import shlex
import signal
import subprocess
import time

import gdblib
import testlib
from testlib import Stub, guest

CDEMO_OUT = b"step\ncdemo done\n"
CDEMO_STATUS = 15


def readme_launch_configuration():
    """The cppdbg configuration of README.md's VS Code section (the one
    ```json block there), with ${workspaceFolder} made the repository."""
    with open(os.path.join(testlib.ROOT, "README.md")) as f:
        readme = f.read()
    section = readme.split("\n### VS Code\n")[1].split("\n#")[0]
    blocks = re.findall(r"```json\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "README's VS Code section has %d json blocks" % len(blocks)
    # ${workspaceFolder}/build/ is the build under test (build/san for SAN=1).
    build = os.path.dirname(os.path.abspath(testlib.KVMSTUB))
    launch = json.loads(blocks[0].replace("${workspaceFolder}/build/", build + "/")
                        .replace("${workspaceFolder}", testlib.ROOT))
    configs = [c for c in launch["configurations"] if c["type"] == "cppdbg"]
    assert len(configs) == 1, launch
    return configs[0]


class MiGdb:
    """gdb --interpreter=mi3 on pipes; commands carry a token and wait for
    their result record."""

    def __init__(self, gdb_args=()):
        self.proc = subprocess.Popen([gdblib.GDB, "--interpreter=mi3", "-nx", "-q"] +
                                     list(gdb_args),
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, cwd=testlib.ROOT,
                                     preexec_fn=gdblib.no_core_dump)
        self.token = 0
        self.lines = []          # every line gdb printed
        self.pending = b""
        self.taken = set()       # indexes of lines a wait returned

    def _read_line(self, deadline):
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("gdb/MI said nothing more in time:\n" + self.transcript())
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("gdb/MI ended:\n" + self.transcript())
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        line = line.decode(errors="replace").rstrip("\r")
        self.lines.append(line)
        return line

    def _wait(self, match, timeout):
        """The first line that MATCH accepts and no wait took yet (records
        arrive in any order: *stopped may come before ^connected)."""
        deadline = time.monotonic() + timeout
        while True:
            for i in range(len(self.lines)):
                if i not in self.taken and match(self.lines[i]):
                    self.taken.add(i)
                    return self.lines[i]
            self._read_line(deadline)

    def send(self, command):
        self.token += 1
        self.proc.stdin.write(("%d%s\n" % (self.token, command)).encode())
        self.proc.stdin.flush()
        return self.token

    def cmd(self, command, timeout=30, want=("done",)):
        """Sends COMMAND; returns its result record (after `^`), which must
        be one of WANT (done, running, connected, error, exit)."""
        token = self.send(command)
        line = self._wait(lambda l: l.startswith("%d^" % token), timeout)
        result = line[len("%d^" % token):]
        assert result.split(",")[0] in want, "%s answered %s:\n%s" % (
            command, result, self.transcript())
        return result

    def stopped(self, timeout=30):
        """The next *stopped record."""
        return self._wait(lambda l: l.startswith("*stopped"), timeout)

    def transcript(self):
        return "\n".join(self.lines[-80:])

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("-gdb-exit")
                self.proc.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


class VsCodeSession:
    """kvmstub and gdb/MI started as VS Code starts them for README's launch
    configuration: debugServerPath with debugServerArgs (plus --gdb on a
    free port, so tests can run side by side), then cppdbg's launch
    commands. Leaves the guest stopped at its first instruction, connected."""

    def __init__(self):
        config = readme_launch_configuration()
        self.config = config
        port = testlib.free_port()
        server_args = shlex.split(config["debugServerArgs"])
        assert os.path.realpath(config["debugServerPath"]) == \
            os.path.realpath(testlib.KVMSTUB), config
        image = server_args[-1]
        assert os.path.exists(image), "the configuration's image %s was not built" % image
        self.stub = Stub(server_args, port=port)
        assert re.search(config["serverStarted"], self.stub.banner.decode()), \
            (config["serverStarted"], self.stub.banner)
        address = config["miDebuggerServerAddress"]
        assert re.fullmatch(r"localhost:\d+", address), address
        self.address = "localhost:%d" % port
        self.mi = MiGdb()
        try:
            self.launch()
        except Exception:
            self.close()
            raise

    def launch(self):
        """What cppdbg sends for a launch with miDebuggerServerAddress."""
        mi = self.mi
        for setup in self.config.get("setupCommands", []):
            mi.cmd(setup["text"], want=("done", "error") if setup.get("ignoreFailures")
                   else ("done",))
        mi.cmd('-interpreter-exec console "set pagination off"')
        mi.cmd("-file-exec-and-symbols " + self.config["program"])
        mi.cmd('-interpreter-exec console "show architecture"')
        mi.cmd("-break-insert main", want=("done", "error"))   # ignoreFailures
        mi.cmd("-target-select remote " + self.address, want=("connected",))
        first = mi.stopped()
        assert 'func="_start"' in first, first

    def close(self):
        self.mi.close()
        status, out, err = gdblib.finish_stub(self.stub, 5)
        self.status, self.stub_out, self.stub_err = status, out, err


def field(record, name):
    m = re.search(r'\b%s="([^"]*)"' % re.escape(name), record)
    assert m, "no %s in %s" % (name, record)
    return m.group(1)


def test_readme_vscode_configuration_is_cppdbg_against_kvmstub():
    c = readme_launch_configuration()
    assert c["request"] == "launch" and c["MIMode"] == "gdb", c
    assert c["program"].endswith(".elf") and os.path.exists(c["program"]), c
    assert c["miDebuggerServerAddress"] == "localhost:1234", c
    assert os.path.realpath(c["debugServerPath"]) == os.path.realpath(testlib.KVMSTUB), c
    assert shlex.split(c["debugServerArgs"])[-1] == c["program"], c


def test_mi_breakpoint_continue_registers_memory_and_next_as_an_ide_sends_them():
    s = VsCodeSession()
    try:
        mi = s.mi
        bkpt = mi.cmd("-break-insert -f guests/cdemo.c:19")
        assert 'func="add"' in bkpt and 'line="19"' in bkpt, bkpt
        mi.cmd("-exec-continue", want=("running",))
        stop = mi.stopped()
        assert 'reason="breakpoint-hit"' in stop and 'bkptno="1"' in stop, stop
        assert 'args=[{name="a",value="0"},{name="b",value="1"}]' in stop, stop
        pc = int(field(stop, "addr"), 16)

        frames = mi.cmd("-stack-list-frames")
        assert re.search(r'level="0",addr="[^"]+",func="add"', frames), frames
        assert re.search(r'level="1",addr="[^"]+",func="kernel_main"', frames), frames

        names = mi.cmd("-data-list-register-names")
        names = re.findall(r'"([^"]*)"', names.split("register-names=", 1)[1])
        rip, cr0 = names.index("rip"), names.index("cr0")
        values = mi.cmd("-data-list-register-values x %d %d" % (rip, cr0))
        regs = dict(re.findall(r'\{number="(\d+)",value="(0x[0-9a-f]+)"\}', values))
        assert int(regs[str(rip)], 16) == pc, values
        assert int(regs[str(cr0)], 16) & 0x80000001 == 0x80000001, values

        mem = mi.cmd("-data-read-memory-bytes &watched 4")
        assert 'contents="2a000000"' in mem, mem          # watched == 42

        mi.cmd("-exec-next", want=("running",))
        stop = mi.stopped()
        assert 'reason="end-stepping-range"' in stop and 'line="20"' in stop, stop
        mi.cmd("-exec-continue", want=("running",))
        stop = mi.stopped()
        assert 'args=[{name="a",value="1"},{name="b",value="1"}]' in stop, stop
    finally:
        s.close()


def test_mi_continue_to_the_end_reports_exit_code_017():
    s = VsCodeSession()
    try:
        s.mi.cmd("-exec-continue", want=("running",))
        stop = s.mi.stopped()
        assert 'reason="exited"' in stop and 'exit-code="017"' in stop, stop   # octal, as gdb says it
    finally:
        s.close()
    assert s.status == CDEMO_STATUS and s.stub_out == CDEMO_OUT, (s.status, s.stub_out)


def test_mi_pause_stops_a_running_guest_with_sigint():
    # An IDE's pause button: -exec-interrupt while the guest runs (the
    # configuration's setupCommands turn mi-async on for it).
    s = VsCodeSession()
    try:
        mi = s.mi
        mi.cmd("-break-insert -f step_target")
        mi.cmd("-exec-continue", want=("running",))
        mi.stopped()
        # Spin the guest in place: jump to its own instruction (jmp .).
        mi.cmd('-data-write-memory-bytes $pc "ebfe"')
        mi.cmd("-break-delete 1")
        mi.cmd("-exec-continue", want=("running",))
        time.sleep(0.3)
        mi.cmd("-exec-interrupt")
        stop = mi.stopped()
        assert 'reason="signal-received"' in stop and 'signal-name="SIGINT"' in stop, stop
        assert 'func="step_target"' in stop, stop
    finally:
        s.close()


if __name__ == "__main__":
    testlib.main(globals())
