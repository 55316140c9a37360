/* kvm/boot.c — the CPU state a guest starts in: real, protected or long
 * mode, with the GDT, TSS and identity page tables the stub builds in
 * guest RAM for the latter two.
 *
 * Where those tables go: the "system area" is a run of pages at the first
 * page-aligned gap the image leaves free at or above 0x8000, otherwise at
 * or above 0x1000, otherwise anywhere in RAM. Its layout:
 *   page 0: GDT at +0 (null, 0x08 code32, 0x10 data, 0x18 code64,
 *           0x20 TSS), the TSS at +0x800
 *   page 1: PML4, page 2: PDPT, pages 3..: page directories of 2 MiB pages
 *           identity-mapping max(RAM, 4 GiB) (long mode only)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvm/machine.h"

#define SYSTEM_AREA_DEFAULT 0x8000ULL
#define GDT_CODE32 0x08
#define GDT_DATA 0x10
#define GDT_CODE64 0x18
#define GDT_TSS 0x20
#define TSS_OFFSET 0x800
#define TSS_LIMIT 0x67

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_PG (1ULL << 31)
#define CR4_PAE (1ULL << 5)
#define CR4_OSFXSR (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)

#define PTE_PRESENT 0x1ULL
#define PTE_WRITE 0x2ULL
#define PTE_LARGE 0x80ULL

static uint64_t identity_span(const struct machine *m)
{
	uint64_t four_gib = 4ULL << 30;
	return m->ram_size > four_gib ? m->ram_size : four_gib;
}

static unsigned system_area_pages(const struct machine *m, enum machine_mode mode)
{
	if (mode != MACHINE_MODE_LONG)
		return 1;
	uint64_t gib = (identity_span(m) + (1ULL << 30) - 1) >> 30;
	return 3 + (unsigned)gib;
}

static bool overlaps(uint64_t start, uint64_t size, const uint64_t (*occupied)[2],
		     unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (start < occupied[i][1] && occupied[i][0] < start + size)
			return true;
	return false;
}

/* The lowest page-aligned address >= from where size bytes are free. */
static bool find_gap(const struct machine *m, uint64_t from, uint64_t size,
		     const uint64_t (*occupied)[2], unsigned n, uint64_t *where)
{
	for (uint64_t at = from; at + size <= m->ram_size; at += MACHINE_PAGE_SIZE) {
		if (!overlaps(at, size, occupied, n)) {
			*where = at;
			return true;
		}
	}
	return false;
}

static uint64_t descriptor(uint32_t base, uint32_t limit, uint16_t flags)
{
	/* flags: access byte in bits 0-7, G/DB/L/AVL nibble in bits 12-15 */
	return (uint64_t)(limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
	       ((uint64_t)(flags & 0xff) << 40) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
	       ((uint64_t)((flags >> 12) & 0xf) << 52) | ((uint64_t)(base >> 24) << 56);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void build_gdt(struct machine *m, uint64_t area)
{
	uint8_t *gdt = m->ram + area;
	uint64_t tss = area + TSS_OFFSET;

	memset(gdt, 0, MACHINE_PAGE_SIZE);
	put64(gdt + GDT_CODE32, descriptor(0, 0xfffff, 0xc09b));
	put64(gdt + GDT_DATA, descriptor(0, 0xfffff, 0xc093));
	put64(gdt + GDT_CODE64, descriptor(0, 0xfffff, 0xa09b));
	/* A 64-bit TSS descriptor is 16 bytes; the upper half holds base 63:32. */
	put64(gdt + GDT_TSS, descriptor((uint32_t)tss, TSS_LIMIT, 0x008b));
	put64(gdt + GDT_TSS + 8, tss >> 32);
}

static void build_identity_tables(struct machine *m, uint64_t area)
{
	uint64_t pml4 = area + MACHINE_PAGE_SIZE;
	uint64_t pdpt = pml4 + MACHINE_PAGE_SIZE;
	uint64_t pd = pdpt + MACHINE_PAGE_SIZE;
	uint64_t gib = (identity_span(m) + (1ULL << 30) - 1) >> 30;

	memset(m->ram + pml4, 0, (2 + gib) * MACHINE_PAGE_SIZE);
	put64(m->ram + pml4, pdpt | PTE_PRESENT | PTE_WRITE);
	for (uint64_t g = 0; g < gib; g++) {
		uint64_t dir = pd + g * MACHINE_PAGE_SIZE;
		put64(m->ram + pdpt + g * 8, dir | PTE_PRESENT | PTE_WRITE);
		for (uint64_t i = 0; i < 512; i++) {
			uint64_t phys = (g << 30) | (i << 21);
			put64(m->ram + dir + i * 8, phys | PTE_PRESENT | PTE_WRITE | PTE_LARGE);
		}
	}
}

static void set_segment(struct kvm_segment *s, uint16_t selector, uint64_t base,
			uint32_t limit, uint8_t type, bool code64, bool big)
{
	memset(s, 0, sizeof(*s));
	s->selector = selector;
	s->base = base;
	s->limit = limit;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->l = code64;
	s->db = big && !code64;
	s->g = limit > 0xfffff;
}

static void boot_real(struct machine *m, uint64_t entry)
{
	struct kvm_sregs *sregs = machine_sregs(m);
	struct kvm_regs *regs = machine_regs(m);
	/* CS:IP reaches the entry: CS = 0 when it fits in 64 KiB, otherwise
	 * the segment the entry's upper bits name. */
	uint16_t cs = entry > 0xffff ? (uint16_t)((entry >> 4) & 0xf000) : 0;
	uint64_t base = (uint64_t)cs << 4;
	struct kvm_segment *segs[] = { &sregs->cs, &sregs->ds, &sregs->es,
				       &sregs->fs, &sregs->gs, &sregs->ss };

	for (unsigned i = 0; i < 6; i++) {
		segs[i]->selector = cs;
		segs[i]->base = base;
		segs[i]->limit = 0xffff;
	}
	regs->rip = entry - base;
	regs->rflags = 0x2;
}

static void boot_flat(struct machine *m, uint64_t area, enum machine_mode mode,
		      uint64_t entry)
{
	struct kvm_sregs *sregs = machine_sregs(m);
	struct kvm_regs *regs = machine_regs(m);
	bool long_mode = mode == MACHINE_MODE_LONG;

	build_gdt(m, area);
	set_segment(&sregs->cs, long_mode ? GDT_CODE64 : GDT_CODE32, 0, 0xffffffff,
		    0xb, long_mode, true);
	set_segment(&sregs->ds, GDT_DATA, 0, 0xffffffff, 0x3, false, true);
	sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
	memset(&sregs->tr, 0, sizeof(sregs->tr));
	sregs->tr.selector = GDT_TSS;
	sregs->tr.base = area + TSS_OFFSET;
	sregs->tr.limit = TSS_LIMIT;
	sregs->tr.type = 0xb;
	sregs->tr.present = 1;
	memset(&sregs->ldt, 0, sizeof(sregs->ldt));
	sregs->ldt.unusable = 1;
	sregs->ldt.type = 0x2;
	sregs->gdt.base = area;
	sregs->gdt.limit = GDT_TSS + 16 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	sregs->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE;
	sregs->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs->efer = 0;
	if (long_mode) {
		build_identity_tables(m, area);
		sregs->cr3 = area + MACHINE_PAGE_SIZE;
		sregs->cr4 |= CR4_PAE;
		sregs->cr0 |= CR0_PG;
		sregs->efer = EFER_LME | EFER_LMA | EFER_NXE;
	}
	regs->rip = entry;
	regs->rflags = 0x2;
}

int machine_boot(struct machine *m, enum machine_mode mode, uint64_t entry,
		 const uint64_t (*occupied)[2], unsigned noccupied)
{
	m->mode = mode;
	if (mode == MACHINE_MODE_REAL) {
		if (entry > 0xfffff) {
			snprintf(m->error, sizeof(m->error),
				 "real-mode entry 0x%llx is above 1 MiB",
				 (unsigned long long)entry);
			return -EINVAL;
		}
		boot_real(m, entry);
	} else {
		uint64_t size = system_area_pages(m, mode) * MACHINE_PAGE_SIZE, area;
		if (!find_gap(m, SYSTEM_AREA_DEFAULT, size, occupied, noccupied, &area) &&
		    !find_gap(m, 0x1000, size, occupied, noccupied, &area) &&
		    !find_gap(m, 0, size, occupied, noccupied, &area)) {
			snprintf(m->error, sizeof(m->error),
				 "no room in guest RAM for the %llu KiB of GDT and page tables next to the image",
				 (unsigned long long)(size >> 10));
			return -E2BIG;
		}
		boot_flat(m, area, mode, entry);
		machine_note_host_write(m, area, size); /* cleared on a restart */
	}
	machine_regs_changed(m);
	machine_sregs_changed(m);
	return 0;
}
