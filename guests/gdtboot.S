/* guests/gdtboot.S — the usual way into a 64-bit kernel, with the CPU's own
 * accesses to system tables on the pages a debugger likes to trap: an ELF32
 * entered in protected mode loads its GDT (descriptors not yet "accessed"),
 * which shares the first page with the entry code, builds page tables and
 * far-jumps to 64-bit code. Then, each printed on port 0xe9 so a run with
 * gdb can be compared with one without:
 *   seg   segment loads (the CPU sets the accessed bits in the GDT)
 *   ltr   the TSS descriptor becomes busy
 *   bes   a store to `beside_gdt`, the word right after the GDT
 *   ud    two #UD delivered through the IDT, on the TSS's IST1 stack
 *   hot   3000 stores to `hot_data`, which shares a page with `hot_site`
 *   rep   rep stosb/movsb across the boundary into and out of `span_page`
 * and ends with cli; hlt (status 0).
 *
 * Linked at 1 MiB (build/guests/gdtboot.elf): the first page (0x100000)
 * holds _start, the GDT and `beside_gdt`; `sys_page` holds the IDT and the
 * TSS, whose IST1 stack the #UD handler runs on. This file is
 * assembled as 32-bit ELF: 64-bit code names addresses only through
 * `mov $symbol, %reg` (a 32-bit relocation). */
	.set	CODE64, 0x08
	.set	DATA, 0x10
	.set	TSS_SEL, 0x18

	.code32
	.section .text.start, "ax"
	.globl	_start, gdt, beside_gdt, idt, tss, never_run_32, long_mode
_start:
	cli
	lgdt	gdtr
	/* Page tables: PML4 -> PDPT -> one directory of 2 MiB pages, 1 GiB. */
	mov	$pml4, %edi
	mov	$(3 * 4096 / 4), %ecx
	xor	%eax, %eax
	rep stosl
	movl	$(pdpt + 3), pml4
	movl	$(page_directory + 3), pdpt
	mov	$page_directory, %edi
	mov	$0x83, %eax
	mov	$512, %ecx
1:	mov	%eax, (%edi)
	add	$0x200000, %eax
	add	$8, %edi
	loop	1b
	mov	$pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$0xc0000080, %ecx	/* EFER.LME */
	rdmsr
	or	$0x100, %eax
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax
	mov	%eax, %cr0
	.globl	far_jump
far_jump:
	ljmp	$CODE64, $long_mode
never_run_32:
	hlt

	.p2align 3
gdt:
	.quad	0
	.quad	0x00af9a000000ffff	/* 0x08 code64, accessed bit clear */
	.quad	0x00cf92000000ffff	/* 0x10 data, accessed bit clear */
	.word	0x67			/* 0x18 TSS64 (base filled in at run time) */
	.word	0
	.byte	0
	.byte	0x89			/* present, available 64-bit TSS */
	.byte	0
	.byte	0
	.long	0
	.long	0
gdt_end:
beside_gdt:
	.long	0
gdtr:
	.word	gdt_end - gdt - 1
	.long	gdt
idtr:
	.word	7 * 16 - 1
	.long	idt, 0


	.code64
long_mode:
	mov	$DATA, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$stack_top, %esp
	.globl	after_segments
after_segments:
	mov	$'s', %al
	mov	$'e', %ah
	mov	$'g', %bl
	call	print3
	mov	$gdt, %esi
	movzbl	8 + 5(%rsi), %eax	/* code64 access byte: 0x9b once loaded */
	call	print_hex
	movzbl	16 + 5(%rsi), %eax	/* data: 0x93 */
	call	print_hex
	call	newline

	/* ltr: the TSS descriptor (base = tss) becomes busy (type 0xb). */
	mov	$tss, %eax
	mov	%ax, 24 + 2(%rsi)
	shr	$16, %eax
	mov	%al, 24 + 4(%rsi)
	mov	%ah, 24 + 7(%rsi)
	mov	$TSS_SEL, %ax
	.globl	load_tr
load_tr:
	ltr	%ax
	mov	$'l', %al
	mov	$'t', %ah
	mov	$'r', %bl
	call	print3
	movzbl	24 + 5(%rsi), %eax	/* 0x8b: busy */
	call	print_hex
	call	newline

	mov	$beside_gdt, %edi
	.globl	store_beside_gdt
store_beside_gdt:
	movl	$0x5a5a, (%rdi)
	mov	$'b', %al
	mov	$'e', %ah
	mov	$'s', %bl
	call	print3
	mov	(%rdi), %eax
	call	print_hex
	call	newline

	/* #UD through the IDT, twice, on the stack the TSS names as IST1. */
	mov	$tss, %edi
	movl	$ist_stack_top, 0x24(%rdi)
	mov	$idt + 6 * 16, %edi
	mov	$ud_handler, %eax
	mov	%ax, (%rdi)
	movw	$CODE64, 2(%rdi)
	movw	$0x8e01, 4(%rdi)	/* present interrupt gate, IST 1 */
	shr	$16, %eax
	mov	%ax, 6(%rdi)
	movl	$0, 8(%rdi)
	movl	$0, 12(%rdi)
	mov	$idtr, %eax
	lidt	(%rax)
	.globl	raise_ud
raise_ud:
	ud2
	ud2
	mov	$'u', %al
	mov	$'d', %ah
	mov	$' ', %bl
	call	print3
	mov	$ud_count, %eax
	mov	(%rax), %eax
	call	print_hex
	call	newline
	jmp	hot

ud_handler:
	addq	$2, (%rsp)		/* past the ud2 */
	push	%rax
	mov	$ud_count, %eax
	incl	(%rax)
	pop	%rax
	iretq

print3:
	out	%al, $0xe9
	mov	%ah, %al
	out	%al, $0xe9
	mov	%bl, %al
	out	%al, $0xe9
	ret

/* eax as " 0x%x". */
print_hex:
	push	%rcx
	push	%rdx
	mov	%eax, %edx
	mov	$' ', %al
	out	%al, $0xe9
	mov	$'0', %al
	out	%al, $0xe9
	mov	$'x', %al
	out	%al, $0xe9
	mov	$28, %ecx
	/* skip leading zeros, keep the last digit */
2:	mov	%edx, %eax
	shr	%cl, %eax
	and	$0xf, %eax
	jnz	3f
	sub	$4, %ecx
	jnz	2b
3:	mov	%edx, %eax
	shr	%cl, %eax
	and	$0xf, %eax
	cmp	$10, %al
	jb	4f
	add	$('a' - '0' - 10), %al
4:	add	$'0', %al
	out	%al, $0xe9
	sub	$4, %ecx
	jns	3b
	pop	%rdx
	pop	%rcx
	ret

newline:
	mov	$'\n', %al
	out	%al, $0xe9
	ret

	/* A page of its own: a loop storing next to a breakpoint site. */
	.p2align 12
	.globl	hot, hot_loop, hot_site, hot_data
hot:
	mov	$hot_data, %edi
	xor	%ecx, %ecx
	xor	%edx, %edx
hot_loop:
	mov	%ecx, (%rdi)		/* the store next to the breakpoint */
	add	(%rdi), %edx
	inc	%ecx
	cmp	$3000, %ecx
	jne	hot_loop
	mov	%edx, %eax
	jmp	hot_done
hot_site:				/* never run: a breakpoint here is not hit */
	nop
	hlt
hot_done:
	push	%rax
	mov	$'h', %al
	mov	$'o', %ah
	mov	$'t', %bl
	call	print3
	pop	%rax
	call	print_hex		/* 0 + 1 + ... + 2999 = 0x44a444 */
	call	newline
	jmp	string_ops
	.p2align 6
hot_data:
	.long	0

	.p2align 12
	.globl	string_ops, span_page
string_ops:
	cld
	/* 0x80 bytes of 0xa5 from 0x40 before span_page into it ... */
	mov	$span_page - 0x40, %edi
	mov	$0xa5, %al
	mov	$0x80, %ecx
	rep stosb
	/* ... and copied from there out of it, 0x40 after its end. */
	mov	$span_page - 0x40, %esi
	mov	$span_page + 0x1000 - 0x40, %edi
	mov	$0x80, %ecx
	rep movsb
	mov	$span_page + 0x1000 - 0x40, %esi
	xor	%edx, %edx
	mov	$0x80, %ecx
5:	movzbl	(%rsi), %eax
	add	%eax, %edx
	inc	%rsi
	loop	5b
	mov	$'r', %al
	mov	$'e', %ah
	mov	$'p', %bl
	call	print3
	mov	%edx, %eax
	call	print_hex		/* 0x80 * 0xa5 = 0x5280 */
	call	newline
	.globl	the_end
the_end:
	cli
	hlt

	.data
	.globl	sys_page
sys_page:				/* the IDT and the TSS, a page of data */
idt:
	.skip	7 * 16
	.p2align 4
tss:
	.skip	0x68
	.p2align 12
ud_count:
	.long	0

	.bss
	.p2align 12
	.skip	0x1000
span_page:
	.skip	0x1000
	.skip	0x1000
pml4:	.skip	0x1000
pdpt:	.skip	0x1000
page_directory:
	.skip	0x1000
	.globl	page_directory, stack_page, stack_top, ist_stack_top
stack_page:
	.skip	0x1000
stack_top:
	.skip	0x1000
ist_stack_top:
