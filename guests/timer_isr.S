/* guests/timer_isr.S — the interrupt and exception entry stubs of the timer
 * kernel and the COM1-interrupt echo kernel, for 32-bit (iret) and 64-bit
 * (iretq) builds. Each stub pushes a
 * zero where the CPU pushes no error code, then its vector, saves the
 * caller-saved registers and calls isr_dispatch(struct isr_frame *) in
 * the kernel's C file; the frame is what the C side may change (ip, eax/rax). */
	.section .text
#ifdef __x86_64__
	.code64
#define STUB(vec) isr_##vec: pushq $0; pushq $vec; jmp isr_common
#define STUB_ERR(vec) isr_##vec: pushq $vec; jmp isr_common
#else
	.code32
#define STUB(vec) isr_##vec: pushl $0; pushl $vec; jmp isr_common
#define STUB_ERR(vec) isr_##vec: pushl $vec; jmp isr_common
#endif

	.globl isr_0, isr_3, isr_6, isr_13, isr_32, isr_36, isr_39, isr_48, isr_64, isr_128, isr_255
STUB(0)
STUB(3)
STUB(6)
STUB_ERR(13)
STUB(32)
STUB(36)
STUB(39)
STUB(48)
STUB(64)
STUB(128)
STUB(255)

	.globl isr_common, isr_return
isr_common:
#ifdef __x86_64__
	/* The CPU aligned rsp to 16 before its 5-qword frame; with the two
	 * pushes above and the nine below, rsp is 16-aligned at the call. */
	push	%rax
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	mov	%rsp, %rdi
	cld
	call	isr_dispatch
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rax
	add	$16, %rsp
isr_return:
	iretq
#else
	pushal
	push	%esp
	cld
	call	isr_dispatch
	add	$4, %esp
	popal
	add	$8, %esp
isr_return:
	iret
#endif
