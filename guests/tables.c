/* guests/tables.c — a long-mode kernel that finds its machine the way an
 * SMP kernel does: it scans the BIOS area for the MP floating pointer and
 * the ACPI RSDP, checks every checksum, counts the CPUs in the MP table
 * and in the MADT, finds where IRQ0 is routed, prints it all on COM1, and
 * then powers off through the PM1a control block the FADT names. A table
 * that is missing or broken prints "bad ..." and exits with status 3. */
#include "pcio.h"

void kernel_main(void);

static const unsigned char *phys(unsigned long addr)
{
	return (const unsigned char *)addr;
}

static unsigned le16(const unsigned char *p) { return p[0] | p[1] << 8; }
static unsigned le32(const unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

static int sums_to_zero(const unsigned char *p, unsigned len)
{
	unsigned char s = 0;

	for (unsigned i = 0; i < len; i++)
		s = (unsigned char)(s + p[i]);
	return s == 0;
}

static int same(const unsigned char *p, const char *sig, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != (unsigned char)sig[i])
			return 0;
	return 1;
}

static const unsigned char *scan(const char *sig, int n)
{
	for (unsigned long a = 0xe0000; a < 0x100000; a += 16)
		if (same(phys(a), sig, n))
			return phys(a);
	return 0;
}

static void fail(const char *what)
{
	print("bad ");
	print(what);
	print("\n");
	exit_device(1);
}

static void mp_table(void)
{
	const unsigned char *fp = scan("_MP_", 4), *cfg, *e;
	unsigned cpus = 0, bsp = 0, irq0_pin = 99, off;

	if (!fp || fp < phys(0xf0000) || !sums_to_zero(fp, 16)) {
		fail("MP floating pointer");
		return;
	}
	cfg = phys(le32(fp + 4));
	if (!same(cfg, "PCMP", 4) || !sums_to_zero(cfg, le16(cfg + 4))) {
		fail("MP configuration table");
		return;
	}
	off = 44;
	for (unsigned i = 0; i < le16(cfg + 34); i++) {
		e = cfg + off;
		if (e[0] == 0) {
			cpus++;
			if (e[3] & 2)
				bsp = e[1];
			off += 20;
		} else {
			if (e[0] == 3 && e[1] == 0 && e[5] == 0)
				irq0_pin = e[7];
			off += 8;
		}
	}
	print("mp: cpus=");
	print_dec(cpus);
	print(" bsp=");
	print_dec(bsp);
	print(" irq0->pin");
	print_dec(irq0_pin);
	print("\n");
}

static const unsigned char *sdt(unsigned long addr, const char *sig)
{
	const unsigned char *t = phys(addr);

	if (!same(t, sig, 4) || !sums_to_zero(t, le32(t + 4)))
		return 0;
	return t;
}

void kernel_main(void)
{
	const unsigned char *rsdp, *rsdt, *fadt = 0, *madt = 0;
	unsigned cpus = 0, irq0_gsi = 0;

	mp_table();
	rsdp = scan("RSD PTR ", 8);
	if (!rsdp || !sums_to_zero(rsdp, 20) || !sums_to_zero(rsdp, 36)) {
		fail("RSDP");
		return;
	}
	rsdt = sdt(le32(rsdp + 16), "RSDT");
	if (!rsdt) {
		fail("RSDT");
		return;
	}
	for (unsigned i = 36; i < le32(rsdt + 4); i += 4) {
		unsigned long a = le32(rsdt + i);
		if (sdt(a, "FACP"))
			fadt = phys(a);
		if (sdt(a, "APIC"))
			madt = phys(a);
	}
	if (!fadt || !madt || !sdt(le32(fadt + 40), "DSDT")) {
		fail("FADT, MADT or DSDT");
		return;
	}
	for (unsigned off = 44; off < le32(madt + 4); off += madt[off + 1]) {
		if (madt[off] == 0 && (le32(madt + off + 4) & 1))
			cpus++;
		if (madt[off] == 2 && madt[off + 3] == 0)
			irq0_gsi = le32(madt + off + 4);
	}
	print("acpi: rev=");
	print_dec(rsdp[15]);
	print(" cpus=");
	print_dec(cpus);
	print(" irq0->gsi");
	print_dec(irq0_gsi);
	print(" pm1a_cnt=0x");
	print_hex2((unsigned char)(le32(fadt + 64) >> 8));
	print_hex2((unsigned char)le32(fadt + 64));
	print("\n");
	/* An ACPI power-off: SLP_TYP from \_S5 (0), SLP_EN. */
	outw((unsigned short)le32(fadt + 64), 0x2000);
	print("still running\n");
	exit_device(1);
}
