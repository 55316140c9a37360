"""bench/reverse.py — the reverse-execution rows of bench/bench.py, kvmstub
only (QEMU's gdbstub has no reverse execution under KVM): how much slower
the guest runs while recording (with KVM's instruction counter, and by
single-stepping every instruction as hosts without it must), `reverse-stepi` latency with ~10 million
instructions of history, `reverse-continue` to a breakpoint ~1 million
instructions back, and the memory the history holds for that window.

One gdb session each, timed inside gdb (python), on guests/revdemo64 whose
C loop runs ~40 instructions a round."""
import os
import re
import statistics
import subprocess
import tempfile
import time

ROUND_INSNS = 40          # instructions one round of revdemo's loop takes (about)
HISTORY = 10_000_000      # instructions of history for reverse-stepi
BACK = 1_000_000          # how far back reverse-continue goes


class ReverseBenchError(Exception):
    pass


def _session(build, port, script, record, timeout=600, env=None, machine="pc"):
    stub = subprocess.Popen(
        [os.path.join(build, "kvmstub"), "--gdb", str(port), "--machine", machine]
        + (["--record"] if record else [])
        + ["--record-limit", "4G", os.path.join(build, "guests", "revdemo64.elf")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=dict(os.environ, **(env or {})))
    try:
        # Wait for the listening line.
        line = b""
        deadline = time.monotonic() + 20
        while b"listening" not in line and time.monotonic() < deadline:
            line += stub.stderr.readline()
        with tempfile.NamedTemporaryFile("w", suffix=".gdb", delete=False) as f:
            f.write("set confirm off\nset pagination off\n")
            f.write("file %s\n" % os.path.join(build, "guests", "revdemo64.elf"))
            f.write("target remote 127.0.0.1:%d\n" % port)
            f.write(script)
            name = f.name
        try:
            out = subprocess.run(["gdb", "-batch", "-nx", "-x", name], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, timeout=timeout).stdout.decode()
        finally:
            os.unlink(name)
        return out
    finally:
        if stub.poll() is None:
            stub.kill()
        stub.wait()
        stub.stderr.close()


def _value(out, name):
    m = re.search(r"BENCH_%s ([0-9.]+)" % name, out)
    if not m:
        raise ReverseBenchError("no %s in gdb output: %s" % (name, out[-800:]))
    return float(m.group(1))


def measure_reverse(kind, build, port):
    if kind != "kvmstub":
        raise ReverseBenchError("QEMU's gdbstub has no reverse execution under KVM")
    rounds = HISTORY // ROUND_INSNS
    marker = rounds - BACK // ROUND_INSNS
    run = ("set var iterations = %d\nset var marker = %d\nbreak string_out\n"
           "python import time; t0 = time.monotonic()\ncontinue\n"
           "python print('BENCH_RUN %%.6f' %% (time.monotonic() - t0))\n" % (rounds, marker))
    plain = _session(build, port, run + "kill\n", record=False)
    script = run + (
        "python\n"
        "import re\n"
        "s = gdb.execute('monitor record status', to_string=True)\n"
        "print('BENCH_INSNS %s' % re.search(r'instructions recorded: (\\d+)', s).group(1))\n"
        "print('BENCH_BYTES %s' % re.search(r'history memory: (\\d+)', s).group(1))\n"
        "times = []\n"
        "for n in range(20):\n"
        "    t = time.monotonic()\n"
        "    gdb.execute('reverse-stepi', to_string=True)\n"
        "    times.append(time.monotonic() - t)\n"
        "times.sort()\n"
        "print('BENCH_RSTEPI %.6f' % times[len(times) // 2])\n"
        "end\n"
        "break at_marker\n"
        "python t = time.monotonic()\n"
        "reverse-continue\n"
        "python print('BENCH_RCONT %.6f' % (time.monotonic() - t))\n"
        "python print('BENCH_HIT %d' % (gdb.selected_frame().name() == 'at_marker'))\n"
        "kill\n")
    rec = _session(build, port, script, record=True)
    hit = _value(rec, "HIT")
    out = {
        "rev_record_slowdown": _value(rec, "RUN") / _value(plain, "RUN"),
        "rev_stepi": _value(rec, "RSTEPI"),
        "rev_continue": _value(rec, "RCONT"),
        "rev_memory": _value(rec, "BYTES"),
        "rev_insns": _value(rec, "INSNS"),
    }
    if not hit:
        raise ReverseBenchError("reverse-continue did not stop at at_marker")
    # The portable fallback (hosts without the counter): every instruction
    # single-stepped, on a 1M-instruction run.
    short = ("set var iterations = %d\nbreak string_out\n"
             "python import time; t0 = time.monotonic()\ncontinue\n"
             "python print('BENCH_RUN %%.6f' %% (time.monotonic() - t0))\nkill\n"
             % (BACK // ROUND_INSNS))
    # (the bare machine: recording by steps does not take interrupts yet)
    base = _session(build, port, short, record=False, machine="bare")
    stepped = _session(build, port, short, record=True, machine="bare",
                       env={"KVMSTUB_TEST_RECORD_BY_STEPS": "1"})
    out["rev_record_steps_slowdown"] = _value(stepped, "RUN") / _value(base, "RUN")
    return out
