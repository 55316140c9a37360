"""tests/testlib.py — what the python tests share: finding the binary and
guests, running kvmstub, a raw RSP client, and the ok/not ok reporting.

Standard library only. A test script defines `def test_NAME():` functions
that raise (assert) on failure and ends with `testlib.main(globals())`.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KVMSTUB = os.environ.get("KVMSTUB", os.path.join(ROOT, "build", "kvmstub"))
GUESTS = os.environ.get("KVMSTUB_GUESTS", os.path.join(ROOT, "build", "guests"))


def guest(name):
    path = os.path.join(GUESTS, name)
    if not os.path.exists(path):
        raise AssertionError("guest image %s was not built" % path)
    return path


def read_map(name):
    """build/guests/NAME.map (from the guests' build): {symbol: linear address}."""
    symbols = {}
    with open(guest(name)) as f:
        for line in f:
            addr, sym = line.split()
            symbols[sym] = int(addr, 16)
    return symbols


def wait_signal_handlers(pid, timeout=30):
    """Waits until process PID handles SIGINT and SIGTERM itself, so a
    test's signal reaches kvmstub's handling and not the default action
    during start-up (slow under sanitizers on a busy host)."""
    want = (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("SigCgt:") and int(line.split()[1], 16) & want == want:
                        return
        except FileNotFoundError:
            raise AssertionError("process %d ended before handling signals" % pid)
        time.sleep(0.005)
    raise AssertionError("process %d did not install its signal handlers in %s s" % (pid, timeout))


def run(args, timeout=30, stdin=subprocess.DEVNULL, input_bytes=None):
    """Runs kvmstub to its end; returns (status, stdout bytes, stderr bytes)."""
    if input_bytes is not None:
        stdin = subprocess.PIPE
    proc = subprocess.Popen([KVMSTUB] + list(args), stdin=stdin,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(input=input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("kvmstub %s did not finish in %s s; stderr: %r"
                             % (" ".join(args), timeout, err[-500:]))
    return proc.returncode, out, err


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Stub:
    """kvmstub running in the background with a gdb listener."""

    def __init__(self, args, port=None, unix=None, wait_ready=True, stdout=subprocess.PIPE,
                 stdin=subprocess.DEVNULL):
        self.port = port or (None if unix else free_port())
        self.unix = unix
        addr = ("unix:" + unix) if unix else str(self.port)
        self.proc = subprocess.Popen([KVMSTUB, "--gdb", addr] + list(args),
                                     stdin=stdin, stdout=stdout,
                                     stderr=subprocess.PIPE)
        if wait_ready:
            self.wait_listening()

    def wait_listening(self, timeout=10):
        """Reads kvmstub's stderr up to its 'listening' line (connecting to
        find out would count as a gdb that came and went)."""
        import select
        deadline = time.monotonic() + timeout
        seen = b""
        fd = self.proc.stderr.fileno()
        while time.monotonic() < deadline:
            r, _, _ = select.select([fd], [], [], 0.1)
            if r:
                chunk = os.read(fd, 1)
                if not chunk:
                    raise AssertionError("kvmstub exited with %s before listening: %r"
                                         % (self.proc.wait(), seen))
                seen += chunk
                if b"listening" in seen and seen.endswith(b"\n"):
                    self.banner = seen
                    return
        raise AssertionError("kvmstub did not listen within %s s: %r" % (timeout, seen))

    def raw_connect(self):
        if self.unix:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(self.unix)
        else:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            # As gdb does: no Nagle delay between an ack and the next packet.
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(10)
        return s

    def client(self, noack=True):
        c = Client(self.raw_connect())
        if noack:
            c.start_noack()
        return c

    def gdb_target(self):
        return ("target remote unix:" + self.unix) if self.unix else \
            ("target remote 127.0.0.1:%d" % self.port)

    def wait(self, timeout=20):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("kvmstub did not exit within %s s" % timeout)

    def output(self):
        out = self.proc.stdout.read() if self.proc.stdout else b""
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def checksum(payload):
    return sum(payload) & 0xff


def frame(payload):
    if isinstance(payload, str):
        payload = payload.encode("latin-1")
    return b"$" + payload + b"#%02x" % checksum(payload)


class Client:
    """A raw GDB remote protocol client over one socket."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.noack = False

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, payload):
        self.send_raw(frame(payload))
        if not self.noack:
            ack = self._read_byte()
            assert ack == b"+", "expected ack, got %r" % ack

    def _read_byte(self):
        while not self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed by kvmstub")
            self.buf += chunk
        b, self.buf = self.buf[:1], self.buf[1:]
        return b

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise EOFError("connection closed by kvmstub")
        self.buf += chunk

    def recv(self):
        """Returns the next packet's payload (bytes), unescaped, RLE expanded."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    break
            self._fill()
        raw = self.buf[start + 1:end]
        csum = self.buf[end + 1:end + 3]
        self.buf = self.buf[end + 3:]
        assert int(csum, 16) == checksum(raw), "bad checksum from stub"
        if not self.noack:
            self.send_raw(b"+")
        return decode_payload(raw)

    def cmd(self, payload):
        self.send(payload)
        return self.recv()

    def start_noack(self):
        reply = self.cmd("QStartNoAckMode")
        assert reply == b"OK", reply
        self.noack = True

    def interrupt(self):
        self.send_raw(b"\x03")

    def monitor(self, command):
        """Runs a monitor command (qRcmd); returns (text of the O packets,
        final reply)."""
        self.send("qRcmd," + command.encode().hex())
        out = b""
        while True:
            r = self.recv()
            if r.startswith(b"O") and r != b"OK":
                out += bytes.fromhex(r[1:].decode())
                continue
            return out.decode(), r

    def close(self):
        self.sock.close()


def decode_payload(raw):
    if b"}" not in raw and b"*" not in raw:
        return bytes(raw)
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x7d:
            out.append(raw[i + 1] ^ 0x20)
            i += 2
        elif c == 0x2a:
            out += bytes([out[-1]]) * (raw[i + 1] - 29)
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def main(namespace):
    """Runs every test_* function in the module, in file order."""
    only = sys.argv[1] if len(sys.argv) > 1 else ""
    tests = [(n, f) for n, f in namespace.items()
             if n.startswith("test_") and callable(f) and only in n]
    failed = 0
    for name, fn in tests:
        start = time.monotonic()
        try:
            fn()
            print("ok %s (%.2f s)" % (name[5:], time.monotonic() - start), flush=True)
        except Exception:
            failed += 1
            print("not ok %s" % name[5:], flush=True)
            for line in traceback.format_exc().splitlines():
                print("  " + line, flush=True)
    print("%d passed, %d failed" % (len(tests) - failed, failed), flush=True)
    sys.exit(1 if failed else 0)
