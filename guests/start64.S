/* guests/start64.S — entry of the 64-bit C guests. kvmstub starts ELF64 images
 * in long mode with identity-mapped paging; this sets up a stack in .bss
 * (16-byte aligned, as the SysV ABI wants before a call), calls kernel_main
 * and halts when it returns (status 0). */
	.code64
	.section .text.start, "ax"
	.globl _start
_start:
	cld
	mov	$stack_top, %rsp
	xor	%ebp, %ebp		/* the end of gdb's backtrace */
	call	kernel_main
	.globl halt
halt:
	hlt

	.bss
	.p2align 4
stack:
	.skip	16384
stack_top:
