/* guests/selfcopy.S — real-mode guest that writes its own code before it
 * runs it: copies a routine from `routine` to 0x3000 with `rep movsb`, calls
 * it (it prints "copied\n" on port 0xe9), then halts. For the promise that a
 * breakpoint planted at 0x3000 before the copy is not lost: the guest's
 * write lands on the breakpoint, and the call still stops there.
 *
 * Linear addresses (loaded at 0x1000; also build/guests/selfcopy.map):
 *   0x3000  copy_target   where the routine runs (zeros until the copy)
 */
	.code16
	.text
	.globl start, copy_target, routine, routine_end
	.set copy_target, 0x3000
start:
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7000, %sp
	cld
	mov	$routine, %si
	mov	$copy_target, %di
	mov	$(routine_end - routine), %cx
	rep movsb
	call	copy_target
	hlt

/* Position-independent: runs at copy_target, prints with `out`. */
routine:
	mov	$'c', %al
	out	%al, $0xe9
	mov	$'o', %al
	out	%al, $0xe9
	mov	$'p', %al
	out	%al, $0xe9
	mov	$'y', %al
	out	%al, $0xe9
	mov	$'\n', %al
	out	%al, $0xe9
	ret
routine_end:
