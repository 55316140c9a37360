#!/usr/bin/env python3
"""tests/rsp/test_connections.py — gdb sessions coming and going: detach,
dropped connections, a second gdb turned away, kill, unix sockets and
--no-wait."""
import os
import socket
import stat
import tempfile
import time

import rsplib
import testlib
from rsplib import Stop, Stub
from testlib import guest


def kvmsample(*extra):
    return Stub(list(extra) + [guest("kvmsample.bin")])


def test_detach_resumes_the_guest_and_a_new_gdb_can_attach():
    with kvmsample() as st:
        c = st.client()
        c.load_layout()
        assert c.reg("eax") == 0
        assert c.cmd("D") == b"OK"
        c.close()
        time.sleep(0.3)  # kvmsample counts in ax while nobody is attached
        c = st.client()
        lay = c.load_layout()
        stop = Stop(c.cmd("?"))
        assert stop.kind == "T" and stop.code == 2, "attach to a running guest: %r" % stop
        ax1 = c.reg("eax") & 0xffff
        assert ax1 != 0, "the guest did not run after detach"
        c.send("vCont;c")
        time.sleep(0.1)
        c.interrupt()
        stop = Stop(c.recv_timeout(5) or b"T??")
        assert stop.kind == "T" and stop.code == 2, stop
        assert c.reg("eax") & 0xffff != ax1, "guest did not run after continue"
        assert st.alive()


def test_detach_removes_breakpoints():
    with Stub([guest("stepper.bin")]) as st:
        c = st.client()
        assert c.insert(0, 0x100d) == b"OK"
        assert c.insert(1, 0x101e) == b"OK"
        assert c.cmd("D") == b"OK"
        c.close()
        status, out, err = st.finish()
        assert (status, out) == (0, b"1ok\n"), "a detached guest stopped: %r" % ((status, out, err),)


def wait_client_gone(st, timeout=2):
    """Waits until kvmstub has closed its side of the last connection
    (its open descriptors are back to the listening set)."""
    base = st.fds_listening
    assert rsplib.wait_until(lambda: rsplib.fd_count(st.proc.pid) <= base, timeout), \
        "kvmstub still holds the dropped connection"


def test_a_connection_dropped_mid_packet_leaves_the_stub_healthy():
    with kvmsample() as st:
        st.fds_listening = rsplib.fd_count(st.proc.pid)
        for partial in (b"$m10", b"$m1000,2#", b"$m1000,2#8", b"$qSupported:swbreak+;hw"):
            s = st.raw_connect()
            s.sendall(partial)
            s.close()
            wait_client_gone(st)
            time.sleep(0.05)
            c = st.client()
            assert c.cmd("qC") == b"QC1", partial
            assert c.cmd("m1000,2") == b"31c0"  # xor %ax,%ax
            c.close()
            wait_client_gone(st)
        assert st.alive()


def test_a_gdb_reconnecting_at_once_after_a_drop_is_served():
    """gdb -batch runs back to back: the next one connects the moment the
    last one hung up, and must not be taken for a second gdb."""
    with kvmsample() as st:
        for i in range(5):
            s = st.raw_connect()
            s.sendall(b"$m10")
            s.close()
            c = st.raw_connect()
            c.settimeout(3)
            c.sendall(testlib.frame("qC"))
            try:
                got = c.recv(100)
            except socket.timeout:
                got = b"(nothing within 3 s)"
            c.close()
            assert got == b"+$QC1#c5", "reconnect %d right after a drop: %r" % (i, got)
            time.sleep(0.2)


def test_a_gdb_that_hangs_up_right_after_continue_is_noticed():
    with kvmsample() as st:
        base = rsplib.fd_count(st.proc.pid)
        c = st.client()
        c.send("vCont;c")
        c.close()
        assert rsplib.wait_until(lambda: rsplib.stub_idle(st, base), 2), \
            "kvmstub still holds the connection 2 s after gdb hung up (guest running)"
        c = st.client()
        assert c.cmd("qC") == b"QC1"


def test_a_second_gdb_is_turned_away_and_the_first_keeps_working():
    with kvmsample() as st:
        c = st.client()
        c.load_layout()
        second = st.raw_connect()
        second.settimeout(5)
        got = b""
        try:
            while True:
                chunk = second.recv(100)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        assert got in (b"", b"$E10#a6"), "second gdb got %r" % got
        assert c.cmd("qC") == b"QC1"
        assert c.reg("eax") == 0
        # And while the guest runs.
        c.send("vCont;c")
        time.sleep(0.05)
        third = st.raw_connect()
        third.settimeout(5)
        data = third.recv(100)
        assert data in (b"", b"$E10#a6"), data
        c.interrupt()
        stop = Stop(c.recv_timeout(5) or b"T??")
        assert stop.kind == "T" and stop.code == 2, stop
        third.close()
        second.close()


def test_k_ends_kvmstub_with_status_12():
    with kvmsample() as st:
        c = st.client()
        c.send("k")
        status, out, err = st.finish(10)
        assert status == 12, (status, err)


def test_vkill_ends_kvmstub_with_status_12():
    with kvmsample() as st:
        c = st.client()
        reply = c.cmd("vKill;1")
        assert reply == b"OK", reply
        status, out, err = st.finish(10)
        assert status == 12, (status, err)


def test_unix_socket_works_and_is_owner_only():
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gdb.sock")
        with Stub([guest("stepper.bin")], unix=path) as st:
            mode = stat.S_IMODE(os.stat(path).st_mode)
            assert stat.S_ISSOCK(os.stat(path).st_mode)
            assert mode == 0o600, "socket mode %o" % mode
            c = st.client()
            assert c.cmd("qC") == b"QC1"
            stop = c.cont()
            assert stop.kind == "W" and stop.code == 0, stop
            status, out, _ = st.finish()
            assert (status, out) == (0, b"1ok\n")
        assert not os.path.exists(path), "socket file left behind"


def test_no_wait_runs_the_guest_without_any_gdb():
    with Stub(["--no-wait", guest("hello64.elf")]) as st:
        status, out, err = st.finish(20)
        assert (status, out) == (0, b"Hello from long mode\n"), (status, out, err)


def test_no_wait_guest_is_stopped_by_a_gdb_that_connects():
    with kvmsample("--no-wait") as st:
        time.sleep(0.2)
        c = st.client()
        c.load_layout()
        stop = Stop(c.cmd("?"))
        assert stop.kind == "T" and stop.code == 2, stop
        ax = c.reg("eax") & 0xffff
        assert ax != 0, "the guest had not run before gdb came"
        time.sleep(0.1)
        assert c.reg("eax") & 0xffff == ax, "the guest runs on while gdb is attached"


if __name__ == "__main__":
    testlib.main(globals())
