#!/usr/bin/env python3
"""tests/rsp/test_code_writes.py — a software breakpoint planted before the
guest writes the code under it is not lost: the guest's write lands around
it, memory reads show what the guest wrote, and the breakpoint still fires
(selfcopy.bin copies a routine to 0x3000 and calls it)."""
import struct

import testlib

TARGET = 0x3000


def pc_of(client):
    regs = bytes.fromhex(client.cmd("g").decode())
    return struct.unpack_from("<I", regs, 8 * 4)[0]


def test_breakpoint_over_code_the_guest_copies_later_still_fires():
    with testlib.Stub([testlib.guest("selfcopy.bin")]) as st:
        c = st.client()
        assert c.cmd("m%x,1" % TARGET) == b"00", "0x3000 is not empty before the copy"
        assert c.cmd("Z0,%x,1" % TARGET) == b"OK"
        assert c.cmd("m%x,1" % TARGET) == b"00", "the breakpoint byte shows in memory"
        reply = c.cmd("c")
        assert reply.startswith(b"T05") and b"swbreak" in reply, reply
        assert pc_of(c) == TARGET, hex(pc_of(c))
        # What the guest copied, not the breakpoint byte: mov $'c',%al.
        assert c.cmd("m%x,4" % TARGET) == b"b063e6e9", c.cmd("m%x,4" % TARGET)
        assert c.cmd("z0,%x,1" % TARGET) == b"OK"
        assert c.cmd("c") == b"W00"
        assert st.wait() == 0
        assert st.output() == b"copy\n"


def test_removing_the_breakpoint_leaves_the_guests_bytes():
    with testlib.Stub([testlib.guest("selfcopy.bin")]) as st:
        c = st.client()
        assert c.cmd("Z0,%x,1" % TARGET) == b"OK"
        assert c.cmd("Z0,1017,1") == b"OK"      # the call, after the copy
        reply = c.cmd("c")
        assert b"swbreak" in reply, reply
        assert pc_of(c) == 0x1017, hex(pc_of(c))
        assert c.cmd("z0,%x,1" % TARGET) == b"OK"
        assert c.cmd("z0,1017,1") == b"OK"
        assert c.cmd("c") == b"W00"
        assert st.wait() == 0
        assert st.output() == b"copy\n"


if __name__ == "__main__":
    testlib.main(globals())
