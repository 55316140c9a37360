/* guests/revdemo.c — the guest the reverse-execution tests record (long
 * mode). Reads up to 8 bytes of COM1 input (kvmstub's stdin) until a
 * newline, mixes them into `total` in a C loop of `iterations` rounds
 * (keeping every value in `trail`), writes "sum " with one `rep outsb` to
 * port 0xe9, reads the unused port 0x80, prints total in hex on COM1 and
 * ends through the exit device with total's low 7 bits. Every input it
 * reads is something replay must give back exactly. The round `marker`
 * calls at_marker (for a breakpoint hit once). -O0 -g. */
#include "io.h"
#include "uart.h"

#define POLLS 20000 /* LSR reads before giving up on input (stdin at EOF) */

unsigned long iterations = 100;
unsigned long marker = ~0UL; /* the round that calls at_marker (bench) */
unsigned long total;
volatile unsigned long trail[64];
unsigned char input[8];
unsigned ninput;
unsigned char port80;

unsigned long mix(unsigned long v, unsigned long i);
void at_marker(void);
void read_input(void);
void string_out(void);
void print_hex(unsigned long v);
void kernel_main(void);

unsigned long mix(unsigned long v, unsigned long i)
{
	return v * 31 + i;
}

void at_marker(void)
{
}

void read_input(void)
{
	unsigned polls = 0;

	while (ninput < sizeof(input) && polls < POLLS) {
		if (!(inb(UART_LSR) & 1)) {
			polls++;
			continue;
		}
		unsigned char c = inb(UART_THR);
		if (c == '\n')
			break;
		input[ninput++] = c;
	}
}

void string_out(void)
{
	static const char text[] = "sum ";
	const char *p = text;
	unsigned long n = sizeof(text) - 1;

	__asm__ volatile("rep outsb" : "+S"(p), "+c"(n) : "d"(DEBUGCON_PORT) : "memory");
}

void print_hex(unsigned long v)
{
	static const char digits[] = "0123456789abcdef";

	for (int shift = 60; shift >= 0; shift -= 4)
		uart_putc(digits[(v >> shift) & 0xf]);
	uart_putc('\n');
}

void kernel_main(void)
{
	unsigned long i;

	read_input();
	for (i = 0; i < iterations; i++) {
		total = mix(total, ninput ? input[i % ninput] : i);
		trail[i % 64] = total;
		if (i == marker)
			at_marker();
	}
	string_out();
	port80 = inb(0x80);
	print_hex(total);
	exit_device((unsigned char)(total & 0x7f));
}
