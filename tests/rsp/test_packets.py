#!/usr/bin/env python3
"""tests/rsp/test_packets.py — kvmstub's answers to single RSP packets over a
raw socket: feature negotiation, the target description, registers, memory,
break/watchpoint insertion, thread queries and the framing rules (acks,
checksums, escapes, run-length encoding, oversized and random packets).
Nothing here resumes the guest except where a test says so."""
import random
import re
import socket
import struct
import time
import xml.etree.ElementTree as ET

import rsplib
import testlib
from rsplib import Stop, Stub, escape_binary, image_bytes, rle_encode
from testlib import checksum, frame, guest

SCRATCH = 0x200000  # guest RAM no test guest uses


def elf_entry(name):
    data = image_bytes(name)
    assert data[:4] == b"\x7fELF", name
    if data[4] == 2:
        return struct.unpack_from("<Q", data, 24)[0]
    return struct.unpack_from("<I", data, 24)[0]


def stepper():
    return Stub([guest("stepper.bin")])


def hex_reply(reply):
    return re.fullmatch(rb"([0-9a-f][0-9a-f])+", reply) is not None


# --- feature negotiation and the target description -----------------------------

def test_qsupported_advertises_packet_size_and_features():
    with stepper() as st:
        c = st.client()
        reply = c.cmd("qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
                      "fork-events+;vfork-events+;exec-events+;vContSupported+")
        feats = {}
        for item in reply.decode().split(";"):
            if "=" in item:
                k, v = item.split("=", 1)
                feats[k] = v
            else:
                feats[item[:-1]] = item[-1]
        assert int(feats["PacketSize"], 16) >= 0x20000, reply
        for name in ("swbreak", "hwbreak", "qXfer:features:read", "QStartNoAckMode",
                     "vContSupported"):
            assert feats.get(name) == "+", "%s missing from %r" % (name, reply)


def test_qxfer_target_xml_reads_the_same_at_any_offset_and_length():
    with stepper() as st:
        c = st.client()
        whole = c.fetch_xml(chunk=0x10000)
        assert len(whole) > 200, whole
        for chunk in (1, 7, 0x40, 0x123, 0x3ff, 0x1000):
            assert c.fetch_xml(chunk) == whole, "chunk %#x reassembles differently" % chunk
        # Direct windows, compared with the whole document.
        raw = whole.encode()
        for off, length in ((0, 5), (1, 17), (100, 50), (len(raw) - 3, 0x100)):
            reply = c.cmd("qXfer:features:read:target.xml:%x,%x" % (off, length))
            want = raw[off:off + length]
            more = off + length < len(raw)
            assert reply == (b"m" if more else b"l") + want, \
                "offset %#x length %#x: %r, want %r" % (off, length, reply[:40], want[:40])
        assert c.cmd("qXfer:features:read:target.xml:%x,10" % len(raw)) == b"l"
        assert c.cmd("qXfer:features:read:target.xml:%x,10" % (len(raw) + 1000)) == b"l"


def check_description(image, architecture):
    with Stub([guest(image)]) as st:
        c = st.client()
        text = c.fetch_xml(chunk=0x200)
        root = ET.fromstring(text)
        assert root.tag == "target", root.tag
        arch = root.find("architecture")
        assert arch is not None and arch.text == architecture, \
            "%s: architecture %r, want %r" % (image, arch is not None and arch.text, architecture)
        names = {r.get("name") for r in root.iter("reg")}
        for reg in ("cr0", "cr3", "cr4", "efer", "fs_base"):
            assert reg in names, "%s: no %s in %s" % (image, reg, sorted(names))
        return names


def test_target_xml_is_i8086_for_a_flat_image():
    names = check_description("stepper.bin", "i8086")
    assert "eip" in names and "rip" not in names


def test_target_xml_is_i386_for_hello32():
    names = check_description("hello32.elf", "i386")
    assert "eip" in names and "rip" not in names


def test_target_xml_is_x86_64_for_hello64():
    names = check_description("hello64.elf", "i386:x86-64")
    assert "rip" in names and "r15" in names


def test_qxfer_with_a_bad_annex_is_an_error():
    with stepper() as st:
        c = st.client()
        for annex in ("nosuch.xml", "target.xm", "i386-64bit.xml", ""):
            reply = c.cmd("qXfer:features:read:%s:0,100" % annex)
            assert reply.startswith(b"E"), "annex %r: %r" % (annex, reply)
        assert c.cmd("qXfer:features:read:target.xml:zz,10").startswith(b"E")
        assert c.cmd("qC") == b"QC1"


# --- stop reason and registers ---------------------------------------------------------

def test_question_mark_reports_sigtrap_with_pc_at_the_entry():
    for image, entry in (("stepper.bin", 0x1000), ("hello32.elf", elf_entry("hello32.elf")),
                         ("hello64.elf", elf_entry("hello64.elf"))):
        with Stub([guest(image)]) as st:
            c = st.client()
            lay = c.load_layout()
            stop = Stop(c.cmd("?"))
            assert stop.kind == "T" and stop.code == 5, "%s: %r" % (image, stop)
            pcnum = lay.num(lay.pc)
            assert stop.regs.get(pcnum) == entry, "%s: expedited pc %r, want %#x (%r)" % (
                image, stop.regs.get(pcnum), entry, stop)
            assert c.pc() == entry


def test_g_size_matches_the_target_description_in_every_mode():
    for image in ("stepper.bin", "hello32.elf", "hello64.elf"):
        with Stub([guest(image)]) as st:
            c = st.client()
            lay = c.load_layout()
            bits = sum(int(r.get("bitsize")) for r in ET.fromstring(lay.xml).iter("reg"))
            reply = c.cmd("g")
            assert hex_reply(reply), reply[:40]
            assert len(reply) * 4 == bits, "%s: g has %d bits, description %d" % (
                image, len(reply) * 4, bits)


def test_G_writes_back_what_g_read_and_changes_registers():
    for image, regs in (("stepper.bin", ("eax", "ebx", "esi")),
                        ("hello64.elf", ("rax", "rbx", "r12"))):
        with Stub([guest(image)]) as st:
            c = st.client()
            lay = c.load_layout()
            before = c.g()
            assert c.cmd("G" + before.hex()) == b"OK"
            assert c.g() == before, "%s: G of g's own image changed registers" % image
            image_ = bytearray(before)
            want = {}
            for i, name in enumerate(regs):
                num, bits, off = lay.regs[name]
                value = (0x11223344 + i * 0x01010101) & ((1 << bits) - 1)
                image_[off:off + bits // 8] = value.to_bytes(bits // 8, "little")
                want[name] = value
            assert c.cmd("G" + bytes(image_).hex()) == b"OK"
            after = c.g()
            assert after == bytes(image_), "%s: g after G differs at %s" % (
                image, [n for n in lay.order if lay.value(after, n) != lay.value(image_, n)])
            for name, value in want.items():
                assert c.reg(name) == value, name
            # A G of the wrong size is refused, not half applied.
            assert c.cmd("G" + bytes(image_[:-1]).hex()).startswith(b"E")
            assert c.g() == after


def test_p_and_P_read_and_write_rax_and_rip():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        c.load_layout()
        c.set_reg("rax", 0x1122334455667788)
        assert c.reg("rax") == 0x1122334455667788
        g = c.g()
        assert c.layout.value(g, "rax") == 0x1122334455667788
        entry = c.pc()
        c.set_reg("rip", entry + 4)
        assert c.pc() == entry + 4
        c.set_reg("rip", entry)
        assert c.cmd("p%x" % 10000).startswith(b"E")
        assert c.cmd("P%x=00" % c.layout.num("rax")).startswith(b"E"), "short P accepted"


def test_p_and_P_read_and_write_eax_and_eip_in_protected_mode():
    with Stub([guest("hello32.elf")]) as st:
        c = st.client()
        c.load_layout()
        c.set_reg("eax", 0xdeadbeef)
        assert c.reg("eax") == 0xdeadbeef
        c.set_reg("eip", 0x100123)
        assert c.pc() == 0x100123


def test_p_and_P_read_and_write_cr3():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        c.load_layout()
        cr3 = c.reg("cr3")
        assert cr3 != 0 and cr3 % 0x1000 == 0, hex(cr3)  # long mode: page tables
        g = c.g()
        assert c.layout.value(g, "cr3") == cr3
        c.set_reg("cr3", cr3 + 0x1000)
        assert c.reg("cr3") == cr3 + 0x1000
        c.set_reg("cr3", cr3)
        assert c.reg("cr3") == cr3
        # The guest still runs on the restored tables.
        stop = c.cont()
        assert stop.kind == "W" and stop.code == 0, stop
        status, out, err = st.finish()
        assert out == b"Hello from long mode\n", out


def test_P_of_the_pc_in_real_mode_moves_the_pc():
    with stepper() as st:
        c = st.client()
        c.load_layout()
        assert c.reg("cs") == 0
        c.set_reg("eip", 0x100d)  # step_inc: inc %eax
        assert c.pc() == 0x100d
        stop = c.step()
        assert stop.kind == "T" and stop.code == 5, stop
        assert c.pc() == 0x100f, hex(c.pc())
        assert c.reg("eax") == 1, "inc ran at the new pc: eax %#x" % c.reg("eax")


# --- memory ----------------------------------------------------------------------------

def test_M_and_m_write_and_read_back_ram():
    with stepper() as st:
        c = st.client()
        rng = random.Random(1)
        for addr, n in ((SCRATCH, 1), (SCRATCH + 3, 17), (SCRATCH + 0xffd, 8), (0x7000, 300)):
            data = bytes(rng.randrange(256) for _ in range(n))
            c.write(addr, data)
            assert c.read(addr, n) == data, "%#x,%d" % (addr, n)
        # The image itself reads as loaded.
        img = image_bytes("stepper.bin")
        assert c.read(0x1000, len(img)) == img


def test_m_of_an_address_outside_ram_is_an_error():
    with stepper() as st:  # 128 MiB of RAM, real mode: linear == physical
        c = st.client()
        for addr in (0x8000000, 0x10000000, 0xfffff000):
            reply = c.cmd("m%x,10" % addr)
            assert reply.startswith(b"E") and len(reply) == 3, "m%x: %r" % (addr, reply)
        assert c.cmd("M%x,2:abcd" % 0x8000000).startswith(b"E")
        assert c.cmd("qC") == b"QC1"
    with Stub([guest("hello64.elf")]) as st:  # long mode: unmapped linear address
        c = st.client()
        for addr in (0x40000000, 0x7fff00000000, 0xffff800000000000):
            reply = c.cmd("m%x,10" % addr)
            assert reply.startswith(b"E") and len(reply) == 3, "m%x: %r" % (addr, reply)


def test_m_near_the_top_of_the_address_space_is_an_error_not_a_crash():
    for image in ("stepper.bin", "hello64.elf"):
        with Stub([guest(image)]) as st:
            c = st.client()
            for pkt in ("mffffffffffffffff,10", "mfffffffffffffff0,20", "mffffffffffffffff,1",
                        "mffffffffffffffff,ffffffffffffffff", "m0,ffffffffffffffff"):
                reply = c.cmd(pkt)
                if pkt == "m0,ffffffffffffffff":
                    # Starts readable: the readable part (capped) or E.
                    assert reply.startswith(b"E") or hex_reply(reply), reply[:20]
                else:
                    assert reply.startswith(b"E"), "%s: %r" % (pkt, reply[:40])
            assert c.cmd("Xffffffffffffffff,2:ab").startswith(b"E")
            assert c.cmd("qC") == b"QC1"
            assert st.alive()


def test_m_of_64_kib_returns_exactly_64_kib():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        reply = c.cmd("m100000,10000")
        assert hex_reply(reply), reply[:40]
        data = bytes.fromhex(reply.decode())
        assert len(data) == 0x10000, hex(len(data))
        # The first bytes are the loaded code: the ELF's first PT_LOAD.
        elf = image_bytes("hello64.elf")
        phoff, = struct.unpack_from("<Q", elf, 32)
        _, _, off, _, paddr, filesz = struct.unpack_from("<IIQQQQ", elf, phoff)
        assert paddr == 0x100000, hex(paddr)
        n = min(filesz, 64)
        assert data[:n] == elf[off:off + n]


def test_m_with_length_zero_is_answered_and_harmless():
    with stepper() as st:
        c = st.client()
        reply = c.cmd("m1000,0")
        assert reply == b"" or reply == b"OK" or reply.startswith(b"E"), reply
        assert c.cmd("M1000,0:") == b"OK"
        assert c.cmd(b"X1000,0:") == b"OK"  # gdb's X probe
        assert c.read(0x1000, 2) == b"\x31\xc0"


def test_X_writes_binary_bytes_with_escapes():
    with stepper() as st:
        c = st.client()
        special = bytes([0x23, 0x24, 0x7d, 0x2a, 0x00, 0x03, 0x2b, 0x2d, 0xff, 0x7d, 0x7d])
        c.write_binary(SCRATCH, special)
        assert c.read(SCRATCH, len(special)) == special
        every = bytes(range(256)) * 4
        c.write_binary(SCRATCH + 0x100, every)
        assert c.read(SCRATCH + 0x100, len(every)) == every
        # Raw (unescaped) framing of the same payload is checked by length.
        assert c.cmd(b"X%x,4:abc" % SCRATCH).startswith(b"E"), "short X accepted"


# --- break and watch points -------------------------------------------------------------

def test_Z0_and_z0_insert_and_remove_a_software_breakpoint():
    with stepper() as st:
        c = st.client()
        original = c.read(0x100d, 2)
        assert c.insert(0, 0x100d) == b"OK"
        assert c.read(0x100d, 2) == original, "breakpoint byte shows through"
        assert c.insert(0, 0x100d) == b"OK", "a repeated Z0 must be accepted"
        assert c.remove(0, 0x100d) == b"OK"
        assert c.read(0x100d, 2) == original
        # Not mapped (yet): kvmstub may fall back to a debug register (a
        # higher-half kernel before its page tables); either way it answers
        # and the removal works.
        reply = c.insert(0, 0x4000000)
        assert reply == b"OK" or (reply.startswith(b"E") and len(reply) == 3), reply
        assert c.remove(0, 0x4000000) == b"OK"
        assert c.cmd("qC") == b"QC1"


def test_Z1_takes_four_hardware_breakpoints_and_refuses_a_fifth():
    with stepper() as st:
        c = st.client()
        addrs = [0x1002, 0x1004, 0x1005, 0x100b, 0x100d]
        for a in addrs[:4]:
            assert c.insert(1, a) == b"OK", hex(a)
        reply = c.insert(1, addrs[4])
        assert reply.startswith(b"E") and len(reply) == 3, "fifth Z1: %r" % reply
        assert c.remove(1, addrs[0]) == b"OK"
        assert c.insert(1, addrs[4]) == b"OK", "a freed slot is reusable"
        for a in addrs[1:]:
            assert c.remove(1, a) == b"OK"


def test_Z2_Z3_Z4_insert_and_remove_watchpoints():
    sym = rsplib.nm("cdemo64.elf")
    with Stub([guest("cdemo64.elf")]) as st:
        c = st.client()
        for kind, name in ((2, "counter"), (3, "watched"), (4, "watched"), (2, "seen")):
            assert c.insert(kind, sym[name], 4) == b"OK", (kind, name)
        for kind, name in ((2, "counter"), (3, "watched"), (4, "watched"), (2, "seen")):
            assert c.remove(kind, sym[name], 4) == b"OK", (kind, name)
        assert c.insert(2, sym["counter"], 0).startswith(b"E"), "zero-length watch accepted"


def test_Z_with_an_unknown_type_gets_the_empty_reply():
    with stepper() as st:
        c = st.client()
        assert c.cmd("Z5,1000,1") == b""
        assert c.cmd("z7,1000,1") == b""
        assert c.cmd("qC") == b"QC1"


# --- thread and misc queries -------------------------------------------------------------

def test_vcont_query_lists_c_C_s_S_r():
    with stepper() as st:
        c = st.client()
        reply = c.cmd("vCont?").decode()
        assert reply.startswith("vCont;"), reply
        actions = set(reply.split(";")[1:])
        assert {"c", "C", "s", "S", "r"} <= actions, reply


def test_unknown_packets_get_the_empty_reply():
    with stepper() as st:
        c = st.client()
        for pkt in ("vMustReplyEmpty", "qFooBar", "jMadeUp", "QNoSuchSetting:1",
                    "vFile:open:x"):
            assert c.cmd(pkt) == b"", pkt
        assert c.cmd("qC") == b"QC1"


def test_thread_packets_describe_one_thread():
    with stepper() as st:
        c = st.client()
        assert c.cmd("Hg0") == b"OK"
        assert c.cmd("Hc-1") == b"OK"
        assert c.cmd("Hg1") == b"OK"
        assert c.cmd("T1") == b"OK"
        assert c.cmd("qC") == b"QC1"
        assert c.cmd("qfThreadInfo") == b"m1"
        assert c.cmd("qsThreadInfo") == b"l"
        assert c.cmd("qAttached") == b"1"
        assert c.cmd("qAttached:1") == b"1"
        assert c.cmd("qSymbol::") == b"OK"


# --- framing -------------------------------------------------------------------------------

def read_exact(sock, n, timeout=5):
    sock.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("closed after %r" % data)
        data += chunk
    return data


def read_packet_bytes(sock, timeout=5):
    """Reads one framed packet ($...#xx) verbatim."""
    sock.settimeout(timeout)
    data = b""
    while not (len(data) >= 3 and data[-3:-2] == b"#"):
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("closed after %r" % data)
        data += chunk
        if data == b"+":
            data = b""
    return data


def test_bad_checksum_is_nacked_and_the_retransmission_accepted():
    with stepper() as st:
        s = st.raw_connect()
        s.sendall(b"$qC#00")
        assert read_exact(s, 1) == b"-", "no '-' for a bad checksum"
        s.sendall(frame("qC"))
        assert read_exact(s, 1) == b"+"
        assert read_packet_bytes(s) == frame("QC1")
        s.sendall(b"+")
        s.close()


def test_a_nack_from_the_client_makes_the_stub_resend():
    with stepper() as st:
        s = st.raw_connect()
        s.sendall(frame("qfThreadInfo"))
        assert read_exact(s, 1) == b"+"
        first = read_packet_bytes(s)
        assert first == frame("m1"), first
        s.sendall(b"-")
        assert read_packet_bytes(s) == first, "no retransmission after '-'"
        s.sendall(b"+")
        s.sendall(frame("qC"))
        assert read_exact(s, 1) == b"+"
        assert read_packet_bytes(s) == frame("QC1")
        s.close()


def test_garbage_between_packets_is_ignored():
    with stepper() as st:
        c = st.client()
        c.send_raw(b"hello\r\n" + frame("qC") + b"!!junk}}**" + frame("qfThreadInfo") +
                   b"\x00\xff#12" + frame("qAttached"))
        assert c.recv() == b"QC1"
        assert c.recv() == b"m1"
        assert c.recv() == b"1"


def test_run_length_encoded_packet_is_expanded():
    with stepper() as st:
        c = st.client()
        payload = b"M%x,20:" % SCRATCH + b"5" * 40 + b"a" * 24
        encoded = rle_encode(payload)
        assert b"*" in encoded and len(encoded) < len(payload), encoded
        c.send_raw(b"$" + encoded + b"#%02x" % checksum(encoded))
        assert c.recv() == b"OK"
        assert c.read(SCRATCH, 0x20) == b"\x55" * 20 + b"\xaa" * 12


def test_oversized_packet_is_refused_and_the_next_works():
    with stepper() as st:
        c = st.client()
        size = int(re.search(rb"PacketSize=([0-9a-f]+)", c.cmd("qSupported")).group(1), 16)
        big = b"M%x,%x:" % (SCRATCH, size) + b"ab" * size
        c.send_raw(frame(big))
        reply = c.recv()
        assert reply.startswith(b"E") and len(reply) == 3, reply[:40]
        assert c.cmd("qC") == b"QC1"
        # Just under the limit is a normal packet.
        n = (size - 32) // 2
        assert c.cmd(b"M%x,%x:" % (SCRATCH, n) + b"cd" * n) == b"OK"
        assert c.read(SCRATCH + n - 4, 4) == b"\xcd" * 4


def random_packet(rng):
    hexnum = lambda: "%x" % rng.choice([0, 1, 0x1000, 0x100d, SCRATCH, rng.getrandbits(64),
                                        rng.getrandbits(16), 0xffffffffffffffff])
    templates = [
        lambda: "m%s,%s" % (hexnum(), hexnum()),
        lambda: "M%s,%s:%s" % (hexnum(), "%x" % rng.randrange(8), "ab" * rng.randrange(10)),
        lambda: "X%s,%s:" % (hexnum(), hexnum()),
        lambda: "p%s" % hexnum(),
        lambda: "P%s=%s" % (hexnum(), "00" * rng.randrange(20)),
        lambda: "Z%d,%s,%s" % (rng.randrange(8), hexnum(), hexnum()),
        lambda: "z%d,%s,%s" % (rng.randrange(8), hexnum(), hexnum()),
        lambda: "Z0,%s,1;X%s,%s" % (hexnum(), hexnum(), "".join(rng.choice("0123456789abcdefxyz") for _ in range(rng.randrange(12)))),
        lambda: "qXfer:features:read:target.xml:%s,%s" % (hexnum(), hexnum()),
        lambda: "qXfer:features:read:%s" % "".join(rng.choice("abc:,.0") for _ in range(8)),
        lambda: "G" + "".join(rng.choice("0123456789abcdef") for _ in range(rng.randrange(900))),
        lambda: "H%s%s" % (rng.choice("gcx"), hexnum()),
        lambda: "qSupported:" + "".join(rng.choice("abc+-;=") for _ in range(rng.randrange(30))),
        lambda: "vCont;%s" % rng.choice(["t", "x", "r", "rzz", "s:2", "c:3", ""]),
        lambda: "".join(chr(rng.randrange(0x20, 0x7f)) for _ in range(rng.randrange(1, 40))),
    ]
    while True:
        p = rng.choice(templates)().encode("latin-1")
        # No resume, kill or detach: this test is about parsing.
        if p[:1] in (b"c", b"s", b"C", b"S", b"k", b"D", b"R", b"r", b"i", b"I", b"v") and \
                not p.startswith(b"vCont;"):
            continue
        if p.startswith(b"vCont;") and p[6:7] in (b"s", b"c", b"r"):
            continue
        p = p.replace(b"$", b"_").replace(b"#", b"_")
        return p


def test_random_packets_never_kill_the_stub():
    with stepper() as st:
        c = st.client()
        rng = random.Random(20240601)
        for i in range(400):
            pkt = random_packet(rng)
            c.send(pkt)
            reply = c.recv_timeout(5)
            assert reply is not None, "no reply to packet %d %r" % (i, pkt[:80])
            assert st.alive(), "kvmstub died on packet %d %r" % (i, pkt[:80])
        assert c.cmd("qC") == b"QC1"
        assert st.alive()


if __name__ == "__main__":
    testlib.main(globals())
