/* guests/higherhalf.c — the C half of higherhalf.elf, linked at
 * 0xffffffff80000000 + its physical address and reached through the guest's
 * own page tables (see higherhalf_boot.S). Prints one line and ends through
 * the exit device with 3 (kvmstub status 7). */
#include "uart.h"

/* In .data at a high address: gdb reads it through the guest page tables. */
int hh_marker = 0x4848;

void hh_main(void);

void hh_main(void)
{
	hh_marker++;
	print("higher half\n");
	exit_device(3);
}
