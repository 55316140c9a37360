/* guests/timer.c — a kernel that takes interrupts, built for protected mode
 * (timer32.elf, handlers return with iret) and long mode (timer64.elf,
 * iretq). In order: `int $0x80`; #DE, #BP (its own int3), #UD and #GP
 * handlers (those that fault skip the faulting instruction); the PIT
 * through the remapped 8259 (vector 0x20); the PIT through IOAPIC pin 2
 * (vector 0x30, as a PC and QEMU route IRQ0); the LAPIC timer (0x40). Each timer waits for five ticks in a
 * `sti; hlt` loop. It ends by returning to start*.S, whose `hlt` runs with
 * interrupts off: status 0. Every line of output is fixed, so a test can
 * compare it byte for byte. */
#include "io.h"
#include "uart.h"

#ifdef __x86_64__
#define MODE_NAME "long mode"
#define NSAVED 9 /* r11 r10 r9 r8 rdi rsi rdx rcx rax */
#else
#define MODE_NAME "protected mode"
#define NSAVED 8 /* pushal: edi esi ebp esp ebx edx ecx eax */
#endif

struct isr_frame {
	unsigned long saved[NSAVED]; /* saved[NSAVED - 1] is eax/rax */
	unsigned long vector, error;
	unsigned long ip, cs, flags;
};

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_HZ 1193182
#define TICK_HZ 1000

#define LAPIC_BASE 0xfee00000UL
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_DIV 0x3e0
#define IOAPIC_BASE 0xfec00000UL

#define VEC_PIC_TIMER 0x20
#define VEC_IOAPIC_TIMER 0x30
#define VEC_LAPIC_TIMER 0x40
#define VEC_SYSCALL 0x80
#define TICKS 5

volatile unsigned pic_ticks, ioapic_ticks, lapic_ticks, spurious;
volatile unsigned de_seen, ud_seen, bp_seen;
volatile unsigned long gp_error;
volatile unsigned long spin_counter;

void kernel_main(void);
void isr_dispatch(struct isr_frame *f);
void pit_tick(void);
void spin_with_ticks(void);
extern char isr_0[], isr_3[], isr_6[], isr_13[], isr_32[], isr_39[], isr_48[], isr_64[], isr_128[],
	isr_255[];

#ifdef __x86_64__
struct gate {
	unsigned short off_lo, selector;
	unsigned char ist, type_attr;
	unsigned short off_mid;
	unsigned off_hi, zero;
};
#else
struct gate {
	unsigned short off_lo, selector;
	unsigned char zero, type_attr;
	unsigned short off_hi;
};
#endif

static struct gate idt[256];

static void set_gate(unsigned vector, void *handler, unsigned char type_attr)
{
	unsigned long off = (unsigned long)handler;
	unsigned short cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vector].off_lo = (unsigned short)off;
	idt[vector].selector = cs;
	idt[vector].type_attr = type_attr;
#ifdef __x86_64__
	idt[vector].off_mid = (unsigned short)(off >> 16);
	idt[vector].off_hi = (unsigned)(off >> 32);
#else
	idt[vector].off_hi = (unsigned short)(off >> 16);
#endif
}

static void load_idt(void)
{
	struct __attribute__((packed)) {
		unsigned short limit;
		unsigned long base;
	} idtr = { sizeof(idt) - 1, (unsigned long)idt };

	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static void print_hex(unsigned long v)
{
	char buf[2 + 2 * sizeof(v) + 1];
	int i = (int)sizeof(buf) - 1, digits = 0;

	buf[i] = '\0';
	do {
		buf[--i] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
		digits++;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	print(&buf[i]);
}

static void lapic_write(unsigned reg, unsigned value)
{
	*(volatile unsigned *)(LAPIC_BASE + reg) = value;
}

static void ioapic_write(unsigned reg, unsigned value)
{
	*(volatile unsigned *)IOAPIC_BASE = reg;
	*(volatile unsigned *)(IOAPIC_BASE + 0x10) = value;
}

/* Separate so that gdb can break in the PIT handler by name. */
__attribute__((noinline)) void pit_tick(void)
{
	pic_ticks++;
}

void isr_dispatch(struct isr_frame *f)
{
	switch (f->vector) {
	case 0: /* #DE from `divl %ecx` (f7 f1): skip it */
		de_seen = 1;
		f->ip += 2;
		break;
	case 3: /* #BP from the kernel's own int3: a trap, ip is past it */
		bp_seen = 1;
		break;
	case 6: /* #UD from ud2 (0f 0b) */
		ud_seen = 1;
		f->ip += 2;
		break;
	case 13: /* #GP from `mov %eax, %ds` (8e d8) with a bad selector */
		gp_error = f->error;
		f->ip += 2;
		break;
	case VEC_PIC_TIMER:
		pit_tick();
		outb(PIC1_CMD, 0x20);
		break;
	case VEC_IOAPIC_TIMER:
		ioapic_ticks++;
		lapic_write(LAPIC_EOI, 0);
		break;
	case VEC_LAPIC_TIMER:
		lapic_ticks++;
		lapic_write(LAPIC_EOI, 0);
		break;
	case VEC_SYSCALL:
		f->saved[NSAVED - 1] += 1;
		break;
	default: /* spurious 8259 IRQ7 or LAPIC vector 0xff: no EOI */
		spurious++;
		break;
	}
}

static void wait_ticks(volatile unsigned *ticks)
{
	while (*ticks < TICKS)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
}

/* A loop with interrupts on while the PIT ticks: where the gdb tests step. */
__attribute__((noinline)) void spin_with_ticks(void)
{
	__asm__ volatile("sti");
	for (unsigned i = 0; i < 2000; i++)
		spin_counter++;
	__asm__ volatile("cli");
}

static void pic_remap(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, VEC_PIC_TIMER); /* ICW2: vector bases */
	outb(PIC2_DATA, VEC_PIC_TIMER + 8);
	outb(PIC1_DATA, 0x04); /* ICW3: slave on IRQ2 */
	outb(PIC2_DATA, 0x02);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
}

static void pit_start(void)
{
	unsigned divisor = PIT_HZ / TICK_HZ;

	outb(PIT_CMD, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator) */
	outb(PIT_CH0, (unsigned char)divisor);
	outb(PIT_CH0, (unsigned char)(divisor >> 8));
}

void kernel_main(void)
{
	unsigned long result;
	unsigned lo = 1, hi = 0;

	print("timer kernel in " MODE_NAME "\n");
	set_gate(0, isr_0, 0x8e);
	set_gate(3, isr_3, 0x8f);
	set_gate(6, isr_6, 0x8e);
	set_gate(13, isr_13, 0x8e);
	set_gate(VEC_PIC_TIMER, isr_32, 0x8e);
	set_gate(VEC_PIC_TIMER + 7, isr_39, 0x8e);
	set_gate(VEC_IOAPIC_TIMER, isr_48, 0x8e);
	set_gate(VEC_LAPIC_TIMER, isr_64, 0x8e);
	set_gate(VEC_SYSCALL, isr_128, 0x8f); /* a trap gate, as system calls use */
	set_gate(0xff, isr_255, 0x8e);
	load_idt();

	__asm__ volatile("int $0x80" : "=a"(result) : "a"(41UL));
	print("int $0x80 returned ");
	print_hex(result);
	print("\n");

	__asm__ volatile("divl %%ecx" : "+a"(lo), "+d"(hi) : "c"(0));
	print(de_seen ? "#DE handled\n" : "#DE missed\n");
	__asm__ volatile("int3");
	print(bp_seen ? "#BP handled\n" : "#BP missed\n");
	__asm__ volatile("ud2");
	print(ud_seen ? "#UD handled\n" : "#UD missed\n");
	__asm__ volatile("mov %%eax, %%ds" : : "a"(0x1234));
	print("#GP error code ");
	print_hex(gp_error);
	print("\n");

	pic_remap();
	outb(PIC1_DATA, 0xfe); /* only IRQ0 */
	outb(PIC2_DATA, 0xff);
	pit_start();
	wait_ticks(&pic_ticks);
	print("PIT through the 8259: 5 ticks\n");
	spin_with_ticks();
	outb(PIC1_DATA, 0xff);

	lapic_write(LAPIC_SVR, 0x1ff); /* enabled, spurious vector 0xff */
	ioapic_write(0x10 + 2 * 2 + 1, 0);            /* pin 2 to APIC 0 */
	ioapic_write(0x10 + 2 * 2, VEC_IOAPIC_TIMER); /* fixed, edge, unmasked */
	wait_ticks(&ioapic_ticks);
	ioapic_write(0x10 + 2 * 2, 1u << 16);         /* masked */
	print("PIT through the IOAPIC pin 2: 5 ticks\n");

	lapic_write(LAPIC_TIMER_DIV, 0xb);                   /* divide by 1 */
	lapic_write(LAPIC_LVT_TIMER, VEC_LAPIC_TIMER | (1u << 17)); /* periodic */
	lapic_write(LAPIC_TIMER_INIT, 200000);
	wait_ticks(&lapic_ticks);
	lapic_write(LAPIC_LVT_TIMER, 1u << 16);
	lapic_write(LAPIC_TIMER_INIT, 0);
	print("LAPIC timer: 5 ticks\n");
	print("done\n");
}
