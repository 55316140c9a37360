#!/usr/bin/env python3
"""tests/rsp/test_smp_single_vcpu_features.py — what works for one vCPU
only is refused with a clear message when there are several: reverse
execution (`monitor record on`). The guest is left as it was and runs
on to its normal end."""
import testlib
from rsplib import Stub
from testlib import guest


def test_record_on_with_two_vcpus_says_it_records_one():
    with Stub(["--smp", "2", guest("smp64.elf")]) as st:
        c = st.client()
        text, _ = c.monitor("record on")
        assert "reverse execution records one vCPU; this machine has 2 (--smp)" in text, text
        text, _ = c.monitor("record status")
        assert "recording: off" in text, text
        stop = c.cont(timeout=60)
        assert stop.kind == "W" and stop.code == 0, stop


testlib.main(globals())
