# examples/assert-register.gdb — a CI check: stop at a breakpoint and fail
# the job unless a register holds the value it should.
#
# Here: when kernel_main starts, rbx must still hold 0x2000, the value the
# boot code was given (kvmstub --reg rbx=0x2000). For your kernel, change
# the breakpoint, the register and the value on the lines marked EDIT.
# gdb exits 1 on a wrong value, on a guest that ends or crashes before the
# breakpoint, and on any gdb error; 0 once the check passed and the guest
# ran to its end. examples/README.md has the command lines.

set confirm off
set pagination off

# EDIT: where to stop.
break kernel_main
continue

# A guest that ended before the breakpoint has no registers: fail.
if !$_isvoid($_exitcode)
  printf "FAIL: the guest exited (status %d) before the breakpoint\n", $_exitcode
  quit 1
end

# EDIT: the register and the value it must hold.
if $rbx != 0x2000
  printf "FAIL: rbx is %#lx at kernel_main, expected 0x2000\n", $rbx
  quit 1
end
printf "PASS: rbx is 0x2000 at kernel_main\n"

# Let the guest run to its end; a crash on the way fails the job too.
delete
continue
if $_isvoid($_exitcode)
  echo FAIL: the guest crashed after the check\n
  quit 1
end
