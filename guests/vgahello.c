/* guests/vgahello.c — a long-mode kernel that prints only to VGA text
 * memory, as tutorial kernels do: a greeting in colour, a CP437 frame
 * around a word, the hardware cursor moved through the CRTC; nothing on
 * COM1. Then halts (status 0); with rdi=1 (--reg rdi=1) it first waits
 * for a byte on COM1, so a live screen can be watched. */
#include "pcio.h"

#define VGA ((volatile unsigned short *)0xb8000)
#define COLS 80

void kernel_main(unsigned long wait);

static void put(int row, int col, const char *s, unsigned char attr)
{
	for (int i = 0; s[i]; i++)
		VGA[row * COLS + col + i] = (unsigned short)((unsigned char)s[i] | attr << 8);
}

static void cursor_to(unsigned pos)
{
	outb(0x3d4, 0x0f);
	outb(0x3d5, (unsigned char)pos);
	outb(0x3d4, 0x0e);
	outb(0x3d5, (unsigned char)(pos >> 8));
}

void kernel_main(unsigned long wait)
{
	for (int i = 0; i < 80 * 25; i++)
		VGA[i] = 0x0720; /* blank, light grey on black */
	put(0, 0, "Hello from VGA text mode", 0x1f);
	put(2, 2, "\xc9\xcd\xcd\xcd\xcd\xbb", 0x0e);
	put(3, 2, "\xba" "box!" "\xba", 0x0e);
	put(4, 2, "\xc8\xcd\xcd\xcd\xcd\xbc", 0x0e);
	put(24, 70, "last row", 0x4f);
	cursor_to(5 * COLS);
	while (wait && !(inb(UART_LSR) & 0x01))
		;
}
