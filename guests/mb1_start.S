/* guests/mb1_start.S — entry of the Multiboot v1 guests (mb1info.elf, and
 * with MB_AOUT the a.out-kludge mb1aout.elf / mb1aout.bin). The loader
 * enters in flat protected mode with eax = 0x2badb002 and ebx = the
 * information block; this sets up a stack and calls mb1_main(eax, ebx),
 * then ends with `cli; hlt` (status 0). */
	.set	MB_MAGIC, 0x1badb002
#ifdef MB_AOUT
	/* page-align modules, memory information, address fields */
	.set	MB_FLAGS, (1 << 0) | (1 << 1) | (1 << 16)
#else
	.set	MB_FLAGS, (1 << 0) | (1 << 1)
#endif

	.section .multiboot, "a"
	.p2align 2
	.globl	mb_header
mb_header:
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)
#ifdef MB_AOUT
	.long	mb_header	/* header_addr */
	.long	_load_start	/* load_addr: the start of the text */
	.long	_edata		/* load_end_addr */
	.long	_end		/* bss_end_addr */
	.long	_start		/* entry_addr */
#endif

	.code32
	.section .text.start, "ax"
	.globl	_start
_start:
	cld
	mov	$stack_top, %esp
	xor	%ebp, %ebp		/* the end of gdb's backtrace */
	push	%ebx
	push	%eax
	call	mb1_main
	.globl	halt
halt:
	cli
	hlt

	/* Initialised data on its own page: the a.out-kludge fields then
	 * describe a text page and a data page, both in the flat file. */
	.data
	.globl	data_marker
data_marker:
	.ascii	"data"

	.bss
	.p2align 4
stack:
	.skip	16384
stack_top:
