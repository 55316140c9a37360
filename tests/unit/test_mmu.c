/* tests/unit/test_mmu.c — the page-table walker on synthetic tables: every
 * paging mode, page size, not-present level, RAM bound and address edge the
 * stub can meet when gdb reads memory by linear address. No KVM.
 */
#include "kvm/mmu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define P (1ull << 0)
#define RW (1ull << 1)
#define US (1ull << 2)
#define PS (1ull << 7)
#define NX (1ull << 63)

#define KIB 1024ull
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* Guest RAM for the tables; the pages they map need not be in it. */
struct test_ram {
	uint8_t *bytes;
	uint64_t size;
	uint64_t next_table;
};

static struct test_ram new_ram(uint64_t size)
{
	struct test_ram r = { calloc(1, size), size, 0x2000 };
	if (!r.bytes)
		abort();
	return r;
}

static uint64_t alloc_table(struct test_ram *r)
{
	uint64_t at = r->next_table;
	r->next_table += 4 * KIB;
	if (r->next_table > r->size)
		abort();
	return at;
}

static void put64(struct test_ram *r, uint64_t addr, uint64_t value)
{
	memcpy(r->bytes + addr, &value, 8);
}

static uint64_t get64(struct test_ram *r, uint64_t addr)
{
	uint64_t value;
	memcpy(&value, r->bytes + addr, 8);
	return value;
}

static void put32(struct test_ram *r, uint64_t addr, uint32_t value)
{
	memcpy(r->bytes + addr, &value, 4);
}

static uint32_t get32(struct test_ram *r, uint64_t addr)
{
	uint32_t value;
	memcpy(&value, r->bytes + addr, 4);
	return value;
}

/* The entry at addr if present, else a new table with an entry pointing to
 * it (present, writable). Returns the table the entry points to. */
static uint64_t next_level64(struct test_ram *r, uint64_t entry_addr,
			     uint64_t table_flags)
{
	uint64_t entry = get64(r, entry_addr);
	if (!(entry & P)) {
		entry = alloc_table(r) | table_flags;
		put64(r, entry_addr, entry);
	}
	return entry & 0x000ffffffffff000ull;
}

static struct mmu_state long_mode_state(uint64_t cr3, int five_level)
{
	struct mmu_state s = {
		.cr0 = CR0_PE | CR0_PG,
		.cr3 = cr3,
		.cr4 = CR4_PAE | (five_level ? CR4_LA57 : 0),
		.efer = EFER_LME | EFER_LMA,
	};
	return s;
}

/* Returns the address of va's entry at `depth` (0 = the root table) of a
 * 4- or 5-level hierarchy rooted at cr3, creating tables on the way. */
static uint64_t long_entry(struct test_ram *r, uint64_t cr3, int five_level,
			   uint64_t va, int depth)
{
	int levels = five_level ? 5 : 4;
	uint64_t table = cr3 & ~0xfffull;
	for (int level = 0;; level++) {
		int shift = 12 + 9 * (levels - 1 - level);
		uint64_t entry_addr = table + ((va >> shift) & 0x1ff) * 8;
		if (level == depth)
			return entry_addr;
		table = next_level64(r, entry_addr, P | RW | US);
	}
}

/* Maps va → pa with a 4 KiB, 2 MiB or 1 GiB page in 4- or 5-level paging;
 * the leaf gets flags, the tables above it P|RW|US. */
static void map_long(struct test_ram *r, uint64_t cr3, int five_level,
		     uint64_t va, uint64_t pa, uint64_t page_size,
		     uint64_t flags)
{
	int levels = five_level ? 5 : 4;
	int leaf_depth = page_size == GIB ? levels - 3
			 : page_size == 2 * MIB ? levels - 2
						 : levels - 1;
	uint64_t large = page_size == 4 * KIB ? 0 : PS;
	put64(r, long_entry(r, cr3, five_level, va, leaf_depth),
	      pa | flags | large);
}

/* PAE: cr3 points at four PDPTEs (32-byte aligned). PDPTEs hold only P and
 * the address: the SDM reserves their R/W and U/S bits. */
static uint64_t pae_entry(struct test_ram *r, uint64_t cr3, uint64_t va,
			  int depth)
{
	uint64_t pdpte_addr = (cr3 & 0xffffffe0ull) + ((va >> 30) & 3) * 8;
	if (depth == 0)
		return pdpte_addr;
	uint64_t pd = next_level64(r, pdpte_addr, P);
	uint64_t pde_addr = pd + ((va >> 21) & 0x1ff) * 8;
	if (depth == 1)
		return pde_addr;
	uint64_t pt = next_level64(r, pde_addr, P | RW | US);
	return pt + ((va >> 12) & 0x1ff) * 8;
}

static void map_pae(struct test_ram *r, uint64_t cr3, uint64_t va,
		    uint64_t pa, uint64_t page_size, uint64_t flags)
{
	if (page_size == 2 * MIB)
		put64(r, pae_entry(r, cr3, va, 1), pa | flags | PS);
	else
		put64(r, pae_entry(r, cr3, va, 2), pa | flags);
}

static struct mmu_state pae_state(uint64_t cr3)
{
	struct mmu_state s = { CR0_PE | CR0_PG, cr3, CR4_PAE, 0 };
	return s;
}

/* 32-bit paging: 4-byte entries, PD then PT. */
static uint64_t entry32(struct test_ram *r, uint64_t cr3, uint32_t va,
			int depth)
{
	uint64_t pde_addr = (cr3 & 0xfffff000ull) + (va >> 22) * 4;
	if (depth == 0)
		return pde_addr;
	uint32_t pde = get32(r, pde_addr);
	if (!(pde & P)) {
		pde = (uint32_t)(alloc_table(r) | P | RW | US);
		put32(r, pde_addr, pde);
	}
	return (pde & 0xfffff000u) + ((va >> 12) & 0x3ff) * 4;
}

static void map_4k_32(struct test_ram *r, uint64_t cr3, uint32_t va,
		      uint32_t pa, uint32_t flags)
{
	put32(r, entry32(r, cr3, va, 1), pa | flags);
}

/* A 4 MiB page; physical bits 39:32 go in PDE bits 20:13 (PSE-36). */
static void map_4m_32(struct test_ram *r, uint64_t cr3, uint32_t va,
		      uint64_t pa, uint32_t flags)
{
	uint32_t pde = (uint32_t)(pa & 0xffc00000u) |
		       (uint32_t)(((pa >> 32) & 0xff) << 13) | flags | PS;
	put32(r, entry32(r, cr3, va, 0), pde);
}

static struct mmu_state paging32_state(uint64_t cr3, int pse)
{
	struct mmu_state s = { CR0_PE | CR0_PG, cr3, pse ? CR4_PSE : 0, 0 };
	return s;
}

/* Translates and returns the result code; *m is poisoned first so a test
 * sees whether it was filled. */
static int translate(const struct mmu_state *s, struct test_ram *r,
		     uint64_t linear, struct mmu_mapping *m)
{
	memset(m, 0xa5, sizeof(*m));
	return mmu_translate(s, r->bytes, r->size, linear, m);
}

static void test_paging_off_maps_linear_to_physical_with_span_to_4k_boundary(void)
{
	struct test_ram r = new_ram(64 * KIB);
	struct mmu_state s = { CR0_PE, 0, 0, 0 };
	struct mmu_mapping m;

	CHECK_EQ(translate(&s, &r, 0x12345, &m), 0);
	CHECK_EQ(m.phys, 0x12345);
	CHECK_EQ(m.span, 0x1000 - 0x345);
	CHECK_EQ(m.writable, 1);
	CHECK_EQ(translate(&s, &r, 0xffffffff, &m), 0);
	CHECK_EQ(m.phys, 0xffffffff);
	CHECK_EQ(m.span, 1);
	/* Real mode: PE clear as well. */
	s.cr0 = 0;
	CHECK_EQ(translate(&s, &r, 0xb8000, &m), 0);
	CHECK_EQ(m.phys, 0xb8000);
	CHECK_EQ(m.span, 0x1000);
	free(r.bytes);
}

static void test_paging_off_rejects_linear_above_4g_outside_long_mode(void)
{
	struct test_ram r = new_ram(64 * KIB);
	struct mmu_state s = { CR0_PE, 0, CR4_PAE, 0 };
	struct mmu_mapping m;

	CHECK_EQ(translate(&s, &r, 0x100000000ull, &m), -EFAULT);
	CHECK_EQ(translate(&s, &r, 0xffffffffffffffffull, &m), -EFAULT);
	free(r.bytes);
}

static void test_paging_off_with_lma_takes_any_linear_without_wrapping(void)
{
	/* Not a state a CPU can be in, but the walker must not misbehave. */
	struct test_ram r = new_ram(64 * KIB);
	struct mmu_state s = { CR0_PE, 0, 0, EFER_LMA };
	struct mmu_mapping m;

	CHECK_EQ(translate(&s, &r, 0xffffffffffffffffull, &m), 0);
	CHECK_EQ(m.phys, 0xffffffffffffffffull);
	CHECK_EQ(m.span, 1);
	free(r.bytes);
}

static void test_two_level_4k_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 0);
	struct mmu_mapping m;

	map_4k_32(&r, cr3, 0xc0101000, 0x00345000, P | RW);
	CHECK_EQ(translate(&s, &r, 0xc0101abc, &m), 0);
	CHECK_EQ(m.phys, 0x00345abc);
	CHECK_EQ(m.span, 0x1000 - 0xabc);
	CHECK_EQ(m.writable, 1);
	/* The neighbouring page is not mapped. */
	CHECK_EQ(translate(&s, &r, 0xc0102000, &m), -EFAULT);
	free(r.bytes);
}

static void test_two_level_4m_page_with_pse_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 1);
	struct mmu_mapping m;

	map_4m_32(&r, cr3, 0xc0000000, 0x00c00000, P | RW);
	CHECK_EQ(translate(&s, &r, 0xc0123456, &m), 0);
	CHECK_EQ(m.phys, 0x00d23456);
	CHECK_EQ(m.span, 4 * MIB - 0x123456);
	CHECK_EQ(m.writable, 1);
	CHECK_EQ(translate(&s, &r, 0xc03fffff, &m), 0);
	CHECK_EQ(m.phys, 0x00ffffff);
	CHECK_EQ(m.span, 1);
	free(r.bytes);
}

static void test_two_level_pse36_pde_bits_give_physical_above_4g(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 1);
	struct mmu_mapping m;

	map_4m_32(&r, cr3, 0x00400000, 0xab00800000ull, P);
	CHECK_EQ(translate(&s, &r, 0x00400010, &m), 0);
	CHECK_EQ(m.phys, 0xab00800010ull);
	CHECK_EQ(m.writable, 0);
	free(r.bytes);
}

static void test_two_level_ps_bit_without_cr4_pse_points_to_page_table(void)
{
	/* SDM: without CR4.PSE the PS bit of a PDE is ignored. */
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 0);
	struct mmu_mapping m;

	map_4k_32(&r, cr3, 0x00401000, 0x7000, P | RW);
	put32(&r, entry32(&r, cr3, 0x00401000, 0),
	      get32(&r, entry32(&r, cr3, 0x00401000, 0)) | PS);
	CHECK_EQ(translate(&s, &r, 0x00401020, &m), 0);
	CHECK_EQ(m.phys, 0x7020);
	CHECK_EQ(m.span, 0x1000 - 0x20);
	free(r.bytes);
}

static void test_two_level_not_present_pde_or_pte_faults(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 1);
	struct mmu_mapping m;

	map_4k_32(&r, cr3, 0x1000, 0x1000, RW); /* PTE without P */
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	map_4k_32(&r, cr3, 0x1000, 0x1000, P | RW);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), 0);
	put32(&r, entry32(&r, cr3, 0x1000, 0),
	      get32(&r, entry32(&r, cr3, 0x1000, 0)) & ~(uint32_t)P);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	map_4m_32(&r, cr3, 0x00800000, 0x00800000, RW); /* 4 MiB PDE without P */
	CHECK_EQ(translate(&s, &r, 0x00800000, &m), -EFAULT);
	free(r.bytes);
}

static void test_two_level_rejects_linear_above_4g(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 1);
	struct mmu_mapping m;

	map_4m_32(&r, cr3, 0, 0, P | RW);
	CHECK_EQ(translate(&s, &r, 0x10, &m), 0);
	CHECK_EQ(translate(&s, &r, 0x100000010ull, &m), -EFAULT);
	free(r.bytes);
}

static void test_two_level_writable_needs_rw_in_pde_and_pte(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = paging32_state(cr3, 0);
	struct mmu_mapping m;

	map_4k_32(&r, cr3, 0x5000, 0x5000, P);
	CHECK_EQ(translate(&s, &r, 0x5000, &m), 0);
	CHECK_EQ(m.writable, 0);
	map_4k_32(&r, cr3, 0x5000, 0x5000, P | RW);
	put32(&r, entry32(&r, cr3, 0x5000, 0),
	      get32(&r, entry32(&r, cr3, 0x5000, 0)) & ~(uint32_t)RW);
	CHECK_EQ(translate(&s, &r, 0x5000, &m), 0);
	CHECK_EQ(m.writable, 0);
	free(r.bytes);
}

static void test_pae_4k_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	/* CR3 bits 31:5: the PDPT need only be 32-byte aligned. */
	uint64_t cr3 = alloc_table(&r) + 0x60;
	struct mmu_state s = pae_state(cr3);
	struct mmu_mapping m;

	map_pae(&r, cr3, 0xc0203000, 0x12345000ull, 4 * KIB, P | RW);
	CHECK_EQ(translate(&s, &r, 0xc0203ff8, &m), 0);
	CHECK_EQ(m.phys, 0x12345ff8ull);
	CHECK_EQ(m.span, 8);
	CHECK_EQ(m.writable, 1);
	free(r.bytes);
}

static void test_pae_2m_page_maps_physical_above_4g(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = pae_state(cr3);
	struct mmu_mapping m;

	/* Bit 12 is PAT in a 2 MiB PDE, not an address bit. */
	map_pae(&r, cr3, 0x40200000, 0x3400200000ull | (1ull << 12), 2 * MIB,
		P | RW);
	CHECK_EQ(translate(&s, &r, 0x40212345, &m), 0);
	CHECK_EQ(m.phys, 0x3400212345ull);
	CHECK_EQ(m.span, 2 * MIB - 0x12345);
	free(r.bytes);
}

static void test_pae_pdpte_needs_no_rw_bit_for_writable(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = pae_state(cr3);
	struct mmu_mapping m;

	map_pae(&r, cr3, 0x1000, 0x9000, 4 * KIB, P | RW);
	CHECK_EQ(get64(&r, pae_entry(&r, cr3, 0x1000, 0)) & RW, 0);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), 0);
	CHECK_EQ(m.writable, 1);
	put64(&r, pae_entry(&r, cr3, 0x1000, 1),
	      get64(&r, pae_entry(&r, cr3, 0x1000, 1)) & ~RW);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), 0);
	CHECK_EQ(m.writable, 0);
	free(r.bytes);
}

static void test_pae_not_present_at_each_level_faults(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = pae_state(cr3);
	struct mmu_mapping m;

	for (int depth = 0; depth < 3; depth++) {
		map_pae(&r, cr3, 0x80001000, 0x9000, 4 * KIB, P | RW);
		CHECK_EQ(translate(&s, &r, 0x80001000, &m), 0);
		uint64_t at = pae_entry(&r, cr3, 0x80001000, depth);
		put64(&r, at, get64(&r, at) & ~P);
		CHECK_EQ(translate(&s, &r, 0x80001000, &m), -EFAULT);
		put64(&r, at, get64(&r, at) | P);
	}
	CHECK_EQ(translate(&s, &r, 0x100000000ull, &m), -EFAULT);
	free(r.bytes);
}

static void test_four_level_4k_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	map_long(&r, cr3, 0, 0x00007f1234567000ull, 0x89abc000ull, 4 * KIB,
		 P | RW | NX);
	CHECK_EQ(translate(&s, &r, 0x00007f1234567123ull, &m), 0);
	CHECK_EQ(m.phys, 0x89abc123ull);
	CHECK_EQ(m.span, 0x1000 - 0x123);
	CHECK_EQ(m.writable, 1);
	free(r.bytes);
}

static void test_four_level_2m_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	map_long(&r, cr3, 0, 0xffffffff80000000ull, 0x200000, 2 * MIB, P);
	CHECK_EQ(translate(&s, &r, 0xffffffff801fffffull, &m), 0);
	CHECK_EQ(m.phys, 0x3fffff);
	CHECK_EQ(m.span, 1);
	CHECK_EQ(m.writable, 0);
	free(r.bytes);
}

static void test_four_level_1g_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	/* Bits 29:12 of a 1 GiB PDPTE are PAT and reserved, not address. */
	map_long(&r, cr3, 0, 0x40000000, 0x7c0000000ull | 0x1000, GIB,
		 P | RW);
	CHECK_EQ(translate(&s, &r, 0x4abcdef0, &m), 0);
	CHECK_EQ(m.phys, 0x7cabcdef0ull);
	CHECK_EQ(m.span, GIB - 0xabcdef0);
	CHECK_EQ(m.writable, 1);
	free(r.bytes);
}

static void test_four_level_strips_nx_and_software_bits_from_address(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	/* Bits 62:52 are free for software; 63 is XD. The tables on the way
	 * carry them too. */
	uint64_t junk = NX | 0x7ff0000000000000ull | (7ull << 9);
	map_long(&r, cr3, 0, 0x5000, 0x000ffffffffff000ull, 4 * KIB,
		 P | junk);
	for (int depth = 0; depth < 3; depth++) {
		uint64_t at = long_entry(&r, cr3, 0, 0x5000, depth);
		put64(&r, at, get64(&r, at) | junk);
	}
	CHECK_EQ(translate(&s, &r, 0x5fff, &m), 0);
	CHECK_EQ(m.phys, 0x000fffffffffffffull);
	CHECK_EQ(m.span, 1);
	free(r.bytes);
}

static void test_four_level_not_present_at_each_level_faults(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;
	uint64_t va = 0x0000123456789000ull;

	map_long(&r, cr3, 0, va, 0x1000, 4 * KIB, P | RW);
	for (int depth = 0; depth < 4; depth++) {
		uint64_t at = long_entry(&r, cr3, 0, va, depth);
		CHECK_EQ(translate(&s, &r, va, &m), 0);
		put64(&r, at, get64(&r, at) & ~P);
		CHECK_EQ(translate(&s, &r, va, &m), -EFAULT);
		put64(&r, at, get64(&r, at) | P);
	}
	/* Large leaves not present too. */
	map_long(&r, cr3, 0, 0x40000000, 0, GIB, RW);
	CHECK_EQ(translate(&s, &r, 0x40000000, &m), -EFAULT);
	map_long(&r, cr3, 0, 0x80000000, 0, 2 * MIB, RW);
	CHECK_EQ(translate(&s, &r, 0x80000000, &m), -EFAULT);
	free(r.bytes);
}

static void test_four_level_ps_bit_in_pml4e_faults(void)
{
	/* SDM: PML4E bit 7 is reserved; the CPU would raise #PF. */
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	map_long(&r, cr3, 0, 0x1000, 0x1000, 4 * KIB, P);
	uint64_t at = long_entry(&r, cr3, 0, 0x1000, 0);
	put64(&r, at, get64(&r, at) | PS);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	free(r.bytes);
}

static void test_four_level_writable_is_and_of_every_level(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;
	uint64_t va = 0x0000400000203000ull;

	map_long(&r, cr3, 0, va, 0x1000, 4 * KIB, P | RW);
	CHECK_EQ(translate(&s, &r, va, &m), 0);
	CHECK_EQ(m.writable, 1);
	for (int depth = 0; depth < 4; depth++) {
		uint64_t at = long_entry(&r, cr3, 0, va, depth);
		put64(&r, at, get64(&r, at) & ~RW);
		CHECK_EQ(translate(&s, &r, va, &m), 0);
		CHECK_EQ(m.writable, 0);
		put64(&r, at, get64(&r, at) | RW);
	}
	CHECK_EQ(translate(&s, &r, va, &m), 0);
	CHECK_EQ(m.writable, 1);
	free(r.bytes);
}

static void test_four_level_rejects_non_canonical_addresses(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	/* Index bits alone would find this mapping for the bad addresses. */
	map_long(&r, cr3, 0, 0x0000000000000000ull, 0, GIB, P | RW);
	map_long(&r, cr3, 0, 0xffff800000000000ull, 0, GIB, P | RW);
	CHECK_EQ(translate(&s, &r, 0x0000000000001000ull, &m), 0);
	CHECK_EQ(translate(&s, &r, 0xffff800000001000ull, &m), 0);
	CHECK_EQ(translate(&s, &r, 0x0000800000001000ull, &m), -EFAULT);
	CHECK_EQ(translate(&s, &r, 0xffff000000001000ull, &m), -EFAULT);
	CHECK_EQ(translate(&s, &r, 0x0001000000001000ull, &m), -EFAULT);
	CHECK_EQ(translate(&s, &r, 0x8000000000001000ull, &m), -EFAULT);
	free(r.bytes);
}

static void test_four_level_last_page_of_address_space_maps_to_its_end(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	CHECK_EQ(translate(&s, &r, 0xffffffffffffffffull, &m), -EFAULT);
	map_long(&r, cr3, 0, 0xfffffffffffff000ull, 0x3000, 4 * KIB, P | RW);
	CHECK_EQ(translate(&s, &r, 0xfffffffffffff000ull, &m), 0);
	CHECK_EQ(m.phys, 0x3000);
	CHECK_EQ(m.span, 0x1000);
	CHECK_EQ(translate(&s, &r, 0xffffffffffffffffull, &m), 0);
	CHECK_EQ(m.phys, 0x3fff);
	CHECK_EQ(m.span, 1);
	free(r.bytes);
}

static void test_five_level_4k_page_maps_offset_within_page(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 1);
	struct mmu_mapping m;
	/* Canonical only with 57 bits: bit 48 and up are in the PML5 index. */
	uint64_t va = 0x00ab123456789000ull;

	map_long(&r, cr3, 1, va, 0x55555000, 4 * KIB, P | RW);
	CHECK_EQ(translate(&s, &r, va + 0x10, &m), 0);
	CHECK_EQ(m.phys, 0x55555010);
	CHECK_EQ(m.span, 0x1000 - 0x10);
	CHECK_EQ(m.writable, 1);
	/* The same tables read as 4-level: not canonical for 48 bits. */
	s.cr4 &= ~CR4_LA57;
	CHECK_EQ(translate(&s, &r, va + 0x10, &m), -EFAULT);
	free(r.bytes);
}

static void test_five_level_large_pages_and_top_of_address_space(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 1);
	struct mmu_mapping m;

	map_long(&r, cr3, 1, 0xffffffffc0000000ull, 0x40000000, GIB, P | RW);
	map_long(&r, cr3, 1, 0xff00000000200000ull, 0x600000, 2 * MIB, P);
	CHECK_EQ(translate(&s, &r, 0xffffffffffffffffull, &m), 0);
	CHECK_EQ(m.phys, 0x7fffffff);
	CHECK_EQ(m.span, 1);
	CHECK_EQ(translate(&s, &r, 0xfffffffffffff000ull, &m), 0);
	CHECK_EQ(m.phys, 0x7ffff000);
	CHECK_EQ(m.span, 0x1000);
	CHECK_EQ(translate(&s, &r, 0xff00000000300000ull, &m), 0);
	CHECK_EQ(m.phys, 0x700000);
	CHECK_EQ(m.span, 1 * MIB);
	CHECK_EQ(m.writable, 0);
	free(r.bytes);
}

static void test_five_level_not_present_at_each_level_faults(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 1);
	struct mmu_mapping m;
	uint64_t va = 0xfff0000000001000ull;

	map_long(&r, cr3, 1, va, 0x1000, 4 * KIB, P | RW);
	for (int depth = 0; depth < 5; depth++) {
		uint64_t at = long_entry(&r, cr3, 1, va, depth);
		CHECK_EQ(translate(&s, &r, va, &m), 0);
		put64(&r, at, get64(&r, at) & ~P);
		CHECK_EQ(translate(&s, &r, va, &m), -EFAULT);
		put64(&r, at, get64(&r, at) | P);
	}
	free(r.bytes);
}

static void test_five_level_rejects_non_canonical_addresses(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 1);
	struct mmu_mapping m;

	map_long(&r, cr3, 1, 0, 0, GIB, P | RW);
	CHECK_EQ(translate(&s, &r, 0x10, &m), 0);
	CHECK_EQ(translate(&s, &r, 0x0100000000000010ull, &m), -EFAULT);
	CHECK_EQ(translate(&s, &r, 0xfe00000000000010ull, &m), -EFAULT);
	free(r.bytes);
}

static void test_table_outside_ram_faults_instead_of_reading_it(void)
{
	struct test_ram r = new_ram(64 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	map_long(&r, cr3, 0, 0x1000, 0x1000, 4 * KIB, P | RW);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), 0);

	/* The root past the end of RAM. */
	s.cr3 = 64 * KIB;
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	s.cr3 = 0x000ffffffffff000ull;
	CHECK_EQ(translate(&s, &r, 0xfffffffffffff000ull, &m), -EFAULT);
	s.cr3 = cr3;

	/* A PD pointer past the end, and one at the top of the 52-bit space
	 * whose last entry address is near 2^52 (no wrap-around). */
	uint64_t pdpte = long_entry(&r, cr3, 0, 0x1000, 1);
	uint64_t saved = get64(&r, pdpte);
	put64(&r, pdpte, (1ull * MIB) | P | RW);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	put64(&r, pdpte, 0x000ffffffffff000ull | P | RW);
	CHECK_EQ(translate(&s, &r, 0x3fe00000, &m), -EFAULT);
	put64(&r, pdpte, saved);
	CHECK_EQ(translate(&s, &r, 0x1000, &m), 0);

	/* An 8-byte entry whose first 4 bytes are the last of RAM. */
	r.size = cr3 + 4;
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	r.size = 0;
	CHECK_EQ(translate(&s, &r, 0x1000, &m), -EFAULT);
	free(r.bytes);
}

static void test_table_outside_ram_faults_in_32bit_and_pae_modes(void)
{
	struct test_ram r = new_ram(64 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s32 = paging32_state(0xfffff000, 1);
	struct mmu_state pae = pae_state(0xffffffe0);
	struct mmu_mapping m;

	CHECK_EQ(translate(&s32, &r, 0xfffff000, &m), -EFAULT);
	CHECK_EQ(translate(&pae, &r, 0xfffff000, &m), -EFAULT);

	/* A PDE whose page table lies past the end of RAM. */
	s32.cr3 = cr3;
	put32(&r, entry32(&r, cr3, 0x1000, 0), 0x00fff000u | P | RW);
	CHECK_EQ(translate(&s32, &r, 0x1000, &m), -EFAULT);
	/* A 4-byte entry with only 2 bytes in RAM. */
	r.size = cr3 + 2;
	put32(&r, cr3, 0);
	CHECK_EQ(translate(&s32, &r, 0x1000, &m), -EFAULT);
	free(r.bytes);
}

static void test_span_runs_to_the_end_of_each_page_size(void)
{
	struct test_ram r = new_ram(256 * KIB);
	uint64_t cr3 = alloc_table(&r);
	struct mmu_state s = long_mode_state(cr3, 0);
	struct mmu_mapping m;

	map_long(&r, cr3, 0, 0x0000, 0x100000, 4 * KIB, P);
	map_long(&r, cr3, 0, 0x200000, 0x400000, 2 * MIB, P);
	map_long(&r, cr3, 0, 0x40000000, 0x40000000, GIB, P);
	CHECK_EQ(translate(&s, &r, 0x0000, &m), 0);
	CHECK_EQ(m.span, 4 * KIB);
	CHECK_EQ(translate(&s, &r, 0x0ffe, &m), 0);
	CHECK_EQ(m.span, 2);
	CHECK_EQ(translate(&s, &r, 0x200000, &m), 0);
	CHECK_EQ(m.span, 2 * MIB);
	CHECK_EQ(translate(&s, &r, 0x3fffff, &m), 0);
	CHECK_EQ(m.span, 1);
	CHECK_EQ(m.phys, 0x5fffff);
	CHECK_EQ(translate(&s, &r, 0x40000000, &m), 0);
	CHECK_EQ(m.span, GIB);
	CHECK_EQ(translate(&s, &r, 0x7fffffff, &m), 0);
	CHECK_EQ(m.span, 1);
	CHECK_EQ(m.phys, 0x7fffffff);
	free(r.bytes);
}

int main(void)
{
	RUN(test_paging_off_maps_linear_to_physical_with_span_to_4k_boundary);
	RUN(test_paging_off_rejects_linear_above_4g_outside_long_mode);
	RUN(test_paging_off_with_lma_takes_any_linear_without_wrapping);
	RUN(test_two_level_4k_page_maps_offset_within_page);
	RUN(test_two_level_4m_page_with_pse_maps_offset_within_page);
	RUN(test_two_level_pse36_pde_bits_give_physical_above_4g);
	RUN(test_two_level_ps_bit_without_cr4_pse_points_to_page_table);
	RUN(test_two_level_not_present_pde_or_pte_faults);
	RUN(test_two_level_rejects_linear_above_4g);
	RUN(test_two_level_writable_needs_rw_in_pde_and_pte);
	RUN(test_pae_4k_page_maps_offset_within_page);
	RUN(test_pae_2m_page_maps_physical_above_4g);
	RUN(test_pae_pdpte_needs_no_rw_bit_for_writable);
	RUN(test_pae_not_present_at_each_level_faults);
	RUN(test_four_level_4k_page_maps_offset_within_page);
	RUN(test_four_level_2m_page_maps_offset_within_page);
	RUN(test_four_level_1g_page_maps_offset_within_page);
	RUN(test_four_level_strips_nx_and_software_bits_from_address);
	RUN(test_four_level_not_present_at_each_level_faults);
	RUN(test_four_level_ps_bit_in_pml4e_faults);
	RUN(test_four_level_writable_is_and_of_every_level);
	RUN(test_four_level_rejects_non_canonical_addresses);
	RUN(test_four_level_last_page_of_address_space_maps_to_its_end);
	RUN(test_five_level_4k_page_maps_offset_within_page);
	RUN(test_five_level_large_pages_and_top_of_address_space);
	RUN(test_five_level_not_present_at_each_level_faults);
	RUN(test_five_level_rejects_non_canonical_addresses);
	RUN(test_table_outside_ram_faults_instead_of_reading_it);
	RUN(test_table_outside_ram_faults_in_32bit_and_pae_modes);
	RUN(test_span_runs_to_the_end_of_each_page_size);
	return check_summary();
}
