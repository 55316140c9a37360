/* tests/unit/test_fwtables.c — kvm/fwtables: the tables are found the way
 * kernels find them (a scan of 0xf0000-0xfffff on 16-byte boundaries),
 * every length and checksum is right, and parsing them back gives one
 * enabled CPU per vCPU with APIC id = index and CPU 0 the BSP, the IOAPIC,
 * IRQ0 on pin 2 / GSI 2, and PM1a_CNT at 0x604 — for every CPU count from
 * 1 to 255. */
#include "kvm/fwtables.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tests/unit/check.h"

#define AREA_START 0xf0000
#define AREA_SIZE 0x10000
#define TABLES_AT 0xf8000

static uint8_t area[AREA_SIZE]; /* guest-physical 0xf0000.. */
static struct fwtables t;
static int failures_reported;

static const uint8_t *at(uint64_t phys, size_t len)
{
	if (phys < AREA_START || phys + len > AREA_START + AREA_SIZE)
		return NULL;
	return area + (phys - AREA_START);
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static uint8_t sum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* The first 16-byte-aligned occurrence of sig in the area. */
static uint64_t scan(const char *sig, size_t len)
{
	for (uint64_t a = AREA_START; a + len <= AREA_START + AREA_SIZE; a += 16)
		if (memcmp(area + (a - AREA_START), sig, len) == 0)
			return a;
	return 0;
}

/* An ACPI table at phys with signature sig: checked whole, returned. */
static const uint8_t *acpi_table(uint64_t phys, const char *sig)
{
	const uint8_t *h = at(phys, 36);
	if (!h || memcmp(h, sig, 4) != 0)
		return NULL;
	uint32_t len = le32(h + 4);
	if (len < 36 || !at(phys, len) || sum(h, len) != 0)
		return NULL;
	return h;
}

struct parsed {
	unsigned mp_cpus, mp_bsp, mp_ioapics, mp_buses, mp_irq0_pin, mp_ints, mp_lints;
	bool mp_ids_in_order;
	unsigned madt_cpus, madt_ioapics, madt_iso_irq0_gsi, madt_nmis;
	bool madt_ids_in_order;
	uint32_t pm1a_cnt, pm_tmr, sci;
	uint8_t rsdp_revision;
};

static bool parse_mp(struct parsed *p)
{
	uint64_t fp = scan("_MP_", 4);
	const uint8_t *f = at(fp, 16);
	if (!fp || !f || sum(f, 16) != 0 || f[8] != 1 || f[9] != 4)
		return false;
	uint64_t cfg = le32(f + 4);
	const uint8_t *c = at(cfg, 44);
	if (!c || memcmp(c, "PCMP", 4) != 0)
		return false;
	uint16_t len = le16(c + 4);
	if (!at(cfg, len) || sum(c, len) != 0 || le32(c + 36) != 0xfee00000)
		return false;
	size_t off = 44;
	p->mp_ids_in_order = true;
	for (unsigned i = 0; i < le16(c + 34); i++) {
		if (off >= len)
			return false;
		const uint8_t *e = c + off;
		switch (e[0]) {
		case 0:
			if (e[1] != p->mp_cpus)
				p->mp_ids_in_order = false;
			if (e[3] & 2)
				p->mp_bsp++;
			if (!(e[3] & 1) || ((e[3] & 2) && e[1] != 0))
				return false;
			p->mp_cpus++;
			off += 20;
			break;
		case 1:
			if (memcmp(e + 2, "ISA   ", 6) != 0)
				return false;
			p->mp_buses++;
			off += 8;
			break;
		case 2:
			if (le32(e + 4) != 0xfec00000 || !(e[3] & 1))
				return false;
			p->mp_ioapics++;
			off += 8;
			break;
		case 3:
			if (e[1] == 0 && e[5] == 0)
				p->mp_irq0_pin = e[7];
			p->mp_ints++;
			off += 8;
			break;
		case 4:
			p->mp_lints++;
			off += 8;
			break;
		default:
			return false;
		}
	}
	return off == len;
}

static bool parse_madt(struct parsed *p, const uint8_t *m)
{
	uint32_t len = le32(m + 4);
	size_t off = 44;
	if (le32(m + 36) != 0xfee00000)
		return false;
	p->madt_ids_in_order = true;
	while (off < len) {
		const uint8_t *e = m + off;
		if (e[1] < 2 || off + e[1] > len)
			return false;
		switch (e[0]) {
		case 0:
			if (e[1] != 8 || !(le32(e + 4) & 1))
				return false;
			if (e[3] != p->madt_cpus)
				p->madt_ids_in_order = false;
			p->madt_cpus++;
			break;
		case 1:
			if (e[1] != 12 || le32(e + 4) != 0xfec00000 || le32(e + 8) != 0)
				return false;
			p->madt_ioapics++;
			break;
		case 2:
			if (e[1] != 10)
				return false;
			if (e[3] == 0 && le16(e + 8) == 0)
				p->madt_iso_irq0_gsi = le32(e + 4);
			break;
		case 4:
			if (e[1] != 6)
				return false;
			p->madt_nmis++;
			break;
		default:
			return false;
		}
		off += e[1];
	}
	return off == len;
}

/* Follows RSDP → RSDT and XSDT → FADT (→ DSDT, FACS) and MADT. */
static bool parse_acpi(struct parsed *p)
{
	uint64_t rp = scan("RSD PTR ", 8);
	const uint8_t *r = at(rp, 36);
	if (!rp || !r || sum(r, 20) != 0 || sum(r, 36) != 0 || le32(r + 20) != 36)
		return false;
	p->rsdp_revision = r[15];
	const uint8_t *rsdt = acpi_table(le32(r + 16), "RSDT");
	const uint8_t *xsdt = acpi_table(le64(r + 24), "XSDT");
	if (!rsdt || !xsdt)
		return false;
	unsigned n = (le32(rsdt + 4) - 36) / 4;
	if (n != (le32(xsdt + 4) - 36) / 8 || n != 2)
		return false;
	const uint8_t *fadt = NULL, *madt = NULL;
	for (unsigned i = 0; i < n; i++) {
		uint64_t a = le32(rsdt + 36 + 4 * i);
		if (a != le64(xsdt + 36 + 8 * i))
			return false;
		if (acpi_table(a, "FACP"))
			fadt = acpi_table(a, "FACP");
		else if (acpi_table(a, "APIC"))
			madt = acpi_table(a, "APIC");
		else
			return false;
	}
	if (!fadt || !madt || le32(fadt + 4) != 244)
		return false;
	const uint8_t *dsdt = acpi_table(le32(fadt + 40), "DSDT");
	if (!dsdt || le64(fadt + 140) != le32(fadt + 40))
		return false;
	/* The DSDT body is \_S5 = Package(4) {0, 0, 0, 0}. */
	if (le32(dsdt + 4) != 48 || memcmp(dsdt + 36, "\x08_S5_\x12\x06\x04", 8) != 0)
		return false;
	const uint8_t *facs = at(le32(fadt + 36), 64);
	if (!facs || memcmp(facs, "FACS", 4) != 0 || le32(facs + 4) != 64 || le32(fadt + 36) % 64)
		return false;
	p->pm1a_cnt = le32(fadt + 64);
	p->pm_tmr = le32(fadt + 76);
	p->sci = le16(fadt + 46);
	if (fadt[89] != 2 || fadt[91] != 4 || le64(fadt + 172 + 4) != p->pm1a_cnt ||
	    fadt[116] != 1 || le64(fadt + 120) != 0xcf9 || fadt[128] != 0x06)
		return false;
	return parse_madt(p, madt);
}

static void check_cpus(unsigned ncpus)
{
	struct parsed p;
	int fails = check_failures_in_test;

	memset(area, 0xa5, sizeof(area));
	memset(&p, 0, sizeof(p));
	CHECK_EQ(fwtables_build(area + (TABLES_AT - AREA_START), AREA_START + AREA_SIZE - TABLES_AT,
				TABLES_AT, ncpus, &t), 0);
	CHECK(parse_mp(&p));
	CHECK_EQ(p.mp_cpus, ncpus);
	CHECK_EQ(p.mp_bsp, 1);
	CHECK(p.mp_ids_in_order);
	CHECK_EQ(p.mp_ioapics, 1);
	CHECK_EQ(p.mp_buses, 1);
	CHECK_EQ(p.mp_irq0_pin, 2);
	CHECK_EQ(p.mp_ints, 16); /* ExtINT on pin 0, IRQs 0-15 but the cascade */
	CHECK_EQ(p.mp_lints, 2);
	CHECK(parse_acpi(&p));
	CHECK_EQ(p.rsdp_revision, 2);
	CHECK_EQ(p.madt_cpus, ncpus);
	CHECK(p.madt_ids_in_order);
	CHECK_EQ(p.madt_ioapics, 1);
	CHECK_EQ(p.madt_iso_irq0_gsi, 2);
	CHECK_EQ(p.madt_nmis, 1);
	CHECK_EQ(p.pm1a_cnt, 0x604);
	CHECK_EQ(p.pm_tmr, 0x608);
	CHECK_EQ(p.sci, 9);
	CHECK(t.size <= FWTABLES_MAX_SIZE);
	CHECK_EQ(t.mp_floating, TABLES_AT);
	CHECK_EQ(t.rsdp % 16, 0);
	/* Nothing written past what it says it used. */
	for (size_t i = TABLES_AT - AREA_START + t.size; i < sizeof(area); i++)
		if (area[i] != 0 && i < TABLES_AT - AREA_START + FWTABLES_MAX_SIZE) {
			CHECK(area[i] == 0);
			break;
		}
	if (check_failures_in_test != fails && failures_reported++ < 3)
		printf("  (with %u CPUs)\n", ncpus);
}

static void test_tables_for_one_cpu_parse_back(void)
{
	check_cpus(1);
}

static void test_every_cpu_count_from_1_to_255_fits_and_parses_back(void)
{
	for (unsigned n = 1; n <= FWTABLES_MAX_CPUS; n++)
		check_cpus(n);
}

static void test_acpi_tables_all_have_valid_checksums_in_place(void)
{
	check_cpus(4);
	uint64_t addrs[] = { t.rsdt, t.xsdt, t.fadt, t.dsdt, t.madt };
	for (unsigned i = 0; i < 5; i++) {
		const uint8_t *h = at(addrs[i], 36);
		CHECK(h != NULL);
		if (h)
			CHECK_EQ(sum(h, le32(h + 4)), 0);
	}
}

static void test_bad_cpu_counts_and_placements_are_refused(void)
{
	uint8_t *buf = area + (TABLES_AT - AREA_START);
	size_t room = AREA_START + AREA_SIZE - TABLES_AT;
	CHECK_EQ(fwtables_build(buf, room, TABLES_AT, 0, &t), -EINVAL);
	CHECK_EQ(fwtables_build(buf, room, TABLES_AT, 256, &t), -EINVAL);
	CHECK_EQ(fwtables_build(buf, room, TABLES_AT + 16, 1, &t), -EINVAL);
	CHECK_EQ(fwtables_build(buf, room, 0xe0000, 1, &t), -EINVAL);
	CHECK_EQ(fwtables_build(buf, room, 0xfe000, 1, &t), -EINVAL);
	CHECK_EQ(fwtables_build(buf, 4096, TABLES_AT, 1, &t), -ENOSPC);
}

int main(void)
{
	RUN(test_tables_for_one_cpu_parse_back);
	RUN(test_every_cpu_count_from_1_to_255_fits_and_parses_back);
	RUN(test_acpi_tables_all_have_valid_checksums_in_place);
	RUN(test_bad_cpu_counts_and_placements_are_refused);
	return check_summary();
}
