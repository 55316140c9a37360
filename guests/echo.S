/* guests/echo.S — real-mode guest that reads COM1: polls LSR for data
 * ready, reads RBR and writes each byte back to THR until it reads 'q',
 * then halts. For the UART's input side (kvmstub's stdin). */
	.code16
	.text
	.globl start
start:
	xor	%ax, %ax
	mov	%ax, %ds
wait_byte:
	mov	$0x3fd, %dx		/* LSR */
	in	%dx, %al
	test	$0x01, %al		/* data ready */
	jz	wait_byte
	mov	$0x3f8, %dx		/* RBR */
	in	%dx, %al
	cmp	$'q', %al
	je	done
	out	%al, %dx		/* THR */
	jmp	wait_byte
done:
	hlt
