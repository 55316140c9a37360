#!/usr/bin/env python3
"""tests/rsp/test_monitor.py — `monitor` commands (qRcmd), physical memory
mode (Qqemu.PhyMemMode), the binary x read, `system_reset` and the PIC,
IOAPIC and LAPIC state a timer kernel programmed, over a raw
socket against real guests under real KVM: every answer is checked against
what the guest's registers, memory and page tables really hold."""
import re
import struct
import time

import rsplib
import testlib
from rsplib import Stop, Stub, image_bytes, nm
from testlib import guest

SCRATCH = 0x200000   # guest RAM no test guest uses
KERNEL_VMA = 0xffffffff80000000


def mon(c, command):
    text, final = c.monitor(command)
    assert final == b"OK", (command, final, text)
    return text


def field(text, name):
    m = re.search(r"\b%s=([0-9a-f]+)" % re.escape(name), text)
    assert m, "%s missing from:\n%s" % (name, text)
    return int(m.group(1), 16)


def run_to(c, addr):
    if c.layout is None:
        c.load_layout()
    assert c.cmd("Z0,%x,1" % addr) == b"OK"
    stop = c.cont()
    assert stop.kind == "T" and c.reg("rip") == addr, (stop, hex(c.reg("rip")))
    assert c.cmd("z0,%x,1" % addr) == b"OK"
    return stop


def elf_entry(name):
    data = image_bytes(name)
    return struct.unpack_from("<Q", data, 24)[0]


# --- info registers ---------------------------------------------------------------

def test_info_registers_shows_the_cr3_efer_and_rip_gdb_reads():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        c.load_layout()
        text = mon(c, "info registers")
        assert field(text, "CR3") == c.reg("cr3"), text
        assert field(text, "EFER") == c.reg("efer"), text
        assert field(text, "RIP") == c.reg("rip") == elf_entry("hello64.elf"), text
        assert "mode: long (64-bit)" in text, text
        # The stub's boot state: flat code64 CS, a busy 64-bit TSS.
        assert re.search(r"CS =0018 0000000000000000 ffffffff type=b S=1 DPL=0 P=1 DB=0 L=1 G=1",
                         text), text
        assert re.search(r"TR =0020 [0-9a-f]{16} 00000067 type=b S=0", text), text
        for name in ("GDT=", "IDT=", "LDT=", "CR0=", "CR2=", "CR4=", "CR8=", "DR0=", "DR3=",
                     "DR6=", "DR7=", "APIC_BASE=", "exception:", "interrupt:", "NMI:"):
            assert name in text, (name, text)


def test_info_registers_follows_the_guest_into_its_own_page_tables():
    """higherhalf.elf switches CR3 to tables of its own: the monitor sees it."""
    with Stub([guest("higherhalf.elf")]) as st:
        c = st.client()
        c.load_layout()
        before = field(mon(c, "info registers"), "CR3")
        run_to(c, nm("higherhalf.elf")["hh_main"])
        text = mon(c, "info registers")
        assert field(text, "CR3") == c.reg("cr3") == nm("higherhalf.elf")["pml4"], text
        assert field(text, "CR3") != before
        assert field(text, "RIP") == nm("higherhalf.elf")["hh_main"], text


def test_info_registers_in_real_mode_says_real():
    with Stub([guest("stepper.bin")]) as st:
        c = st.client()
        text = mon(c, "info registers")
        assert "mode: real" in text, text
        assert field(text, "CR0") & 1 == 0, text


# --- descriptor tables ----------------------------------------------------------

def test_info_gdt_decodes_the_stubs_own_gdt():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        text = mon(c, "info gdt")
        lines = text.splitlines()
        assert lines[0].startswith("GDT at 0x") and "limit 0x2f" in lines[0], text
        assert re.search(r"^0008  00cf9b000000ffff  base=0x0 limit=0xffffffff code32", text, re.M), text
        assert re.search(r"^0010  00cf93000000ffff  base=0x0 limit=0xffffffff data rw-", text, re.M), text
        assert re.search(r"^0018  00af9b000000ffff  base=0x0 limit=0xffffffff code64 .* L=1", text, re.M), text
        assert re.search(r"^0020  [0-9a-f]{16}  base=0x[0-9a-f]+ limit=0x67 tss64-busy", text, re.M), text
        # The raw bytes are the GDT in guest memory.
        base = int(re.search(r"GDT at (0x[0-9a-f]+)", text).group(1), 16)
        raw = c.read(base + 0x18, 8)
        assert "0018  %016x" % struct.unpack("<Q", raw)[0] in text, text


def test_info_idt_of_a_guest_without_one_is_empty_and_the_ivt_in_real_mode_is_read():
    with Stub([guest("hello64.elf")]) as st:
        text = mon(st.client(), "info idt")
        assert "IDT at 0x0, limit 0x0" in text and "0 of 0 vectors present" in text, text
    with Stub([guest("stepper.bin")]) as st:
        c = st.client()
        text = mon(c, "info idt")
        assert text.startswith("IVT at 0x0, limit 0xffff"), text
        ivt = c.read(0, 8)
        assert "vector 0x01: %04x:%04x" % struct.unpack_from("<HH", ivt, 4)[::-1] in text, text
        assert "256 of 256 vectors present" in text, text


# --- page tables ----------------------------------------------------------------

def test_info_tlb_and_mem_show_the_stubs_identity_map_of_2m_pages():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        tlb = mon(c, "info tlb")
        lines = tlb.splitlines()
        assert len(lines) == 2048, (len(lines), lines[:3])   # 4 GiB in 2 MiB pages
        assert re.fullmatch(r"0000000000000000: 0000000000000000 --P.....W", lines[0]), lines[0]
        assert re.fullmatch(r"00000000ffe00000: 00000000ffe00000 --P.....W", lines[-1]), lines[-1]
        mem = mon(c, "info mem")
        assert mem == "0000000000000000-0000000100000000 0000000100000000 -rw\n", mem


def test_info_tlb_shows_a_higher_half_kernels_mapping():
    with Stub([guest("higherhalf.elf")]) as st:
        c = st.client()
        run_to(c, nm("higherhalf.elf")["hh_main"])
        tlb = mon(c, "info tlb")
        # PML4[511] -> PDPT[510] -> the same directory as the identity map.
        assert "ffffffff80000000: 0000000000000000 --P" in tlb, tlb[:400]
        assert "ffffffff80200000: 0000000000200000 --P" in tlb, tlb[:400]
        assert "0000000000000000: 0000000000000000 --P" in tlb
        assert len(tlb.splitlines()) == 1024, len(tlb.splitlines())
        mem = mon(c, "info mem")
        assert mem.splitlines() == [
            "0000000000000000-0000000040000000 0000000040000000 -rw",
            "ffffffff80000000-ffffffffc0000000 0000000040000000 -rw",
        ], mem


def test_gva2gpa_translates_mapped_and_reports_unmapped_addresses():
    with Stub([guest("higherhalf.elf")]) as st:
        c = st.client()
        hh_main = nm("higherhalf.elf")["hh_main"]
        run_to(c, hh_main)
        assert mon(c, "gva2gpa 0x%x" % hh_main) == "gpa: 0x%x\n" % (hh_main - KERNEL_VMA)
        assert mon(c, "gva2gpa 0x100000") == "gpa: 0x100000\n"
        assert mon(c, "gva2gpa 0x7f0000000000") == "0x7f0000000000: unmapped\n"
        assert mon(c, "gva2gpa 0x8000000000000000") == "0x8000000000000000: unmapped\n"


# --- physical memory ------------------------------------------------------------

def test_xp_reads_the_bytes_of_the_image_at_their_physical_address():
    with Stub(["--mem", "64M", guest("higherhalf.elf")]) as st:
        c = st.client()
        hh_main = nm("higherhalf.elf")["hh_main"]
        run_to(c, hh_main)
        expect = c.read(hh_main, 8)      # linear, through the guest's tables
        text = mon(c, "xp /8xb 0x%x" % (hh_main - KERNEL_VMA))
        assert text == "%016x: %s\n" % (hh_main - KERNEL_VMA,
                                        " ".join("0x%02x" % b for b in expect)), text
        text = mon(c, "xp /2xg 0x%x" % (hh_main - KERNEL_VMA))
        assert "0x%016x" % struct.unpack("<Q", expect)[0] in text, text
        text = mon(c, "xp /1dw 0x%x" % (hh_main - KERNEL_VMA))
        assert text.split(": ")[1].strip() == str(struct.unpack("<i", expect[:4])[0]), text
        # Past the end of RAM (64 MiB): said, not read.
        text = mon(c, "xp /4xb 0x%x" % (64 << 20))
        assert text == "Cannot access memory at address 0x%x\n" % (64 << 20), text


def test_xp_shows_the_original_byte_under_a_breakpoint():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        entry = elf_entry("hello64.elf")
        before = mon(c, "xp /4xb 0x%x" % entry)
        assert c.cmd("Z0,%x,1" % entry) == b"OK"
        assert mon(c, "xp /4xb 0x%x" % entry) == before


def test_phymemmode_reads_and_writes_by_physical_address_like_qemu():
    with Stub([guest("higherhalf.elf")]) as st:
        c = st.client()
        hh_main = nm("higherhalf.elf")["hh_main"]
        run_to(c, hh_main)
        assert c.cmd("qqemu.Supported") == b"PhyMemMode"
        linear = c.read(hh_main, 16)
        assert c.cmd("Qqemu.PhyMemMode:1") == b"OK"
        assert c.cmd("qqemu.PhyMemMode") == b"1"
        assert c.read(hh_main - KERNEL_VMA, 16) == linear
        assert c.cmd("m%x,4" % hh_main).startswith(b"E")    # no such physical address
        c.write(SCRATCH, b"\x12\x34")
        assert c.cmd("Qqemu.PhyMemMode:0") == b"OK"
        assert c.read(SCRATCH, 2) == b"\x12\x34"           # identity-mapped low RAM
        assert c.read(hh_main, 16) == linear


def test_x_packet_reads_the_same_bytes_as_m():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        assert b"binary-upload+" in c.cmd("qSupported:xmlRegisters=i386")
        c.write(SCRATCH, bytes([0x7d, 0x23, 0x24, 0x2a, 0x00, 0xff]))
        assert c.cmd("x%x,6" % SCRATCH) == b"b" + bytes([0x7d, 0x23, 0x24, 0x2a, 0x00, 0xff])
        entry = elf_entry("hello64.elf")
        assert c.cmd("x%x,40" % entry) == b"b" + c.read(entry, 0x40)
        assert c.cmd("x%x,0" % entry) == b"b"
        assert c.cmd("x%x,4" % (1 << 40)).startswith(b"E")


# --- devices, exits, switches ----------------------------------------------------

def test_screen_prints_what_the_vga_buffer_holds():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        assert mon(c, "screen") == "(the screen is blank)\n"
        cells = b"".join(bytes([ch, 0x07]) for ch in b"kvmstub VGA")
        c.write(0xb8000 + 160 * 2, cells)
        assert mon(c, "screen") == "\n\nkvmstub VGA\n"


def test_screen_shows_a_vga_kernels_screen_as_vga_prints_it():
    with Stub(["--vga", guest("vgahello.elf")]) as st:
        c = st.client()
        run_to(c, nm("vgahello.elf")["halt"])
        text = mon(c, "screen")
        lines = text.splitlines()
        assert lines[0] == "Hello from VGA text mode", text
        assert lines[3].strip().endswith("box!\u2551"), text   # CP437 frame as UTF-8
        assert lines[24].rstrip().endswith("last row"), text
        c.cont()
        status, out, _ = st.finish()
        assert status == 0
        # --vga prints the final screen when the guest ends: the same text.
        assert text in out.decode(), (text, out)


def test_info_exits_counts_the_guests_port_io_and_breakpoint():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        text = mon(c, "info exits")
        assert "exits by reason (0 in all)" in text, text
        run_to(c, nm("hello64.elf")["halt"])
        text = mon(c, "info exits")
        # The breakpoint: a hlt byte on the bare machine; on the pc machine
        # an int3 the host refuses (PVM) or traps (VMX/SVM).
        assert re.search(r"^  (HLT|INTERNAL_ERROR|DEBUG) +1$", text, re.M), text
        # "Hello from long mode\n": one LSR poll (port 0x3fd) per byte.
        m = re.search(r"^  0x03fd  in +(\d+)  out +0$", text, re.M)
        assert m and int(m.group(1)) >= 21, text
        assert re.search(r"^  IO +\d+$", text, re.M), text


STOP_LATENCY = re.compile(r"^stop latency: last ([0-9.]+) us, median ([0-9.]+) us, "
                          r"max ([0-9.]+) us over (\d+) stops$", re.M)


def timed_resumes(c, packet, count):
    """`count` resumes; the stops and the longest round trip the client saw."""
    stops, longest = [], 0.0
    for _ in range(count):
        t0 = time.perf_counter()
        stops.append(c.resume(packet))
        longest = max(longest, time.perf_counter() - t0)
    return stops, longest


def check_stop_latency(text, stops, longest_round_trip):
    """The line parses, counts exactly the stops, and its figures fit each
    other and the client's own clock: a stop reaches gdb after its exit,
    which came after the resume packet was sent."""
    m = STOP_LATENCY.search(text)
    assert m, text
    last, median, largest = (float(m.group(i)) for i in (1, 2, 3))
    assert int(m.group(4)) == stops, (stops, text)
    assert 0 < last <= largest and 0 < median <= largest, text
    assert largest <= longest_round_trip * 1e6, (longest_round_trip, text)


def test_info_exits_times_each_step_from_its_exit_to_the_reply():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        c.load_layout()
        assert re.search(r"^stop latency: no stops yet$", mon(c, "info exits"), re.M)
        stops, longest = timed_resumes(c, "vCont;s", 25)
        assert all(s.kind == "T" for s in stops), stops
        check_stop_latency(mon(c, "info exits"), 25, longest)
        # A monitor command or a register read is no stop.
        c.g()
        check_stop_latency(mon(c, "info exits"), 25, longest)


def test_info_exits_times_breakpoint_stops_with_four_vcpus():
    # smp64.elf scenario 3: the APs start, then halt; the BSP loops
    # through smp_spot, so every stop is a breakpoint stop of thread 1.
    spot = nm("smp64.elf")["smp_spot"]
    with Stub(["--smp", "4", "--reg", "rdi=3", guest("smp64.elf")]) as st:
        c = st.client()
        c.load_layout()
        assert c.insert(0, spot) == b"OK"
        stops, longest = timed_resumes(c, "vCont;c", 20)
        for s in stops:
            assert s.kind == "T" and s.reason == "swbreak" and int(s.fields["thread"], 16) == 1, s
        check_stop_latency(mon(c, "info exits"), 20, longest)


def test_info_exits_after_the_end_counts_only_the_hlt_exits_kvm_gave():
    """hello64 ends in `cli; hlt`. On the bare machine that hlt is a real
    KVM_EXIT_HLT (one); on the pc machine KVM runs it itself and the stub
    finds the vCPU idle at a tick: no hlt exit at all, none made up."""
    for machine, hlt_exits in (("bare", 1), ("pc", 0)):
        with Stub(["--machine", machine, guest("hello64.elf")]) as st:
            c = st.client()
            assert c.cmd("!") == b"OK"          # extended: kvmstub outlives the guest
            stop = c.cont()
            assert stop.kind == "W" and stop.code == 0, (machine, stop)
            text = mon(c, "info exits")
            m = re.search(r"^  HLT +(\d+)$", text, re.M)
            assert (int(m.group(1)) if m else 0) == hlt_exits, (machine, text)
            assert re.search(r"^  0x03fd  in +(\d+)  out +0$", text, re.M), (machine, text)
            # Nothing else of a guest that ended is there.
            assert "not running" in mon(c, "info registers"), machine


def test_trace_io_on_prints_each_port_access_and_off_stops():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        assert mon(c, "trace-io on") == "trace-io is on\n"
        run_to(c, nm("hello64.elf")["halt"])
        # Even the data port, which is queued without exits while tracing is
        # off. stderr is read by a thread: wait for the lines to arrive.
        rsplib.wait_until(lambda: bytes(st.err).count(b"io: out port=0x3f8") >= 21, 5)
        err = bytes(st.err)
        assert err.count(b"io: out port=0x3f8") == 21, err[-500:]
        assert err.count(b"io: in port=0x3fd") >= 21, err[-500:]
        assert mon(c, "trace-io off") == "trace-io is off\n"
        n = bytes(st.err).count(b"io: ")
        c.cont()   # to the end
        assert bytes(st.err).count(b"io: ") == n
        assert rsplib.wait_until(lambda: bytes(st.out) == b"Hello from long mode\n", 5), \
            bytes(st.out)


def lines_of(text, prefix):
    found = [l for l in text.splitlines() if l.startswith(prefix)]
    assert len(found) == 1, "one %r line wanted in:\n%s" % (prefix, text)
    return found[0]


def check_info_pic_and_lapic_show_what_the_timer_kernel_programmed(image):
    # timer.c calls wait_ticks after each set-up: the 8259s remapped to
    # 0x20/0x28 with only IRQ0 unmasked; then the APIC enabled (SVR
    # 0x1ff) and IOAPIC pin 2 at vector 0x30; then the LAPIC timer
    # periodic at vector 0x40, divide by 1, 200000.
    wait_ticks = nm(image)["wait_ticks"]
    with Stub([guest(image)]) as st:
        c = st.client()
        c.load_layout()
        hits = []
        for _ in range(3):
            assert c.cmd("Z0,%x,1" % wait_ticks) == b"OK"
            stop = c.cont()
            assert stop.kind == "T" and c.pc() == wait_ticks, (stop, hex(c.pc()))
            assert c.cmd("z0,%x,1" % wait_ticks) == b"OK"
            hits.append((mon(c, "info pic"), mon(c, "info lapic")))

        pic, lapic = hits[0]
        assert re.match(r"pic0: irr=0[01] imr=fe isr=00 .* irq_base=20 .* init_state=0$",
                        lines_of(pic, "pic0:")), pic
        assert re.match(r"pic1: irr=00 imr=ff isr=00 .* irq_base=28 .* init_state=0$",
                        lines_of(pic, "pic1:")), pic
        assert lines_of(pic, "ioapic:") == "ioapic: base=0xfec00000 id=0x00 irr=0x00000000", pic
        assert lines_of(pic, "pin 2 ").endswith(" masked"), pic
        assert lines_of(lapic, "local APIC").startswith("local APIC of vCPU 0: id 0, "), lapic
        assert lines_of(lapic, "SPIV").startswith("SPIV     0x000000ff APIC disabled"), lapic

        pic, lapic = hits[1]
        assert " imr=ff " in lines_of(pic, "pic0:"), pic
        assert re.match(r"pin 2  0x0000000000000030 dest=0 vec=48 +fixed +edge +active-hi "
                        r"physical$", lines_of(pic, "pin 2 ")), pic
        assert lines_of(lapic, "SPIV") == \
            "SPIV     0x000001ff APIC enabled, focus=on, spurious vec 255", lapic
        assert lines_of(lapic, "LVTT ").startswith("LVTT     0x00010000 "), lapic

        pic, lapic = hits[2]
        assert lines_of(lapic, "local APIC").startswith("local APIC of vCPU 0: id 0, "), lapic
        assert re.match(r"LVTT     0x00020040 .* periodic vec 64$", lines_of(lapic, "LVTT ")), lapic
        assert re.match(r"Timer    DCR=0xb \(divide by 1\) initial_count=200000 "
                        r"current_count=\d+$", lines_of(lapic, "Timer")), lapic
        assert lines_of(lapic, "SPIV").startswith("SPIV     0x000001ff APIC enabled"), lapic
        assert lines_of(pic, "pin 2 ").endswith(" masked"), pic


def test_info_pic_and_lapic_show_what_the_long_mode_timer_kernel_programmed():
    check_info_pic_and_lapic_show_what_the_timer_kernel_programmed("timer64.elf")


def test_info_pic_and_lapic_show_what_the_protected_mode_timer_kernel_programmed():
    check_info_pic_and_lapic_show_what_the_timer_kernel_programmed("timer32.elf")


def test_lapic_pic_and_step_irq_say_why_not_on_the_bare_machine():
    with Stub(["--machine", "bare", guest("hello64.elf")]) as st:
        c = st.client()
        assert mon(c, "info lapic") == \
            "info lapic: no interrupt controller on this machine (--machine bare)\n"
        assert mon(c, "info pic") == \
            "info pic: no interrupt controller on this machine (--machine bare)\n"
        assert mon(c, "step-irq on") == \
            "step-irq: no interrupt controller on this machine (--machine bare)\n"


def test_long_monitor_output_comes_as_many_o_packets_also_in_ack_mode():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client(noack=False)       # each O packet is acked by the client
        c.send("qRcmd," + b"info tlb".hex())
        packets, text = 0, b""
        while True:
            r = c.recv()
            if r.startswith(b"O") and r != b"OK":
                packets += 1
                text += bytes.fromhex(r[1:].decode())
                continue
            break
        assert r == b"OK" and packets > 1, (r, packets)
        assert text.count(b"\n") == 2048
        assert c.cmd("?").startswith(b"T05")


def test_unknown_monitor_command_gets_one_line_and_the_session_goes_on():
    with Stub([guest("hello64.elf")]) as st:
        c = st.client()
        text = mon(c, "info frobs")
        assert text.count("\n") == 1 and "unknown" in text, text
        text = mon(c, "qwerty 1 2 3")
        assert text == "unknown command 'qwerty 1 2 3' (see 'monitor help')\n", text
        assert c.cmd("?").startswith(b"T05")


# --- system_reset -----------------------------------------------------------------

def test_system_reset_from_plain_remote_stops_at_the_first_instruction_again():
    with Stub([guest("restart64.elf")]) as st:
        c = st.client()
        c.load_layout()
        entry = elf_entry("restart64.elf")
        first_regs = c.g()
        low = c.read(0x100000, 0x2000)
        halt = nm("restart64.elf")["halt"]
        run_to(c, halt)
        assert c.read(0x400000, 1) == b"\x5a"
        text = mon(c, "system_reset")
        assert "reset" in text and "first instruction" in text, text
        assert c.cmd("?").startswith(b"T05")
        assert c.reg("rip") == entry
        assert c.g() == first_regs
        assert c.read(0x100000, 0x2000) == low        # .data and .bss as loaded
        assert c.read(0x400000, 1) == b"\x00"          # a page only the guest wrote
        assert c.cont().kind == "W"
        # The output reader is a thread: wait for both whole lines.
        assert rsplib.wait_until(lambda: bytes(st.out).count(b"\n") >= 2, 5), bytes(st.out)
        out = bytes(st.out).decode()
        lines = [l for l in out.splitlines() if l.startswith("restart guest")]
        assert len(lines) == 2 and lines[0] == lines[1], out


if __name__ == "__main__":
    testlib.main(globals())
