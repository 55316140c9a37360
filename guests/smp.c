/* guests/smp.c — an SMP kernel (smp64.elf): the BSP finds its CPUs
 * through the Intel MP table, the ACPI MADT (through the XSDT, else the
 * RSDT) and QEMU's fw_cfg, prints what each says, starts the other
 * processors with INIT/SIPI (they come up in real mode in
 * smp_trampoline.S and reach long mode and ap_main), and every CPU counts
 * with `lock` instructions.
 *
 * kernel_main's argument (rdi, `--reg rdi=N`) picks what happens next:
 *   0  each CPU adds COUNT to a shared total; the BSP prints it and every
 *      CPU halts with interrupts off (the guest ends, status 0);
 *   1  every CPU loops through smp_spot() for ever (breakpoint races);
 *   2  as 1, but AP 1 triple-faults after 2000 turns;
 *   3  the APs halt at once (cli; hlt), the BSP loops through smp_spot();
 *   4  as 0, but the first boot (counted in CMOS RAM byte 0x41, which a
 *      reset keeps, as on a PC) then resets the machine through port
 *      0xcf9 with the APs halted: the second boot starts them again.
 * Output is fixed text, so tests compare it line by line. */
#include "io.h"
#include "uart.h"

#define TRAMP_ADDR 0x7000UL
#define MAX_CPUS 64
#define COUNT 1000
#define LAPIC 0xfee00000UL
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LOW 0x300
#define LAPIC_ICR_HIGH 0x310
#define FW_CFG_SELECT 0x510
#define FW_CFG_DATA 0x511

void kernel_main(unsigned long scenario);
void ap_main(unsigned id);
void smp_spot(unsigned id);
void smp_crash(void);

extern char tramp_start[], tramp_end[], tramp_cr3[];

unsigned char ap_stacks[MAX_CPUS + 1][4096] __attribute__((aligned(4096)));
volatile unsigned long total;
volatile unsigned arrived, finished;
volatile unsigned long spot_hits[MAX_CPUS];
volatile unsigned long spin_turns[MAX_CPUS];
volatile unsigned long scenario_now;

static void print_uint(unsigned long v)
{
	char buf[24];
	int n = 0;

	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		uart_putc(buf[--n]);
}

static unsigned le16(const volatile unsigned char *p) { return p[0] | p[1] << 8; }
static unsigned le32(const volatile unsigned char *p) { return le16(p) | le16(p + 2) << 16; }

static int same(const volatile unsigned char *p, const char *sig, int n)
{
	for (int i = 0; i < n; i++)
		if (p[i] != (unsigned char)sig[i])
			return 0;
	return 1;
}

static int sums_to_zero(const volatile unsigned char *p, unsigned len)
{
	unsigned char s = 0;

	for (unsigned i = 0; i < len; i++)
		s = (unsigned char)(s + p[i]);
	return s == 0;
}

static const volatile unsigned char *scan(const char *sig, int n)
{
	for (unsigned long a = 0xe0000; a < 0x100000; a += 16)
		if (same((const volatile unsigned char *)a, sig, n))
			return (const volatile unsigned char *)a;
	return 0;
}

static void print_ids(const char *what, unsigned n, const unsigned char *ids)
{
	print(what);
	print_uint(n);
	print(n == 1 ? " CPU, APIC ids" : " CPUs, APIC ids");
	for (unsigned i = 0; i < n; i++) {
		uart_putc(' ');
		print_uint(ids[i]);
	}
	uart_putc('\n');
}

/* MultiProcessor Spec 1.4: floating pointer, then processor entries. */
static unsigned from_mp_table(void)
{
	const volatile unsigned char *fp = scan("_MP_", 4);
	unsigned char ids[MAX_CPUS];
	unsigned n = 0;

	if (!fp || !sums_to_zero(fp, 16) || !le32(fp + 4)) {
		print("smp: MP table: none\n");
		return 0;
	}
	const volatile unsigned char *cfg = (const volatile unsigned char *)(unsigned long)le32(fp + 4);
	if (!same(cfg, "PCMP", 4) || !sums_to_zero(cfg, le16(cfg + 4))) {
		print("smp: MP table: bad\n");
		return 0;
	}
	const volatile unsigned char *e = cfg + 44, *end = cfg + le16(cfg + 4);
	for (unsigned i = 0; i < le16(cfg + 34) && e < end; i++) {
		if (e[0] == 0) {
			if ((e[3] & 1) && n < MAX_CPUS)
				ids[n++] = e[1];
			e += 20;
		} else {
			e += 8;
		}
	}
	print_ids("smp: MP table: ", n, ids);
	return n;
}

static unsigned madt_cpus(const volatile unsigned char *madt, unsigned char *ids)
{
	unsigned n = 0, len = le32(madt + 4);

	for (unsigned off = 44; off + 2 <= len;) {
		const volatile unsigned char *e = madt + off;
		if (e[1] < 2)
			break;
		if (e[0] == 0 && (le32(e + 4) & 1) && n < MAX_CPUS)
			ids[n++] = e[3];
		off += e[1];
	}
	return n;
}

/* ACPI: the RSDP, the XSDT (or RSDT), the MADT's local APIC entries. */
static unsigned from_madt(void)
{
	const volatile unsigned char *rsdp = scan("RSD PTR ", 8);
	unsigned char ids[MAX_CPUS];

	if (!rsdp || !sums_to_zero(rsdp, 20)) {
		print("smp: MADT: none\n");
		return 0;
	}
	int x = rsdp[15] >= 2 && le32(rsdp + 24);
	const volatile unsigned char *sdt =
		(const volatile unsigned char *)(unsigned long)le32(rsdp + (x ? 24 : 16));
	unsigned entry = x ? 8 : 4, len = le32(sdt + 4);
	if (!same(sdt, x ? "XSDT" : "RSDT", 4) || !sums_to_zero(sdt, len)) {
		print("smp: MADT: bad root table\n");
		return 0;
	}
	for (unsigned off = 36; off + entry <= len; off += entry) {
		const volatile unsigned char *t =
			(const volatile unsigned char *)(unsigned long)le32(sdt + off);
		if (!same(t, "APIC", 4))
			continue;
		if (!sums_to_zero(t, le32(t + 4))) {
			print("smp: MADT: bad checksum\n");
			return 0;
		}
		unsigned n = madt_cpus(t, ids);
		print_ids(x ? "smp: MADT (XSDT): " : "smp: MADT (RSDT): ", n, ids);
		return n;
	}
	print("smp: MADT: none\n");
	return 0;
}

static void outw(unsigned short port, unsigned short value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

static unsigned from_fw_cfg(void)
{
	outw(FW_CFG_SELECT, 0);
	char sig[4];
	for (int i = 0; i < 4; i++)
		sig[i] = (char)inb(FW_CFG_DATA);
	if (sig[0] != 'Q' || sig[1] != 'E' || sig[2] != 'M' || sig[3] != 'U') {
		print("smp: fw_cfg: none\n");
		return 0;
	}
	outw(FW_CFG_SELECT, 5);
	unsigned n = inb(FW_CFG_DATA);
	n |= (unsigned)inb(FW_CFG_DATA) << 8;
	print("smp: fw_cfg: ");
	print_uint(n);
	print(n == 1 ? " CPU\n" : " CPUs\n");
	return n;
}

static volatile unsigned *lapic(unsigned reg)
{
	return (volatile unsigned *)(LAPIC + reg);
}

static void send_ipi(unsigned low)
{
	*lapic(LAPIC_ICR_HIGH) = 0;
	*lapic(LAPIC_ICR_LOW) = low;
	while (*lapic(LAPIC_ICR_LOW) & (1u << 12)) /* delivery pending */
		;
}

static void pause_a_little(void)
{
	for (volatile int i = 0; i < 200; i++)
		;
}

/* INIT, then SIPI twice, to every processor but this one (the ICR's
 * "all excluding self" shorthand), as the MP spec's start-up sequence. */
static void start_aps(void)
{
	unsigned long cr3;
	const char *from = tramp_start;
	char *to = (char *)TRAMP_ADDR;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	for (long i = 0; i < tramp_end - tramp_start; i++)
		to[i] = from[i];
	*(volatile unsigned *)(TRAMP_ADDR + (unsigned long)(tramp_cr3 - tramp_start)) =
		(unsigned)cr3;
	*lapic(LAPIC_SVR) = 0x1ff;
	send_ipi(0x000c4500); /* INIT, level assert, all excluding self */
	pause_a_little();
	send_ipi(0x000c4600 | (TRAMP_ADDR >> 12)); /* SIPI */
	pause_a_little();
	send_ipi(0x000c4600 | (TRAMP_ADDR >> 12));
}

static void count(void)
{
	for (int i = 0; i < COUNT; i++)
		__asm__ volatile("lock addq $1, %0" : "+m"(total));
}

void smp_spot(unsigned id)
{
	__asm__ volatile("lock incq %0" : "+m"(spot_hits[id]));
}

void smp_crash(void)
{
	static const struct {
		unsigned short limit;
		unsigned long base;
	} __attribute__((packed)) no_idt = { 0, 0 };

	__asm__ volatile("lidt %0; ud2" : : "m"(no_idt));
}

static void spin(unsigned id)
{
	for (;;) {
		smp_spot(id);
		spin_turns[id]++; /* a line of its own, so `next` leaves the call */
	}
}

void ap_main(unsigned id)
{
	__asm__ volatile("lock incl %0" : "+m"(arrived));
	switch (scenario_now) {
	case 0:
	case 4:
		count();
		__asm__ volatile("lock incl %0" : "+m"(finished));
		return; /* cli; hlt in smp_trampoline.S */
	case 2:
		for (unsigned long i = 0; id == 1 && i < 2000; i++)
			smp_spot(id);
		if (id == 1)
			smp_crash();
		spin(id);
		break;
	case 3:
		return;
	default:
		spin(id);
	}
}

void kernel_main(unsigned long scenario)
{
	unsigned n_mp, n_madt, n_fw, want;

	scenario_now = scenario;
	print("smp: BSP up\n");
	unsigned boot = 0;
	if (scenario == 4) {
		outb(0x70, 0x41);
		boot = inb(0x71) + 1u;
		outb(0x71, (unsigned char)boot);
		print("smp: boot ");
		print_uint(boot);
		print("\n");
	}
	n_mp = from_mp_table();
	n_madt = from_madt();
	n_fw = from_fw_cfg();
	want = n_mp ? n_mp : n_madt ? n_madt : n_fw;
	if (want > MAX_CPUS)
		want = MAX_CPUS;
	if (want != 1)
		start_aps();
	/* Each AP says it arrived; without tables, wait for a quiet spell. */
	unsigned long quiet = 0, last = 0;
	while (want ? arrived < want - 1 : quiet < 100000) {
		if (arrived != last)
			quiet = 0;
		last = arrived;
		quiet++;
	}
	print("smp: CPUs running: ");
	print_uint(arrived + 1);
	print("\n");
	if (scenario == 3) /* time for the APs to reach their hlt */
		for (int i = 0; i < 50; i++)
			pause_a_little();
	if (scenario == 0 || scenario == 4) {
		count();
		while (finished < arrived)
			;
		print("smp: total ");
		print_uint(total);
		print("\n");
		if (boot == 1) {
			outb(0xcf9, 0x02);
			outb(0xcf9, 0x06);
		}
		return; /* hlt with IF=0 in start64.S */
	}
	spin(0);
}
