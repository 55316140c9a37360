/* guests/stepper.S — real-mode guest for exact-instruction step tests: a
 * fixed sequence whose every address is known. Prints "1ok\n" (port 0xe9,
 * then COM1) and halts.
 *
 * Linear addresses (loaded at the default 0x1000; the build writes the same
 * as build/guests/stepper.map, "ADDRESS NAME" per line):
 *   0x1000  start            xor %ax,%ax
 *   0x1002                   mov %ax,%ds
 *   0x1004                   cld
 *   0x1005  step_mov_eax     mov $0x31,%eax     eax = '1'
 *   0x100b  step_out         out %al,$0xe9      prints "1"
 *   0x100d  step_inc         inc %eax           eax = 0x32
 *   0x100f  step_mov_ecx     mov $3,%ecx
 *   0x1015  step_mov_dx      mov $0x3f8,%dx
 *   0x1018  step_lea         lea msg,%si        si = 0x1020
 *   0x101c  step_rep_outsb   rep outsb          3 iterations: "ok\n"
 *   0x101e  step_nop         nop
 *   0x101f  step_hlt         hlt
 *   0x1020  step_end         (one past hlt; pc after the guest halts)
 *   0x1020  msg              "ok\n"
 */
	.code16
	.text
	.globl start
start:
	xor	%ax, %ax
	mov	%ax, %ds
	cld
	.globl step_mov_eax, step_out, step_inc, step_mov_ecx, step_mov_dx
	.globl step_lea, step_rep_outsb, step_nop, step_hlt, step_end, msg
step_mov_eax:
	mov	$'1', %eax
step_out:
	out	%al, $0xe9
step_inc:
	inc	%eax
step_mov_ecx:
	mov	$3, %ecx
step_mov_dx:
	mov	$0x3f8, %dx
step_lea:
	lea	msg, %si
step_rep_outsb:
	rep outsb
step_nop:
	nop
step_hlt:
	hlt
step_end:
msg:	.ascii	"ok\n"
