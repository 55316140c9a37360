#!/usr/bin/env python3
"""tests/gdb/test_gdb_basics.py — stock gdb (`gdb -batch -nx`) debugging the C
guests through kvmstub: breakpoints on C functions, next/step/finish/bt,
memory, registers, running to the end. Asserts on what gdb prints, as a
user reads it, and on kvmstub's status and the guest's output."""
import gdblib
import testlib
from gdblib import session

CDEMO_OUT = b"step\ncdemo done\n"
CDEMO_STATUS = 15           # exit device value 7: (7 << 1) | 1
HELLO64_OUT = b"Hello from long mode\n"

LONG_MODE_CR0_BITS = 0x80000001   # PG | PE
EFER_LMA = 0x400


def test_break_on_add_in_long_mode_stops_with_its_arguments():
    r = session("cdemo64.elf", ["break add", "continue", "p a", "p b"])
    r.expect("Breakpoint 1 at 0x", "file guests/cdemo.c, line 19.",
             "Breakpoint 1, add (a=0, b=1) at guests/cdemo.c:19",
             "19\t\treturn a + b;")
    assert r.values() == ["0", "1"], r.describe()


def test_break_on_add_in_protected_mode_stops_with_its_arguments():
    r = session("cdemo32.elf", ["break add", "continue", "p a", "p b"])
    r.refuse("internal-error", "Architecture rejected")
    r.expect("Breakpoint 1, add (a=0, b=1) at guests/cdemo.c:19")
    assert r.values() == ["0", "1"], r.describe()


def test_break_on_kernel_main_in_hello64_stops_there():
    r = session("hello64.elf", ["break kernel_main", "continue", "p counter"])
    r.expect("Breakpoint 1, kernel_main () at guests/hello.c:")
    assert r.values() == ["0"], r.describe()


def test_breakpoint_hit_again_after_continue_has_the_next_arguments():
    r = session("cdemo64.elf", ["break add", "continue", "continue", "continue"])
    r.expect("Breakpoint 1, add (a=0, b=1)", "Breakpoint 1, add (a=1, b=1)",
             "Breakpoint 1, add (a=2, b=1)")


def test_next_step_bt_and_finish_walk_through_cdemo64():
    r = session("cdemo64.elf", [
        "break kernel_main", "continue",
        "next", "next", "next",      # watched = 42; seen = watched; for (...)
        "step",                      # into add(i, 1)
        "bt",
        "finish",
        "next", "next",              # back round the loop, into add again
        "p i", "p counter"])
    r.expect("Breakpoint 1, kernel_main () at guests/cdemo.c:35",
             "35\t\twatched = 42;",
             "36\t\tseen = watched;",
             "37\t\tfor (i = 0; i < 5; i++)",
             "38\t\t\tcounter += add(i, 1);",
             "add (a=0, b=1) at guests/cdemo.c:19",
             "#0  add (a=0, b=1) at guests/cdemo.c:19",
             "#1  0x", " in kernel_main () at guests/cdemo.c:38",
             "#2  0x", " in _start () at guests/start64.S:",
             "kernel_main () at guests/cdemo.c:38",
             "Value returned is $1 = 1")
    assert r.values()[-2:] == ["1", "1"], r.describe()   # i == 1, counter == 0 + 1


def test_x_and_set_var_read_and_write_guest_memory():
    r = session("cdemo64.elf", [
        "break step_target", "continue",     # the loop is done: counter == 15
        "x/4xb &counter",
        "p counter",
        "set var counter = 1234",
        "p counter",
        "x/4xb &counter",
        "x/dw &counter",
        "p watched",
        "p seen"])
    r.expect("Breakpoint 1, step_target () at guests/cdemo.c:",
             "<counter>:\t0x0f\t0x00\t0x00\t0x00",
             "<counter>:\t0xd2\t0x04\t0x00\t0x00",
             "<counter>:\t1234")
    assert r.values() == ["15", "1234", "42", "42"], r.describe()


def test_x_s_shows_a_string_in_guest_memory():
    r = session("cdemo64.elf", ["break print", "continue", "x/s s", "p *s@5"])
    r.expect('Breakpoint 1, print (s=0x', ' "cdemo done\\n") at guests/uart.c:',
             ':\t"cdemo done\\n"')
    assert r.values() == ['"cdemo"'], r.describe()


def test_set_var_changes_what_the_guest_computes():
    # add(a, b) returns a + b: change a at the breakpoint and finish shows it.
    r = session("cdemo64.elf", ["break add", "continue", "set var a = 100",
                                "finish"])
    r.expect("Breakpoint 1, add (a=0, b=1)", "Value returned is $1 = 101")


def test_info_registers_shows_segment_and_control_registers_in_long_mode():
    r = session("cdemo64.elf", [
        "break add", "continue",
        "info registers",
        "p/x $cr0", "p/x $cr3", "p/x $efer", "p/x $cs",
        "info registers cr0",
        "info registers rip"])
    r.refuse("Invalid register", "too long")
    for name in ("rax", "rsp", "rip", "eflags", "cs", "ss", "ds", "cr0", "cr3", "efer"):
        assert any(line.split()[:1] == [name] for line in r.out.splitlines()), \
            "info registers lacks %s:\n%s" % (name, r.describe())
    cr0, cr3, efer, cs = (int(v, 16) for v in r.values())
    assert cr0 & LONG_MODE_CR0_BITS == LONG_MODE_CR0_BITS, hex(cr0)
    assert efer & EFER_LMA, hex(efer)
    assert cr3 != 0 and cr3 & 0xfff == 0, hex(cr3)
    assert cs != 0, hex(cs)
    r.expect("cr0            0x%x" % cr0)
    r.expect("rip            0x", "<add+")


def test_continue_to_the_end_reports_exit_code_017_and_status_15():
    r = session("cdemo64.elf", ["continue"])
    r.expect("[Inferior 1 (Remote target) exited with code 017]")
    assert r.status == CDEMO_STATUS, r.describe()
    assert r.stub_out == CDEMO_OUT, r.describe()


def test_continue_to_the_end_of_hello64_exits_normally_with_status_0():
    r = session("hello64.elf", ["continue"])
    r.expect("[Inferior 1 (Remote target) exited normally]")
    assert r.status == 0, r.describe()
    assert r.stub_out == HELLO64_OUT, r.describe()


def test_continue_past_a_breakpoint_to_the_end_keeps_the_guest_output():
    r = session("cdemo64.elf", ["break step_target", "continue", "delete",
                                "continue"])
    r.expect("Breakpoint 1, step_target ()",
             "[Inferior 1 (Remote target) exited with code 017]")
    assert r.status == CDEMO_STATUS and r.stub_out == CDEMO_OUT, r.describe()


def test_protected_mode_elf32_break_print_finish_and_i386_registers():
    r = session("cdemo32.elf", [
        "break add", "continue",
        "p a + b",
        "info registers",
        "p/x $eip", "p sizeof($eax)",
        "finish",
        "delete", "continue"])
    r.refuse("internal-error", "Remote 'g' packet reply is too long",
             "Architecture rejected", "rip ")
    r.expect("Breakpoint 1, add (a=0, b=1) at guests/cdemo.c:19",
             "eax            0x", "esp            0x", "eip            0x",
             "eflags         0x", "cs             0x8",
             "Value returned is", " = 1",
             "[Inferior 1 (Remote target) exited with code 017]")
    total, eip, eax_size = r.values()[:3]
    assert total == "1", r.describe()
    assert 0x100000 <= int(eip, 16) < 0x101000, r.describe()
    assert eax_size == "4", r.describe()
    assert r.status == CDEMO_STATUS and r.stub_out == CDEMO_OUT, r.describe()


def test_remote_log_has_swbreak_stop_reply_and_no_oversized_g_reply():
    stub = testlib.Stub([testlib.guest("cdemo64.elf")])
    lines = gdblib.PREAMBLE + ["file " + testlib.guest("cdemo64.elf"),
                               "set debug remote 1", stub.gdb_target(),
                               "break add", "continue", "info registers rip"]
    r = gdblib.run_script(stub, lines)
    r.refuse("Remote 'g' packet reply is too long", "internal-error")
    r.expect("Sending packet: $vCont;c", "Packet received: T05", "swbreak:",
             "Breakpoint 1, add (", "a=0, b=1)")
    after_continue = r.out[r.out.index("Sending packet: $vCont;c"):]
    stop = [l for l in after_continue.splitlines() if "Packet received: T" in l][0]
    assert "T05swbreak:;" in stop and "thread:" in stop, stop
    # The expedited pc (register 16 in the x86-64 layout) is add's breakpoint.
    assert ";10:" in stop, stop


if __name__ == "__main__":
    testlib.main(globals())
