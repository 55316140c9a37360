/* kvm/history.h — what reverse execution keeps: snapshots indexed by
 * instruction position, the guest RAM pages each one needs, and the log of
 * every input the guest read. Pure: buffers in, buffers out; no ioctls, so
 * it is unit-tested on its own.
 *
 * RAM is held as one base copy (the RAM at the oldest snapshot, not counted
 * against the limit) plus, per snapshot, the pages written since the one
 * before ("redo" versions). A page at snapshot i is its newest version at or
 * before i, else the base. Dropping the oldest snapshot folds its pages into
 * the base. Positions only grow: a snapshot's position is never below the
 * one before it.
 */
#ifndef KVMSTUB_HISTORY_H
#define KVMSTUB_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_PAGE_SIZE 4096u
/* The vCPU and device state of a snapshot comes in parts (registers, FPU,
 * MSRs, irqchip...); a part equal to the previous snapshot's is shared. */
#define HISTORY_MAX_PARTS 16
/* The largest input one record holds (a string I/O exit's data area). */
#define HISTORY_MAX_INPUT 4096u

struct history_part {
	const void *data;
	size_t len;
};

/* One input the guest consumed: a port IN (or MMIO read) at a position. */
struct history_input {
	uint64_t pos;      /* instruction position of the exit */
	uint64_t addr;     /* port, or guest-physical address */
	uint64_t regs_sum; /* checksum of the registers at the exit */
	uint32_t len;
	uint32_t data_off; /* into the history's input bytes */
};

struct history_blob; /* a shared, reference-counted state part */

struct history_snapshot {
	uint64_t id;  /* never reused; page versions name snapshots by id */
	uint64_t pos;
	uint64_t regs_sum;
	bool barrier; /* the caller's mark: replay must not run across it */
	unsigned nparts;
	struct history_blob *parts[HISTORY_MAX_PARTS];
	uint64_t *pages; /* page numbers written since the previous snapshot */
	size_t npages;
};

struct history_page_version {
	uint64_t id; /* the snapshot it belongs to */
	uint8_t *data;
};

struct history_page_list {
	struct history_page_version *v; /* oldest first */
	uint32_t n, cap;
};

struct history {
	uint64_t npages;
	uint8_t *base;                   /* RAM at the oldest snapshot */
	struct history_page_list *pages; /* per page */
	struct history_snapshot *snaps;  /* oldest first */
	size_t nsnaps, snaps_cap;
	uint64_t next_id;
	struct history_input *inputs;
	size_t ninputs, inputs_cap;
	uint8_t *input_bytes;
	size_t input_bytes_len, input_bytes_cap;
	uint64_t limit; /* bytes; 0: no limit */
	uint64_t bytes; /* what the history holds, base excluded */
	uint64_t dropped; /* snapshots dropped to keep within the limit */
};

/* A page's content is asked of the caller (it may need to hide breakpoint
 * bytes): fill out with HISTORY_PAGE_SIZE bytes of page `page`. */
typedef void history_read_page_fn(void *ctx, uint64_t page, uint8_t *out);

/* Starts a history whose base is the RAM as read_page gives it now.
 * Returns 0, -ENOMEM or -EINVAL (ram_size not a whole number of pages). */
int history_init(struct history *h, uint64_t ram_size, uint64_t limit,
		 history_read_page_fn *read_page, void *ctx);
void history_destroy(struct history *h);

/* Appends a snapshot at pos: the state parts (copied, shared with the
 * previous snapshot where equal), and the pages written since the last
 * snapshot (each read through read_page; duplicates and pages outside RAM
 * are ignored). The first snapshot's pages go to the base. Then drops the
 * oldest snapshots while the history is over its limit (never the newest
 * two). Returns 0, -ENOMEM, or -EINVAL when pos is below the last one. */
int history_add_snapshot(struct history *h, uint64_t pos, uint64_t regs_sum,
			 const struct history_part *parts, unsigned nparts,
			 const uint64_t *pages, size_t npages,
			 history_read_page_fn *read_page, void *ctx);

/* The snapshot at or before pos: its index, or -1 if pos is before them
 * all. */
long history_find(const struct history *h, uint64_t pos);

/* The content of page at snapshot index i (its newest version at or
 * before i, else the base); NULL outside RAM or for a bad index. */
const uint8_t *history_page_at(const struct history *h, size_t i, uint64_t page);

/* A state part of snapshot i; NULL (and *len 0) if it has none. */
const void *history_part(const struct history *h, size_t i, unsigned part, size_t *len);

/* Logs an input. Inputs come in position order. Returns 0, -ENOMEM,
 * -E2BIG for more than HISTORY_MAX_INPUT bytes, -EINVAL out of order. */
int history_log_input(struct history *h, uint64_t pos, uint64_t addr, uint64_t regs_sum,
		      const void *data, uint32_t len);

/* The index of the first input logged after position pos (ninputs if
 * none): where replay from a snapshot at pos starts reading. */
size_t history_input_after(const struct history *h, uint64_t pos);
const uint8_t *history_input_data(const struct history *h, size_t i);

/* Forgets everything before snapshot i (it becomes the oldest): used when
 * the older part cannot be replayed exactly. */
void history_drop_before(struct history *h, size_t i);
/* Forgets every snapshot after i and every input after its position. */
void history_drop_after(struct history *h, size_t i);

/* A 64-bit checksum (FNV-1a), chained through seed (use 0 first). */
uint64_t history_checksum(uint64_t seed, const void *data, size_t len);

#endif
