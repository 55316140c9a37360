/* guests/exit.S — real mode: writes EXIT_VALUE to the exit device (port 0xf4),
 * so kvmstub ends with status (EXIT_VALUE << 1) | 1. Built as exit42.bin and
 * exit0.bin. The hlt after it is reached only if the exit device is missing
 * (status 0 then, which the tests tell apart). */
	.code16
	.text
	.globl start
start:
	mov	$EXIT_VALUE, %al
	out	%al, $0xf4
	hlt
