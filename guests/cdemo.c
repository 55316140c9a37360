/* guests/cdemo.c — the C program the debugger tests drive. Built twice:
 * cdemo32.elf (protected mode) and cdemo64.elf (long mode). Writes and then
 * reads `watched` (for watch/rwatch), sums add(i, 1) for i = 0..4 into
 * `counter` (15), prints "step\n" on port 0xe9 one `out` per line in
 * step_target, then "cdemo done\n" on COM1, and ends through the exit device
 * with 7 (kvmstub status 15). -O0 -g: every line is a place to stop. */
#include "uart.h"

volatile int watched;
int seen;
int counter;

int add(int a, int b);
void step_target(void);
void kernel_main(void);

int add(int a, int b)
{
	return a + b;
}

void step_target(void)
{
	__asm__ volatile("outb %%al, $0xe9" : : "a"('s'));
	__asm__ volatile("outb %%al, $0xe9" : : "a"('t'));
	__asm__ volatile("outb %%al, $0xe9" : : "a"('e'));
	__asm__ volatile("outb %%al, $0xe9" : : "a"('p'));
	__asm__ volatile("outb %%al, $0xe9" : : "a"('\n'));
}

void kernel_main(void)
{
	int i;

	watched = 42;
	seen = watched;
	for (i = 0; i < 5; i++)
		counter += add(i, 1);
	step_target();
	print("cdemo done\n");
	exit_device(7);
}
