/* tests/unit/test_pc_control.c — kvm/pc_control: port 0x61's refresh
 * toggle and timer-2 bits, reset control at 0xcf9, ACPI PM1a_CNT power-off
 * at 0x604 (q35) and 0xb004 (PIIX/Bochs), the PM timer, POST codes. */
#include "kvm/pc_control.h"

#include "tests/unit/check.h"

static struct pc_control p;

static enum pc_action out(uint16_t port, unsigned size, uint32_t value)
{
	return pc_control_access(&p, port, true, size, &value, 0);
}

static uint32_t in(uint16_t port, unsigned size, uint64_t now_ns)
{
	uint32_t v = 0x12345678;
	pc_control_access(&p, port, false, size, &v, now_ns);
	return v;
}

static void test_claims_exactly_its_ports(void)
{
	CHECK(pc_control_claims(0x80));
	CHECK(pc_control_claims(0x61));
	CHECK(pc_control_claims(0xcf9));
	CHECK(pc_control_claims(0x604));
	CHECK(pc_control_claims(0x608));
	CHECK(pc_control_claims(0xb004));
	CHECK(!pc_control_claims(0x60));
	CHECK(!pc_control_claims(0xcf8));
	CHECK(!pc_control_claims(0x60c));
	CHECK(!pc_control_claims(0x70));
}

static void test_port_b_refresh_bit_toggles_at_every_read(void)
{
	pc_control_init(&p);
	uint32_t a = in(0x61, 1, 0), b = in(0x61, 1, 0), c = in(0x61, 1, 0);
	CHECK((a ^ b) & 0x10);
	CHECK((b ^ c) & 0x10);
}

static void test_port_b_keeps_low_bits_and_timer2_out_follows_gate(void)
{
	pc_control_init(&p);
	out(0x61, 1, 0xff);
	CHECK_EQ(in(0x61, 1, 0) & 0x2f, 0x2f);
	out(0x61, 1, 0x02);
	CHECK_EQ(in(0x61, 1, 0) & 0x2f, 0x02);
}

static void test_reset_control_starts_a_reset_when_rst_cpu_is_set(void)
{
	pc_control_init(&p);
	CHECK_EQ(out(0xcf9, 1, 0x02), PC_NOTHING);
	CHECK_EQ(in(0xcf9, 1, 0), 0x02);
	CHECK_EQ(out(0xcf9, 1, 0x06), PC_RESET);
	pc_control_init(&p);
	CHECK_EQ(out(0xcf9, 1, 0x0e), PC_RESET);
	CHECK_EQ(out(0xcf9, 1, 0x04), PC_RESET);
}

static void test_pm1_control_slp_en_with_s5_powers_off_at_both_bases(void)
{
	pc_control_init(&p);
	CHECK_EQ(out(0x604, 2, 0x2000), PC_POWER_OFF);
	CHECK_EQ(out(0xb004, 2, 0x2000), PC_POWER_OFF);
	/* the high byte alone, as an 8-bit write */
	CHECK_EQ(out(0x605, 1, 0x20), PC_POWER_OFF);
	/* SLP_EN is not kept: reading back shows it clear */
	CHECK_EQ(in(0x604, 2, 0) & 0x2000, 0);
}

static void test_pm1_control_without_slp_en_or_with_another_sleep_type_does_nothing(void)
{
	pc_control_init(&p);
	CHECK_EQ(in(0x604, 2, 0), 0x0001); /* in ACPI mode from the start */
	CHECK_EQ(in(0xb004, 2, 0), 0x0001);
	CHECK_EQ(out(0x604, 2, 0x0001), PC_NOTHING); /* SCI_EN */
	CHECK_EQ(in(0x604, 2, 0), 0x0001);
	CHECK_EQ(out(0x604, 2, 0x2000 | (5 << 10)), PC_NOTHING);
	CHECK_EQ(out(0x600, 4, 0xffffffff), PC_NOTHING); /* event block */
}

static void test_pm_timer_counts_at_3_58_mhz_in_24_bits(void)
{
	pc_control_init(&p);
	CHECK_EQ(in(0x608, 4, 0), 0);
	CHECK_EQ(in(0x608, 4, 1000000000ULL), 3579545 & 0xffffff);
	CHECK_EQ(in(0x608, 4, 1000000ULL), 3579);
	/* no overflow far into the host's uptime */
	uint64_t year = 365ULL * 86400 * 1000000000ULL;
	uint64_t ticks = (year / 1000000000ULL) * 3579545ULL;
	CHECK_EQ(in(0x608, 4, year), ticks & 0xffffff);
	CHECK(in(0x608, 4, year) <= 0xffffff);
}

static void test_post_codes_are_ignored(void)
{
	pc_control_init(&p);
	CHECK_EQ(out(0x80, 1, 0x55), PC_NOTHING);
	CHECK_EQ(in(0x80, 1, 0), 0xffffffff);
}

int main(void)
{
	RUN(test_claims_exactly_its_ports);
	RUN(test_port_b_refresh_bit_toggles_at_every_read);
	RUN(test_port_b_keeps_low_bits_and_timer2_out_follows_gate);
	RUN(test_reset_control_starts_a_reset_when_rst_cpu_is_set);
	RUN(test_pm1_control_slp_en_with_s5_powers_off_at_both_bases);
	RUN(test_pm1_control_without_slp_en_or_with_another_sleep_type_does_nothing);
	RUN(test_pm_timer_counts_at_3_58_mhz_in_24_bits);
	RUN(test_post_codes_are_ignored);
	return check_summary();
}
