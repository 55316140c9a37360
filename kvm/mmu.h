/* kvm/mmu.h — the guest page-table walker: linear address to physical.
 *
 * Pure: reads page tables from a RAM buffer, never outside it, never writes.
 * KVM_TRANSLATE cannot be trusted on every host, so the stub walks the
 * guest's tables itself: 32-bit 2-level (4 MiB pages with CR4.PSE), PAE
 * 3-level, 4-level and 5-level (LA57), with 2 MiB and 1 GiB pages.
 */
#ifndef KVMSTUB_MMU_H
#define KVMSTUB_MMU_H

#include <stdint.h>

/* The control registers that choose the paging mode. */
struct mmu_state {
	uint64_t cr0, cr3, cr4, efer;
};

struct mmu_mapping {
	uint64_t phys;       /* the physical address of the linear address */
	uint64_t span;       /* bytes from there to the end of its page (>= 1) */
	int writable;        /* every level allows writes (R/W bits) */
};

/* Translates one linear address. With paging off the address is physical
 * (limited to 32 bits outside long mode) and span runs to the next 4 KiB
 * boundary. Returns 0, or -EFAULT when the address is not mapped, is not
 * canonical, or a table needed for the walk lies outside RAM. The returned
 * physical address itself is not checked against ram_size. */
int mmu_translate(const struct mmu_state *state, const uint8_t *ram,
		  uint64_t ram_size, uint64_t linear, struct mmu_mapping *out);

#endif
