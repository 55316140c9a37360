#!/usr/bin/env python3
"""tests/rsp/test_trapped_pages.py — a guest runs the same with breakpoints
and watchpoints on pages the CPU itself reads and writes: gdtboot.elf goes
from protected to long mode with its GDT (descriptors not yet accessed),
IDT and TSS on its first page, loads segments, runs `ltr`, takes two #UD,
stores 3000 times next to a breakpoint site and runs rep stos/movs across a
page. Each test first runs it with --no-gdb: the output with points set
must be the same, so a failure says whether the guest or the stub is at
fault."""
import struct

import testlib

IMAGE = "gdtboot.elf"
EXPECTED = (b"seg 0x9b 0x93\nltr 0x8b\nbes 0x5a5a\nud  0x2\n"
            b"hot 0x44a444\nrep 0x5280\n")


def symbols():
    """Addresses from the ELF's symbol table (nm-free: read it ourselves)."""
    data = open(testlib.guest(IMAGE), "rb").read()
    shoff, = struct.unpack_from("<I", data, 0x20)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x2e)
    sections = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize)
                for i in range(shnum)]
    out = {}
    for sh in sections:
        if sh[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[sh[6]]
        for off in range(sh[4], sh[4] + sh[5], 16):
            name_off, value = struct.unpack_from("<II", data, off)
            start = strtab[4] + name_off
            name = data[start:data.index(b"\0", start)].decode()
            if name:
                out[name] = value
    return out


SYM = symbols()


def reference():
    """The guest alone: the output every run with points must match."""
    status, out, err = testlib.run(["--no-gdb", testlib.guest(IMAGE)])
    assert status == 0, (status, err)
    assert out == EXPECTED, out
    return out


def pc_of(client):
    regs = bytes.fromhex(client.cmd("g").decode())
    return struct.unpack_from("<I", regs, 8 * 4)[0]


def run_with(points, stops=()):
    """Sets POINTS (Z packets), continues through STOPS (expected reply
    prefixes, each checked with its pc), then to the end; returns output."""
    ref = reference()
    with testlib.Stub([testlib.guest(IMAGE)]) as st:
        c = st.client()
        for p in points:
            assert c.cmd(p) == b"OK", p
        for prefix, pc in stops:
            reply = c.cmd("c")
            assert reply.startswith(prefix), (prefix, reply)
            assert pc is None or pc_of(c) == pc, (hex(pc_of(c)), hex(pc))
        reply = c.cmd("c")
        assert reply == b"W00", reply
        assert st.wait() == 0
        out = st.output()
        assert out == ref, (out, ref)
        return out


def z(kind, name, length=1, offset=0):
    return "Z%d,%x,%d" % (kind, SYM[name] + offset, length)


def test_breakpoint_on_gdt_page_not_hit_runs_to_the_same_end():
    run_with([z(0, "never_run_32")])


def test_breakpoint_on_gdt_page_stops_after_the_far_jump_and_segment_loads():
    run_with([z(0, "never_run_32"), z(0, "after_segments")],
             [(b"T05swbreak", SYM["after_segments"])])


def test_ltr_with_the_tss_descriptor_on_a_breakpoint_page():
    after_ltr = SYM["load_tr"] + 3  # ltr %ax is 0f 00 d8
    run_with([z(0, "never_run_32"), "Z0,%x,1" % after_ltr],
             [(b"T05swbreak", after_ltr)])


def test_write_watch_beside_gdt_fires_on_the_store_not_on_accessed_bits():
    after_store = SYM["store_beside_gdt"] + 6  # movl $0x5a5a,(%rdi)
    run_with([z(2, "beside_gdt", 4)],
             [(b"T05watch:%x;" % SYM["beside_gdt"], after_store)])


def test_hot_loop_storing_next_to_a_breakpoint_finishes_with_the_right_sum():
    run_with([z(0, "hot_site")])


def test_rep_stos_and_movs_across_a_write_watched_page():
    # Bytes on the page that neither instruction touches: no stop.
    run_with([z(2, "span_page", 4, 0x800)])


def test_rep_stos_into_a_watched_range_stops_there():
    run_with([z(2, "span_page", 4, 0x10)],
             # once per byte written; rip stays on the rep stosb while
             # iterations remain
             [(b"T05watch:%x;" % (SYM["span_page"] + 0x10), SYM["string_ops"] + 0xd)] * 4)


def test_rep_stos_and_movs_across_a_read_watched_page():
    run_with([z(3, "span_page", 4, 0x800)])


def test_exceptions_with_a_watch_on_their_stack_page():
    # The #UD frames are pushed by the CPU onto a write-trapped page (the
    # IST1 stack), unused bytes of which are watched.
    run_with([z(2, "ist_stack_top", 4, -0x1000)])


def test_exceptions_with_a_write_watch_on_the_idt_and_tss_page():
    run_with([z(2, "sys_page", 4, 0xf00)])


def test_exceptions_with_a_read_watch_on_the_idt_and_tss_page():
    # Delivery reads the gate and IST1 from a page left out of the slots.
    run_with([z(3, "sys_page", 4, 0xf00)])


def test_exception_frame_pushed_onto_a_watched_stack_holds_the_guests_flags():
    # The frame goes to a write-trapped page, so kvmstub delivers the #UD
    # in a single step; the RFLAGS image must not carry that step's TF.
    with testlib.Stub([testlib.guest(IMAGE)]) as st:
        c = st.client()
        assert c.cmd(z(2, "ist_stack_top", 4, -0x1000)) == b"OK"
        after_first = SYM["ud_handler"] + 5  # addq $2,(%rsp) ran
        assert c.cmd("Z1,%x,1" % after_first) == b"OK"
        assert c.cmd("c").startswith(b"T05hwbreak")
        regs = bytes.fromhex(c.cmd("g").decode())
        esp = struct.unpack_from("<I", regs, 4 * 4)[0]
        frame = struct.unpack("<5Q", bytes.fromhex(c.cmd("m%x,28" % esp).decode()))
        assert frame[0] == SYM["raise_ud"] + 2 and frame[1] == 8, [hex(v) for v in frame]
        assert not frame[2] & 0x100, "TF in the frame: %#x" % frame[2]
        assert frame[3] == SYM["stack_top"], hex(frame[3])


def test_page_tables_on_a_watched_page_no_stall():
    # The guest's own stores to the last directory entry stop (rep stosl
    # clearing it, then the fill loop); then every page walk goes through
    # the write-trapped directory to the end.
    last_pde = SYM["page_directory"] + 511 * 8
    run_with(["Z2,%x,4" % last_pde], [(b"T05watch:%x;" % last_pde, None)] * 2)


def test_breakpoints_and_watches_everywhere_at_once():
    run_with([z(0, "never_run_32"), z(0, "hot_site"), z(2, "span_page", 4, 0x800),
              z(2, "ist_stack_top", 4, -0x1000), z(3, "sys_page", 4, 0xf00),
              z(0, "far_jump", 1, 0x800)])


def test_read_watch_on_a_code_page_stops_with_the_reason():
    reference()
    with testlib.Stub([testlib.guest(IMAGE)]) as st:
        c = st.client()
        assert c.cmd(z(3, "beside_gdt", 4)) == b"OK"
        reply = c.cmd("c")
        assert reply.startswith(b"T04"), reply
        # Without the watchpoint the guest goes on from where it stopped.
        assert c.cmd(z(3, "beside_gdt", 4).replace("Z", "z")) == b"OK"
        assert c.cmd("c") == b"W00"
        assert st.wait() == 0
        assert st.output() == EXPECTED
        err = st.proc.stderr.read()
        assert b"read/access watchpoint" in err and b"page 0x100000" in err, err


def test_read_watch_on_page_tables_stops_with_the_reason_then_runs_on():
    # Every page walk reads the trapped directory: the guest could only
    # crawl (one lifted instruction at a time), so it stops and says why.
    ref = reference()
    watch = z(3, "page_directory", 4, 0x800)
    with testlib.Stub([testlib.guest(IMAGE)]) as st:
        c = st.client()
        c.sock.settimeout(60)
        assert c.cmd(watch) == b"OK"
        reply = c.cmd("c")
        assert reply.startswith(b"T04"), reply
        assert c.cmd(watch.replace("Z", "z")) == b"OK"
        assert c.cmd("c") == b"W00"
        assert st.wait() == 0
        assert st.output() == ref
        err = st.proc.stderr.read()
        assert b"one instruction at a time" in err and \
            b"page 0x%x" % SYM["page_directory"] in err, err


def test_step_over_the_far_jump_with_a_breakpoint_on_the_gdt_page():
    ref = reference()
    with testlib.Stub([testlib.guest(IMAGE)]) as st:
        c = st.client()
        assert c.cmd(z(0, "never_run_32")) == b"OK"
        assert c.cmd(z(1, "far_jump")) == b"OK"
        assert c.cmd("c").startswith(b"T05hwbreak"), "no stop at the far jump"
        assert pc_of(c) == SYM["far_jump"]
        assert c.cmd(z(1, "far_jump").replace("Z", "z")) == b"OK"
        assert c.cmd("s").startswith(b"T05")
        assert pc_of(c) == SYM["long_mode"], hex(pc_of(c))
        assert c.cmd("c") == b"W00"
        assert st.wait() == 0
        assert st.output() == ref


if __name__ == "__main__":
    testlib.main(globals())
