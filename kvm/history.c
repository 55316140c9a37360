/* kvm/history.c — snapshots by position, page versions, the input log and
 * the memory limit (see kvm/history.h). Pure: no ioctls, no printing.
 *
 * Memory accounting counts what the history holds for the guest: page
 * versions and their index entries, snapshot records and page lists, state
 * parts (each shared part once) and logged inputs. The base copy of RAM is
 * not counted: it exists whatever the window. */
#include "kvm/history.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct history_blob {
	unsigned refs;
	size_t len;
	uint8_t data[];
};

static void blob_put(struct history *h, struct history_blob *b)
{
	if (b && --b->refs == 0) {
		h->bytes -= sizeof(*b) + b->len;
		free(b);
	}
}

uint64_t history_checksum(uint64_t seed, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t sum = seed ? seed : 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		sum ^= p[i];
		sum *= 0x100000001b3ULL;
	}
	return sum;
}

int history_init(struct history *h, uint64_t ram_size, uint64_t limit,
		 history_read_page_fn *read_page, void *ctx)
{
	memset(h, 0, sizeof(*h));
	if (ram_size == 0 || ram_size % HISTORY_PAGE_SIZE)
		return -EINVAL;
	h->npages = ram_size / HISTORY_PAGE_SIZE;
	h->limit = limit;
	h->base = malloc(ram_size);
	h->pages = calloc(h->npages, sizeof(*h->pages));
	if (!h->base || !h->pages) {
		history_destroy(h);
		return -ENOMEM;
	}
	for (uint64_t p = 0; p < h->npages; p++)
		read_page(ctx, p, h->base + p * HISTORY_PAGE_SIZE);
	return 0;
}

static void snapshot_free(struct history *h, struct history_snapshot *s)
{
	for (unsigned i = 0; i < s->nparts; i++)
		blob_put(h, s->parts[i]);
	h->bytes -= sizeof(*s) + s->npages * sizeof(uint64_t);
	free(s->pages);
	memset(s, 0, sizeof(*s));
}

void history_destroy(struct history *h)
{
	if (h->pages) {
		for (uint64_t p = 0; p < h->npages; p++) {
			for (uint32_t i = 0; i < h->pages[p].n; i++)
				free(h->pages[p].v[i].data);
			free(h->pages[p].v);
		}
	}
	for (size_t i = 0; i < h->nsnaps; i++)
		snapshot_free(h, &h->snaps[i]);
	free(h->snaps);
	free(h->pages);
	free(h->base);
	free(h->inputs);
	free(h->input_bytes);
	memset(h, 0, sizeof(*h));
}

static int page_push(struct history *h, uint64_t page, uint64_t id, const uint8_t *content)
{
	struct history_page_list *l = &h->pages[page];

	if (l->n && l->v[l->n - 1].id == id)
		return 0; /* listed twice for one snapshot */
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 2;
		void *grown = realloc(l->v, cap * sizeof(*l->v));
		if (!grown)
			return -ENOMEM;
		l->v = grown;
		l->cap = cap;
	}
	uint8_t *data = malloc(HISTORY_PAGE_SIZE);
	if (!data)
		return -ENOMEM;
	memcpy(data, content, HISTORY_PAGE_SIZE);
	l->v[l->n].id = id;
	l->v[l->n].data = data;
	l->n++;
	h->bytes += HISTORY_PAGE_SIZE + sizeof(struct history_page_version);
	return 0;
}

/* Removes the oldest version of page (it must belong to snapshot id),
 * keeping its content as the new base when fold is set. */
static void page_pop_oldest(struct history *h, uint64_t page, uint64_t id, bool fold)
{
	struct history_page_list *l = &h->pages[page];

	if (!l->n || l->v[0].id != id)
		return;
	if (fold)
		memcpy(h->base + page * HISTORY_PAGE_SIZE, l->v[0].data, HISTORY_PAGE_SIZE);
	free(l->v[0].data);
	memmove(l->v, l->v + 1, (l->n - 1) * sizeof(*l->v));
	l->n--;
	h->bytes -= HISTORY_PAGE_SIZE + sizeof(struct history_page_version);
}

static void page_pop_newest(struct history *h, uint64_t page, uint64_t id)
{
	struct history_page_list *l = &h->pages[page];

	if (!l->n || l->v[l->n - 1].id != id)
		return;
	free(l->v[l->n - 1].data);
	l->n--;
	h->bytes -= HISTORY_PAGE_SIZE + sizeof(struct history_page_version);
}

static void drop_inputs_through(struct history *h, uint64_t pos)
{
	size_t n = history_input_after(h, pos);

	if (!n)
		return;
	/* The bytes stay in the arena until it is compacted below. */
	h->bytes -= n * sizeof(struct history_input);
	for (size_t i = 0; i < n; i++)
		h->bytes -= h->inputs[i].len;
	memmove(h->inputs, h->inputs + n, (h->ninputs - n) * sizeof(*h->inputs));
	h->ninputs -= n;
	if (h->ninputs == 0) {
		h->input_bytes_len = 0;
		return;
	}
	uint32_t first = h->inputs[0].data_off;
	memmove(h->input_bytes, h->input_bytes + first, h->input_bytes_len - first);
	h->input_bytes_len -= first;
	for (size_t i = 0; i < h->ninputs; i++)
		h->inputs[i].data_off -= first;
}

/* The oldest snapshot goes; the next becomes the oldest, so its state is
 * complete and RAM at it is base + its own versions, folded in. */
static void drop_oldest(struct history *h)
{
	struct history_snapshot *s = &h->snaps[0];

	for (size_t i = 0; i < s->npages; i++)
		page_pop_oldest(h, s->pages[i], s->id, true);
	snapshot_free(h, s);
	memmove(h->snaps, h->snaps + 1, (h->nsnaps - 1) * sizeof(*h->snaps));
	h->nsnaps--;
	/* The new oldest snapshot's pages are RAM at it: fold them too. */
	struct history_snapshot *first = &h->snaps[0];
	for (size_t i = 0; i < first->npages; i++)
		page_pop_oldest(h, first->pages[i], first->id, true);
	h->bytes -= first->npages * sizeof(uint64_t);
	free(first->pages);
	first->pages = NULL;
	first->npages = 0;
	/* Inputs up to the new oldest snapshot are never replayed again. */
	drop_inputs_through(h, first->pos);
	h->dropped++;
}

static void enforce_limit(struct history *h)
{
	while (h->limit && h->bytes > h->limit && h->nsnaps > 2)
		drop_oldest(h);
}

static struct history_blob *blob_for(struct history *h, const struct history_part *part,
				     struct history_blob *prev)
{
	if (prev && prev->len == part->len && memcmp(prev->data, part->data, part->len) == 0) {
		prev->refs++;
		return prev;
	}
	struct history_blob *b = malloc(sizeof(*b) + part->len);
	if (!b)
		return NULL;
	b->refs = 1;
	b->len = part->len;
	memcpy(b->data, part->data, part->len);
	h->bytes += sizeof(*b) + part->len;
	return b;
}

int history_add_snapshot(struct history *h, uint64_t pos, uint64_t regs_sum,
			 const struct history_part *parts, unsigned nparts,
			 const uint64_t *pages, size_t npages,
			 history_read_page_fn *read_page, void *ctx)
{
	if (nparts > HISTORY_MAX_PARTS)
		return -EINVAL;
	if (h->nsnaps && pos < h->snaps[h->nsnaps - 1].pos)
		return -EINVAL;
	if (h->nsnaps == h->snaps_cap) {
		size_t cap = h->snaps_cap ? h->snaps_cap * 2 : 64;
		void *grown = realloc(h->snaps, cap * sizeof(*h->snaps));
		if (!grown)
			return -ENOMEM;
		h->snaps = grown;
		h->snaps_cap = cap;
	}
	struct history_snapshot *prev = h->nsnaps ? &h->snaps[h->nsnaps - 1] : NULL;
	struct history_snapshot *s = &h->snaps[h->nsnaps];
	uint8_t page_buf[HISTORY_PAGE_SIZE];

	memset(s, 0, sizeof(*s));
	s->id = h->next_id;
	s->pos = pos;
	s->regs_sum = regs_sum;
	h->bytes += sizeof(*s);
	for (unsigned i = 0; i < nparts; i++) {
		struct history_blob *before = prev && i < prev->nparts ? prev->parts[i] : NULL;
		s->parts[i] = blob_for(h, &parts[i], before);
		if (!s->parts[i])
			goto nomem;
		s->nparts = i + 1;
	}
	if (prev) {
		s->pages = malloc((npages ? npages : 1) * sizeof(uint64_t));
		if (!s->pages)
			goto nomem;
		for (size_t i = 0; i < npages; i++) {
			uint64_t page = pages[i];
			if (page >= h->npages)
				continue;
			size_t before = h->pages[page].n;
			read_page(ctx, page, page_buf);
			if (page_push(h, page, s->id, page_buf))
				goto nomem;
			if (h->pages[page].n != before) {
				s->pages[s->npages++] = page;
				h->bytes += sizeof(uint64_t);
			}
		}
	} else {
		/* The first snapshot: RAM at it is the base. */
		for (size_t i = 0; i < npages; i++)
			if (pages[i] < h->npages)
				read_page(ctx, pages[i], h->base + pages[i] * HISTORY_PAGE_SIZE);
	}
	h->nsnaps++;
	h->next_id++;
	enforce_limit(h);
	return 0;
nomem:
	for (size_t i = 0; i < s->npages; i++)
		page_pop_newest(h, s->pages[i], s->id);
	snapshot_free(h, s);
	return -ENOMEM;
}

long history_find(const struct history *h, uint64_t pos)
{
	size_t lo = 0, hi = h->nsnaps;

	/* The last snapshot with snaps[i].pos <= pos. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->snaps[mid].pos <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const uint8_t *history_page_at(const struct history *h, size_t i, uint64_t page)
{
	if (i >= h->nsnaps || page >= h->npages)
		return NULL;
	uint64_t id = h->snaps[i].id;
	const struct history_page_list *l = &h->pages[page];
	uint32_t lo = 0, hi = l->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (l->v[mid].id <= id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? l->v[lo - 1].data : h->base + page * HISTORY_PAGE_SIZE;
}

const void *history_part(const struct history *h, size_t i, unsigned part, size_t *len)
{
	*len = 0;
	if (i >= h->nsnaps || part >= h->snaps[i].nparts)
		return NULL;
	*len = h->snaps[i].parts[part]->len;
	return h->snaps[i].parts[part]->data;
}

int history_log_input(struct history *h, uint64_t pos, uint64_t addr, uint64_t regs_sum,
		      const void *data, uint32_t len)
{
	if (len > HISTORY_MAX_INPUT)
		return -E2BIG;
	if (h->ninputs && pos < h->inputs[h->ninputs - 1].pos)
		return -EINVAL;
	if (h->ninputs == h->inputs_cap) {
		size_t cap = h->inputs_cap ? h->inputs_cap * 2 : 256;
		void *grown = realloc(h->inputs, cap * sizeof(*h->inputs));
		if (!grown)
			return -ENOMEM;
		h->inputs = grown;
		h->inputs_cap = cap;
	}
	if (h->input_bytes_cap - h->input_bytes_len < len) {
		size_t cap = h->input_bytes_cap ? h->input_bytes_cap * 2 : 4096;
		while (cap - h->input_bytes_len < len)
			cap *= 2;
		if (cap > UINT32_MAX)
			return -ENOMEM;
		void *grown = realloc(h->input_bytes, cap);
		if (!grown)
			return -ENOMEM;
		h->input_bytes = grown;
		h->input_bytes_cap = cap;
	}
	struct history_input *in = &h->inputs[h->ninputs++];
	in->pos = pos;
	in->addr = addr;
	in->regs_sum = regs_sum;
	in->len = len;
	in->data_off = (uint32_t)h->input_bytes_len;
	memcpy(h->input_bytes + h->input_bytes_len, data, len);
	h->input_bytes_len += len;
	h->bytes += sizeof(*in) + len;
	return 0;
}

size_t history_input_after(const struct history *h, uint64_t pos)
{
	size_t lo = 0, hi = h->ninputs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->inputs[mid].pos <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const uint8_t *history_input_data(const struct history *h, size_t i)
{
	return i < h->ninputs ? h->input_bytes + h->inputs[i].data_off : NULL;
}

void history_drop_before(struct history *h, size_t i)
{
	if (i >= h->nsnaps)
		return;
	while (i-- > 0)
		drop_oldest(h);
}

void history_drop_after(struct history *h, size_t i)
{
	if (i >= h->nsnaps)
		return;
	while (h->nsnaps > i + 1) {
		struct history_snapshot *s = &h->snaps[h->nsnaps - 1];
		for (size_t k = 0; k < s->npages; k++)
			page_pop_newest(h, s->pages[k], s->id);
		snapshot_free(h, s);
		h->nsnaps--;
	}
	uint64_t pos = h->snaps[i].pos;
	while (h->ninputs && h->inputs[h->ninputs - 1].pos > pos) {
		struct history_input *in = &h->inputs[--h->ninputs];
		h->bytes -= sizeof(*in) + in->len;
		h->input_bytes_len = in->data_off;
	}
}
