/* guests/hello.c — the default guest and the one the gdb walkthrough uses.
 * Built twice: hello32.elf (protected mode) and hello64.elf (long mode).
 * Counts to 3 in a global, prints one line on COM1, returns to start*.S,
 * which halts (kvmstub status 0). -O0 -g: every line is a place to stop. */
#include "uart.h"

#ifdef __x86_64__
#define MODE_NAME "long mode"
#else
#define MODE_NAME "protected mode"
#endif

int counter;

void kernel_main(void);

void kernel_main(void)
{
	int i;

	for (i = 0; i < 3; i++)
		counter++;
	print("Hello from " MODE_NAME "\n");
}
