/* kvm/mmu.c — the guest page-table walker: linear address to physical.
 * Pure: reads table entries from the RAM buffer it is given, never outside
 * it, never writes them (no accessed/dirty bits), issues no ioctls.
 *
 * The rules are the Intel SDM's (Vol. 3A, chapter 4 "Paging"): the mode is
 * chosen by CR0.PG, CR4.PAE, CR4.LA57 and EFER.LMA; 32-bit paging has 4-byte
 * entries, the others 8-byte entries whose address bits are 51:12 (bit 63 is
 * XD, bits 62:52 are ignored by hardware and free for software).
 */
#include "kvm/mmu.h"

#include <errno.h>
#include <string.h>

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)

#define PTE_PRESENT (1ull << 0)
#define PTE_WRITABLE (1ull << 1)
#define PTE_PAGE_SIZE (1ull << 7)

/* Bits 51:12 of an 8-byte entry: the next table or the 4 KiB frame. */
#define PTE_ADDR_MASK 0x000ffffffffff000ull
/* 32-bit paging: bits 31:12 of a 4-byte entry. */
#define PTE32_ADDR_MASK 0xfffff000ull
/* 32-bit paging 4 MiB page: bits 31:22 give physical bits 31:22 and, with
 * PSE-36, bits 20:13 give physical bits 39:32 (SDM table 4-4). */
#define PDE32_4M_LOW_MASK 0xffc00000ull
#define PDE32_4M_HIGH_SHIFT 13
#define PDE32_4M_HIGH_MASK 0xffull
/* PAE: CR3 bits 31:5 locate the 32-byte aligned table of four PDPTEs. */
#define CR3_PAE_PDPT_MASK 0xffffffe0ull

#define PAGE_SIZE_4K (1ull << 12)
#define PAGE_SIZE_2M (1ull << 21)
#define PAGE_SIZE_4M (1ull << 22)
#define PAGE_SIZE_1G (1ull << 30)

#define LINEAR_LIMIT_32 (1ull << 32)

/* Reads the entry at physical address entry_addr if all of it is in RAM. The
 * comparison is written as a subtraction so a huge address cannot wrap. */
static int read_table_entry(const uint8_t *ram, uint64_t ram_size,
			    uint64_t entry_addr, unsigned entry_size,
			    uint64_t *entry)
{
	if (ram_size < entry_size || entry_addr > ram_size - entry_size)
		return -EFAULT;
	if (entry_size == 4) {
		uint32_t narrow;
		memcpy(&narrow, ram + entry_addr, sizeof(narrow));
		*entry = narrow;
	} else {
		memcpy(entry, ram + entry_addr, sizeof(*entry));
	}
	return 0;
}

static void map_in_page(struct mmu_mapping *out, uint64_t page_base,
			uint64_t page_size, uint64_t linear, int writable)
{
	uint64_t offset = linear & (page_size - 1);

	out->phys = page_base + offset;
	out->span = page_size - offset;
	out->writable = writable;
}

/* Whether linear is canonical for the given number of linear-address bits:
 * bits 63 down to (bits - 1) all equal (SDM 3.3.7.1). */
static int is_canonical(uint64_t linear, unsigned bits)
{
	uint64_t top = linear >> (bits - 1);
	return top == 0 || top == UINT64_MAX >> (bits - 1);
}

static int translate_32bit(const struct mmu_state *state, const uint8_t *ram,
			   uint64_t ram_size, uint64_t linear,
			   struct mmu_mapping *out)
{
	uint64_t pde, pte;
	uint64_t pd = state->cr3 & PTE32_ADDR_MASK;

	if (read_table_entry(ram, ram_size, pd + ((linear >> 22) & 0x3ff) * 4,
			     4, &pde) < 0 ||
	    !(pde & PTE_PRESENT))
		return -EFAULT;
	/* PS in a PDE means a 4 MiB page only with CR4.PSE; otherwise the
	 * SDM says the bit is ignored and the PDE points to a page table. */
	if ((state->cr4 & CR4_PSE) && (pde & PTE_PAGE_SIZE)) {
		uint64_t base = (pde & PDE32_4M_LOW_MASK) |
				(((pde >> PDE32_4M_HIGH_SHIFT) &
				  PDE32_4M_HIGH_MASK)
				 << 32);
		map_in_page(out, base, PAGE_SIZE_4M, linear,
			    !!(pde & PTE_WRITABLE));
		return 0;
	}
	uint64_t pt = pde & PTE32_ADDR_MASK;
	if (read_table_entry(ram, ram_size, pt + ((linear >> 12) & 0x3ff) * 4,
			     4, &pte) < 0 ||
	    !(pte & PTE_PRESENT))
		return -EFAULT;
	map_in_page(out, pte & PTE32_ADDR_MASK, PAGE_SIZE_4K, linear,
		    !!(pde & pte & PTE_WRITABLE));
	return 0;
}

/* Walks the page-directory level and below, shared by PAE and 4/5-level
 * paging: PD (2 MiB pages when PS) then PT. */
static int translate_from_pd(const uint8_t *ram, uint64_t ram_size,
			     uint64_t pd, uint64_t linear, int writable,
			     struct mmu_mapping *out)
{
	uint64_t pde, pte;

	if (read_table_entry(ram, ram_size, pd + ((linear >> 21) & 0x1ff) * 8,
			     8, &pde) < 0 ||
	    !(pde & PTE_PRESENT))
		return -EFAULT;
	writable = writable && (pde & PTE_WRITABLE);
	if (pde & PTE_PAGE_SIZE) {
		map_in_page(out, pde & PTE_ADDR_MASK & ~(PAGE_SIZE_2M - 1),
			    PAGE_SIZE_2M, linear, writable);
		return 0;
	}
	if (read_table_entry(ram, ram_size,
			     (pde & PTE_ADDR_MASK) + ((linear >> 12) & 0x1ff) * 8,
			     8, &pte) < 0 ||
	    !(pte & PTE_PRESENT))
		return -EFAULT;
	map_in_page(out, pte & PTE_ADDR_MASK, PAGE_SIZE_4K, linear,
		    writable && (pte & PTE_WRITABLE));
	return 0;
}

static int translate_pae(const struct mmu_state *state, const uint8_t *ram,
			 uint64_t ram_size, uint64_t linear,
			 struct mmu_mapping *out)
{
	uint64_t pdpte;
	uint64_t pdpt = state->cr3 & CR3_PAE_PDPT_MASK;

	if (read_table_entry(ram, ram_size, pdpt + ((linear >> 30) & 3) * 8, 8,
			     &pdpte) < 0 ||
	    !(pdpte & PTE_PRESENT))
		return -EFAULT;
	/* PAE PDPTEs have no R/W bit (bit 1 is reserved), so they do not
	 * take part in the writable answer; nor do they map 1 GiB pages. */
	return translate_from_pd(ram, ram_size, pdpte & PTE_ADDR_MASK, linear,
				 1, out);
}

static int translate_long(const struct mmu_state *state, const uint8_t *ram,
			  uint64_t ram_size, uint64_t linear,
			  struct mmu_mapping *out)
{
	int five_level = !!(state->cr4 & CR4_LA57);
	uint64_t table = state->cr3 & PTE_ADDR_MASK;
	uint64_t entry;
	int writable = 1;

	if (!is_canonical(linear, five_level ? 57 : 48))
		return -EFAULT;

	/* PML5 (only with LA57), then PML4: PS is reserved there, so a set
	 * bit is a fault, as it would be for the CPU. */
	for (int shift = five_level ? 48 : 39; shift >= 39; shift -= 9) {
		if (read_table_entry(ram, ram_size,
				     table + ((linear >> shift) & 0x1ff) * 8, 8,
				     &entry) < 0 ||
		    !(entry & PTE_PRESENT) || (entry & PTE_PAGE_SIZE))
			return -EFAULT;
		writable = writable && (entry & PTE_WRITABLE);
		table = entry & PTE_ADDR_MASK;
	}

	/* PDPT: PS means a 1 GiB page. */
	if (read_table_entry(ram, ram_size,
			     table + ((linear >> 30) & 0x1ff) * 8, 8,
			     &entry) < 0 ||
	    !(entry & PTE_PRESENT))
		return -EFAULT;
	writable = writable && (entry & PTE_WRITABLE);
	if (entry & PTE_PAGE_SIZE) {
		map_in_page(out, entry & PTE_ADDR_MASK & ~(PAGE_SIZE_1G - 1),
			    PAGE_SIZE_1G, linear, writable);
		return 0;
	}
	return translate_from_pd(ram, ram_size, entry & PTE_ADDR_MASK, linear,
				 writable, out);
}

int mmu_translate(const struct mmu_state *state, const uint8_t *ram,
		  uint64_t ram_size, uint64_t linear, struct mmu_mapping *out)
{
	int long_mode = !!(state->efer & EFER_LMA);

	if (!(state->cr0 & CR0_PG)) {
		/* Paging off: linear is physical. Outside long mode linear
		 * addresses are 32 bits wide, so a wider one cannot exist. */
		if (!long_mode && linear >= LINEAR_LIMIT_32)
			return -EFAULT;
		map_in_page(out, linear & ~(PAGE_SIZE_4K - 1), PAGE_SIZE_4K,
			    linear, 1);
		return 0;
	}
	if (long_mode)
		return translate_long(state, ram, ram_size, linear, out);
	if (linear >= LINEAR_LIMIT_32)
		return -EFAULT;
	if (state->cr4 & CR4_PAE)
		return translate_pae(state, ram, ram_size, linear, out);
	return translate_32bit(state, ram, ram_size, linear, out);
}
