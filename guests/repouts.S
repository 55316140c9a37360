/* guests/repouts.S — real mode: one `rep outsb` of 27 bytes (the alphabet and
 * a newline) to the COM1 data port, then halt. Checks that string port I/O
 * with count > 1 is carried out byte for byte. */
	.code16
	.text
	.globl start
start:
	xor	%ax, %ax
	mov	%ax, %ds		/* msg is below 64 KiB: DS base 0 reaches it */
	cld
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$0x3f8, %dx
	rep outsb
	hlt

msg:	.ascii	"ABCDEFGHIJKLMNOPQRSTUVWXYZ\n"
msg_end:
