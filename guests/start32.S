/* guests/start32.S — entry of the 32-bit C guests. kvmstub starts ELF32 images
 * in flat protected mode with no stack we may count on, so this sets one up
 * in .bss, calls kernel_main and halts when it returns (status 0). */
	.code32
	.section .text.start, "ax"
	.globl _start
_start:
	cld
	mov	$stack_top, %esp
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
