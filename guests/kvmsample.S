/* guests/kvmsample.S — never ends: writes 0, 1, 2, ... as 16-bit values to
 * port 0x10. With --trace-io every write shows on stderr; only a signal
 * (or gdb) stops it. */
	.code16
	.text
	.globl start
start:
	xor	%ax, %ax
1:	out	%ax, $0x10
	inc	%ax
	jmp	1b
