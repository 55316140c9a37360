/* guests/restart.c — the guest the restart tests run again and again
 * (restart64.elf). Each run prints what it found before changing it: a
 * global initialised in .data, one in .bss, and a byte of RAM outside the
 * image at 4 MiB. A restart that reloads RAM correctly prints the same
 * line every time; a stale page shows up as a changed number. Has a
 * `main` so gdb's `start` finds one. */
#include "uart.h"

#define FAR_BYTE ((volatile unsigned char *)0x400000)

int marker = 7;
int runs;

int main(void);
void kernel_main(void);

static void print_hex(unsigned v)
{
	char buf[9];
	for (int i = 7; i >= 0; i--) {
		unsigned d = v & 0xf;
		buf[i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v >>= 4;
	}
	buf[8] = 0;
	print(buf);
}

int main(void)
{
	print("restart guest: runs=");
	print_hex((unsigned)runs);
	print(" marker=");
	print_hex((unsigned)marker);
	print(" far=");
	print_hex(*FAR_BYTE);
	print("\n");
	runs++;
	marker += 100;
	*FAR_BYTE = 0x5a;
	return 0;
}

void kernel_main(void)
{
	main();
}
