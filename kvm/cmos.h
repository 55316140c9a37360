/* kvm/cmos.h — the PC's CMOS RAM and MC146818 real-time clock behind ports
 * 0x70 (index, NMI mask) and 0x71 (data). Pure: the caller passes the host
 * time in; no clocks, no ports, no KVM here. */
#ifndef KVMSTUB_CMOS_H
#define KVMSTUB_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define CMOS_SIZE 128

struct cmos {
	uint8_t index;
	bool nmi_disabled; /* bit 7 of the last index write */
	uint8_t ram[CMOS_SIZE];
};

/* Sets the registers as a PC BIOS leaves them: 24-hour BCD clock, valid
 * RAM, and the memory-size bytes for ram_size and the CPU count. */
void cmos_init(struct cmos *c, uint64_t ram_size, unsigned ncpus);

/* The CPU's reset line does not reach the CMOS: its battery-backed RAM
 * (0x0e..0x7f, where kernels keep what must survive a reboot) keeps what
 * the guest wrote; the clock's registers and the index are as at
 * power-on. */
void cmos_reset(struct cmos *c, uint64_t ram_size, unsigned ncpus);

void cmos_write_index(struct cmos *c, uint8_t value);
/* now: the host's wall-clock time (UTC, as QEMU's default RTC). */
uint8_t cmos_read_data(struct cmos *c, const struct timespec *now);
void cmos_write_data(struct cmos *c, uint8_t value);

#endif
