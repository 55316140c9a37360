/* guests/printspin.S — real-mode guest that prints "ready\n" on port 0xe9
 * and then spins with no more exits (`jmp .`). Its output must reach
 * stdout anyway, though output ports are queued without exits where the
 * host coalesces them. */
	.code16
	.text
	.globl start
start:
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$0xe9, %dx
	cld
	rep outsb
spin:
	jmp	spin
msg:	.ascii	"ready\n"
msg_end:
