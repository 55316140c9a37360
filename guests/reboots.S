/* guests/reboots.S — real mode: counts its boots in CMOS RAM byte 0x40
 * (RAM is reloaded on a reset; the CMOS keeps what was written, as on a
 * PC), prints "boot N\n" on port 0xe9, then resets: the first boot
 * through port 0xcf9, the second through the i8042 (0xfe); the third
 * boot writes 3 to the exit device (status 7). */
	.code16
	.text
	.globl start
start:
	mov	$0x40, %al
	out	%al, $0x70
	in	$0x71, %al
	inc	%al
	mov	%al, %bl
	out	%al, $0x71		/* index 0x40 still selected */
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$0xe9, %dx
	cld
	rep outsb
	mov	%bl, %al
	add	$'0', %al
	out	%al, $0xe9
	mov	$'\n', %al
	out	%al, $0xe9
	cmp	$1, %bl
	je	reset_cf9
	cmp	$2, %bl
	je	reset_i8042
	mov	%bl, %al
	out	%al, $0xf4
	hlt
reset_cf9:
	mov	$0xcf9, %dx
	mov	$0x06, %al
	.globl	cf9_out
cf9_out:
	out	%al, %dx
	hlt
reset_i8042:
	mov	$0xfe, %al
	out	%al, $0x64
	hlt
msg:	.ascii	"boot "
msg_end:
