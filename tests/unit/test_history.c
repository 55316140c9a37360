/* tests/unit/test_history.c — the reverse-execution history on its own:
 * pages at each snapshot, shared state parts, exact memory accounting, the
 * input log, the limit that drops the oldest snapshots, cuts. No KVM.
 */
#include "kvm/history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

#define PAGES 8
#define PAGE HISTORY_PAGE_SIZE

static uint8_t ram[PAGES * PAGE];

static void read_ram(void *ctx, uint64_t page, uint8_t *out)
{
	(void)ctx;
	memcpy(out, ram + page * PAGE, PAGE);
}

static void fill(uint64_t page, uint8_t v)
{
	memset(ram + page * PAGE, v, PAGE);
}

/* Snapshot at pos with state "regs" = pos, after writing pages. */
static int snap(struct history *h, uint64_t pos, const uint64_t *pages, size_t n)
{
	static uint8_t fpu[512];
	uint64_t regs = pos;
	struct history_part parts[2] = { { &regs, sizeof(regs) }, { fpu, sizeof(fpu) } };
	return history_add_snapshot(h, pos, pos * 7, parts, 2, pages, n, read_ram, NULL);
}

static void test_page_at_each_snapshot_is_the_ram_of_that_moment(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	fill(1, 0x11);
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(snap(&h, 0, NULL, 0), 0);
	fill(1, 0x22);
	fill(2, 0x33);
	uint64_t w1[] = { 1, 2 };
	CHECK_EQ(snap(&h, 100, w1, 2), 0);
	fill(1, 0x44);
	uint64_t w2[] = { 1, 1 }; /* listed twice: kept once */
	CHECK_EQ(snap(&h, 250, w2, 2), 0);
	CHECK_EQ(h.nsnaps, 3);
	CHECK_EQ(history_page_at(&h, 0, 1)[0], 0x11);
	CHECK_EQ(history_page_at(&h, 1, 1)[0], 0x22);
	CHECK_EQ(history_page_at(&h, 2, 1)[PAGE - 1], 0x44);
	CHECK_EQ(history_page_at(&h, 0, 2)[0], 0x00);
	CHECK_EQ(history_page_at(&h, 2, 2)[0], 0x33);
	CHECK_EQ(h.snaps[2].npages, 1);
	CHECK(history_page_at(&h, 3, 1) == NULL);
	CHECK(history_page_at(&h, 0, PAGES) == NULL);
	history_destroy(&h);
}

static void test_find_gives_the_snapshot_at_or_before_a_position(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(history_find(&h, 5), -1);
	CHECK_EQ(snap(&h, 10, NULL, 0), 0);
	CHECK_EQ(snap(&h, 20, NULL, 0), 0);
	CHECK_EQ(snap(&h, 20, NULL, 0), 0); /* same position twice is allowed */
	CHECK_EQ(snap(&h, 30, NULL, 0), 0);
	CHECK_EQ(snap(&h, 29, NULL, 0), -EINVAL);
	CHECK_EQ(history_find(&h, 9), -1);
	CHECK_EQ(history_find(&h, 10), 0);
	CHECK_EQ(history_find(&h, 19), 0);
	CHECK_EQ(history_find(&h, 20), 2);
	CHECK_EQ(history_find(&h, 1000), 3);
	history_destroy(&h);
}

static void test_equal_state_parts_are_shared_and_counted_once(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(h.bytes, 0);
	CHECK_EQ(snap(&h, 1, NULL, 0), 0);
	uint64_t one = h.bytes;
	CHECK(one >= sizeof(struct history_snapshot) + 8 + 512);
	CHECK_EQ(snap(&h, 2, NULL, 0), 0);
	uint64_t two = h.bytes - one;
	/* The 512-byte part is shared; the 8-byte one is new. */
	CHECK(two < one - 500);
	CHECK_EQ(h.snaps[0].parts[1], h.snaps[1].parts[1]);
	size_t len;
	const uint64_t *regs = history_part(&h, 1, 0, &len);
	CHECK_EQ(len, 8);
	CHECK_EQ(*regs, 2);
	CHECK(history_part(&h, 1, 5, &len) == NULL);
	history_destroy(&h);
}

static void test_memory_accounting_returns_to_zero_when_everything_is_dropped(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(snap(&h, 0, NULL, 0), 0);
	uint64_t after_first = h.bytes;
	for (uint64_t i = 1; i <= 5; i++) {
		fill(i, (uint8_t)i);
		uint64_t w[] = { i, 0 };
		CHECK_EQ(snap(&h, i * 10, w, 2), 0);
		CHECK_EQ(history_log_input(&h, i * 10 + 3, 0x3f8, 0, "ab", 2), 0);
	}
	CHECK(h.bytes > 10 * PAGE);
	history_drop_after(&h, 0);
	CHECK_EQ(h.nsnaps, 1);
	CHECK_EQ(h.ninputs, 0);
	CHECK_EQ(h.bytes, after_first);
	history_destroy(&h);
}

static void test_limit_drops_oldest_and_folds_their_pages_into_the_base(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 3 * PAGE, read_ram, NULL), 0);
	CHECK_EQ(snap(&h, 0, NULL, 0), 0);
	for (uint64_t i = 1; i <= 6; i++) {
		fill(i % PAGES, (uint8_t)(0x10 + i));
		uint64_t w[] = { i % PAGES };
		CHECK_EQ(history_log_input(&h, i * 10 - 1, 0x60, 0, &i, 1), 0);
		CHECK_EQ(snap(&h, i * 10, w, 1), 0);
		CHECK(h.bytes <= 3 * PAGE || h.nsnaps == 2);
	}
	CHECK(h.dropped > 0);
	CHECK(h.nsnaps < 7);
	/* Whatever survived still shows RAM as it was at each snapshot. */
	for (size_t k = 0; k < h.nsnaps; k++) {
		uint64_t pos = h.snaps[k].pos;
		for (uint64_t i = 1; i <= 6; i++) {
			uint8_t want = i * 10 <= pos ? (uint8_t)(0x10 + i) : 0;
			CHECK_EQ(history_page_at(&h, k, i)[0], want);
		}
	}
	/* Inputs at or before the oldest snapshot are gone. */
	CHECK(h.ninputs == 0 || h.inputs[0].pos > h.snaps[0].pos);
	history_destroy(&h);
}

static void test_input_log_is_found_by_position_and_checked(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(history_log_input(&h, 5, 0x3fd, 11, "\x61", 1), 0);
	CHECK_EQ(history_log_input(&h, 5, 0x3f8, 12, "\x62", 1), 0);
	CHECK_EQ(history_log_input(&h, 9, 0x3f8, 13, "xyz", 3), 0);
	CHECK_EQ(history_log_input(&h, 8, 0x3f8, 0, "x", 1), -EINVAL);
	static uint8_t big[HISTORY_MAX_INPUT + 1];
	CHECK_EQ(history_log_input(&h, 9, 0x3f8, 0, big, sizeof(big)), -E2BIG);
	CHECK_EQ(history_input_after(&h, 0), 0);
	CHECK_EQ(history_input_after(&h, 4), 0);
	CHECK_EQ(history_input_after(&h, 5), 2);
	CHECK_EQ(history_input_after(&h, 9), 3);
	CHECK_EQ(h.inputs[2].len, 3);
	CHECK(memcmp(history_input_data(&h, 2), "xyz", 3) == 0);
	CHECK(history_input_data(&h, 3) == NULL);
	history_destroy(&h);
}

static void test_drop_before_keeps_the_newer_history_exact(void)
{
	struct history h;
	memset(ram, 0, sizeof(ram));
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	CHECK_EQ(snap(&h, 0, NULL, 0), 0);
	for (uint64_t i = 1; i <= 4; i++) {
		fill(2, (uint8_t)i);
		uint64_t w[] = { 2 };
		CHECK_EQ(snap(&h, i * 100, w, 1), 0);
	}
	history_drop_before(&h, 2);
	CHECK_EQ(h.nsnaps, 3);
	CHECK_EQ(h.snaps[0].pos, 200);
	CHECK_EQ(history_page_at(&h, 0, 2)[0], 2);
	CHECK_EQ(history_page_at(&h, 2, 2)[0], 4);
	history_destroy(&h);
}

static void test_checksum_sees_every_byte(void)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 };
	CHECK_EQ(history_checksum(0, a, 64), history_checksum(0, b, 64));
	b[63] = 1;
	CHECK(history_checksum(0, a, 64) != history_checksum(0, b, 64));
	CHECK(history_checksum(history_checksum(0, a, 32), a + 32, 32) ==
	      history_checksum(0, a, 64));
}

static void test_bad_sizes_are_refused(void)
{
	struct history h;
	CHECK_EQ(history_init(&h, 0, 0, read_ram, NULL), -EINVAL);
	CHECK_EQ(history_init(&h, PAGE + 1, 0, read_ram, NULL), -EINVAL);
	CHECK_EQ(history_init(&h, sizeof(ram), 0, read_ram, NULL), 0);
	struct history_part parts[HISTORY_MAX_PARTS + 1] = { { NULL, 0 } };
	CHECK_EQ(history_add_snapshot(&h, 0, 0, parts, HISTORY_MAX_PARTS + 1, NULL, 0, read_ram,
				      NULL), -EINVAL);
	uint64_t outside[] = { PAGES, 1ULL << 40 };
	CHECK_EQ(snap(&h, 0, NULL, 0), 0);
	CHECK_EQ(snap(&h, 1, outside, 2), 0);
	CHECK_EQ(h.snaps[1].npages, 0);
	history_destroy(&h);
}

int main(void)
{
	RUN(test_page_at_each_snapshot_is_the_ram_of_that_moment);
	RUN(test_find_gives_the_snapshot_at_or_before_a_position);
	RUN(test_equal_state_parts_are_shared_and_counted_once);
	RUN(test_memory_accounting_returns_to_zero_when_everything_is_dropped);
	RUN(test_limit_drops_oldest_and_folds_their_pages_into_the_base);
	RUN(test_input_log_is_found_by_position_and_checked);
	RUN(test_drop_before_keeps_the_newer_history_exact);
	RUN(test_checksum_sees_every_byte);
	RUN(test_bad_sizes_are_refused);
	return check_summary();
}
