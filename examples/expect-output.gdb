# examples/expect-output.gdb — a CI check: run the guest to its end and
# fail the job unless its output has an expected line.
#
# kvmstub writes the guest's output (COM1, port 0xe9) to its standard
# output; the command line sends that to guest.log, which this script
# reads once the guest has exited. For your kernel, change the line on the
# line marked EDIT. gdb exits 1 when the guest crashes, when the line is
# missing and on any gdb error; 0 otherwise. examples/README.md has the
# command lines.

set confirm off
set pagination off

continue
if $_isvoid($_exitcode)
  echo FAIL: the guest did not exit: it stopped with a signal (a crash)\n
  quit 1
end

# EDIT: the line the guest must have printed (grep -x: the whole line).
shell grep -qx 'cdemo done' guest.log
if $_shell_exitcode != 0
  echo FAIL: the guest's output lacks the line "cdemo done"; it was:\n
  shell cat guest.log
  quit 1
end
printf "PASS: the guest printed \"cdemo done\" and exited with status %d\n", $_exitcode
