/* kvm/fwtables.c — Intel MP table and ACPI tables built as bytes, with
 * their lengths and checksums. The routing they describe is QEMU's PC:
 * ISA IRQ n on IOAPIC pin n, except the PIT's IRQ0 on pin 2; the 8259s in
 * virtual-wire mode through LINT0; NMI on LINT1; the SCI on IRQ 9, level. */
#include "kvm/fwtables.h"

#include <errno.h>
#include <string.h>

#include "kvm/pc_control.h"
#include "kvm/image_bytes.h"

#define OEM_ID "KVMSTB"        /* six bytes, as ACPI wants */
#define OEM_TABLE_ID "KVMSTUB "  /* eight bytes */
#define CREATOR_ID "KVMS"

static void put8(uint8_t *p, uint8_t v)
{
	p[0] = v;
}

/* The byte that makes the sum of p[0..len) zero. */
static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0x100 - sum);
}

static size_t align_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* --- Intel MP table ---------------------------------------------------- */

enum {
	MP_PROCESSOR = 0,
	MP_BUS = 1,
	MP_IOAPIC = 2,
	MP_IO_INTERRUPT = 3,
	MP_LOCAL_INTERRUPT = 4,
};
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
#define MP_ISA_BUS 0
#define MP_APIC_VERSION 0x14 /* an integrated xAPIC */
#define MP_CPU_ENABLED 0x01
#define MP_CPU_BSP 0x02
#define MP_FLAGS_LEVEL_HIGH 0x000d /* active high, level triggered */
#define MP_CONFIG_HEADER 44

static size_t mp_io_interrupt(uint8_t *p, uint8_t type, uint16_t flags, uint8_t irq, uint8_t pin)
{
	put8(p, MP_IO_INTERRUPT);
	put8(p + 1, type);
	image_put_le16(p + 2, flags);
	put8(p + 4, MP_ISA_BUS);
	put8(p + 5, irq);
	put8(p + 6, FWTABLES_IOAPIC_ID);
	put8(p + 7, pin);
	return 8;
}

static size_t mp_local_interrupt(uint8_t *p, uint8_t type, uint8_t lint)
{
	put8(p, MP_LOCAL_INTERRUPT);
	put8(p + 1, type);
	image_put_le16(p + 2, 0);
	put8(p + 4, MP_ISA_BUS);
	put8(p + 5, 0);
	put8(p + 6, 0xff); /* every local APIC */
	put8(p + 7, lint);
	return 8;
}

/* The configuration table at t; returns its length. */
static size_t build_mp_config(uint8_t *t, unsigned ncpus)
{
	size_t len = MP_CONFIG_HEADER;
	unsigned entries = 0;

	for (unsigned cpu = 0; cpu < ncpus; cpu++, entries++) {
		uint8_t *e = t + len;
		put8(e, MP_PROCESSOR);
		put8(e + 1, (uint8_t)cpu);
		put8(e + 2, MP_APIC_VERSION);
		put8(e + 3, MP_CPU_ENABLED | (cpu == 0 ? MP_CPU_BSP : 0));
		image_put_le32(e + 4, 0x600);  /* family 6 */
		image_put_le32(e + 8, 0x201);  /* FPU, on-chip APIC */
		len += 20;
	}
	put8(t + len, MP_BUS);
	put8(t + len + 1, MP_ISA_BUS);
	memcpy(t + len + 2, "ISA   ", 6);
	len += 8, entries++;
	put8(t + len, MP_IOAPIC);
	put8(t + len + 1, FWTABLES_IOAPIC_ID);
	put8(t + len + 2, 0x11); /* KVM's IOAPIC version */
	put8(t + len + 3, 0x01); /* usable */
	image_put_le32(t + len + 4, FWTABLES_IOAPIC_ADDR);
	len += 8, entries++;
	/* The 8259s' output reaches pin 0 as ExtINT; the PIT's IRQ0 is on
	 * pin 2 (IRQ2 is the cascade and has no pin of its own). */
	len += mp_io_interrupt(t + len, MP_EXTINT, 0, 0, 0), entries++;
	for (uint8_t irq = 0; irq < 16; irq++) {
		if (irq == 2)
			continue;
		uint16_t flags = irq == FWTABLES_SCI_IRQ ? MP_FLAGS_LEVEL_HIGH : 0;
		len += mp_io_interrupt(t + len, MP_INT, flags, irq, irq == 0 ? 2 : irq), entries++;
	}
	len += mp_local_interrupt(t + len, MP_EXTINT, 0), entries++;
	len += mp_local_interrupt(t + len, MP_NMI, 1), entries++;

	memcpy(t, "PCMP", 4);
	image_put_le16(t + 4, (uint16_t)len);
	put8(t + 6, 4); /* spec 1.4 */
	memcpy(t + 8, "KVMSTUB ", 8);
	memcpy(t + 16, "PC          ", 12);
	image_put_le32(t + 28, 0);
	image_put_le16(t + 32, 0);
	image_put_le16(t + 34, (uint16_t)entries);
	image_put_le32(t + 36, FWTABLES_LAPIC_ADDR);
	image_put_le16(t + 40, 0);
	put8(t + 42, 0);
	put8(t + 7, checksum(t, len));
	return len;
}

static void build_mp_floating(uint8_t *f, uint32_t config_phys)
{
	memcpy(f, "_MP_", 4);
	image_put_le32(f + 4, config_phys);
	put8(f + 8, 1);  /* length in 16-byte units */
	put8(f + 9, 4);  /* spec 1.4 */
	/* Feature bytes 1-5 zero: a configuration table is present, no
	 * IMCR (virtual-wire mode). */
	put8(f + 10, checksum(f, 16));
}

/* --- ACPI ------------------------------------------------------------ */

#define SDT_HEADER 36
#define FADT_LENGTH 244 /* revision 3: the ACPI 2.0 layout with X_ fields */
#define FACS_LENGTH 64
#define MADT_REVISION 3

static void sdt_header(uint8_t *t, const char *sig, uint32_t len, uint8_t revision)
{
	memcpy(t, sig, 4);
	image_put_le32(t + 4, len);
	put8(t + 8, revision);
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	image_put_le32(t + 24, 1);
	memcpy(t + 28, CREATOR_ID, 4);
	image_put_le32(t + 32, 1);
	put8(t + 9, 0);
	put8(t + 9, checksum(t, len));
}

/* A generic address structure in system I/O space. */
static void put_gas_io(uint8_t *p, uint8_t bits, uint8_t access, uint16_t port)
{
	put8(p, 1);
	put8(p + 1, bits);
	put8(p + 2, 0);
	put8(p + 3, access);
	image_put_le64(p + 4, port);
}

/* \_S5 with SLP_TYP 0: what PM1a_CNT takes to power off (pc_control). */
static const uint8_t dsdt_aml[] = {
	0x08, '_', 'S', '5', '_',  /* Name (_S5, */
	0x12, 0x06, 0x04,          /*   Package (4) { */
	0x00, 0x00, 0x00, 0x00,    /*     Zero, Zero, Zero, Zero } ) */
};

static size_t build_dsdt(uint8_t *t)
{
	size_t len = SDT_HEADER + sizeof(dsdt_aml);

	memcpy(t + SDT_HEADER, dsdt_aml, sizeof(dsdt_aml));
	sdt_header(t, "DSDT", (uint32_t)len, 2);
	return len;
}

static size_t build_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	image_put_le32(t + 4, FACS_LENGTH);
	put8(t + 32, 1); /* version */
	return FACS_LENGTH;
}

static size_t build_fadt(uint8_t *t, uint32_t facs, uint32_t dsdt)
{
	image_put_le32(t + 36, facs);
	image_put_le32(t + 40, dsdt);
	image_put_le16(t + 46, FWTABLES_SCI_IRQ);
	/* SMI_CMD 0: no mode switch; the machine is in ACPI mode already. */
	image_put_le32(t + 56, PC_PM_BASE);                         /* PM1a_EVT_BLK */
	image_put_le32(t + 64, PC_PM_BASE + PC_PM1_CNT_OFFSET);    /* PM1a_CNT_BLK */
	image_put_le32(t + 76, PC_PM_BASE + PC_PM_TMR_OFFSET);     /* PM_TMR_BLK */
	put8(t + 88, 4); /* PM1_EVT_LEN */
	put8(t + 89, 2); /* PM1_CNT_LEN */
	put8(t + 91, 4); /* PM_TMR_LEN */
	image_put_le16(t + 96, 0x65);  /* C2 latency > 100: no C2 */
	image_put_le16(t + 98, 0x3e9); /* C3 latency > 1000: no C3 */
	put8(t + 108, 0x32);  /* the RTC's century register */
	image_put_le16(t + 109, 0x0003); /* IAPC_BOOT_ARCH: legacy devices, an 8042 */
	/* Flags: WBINVD, C1 on all CPUs, power and sleep buttons not fixed
	 * features, RESET_REG supported. */
	image_put_le32(t + 112, 0x1 | 0x4 | 0x10 | 0x20 | 0x400);
	put_gas_io(t + 116, 8, 1, PC_RESET_CONTROL);
	put8(t + 128, 0x06); /* RESET_VALUE: a CPU reset through 0xcf9 */
	image_put_le64(t + 140, dsdt); /* X_DSDT, equal to DSDT */
	put_gas_io(t + 148, 32, 2, PC_PM_BASE);
	put_gas_io(t + 172, 16, 2, PC_PM_BASE + PC_PM1_CNT_OFFSET);
	put_gas_io(t + 208, 32, 3, PC_PM_BASE + PC_PM_TMR_OFFSET);
	sdt_header(t, "FACP", FADT_LENGTH, 3);
	return FADT_LENGTH;
}

static size_t madt_iso(uint8_t *p, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	put8(p, 2);
	put8(p + 1, 10);
	put8(p + 2, 0); /* ISA */
	put8(p + 3, irq);
	image_put_le32(p + 4, gsi);
	image_put_le16(p + 8, flags);
	return 10;
}

static size_t build_madt(uint8_t *t, unsigned ncpus)
{
	size_t len = SDT_HEADER + 8;

	image_put_le32(t + 36, FWTABLES_LAPIC_ADDR);
	image_put_le32(t + 40, 1); /* PCAT_COMPAT: there are 8259s too */
	for (unsigned cpu = 0; cpu < ncpus; cpu++) {
		put8(t + len, 0);
		put8(t + len + 1, 8);
		put8(t + len + 2, (uint8_t)cpu); /* ACPI processor UID */
		put8(t + len + 3, (uint8_t)cpu); /* APIC id */
		image_put_le32(t + len + 4, 1);           /* enabled */
		len += 8;
	}
	put8(t + len, 1);
	put8(t + len + 1, 12);
	put8(t + len + 2, FWTABLES_IOAPIC_ID);
	put8(t + len + 3, 0);
	image_put_le32(t + len + 4, FWTABLES_IOAPIC_ADDR);
	image_put_le32(t + len + 8, 0); /* GSI base */
	len += 12;
	len += madt_iso(t + len, 0, 2, 0);
	len += madt_iso(t + len, FWTABLES_SCI_IRQ, FWTABLES_SCI_IRQ, MP_FLAGS_LEVEL_HIGH);
	put8(t + len, 4); /* local APIC NMI: LINT1 of every CPU */
	put8(t + len + 1, 6);
	put8(t + len + 2, 0xff);
	image_put_le16(t + len + 3, 0);
	put8(t + len + 5, 1);
	len += 6;
	sdt_header(t, "APIC", (uint32_t)len, MADT_REVISION);
	return len;
}

/* The RSDT (4-byte entries) or XSDT (8-byte entries): the same list of
 * table addresses after a header. */
static size_t build_table_list(uint8_t *t, const char *signature, unsigned entry_size,
			       const uint32_t *tables, unsigned n)
{
	size_t len = SDT_HEADER + entry_size * (size_t)n;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *entry = t + SDT_HEADER + entry_size * i;
		if (entry_size == 8)
			image_put_le64(entry, tables[i]);
		else
			image_put_le32(entry, tables[i]);
	}
	sdt_header(t, signature, (uint32_t)len, 1);
	return len;
}

static void build_rsdp(uint8_t *r, uint32_t rsdt, uint64_t xsdt)
{
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, OEM_ID, 6);
	put8(r + 15, 2);
	image_put_le32(r + 16, rsdt);
	image_put_le32(r + 20, 36);
	image_put_le64(r + 24, xsdt);
	put8(r + 8, checksum(r, 20));
	put8(r + 32, checksum(r, 36));
}

int fwtables_build(uint8_t *buf, size_t buf_size, uint64_t phys, unsigned ncpus,
		   struct fwtables *out)
{
	size_t at;

	if (ncpus == 0 || ncpus > FWTABLES_MAX_CPUS || phys % 64 ||
	    phys < FWTABLES_BIOS_START || phys >= FWTABLES_BIOS_END)
		return -EINVAL;
	/* Everything fits in FWTABLES_MAX_SIZE; ask for no less, so no
	 * table is ever written past the end. */
	if (buf_size < FWTABLES_MAX_SIZE)
		return -ENOSPC;
	if (FWTABLES_BIOS_END - phys < FWTABLES_MAX_SIZE)
		return -EINVAL;
	memset(buf, 0, FWTABLES_MAX_SIZE);
	memset(out, 0, sizeof(*out));

	/* The two pointers kernels scan for come first, 16-byte aligned. */
	out->mp_floating = phys;
	out->rsdp = phys + 16;
	at = 64;
	out->facs = phys + at;
	at += build_facs(buf + at);
	out->dsdt = phys + at;
	at = align_up(at + build_dsdt(buf + at), 16);
	out->fadt = phys + at;
	at = align_up(at + build_fadt(buf + at, (uint32_t)out->facs, (uint32_t)out->dsdt), 16);
	out->madt = phys + at;
	at = align_up(at + build_madt(buf + at, ncpus), 16);
	uint32_t tables[2] = { (uint32_t)out->fadt, (uint32_t)out->madt };
	out->rsdt = phys + at;
	at = align_up(at + build_table_list(buf + at, "RSDT", 4, tables, 2), 16);
	out->xsdt = phys + at;
	at = align_up(at + build_table_list(buf + at, "XSDT", 8, tables, 2), 16);
	out->mp_config = phys + at;
	at = align_up(at + build_mp_config(buf + at, ncpus), 16);
	build_mp_floating(buf, (uint32_t)out->mp_config);
	build_rsdp(buf + 16, (uint32_t)out->rsdt, out->xsdt);
	out->size = at;
	return 0;
}
