"""tests/rsplib.py — what the raw-protocol tests (tests/rsp/) share on top of
testlib: a kvmstub whose stdout/stderr are drained in the background, an
RSP client that knows the register layout from the stub's own target
description, stop-reply parsing, guest symbol lookup and RSS readings.

Standard library only. Nothing here skips a test: a missing tool or guest
raises AssertionError like any other failure.
"""
import os
import re
import select
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import testlib
from testlib import Client, frame, guest

GDB_SIGTRAP = 5
GDB_SIGINT = 2


# --- kvmstub in the background -------------------------------------------------

class Stub(testlib.Stub):
    """testlib.Stub whose stdout and stderr are read by threads once it
    listens, so a chatty guest or stub never blocks on a full pipe.
    `out` and `err` hold everything read so far."""

    def __init__(self, args, **kw):
        self.out = bytearray()
        self.err = bytearray()
        self._threads = []
        super().__init__(args, **kw)
        self._drain(self.proc.stdout, self.out)
        self._drain(self.proc.stderr, self.err)

    def _drain(self, f, into):
        if f is None:
            return

        def pump():
            fd = f.fileno()
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except (OSError, ValueError):
                    return
                if not chunk:
                    return
                into.extend(chunk)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        self._threads.append(t)

    def finish(self, timeout=20):
        """Waits for kvmstub to exit; returns (status, stdout, stderr)."""
        status = self.wait(timeout)
        for t in self._threads:
            t.join(5)
        return status, bytes(self.out), bytes(self.err)

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def client(self, noack=True):
        c = RspClient(self.raw_connect())
        if noack:
            c.start_noack()
        return c

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for t in self._threads:
            t.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                try:
                    f.close()
                except OSError:
                    pass


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


# --- the target description ----------------------------------------------------

class Layout:
    """Registers as the stub's target.xml describes them: name → (regnum,
    bitsize, byte offset in the g image)."""

    def __init__(self, xml_text):
        self.xml = xml_text
        root = ET.fromstring(xml_text)
        arch = root.find("architecture")
        self.architecture = arch.text.strip() if arch is not None else None
        regs = []
        nextnum = 0
        for reg in root.iter("reg"):
            num = int(reg.get("regnum", nextnum))
            regs.append((num, reg.get("name"), int(reg.get("bitsize"))))
            nextnum = num + 1
        regs.sort()
        self.regs = {}
        self.order = []
        offset = 0
        for num, name, bits in regs:
            assert bits % 8 == 0, "%s has bitsize %d" % (name, bits)
            self.regs[name] = (num, bits, offset)
            self.order.append(name)
            offset += bits // 8
        self.g_bytes = offset
        names = set(self.regs)
        self.pc = "eip" if "eip" in names else "rip"

    def num(self, name):
        return self.regs[name][0]

    def size(self, name):
        return self.regs[name][1] // 8

    def value(self, g_image, name):
        num, bits, off = self.regs[name]
        return int.from_bytes(g_image[off:off + bits // 8], "little")


# --- stop replies ----------------------------------------------------------------

class Stop:
    """A parsed stop reply: kind 'T', 'S', 'W' or 'X', the signal or exit
    status in `code`, the reason ('swbreak', 'hwbreak', 'watch', ...) with
    its value, and expedited registers {regnum: little-endian int}."""

    def __init__(self, payload):
        self.raw = payload
        text = payload.decode("latin-1")
        assert text and text[0] in "TSWX", "not a stop reply: %r" % payload
        self.kind = text[0]
        self.code = int(text[1:3], 16)
        self.reason = None
        self.reason_value = None
        self.regs = {}
        self.fields = {}
        if self.kind == "T":
            for item in text[3:].split(";"):
                if not item:
                    continue
                key, _, val = item.partition(":")
                self.fields[key] = val
                if re.fullmatch(r"[0-9a-fA-F]+", key):
                    self.regs[int(key, 16)] = int.from_bytes(bytes.fromhex(val), "little")
                elif key in ("swbreak", "hwbreak", "watch", "rwatch", "awatch"):
                    self.reason = key
                    self.reason_value = int(val, 16) if val else None

    def __repr__(self):
        return "Stop(%r)" % self.raw


# --- the client ----------------------------------------------------------------------

class RspClient(Client):
    """testlib.Client plus the commands the tests use, each checking that
    the reply has the expected shape."""

    layout = None

    def _fill(self):
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise EOFError("connection closed by kvmstub")
        self.buf += chunk

    def recv(self):
        """testlib.Client.recv without a Python step per byte (64 KiB
        replies are common here): the next packet's payload, decoded."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                self.buf = self.buf[start:]
                break
            self.buf = b""
            self._fill()
        while True:
            end = self.buf.find(b"#", 1)
            if end >= 0 and len(self.buf) >= end + 3:
                break
            self._fill()
        raw, csum = self.buf[1:end], self.buf[end + 1:end + 3]
        self.buf = self.buf[end + 3:]
        assert int(csum, 16) == testlib.checksum(raw), "bad checksum from stub"
        if not self.noack:
            self.send_raw(b"+")
        return testlib.decode_payload(raw) if (b"}" in raw or b"*" in raw) else raw

    def recv_timeout(self, timeout):
        """recv() with a deadline; None if nothing whole came in time."""
        old = self.sock.gettimeout()
        self.sock.settimeout(timeout)
        try:
            return self.recv()
        except socket.timeout:
            return None
        finally:
            self.sock.settimeout(old)

    def fetch_xml(self, chunk=0x400):
        data = b""
        while True:
            reply = self.cmd("qXfer:features:read:target.xml:%x,%x" % (len(data), chunk))
            assert reply[:1] in (b"m", b"l"), "qXfer reply %r" % reply[:40]
            assert len(reply) - 1 <= chunk, "qXfer gave %d bytes for %d" % (len(reply) - 1, chunk)
            data += reply[1:]
            if reply[:1] == b"l":
                return data.decode()
            assert len(reply) > 1, "qXfer 'm' with no data"

    def load_layout(self):
        self.layout = Layout(self.fetch_xml())
        return self.layout

    def g(self):
        reply = self.cmd("g")
        assert not reply.startswith(b"E"), "g: %r" % reply
        return bytes.fromhex(reply.decode())

    def reg(self, name):
        lay = self.layout
        reply = self.cmd("p%x" % lay.num(name))
        assert re.fullmatch(rb"[0-9a-f]+", reply), "p %s: %r" % (name, reply)
        data = bytes.fromhex(reply.decode())
        assert len(data) == lay.size(name), "p %s: %d bytes, want %d" % (
            name, len(data), lay.size(name))
        return int.from_bytes(data, "little")

    def set_reg(self, name, value):
        lay = self.layout
        size = lay.size(name)
        value &= (1 << (8 * size)) - 1
        reply = self.cmd("P%x=%s" % (lay.num(name), value.to_bytes(size, "little").hex()))
        assert reply == b"OK", "P %s=%#x: %r" % (name, value, reply)

    def pc(self):
        return self.reg(self.layout.pc)

    def read(self, addr, length):
        reply = self.cmd("m%x,%x" % (addr, length))
        assert re.fullmatch(rb"([0-9a-f][0-9a-f])*", reply) and reply, \
            "m%x,%x: %r" % (addr, length, reply[:60])
        return bytes.fromhex(reply.decode())

    def write(self, addr, data):
        reply = self.cmd("M%x,%x:%s" % (addr, len(data), data.hex()))
        assert reply == b"OK", "M%x: %r" % (addr, reply)

    def write_binary(self, addr, data):
        reply = self.cmd(b"X%x,%x:" % (addr, len(data)) + escape_binary(data))
        assert reply == b"OK", "X%x: %r" % (addr, reply)

    def insert(self, kind, addr, length=1):
        return self.cmd("Z%d,%x,%x" % (kind, addr, length))

    def remove(self, kind, addr, length=1):
        return self.cmd("z%d,%x,%x" % (kind, addr, length))

    def resume(self, packet, timeout=20):
        """Sends a resume packet and returns its Stop."""
        self.send(packet)
        reply = self.recv_timeout(timeout)
        assert reply is not None, "%s: no stop reply within %s s" % (packet, timeout)
        return Stop(reply)

    def step(self, timeout=20):
        return self.resume("vCont;s", timeout)

    def cont(self, timeout=20):
        return self.resume("vCont;c", timeout)


def escape_binary(data):
    out = bytearray()
    for b in data:
        if b in (0x23, 0x24, 0x7d, 0x2a):
            out += bytes([0x7d, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


def rle_encode(payload):
    """RSP run-length encoding of payload (bytes): X*N for repeats, avoiding
    the counts that would produce '#', '$', '+' or '-'."""
    out = bytearray()
    i = 0
    while i < len(payload):
        c = payload[i]
        run = 1
        while i + run < len(payload) and payload[i + run] == c and run < 98:
            run += 1
        extra = run - 1
        while extra + 29 in (ord("#"), ord("$"), ord("+"), ord("-")) or 0 < extra < 3:
            extra -= 1
        out.append(c)
        if extra >= 3:
            out += b"*" + bytes([extra + 29])
        else:
            extra = 0
        i += 1 + extra
    return bytes(out)


# --- guests ------------------------------------------------------------------------------

read_map = testlib.read_map


def nm(elf):
    out = subprocess.run(["nm", guest(elf)], stdout=subprocess.PIPE, check=True).stdout
    symbols = {}
    for line in out.decode().splitlines():
        parts = line.split()
        if len(parts) == 3:
            symbols[parts[2]] = int(parts[0], 16)
    return symbols


def image_bytes(name):
    with open(guest(name), "rb") as f:
        return f.read()


def wait_until(predicate, timeout, interval=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def listen_backlog(port):
    """Connections waiting in the accept queue of the TCP listener on
    127.0.0.1:port (from /proc/net/tcp), or None if there is none."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                lines = f.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, queues = fields[1], fields[3], fields[4]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                return int(queues.split(":")[1], 16)
    return None


def stub_idle(st, base_fds):
    """True when kvmstub holds no gdb connection and none waits to be
    accepted."""
    return fd_count(st.proc.pid) <= base_fds and listen_backlog(st.port) == 0
