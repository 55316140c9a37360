/* guests/long_entry.S — the 32-bit entry of the 64-bit boot-protocol
 * guests (mb2info64.elf, pvhinfo64.elf). Multiboot2 and PVH enter here in
 * flat protected mode, paging off, with eax = the Multiboot2 magic (PVH:
 * unspecified) and ebx = the information. It builds 4-level tables
 * identity-mapping the first GiB with 2 MiB pages, turns on PAE, EFER.LME
 * and CR0.PG in one go (straight into long mode: the software KVM in CI
 * allows paging only there), far-jumps to 64-bit code and calls
 * boot64_main(magic, info) with a stack; `cli; hlt` ends it (status 0).
 *
 * wrong_entry is the ELF's e_entry on purpose: the protocols name their
 * own entry (the Multiboot2 entry address tag, the PVH note), and a loader
 * that used e_entry would end the guest with status 0xff at once. */
	.code32
	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	mov	%eax, %edi		/* boot magic: boot64_main's first argument */
	mov	%ebx, %esi		/* the information: its second */
	mov	$stack_top, %esp

	mov	$(pdpt + 3), %eax	/* present | writable */
	mov	%eax, pml4
	mov	$(page_directory + 3), %eax
	mov	%eax, pdpt
	mov	$page_directory, %ebx
	mov	$0x83, %eax		/* present | writable | 2 MiB page, at 0 */
	mov	$512, %ecx
fill_directory:
	mov	%eax, (%ebx)
	add	$0x200000, %eax
	add	$8, %ebx
	loop	fill_directory

	.globl	enable_long_mode
enable_long_mode:
	mov	%cr4, %eax
	or	$0x20, %eax		/* CR4.PAE */
	mov	%eax, %cr4
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	$0xc0000080, %ecx	/* IA32_EFER */
	rdmsr
	or	$0x100, %eax		/* LME */
	wrmsr
	lgdt	gdt_pointer
	mov	%cr0, %eax
	or	$0x80000001, %eax	/* PG | PE */
	mov	%eax, %cr0
	ljmp	$0x08, $long_mode

	.code64
	.globl	long_mode
long_mode:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$stack_top, %rsp
	mov	%edi, %edi		/* upper halves are undefined after the switch */
	mov	%esi, %esi
	xor	%ebp, %ebp		/* the end of gdb's backtrace */
	call	boot64_main
	.globl	halt
halt:
	cli
	hlt

	.globl	wrong_entry
wrong_entry:
	mov	$0x7f, %al		/* the same bytes in 32- and 64-bit code */
	out	%al, $0xf4

	.data
	.p2align 12
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08: 64-bit code */
	.quad	0x00cf92000000ffff	/* 0x10: data */
gdt_pointer:
	.word	gdt_pointer - gdt - 1
	.long	gdt

	.bss
	.p2align 12
pml4:		.skip 4096
pdpt:		.skip 4096
page_directory:	.skip 4096
	.p2align 4
stack:
	.skip	16384
stack_top:
