/* guests/triplefault.S — a guest that dies: it enters 32-bit protected mode
 * by itself, loads an empty IDT (limit 0) and executes ud2. #UD, then #GP,
 * then #DF find no descriptor, so the CPU shuts down (triple fault).
 * kvmstub must report a crash, never status 0. */
	.code16
	.text
	.globl start
start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	lgdtl	gdt_descriptor
	mov	%cr0, %eax
	or	$1, %eax		/* CR0.PE */
	mov	%eax, %cr0
	ljmpl	$0x08, $protected_entry

	.code32
protected_entry:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	lidt	empty_idt
faulting_insn:
	ud2
	hlt				/* never reached */

	.p2align 3
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad	0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_end:
gdt_descriptor:
	.word	gdt_end - gdt - 1
	.long	gdt
empty_idt:
	.word	0
	.long	0
