/* bench/multiboot.S — entry and hand-written regions of the benchmark guest.
 * A Multiboot v1 header so QEMU's -kernel loads the ELF; kvmstub loads the
 * same ELF32 itself and enters flat protected mode. Nothing here reads the
 * Multiboot eax/ebx (kvmstub does not provide them). The regions are in
 * assembly so that the harness knows exactly which instruction a step runs
 * and what each register must hold afterwards. */
	.set	MB_MAGIC, 0x1badb002
	.set	MB_FLAGS, 0		/* ELF image: the loader reads the headers */

	.section .multiboot, "a"
	.p2align 2
	.long	MB_MAGIC
	.long	MB_FLAGS
	.long	-(MB_MAGIC + MB_FLAGS)

	.code32
	.section .text.start, "ax"
	.globl	_start
_start:
	cli
	cld
	mov	$stack_top, %esp
	xor	%ebp, %ebp
	/* The harness stops here with a hardware breakpoint (QEMU starts at
	 * the BIOS reset vector, so a software one could not be planted yet),
	 * writes bench_scenario and continues. */
	.globl	bench_ready
bench_ready:
	nop
	call	bench_main
	.globl	bench_halt
bench_halt:
	hlt
	jmp	bench_halt

/* Step region: four instructions per turn, so after N single steps from
 * step_loop with esi = edi = 0 the harness knows esi, edi and eip. */
	.text
	.globl	step_region
step_region:
	xor	%esi, %esi
	xor	%edi, %edi
	.globl	step_loop
step_loop:
	inc	%esi			/* +0, 1 byte */
	add	$2, %edi		/* +1, 3 bytes */
	nop				/* +4 */
	jmp	step_loop		/* +5 */

/* Breakpoint loop: ebx counts the times bp_site is reached. */
	.globl	bp_region
bp_region:
	xor	%ebx, %ebx
	.globl	bp_loop
bp_loop:
	inc	%ebx
	.globl	bp_site
bp_site:
	nop
	jmp	bp_loop

/* Stores on a page of their own, which also holds store_bp_site (never
 * run): with a software breakpoint there, the page is write-trapped and
 * every store pays for it although no breakpoint is hit. store_data ends
 * as 1 (the last count stored). */
	.set	STORE_COUNT, 20000
	.p2align 12
	.globl	store_region, store_loop, store_done, store_bp_site, store_data
store_region:
	mov	$store_data, %edi
	mov	$STORE_COUNT, %ecx
store_loop:
	mov	%ecx, (%edi)
	dec	%ecx
	jnz	store_loop
store_done:
	ret
store_bp_site:
	nop
	ret
	.p2align 6
store_data:
	.long	0
	.p2align 12
/* Serial bursts: serial_text (serial_text_len bytes) to COM1's THR, one
 * `out` per byte or one `rep outsb`; then serial_done, where the harness
 * has its breakpoint. No LSR polling: the burst measures the OUT path. */
	.globl	serial_per_out
serial_per_out:
	push	%esi
	mov	$serial_text, %esi
	mov	$serial_text_len, %ecx
	mov	$0x3f8, %dx
1:	lodsb
	outb	%al, %dx
	loop	1b
	pop	%esi
	.globl	serial_done
serial_done:
	ret

	.globl	serial_rep_outsb
serial_rep_outsb:
	push	%esi
	mov	$serial_text, %esi
	mov	$serial_text_len, %ecx
	mov	$0x3f8, %dx
	rep outsb
	pop	%esi
	.globl	serial_rep_done
serial_rep_done:
	ret

/* Timer scenarios: the PIT's IRQ0 (through the remapped 8259, vector
 * 0x20) counts in timer_ticks; the handler returns with a 32-bit iret.
 * timer_idle waits in `sti; hlt` (the delivery rate); timer_step_loop
 * spins with interrupts on (where the harness single-steps). int_pairs
 * runs ecx `int $0x81` whose handler is a bare iret (the cost of
 * completing both on hosts that refuse them). */
	.globl	timer_isr, timer_isr_end
timer_isr:
	push	%eax
	incl	timer_ticks
	mov	$0x20, %al
	outb	%al, $0x20
	pop	%eax
	iret
timer_isr_end:

/* The same count without iret (popf; ret back to the same CS), for the
 * stepping measure: QEMU's VM dies at a 32-bit iret on a host whose
 * emulator refuses it, and how a handler returns is not what that
 * measure is about. */
	.globl	timer_isr_noiret, timer_isr_noiret_end
timer_isr_noiret:
	push	%eax
	incl	timer_ticks
	mov	$0x20, %al
	outb	%al, $0x20
	/* [esp] eax, +4 eip, +8 cs, +12 eflags -> eflags, eip for popf; ret */
	mov	4(%esp), %eax
	xchg	%eax, 12(%esp)
	mov	%eax, 8(%esp)
	pop	%eax
	add	$4, %esp
	popf
	ret
timer_isr_noiret_end:

	.globl	int81_isr
int81_isr:
	iret

	.globl	timer_idle
timer_idle:
	sti
1:	hlt
	jmp	1b

	.globl	timer_spin
timer_spin:
	xor	%esi, %esi
	sti
	.globl	timer_step_loop
timer_step_loop:
	inc	%esi
	jmp	timer_step_loop

	.globl	int_pairs
int_pairs:
	mov	$int_pair_count, %ecx
	.globl	int_pairs_start
int_pairs_start:
	mov	(%ecx), %ecx
1:	int	$0x81
	loop	1b
	.globl	int_pairs_done
int_pairs_done:
	ret

/* Application processors (the smp scenarios). The BSP copies
 * ap_tramp_start..ap_tramp_end to AP_TRAMP (the SIPI vector's page, 0x6000:
 * below kvmstub's boot GDT at 0x8000 and QEMU's Multiboot information at
 * 0x9000) and sends INIT/SIPI; an AP starts there in real mode, loads the
 * copy's GDT, enters flat protected mode and jumps to ap_entry32. No stack:
 * nothing an AP runs pushes, and interrupts stay off. */
	.set	AP_TRAMP, 0x6000
#define AP_AT(label) (AP_TRAMP + ((label) - ap_tramp_start))
	.code16
	.globl	ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	AP_AT(ap_gdtr)
	movl	%cr0, %eax
	orl	$1, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $AP_AT(ap_tramp_pm)
	.code32
ap_tramp_pm:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	mov	$ap_entry32, %eax
	jmp	*%eax
	.p2align 3
ap_gdt:
	.quad	0
	.quad	0x00cf9b000000ffff	/* 0x08: flat 32-bit code */
	.quad	0x00cf93000000ffff	/* 0x10: flat data */
ap_gdtr:
	.word	3 * 8 - 1
	.long	AP_AT(ap_gdt)
ap_tramp_end:

/* Each AP says it arrived, then runs busy for ever: in SCENARIO_SMP_BP
 * the AP with APIC id 1 waits until every AP has arrived and then runs
 * the breakpoint loop (its ebx counts the hits at bp_site), every other
 * AP counts in ap_spins[APIC id]. */
	.set	SCENARIO_SMP_BP, 12
ap_entry32:
	mov	0xfee00020, %eax	/* local APIC ID register */
	shr	$24, %eax
	lock incl ap_arrived
	cmpl	$SCENARIO_SMP_BP, bench_scenario
	jne	1f
	cmp	$1, %eax
	jne	1f
2:	mov	ap_arrived, %ecx
	inc	%ecx
	cmp	bench_cpus, %ecx
	jb	2b
	jmp	bp_region
1:	and	$15, %eax
	.globl	ap_spin_loop
ap_spin_loop:
	incl	ap_spins(,%eax,4)
	jmp	ap_spin_loop

/* The BSP's busy loop while the APs run (SCENARIO_SMP_BP). */
	.globl	bsp_spin
bsp_spin:
	incl	ap_spins
	jmp	bsp_spin

	.section .rodata
	.globl	serial_text
serial_text:
	/* 64 lines of 64 bytes, repeated 16 times: 64 KiB the harness can
	 * rebuild and compare byte for byte. */
	.rept	16
	.irp	c, A,B,C,D,E,F,G,H,I,J,K,L,M,N,O,P,Q,R,S,T,U,V,W,X,Y,Z,a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z,0,1,2,3,4,5,6,7,8,9,+,-
	.ascii	"\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c"
	.ascii	"\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\c\n"
	.endr
	.endr
	.set	serial_text_len, . - serial_text
	.globl	serial_text_end
serial_text_end:

	.bss
	.p2align 4
stack:
	.skip	16384
stack_top:
