/* guests/pcprobe.c — a long-mode kernel that looks at the PC devices as a
 * kernel written for QEMU does and prints what it finds on COM1: fw_cfg's
 * signature, RAM size and CPU count, the CMOS memory bytes, valid bit and
 * date, port 0x61's refresh toggle. Then, by rdi (--reg rdi=N): 0 halts,
 * 1 resets through 0xcf9, 2 through the i8042 (0xfe), 3 powers off at
 * 0x604, 4 at 0xb004. A reset or power-off that does not end the guest
 * prints "still running" and exits with status 3. */
#include "pcio.h"

#define FW_CFG_SELECTOR 0x510
#define FW_CFG_DATA 0x511

void kernel_main(unsigned long action);

static unsigned long long fw_cfg_le(unsigned short key, int n)
{
	unsigned long long v = 0;

	outw(FW_CFG_SELECTOR, key);
	for (int i = 0; i < n; i++)
		v |= (unsigned long long)inb(FW_CFG_DATA) << (8 * i);
	return v;
}

static unsigned char cmos(unsigned char index)
{
	outb(0x70, index);
	return inb(0x71);
}

static unsigned bcd(unsigned char v)
{
	return (v >> 4) * 10 + (v & 15);
}

static void probe_fw_cfg(void)
{
	char sig[5] = { 0 };

	outw(FW_CFG_SELECTOR, 0x0000);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_DATA);
	print("fw_cfg: ");
	print(sig);
	print(" id=");
	print_dec(fw_cfg_le(0x0001, 4));
	print(" ram=");
	print_dec(fw_cfg_le(0x0003, 8));
	print(" cpus=");
	print_dec(fw_cfg_le(0x0005, 2));
	print("\n");
}

static void probe_cmos(void)
{
	unsigned char day, month, year, century;

	print("cmos: D=");
	print_hex2(cmos(0x0d));
	print(" base=");
	print_dec(cmos(0x15) | cmos(0x16) << 8);
	print(" ext=");
	print_dec(cmos(0x30) | cmos(0x31) << 8);
	print(" above16m=");
	print_dec(cmos(0x34) | cmos(0x35) << 8);
	print("\n");
	/* Wait out an update in progress, then read the date (BCD). */
	while (cmos(0x0a) & 0x80)
		;
	day = cmos(0x07);
	month = cmos(0x08);
	year = cmos(0x09);
	century = cmos(0x32);
	print("rtc: ");
	print_dec(bcd(century) * 100 + bcd(year));
	print("-");
	print_dec(bcd(month));
	print("-");
	print_dec(bcd(day));
	print("\n");
}

static void probe_port_b(void)
{
	unsigned char a = inb(0x61), b = inb(0x61);

	print((a ^ b) & 0x10 ? "port61: refresh toggles\n" : "port61: stuck\n");
}

void kernel_main(unsigned long action)
{
	probe_fw_cfg();
	probe_cmos();
	probe_port_b();
	outb(0x80, 0x42); /* a POST code: ignored */
	switch (action) {
	case 1:
		outb(0xcf9, 0x02);
		outb(0xcf9, 0x06);
		break;
	case 2:
		outb(0x64, 0xfe);
		break;
	case 3:
		outw(0x604, 0x2000);
		break;
	case 4:
		outw(0xb004, 0x2000);
		break;
	default:
		return;
	}
	print("still running\n");
	exit_device(1);
}
