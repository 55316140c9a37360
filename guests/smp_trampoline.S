/* guests/smp_trampoline.S — what an application processor runs after
 * INIT/SIPI, for smp64.elf. The BSP copies tramp_start..tramp_end to
 * TRAMP_ADDR (the SIPI vector's page) and stores its CR3 in the copy; an
 * AP starts there in real mode, goes to protected mode, then straight to
 * long mode (PAE, EFER.LME, paging with the BSP's tables) and jumps to
 * ap_entry64, which gives it a stack by its APIC id and calls ap_main.
 * The code is position-dependent on TRAMP_ADDR (= smp.c's). */
#define TRAMP_ADDR 0x7000
#define AT(label) (TRAMP_ADDR + ((label) - tramp_start))

	.section .text, "ax"
	.globl tramp_start, tramp_end, tramp_cr3, ap_entry64
	.code16
tramp_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	AT(tramp_gdtr)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $AT(tramp_pm)

	.code32
tramp_pm:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	%cr4, %eax
	orl	$0x20, %eax		/* PAE */
	movl	%eax, %cr4
	movl	AT(tramp_cr3), %eax
	movl	%eax, %cr3
	movl	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	orl	$0x100, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$0x80000000, %eax	/* paging: long mode is active */
	movl	%eax, %cr0
	ljmpl	$0x18, $AT(tramp_lm)

	.code64
tramp_lm:
	movabsq	$ap_entry64, %rax
	jmpq	*%rax

	.p2align 3
tramp_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: 32-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: data */
	.quad	0x00af9b000000ffff	/* 0x18: 64-bit code */
tramp_gdtr:
	.word	4 * 8 - 1
	.long	AT(tramp_gdt)
tramp_cr3:
	.long	0
tramp_end:

/* Long mode at last: a stack from the APIC id, then C. */
ap_entry64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$0xfee00020, %eax	/* LAPIC ID register */
	movl	(%rax), %eax
	shrl	$24, %eax
	movl	%eax, %edi
	incl	%eax
	shlq	$12, %rax
	leaq	ap_stacks(%rip), %rsp
	addq	%rax, %rsp
	xorl	%ebp, %ebp
	call	ap_main
	cli
1:	hlt
	jmp	1b
