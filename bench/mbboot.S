/* bench/mbboot.S — the boot-to-first-serial-byte guest: a Multiboot v1
 * ELF32 that QEMU (-kernel) and kvmstub both boot by its header. Its first
 * instructions check the boot magic in eax and write one byte to COM1 ('K'
 * when eax holds 0x2badb002, '?' otherwise), then a newline, then
 * `cli; hlt`: kvmstub ends there, QEMU idles until the harness kills it. */
	.set	MB_MAGIC, 0x1badb002
	.set	MB_FLAGS, 0		/* ELF image: the loader reads the headers */

	.section .multiboot, "a"
	.p2align 2
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.code32
	.section .text.start, "ax"
	.globl	_start
_start:
	mov	$'K', %bl
	cmp	$0x2badb002, %eax
	je	1f
	mov	$'?', %bl
1:	mov	$0x3f8, %dx
	mov	%bl, %al
	outb	%al, %dx
	mov	$'\n', %al
	outb	%al, %dx
	cli
	hlt
