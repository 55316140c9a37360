#!/usr/bin/env python3
"""tests/rsp/test_faults.py — hostile input and a hostile host: clients that
die mid-packet or never read their replies, stdout closed under a running
guest, /dev/kvm missing or unusable, and nonsense --mem values. kvmstub
must stay healthy or fail with a clear one-line message and the documented
status, never hang or crash."""
import os
import signal
import socket
import subprocess
import sys
import time

import rsplib
import testlib
from rsplib import Stop, Stub
from testlib import KVMSTUB, frame, guest

SCRATCH = 0x200000
EXIT_USAGE = 2
EXIT_HOST_FAILURE = 6
EXIT_SIGNALLED = 10


def kvmsample():
    st = Stub([guest("kvmsample.bin")])
    st.fds_listening = rsplib.fd_count(st.proc.pid)
    return st


def wait_client_gone(st, timeout=5):
    assert rsplib.wait_until(lambda: rsplib.fd_count(st.proc.pid) <= st.fds_listening,
                             timeout), "kvmstub still holds the dead client's connection"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CLIENT = r"""
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def frame(p): return b"$" + p + b"#%02x" % (sum(p) & 0xff)
s.sendall(frame(b"QStartNoAckMode"))
got = b""
while not got.endswith(b"#b0"):   # +$OK#9a... wait for the OK packet
    got += s.recv(100)
    if b"OK#" in got and len(got) >= got.index(b"OK#") + 5: break
data = bytes([0x5a]) * 0x10000
s.sendall(b"$X%x,%x:" % (int(sys.argv[2]), len(data)) + data[:len(data) // 2])
print("half", flush=True)
time.sleep(60)
"""


def test_a_client_killed_mid_transfer_leaves_the_stub_healthy():
    with kvmsample() as st:
        c = st.client()
        before = c.read(SCRATCH, 16)
        c.close()
        wait_client_gone(st)
        proc = subprocess.Popen([sys.executable, "-c", CLIENT, str(st.port), str(SCRATCH)],
                                stdout=subprocess.PIPE)
        try:
            line = proc.stdout.readline()
            assert line == b"half\n", "helper client: %r" % line
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        wait_client_gone(st)
        assert st.alive()
        c = st.client()
        assert c.cmd("qC") == b"QC1"
        assert c.read(SCRATCH, 16) == before, "half an X packet was applied"
        c.write_binary(SCRATCH, b"\x01\x02\x03")
        assert c.read(SCRATCH, 3) == b"\x01\x02\x03"


def stuck_client(st, requests=64):
    """A client that asks for many 64 KiB reads and never reads a reply."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", st.port))
    s.sendall(frame("QStartNoAckMode"))
    s.settimeout(5)
    got = b""
    while b"OK#9a" not in got:
        got += s.recv(1)
    s.setblocking(False)
    sent = 0
    pkt = frame("m%x,10000" % 0x1000)
    for _ in range(requests):
        try:
            sent += s.send(pkt)
        except BlockingIOError:
            break
    return s


def test_a_client_that_never_reads_does_not_wedge_the_stub():
    with kvmsample() as st:
        bad = stuck_client(st)
        time.sleep(0.5)
        cpu0 = cpu_seconds(st.proc.pid)
        time.sleep(1.0)
        cpu = cpu_seconds(st.proc.pid) - cpu0
        assert st.alive()
        assert cpu < 0.5, "kvmstub spins while the client does not read: %.2f s CPU in 1 s" % cpu
        # Unread data makes close() a reset: the stub's blocked send fails.
        bad.close()
        wait_client_gone(st)
        c = st.client()
        assert c.cmd("qC") == b"QC1"
        assert len(c.read(0x1000, 0x10000)) == 0x10000
        assert st.alive()


def test_sigterm_ends_kvmstub_while_a_client_does_not_read():
    with kvmsample() as st:
        bad = stuck_client(st)
        time.sleep(0.5)
        start = time.monotonic()
        st.proc.send_signal(signal.SIGTERM)
        status, out, err = st.finish(5)
        took = time.monotonic() - start
        bad.close()
        assert status == EXIT_SIGNALLED, (status, err)
        assert took < 3, "SIGTERM took %.1f s" % took


def test_closed_stdout_ends_the_guest_with_a_message_and_status_6():
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([KVMSTUB, "--no-gdb", guest("hello64.elf")], stdout=w,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=20)
    finally:
        os.close(w)
    lines = proc.stderr.decode().splitlines()
    assert proc.returncode == EXIT_HOST_FAILURE, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "stdout" in lines[0], proc.stderr


def run_without_kvm(setup, runner="", timeout=20):
    """Runs kvmstub (through `runner`, a command prefix) in a private mount
    namespace where `setup` (shell) has replaced /dev/kvm. Returns
    (status, stderr text, stdout bytes)."""
    script = "%s && exec %s %s --no-gdb %s" % (setup, runner, KVMSTUB, guest("hello64.elf"))
    proc = subprocess.run(["unshare", "--mount", "sh", "-c", script], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=timeout)
    return proc.returncode, proc.stderr.decode(), proc.stdout


def check_kvm_failure(setup, runner=""):
    status, err, out = run_without_kvm(setup, runner)
    lines = err.splitlines()
    assert status == EXIT_HOST_FAILURE, "status %s, want 6 (stderr %r)" % (status, err)
    assert len(lines) == 1, "want one line: %r" % err
    assert "/dev/kvm" in lines[0], "message does not name /dev/kvm: %r" % lines[0]
    assert out == b"", out


def test_missing_dev_kvm_fails_with_status_6_naming_dev_kvm():
    check_kvm_failure("mount -t tmpfs none /dev")


def test_dev_kvm_not_permitted_fails_with_status_6_naming_dev_kvm():
    # Root ignores file modes: run kvmstub as nobody on a mode-000 node.
    assert os.getuid() == 0, "this test needs root (unshare, mount, setpriv)"
    check_kvm_failure("mount -t tmpfs none /dev && mknod -m 000 /dev/kvm c 10 232",
                      "setpriv --reuid 65534 --regid 65534 --clear-groups")


def test_dev_kvm_that_is_not_kvm_fails_with_status_6_naming_dev_kvm():
    check_kvm_failure("mount --bind /dev/null /dev/kvm")


def test_bad_mem_sizes_are_usage_errors():
    for value in ("0", "100G", "abc", "-1", "12Q", ""):
        proc = subprocess.run([KVMSTUB, "--no-gdb", "--mem", value, guest("hello64.elf")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=10)
        err = proc.stderr.decode()
        assert proc.returncode == EXIT_USAGE, "--mem %r: status %s (%r)" % (
            value, proc.returncode, err)
        assert "--mem" in err.splitlines()[0], "--mem %r: %r" % (value, err)
        assert proc.stdout == b""


if __name__ == "__main__":
    testlib.main(globals())
