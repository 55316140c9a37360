/* fuzz/fuzz_mmu.c — libFuzzer harness for the page-table walker
 * (kvm/mmu.c). It may not touch KVM; every broken promise aborts, and the
 * RAM buffer is allocated at its exact size so AddressSanitizer catches any
 * read outside guest RAM.
 *
 * Input (little-endian):
 *   byte 0      mode: bit 0 CR0.PG, 1 CR4.PAE, 2 CR4.PSE, 3 EFER.LMA,
 *               4 CR4.LA57, 5 keep only CR3's low 16 bits (tables in RAM)
 *   byte 1      RAM: (bits 2:0) + 1 pages, minus (bits 7:3) bytes, so the
 *               end of RAM can cut a table entry
 *   bytes 2-9   CR3
 *   bytes 10-17 linear address
 *   then        records of 2 + 8 bytes: an entry slot (page = bits 15:9
 *               modulo the page count, index = bits 8:0) and its value
 * Checks: only 0 or -EFAULT; addresses the mode cannot have fail; a mapping
 * keeps the page offset, its span runs to the end of a 4K/2M/4M/1G page and
 * does not wrap; the page's first byte maps to the page's first byte.
 */
#include "kvm/mmu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_SIZE 18
#define RECORD_SIZE 10
#define PAGE_SIZE_4K 4096ull

static void require(int promise)
{
	if (!promise)
		abort();
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static int is_canonical(uint64_t linear, unsigned bits)
{
	uint64_t top = linear >> (bits - 1);
	return top == 0 || top == UINT64_MAX >> (bits - 1);
}

/* The page size whose end the span reaches, or 0 if none does. */
static uint64_t page_size_of(uint64_t linear, uint64_t span)
{
	static const uint64_t sizes[] = { 1ull << 12, 1ull << 21, 1ull << 22,
					  1ull << 30 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (span == sizes[i] - (linear & (sizes[i] - 1)))
			return sizes[i];
	return 0;
}

static void check_mapping(const struct mmu_state *state, const uint8_t *ram,
			  uint64_t ram_size, uint64_t linear,
			  const struct mmu_mapping *m)
{
	uint64_t page_size = page_size_of(linear, m->span);
	uint64_t offset = linear & (page_size - 1);

	require(m->span >= 1);
	require(page_size != 0);
	require((m->phys & (page_size - 1)) == offset);
	require(m->phys + (m->span - 1) >= m->phys);
	require(m->writable == 0 || m->writable == 1);
	if (!(state->cr0 & (1ull << 31)))
		require(m->phys == linear && page_size == PAGE_SIZE_4K);

	/* The same walk from the page's first byte lands on its first byte. */
	struct mmu_mapping base;
	require(mmu_translate(state, ram, ram_size, linear - offset, &base) == 0);
	require(base.phys == m->phys - offset);
	require(base.span == page_size);
	require(base.writable == m->writable);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_SIZE)
		return 0;
	uint8_t mode = data[0];
	uint64_t pages = (data[1] & 7) + 1;
	uint64_t ram_size = pages * PAGE_SIZE_4K - (data[1] >> 3);
	struct mmu_state state = {
		.cr0 = (mode & 1) ? (1ull << 31) | 1 : 1,
		.cr3 = load64(data + 2),
		.cr4 = ((mode & 2) ? 1ull << 5 : 0) | ((mode & 4) ? 1ull << 4 : 0) |
		       ((mode & 16) ? 1ull << 12 : 0),
		.efer = (mode & 8) ? (1ull << 10) | (1ull << 8) : 0,
	};
	uint64_t linear = load64(data + 10);

	if (mode & 32)
		state.cr3 &= 0xffff;

	uint8_t *ram = calloc(1, ram_size);
	if (!ram)
		abort();
	for (size_t at = HEADER_SIZE; size - at >= RECORD_SIZE;
	     at += RECORD_SIZE) {
		unsigned slot = (unsigned)data[at] | (unsigned)data[at + 1] << 8;
		uint64_t addr = ((slot >> 9) % pages) * PAGE_SIZE_4K +
				(slot & 511) * 8;
		if (addr + 8 <= ram_size)
			memcpy(ram + addr, data + at + 2, 8);
	}

	struct mmu_mapping m;
	memset(&m, 0, sizeof(m));
	int rc = mmu_translate(&state, ram, ram_size, linear, &m);
	require(rc == 0 || rc == -EFAULT);

	int long_mode = !!(state.efer & (1ull << 10));
	int paging = !!(state.cr0 & (1ull << 31));
	if (!long_mode && linear >> 32)
		require(rc == -EFAULT);
	if (long_mode && paging &&
	    !is_canonical(linear, (state.cr4 & (1ull << 12)) ? 57 : 48))
		require(rc == -EFAULT);
	if (!paging && (long_mode || !(linear >> 32)))
		require(rc == 0);
	if (rc == 0)
		check_mapping(&state, ram, ram_size, linear, &m);

	/* A walk reads and never writes: the same answer a second time. */
	struct mmu_mapping again;
	memset(&again, 0, sizeof(again));
	require(mmu_translate(&state, ram, ram_size, linear, &again) == rc);
	if (rc == 0)
		require(again.phys == m.phys && again.span == m.span &&
			again.writable == m.writable);

	free(ram);
	return 0;
}
