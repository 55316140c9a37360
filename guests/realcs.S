/* guests/realcs.S — real mode with CS != 0, for the debugger's pc = cs.base + ip
 * rule. Loaded at 0x1000 (the default), it far-jumps to 0x0200:0x0010 and
 * prints "real\n" on port 0xe9 with CS = DS = 0x0200, then halts.
 *
 * Linear addresses (also in build/guests/realcs.map):
 *   0x1000  start       ljmp $0x0200,$0x0010   (CS=0, IP=0x1000)
 *   0x2010  far_entry   mov %cs,%ax            (CS=0x0200, IP=0x0010)
 *   0x2018  next_byte   lodsb                  (the print loop)
 *   0x201d  out_byte    out %al,$0xe9
 *   0x2021  done        hlt
 * The gap between them is filled with hlt, so a wrong jump stops the guest.
 */
	.code16
	.text
	.globl start
start:
	ljmp	$0x0200, $(far_entry - 0x2000)

	.org	0x1010, 0xf4		/* start + 0x1010 = linear 0x2010 */
	.globl far_entry
far_entry:
	mov	%cs, %ax
	mov	%ax, %ds
	mov	$(msg - 0x2000), %si	/* offsets are from the segment base 0x2000 */
	cld
	.globl next_byte
next_byte:
	lodsb
	test	%al, %al
	jz	done
	.globl out_byte
out_byte:
	out	%al, $0xe9
	jmp	next_byte
	.globl done
done:
	hlt

msg:	.asciz	"real\n"
