/* guests/tiny_kernel.S — real-mode image loaded at 0 (--load 0) that writes
 * "Hello,world\n" byte by byte to port 0xf1, then halts. Run with
 * --console-port 0xf1 to see it. */
	.code16
	.text
	.globl start
start:
	xor	%ax, %ax
	mov	%ax, %ds		/* msg is addressed from linear 0 */
	cld
	mov	$msg, %si
	mov	$0xf1, %dx
next_byte:
	lodsb
	test	%al, %al
	jz	done
	out	%al, (%dx)
	jmp	next_byte
done:
	hlt

msg:	.asciz	"Hello,world\n"
