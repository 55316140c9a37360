/* guests/uart.c — text output for the C guests: bytes to the COM1 UART, each
 * sent only once the line status register says the transmitter is empty, as
 * a driver for a real 16550 must. Also the exit-device call. */
#include "io.h"
#include "uart.h"

void uart_putc(char c)
{
	while (!(inb(UART_LSR) & UART_LSR_THRE))
		;
	outb(UART_THR, (unsigned char)c);
}

void print(const char *s)
{
	while (*s)
		uart_putc(*s++);
}

void exit_device(unsigned char value)
{
	outb(EXIT_PORT, value);
}
