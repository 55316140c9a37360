/* guests/kvmtest.S — the guest from LWN's "Using the KVM API": prints
 * al + bl as one decimal digit and a newline on COM1, then halts.
 * Run with --reg rax=2 --reg rbx=2 for "4\n". The Makefile checks that the
 * image is exactly the article's 12 bytes. */
	.code16
	.text
	.globl start
start:
	mov	$0x3f8, %dx
	add	%bl, %al
	add	$'0', %al
	out	%al, (%dx)
	mov	$'\n', %al
	out	%al, (%dx)
	hlt
