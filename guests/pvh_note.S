/* guests/pvh_note.S — the PVH note of pvhinfo64.elf: XEN_ELFNOTE_PHYS32_ENTRY
 * (type 18) from "Xen", naming the 32-bit entry _start as a 4-byte value. */
	.section .note.Xen, "a", @note
	.p2align 2
	.long	4			/* namesz: "Xen\0" */
	.long	4			/* descsz */
	.long	18			/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz	"Xen"
	.p2align 2
	.long	_start
	.p2align 2
