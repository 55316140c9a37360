#!/usr/bin/env python3
"""tests/run/test_smp.py — --smp N without gdb: smp64.elf's BSP finds N
CPUs in the MP table, the MADT and fw_cfg, starts the others with
INIT/SIPI (they reach long mode and C from a real-mode trampoline), every
CPU counts with `lock` instructions, and the guest ends when every vCPU
has halted with interrupts off. Also: a vCPU that triple-faults while the
others run ends the run with a diagnosis naming it, a guest that resets
itself boots again with every vCPU (or ends, with --no-reboot), and
--smp values that cannot work are refused with one line."""
import testlib
from testlib import guest, run


def smp_lines(n):
    ids = " ".join(str(i) for i in range(n))
    cpus = "1 CPU" if n == 1 else "%d CPUs" % n
    return [
        "smp: BSP up",
        "smp: MP table: %s, APIC ids %s" % (cpus, ids),
        "smp: MADT (XSDT): %s, APIC ids %s" % (cpus, ids),
        "smp: fw_cfg: %s" % cpus,
        "smp: CPUs running: %d" % n,
        "smp: total %d" % (1000 * n),
    ]


def check_smp(n, timeout=60):
    status, out, err = run(["--no-gdb", "--smp", str(n), guest("smp64.elf")], timeout=timeout)
    lines = out.decode().splitlines()
    assert (status, lines) == (0, smp_lines(n)), \
        "--smp %d: status %s, output %r (stderr %r)" % (n, status, lines, err[-300:])


def test_one_vcpu_finds_itself_in_every_table_and_counts_alone():
    check_smp(1)


def test_two_vcpus_boot_through_init_sipi_and_count_with_lock():
    check_smp(2)


def test_four_vcpus_boot_through_init_sipi_and_count_with_lock():
    check_smp(4)


def test_sixteen_vcpus_are_listed_and_all_come_up():
    check_smp(16, timeout=120)


def test_without_smp_the_machine_has_one_vcpu():
    status, out, _ = run(["--no-gdb", guest("smp64.elf")])
    assert status == 0 and out.decode().splitlines() == smp_lines(1), out


def test_a_guest_that_resets_itself_with_four_vcpus_boots_again_with_all_of_them():
    # Scenario 4: the first boot (counted in CMOS RAM) resets through port
    # 0xcf9; the second starts the APs again with INIT/SIPI and ends.
    status, out, err = run(["--no-gdb", "--smp", "4", "--reg", "rdi=4", guest("smp64.elf")],
                           timeout=60)
    boot = smp_lines(4)
    want = boot[:1] + ["smp: boot 1"] + boot[1:] + boot[:1] + ["smp: boot 2"] + boot[1:]
    assert (status, out.decode().splitlines()) == (0, want), (status, out, err[-300:])


def test_with_no_reboot_a_reset_with_several_vcpus_ends_the_guest():
    status, out, err = run(["--no-gdb", "--no-reboot", "--smp", "2", "--reg", "rdi=4",
                            guest("smp64.elf")], timeout=60)
    boot = smp_lines(2)
    assert (status, out.decode().splitlines()) == (0, boot[:1] + ["smp: boot 1"] + boot[1:]), \
        (status, out, err[-300:])


def test_a_vcpu_that_triple_faults_ends_the_run_naming_it():
    status, out, err = run(["--no-gdb", "--smp", "4", "--reg", "rdi=2", guest("smp64.elf")],
                           timeout=60)
    assert status == 8, "status %s, stderr %r" % (status, err)
    assert b"guest crashed: triple fault (shutdown) on vCPU 1 at rip 0x" in err, err
    assert b"smp: CPUs running: 4\n" in out, out


def test_smp_counts_that_cannot_work_are_refused_with_one_line():
    for value in ("0", "256", "-1", "two", ""):
        status, _, err = run(["--smp", value, guest("smp64.elf")])
        assert status == 2, "--smp %r: status %s" % (value, status)
        assert b"--smp" in err, err
    status, _, err = run(["--no-gdb", "--machine", "bare", "--smp", "2", guest("smp64.elf")])
    assert status == 6, "bare --smp 2: status %s" % status
    assert b"--smp 2 needs the pc machine" in err, err


def test_record_with_several_vcpus_is_refused_with_one_line():
    status, out, err = run(["--no-gdb", "--record", "--smp", "2", guest("smp64.elf")], timeout=60)
    assert status == 6, "status %s, stderr %r" % (status, err)
    assert err.decode().strip().splitlines() == [
        "kvmstub: reverse execution records one vCPU; this machine has 2 (--smp)"], err
    assert out == b"", out


testlib.main(globals())
