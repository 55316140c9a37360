#!/usr/bin/env python3
"""tests/rsp/test_keyboard_early_keys.py — keys that are on stdin before
the guest has initialised its keyboard controller all reach it, in order:
kbdecho (a polling kernel that starts with the i8042 self-test, as
tutorial kernels do) reads 0x55 and then every key, with and without gdb.
Under gdb the keys are typed before the guest's first instruction, which
is the case that used to put a key between the self-test command and its
answer."""
import subprocess
import time

import testlib
from rsplib import Stub
from testlib import guest

KEYS = b"Hello, World! {x|y} ~_+\nq"
ECHO = b"kbc ok\nHello, World! {x|y} ~_+\n"
RUNS = 30


def without_gdb():
    status, out, err = testlib.run(["--no-gdb", "--keyboard", guest("kbdecho.elf")],
                                   input_bytes=KEYS, timeout=60)
    return status, out


def under_gdb():
    st = Stub(["--keyboard", guest("kbdecho.elf")], stdin=subprocess.PIPE)
    try:
        st.proc.stdin.write(KEYS)
        st.proc.stdin.close()
        c = st.client()
        # Stopped at the first instruction for longer than kvmstub's
        # input poll (10 ms): the keys are typed before the guest runs.
        time.sleep(0.05)
        stop = c.cont(timeout=60)
        assert stop.kind == "W" and stop.code == 0, stop
        c.close()
        status, out, _ = st.finish()
        return status, out
    finally:
        st.close()


def test_keys_sent_at_start_up_all_echo_in_30_runs_with_and_without_gdb():
    wrong = []
    for i in range(RUNS):
        how, run = ("under gdb", under_gdb) if i % 2 else ("without gdb", without_gdb)
        got = run()
        if got != (0, ECHO):
            wrong.append((i, how, got))
    assert not wrong, "%d of %d runs lost or garbled keys: %r" % (len(wrong), RUNS, wrong[:3])


if __name__ == "__main__":
    testlib.main(globals())
