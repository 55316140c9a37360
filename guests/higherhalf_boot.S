/* guests/higherhalf_boot.S — entry of higherhalf.elf. It starts at its
 * physical address (0x100000) under kvmstub's identity mapping, builds its own
 * 4-level page tables, switches CR3 to them and jumps to the kernel linked at
 * 0xffffffff80000000 + physical address.
 *
 * Its tables map the first 1 GiB twice with 2 MiB pages, through one page
 * directory: identity (PML4[0] -> PDPT[0]) so this code keeps running after
 * the CR3 switch, and at 0xffffffff80000000 (PML4[511] -> PDPT[510]) for the
 * kernel. The tables live in .boot.bss, at low (physical) addresses. */
	.code64
	.section .boot.text, "ax"
	.globl _start
_start:
	cld
	mov	$page_tables, %edi	/* the loader zero-fills .bss; be sure */
	mov	$(page_tables_end - page_tables) / 8, %ecx
	xor	%eax, %eax
	rep stosq

	mov	$(pdpt_low + 3), %eax	/* present | writable */
	mov	%eax, pml4
	mov	$(pdpt_high + 3), %eax
	mov	%eax, pml4 + 511 * 8
	mov	$(page_directory + 3), %eax
	mov	%eax, pdpt_low
	mov	%eax, pdpt_high + 510 * 8

	mov	$page_directory, %edi
	mov	$0x83, %eax		/* present | writable | 2 MiB page, at 0 */
	mov	$512, %ecx
fill_directory:
	mov	%eax, (%rdi)
	add	$0x200000, %eax
	add	$8, %rdi
	loop	fill_directory

	mov	$pml4, %eax
	mov	%rax, %cr3
	.globl switched_cr3
switched_cr3:
	movabs	$higher_half_entry, %rax
	jmp	*%rax

	.section .boot.bss, "aw", @nobits
	.p2align 12
page_tables:
	.globl pml4
pml4:		.skip 4096
pdpt_low:	.skip 4096
pdpt_high:	.skip 4096
page_directory:	.skip 4096
page_tables_end:

	.text
	.globl higher_half_entry
higher_half_entry:
	mov	$stack_top, %rsp
	xor	%ebp, %ebp		/* the end of gdb's backtrace */
	call	hh_main
	.globl halt
halt:
	hlt

	.bss
	.p2align 4
stack:
	.skip	16384
stack_top:
