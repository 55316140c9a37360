# examples/fail-on-crash.gdb — a CI check: run the guest to its end and
# fail the job if it crashed, showing where.
#
# kvmstub reports a guest crash (triple fault, an instruction the host
# cannot run, a failed VM entry) to gdb as a stop with a signal, so the
# state at the crash can be printed before the job fails. gdb exits 1 on
# a crash and on any gdb error; 0 when the guest exited by itself, whatever
# its status (kvmstub's own exit status carries that). examples/README.md
# has the command lines.

set confirm off
set pagination off

continue
if $_isvoid($_exitcode)
  echo FAIL: the guest crashed; its state at the crash:\n
  info registers
  info registers system
  x/4i $pc
  quit 1
end
printf "PASS: the guest exited with status %d\n", $_exitcode
