#!/usr/bin/env python3
"""bench/bench.py — kvmstub against QEMU+KVM's gdbstub, side by side.

Runs the benchmark guest (build/bench/benchguest.elf, a Multiboot v1 ELF32)
under kvmstub and under QEMU in the same run, alternating the two for every
repeat, drives both with the raw-protocol client below (or with real gdb for
the gdb-level figures) and prints one table: measure, kvmstub median
[min-max], QEMU median [min-max], the ratio, the target, and the floor that
bench/floor measured on this host. Every figure checks the guest's progress
(register values after N steps, the loop counter after N hits, the serial
bytes received) so none can be fast by being wrong.

Standard library only. `make bench` runs it; `--quick` for a short try,
`--only WORD` for one family of measures. Not part of `make test`.
"""
import argparse
import binascii
import os
import re
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

import reverse  # bench/reverse.py: the reverse-execution rows (kvmstub only)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QEMU64 = "qemu-system-x86_64"
QEMU32 = "qemu-system-i386"

SCENARIO_STEP = 1
SCENARIO_BREAKPOINT = 2
SCENARIO_SERIAL_PER_OUT = 3
SCENARIO_SERIAL_REP_OUTSB = 4
SCENARIO_NEXT = 5
SCENARIO_COND = 6
SCENARIO_STORES = 7
STORE_COUNT = 20000
SCENARIO_TIMER_RATE = 8
SCENARIO_TIMER_STEP = 9
SCENARIO_INT_PAIRS = 10
SCENARIO_SMP_STEP = 11
SCENARIO_SMP_BP = 12
# Seconds a stub may take from its first instruction to bench_ready.
BOOT_TIMEOUT = 180


class BenchError(Exception):
    """A measurement that could not be taken or whose check failed;
    `partial` holds the figures taken before it."""

    def __init__(self, text, partial=None):
        super().__init__(text)
        self.partial = partial or {}


# ---------------------------------------------------------------- the guest

class Guest:
    """Addresses and source lines of the benchmark guest."""

    def __init__(self, build):
        self.elf = os.path.join(build, "bench", "benchguest.elf")
        self.source = os.path.join(ROOT, "bench", "benchguest.c")
        if not os.path.exists(self.elf):
            raise SystemExit("bench: %s is missing (make -f bench/bench.mk)" % self.elf)
        self.sym = {}
        out = subprocess.run(["nm", self.elf], check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 3:
                self.sym[parts[2]] = int(parts[0], 16)
        with open(self.source) as f:
            lines = f.read().splitlines()
        self.next_line = 1 + next(i for i, l in enumerate(lines) if "/* NEXT_LINE */" in l)
        self.after_next_line = 1 + next(i for i, l in enumerate(lines)
                                        if "/* AFTER_NEXT_LINE */" in l)
        self.serial_text = self._section_bytes(self.sym["serial_text"],
                                               self.sym["serial_text_end"])
        self.text_start, self.text_bytes = self._first_load()

    def _first_load(self):
        """(address, bytes) of the first PT_LOAD: what a memory read of the
        image must return."""
        with open(self.elf, "rb") as f:
            data = f.read()
        phoff, = struct.unpack_from("<I", data, 28)
        phentsize, phnum = struct.unpack_from("<HH", data, 42)
        for i in range(phnum):
            p_type, p_offset, _vaddr, p_paddr, p_filesz = struct.unpack_from(
                "<IIIII", data, phoff + i * phentsize)
            if p_type == 1 and p_filesz:
                return p_paddr, data[p_offset:p_offset + p_filesz]
        raise SystemExit("bench: no PT_LOAD in %s" % self.elf)

    def _section_bytes(self, start, end):
        addr, data = self._first_load()
        return data[start - addr:end - addr]

    def line_address(self, line):
        out = subprocess.run(["gdb", "-nx", "-batch", "-ex", "file " + self.elf,
                              "-ex", "info line benchguest.c:%d" % line],
                             capture_output=True, text=True).stdout
        m = re.search(r"starts at address (0x[0-9a-f]+)", out)
        if not m:
            raise SystemExit("bench: gdb cannot find line %d: %r" % (line, out))
        return int(m.group(1), 16)

    def next_region_result(self):
        """What the stepped-over line leaves in acc (mirrors benchguest.c)."""
        acc = 7
        for i in range(170):
            acc = (acc + (i ^ 5) + (acc >> 3)) & 0xffffffff
        return acc


# ---------------------------------------------------------- the RSP client

def checksum(payload):
    return sum(payload) & 0xff


# A Python-level sum over a 128 KiB reply costs a millisecond, which gdb (in
# C) does not pay; long replies are m data, which the measures check byte
# for byte against the guest image instead.
CHECKSUM_LIMIT = 4096


class Client:
    """A raw GDB remote protocol client: one request, one reply. In ack mode
    (QEMU has no QStartNoAckMode) the '+' for a reply goes out with the next
    request, as one write."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.noack = False
        self.pending_ack = b""

    def send(self, payload):
        if isinstance(payload, str):
            payload = payload.encode("latin-1")
        self.sock.sendall(self.pending_ack + b"$" + payload + b"#%02x" % checksum(payload))
        self.pending_ack = b""

    def recv(self):
        buf = self.buf
        start = buf.find(b"$")
        scanned = max(start, 0)
        while True:
            if start >= 0:
                hash_at = buf.find(b"#", scanned)
                if hash_at >= 0 and len(buf) >= hash_at + 3:
                    break
                scanned = len(buf)   # a long reply: scan only what comes next
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise BenchError("connection closed by the stub")
            buf += chunk
            if start < 0:
                start = buf.find(b"$")
                scanned = max(start, 0)
        with memoryview(buf) as view:
            raw = bytes(view[start + 1:hash_at])
        if len(raw) <= CHECKSUM_LIMIT and int(buf[hash_at + 1:hash_at + 3], 16) != checksum(raw):
            raise BenchError("bad checksum from the stub")
        del buf[:hash_at + 3]
        if not self.noack:
            self.pending_ack = b"+"
        if b"}" in raw or b"*" in raw:
            raw = decode_payload(raw)
        return raw

    def cmd(self, payload):
        self.send(payload)
        return self.recv()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def decode_payload(raw):
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


# The registers the checks read, by offset (bytes) in each `g` layout.
REG_OFFSETS = {
    "i386": {"eax": 0, "ecx": 4, "edx": 8, "ebx": 12, "esp": 16, "ebp": 20,
             "esi": 24, "edi": 28, "eip": 32},
    "x86-64": {"eax": 0, "ebx": 8, "ecx": 16, "edx": 24, "esi": 32, "edi": 40,
               "ebp": 48, "esp": 56, "eip": 128},
}


def parse_regs(arch, reply):
    data = bytes.fromhex(reply.decode())
    return {name: struct.unpack_from("<I", data, off)[0]
            for name, off in REG_OFFSETS[arch].items()}


# ---------------------------------------------------------------- the stubs

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class OutputDrain(threading.Thread):
    """Reads a child's stdout as fast as it comes, keeping the bytes."""

    def __init__(self, pipe):
        super().__init__(daemon=True)
        self.pipe = pipe
        self.data = bytearray()
        self.lock = threading.Lock()

    def run(self):
        fd = self.pipe.fileno()
        while True:
            try:
                chunk = os.read(fd, 1 << 20)
            except OSError:
                return
            if not chunk:
                return
            with self.lock:
                self.data += chunk

    def wait_for(self, count, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.data) >= count:
                    return bytes(self.data)
            time.sleep(0.002)
        with self.lock:
            return bytes(self.data)


class Stub:
    """One debuggee process, kvmstub or QEMU, listening for gdb on a port."""

    def __init__(self, kind, build, guest, qemu=QEMU64, smp=1):
        self.kind = kind
        self.port = free_port()
        self.stderr = tempfile.TemporaryFile()
        if kind == "kvmstub":
            # BENCH_KVMSTUB_ARGS adds options, e.g. "--machine bare" to
            # compare the machines on the same host in one sitting.
            argv = ([os.path.join(build, "kvmstub"), "--gdb", "127.0.0.1:%d" % self.port] +
                    (["--smp", str(smp)] if smp > 1 else []) +
                    os.environ.get("BENCH_KVMSTUB_ARGS", "").split() + [guest.elf])
            self.arch = "i386"
        else:
            argv = [qemu, "-enable-kvm", "-cpu", "host,-arch-capabilities",
                    "-smp", str(smp),
                    "-machine", "q35", "-m", "64M", "-display", "none",
                    "-monitor", "none", "-serial", "stdio", "-no-reboot",
                    "-gdb", "tcp:127.0.0.1:%d" % self.port, "-S", "-kernel", guest.elf]
            self.arch = "x86-64" if qemu == QEMU64 else "i386"
        self.argv = argv
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self.stderr)
        self.drain = OutputDrain(self.proc.stdout)
        self.drain.start()
        self.client = None

    def connect(self, timeout=15.0):
        """Connects as soon as the port accepts (a refused attempt is no
        connection, so this does not count as a gdb that came and went)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise BenchError("%s exited early: %s" % (self.kind, self.error_text()))
                if time.monotonic() > deadline:
                    raise BenchError("%s did not listen within %s s" % (self.kind, timeout))
                time.sleep(0.0005)
        self.client = Client(sock)
        return self.client

    def handshake(self):
        """qSupported, no-ack mode where offered, and the first stop."""
        c = self.client
        supported = c.cmd("qSupported:swbreak+;hwbreak+;vContSupported+").decode()
        m = re.search(r"PacketSize=([0-9a-fA-F]+)", supported)
        self.packet_size = int(m.group(1), 16) if m else 4096
        if "QStartNoAckMode+" in supported:
            if c.cmd("QStartNoAckMode") != b"OK":
                raise BenchError("QStartNoAckMode refused")
            c.noack = True
        c.cmd("?")

    def run_to(self, address, letter="1"):
        """Continues to `address` with a hardware breakpoint (QEMU starts at
        the BIOS reset vector, before the kernel is even loaded), or with
        the kind `letter` names."""
        c = self.client
        expect_ok(c.cmd("Z%s,%x,1" % (letter, address)), "Z" + letter)
        stop = c.cmd("vCont;c")
        expect_ok(c.cmd("z%s,%x,1" % (letter, address)), "z" + letter)
        regs = self.regs()
        if regs["eip"] != address:
            raise BenchError("%s stopped at %#x, not %#x (%r)"
                             % (self.kind, regs["eip"], address, stop))
        return regs

    def boot(self, guest, scenario, letter="1"):
        """Connects, runs to bench_ready and picks the guest's scenario.
        QEMU gets there through SeaBIOS and its Multiboot option ROM, which
        take 11-34 s on this host (software KVM, busy): longer than the
        socket's 30 s, so the wait for that first stop has its own."""
        self.connect()
        self.handshake()
        self.client.sock.settimeout(BOOT_TIMEOUT)
        try:
            self.run_to(guest.sym["bench_ready"], letter)
        except socket.timeout:
            raise BenchError("%s: no stop at bench_ready within %d s" % (self.kind, BOOT_TIMEOUT))
        self.client.sock.settimeout(30)
        expect_ok(self.client.cmd("M%x,4:%s" % (guest.sym["bench_scenario"],
                                                struct.pack("<I", scenario).hex())), "M")

    def regs(self):
        return parse_regs(self.arch, self.client.cmd("g"))

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BenchError("no VmRSS")

    def error_text(self, limit=300):
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace").strip()[:limit]

    def cmd_or_fail(self, packet, what):
        """One packet and its reply; no reply in time is a BenchError
        naming `what` and kvmstub's (or QEMU's) last words."""
        try:
            return self.client.cmd(packet)
        except socket.timeout:
            raise BenchError("%s: no reply (%s)" % (what, self.error_text(200)))

    def close(self):
        if self.client:
            self.client.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.drain.join(timeout=2)
        self.stderr.close()


def expect_ok(reply, what):
    if reply != b"OK":
        raise BenchError("%s replied %r" % (what, reply))


# ------------------------------------------------------ the raw measures

def measure_startup(kind, build, guest, qemu):
    """Seconds from exec to the reply to `?`."""
    stub = Stub(kind, build, guest, qemu)
    try:
        t0 = stub.started
        c = stub.connect()
        reply = c.cmd("?")
        elapsed = time.monotonic() - t0
        if not reply.startswith((b"T", b"S")):
            raise BenchError("first stop reply %r" % reply)
        return {"startup": elapsed}
    finally:
        stub.close()


def measure_boot_serial(kind, build, qemu):
    """Seconds from exec to the first byte the Multiboot kernel
    (build/bench/mbboot.elf) writes to COM1, with no debugger: kvmstub
    --no-gdb against qemu -kernel (BIOS, option ROM, then the kernel). The
    byte says whether eax held the Multiboot magic at entry."""
    image = os.path.join(build, "bench", "mbboot.elf")
    if kind == "kvmstub":
        argv = [os.path.join(build, "kvmstub"), "--no-gdb", image]
    else:
        argv = [qemu, "-enable-kvm", "-cpu", "host,-arch-capabilities", "-machine", "q35",
                "-m", "128M", "-display", "none", "-monitor", "none", "-serial", "stdio",
                "-no-reboot", "-kernel", image]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 300)
        byte = os.read(proc.stdout.fileno(), 1) if ready else b""
        elapsed = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
    if not byte:
        raise BenchError("%s: no serial byte within 300 s" % kind)
    if kind == "kvmstub" and byte != b"K":
        raise BenchError("kvmstub's Multiboot entry wrote %r: eax held no magic" % byte)
    if byte not in (b"K", b"?"):
        raise BenchError("%s: the guest wrote %r" % (kind, byte))
    out = {"boot_serial": elapsed}
    if byte != b"K":
        out["boot_no_magic"] = True
    return out


def expected_step_state(guest, steps):
    turns, rest = divmod(steps, 4)
    offsets = (0, 1, 4, 5)
    return {"esi": turns + (rest >= 1), "edi": 2 * (turns + (rest >= 2)),
            "eip": guest.sym["step_loop"] + offsets[rest]}


def measure_step_g_m(kind, build, guest, qemu, n):
    """Single steps, then `g` reads, then a 16 MiB memory read."""
    stub = Stub(kind, build, guest, qemu)
    out = {}
    try:
        stub.boot(guest, SCENARIO_STEP)
        regs = stub.run_to(guest.sym["step_loop"])
        if regs["esi"] or regs["edi"]:
            raise BenchError("step region did not start at zero")
        c = stub.client
        t0 = time.perf_counter()
        for _ in range(n["steps"]):
            c.send("vCont;s")
            reply = c.recv()
            if reply[:1] != b"T":
                raise BenchError("step stop %r" % reply)
        out["step"] = (time.perf_counter() - t0) / n["steps"]
        regs = stub.regs()
        want = expected_step_state(guest, n["steps"])
        got = {k: regs[k] for k in want}
        if got != want:
            raise BenchError("after %d steps the guest holds %r, not %r"
                             % (n["steps"], got, want))

        first = c.cmd("g")
        t0 = time.perf_counter()
        for _ in range(n["g"]):
            c.send("g")
            if c.recv() != first:
                raise BenchError("g replies differ while the guest is stopped")
        out["g"] = (time.perf_counter() - t0) / n["g"]
        if parse_regs(stub.arch, first)["eip"] != want["eip"]:
            raise BenchError("g shows the wrong eip")

        chunk = stub.packet_size // 2   # what gdb asks per m packet
        start, total = 0x100000, 16 << 20
        data = bytearray()
        t0 = time.perf_counter()
        addr = start
        while addr < start + total:
            want_len = min(chunk, start + total - addr)
            c.send("m%x,%x" % (addr, want_len))
            reply = c.recv()
            # A shorter reply is allowed; gdb asks again for the rest.
            if not reply or len(reply) > 2 * want_len or len(reply) % 2 or reply[:1] == b"E":
                raise BenchError("m%x,%x replied %r" % (addr, want_len, reply[:20]))
            data += binascii.unhexlify(reply)
            addr += len(reply) // 2
        out["mem"] = total / (time.perf_counter() - t0)
        if bytes(data[:len(guest.text_bytes)]) != guest.text_bytes or len(data) != total:
            raise BenchError("the memory read does not return the guest image")
        return out
    finally:
        stub.close()


# ------------------------------------------------ several vCPUs (--smp)
#
# The benchmark guest starts its APs itself (INIT/SIPI, bench/multiboot.S)
# in the SMP scenarios, after the harness wrote bench_cpus: then every
# vCPU the row does not stop is busy running guest code. Thread ids are
# vCPU index + 1 on both stubs; each packet names its thread, as gdb's
# do (QEMU takes a vCont action without a thread for every CPU).

SMP_TIMEOUT = 20


def smp_boot(stub, guest, scenario, cpus):
    """Runs to bench_ready and writes the scenario and the CPU count.
    kvmstub gets there with a software breakpoint (it refuses a debug-
    register one with --smp > 1 in some versions, and no row here is about
    that), QEMU with a hardware one (it starts in the BIOS, and its int3
    dies on this host)."""
    letter = "0" if stub.kind == "kvmstub" else "1"
    stub.boot(guest, scenario, letter)
    c = stub.client
    c.sock.settimeout(SMP_TIMEOUT)
    expect_ok(c.cmd("M%x,4:%s" % (guest.sym["bench_cpus"], struct.pack("<I", cpus).hex())),
              "M bench_cpus")
    return letter


def stop_thread(reply):
    m = re.search(rb"thread:([0-9a-fA-F]+)", reply)
    return int(m.group(1), 16) if m else None


def select_regs(stub, thread):
    expect_ok(stub.client.cmd("Hg%x" % thread), "Hg%x" % thread)
    return stub.regs()


def ap_spins(stub, guest, cpu):
    return read_u32(stub, guest.sym["ap_spins"] + 4 * cpu)


def smp_step(kind, build, guest, qemu, n, cpus, busy, packet, key):
    """n["steps"] round trips of `packet` (a step of thread 1) with `cpus`
    vCPUs, the APs busy (busy) or never started. Checks thread 1's
    registers after them, and that the AP ran during them exactly when the
    packet lets the others run."""
    stub = Stub(kind, build, guest, qemu, smp=cpus)
    try:
        letter = smp_boot(stub, guest, SCENARIO_SMP_STEP if busy else SCENARIO_STEP, cpus)
        c = stub.client
        regs = stub.run_to(guest.sym["step_loop"], letter)
        if regs["esi"] or regs["edi"]:
            raise BenchError("step region did not start at zero")
        arrived = read_u32(stub, guest.sym["ap_arrived"])
        if arrived != (cpus - 1 if busy else 0):
            raise BenchError("%d of %d APs arrived" % (arrived, cpus - 1 if busy else 0))
        expect_ok(c.cmd("Hg1"), "Hg1")
        spins = ap_spins(stub, guest, 1) if cpus > 1 else 0
        t0 = time.perf_counter()
        for i in range(n["steps"]):
            reply = stub.cmd_or_fail(packet, "%s at step %d" % (packet, i))
            if reply[:1] != b"T" or stop_thread(reply) not in (None, 1):
                raise BenchError("%s: stop %r" % (packet, reply))
        seconds = (time.perf_counter() - t0) / n["steps"]
        regs = select_regs(stub, 1)
        want = expected_step_state(guest, n["steps"])
        got = {k: regs[k] for k in want}
        if got != want:
            raise BenchError("%s: after %d steps thread 1 holds %r, not %r"
                             % (packet, n["steps"], got, want))
        if busy:
            moved = ap_spins(stub, guest, 1) - spins
            others_run = not packet.endswith(":1")
            if others_run and moved <= 0:
                raise BenchError("%s: the AP never ran during %d steps" % (packet, n["steps"]))
            if not others_run and moved:
                raise BenchError("%s: the AP ran %d turns though the others stay stopped"
                                 % (packet, moved))
        return {key: seconds}
    finally:
        stub.close()


def measure_smp_hwbp(kind, build, guest, qemu, n):
    """4 vCPUs all busy, AP 1 (thread 2) in the breakpoint loop: gdb's
    cycle past a hardware breakpoint, z1, vCont;s:2 (the others stay
    stopped while the breakpoint is out), Z1, vCont;c (every vCPU runs
    until AP 1 hits it again and all stop). ebx of thread 2 must count the
    cycles, and the other vCPUs must have run meanwhile."""
    cpus, thread = 4, 2
    stub = Stub(kind, build, guest, qemu, smp=cpus)
    site = guest.sym["bp_site"]
    try:
        smp_boot(stub, guest, SCENARIO_SMP_BP, cpus)
        c = stub.client
        expect_ok(c.cmd("Z1,%x,1" % site), "Z1 (with %d vCPUs)" % cpus)
        first = c.cmd("vCont;c")
        if stop_thread(first) != thread:
            raise BenchError("first stop %r is not thread %d's" % (first, thread))
        arrived = read_u32(stub, guest.sym["ap_arrived"])
        if arrived != cpus - 1:
            raise BenchError("%d of %d APs arrived" % (arrived, cpus - 1))
        before = select_regs(stub, thread)
        spins = [ap_spins(stub, guest, i) for i in (0, 2, 3)]
        remove, insert = "z1,%x,1" % site, "Z1,%x,1" % site
        step, cont = "vCont;s:%x" % thread, "vCont;c"
        t0 = time.perf_counter()
        for i in range(n["bp_cycles"]):
            for packet, want in ((remove, b"OK"), (step, b"T"), (insert, b"OK"), (cont, b"T")):
                reply = stub.cmd_or_fail(packet, "%s in cycle %d" % (packet, i))
                if not reply.startswith(want) or (want == b"T" and
                                                   stop_thread(reply) != thread):
                    raise BenchError("cycle %d: %s replied %r" % (i, packet, reply))
        seconds = (time.perf_counter() - t0) / n["bp_cycles"]
        after = select_regs(stub, thread)
        if after["eip"] != site or after["ebx"] - before["ebx"] != n["bp_cycles"]:
            raise BenchError("after %d cycles thread %d's ebx went %d -> %d at %#x"
                             % (n["bp_cycles"], thread, before["ebx"], after["ebx"],
                                after["eip"]))
        idle = [cpu for cpu, was in zip((0, 2, 3), spins) if ap_spins(stub, guest, cpu) == was]
        if idle:
            raise BenchError("vCPU(s) %s never ran during the cycles" % idle)
        return {"hwbp_smp4": seconds}
    finally:
        stub.close()


STOP_LATENCY = re.compile(r"stop latency: last ([0-9.]+) us, median ([0-9.]+) us, "
                          r"max ([0-9.]+) us over (\d+) stops")


def monitor_text(client, command):
    client.send("qRcmd," + command.encode().hex())
    text = b""
    while True:
        reply = client.recv()
        if reply.startswith(b"O") and reply != b"OK":
            text += bytes.fromhex(reply[1:].decode())
            continue
        if reply != b"OK":
            raise BenchError("monitor %s replied %r" % (command, reply))
        return text.decode()


def measure_smp_stop_latency(kind, build, guest, qemu, n):
    """kvmstub's own account of how long a stop takes to reach gdb, from
    the KVM exit that caused it (on its vCPU's thread) to the stop reply
    sent, read with `monitor info exits`: 4 vCPUs all busy, a software
    breakpoint hit by AP 1 (thread 2), n["latency_stops"] continues and
    nothing else (the scenario is written before the first instruction),
    so the line must count exactly those stops. QEMU has no such figure."""
    if kind != "kvmstub":
        return {}
    cpus, thread, stops = 4, 2, n["latency_stops"]
    stub = Stub(kind, build, guest, qemu, smp=cpus)
    site = guest.sym["bp_site"]
    try:
        stub.connect()
        stub.handshake()
        c = stub.client
        c.sock.settimeout(SMP_TIMEOUT)
        for sym, value in (("bench_scenario", SCENARIO_SMP_BP), ("bench_cpus", cpus)):
            expect_ok(c.cmd("M%x,4:%s" % (guest.sym[sym], struct.pack("<I", value).hex())),
                      "M " + sym)
        expect_ok(c.cmd("Z0,%x,1" % site), "Z0")
        for i in range(stops):
            reply = stub.cmd_or_fail("vCont;c", "continue %d" % i)
            if reply[:1] != b"T" or stop_thread(reply) != thread:
                raise BenchError("continue %d: stop %r" % (i, reply))
            if i == 0:
                first = select_regs(stub, thread)
        last = select_regs(stub, thread)
        if last["eip"] != site or last["ebx"] - first["ebx"] != stops - 1:
            raise BenchError("after %d stops thread %d's ebx went %d -> %d"
                             % (stops, thread, first["ebx"], last["ebx"]))
        text = monitor_text(c, "info exits")
        m = STOP_LATENCY.search(text)
        if not m:
            raise BenchError("no stop latency in monitor info exits: %r" % text[-300:])
        if int(m.group(4)) != stops:
            raise BenchError("monitor info exits timed %s stops, not %d" % (m.group(4), stops))
        return {"stop_latency_smp4": float(m.group(2)) / 1e6,
                "stop_latency_smp4_max": float(m.group(3)) / 1e6}
    finally:
        stub.close()


def breakpoint_cycles(stub, kind_letter, address, cycles):
    """gdb's way past a breakpoint, `cycles` times: z, s, Z, c."""
    c = stub.client
    remove = "z%s,%x,1" % (kind_letter, address)
    insert = "Z%s,%x,1" % (kind_letter, address)
    t0 = time.perf_counter()
    for _ in range(cycles):
        c.send(remove)
        if c.recv() != b"OK":
            raise BenchError("%s refused" % remove)
        c.send("vCont;s")
        if c.recv()[:1] != b"T":
            raise BenchError("step past the breakpoint failed")
        c.send(insert)
        if c.recv() != b"OK":
            raise BenchError("%s refused" % insert)
        c.send("vCont;c")
        if c.recv()[:1] != b"T":
            raise BenchError("continue to the breakpoint failed")
    return (time.perf_counter() - t0) / cycles


def measure_breakpoint(kind, build, guest, qemu, n, letter):
    """Breakpoint cycles on the counting loop: hardware (letter "1") or
    software ("0"); each hit must have advanced ebx by one."""
    stub = Stub(kind, build, guest, qemu)
    key = "hwbp" if letter == "1" else "swbp"
    site = guest.sym["bp_site"]
    try:
        stub.boot(guest, SCENARIO_BREAKPOINT)
        c = stub.client
        # QEMU's int3 kills its VM on this host: a lost reply is reported,
        # not waited for.
        c.sock.settimeout(5)
        try:
            expect_ok(c.cmd("Z%s,%x,1" % (letter, site)), "Z" + letter)
            c.cmd("vCont;c")
            before = stub.regs()
            if before["eip"] != site:
                raise BenchError("first hit at %#x" % before["eip"])
            seconds = breakpoint_cycles(stub, letter, site, n["bp_cycles"])
            after = stub.regs()
        except (socket.timeout, BenchError, ValueError) as e:
            why = [l for l in stub.error_text(4000).splitlines() if "error" in l.lower()]
            raise BenchError("%s breakpoint: %s%s" % (
                "software" if letter == "0" else "hardware",
                "no reply in 5 s" if isinstance(e, socket.timeout) else e,
                ("; stderr: " + why[0].strip()) if why else ""))
        if after["eip"] != site or after["ebx"] - before["ebx"] != n["bp_cycles"]:
            raise BenchError("after %d cycles ebx went %d -> %d at %#x"
                             % (n["bp_cycles"], before["ebx"], after["ebx"], after["eip"]))
        return {key: seconds}
    finally:
        stub.close()


def measure_serial(kind, build, guest, qemu, n, scenario):
    """The 64 KiB burst: bytes per second, and the resident memory after."""
    stub = Stub(kind, build, guest, qemu)
    done = "serial_done" if scenario == SCENARIO_SERIAL_PER_OUT else "serial_rep_done"
    key = "serial_out" if scenario == SCENARIO_SERIAL_PER_OUT else "serial_rep"
    try:
        stub.boot(guest, scenario)
        c = stub.client
        expect_ok(c.cmd("Z1,%x,1" % guest.sym[done]), "Z1")
        t0 = time.perf_counter()
        c.send("vCont;c")
        c.recv()
        elapsed = time.perf_counter() - t0
        if stub.regs()["eip"] != guest.sym[done]:
            raise BenchError("the burst did not reach %s" % done)
        got = stub.drain.wait_for(len(guest.serial_text))
        if got != guest.serial_text:
            raise BenchError("serial: %d of %d bytes, %s" % (
                len(got), len(guest.serial_text),
                "equal prefix" if guest.serial_text.startswith(got) else "different bytes"))
        out = {key: len(got) / elapsed}
        if scenario == SCENARIO_SERIAL_PER_OUT:
            out["rss"] = stub.rss_kib() * 1024
        return out
    finally:
        stub.close()


def measure_stores(kind, build, guest, qemu, with_breakpoint):
    """The store loop (STORE_COUNT stores to store_data) run by one
    continue, with or without a software breakpoint (never hit) on its
    page: seconds per store. kvmstub only: QEMU's software breakpoints die
    on this host."""
    stub = Stub(kind, build, guest, qemu)
    key = "store_bp" if with_breakpoint else "store_plain"
    try:
        stub.boot(guest, SCENARIO_STORES)
        c = stub.client
        expect_ok(c.cmd("Z1,%x,1" % guest.sym["store_done"]), "Z1")
        if with_breakpoint:
            expect_ok(c.cmd("Z0,%x,1" % guest.sym["store_bp_site"]), "Z0")
        t0 = time.perf_counter()
        c.send("vCont;c")
        c.recv()
        elapsed = time.perf_counter() - t0
        if stub.regs()["eip"] != guest.sym["store_done"]:
            raise BenchError("the store loop did not reach store_done")
        last = c.cmd("m%x,4" % guest.sym["store_data"])
        if last != b"01000000":
            raise BenchError("store_data is %r after the loop, not 1" % last)
        return {key: elapsed / STORE_COUNT}
    finally:
        stub.close()


# --------------------------------------------------- the gdb-level measures

GDB_PROLOGUE = """set pagination off
set confirm off
set width 0
{arch}
file {elf}
target remote 127.0.0.1:{port}
hbreak *{ready:#x}
continue
delete
set *(unsigned int *){scenario_addr:#x} = {scenario}
"""

GDB_TIMED = """python import time; bench_t0 = time.monotonic()
{command}
python print("BENCH_TIME %.6f" % (time.monotonic() - bench_t0))
"""


def gdb_value(expr):
    return 'python print("BENCH_VALUE {0} %d" % int(gdb.parse_and_eval("{0}")))\n'.format(expr)


def run_gdb(kind, build, guest, qemu, scenario, setup, command, checks, debug_remote=False,
            timeout=300):
    """Runs one gdb -batch session; returns (seconds, {expr: value}, gdb stderr)."""
    stub = Stub(kind, build, guest, qemu)
    try:
        arch = "set architecture i386:x86-64" if stub.arch == "x86-64" else ""
        script = GDB_PROLOGUE.format(arch=arch, elf=guest.elf, port=stub.port,
                                     ready=guest.sym["bench_ready"],
                                     scenario_addr=guest.sym["bench_scenario"],
                                     scenario=scenario)
        script += setup
        if debug_remote:
            script += "set debug remote 1\n"
        script += GDB_TIMED.format(command=command)
        if debug_remote:
            script += "set debug remote 0\n"
        script += "".join(gdb_value(e) for e in checks)
        script += "kill\n"
        with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
            f.write(script)
            path = f.name
        try:
            res = subprocess.run(["gdb", "-nx", "-batch", "-x", path], capture_output=True,
                                 text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        finally:
            os.unlink(path)
        m = re.search(r"BENCH_TIME ([0-9.]+)", res.stdout)
        if not m:
            raise BenchError("gdb: no timing; stdout %r stderr %r"
                             % (res.stdout[-400:], res.stderr[-400:]))
        values = {mm.group(1): int(mm.group(2))
                  for mm in re.finditer(r"BENCH_VALUE (\S+) (-?\d+)", res.stdout)}
        for e in checks:
            if e not in values:
                raise BenchError("gdb could not read %s: %r" % (e, res.stderr[-400:]))
        return float(m.group(1)), values, res.stderr
    finally:
        stub.close()


def measure_gdb_stepi(kind, build, guest, qemu, n):
    setup = "hbreak *{0:#x}\ncontinue\ndelete\n".format(guest.sym["step_loop"])
    seconds, values, _ = run_gdb(kind, build, guest, qemu, SCENARIO_STEP, setup,
                                 "stepi %d" % n["stepi"], ["$esi", "$edi", "$pc"])
    want = expected_step_state(guest, n["stepi"])
    got = {"esi": values["$esi"], "edi": values["$edi"], "eip": values["$pc"]}
    if got != want:
        raise BenchError("after stepi %d: %r, expected %r" % (n["stepi"], got, want))
    return {"gdb_stepi": seconds}


def measure_gdb_cond_asm(kind, build, guest, qemu, n):
    hits = n["cond_hits"]
    setup = ("set breakpoint condition-evaluation target\n"
             "hbreak *{0:#x} if $ebx == {1}\n").format(guest.sym["bp_site"], hits)
    seconds, values, err = run_gdb(kind, build, guest, qemu, SCENARIO_BREAKPOINT, setup,
                                   "continue", ["$ebx", "$pc"],
                                   debug_remote=(kind == "kvmstub"))
    if values["$ebx"] != hits or values["$pc"] != guest.sym["bp_site"]:
        raise BenchError("stopped with ebx=%d pc=%#x" % (values["$ebx"], values["$pc"]))
    if kind == "kvmstub":
        check_condition_sent(err)
    return {"gdb_cond_asm": seconds}


def check_condition_sent(gdb_stderr):
    """With `set debug remote 1` on, gdb logs its packets: the Z1 must
    carry the condition (;X) and only one stop may come back."""
    if not re.search(r"Z1,[0-9a-f]+,1;X", gdb_stderr):
        raise BenchError("gdb did not send the condition to the stub (no ;X in Z1)")
    stops = len(re.findall(r"Packet received: T", gdb_stderr))
    if stops != 1:
        raise BenchError("the stub reported %d stops, not 1" % stops)


def measure_gdb_next(kind, build, guest, qemu, n):
    setup = ("hbreak benchguest.c:{0}\ncontinue\ndelete\n").format(guest.next_line)
    seconds, values, _ = run_gdb(
        kind, build, guest, qemu, SCENARIO_NEXT, setup, "next",
        ["acc", "next_result", "$pc"])
    if values["$pc"] != guest.after_next_address:
        raise BenchError("next stopped at %#x, not at line %d (%#x)"
                         % (values["$pc"], guest.after_next_line, guest.after_next_address))
    if values["acc"] != guest.next_region_result() or values["next_result"] != 0:
        raise BenchError("after next acc=%d next_result=%d" % (values["acc"],
                                                               values["next_result"]))
    return {"gdb_next": seconds}


def measure_gdb_cond_c(kind, build, guest, qemu, n):
    hits = n["cond_c_hits"]
    setup = ("set breakpoint condition-evaluation target\n"
             "hbreak f if n == {0}\n").format(hits)
    seconds, values, err = run_gdb(kind, build, guest, qemu, SCENARIO_COND, setup,
                                   "continue", ["n", "f_calls"],
                                   debug_remote=(kind == "kvmstub"))
    if values["n"] != hits or values["f_calls"] != hits:
        raise BenchError("stopped with n=%d f_calls=%d" % (values["n"], values["f_calls"]))
    if kind == "kvmstub":
        check_condition_sent(err)
    return {"gdb_cond_c": seconds}


def count_next_instructions(build, guest):
    """How many instructions the stepped-over line runs: single steps on
    kvmstub from its first address to the next line's."""
    stub = Stub("kvmstub", build, guest)
    try:
        stub.boot(guest, SCENARIO_NEXT)
        stub.run_to(guest.next_address)
        c = stub.client
        count = 0
        while True:
            c.send("vCont;s")
            reply = c.recv()
            count += 1
            m = re.search(rb"08:([0-9a-f]{8});", reply)
            eip = struct.unpack("<I", bytes.fromhex(m.group(1).decode()))[0] if m \
                else stub.regs()["eip"]
            if eip == guest.after_next_address or count > 100000:
                return count
    finally:
        stub.close()



# ------------------------------------------------------ interrupts

def interrupt_and_wait(stub):
    """Ctrl-C; the stop reply (a dead VM is an error, with its stderr)."""
    c = stub.client
    c.sock.sendall(c.pending_ack + b"\x03")
    c.pending_ack = b""
    try:
        reply = c.recv()
    except (socket.timeout, BenchError):
        raise BenchError("no stop after Ctrl-C: %s" % stub.error_text(300))
    if reply[:1] not in (b"T", b"S"):
        raise BenchError("stop after Ctrl-C: %r" % reply)
    return reply


def read_u32(stub, address):
    reply = stub.client.cmd("m%x,4" % address)
    if len(reply) != 8:
        raise BenchError("m%x,4 replied %r" % (address, reply))
    return struct.unpack("<I", bytes.fromhex(reply.decode()))[0]


def measure_timer_rate(kind, build, guest, qemu):
    """PIT at 10 kHz through the 8259 to a 32-bit handler that returns with
    iret, the guest idle in `sti; hlt`: handler runs per second over 2 s."""
    stub = Stub(kind, build, guest, qemu)
    try:
        stub.boot(guest, SCENARIO_TIMER_RATE)
        c = stub.client
        c.sock.settimeout(10)
        c.send("vCont;c")
        time.sleep(0.3)
        interrupt_and_wait(stub)
        before = read_u32(stub, guest.sym["timer_ticks"])
        t0 = time.monotonic()
        c.send("vCont;c")
        time.sleep(2.0)
        interrupt_and_wait(stub)
        elapsed = time.monotonic() - t0
        ticks = read_u32(stub, guest.sym["timer_ticks"]) - before
        if ticks <= 0:
            raise BenchError("no timer interrupt reached the handler")
        return {"timer_rate": ticks / elapsed}
    finally:
        stub.close()


def measure_timer_steps(kind, build, guest, qemu, n, variant):
    """n["irq_steps"] single steps in a loop with interrupts on and the PIT
    at 1 kHz: how many stops are inside the timer handler. variant: None
    (the stub's default), "sstep" (QEMU's Qqemu.sstep=1: interrupts while
    stepping) or "stepirq" (kvmstub's monitor step-irq on)."""
    stub = Stub(kind, build, guest, qemu)
    key = "steps_in_handler" + ("_" + variant if variant else "")
    # This scenario's handler returns with popf; ret (bench/multiboot.S).
    lo, hi = guest.sym["timer_isr_noiret"], guest.sym["timer_isr_noiret_end"]
    try:
        stub.boot(guest, SCENARIO_TIMER_STEP)
        c = stub.client
        c.sock.settimeout(10)
        stub.run_to(guest.sym["timer_step_loop"])
        if variant == "sstep":
            expect_ok(c.cmd("Qqemu.sstep=1"), "Qqemu.sstep=1")
        elif variant == "stepirq":
            reply = c.cmd("qRcmd," + b"step-irq on".hex())
            while reply.startswith(b"O") and reply != b"OK":
                reply = c.recv()
            if reply != b"OK":
                raise BenchError("monitor step-irq on replied %r" % reply)
        inside = 0
        start_ticks = read_u32(stub, guest.sym["timer_ticks"])
        t0 = time.monotonic()
        for i in range(n["irq_steps"]):
            reply = stub.cmd_or_fail("vCont;s", "step %d" % i)
            if reply[:1] not in (b"T", b"S"):
                raise BenchError("step %d: %r" % (i, reply))
            eip = stub.regs()["eip"]
            inside += lo <= eip < hi
        elapsed = time.monotonic() - t0
        # Continue a while: held-back ticks must still come, and the guest
        # must survive the steps (the count stands either way).
        try:
            c.send("vCont;c")
            time.sleep(0.1)
            interrupt_and_wait(stub)
            if read_u32(stub, guest.sym["timer_ticks"]) == start_ticks and elapsed > 0.01:
                raise BenchError("no tick reached the handler after the steps")
        except BenchError as e:
            raise BenchError("after %d steps (%d in the handler): %s" % (
                n["irq_steps"], inside, e), partial={key: float(inside)})
        return {key: float(inside)}
    finally:
        stub.close()


def measure_int_pairs(kind, build, guest, qemu):
    """`int $0x81` whose handler is a bare `iret`, 10,000 times in 32-bit
    protected mode: time per pair (the host's emulator refuses both on
    PVM, where kvmstub completes them)."""
    stub = Stub(kind, build, guest, qemu)
    try:
        stub.boot(guest, SCENARIO_INT_PAIRS)
        c = stub.client
        c.sock.settimeout(30)
        stub.run_to(guest.sym["int_pairs_start"])
        count = read_u32(stub, guest.sym["int_pair_count"])
        done = guest.sym["int_pairs_done"]
        expect_ok(c.cmd("Z1,%x,1" % done), "Z1")
        t0 = time.perf_counter()
        reply = stub.cmd_or_fail("vCont;c", "continue to int_pairs_done")
        elapsed = time.perf_counter() - t0
        regs = stub.regs()
        if reply[:1] != b"T" or regs["eip"] != done or regs["ecx"] != 0:
            raise BenchError("int pairs ended with %r at %#x (%s)" % (
                reply, regs["eip"], stub.error_text(200)))
        return {"int_pair": elapsed / count}
    finally:
        stub.close()


# -------------------------------------------------------------- the table

class Measure:
    def __init__(self, key, label, unit, scale, lower_is_better, target, target_text,
                 floor="", limit=None, relative=None):
        self.limit = limit  # an absolute target (in the unit shown), not a ratio
        # (key, factor): met when kvmstub's median is at most factor times
        # kvmstub's median of that other row in the same run.
        self.relative = relative
        self.key, self.label, self.unit, self.scale = key, label, unit, scale
        self.lower_is_better = lower_is_better
        self.target, self.target_text, self.floor = target, target_text, floor


def fmt_num(v):
    if v >= 100:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def summary(values, m):
    if isinstance(values, str):
        return values
    if not values:
        return "-"
    vals = [v * m.scale for v in values]
    med = statistics.median(vals)
    return "%s [%s-%s]" % (fmt_num(med), fmt_num(min(vals)), fmt_num(max(vals)))


def ratio(kv, qe, m):
    if isinstance(kv, str) or not kv:
        return None
    if isinstance(qe, str) or not qe:
        return None
    a, b = statistics.median(kv), statistics.median(qe)
    return b / a if m.lower_is_better else a / b


def print_table(measures, results, floors, notes, qemu_note, only_measured=False):
    head = ("measure", "kvmstub median [min-max]", "QEMU median [min-max]", "ratio",
            "target", "met", "floor (this host)")
    rows = [head]
    for m in measures:
        if only_measured and m.key not in results["kvmstub"] and m.key not in results["qemu"]:
            continue
        kv = results["kvmstub"].get(m.key)
        qe = results["qemu"].get(m.key, qemu_note)
        r = ratio(kv, qe, m)
        if m.limit is not None:
            rtext = "-"
            met = ("-" if isinstance(kv, str) or not kv else
                   "yes" if statistics.median(kv) * m.scale <= m.limit else "no")
        elif m.relative is not None:
            rtext = "-" if r is None else "%.1fx" % r
            ref = results["kvmstub"].get(m.relative[0])
            if isinstance(kv, str) or not kv or isinstance(ref, str) or not ref:
                met = "-"
            else:
                times = statistics.median(kv) / statistics.median(ref)
                met = "%s (%.1fx)" % ("yes" if times <= m.relative[1] else "no", times)
        elif r is None:
            rtext = "-"
            met = ("yes (QEMU fails)" if not isinstance(kv, str) and kv and
                   isinstance(qe, str) and qemu_note is None else "-")
        else:
            rtext = "%.1fx" % r
            met = "yes" if m.target and r >= m.target else ("no" if m.target else "-")
        rows.append(("%s (%s)" % (m.label, m.unit), summary(kv, m), summary(qe, m),
                     rtext, m.target_text, met, m.floor.format(**floors)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for i, r in enumerate(rows):
        print("| " + " | ".join(c.ljust(widths[j]) for j, c in enumerate(r)) + " |")
        if i == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\nratio: how many times better kvmstub is (QEMU time / kvmstub time, or "
          "kvmstub rate / QEMU rate); medians of the repeats.")
    for n in notes:
        print(n)


def run_floor(build):
    path = os.path.join(build, "bench", "floor")
    floors = {}
    res = subprocess.run([path], capture_output=True, text=True, timeout=120)
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "floor":
            floors[parts[1]] = float(parts[2])
    if res.returncode:
        print("bench: floor failed: %s" % res.stderr.strip(), file=sys.stderr)
    for k in ("kvm_single_step", "kvm_io_exit", "kvm_get_regs_sregs", "kvm_set_guest_debug",
              "loopback_same_cpu", "loopback_across_cpus", "kick_busy_vcpus_4"):
        floors.setdefault(k, float("nan"))
    return floors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 repeat, fewer iterations")
    ap.add_argument("--no-qemu", action="store_true", help="measure kvmstub alone")
    ap.add_argument("--only", default="", help="run only measure groups containing WORD")
    args = ap.parse_args()
    build = os.path.join(ROOT, args.build) if not os.path.isabs(args.build) else args.build
    guest = Guest(build)
    guest.next_address = guest.line_address(guest.next_line)
    guest.after_next_address = guest.line_address(guest.after_next_line)

    n = {"steps": 2000, "g": 2000, "bp_cycles": 1000, "stepi": 2000, "cond_hits": 20000,
         "cond_c_hits": 5000, "startups": 5, "irq_steps": 2000, "latency_stops": 200}
    repeats = args.repeats
    # The QEMU side of the 20,000-hit condition takes ~35 s: two runs.
    slow_repeats = min(repeats, 2)
    if args.quick:
        repeats = slow_repeats = 1
        n.update(steps=500, g=500, bp_cycles=200, stepi=500, cond_hits=2000,
                 cond_c_hits=500, startups=2, irq_steps=500, latency_stops=50)

    have_qemu = (not args.no_qemu and shutil.which(QEMU64) is not None and
                 shutil.which(QEMU32) is not None)
    have_gdb = shutil.which("gdb") is not None
    qemu_note = None if have_qemu else "not installed"
    if not have_qemu:
        print("bench: measuring kvmstub alone (QEMU: %s)" % (
            "--no-qemu" if args.no_qemu else "missing; install qemu-system-x86"))
    kinds = ["kvmstub", "qemu"] if have_qemu else ["kvmstub"]

    t_start = time.monotonic()
    print("bench: floors (bench/floor) ...", flush=True)
    floors = run_floor(build)
    results = {"kvmstub": {}, "qemu": {}}
    notes = []
    instr = count_next_instructions(build, guest)

    def record(kind, out):
        for k, v in out.items():
            results[kind].setdefault(k, [])
            if not isinstance(results[kind][k], str):
                results[kind][k].append(v)

    def fail(kind, keys, err):
        text = str(err)
        for k in keys:
            if k in getattr(err, "partial", {}):
                continue
            results[kind][k] = "FAILED" if kind == "kvmstub" else "fails"
        notes.append("%s (%s): %s" % (kind, ", ".join(keys), text))

    groups = [
        ("startup", ["startup"], lambda k, q: measure_startup(k, build, guest, q), QEMU64,
         n["startups"]),
        ("boot", ["boot_serial"], lambda k, q: measure_boot_serial(k, build, q), QEMU64,
         repeats),
        ("step", ["step", "g", "mem"], lambda k, q: measure_step_g_m(k, build, guest, q, n),
         QEMU64, repeats),
        ("breakpoint", ["hwbp"], lambda k, q: measure_breakpoint(k, build, guest, q, n, "1"),
         QEMU64, repeats),
        ("breakpoint", ["swbp"], lambda k, q: measure_breakpoint(k, build, guest, q, n, "0"),
         QEMU64, repeats),
        ("serial", ["serial_out", "rss"],
         lambda k, q: measure_serial(k, build, guest, q, n, SCENARIO_SERIAL_PER_OUT),
         QEMU64, repeats),
        ("serial", ["serial_rep"],
         lambda k, q: measure_serial(k, build, guest, q, n, SCENARIO_SERIAL_REP_OUTSB),
         QEMU64, repeats),
        ("stores", ["store_plain"],
         lambda k, q: measure_stores(k, build, guest, q, False), QEMU64, repeats),
        ("stores", ["store_bp"],
         lambda k, q: measure_stores(k, build, guest, q, True), QEMU64, repeats),
    ]
    # One row per entry: a row that fails (its note says why) leaves the
    # others measured. (key, vCPUs, APs busy, the step packet)
    for key, cpus, busy, packet in (("step_smp1", 1, False, "vCont;s:1"),
                                    ("step_smp2_idle", 2, False, "vCont;s:1;c"),
                                    ("step_smp2", 2, True, "vCont;s:1;c"),
                                    ("step_smp2_locked", 2, True, "vCont;s:1")):
        groups.append(("smp", [key],
                       lambda k, q, a=(cpus, busy, packet, key):
                       smp_step(k, build, guest, q, n, *a), QEMU64, repeats))
    groups += [
        ("smp", ["hwbp_smp4"], lambda k, q: measure_smp_hwbp(k, build, guest, q, n),
         QEMU64, repeats),
        ("smp", ["stop_latency_smp4", "stop_latency_smp4_max"],
         lambda k, q: measure_smp_stop_latency(k, build, guest, q, n), QEMU64, repeats),
        ("interrupts", ["timer_rate"], lambda k, q: measure_timer_rate(k, build, guest, q),
         QEMU64, repeats),
        ("interrupts", ["int_pair"], lambda k, q: measure_int_pairs(k, build, guest, q),
         QEMU64, repeats),
        ("interrupts", ["steps_in_handler"],
         lambda k, q: measure_timer_steps(k, build, guest, q, n, None), QEMU64, repeats),
        ("interrupts", ["steps_in_handler_sstep"],
         lambda k, q: (measure_timer_steps(k, build, guest, q, n, "sstep") if k == "qemu"
                       else {}), QEMU64, repeats),
        ("interrupts", ["steps_in_handler_stepirq"],
         lambda k, q: (measure_timer_steps(k, build, guest, q, n, "stepirq")
                       if k == "kvmstub" else {}), QEMU64, repeats),
    ]
    if have_gdb:
        groups += [
            ("gdb", ["gdb_stepi"], lambda k, q: measure_gdb_stepi(k, build, guest, q, n),
             QEMU64, repeats),
            ("gdb", ["gdb_next"], lambda k, q: measure_gdb_next(k, build, guest, q, n),
             QEMU32, repeats),
            ("gdb", ["gdb_cond_c"], lambda k, q: measure_gdb_cond_c(k, build, guest, q, n),
             QEMU32, repeats),
            ("gdb", ["gdb_cond_asm"], lambda k, q: measure_gdb_cond_asm(k, build, guest, q, n),
             QEMU64, slow_repeats),
            ("reverse", ["rev_record_slowdown", "rev_stepi", "rev_continue", "rev_memory",
                         "rev_record_steps_slowdown"],
             lambda k, q: reverse.measure_reverse(k, build, free_port()), QEMU64, 1),
        ]
    for name, keys, fn, qemu, reps in groups:
        if args.only and args.only not in name:
            continue
        t_group = time.monotonic()
        print("bench: %s (%s), %d repeat(s) ..." % (name, ", ".join(keys), reps), end="",
              flush=True)
        for _ in range(reps):
            for kind in kinds:
                if kind == "qemu" and name == "stores":
                    continue
                if any(isinstance(results[kind].get(k), str) for k in keys):
                    continue
                try:
                    record(kind, fn(kind, qemu))
                except BenchError as e:
                    record(kind, getattr(e, "partial", {}))
                    fail(kind, keys, e)
                except reverse.ReverseBenchError as e:
                    fail(kind, keys, BenchError(str(e)))
                except (OSError, socket.timeout, subprocess.TimeoutExpired) as e:
                    fail(kind, keys, BenchError(repr(e)))
        print(" %.0f s" % (time.monotonic() - t_group), flush=True)

    us, ms, s = 1e6, 1e3, 1.0
    measures = [
        Measure("step", "single step, raw vCont;s round trip", "us", us, True, 5, ">=5x",
                "KVM step {kvm_single_step:.1f} + loopback {loopback_same_cpu:.0f}-"
                "{loopback_across_cpus:.0f} us"),
        Measure("hwbp", "hw breakpoint cycle z1,s,Z1,c", "us", us, True, 3, ">=3x",
                "2 KVM_RUN + 4 loopback RTT"),
        Measure("step_smp1", "--smp 1: vCont;s:1 round trip (the reference below)", "us", us,
                True, 0, "", ""),
        Measure("step_smp2_idle", "--smp 2, AP never started: vCont;s:1;c round trip", "us",
                us, True, 0, "<=2x --smp 1", "", relative=("step_smp1", 2)),
        Measure("step_smp2", "--smp 2, AP busy: vCont;s:1;c round trip (it runs meanwhile)",
                "us", us, True, 0, "<=2x --smp 1", "", relative=("step_smp1", 2)),
        Measure("step_smp2_locked", "--smp 2, AP busy: vCont;s:1 round trip (sched.-locking)",
                "us", us, True, 0, "<=2x --smp 1", "", relative=("step_smp1", 2)),
        Measure("hwbp_smp4", "--smp 4, all busy: hw bp cycle z1,s:2,Z1,c hit by AP 1", "us", us,
                True, 0, "", ""),
        Measure("stop_latency_smp4", "--smp 4, all busy: stop latency, exit to reply (median)",
                "ms", ms, True, None, "<1 ms",
                "kick a busy vCPU out of KVM_RUN, 4 busy: {kick_busy_vcpus_4:.0f} us", limit=1),
        Measure("stop_latency_smp4_max", "--smp 4, all busy: stop latency (max of %d stops)"
                % n["latency_stops"], "ms", ms, True, None, "<1 ms",
                "(kvmstub's own figure: monitor info exits)", limit=1),
        Measure("swbp", "sw breakpoint cycle z0,s,Z0,c", "us", us, True, 3, ">=3x",
                "2 KVM_RUN + 4 loopback RTT"),
        Measure("g", "g register read", "us", us, True, 1, ">=1x",
                "GET_REGS+SREGS {kvm_get_regs_sregs:.1f} + loopback"),
        Measure("mem", "memory read 16 MiB with m", "MiB/s", 1 / 1048576, False, 8, ">=8x",
                "loopback RTT per PacketSize/2"),
        Measure("startup", "start-up to first stop reply", "ms", ms, True, 10, ">=10x", ""),
        Measure("boot_serial", "Multiboot kernel: exec to its first serial byte, no gdb",
                "ms", ms, True, 10, ">=10x", ""),
        Measure("rss", "resident memory after the guest ran", "MiB", 1 / 1048576, True, 10,
                ">=10x", ""),
        Measure("serial_out", "serial 64 KiB, one out per byte", "KiB/s", 1 / 1024, False, 2,
                ">=2x", "I/O exit {kvm_io_exit:.1f} us/byte"),
        Measure("serial_rep", "serial 64 KiB, rep outsb", "KiB/s", 1 / 1024, False, 20,
                ">=20x", ""),
        Measure("store_plain", "store, no breakpoint on its page", "us", us, True, None,
                "", ""),
        Measure("store_bp", "store beside a sw breakpoint (same page)", "us", us, True,
                None, "", "I/O exit {kvm_io_exit:.1f} us"),
        Measure("gdb_stepi", "gdb stepi %d" % n["stepi"], "s", s, True, 3, ">=3x", ""),
        Measure("gdb_cond_asm", "gdb hbreak *bp_site if $ebx == %d, continue" % n["cond_hits"],
                "s", s, True, 20, ">=20x", ""),
        Measure("gdb_next", "gdb next over one C line (%d instructions)" % instr, "s", s,
                True, 20, ">=20x", ""),
        Measure("gdb_cond_c", "gdb hbreak f if n == %d, continue" % n["cond_c_hits"], "s", s,
                True, 20, "(>=20x)", ""),
        Measure("rev_record_slowdown", "recording: run time with / without --record", "x", 1,
                True, None, "<=10x", "insn_emulation counter (PVM)", limit=10),
        Measure("rev_record_steps_slowdown", "recording by single steps (hosts without the counter)",
                "x", 1, True, None, "<=10x", "KVM single step per instruction", limit=10),
        Measure("rev_stepi", "reverse-stepi, ~10M instructions of history", "ms", ms, True,
                None, "<=100 ms", "", limit=100),
        Measure("rev_continue", "reverse-continue to a breakpoint 1M instructions back", "s",
                s, True, None, "<=3 s", "", limit=3),
        Measure("rev_memory", "history memory for that window (base RAM copy not counted)",
                "MiB", 1 / 1048576, True, None, "reported", ""),
        Measure("timer_rate", "PIT 10 kHz to a 32-bit handler (iret), idle guest",
                "interrupts/s", 1, False, 0, "", ""),
        Measure("int_pair", "int $0x81 + iret, 32-bit", "us per pair", us, True, 0, "", ""),
    ]
    print()
    print_table(measures, results, floors, notes, qemu_note, only_measured=bool(args.only))
    print("\n%d single steps in a loop with the PIT at 1 kHz: steps that stop inside the "
          "timer handler, median [min-max]" % n["irq_steps"])
    for label, kind, key in (("QEMU, default step flags", "qemu", "steps_in_handler"),
                             ("QEMU, Qqemu.sstep=1", "qemu", "steps_in_handler_sstep"),
                             ("kvmstub, default", "kvmstub", "steps_in_handler"),
                             ("kvmstub, monitor step-irq on", "kvmstub",
                              "steps_in_handler_stepirq")):
        vals = results[kind].get(key, qemu_note if kind == "qemu" else "-")
        text = vals if isinstance(vals, str) else (
            "%d [%d-%d]" % (statistics.median(vals), min(vals), max(vals)) if vals else "-")
        print("  %-30s %s" % (label, text))
    rep = results["qemu"].get("serial_rep")
    per = results["qemu"].get("serial_out")
    kv_rep = results["kvmstub"].get("serial_rep")
    if have_qemu and isinstance(per, list) and per and isinstance(kv_rep, list) and kv_rep:
        print("serial rep outsb against QEMU's one out per byte: %.1fx"
              % (statistics.median(kv_rep) / statistics.median(per)))
    if results["qemu"].get("boot_no_magic"):
        print("QEMU's Multiboot entry had no 0x2badb002 in eax on this host (the boot "
              "guest wrote '?'); kvmstub's had it ('K').")
    plain = results["kvmstub"].get("store_plain")
    beside = results["kvmstub"].get("store_bp")
    if (isinstance(plain, list) and plain and isinstance(beside, list) and beside and
            floors.get("kvm_io_exit") == floors.get("kvm_io_exit")):
        extra = statistics.median(beside) - statistics.median(plain)
        print("store beside a breakpoint: +%.1f us per store = %.2fx one I/O exit "
              "(%.1f us; target <= 2x); the store loop's continue is %.0fx slower "
              "with the breakpoint on its page"
              % (extra * 1e6, extra * 1e6 / floors["kvm_io_exit"], floors["kvm_io_exit"],
                 statistics.median(beside) / statistics.median(plain)))
    print("floors (bench/floor, us, median): " + ", ".join(
        "%s %.2f" % (k, v) for k, v in sorted(floors.items())))
    print("repeats: %d (startup %d, 20,000-hit condition %d); QEMU: %s -cpu host,"
          "-arch-capabilities; C-level gdb figures on %s. Total %.0f s."
          % (repeats, n["startups"], slow_repeats, QEMU64, QEMU32,
             time.monotonic() - t_start))


if __name__ == "__main__":
    main()
