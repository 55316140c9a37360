/* guests/io.h — port I/O for the C guests: the inline-asm in/out helpers and
 * the ports kvmstub provides. Header only; always inlined, so that even at -O0
 * a gdb `step` never stops inside them. */
#ifndef GUESTS_IO_H
#define GUESTS_IO_H

#define UART_THR	0x3f8	/* COM1 transmit holding register */
#define UART_LSR	0x3fd	/* COM1 line status register */
#define UART_LSR_THRE	0x20	/* transmit holding register empty */
#define DEBUGCON_PORT	0xe9
#define EXIT_PORT	0xf4	/* kvmstub exits with (value << 1) | 1 */

__attribute__((always_inline)) static inline void outb(unsigned short port,
						       unsigned char value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

__attribute__((always_inline)) static inline unsigned char inb(unsigned short port)
{
	unsigned char value;

	__asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

#endif
