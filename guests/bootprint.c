/* guests/bootprint.c — hex numbers and strings for the boot-information
 * guests (mb1info, mb2info64, pvhinfo64). Shifts only, no division, so
 * the 32-bit build needs no libgcc. */
#include "bootprint.h"
#include "uart.h"

void print_hex(uint64_t value)
{
	int shift = 60;

	print("0x");
	while (shift > 0 && ((value >> shift) & 0xf) == 0)
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		uart_putc("0123456789abcdef"[(value >> shift) & 0xf]);
}

void print_field(const char *name, uint64_t value)
{
	uart_putc(' ');
	print(name);
	uart_putc('=');
	print_hex(value);
}

void print_quoted(uintptr_t addr)
{
	const char *s = (const char *)addr;

	uart_putc('<');
	if (s)
		print(s);
	uart_putc('>');
}

void print_data(uintptr_t addr, uint64_t size)
{
	const unsigned char *p = (const unsigned char *)addr;

	uart_putc('<');
	for (uint64_t i = 0; i < size && i < 16; i++)
		uart_putc(p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.');
	uart_putc('>');
}
