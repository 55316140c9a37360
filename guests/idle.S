/* guests/idle.S — real-mode guest that prints "idle\n" on port 0xe9, then
 * idles as kernels do: `sti; hlt` in a loop, with nothing that will ever
 * interrupt it. On the pc machine it waits for good (Ctrl-C stops it); on
 * the bare machine its first hlt ends it. */
	.code16
	.text
	.globl start
start:
	mov	$msg, %si
	mov	$(msg_end - msg), %cx
	mov	$0xe9, %dx
	cld
	rep outsb
	sti
	.globl idle_hlt, idle_jmp
idle_hlt:
	hlt
idle_jmp:
	jmp	idle_hlt
msg:	.ascii	"idle\n"
msg_end:
