/* guests/kbdecho.c — a long-mode kernel that reads the keyboard the way a
 * polling tutorial kernel does: i8042 self-test, then scancodes from port
 * 0x60 whenever status bit 0 says one waits, turned back into ASCII (US
 * layout, Shift tracked) and echoed on COM1 until 'q'. Then halts. */
#include "pcio.h"

void kernel_main(void);

static const char plain[] = "\0\0" "1234567890-=\b\t" "qwertyuiop[]\n\0" "asdfghjkl;'`\0\\" "zxcvbnm,./";
static const char shifted[] = "\0\0" "!@#$%^&*()_+\b\t" "QWERTYUIOP{}\n\0" "ASDFGHJKL:\"~\0|" "ZXCVBNM<>?";

static unsigned char read_byte(void)
{
	while (!(inb(0x64) & 1))
		;
	return inb(0x60);
}

void kernel_main(void)
{
	int shift = 0;

	outb(0x64, 0xaa);
	print(read_byte() == 0x55 ? "kbc ok\n" : "kbc failed\n");
	for (;;) {
		unsigned char code = read_byte();
		char c = 0;

		if (code == 0x2a || code == 0x36)
			shift = 1;
		else if (code == 0xaa || code == 0xb6)
			shift = 0;
		else if (code == 0x39)
			c = ' ';
		else if (code < sizeof(plain) - 1)
			c = shift ? shifted[code] : plain[code];
		if (c == 'q')
			return;
		if (c)
			uart_putc(c);
	}
}
