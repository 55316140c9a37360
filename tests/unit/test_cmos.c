/* tests/unit/test_cmos.c — kvm/cmos: the clock in BCD and binary, 24- and
 * 12-hour modes, UIP just before a second ends, the valid bit, the
 * century, the NMI mask bit, the memory-size bytes a BIOS leaves, and
 * the RAM that a reset keeps. */
#include "kvm/cmos.h"

#include "tests/unit/check.h"

#define MIB (1024ULL * 1024)

static struct cmos c;
/* 2026-11-30 21:07:09 UTC, a Monday */
static const struct timespec when = { .tv_sec = 1796072829, .tv_nsec = 5000 };

static uint8_t reg(uint8_t index, const struct timespec *t)
{
	cmos_write_index(&c, index);
	return cmos_read_data(&c, t);
}

static void set(uint8_t index, uint8_t value)
{
	cmos_write_index(&c, index);
	cmos_write_data(&c, value);
}

static void test_clock_reads_host_time_in_bcd_24_hour_by_default(void)
{
	cmos_init(&c, 128 * MIB, 1);
	CHECK_EQ(reg(0x00, &when), 0x09);
	CHECK_EQ(reg(0x02, &when), 0x07);
	CHECK_EQ(reg(0x04, &when), 0x21);
	CHECK_EQ(reg(0x06, &when), 0x02); /* Monday: 1 is Sunday */
	CHECK_EQ(reg(0x07, &when), 0x30);
	CHECK_EQ(reg(0x08, &when), 0x11);
	CHECK_EQ(reg(0x09, &when), 0x26);
	CHECK_EQ(reg(0x32, &when), 0x20);
}

static void test_binary_mode_from_register_b(void)
{
	cmos_init(&c, 128 * MIB, 1);
	set(0x0b, 0x06);
	CHECK_EQ(reg(0x0b, &when), 0x06);
	CHECK_EQ(reg(0x04, &when), 21);
	CHECK_EQ(reg(0x07, &when), 30);
	CHECK_EQ(reg(0x09, &when), 26);
	CHECK_EQ(reg(0x32, &when), 20);
}

static void test_12_hour_mode_sets_pm_bit(void)
{
	cmos_init(&c, 128 * MIB, 1);
	set(0x0b, 0x00); /* BCD, 12-hour */
	CHECK_EQ(reg(0x04, &when), 0x89); /* 9 PM */
	struct timespec midnight = { .tv_sec = 1795996800 + 5, .tv_nsec = 0 }; /* 00:00:05 */
	CHECK_EQ(reg(0x04, &midnight), 0x12);
	set(0x0b, 0x04); /* binary, 12-hour */
	CHECK_EQ(reg(0x04, &when), 0x80 | 9);
}

static void test_uip_is_set_only_in_the_last_244_us_of_a_second(void)
{
	cmos_init(&c, 128 * MIB, 1);
	struct timespec late = { .tv_sec = when.tv_sec, .tv_nsec = 999900000 };
	CHECK_EQ(reg(0x0a, &when), 0x26);
	CHECK_EQ(reg(0x0a, &late), 0xa6);
	set(0x0a, 0xff); /* UIP cannot be written */
	CHECK_EQ(reg(0x0a, &when), 0x7f);
}

static void test_register_d_says_valid_and_c_has_no_flags(void)
{
	cmos_init(&c, 128 * MIB, 1);
	CHECK_EQ(reg(0x0d, &when), 0x80);
	CHECK_EQ(reg(0x0c, &when), 0x00);
	set(0x0d, 0x00);
	CHECK_EQ(reg(0x0d, &when), 0x80);
}

static void test_clock_writes_do_not_change_the_time(void)
{
	cmos_init(&c, 128 * MIB, 1);
	set(0x00, 0x55);
	CHECK_EQ(reg(0x00, &when), 0x09);
}

static void test_index_port_bit_7_is_the_nmi_mask(void)
{
	cmos_init(&c, 128 * MIB, 1);
	cmos_write_index(&c, 0x8d);
	CHECK(c.nmi_disabled);
	CHECK_EQ(cmos_read_data(&c, &when), 0x80);
	cmos_write_index(&c, 0x0d);
	CHECK(!c.nmi_disabled);
}

static void test_memory_size_bytes_for_32m(void)
{
	cmos_init(&c, 32 * MIB, 4);
	CHECK_EQ(reg(0x15, &when) | reg(0x16, &when) << 8, 640);
	CHECK_EQ(reg(0x17, &when) | reg(0x18, &when) << 8, 31 * 1024);
	CHECK_EQ(reg(0x30, &when) | reg(0x31, &when) << 8, 31 * 1024);
	CHECK_EQ(reg(0x34, &when) | reg(0x35, &when) << 8, (32 - 16) * 16);
	CHECK_EQ(reg(0x5b, &when) | reg(0x5c, &when) << 8 | reg(0x5d, &when) << 16, 0);
	CHECK_EQ(reg(0x5f, &when), 3);
}

static void test_memory_size_bytes_cap_and_small_ram(void)
{
	cmos_init(&c, 128 * MIB, 1);
	CHECK_EQ(reg(0x17, &when) | reg(0x18, &when) << 8, 0xffff);
	CHECK_EQ(reg(0x34, &when) | reg(0x35, &when) << 8, (128 - 16) * 16);
	cmos_init(&c, 3072 * MIB, 1);
	CHECK_EQ(reg(0x17, &when) | reg(0x18, &when) << 8, 0xffff);
	CHECK_EQ(reg(0x34, &when) | reg(0x35, &when) << 8, (3072 - 16) * 16);
	cmos_init(&c, 8 * MIB, 1);
	CHECK_EQ(reg(0x34, &when) | reg(0x35, &when) << 8, 0);
	CHECK_EQ(reg(0x17, &when) | reg(0x18, &when) << 8, 7 * 1024);
	cmos_init(&c, 6 * 1024 * MIB, 1); /* above 4 GiB in 64 KiB units */
	CHECK_EQ(reg(0x5b, &when) | reg(0x5c, &when) << 8 | reg(0x5d, &when) << 16, 2 * 16384);
}

static void test_checksum_covers_0x10_to_0x2d(void)
{
	unsigned sum = 0;
	cmos_init(&c, 64 * MIB, 1);
	for (unsigned i = 0x10; i <= 0x2d; i++)
		sum += reg((uint8_t)i, &when);
	CHECK_EQ(reg(0x2e, &when) << 8 | reg(0x2f, &when), sum & 0xffff);
}

static void test_cmos_ram_bytes_keep_what_is_written(void)
{
	cmos_init(&c, 64 * MIB, 1);
	set(0x40, 0xa5);
	CHECK_EQ(reg(0x40, &when), 0xa5);
	set(0x7f, 0x11);
	CHECK_EQ(reg(0x7f, &when), 0x11);
}

static void test_a_reset_keeps_cmos_ram_and_resets_the_clock_registers(void)
{
	cmos_init(&c, 64 * MIB, 1);
	set(0x40, 0x02);
	set(0x7f, 0x33);
	set(0x0b, 0x06); /* binary, 24-hour */
	cmos_write_index(&c, 0x80 | 0x40);
	cmos_reset(&c, 64 * MIB, 1);
	CHECK_EQ(c.nmi_disabled, false);
	CHECK_EQ(reg(0x40, &when), 0x02);
	CHECK_EQ(reg(0x7f, &when), 0x33);
	CHECK_EQ(reg(0x0b, &when), 0x02);
	CHECK_EQ(reg(0x00, &when), 0x09); /* BCD again */
}

int main(void)
{
	RUN(test_clock_reads_host_time_in_bcd_24_hour_by_default);
	RUN(test_binary_mode_from_register_b);
	RUN(test_12_hour_mode_sets_pm_bit);
	RUN(test_uip_is_set_only_in_the_last_244_us_of_a_second);
	RUN(test_register_d_says_valid_and_c_has_no_flags);
	RUN(test_clock_writes_do_not_change_the_time);
	RUN(test_index_port_bit_7_is_the_nmi_mask);
	RUN(test_memory_size_bytes_for_32m);
	RUN(test_memory_size_bytes_cap_and_small_ram);
	RUN(test_checksum_covers_0x10_to_0x2d);
	RUN(test_cmos_ram_bytes_keep_what_is_written);
	RUN(test_a_reset_keeps_cmos_ram_and_resets_the_clock_registers);
	return check_summary();
}
