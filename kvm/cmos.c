/* kvm/cmos.c — CMOS RAM and RTC registers, the clock read from the host's
 * time at each access. Pure: time comes in as an argument. */
#include "kvm/cmos.h"

#include <string.h>

enum {
	RTC_SECONDS = 0x00,
	RTC_MINUTES = 0x02,
	RTC_HOURS = 0x04,
	RTC_WEEKDAY = 0x06,
	RTC_DAY = 0x07,
	RTC_MONTH = 0x08,
	RTC_YEAR = 0x09,
	RTC_REG_A = 0x0a,
	RTC_REG_B = 0x0b,
	RTC_REG_C = 0x0c,
	RTC_REG_D = 0x0d,
	CMOS_BASE_MEM_LO = 0x15,
	CMOS_EXT_MEM_LO = 0x17,
	CMOS_CHECKSUM_HI = 0x2e,
	CMOS_EXT_MEM2_LO = 0x30,
	RTC_CENTURY = 0x32,
	CMOS_MEM_ABOVE_16M_LO = 0x34,
	CMOS_MEM_ABOVE_4G = 0x5b,
	CMOS_NCPUS_MINUS_1 = 0x5f,
};

#define REG_A_UIP 0x80
#define REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate */
#define REG_B_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80     /* RAM and time valid (battery good) */
#define HOUR_PM 0x80
/* The MC146818 sets UIP 244 µs before the update that ends each second. */
#define UIP_NS 244000L

static void put16(struct cmos *c, unsigned at, uint64_t value)
{
	if (value > 0xffff)
		value = 0xffff;
	c->ram[at] = (uint8_t)value;
	c->ram[at + 1] = (uint8_t)(value >> 8);
}

void cmos_init(struct cmos *c, uint64_t ram_size, unsigned ncpus)
{
	const uint64_t kib = 1024, mib = 1024 * kib;
	uint64_t below_4g = ram_size > (4096 * mib) ? 4096 * mib : ram_size;
	uint16_t sum = 0;

	memset(c, 0, sizeof(*c));
	c->ram[RTC_REG_A] = REG_A_DEFAULT;
	c->ram[RTC_REG_B] = REG_B_24H;
	c->ram[RTC_REG_D] = REG_D_VRT;
	/* Conventional memory: 640 KiB, as every PC reports. */
	put16(c, CMOS_BASE_MEM_LO, 640);
	/* Extended memory above 1 MiB in KiB (capped at 0xffff), twice:
	 * 0x17 as the POST measured it, 0x30 as the AT BIOS reports it. */
	uint64_t ext = ram_size > mib ? (ram_size - mib) / kib : 0;
	put16(c, CMOS_EXT_MEM_LO, ext);
	put16(c, CMOS_EXT_MEM2_LO, ext);
	/* Memory between 16 MiB and 4 GiB in 64 KiB units, then above 4 GiB
	 * (three bytes), as QEMU and SeaBIOS use them. */
	put16(c, CMOS_MEM_ABOVE_16M_LO, below_4g > 16 * mib ? (below_4g - 16 * mib) / (64 * kib) : 0);
	uint64_t high = ram_size > below_4g ? (ram_size - below_4g) / (64 * kib) : 0;
	c->ram[CMOS_MEM_ABOVE_4G] = (uint8_t)high;
	c->ram[CMOS_MEM_ABOVE_4G + 1] = (uint8_t)(high >> 8);
	c->ram[CMOS_MEM_ABOVE_4G + 2] = (uint8_t)(high >> 16);
	c->ram[CMOS_NCPUS_MINUS_1] = (uint8_t)(ncpus ? ncpus - 1 : 0);
	/* The AT checksum over 0x10..0x2d, big-endian at 0x2e. */
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum = (uint16_t)(sum + c->ram[i]);
	c->ram[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	c->ram[CMOS_CHECKSUM_HI + 1] = (uint8_t)sum;
}

void cmos_reset(struct cmos *c, uint64_t ram_size, unsigned ncpus)
{
	enum { CMOS_NVRAM_START = 0x0e };
	uint8_t kept[CMOS_SIZE - CMOS_NVRAM_START];

	memcpy(kept, c->ram + CMOS_NVRAM_START, sizeof(kept));
	cmos_init(c, ram_size, ncpus);
	memcpy(c->ram + CMOS_NVRAM_START, kept, sizeof(kept));
}

void cmos_write_index(struct cmos *c, uint8_t value)
{
	c->nmi_disabled = value & 0x80;
	c->index = value & 0x7f;
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* A clock field in the format register B asks for. */
static uint8_t clock_field(const struct cmos *c, unsigned value)
{
	return (c->ram[RTC_REG_B] & REG_B_BINARY) ? (uint8_t)value : to_bcd(value);
}

static uint8_t clock_hours(const struct cmos *c, unsigned hour)
{
	if (c->ram[RTC_REG_B] & REG_B_24H)
		return clock_field(c, hour);
	/* 12-hour mode: 12, 1..11 with the PM flag in bit 7. */
	unsigned h12 = hour % 12 ? hour % 12 : 12;
	return (uint8_t)(clock_field(c, h12) | (hour >= 12 ? HOUR_PM : 0));
}

/* The date and time registers, which read the host's clock. */
static bool is_clock_field(uint8_t index)
{
	switch (index) {
	case RTC_SECONDS:
	case RTC_MINUTES:
	case RTC_HOURS:
	case RTC_WEEKDAY:
	case RTC_DAY:
	case RTC_MONTH:
	case RTC_YEAR:
	case RTC_CENTURY:
		return true;
	default:
		return false;
	}
}

uint8_t cmos_read_data(struct cmos *c, const struct timespec *now)
{
	struct tm tm;
	time_t secs = now->tv_sec;

	switch (c->index) {
	case RTC_REG_A:
		return (uint8_t)((c->ram[RTC_REG_A] & 0x7f) |
				 (now->tv_nsec >= 1000000000L - UIP_NS ? REG_A_UIP : 0));
	case RTC_REG_C:
		return 0; /* no RTC interrupts: no flags, and reading clears none */
	default:
		if (!is_clock_field(c->index))
			return c->ram[c->index];
	}
	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	switch (c->index) {
	case RTC_SECONDS:
		return clock_field(c, (unsigned)tm.tm_sec);
	case RTC_MINUTES:
		return clock_field(c, (unsigned)tm.tm_min);
	case RTC_HOURS:
		return clock_hours(c, (unsigned)tm.tm_hour);
	case RTC_WEEKDAY:
		return clock_field(c, (unsigned)tm.tm_wday + 1); /* 1 = Sunday */
	case RTC_DAY:
		return clock_field(c, (unsigned)tm.tm_mday);
	case RTC_MONTH:
		return clock_field(c, (unsigned)tm.tm_mon + 1);
	case RTC_YEAR:
		return clock_field(c, (unsigned)(tm.tm_year + 1900) % 100);
	default:
		return clock_field(c, (unsigned)(tm.tm_year + 1900) / 100);
	}
}

void cmos_write_data(struct cmos *c, uint8_t value)
{
	if (is_clock_field(c->index))
		return; /* the clock is the host's: setting it is not kept */
	switch (c->index) {
	case RTC_REG_A:
		c->ram[RTC_REG_A] = value & 0x7f; /* UIP is read-only */
		return;
	case RTC_REG_B:
		/* SET would freeze updates while a guest sets the clock; ours
		 * follows the host, so it is kept but changes nothing. */
		c->ram[RTC_REG_B] = value;
		return;
	case RTC_REG_C:
	case RTC_REG_D:
		return; /* read-only */
	default:
		c->ram[c->index] = value;
	}
}
