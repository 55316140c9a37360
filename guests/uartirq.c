/* guests/uartirq.c — a COM1 echo driven by interrupts, built for protected
 * mode (uartirq32.elf) and long mode (uartirq64.elf): the 16550's
 * received-data interrupt (IER bit 0, MCR OUT2) on IRQ4 through the
 * remapped 8259 (vector 0x24); the handler echoes every byte it can read
 * until a 'q', while the kernel idles in `sti; hlt`. Prints a banner, the
 * echo, then "bye", and ends with interrupts off: status 0. */
#include "io.h"
#include "uart.h"

#ifdef __x86_64__
#define NSAVED 9
#else
#define NSAVED 8
#endif

struct isr_frame {
	unsigned long saved[NSAVED];
	unsigned long vector, error;
	unsigned long ip, cs, flags;
};

#define COM1 0x3f8
#define UART_RBR COM1
#define UART_IER (COM1 + 1)
#define UART_IIR (COM1 + 2)
#define UART_MCR (COM1 + 4)
#define UART_LSR_DR 0x01
#define VEC_COM1 0x24

volatile unsigned done, uart_irqs;

void kernel_main(void);
void isr_dispatch(struct isr_frame *f);
void com1_interrupt(void);
extern char isr_36[], isr_39[], isr_255[];

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

static void set_gate(unsigned vector, void *handler)
{
	unsigned long off = (unsigned long)handler;
	unsigned short cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	idt[vector].off_lo = (unsigned short)off;
	idt[vector].selector = cs;
	idt[vector].type_attr = 0x8e;
#ifdef __x86_64__
	idt[vector].off_mid = (unsigned short)(off >> 16);
	idt[vector].off_hi = (unsigned)(off >> 32);
#else
	idt[vector].off_hi = (unsigned short)(off >> 16);
#endif
}

/* Separate so that gdb can break in the UART handler by name. */
__attribute__((noinline)) void com1_interrupt(void)
{
	(void)inb(UART_IIR); /* which source: only received data is enabled */
	while (!done && (inb(UART_LSR) & UART_LSR_DR)) {
		unsigned char c = inb(UART_RBR);
		if (c == 'q')
			done = 1;
		else
			uart_putc((char)c);
	}
	uart_irqs++;
}

void isr_dispatch(struct isr_frame *f)
{
	if (f->vector == VEC_COM1) {
		com1_interrupt();
		outb(0x20, 0x20);
	}
	/* 0x27 and 0xff: spurious, no EOI */
}

void kernel_main(void)
{
	struct __attribute__((packed)) {
		unsigned short limit;
		unsigned long base;
	} idtr = { sizeof(idt) - 1, (unsigned long)idt };

	print("uart irq echo\n");
	set_gate(VEC_COM1, isr_36);
	set_gate(0x27, isr_39);
	set_gate(0xff, isr_255);
	__asm__ volatile("lidt %0" : : "m"(idtr));

	outb(0x20, 0x11); /* 8259s: vectors 0x20 and 0x28, slave on IRQ2 */
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xef); /* only IRQ4 */
	outb(0xa1, 0xff);

	outb(UART_MCR, 0x08); /* OUT2: a PC gates the UART's IRQ with it */
	outb(UART_IER, 0x01); /* received data available */
	while (!done)
		__asm__ volatile("sti; hlt; cli" : : : "memory");
	outb(UART_IER, 0x00);
	print("bye\n");
}
