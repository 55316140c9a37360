/* guests/mb2_header.S — the Multiboot2 header of mb2info64.elf: an
 * information request (command line, loader name, modules, basic memory
 * information, memory map), an entry address tag naming the 32-bit entry
 * _start (the ELF's e_entry is elsewhere on purpose) and the end tag. */
	.set	MB2_MAGIC, 0xe85250d6
	.set	MB2_ARCH, 0			/* i386 protected mode */
	.set	MB2_LENGTH, mb2_end - mb2_header

	.section .multiboot2, "a"
	.p2align 3
mb2_header:
	.long	MB2_MAGIC
	.long	MB2_ARCH
	.long	MB2_LENGTH
	.long	-(MB2_MAGIC + MB2_ARCH + MB2_LENGTH)

	.p2align 3
info_request:
	.short	1, 0
	.long	info_request_end - info_request
	.long	1, 2, 3, 4, 6
info_request_end:

	.p2align 3
	.short	3, 0			/* entry address */
	.long	12
	.long	_start

	.p2align 3
	.short	0, 0			/* end */
	.long	8
mb2_end:
