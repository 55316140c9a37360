/* kvm/reverse.c — recording and replay on the KVM vCPU (see kvm/reverse.h).
 *
 * Recording: the guest runs as usual; a timer tick (every millisecond)
 * takes a snapshot when at least SNAP_MIN_INSNS instructions ran since
 * the last one: every vCPU and irqchip state part, and the RAM pages KVM's
 * dirty log (plus our own notes of MMIO and host writes) says changed.
 * Every port IN is logged with its position and a register checksum.
 * A change the host makes (gdb writes, a step split into one `rep`
 * iteration) ends a segment: a "barrier" snapshot replay never runs across.
 *
 * Replay: restore the snapshot at or before a position, then run forward
 * with inputs served from the log and output dropped; single-step to an
 * exact position (a segment is ~2k instructions), run freely to look for
 * breakpoint and watchpoint hits, never across the next snapshot. A logged
 * input read at another position or port, or with other registers, is a
 * divergence: reported, and the history before it is dropped. So is a
 * snapshot that a forward replay reaches with other registers or memory.
 */
#include "kvm/reverse.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvm/history.h"
#include "kvm/vcpu_internal.h"

#define SNAP_MIN_INSNS 2048
#define RECORD_TICK_NS 1000000L
#define SCAN_TICK_NS 500000L
#define SCAN_SEGMENTS 16 /* segments one reverse-continue run covers at most */
#define MAX_MSRS 128
#define MSR_IA32_TSC 0x10
#define MSR_IA32_FEATURE_CONTROL 0x3a

enum state_part {
	PART_REGS, PART_SREGS, PART_XSAVE, PART_XCRS, PART_MSRS, PART_EVENTS,
	PART_DEBUGREGS, PART_MP_STATE, PART_LAPIC, PART_PIC0, PART_PIC1, PART_IOAPIC,
	PART_PIT, NPARTS
};

/* struct kvm_msrs with room for its entries: the kernel's struct ends in
 * a flexible array, which may not sit inside another struct. */
struct msr_list {
	uint32_t nmsrs, pad;
	struct kvm_msr_entry e[MAX_MSRS];
};
_Static_assert(offsetof(struct msr_list, e) == sizeof(struct kvm_msrs),
	       "struct msr_list must lay out as struct kvm_msrs");

struct vcpu_image {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* struct kvm_xsave as bytes, for the same reason (KVM_GET_XSAVE fills
	 * the legacy 4 KiB region). */
	_Alignas(8) uint8_t xsave[sizeof(struct kvm_xsave)];
	struct kvm_xcrs xcrs;
	struct msr_list msrs;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	struct kvm_mp_state mp_state;
	struct kvm_lapic_state lapic;
	struct kvm_irqchip chip[3];
	struct kvm_pit_state2 pit;
};

struct hit {
	bool found;
	uint64_t pos;
	struct target_stop stop;
};

struct reverse {
	struct kvm_target *kt;
	struct machine *m;
	struct reverse_config config;
	int stats_fd;
	off_t insn_off; /* -1: the host has no instruction counter */
	/* No counter (or asked to do without): every instruction is a single
	 * step and the position counts them; slow, but any host can. */
	bool by_steps;
	uint64_t steps;
	uint64_t offset; /* position = counter - offset */
	bool recording, in_past;
	struct history h;
	bool barrier_next; /* the next snapshot follows a host change */
	size_t cur_snap;   /* in the past: the snapshot the state descends from */
	size_t cursor;     /* in the past: the next input to replay */
	bool scanning;
	bool window_due;   /* the recording tick asked for an interrupt window */
	uint64_t windows;  /* how many let an interrupt in */
	uint64_t scan_end; /* while scanning: a tick at or past this ends the run */
	bool diverged, log_ended;
	bool io_abandoned; /* an IN exit left without data: KVM still owes it */
	char why[160];
	int tick_error;
	uint32_t msr_index[MAX_MSRS];
	unsigned nmsrs;
	bool has_irqchip, has_pit, has_xcrs;
	uint64_t *pages;
	size_t pages_cap;
	uint64_t *seen; /* one bit a page: scratch for restores */
	struct vcpu_image img;
};

/* ---- the instruction counter ---- */

static int open_counter(struct reverse *r)
{
	struct kvm_stats_header head;

	r->insn_off = -1;
	r->stats_fd = ioctl(r->m->cur->fd, KVM_GET_STATS_FD, NULL);
	if (r->stats_fd < 0)
		return 0;
	if (pread(r->stats_fd, &head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    head.name_size > 4096 || head.num_desc > 4096)
		return 0;
	size_t one = sizeof(struct kvm_stats_desc) + head.name_size;
	uint8_t *descs = malloc(one * head.num_desc);
	if (!descs)
		return -ENOMEM;
	if (pread(r->stats_fd, descs, one * head.num_desc, head.desc_offset) ==
	    (ssize_t)(one * head.num_desc)) {
		for (uint32_t i = 0; i < head.num_desc; i++) {
			struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * one);
			d->name[head.name_size - 1] = 0;
			if (strcmp(d->name, "insn_emulation") == 0 && d->size == 1)
				r->insn_off = (off_t)head.data_offset + d->offset;
		}
	}
	free(descs);
	return 0;
}

static uint64_t counter(const struct reverse *r)
{
	uint64_t v = 0;

	if (r->by_steps)
		return r->steps;
	if (pread(r->stats_fd, &v, sizeof(v), r->insn_off) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

static uint64_t position(const struct reverse *r)
{
	return counter(r) - r->offset;
}

/* ---- vCPU and irqchip state ---- */

static void find_msrs(struct reverse *r)
{
	/* struct kvm_msr_list with room for its indices (see msr_list). */
	struct {
		uint32_t nmsrs;
		uint32_t index[512];
	} list = { .nmsrs = 512 };
	struct msr_list one;

	r->nmsrs = 0;
	if (ioctl(r->m->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0)
		return;
	for (uint32_t i = 0; i < list.nmsrs && i < 512 && r->nmsrs < MAX_MSRS; i++) {
		uint32_t index = list.index[i];
		/* The TSC moves with host time (rdtsc is an input we cannot
		 * replay anyway); FEATURE_CONTROL does not read here. */
		if (index == MSR_IA32_TSC || index == MSR_IA32_FEATURE_CONTROL)
			continue;
		memset(&one, 0, offsetof(struct msr_list, e) + sizeof(one.e[0]));
		one.nmsrs = 1;
		one.e[0].index = index;
		if (ioctl(r->m->cur->fd, KVM_GET_MSRS, &one) == 1)
			r->msr_index[r->nmsrs++] = index;
	}
}

static int fail(struct reverse *r, const char *what)
{
	int err = errno;
	snprintf(r->m->error, sizeof(r->m->error), "%s failed: %s", what, strerror(err));
	return -err;
}

static int save_image(struct reverse *r, struct vcpu_image *img)
{
	struct machine *m = r->m;
	int fd = m->cur->fd;

	memset(img, 0, sizeof(*img));
	/* The register cache is what the guest will see (a gdb write may
	 * not have reached KVM yet). */
	img->regs = *machine_regs(m);
	img->sregs = *machine_sregs(m);
	if (m->cur->failed)
		return m->cur->failed;
	if (ioctl(fd, KVM_GET_XSAVE, img->xsave) < 0)
		return fail(r, "KVM_GET_XSAVE");
	if (r->has_xcrs && ioctl(fd, KVM_GET_XCRS, &img->xcrs) < 0)
		return fail(r, "KVM_GET_XCRS");
	img->msrs.nmsrs = r->nmsrs;
	img->msrs.pad = 0;
	for (unsigned i = 0; i < r->nmsrs; i++)
		img->msrs.e[i].index = r->msr_index[i];
	if (ioctl(fd, KVM_GET_MSRS, &img->msrs) != (int)r->nmsrs)
		return fail(r, "KVM_GET_MSRS");
	if (ioctl(fd, KVM_GET_VCPU_EVENTS, &img->events) < 0)
		return fail(r, "KVM_GET_VCPU_EVENTS");
	if (ioctl(fd, KVM_GET_DEBUGREGS, &img->debugregs) < 0)
		return fail(r, "KVM_GET_DEBUGREGS");
	if (ioctl(fd, KVM_GET_MP_STATE, &img->mp_state) < 0)
		return fail(r, "KVM_GET_MP_STATE");
	if (r->has_irqchip) {
		if (ioctl(fd, KVM_GET_LAPIC, &img->lapic) < 0)
			return fail(r, "KVM_GET_LAPIC");
		for (unsigned i = 0; i < 3; i++) {
			img->chip[i].chip_id = i;
			if (ioctl(m->vm_fd, KVM_GET_IRQCHIP, &img->chip[i]) < 0)
				return fail(r, "KVM_GET_IRQCHIP");
		}
	}
	if (r->has_pit && ioctl(m->vm_fd, KVM_GET_PIT2, &img->pit) < 0)
		return fail(r, "KVM_GET_PIT2");
	return 0;
}

static unsigned image_parts(const struct reverse *r, const struct vcpu_image *img,
			    struct history_part *parts)
{
	parts[PART_REGS] = (struct history_part){ &img->regs, sizeof(img->regs) };
	parts[PART_SREGS] = (struct history_part){ &img->sregs, sizeof(img->sregs) };
	parts[PART_XSAVE] = (struct history_part){ img->xsave, sizeof(img->xsave) };
	parts[PART_XCRS] = (struct history_part){ &img->xcrs, sizeof(img->xcrs) };
	parts[PART_MSRS] = (struct history_part){ &img->msrs,
		offsetof(struct msr_list, e) + r->nmsrs * sizeof(img->msrs.e[0]) };
	parts[PART_EVENTS] = (struct history_part){ &img->events, sizeof(img->events) };
	parts[PART_DEBUGREGS] = (struct history_part){ &img->debugregs, sizeof(img->debugregs) };
	parts[PART_MP_STATE] = (struct history_part){ &img->mp_state, sizeof(img->mp_state) };
	parts[PART_LAPIC] = (struct history_part){ &img->lapic, sizeof(img->lapic) };
	parts[PART_PIC0] = (struct history_part){ &img->chip[0], sizeof(img->chip[0]) };
	parts[PART_PIC1] = (struct history_part){ &img->chip[1], sizeof(img->chip[1]) };
	parts[PART_IOAPIC] = (struct history_part){ &img->chip[2], sizeof(img->chip[2]) };
	parts[PART_PIT] = (struct history_part){ &img->pit, sizeof(img->pit) };
	return NPARTS;
}

/* Copies part p of snapshot i into dst (which has room for it). */
static bool load_part(struct reverse *r, size_t i, unsigned p, void *dst, size_t room)
{
	size_t len;
	const void *src = history_part(&r->h, i, p, &len);
	if (!src || len > room)
		return false;
	memcpy(dst, src, len);
	return true;
}

static int restore_image(struct reverse *r, size_t i)
{
	struct machine *m = r->m;
	struct vcpu_image *img = &r->img;
	int fd = m->cur->fd;

	if (!load_part(r, i, PART_REGS, &img->regs, sizeof(img->regs)) ||
	    !load_part(r, i, PART_SREGS, &img->sregs, sizeof(img->sregs)) ||
	    !load_part(r, i, PART_XSAVE, img->xsave, sizeof(img->xsave)) ||
	    !load_part(r, i, PART_XCRS, &img->xcrs, sizeof(img->xcrs)) ||
	    !load_part(r, i, PART_MSRS, &img->msrs, sizeof(img->msrs)) ||
	    !load_part(r, i, PART_EVENTS, &img->events, sizeof(img->events)) ||
	    !load_part(r, i, PART_DEBUGREGS, &img->debugregs, sizeof(img->debugregs)) ||
	    !load_part(r, i, PART_MP_STATE, &img->mp_state, sizeof(img->mp_state)) ||
	    !load_part(r, i, PART_LAPIC, &img->lapic, sizeof(img->lapic)) ||
	    !load_part(r, i, PART_PIC0, &img->chip[0], sizeof(img->chip[0])) ||
	    !load_part(r, i, PART_PIC1, &img->chip[1], sizeof(img->chip[1])) ||
	    !load_part(r, i, PART_IOAPIC, &img->chip[2], sizeof(img->chip[2])) ||
	    !load_part(r, i, PART_PIT, &img->pit, sizeof(img->pit)))
		return -EIO;
	/* A pending interrupt lives in the events part; the sregs bitmap
	 * would queue it a second time. */
	memset(img->sregs.interrupt_bitmap, 0, sizeof(img->sregs.interrupt_bitmap));
	if (ioctl(fd, KVM_SET_SREGS, &img->sregs) < 0)
		return fail(r, "KVM_SET_SREGS");
	if (ioctl(fd, KVM_SET_REGS, &img->regs) < 0)
		return fail(r, "KVM_SET_REGS");
	if (ioctl(fd, KVM_SET_XSAVE, img->xsave) < 0)
		return fail(r, "KVM_SET_XSAVE");
	if (r->has_xcrs && ioctl(fd, KVM_SET_XCRS, &img->xcrs) < 0)
		return fail(r, "KVM_SET_XCRS");
	/* KVM stops at the first MSR it refuses (some cannot be written
	 * back as read, e.g. a read-only one): go on after it. */
	uint32_t total = img->msrs.nmsrs, done = 0;
	while (done < total) {
		struct msr_list rest;
		rest.nmsrs = total - done;
		rest.pad = 0;
		memcpy(rest.e, img->msrs.e + done, (total - done) * sizeof(rest.e[0]));
		int n = ioctl(fd, KVM_SET_MSRS, &rest);
		if (n < 0)
			return fail(r, "KVM_SET_MSRS");
		done += (uint32_t)n + 1; /* the refused one is skipped */
	}
	if (ioctl(fd, KVM_SET_VCPU_EVENTS, &img->events) < 0)
		return fail(r, "KVM_SET_VCPU_EVENTS");
	if (ioctl(fd, KVM_SET_DEBUGREGS, &img->debugregs) < 0)
		return fail(r, "KVM_SET_DEBUGREGS");
	if (ioctl(fd, KVM_SET_MP_STATE, &img->mp_state) < 0)
		return fail(r, "KVM_SET_MP_STATE");
	if (r->has_irqchip) {
		if (ioctl(fd, KVM_SET_LAPIC, &img->lapic) < 0)
			return fail(r, "KVM_SET_LAPIC");
		for (unsigned c = 0; c < 3; c++)
			if (ioctl(m->vm_fd, KVM_SET_IRQCHIP, &img->chip[c]) < 0)
				return fail(r, "KVM_SET_IRQCHIP");
	}
	if (r->has_pit && ioctl(m->vm_fd, KVM_SET_PIT2, &img->pit) < 0)
		return fail(r, "KVM_SET_PIT2");
	/* The register cache now holds exactly what KVM has. */
	m->cur->regs = img->regs;
	m->cur->sregs = img->sregs;
	m->cur->regs_valid = m->cur->sregs_valid = true;
	m->cur->regs_dirty = m->cur->sregs_dirty = false;
	if (m->cur->run)
		m->cur->run->kvm_dirty_regs = 0;
	return 0;
}

static uint64_t regs_checksum(const struct kvm_regs *regs)
{
	return history_checksum(0, regs, sizeof(*regs));
}

/* ---- RAM ---- */

static void read_page_unshadowed(void *ctx, uint64_t page, uint8_t *out)
{
	struct reverse *r = ctx;
	uint64_t phys = page * HISTORY_PAGE_SIZE;

	memcpy(out, r->m->ram + phys, HISTORY_PAGE_SIZE);
	points_unshadow(r->kt, phys, out, HISTORY_PAGE_SIZE);
}

static int push_page(struct reverse *r, size_t *n, uint64_t page)
{
	if (*n == r->pages_cap) {
		size_t cap = r->pages_cap ? r->pages_cap * 2 : 1024;
		void *grown = realloc(r->pages, cap * sizeof(*r->pages));
		if (!grown)
			return -ENOMEM;
		r->pages = grown;
		r->pages_cap = cap;
	}
	r->pages[(*n)++] = page;
	return 0;
}

/* The pages written since the last snapshot or restore, into r->pages;
 * the log starts afresh. */
static int take_written_pages(struct reverse *r, size_t *n)
{
	struct machine *m = r->m;
	size_t words = (size_t)((m->npages + 63) / 64);
	int err = machine_collect_dirty_pages(m);

	*n = 0;
	if (err)
		return err;
	for (size_t w = 0; w < words; w++) {
		uint64_t word = m->logged_pages[w];
		m->logged_pages[w] = 0;
		while (word) {
			err = push_page(r, n, w * 64 + (uint64_t)__builtin_ctzll(word));
			if (err)
				return err;
			word &= word - 1;
		}
	}
	return 0;
}

static int take_snapshot(struct reverse *r)
{
	struct history_part parts[NPARTS];
	size_t npages;
	int err = take_written_pages(r, &npages);

	if (!err)
		err = save_image(r, &r->img);
	if (err)
		return err;
	unsigned nparts = image_parts(r, &r->img, parts);
	err = history_add_snapshot(&r->h, position(r), regs_checksum(&r->img.regs), parts, nparts,
				   r->pages, npages, read_page_unshadowed, r);
	if (err) {
		snprintf(r->m->error, sizeof(r->m->error),
			 "recording: out of memory for a snapshot");
		return err;
	}
	r->h.snaps[r->h.nsnaps - 1].barrier = r->barrier_next;
	r->barrier_next = false;
	return 0;
}

/* RAM as it was at snapshot i: every page written since the older of i
 * and the snapshot the state descends from, or by replay since. */
static int restore_ram(struct reverse *r, size_t i)
{
	struct history *h = &r->h;
	size_t from = i < r->cur_snap ? i : r->cur_snap;
	size_t to = i < r->cur_snap ? r->cur_snap : i;
	size_t n;
	int err = take_written_pages(r, &n);

	if (err)
		return err;
	for (size_t s = from + 1; s <= to && s < h->nsnaps; s++)
		for (size_t k = 0; k < h->snaps[s].npages; k++) {
			err = push_page(r, &n, h->snaps[s].pages[k]);
			if (err)
				return err;
		}
	for (size_t k = 0; k < n; k++) {
		uint64_t page = r->pages[k];
		if (r->seen[page / 64] & (1ULL << (page % 64)))
			continue;
		r->seen[page / 64] |= 1ULL << (page % 64);
		const uint8_t *content = history_page_at(h, i, page);
		if (!content)
			continue;
		uint64_t phys = page * HISTORY_PAGE_SIZE;
		/* Written around breakpoints: their bytes stay planted. */
		points_write_around(r->kt, phys, content, HISTORY_PAGE_SIZE);
	}
	for (size_t k = 0; k < n; k++)
		r->seen[r->pages[k] / 64] = 0;
	return 0;
}

/* Makes the machine exactly what it was at snapshot i. */
static int restore(struct reverse *r, size_t i)
{
	if (r->io_abandoned) {
		/* KVM completes a pending IN at the next KVM_RUN, into whatever
		 * registers the vCPU then has: let it finish now, before the
		 * state is replaced. */
		r->io_abandoned = false;
		int done = machine_enter(r->m, true);
		if (done && done != -EINTR)
			return done;
	}
	int err = restore_ram(r, i);

	if (!err)
		err = restore_image(r, i);
	if (err)
		return err;
	r->offset = counter(r) - r->h.snaps[i].pos;
	r->cursor = history_input_after(&r->h, r->h.snaps[i].pos);
	r->cur_snap = i;
	r->m->cur->interrupted = false;
	return 0;
}

/* ---- moving in time ---- */

static size_t present(const struct reverse *r)
{
	return r->h.nsnaps - 1;
}

static int enter_past(struct reverse *r)
{
	if (r->in_past)
		return 0;
	struct history *h = &r->h;
	/* The present, exactly, to come back to. */
	int err = take_snapshot(r);
	if (err)
		return err;
	r->in_past = true;
	r->cur_snap = present(r);
	r->cursor = h->ninputs;
	r->m->discard_output = true;
	return 0;
}

static int leave_past(struct reverse *r)
{
	int err = restore(r, present(r));

	if (err)
		return err;
	r->in_past = false;
	r->m->discard_output = false;
	return 0;
}

/* The history before the segment that diverged goes, and the machine goes
 * back to the present: the state recording had reached when replay began,
 * restored from its snapshot, never the state the diverged replay left. The
 * guest then runs on from there exactly as it would have without a trip
 * into the past; what is left of the history stays usable. */
static int cut_at_divergence(struct reverse *r, struct target_stop *stop)
{
	long at = history_find(&r->h, position(r));
	size_t keep = at < 0 ? 0 : (size_t)at + 1;

	if (keep < r->cur_snap + 1)
		keep = r->cur_snap + 1;
	if (keep > present(r))
		keep = present(r);

	r->diverged = false;
	memset(stop, 0, sizeof(*stop));
	stop->reason = TARGET_STOP_DIVERGED;
	snprintf(stop->why, sizeof(stop->why), "%.110s; history before instruction %llu dropped",
		 r->why, (unsigned long long)r->h.snaps[keep].pos);
	int err = leave_past(r);
	if (err)
		return err;
	history_drop_before(&r->h, keep);
	r->cur_snap = present(r);
	r->cursor = r->h.ninputs;
	stop->addr = vcpu_linear_pc(r->m);
	return 0;
}

static bool bp_at_pc(struct kvm_target *kt, struct target_stop *stop)
{
	uint64_t pc = vcpu_linear_pc(kt->m);
	int hw = points_hw_at(kt, pc);

	if (!points_sw_at_linear(kt, pc) && !hw)
		return false;
	memset(stop, 0, sizeof(*stop));
	stop->reason = hw == 1 ? TARGET_STOP_HWBREAK : TARGET_STOP_SWBREAK;
	stop->addr = pc;
	return true;
}

static bool is_hit(enum target_stop_reason reason)
{
	return reason == TARGET_STOP_SWBREAK || reason == TARGET_STOP_HWBREAK ||
	       reason == TARGET_STOP_WATCH || reason == TARGET_STOP_RWATCH ||
	       reason == TARGET_STOP_AWATCH;
}

static bool is_watch(enum target_stop_reason reason)
{
	return reason == TARGET_STOP_WATCH || reason == TARGET_STOP_RWATCH ||
	       reason == TARGET_STOP_AWATCH;
}

/* One KVM single step of the replay (inputs from the log). */
static int replay_step(struct reverse *r, struct target_stop *stop)
{
	struct target_resume step = { .kind = TARGET_RESUME_STEP };
	return run_loop_resume_live(r->kt, &step, stop);
}

/* Verifies a forward replay that reached snapshot i exactly. */
static bool matches_snapshot(struct reverse *r, size_t i)
{
	const struct history_snapshot *s = &r->h.snaps[i];
	uint8_t page[HISTORY_PAGE_SIZE];

	if (regs_checksum(machine_regs(r->m)) != s->regs_sum) {
		snprintf(r->why, sizeof(r->why),
			 "replay diverged: registers at instruction %llu differ from the recording",
			 (unsigned long long)s->pos);
		return false;
	}
	for (size_t k = 0; k < s->npages; k++) {
		read_page_unshadowed(r, s->pages[k], page);
		if (memcmp(page, history_page_at(&r->h, i, s->pages[k]), sizeof(page))) {
			snprintf(r->why, sizeof(r->why),
				 "replay diverged: memory page 0x%llx at instruction %llu differs",
				 (unsigned long long)s->pages[k] * HISTORY_PAGE_SIZE,
				 (unsigned long long)s->pos);
			return false;
		}
	}
	return true;
}

/* After a forward replay step or run: reaching the next snapshot exactly
 * verifies it (or takes it, if it follows a host change). */
static int arrive(struct reverse *r)
{
	size_t next = r->cur_snap + 1;
	uint64_t here = position(r);

	if (next > present(r) || here != r->h.snaps[next].pos)
		return 0;
	/* Several snapshots may share a position (a host change or an
	 * interrupt window that ran no instruction): the last one is the
	 * state here. */
	bool barrier = false;
	for (;;) {
		barrier |= r->h.snaps[next].barrier;
		if (next == present(r) || r->h.snaps[next + 1].pos != here)
			break;
		next++;
	}
	if (next == present(r))
		return leave_past(r);
	if (barrier) /* the host changed state there */
		return restore(r, next);
	if (!matches_snapshot(r, next)) {
		r->diverged = true;
		return -ECANCELED;
	}
	r->cur_snap = next;
	return 0;
}

/* Puts the machine at exactly position pos of the history, unless a
 * signal for the stub comes first: then *interrupted says so (its reason
 * is TARGET_STOP_STEP otherwise). */
static int go_to(struct reverse *r, uint64_t pos, struct target_stop *interrupted)
{
	long i = history_find(&r->h, pos);
	struct target_stop st;

	interrupted->reason = TARGET_STOP_STEP;

	if (i < 0)
		return -EINVAL;
	if (!r->in_past || r->cur_snap != (size_t)i || position(r) > pos) {
		int err = restore(r, (size_t)i);
		if (err)
			return err;
	}
	while (position(r) < pos) {
		int err = replay_step(r, &st);
		if (err)
			return err;
		if (st.reason == TARGET_STOP_INTERRUPTED) {
			/* A signal for the stub (gdb's ^C) before the step ran:
			 * an exact recorded state all the same, no divergence. */
			*interrupted = st;
			return 0;
		}
		if (st.reason != TARGET_STOP_STEP && !is_hit(st.reason))
			break;
	}
	if (position(r) != pos) {
		snprintf(r->why, sizeof(r->why),
			 "replay diverged: wanted instruction %llu, reached %llu",
			 (unsigned long long)pos, (unsigned long long)position(r));
		r->diverged = true;
		return -ECANCELED;
	}
	return 0;
}

/* Runs the guest until a breakpoint, watchpoint or other stop, or (while
 * scanning) past scan_end: KVM_RUN with the counter; one step at a time
 * without it. */
static int run_free(struct reverse *r, struct target_stop *stop)
{
	struct target_resume cont = { .kind = TARGET_RESUME_CONTINUE };

	if (!r->by_steps)
		return run_loop_resume_live(r->kt, &cont, stop);
	for (bool first = true;; first = false) {
		if (!first && bp_at_pc(r->kt, stop))
			return 0;
		if (r->scanning && position(r) >= r->scan_end) {
			memset(stop, 0, sizeof(*stop));
			stop->reason = TARGET_STOP_INTERRUPTED;
			return 0;
		}
		int err = replay_step(r, stop);
		if (err || stop->reason != TARGET_STOP_STEP)
			return err;
	}
}

/* Runs segment k freely from its snapshot, with every breakpoint and
 * watchpoint in place, up to position end: the last hit before end. */
static int scan_segment(struct reverse *r, size_t k, uint64_t end, struct hit *last,
			struct target_stop *interrupted)
{
	struct target_stop st;
	int err = restore(r, k);

	last->found = false;
	interrupted->reason = TARGET_STOP_STEP;
	if (err)
		return err;
	if (r->h.snaps[k].pos < end && bp_at_pc(r->kt, &st)) {
		last->found = true;
		last->pos = r->h.snaps[k].pos;
		last->stop = st;
	}
	r->scanning = true;
	r->scan_end = end;
	r->log_ended = false;
	for (;;) {
		err = run_free(r, &st);
		if (err == -ECANCELED && !r->diverged) {
			err = 0;
			break;
		}
		if (err)
			break;
		uint64_t p = position(r);
		if (is_hit(st.reason)) {
			uint64_t at = is_watch(st.reason) ? p - 1 : p;
			if (at >= end)
				break;
			last->found = true;
			last->pos = at;
			last->stop = st;
			continue;
		}
		if (st.reason == TARGET_STOP_INTERRUPTED && p < end && !r->log_ended) {
			*interrupted = st; /* a signal for the stub: stop here */
		}
		break;
	}
	r->scanning = false;
	return err;
}

static int reverse_step(struct reverse *r, struct target_stop *stop)
{
	uint64_t now = position(r);

	memset(stop, 0, sizeof(*stop));
	if (now <= r->h.snaps[0].pos) {
		stop->reason = TARGET_STOP_HISTORY_BEGIN;
		return 0;
	}
	int err = go_to(r, now - 1, stop);
	if (err || stop->reason == TARGET_STOP_INTERRUPTED)
		return err;
	stop->reason = TARGET_STOP_STEP;
	stop->addr = vcpu_linear_pc(r->m);
	return 0;
}

static int reverse_continue(struct reverse *r, struct target_stop *stop)
{
	uint64_t end = position(r);
	struct hit hit = { .found = false };
	struct target_stop interrupted;

	memset(stop, 0, sizeof(*stop));
	if (end <= r->h.snaps[0].pos) {
		stop->reason = TARGET_STOP_HISTORY_BEGIN;
		return 0;
	}
	long k = history_find(&r->h, end - 1);
	while (k >= 0) {
		/* Several segments in one run, as long as none of the
		 * snapshots it crosses follows a host change. */
		long first = k;
		while (first > 0 && k - first < SCAN_SEGMENTS - 1 && !r->h.snaps[first].barrier)
			first--;
		k = first;
		int err = scan_segment(r, (size_t)k, end, &hit, &interrupted);
		if (err)
			return err;
		if (interrupted.reason == TARGET_STOP_INTERRUPTED) {
			*stop = interrupted;
			return 0;
		}
		if (hit.found) {
			err = go_to(r, hit.pos, stop);
			if (err || stop->reason == TARGET_STOP_INTERRUPTED)
				return err;
			*stop = hit.stop;
			return 0;
		}
		end = r->h.snaps[k].pos;
		k--;
	}
	int err = restore(r, 0);
	if (err)
		return err;
	stop->reason = TARGET_STOP_HISTORY_BEGIN;
	return 0;
}

/* Forward in the past: a step. Leaves the past when it reaches the
 * present. */
static int forward_step(struct reverse *r, struct target_stop *stop)
{
	int err = replay_step(r, stop);

	if (!err)
		err = arrive(r);
	return err;
}

/* Forward in the past up to the next breakpoint or watchpoint, or to the
 * present; *live is set when the present was reached without a hit. */
static int forward_continue(struct reverse *r, struct target_stop *stop, bool *live)
{
	*live = false;
	for (;;) {
		size_t next = r->cur_snap + 1;
		if (next > present(r)) {
			*live = true;
			return leave_past(r);
		}
		uint64_t bound = r->h.snaps[next].pos;
		r->scanning = true;
		r->scan_end = bound;
		r->log_ended = false;
		int err = run_free(r, stop);
		r->scanning = false;
		if (err == -ECANCELED && !r->diverged)
			err = 0;
		else if (err)
			return err;
		uint64_t p = position(r);
		if (!r->log_ended && p <= bound &&
		    (is_hit(stop->reason) ||
		     (stop->reason == TARGET_STOP_INTERRUPTED && p < bound))) {
			if (p == bound)
				return arrive(r);
			return 0;
		}
		/* Reached the next snapshot (or ran past it): take it, the
		 * last of those at its position. */
		while (next < present(r) && r->h.snaps[next + 1].pos == bound)
			next++;
		if (next == present(r)) {
			err = leave_past(r);
			if (err)
				return err;
			if (bound > 0 && bp_at_pc(r->kt, stop))
				return 0;
			*live = true;
			return 0;
		}
		err = restore(r, next);
		if (err)
			return err;
		if (bp_at_pc(r->kt, stop))
			return 0;
	}
}

static int past_range(struct reverse *r, const struct target_resume *how,
		      struct target_stop *stop, bool *live)
{
	*live = false;
	for (;;) {
		int err = forward_step(r, stop);
		if (err || stop->reason != TARGET_STOP_STEP)
			return err;
		uint64_t pc = vcpu_linear_pc(r->m);
		if (pc < how->range_start || pc >= how->range_end)
			return 0;
		if (bp_at_pc(r->kt, stop))
			return 0;
		if (!r->in_past) {
			*live = true;
			return 0;
		}
	}
}

/* ---- hooks ---- */

static bool on_tick(void *ctx)
{
	struct reverse *r = ctx;

	if (r->by_steps)
		return false; /* steps take the snapshots (reverse_stepped) */
	if (r->scanning)
		return position(r) >= r->scan_end;
	if (r->recording && !r->in_past && r->has_irqchip) {
		/* End the run: run_loop.c calls reverse_window. */
		r->window_due = true;
		return true;
	}
	if (r->recording && !r->in_past && r->h.nsnaps &&
	    position(r) - r->h.snaps[present(r)].pos >= SNAP_MIN_INSNS) {
		/* Inside KVM_RUN's loop the register cache is from before the
		 * run (written back, not dirty): read KVM's. */
		r->m->cur->regs_valid = r->m->cur->sregs_valid = false;
		int err = take_snapshot(r);
		if (err && !r->tick_error)
			r->tick_error = err;
	}
	return false;
}

int reverse_resume(struct reverse *r, const struct target_resume *how,
		   struct target_stop *stop, bool *handled)
{
	bool reverse = how->kind == TARGET_RESUME_REVERSE_STEP ||
		       how->kind == TARGET_RESUME_REVERSE_CONTINUE;
	bool live = false;
	int err = 0;

	*handled = false;
	if (!r->recording) {
		if (reverse) {
			/* Nothing recorded: the start of history is here. */
			*handled = true;
			memset(stop, 0, sizeof(*stop));
			stop->reason = TARGET_STOP_HISTORY_BEGIN;
		}
		return 0;
	}
	if (r->tick_error) {
		err = r->tick_error;
		r->tick_error = 0;
		*handled = true;
		return err;
	}
	if (!reverse && !r->in_past) {
		if (r->barrier_next) {
			err = take_snapshot(r);
			if (err) {
				*handled = true;
				return err;
			}
		}
		if (!r->by_steps || how->kind != TARGET_RESUME_CONTINUE)
			return 0; /* the caller runs the guest; ticks record it */
		*handled = true;
		return run_free(r, stop); /* one counted step at a time */
	}
	*handled = true;
	if (reverse)
		err = enter_past(r);
	if (!err)
		err = machine_set_tick_interval(r->m, SCAN_TICK_NS);
	if (err == -ENOTSUP)
		err = 0;
	if (!err) {
		switch (how->kind) {
		case TARGET_RESUME_REVERSE_STEP:
			err = reverse_step(r, stop);
			break;
		case TARGET_RESUME_REVERSE_CONTINUE:
			err = reverse_continue(r, stop);
			break;
		case TARGET_RESUME_STEP:
			err = forward_step(r, stop);
			break;
		case TARGET_RESUME_RANGE:
			err = past_range(r, how, stop, &live);
			break;
		case TARGET_RESUME_CONTINUE:
			err = forward_continue(r, stop, &live);
			break;
		}
	}
	if (err == -ECANCELED && r->diverged)
		err = cut_at_divergence(r, stop);
	else if (!err && r->in_past && r->cur_snap == present(r))
		err = leave_past(r); /* nothing to go back to: still the present */
	int tick = machine_set_tick_interval(r->m, RECORD_TICK_NS);
	if (!err && tick && tick != -ENOTSUP)
		err = tick;
	if (!err && live)
		err = run_loop_resume_live(r->kt, how, stop);
	return err;
}

#define RFLAGS_IF (1ULL << 9)
#define WINDOW_MAX_STEPS 8

/* The vector the irqchip will deliver next, from the local APIC's IRR or
 * else the 8259s' unmasked requests (rotation ignored: a guess is enough,
 * see reverse_window); -1 if none. */
static int pending_vector(struct reverse *r)
{
	struct kvm_lapic_state lapic;
	struct kvm_irqchip pic[2] = { { .chip_id = 0 }, { .chip_id = 1 } };

	if (ioctl(r->m->cur->fd, KVM_GET_LAPIC, &lapic) == 0) {
		for (int word = 7; word >= 0; word--) {
			uint32_t irr;
			memcpy(&irr, lapic.regs + 0x200 + 0x10 * word, sizeof(irr));
			if (irr)
				return word * 32 + 31 - __builtin_clz(irr);
		}
	}
	if (ioctl(r->m->vm_fd, KVM_GET_IRQCHIP, &pic[0]) || ioctl(r->m->vm_fd, KVM_GET_IRQCHIP, &pic[1]))
		return -1;
	const struct kvm_pic_state *master = &pic[0].chip.pic, *slave = &pic[1].chip.pic;
	uint8_t want = master->irr & ~master->imr;
	if (!want)
		return -1;
	int irq = __builtin_ctz(want);
	if (irq == 2) {
		uint8_t more = slave->irr & ~slave->imr;
		return more ? slave->irq_base + __builtin_ctz(more) : -1;
	}
	return master->irq_base + irq;
}

/* Where the guest's IDT (IVT in real mode) sends vector: its linear
 * address, or 0. */
static uint64_t handler_of(struct reverse *r, int vector)
{
	const struct kvm_sregs *s = machine_sregs(r->m);
	uint8_t gate[16];

	if (!(s->cr0 & 1)) {
		uint16_t ivt[2];
		if (vcpu_read_mem(r->kt, s->idt.base + 4ULL * vector, ivt, sizeof(ivt)) != 4)
			return 0;
		return (uint64_t)ivt[1] * 16 + ivt[0];
	}
	bool long_mode = s->efer & (1ULL << 10);
	size_t size = long_mode ? 16 : 8;
	if (vcpu_read_mem(r->kt, s->idt.base + size * (uint64_t)vector, gate, size) != (long)size)
		return 0;
	uint64_t off = gate[0] | (uint64_t)gate[1] << 8 | (uint64_t)gate[6] << 16 |
		       (uint64_t)gate[7] << 24;
	if (long_mode)
		return off | (uint64_t)(gate[8] | gate[9] << 8 | gate[10] << 16 |
					(uint32_t)gate[11] << 24) << 32;
	/* Protected mode: the handler's code segment base from the GDT. */
	uint16_t selector = (uint16_t)(gate[2] | gate[3] << 8);
	uint8_t desc[8];
	if (vcpu_read_mem(r->kt, s->gdt.base + (selector & ~7u), desc, 8) != 8)
		return 0;
	uint64_t base = desc[2] | desc[3] << 8 | desc[4] << 16 | (uint64_t)desc[7] << 24;
	return (base + off) & 0xffffffff;
}

int reverse_window(struct reverse *r, struct target_stop *stop)
{
	struct kvm_target *kt = r->kt;

	if (!r->window_due)
		return 0;
	r->window_due = false;
	/* The snapshot a tick takes without interrupts. */
	r->m->cur->regs_valid = r->m->cur->sregs_valid = false;
	if (position(r) - r->h.snaps[present(r)].pos >= SNAP_MIN_INSNS) {
		int err = take_snapshot(r);
		if (err)
			return err;
	}
	/* Nothing pending: nothing to let in. */
	int vector = pending_vector(r);
	if (vector < 0)
		return 2;
	/* Interrupts off at the tick (a kernel's `sti; hlt; cli` loop spends
	 * most of its time so): step on, interrupts held, a little way to
	 * where they are on. Those steps are ordinary recorded execution;
	 * a breakpoint on the way is left for the run to hit. */
	struct target_resume on = { .kind = TARGET_RESUME_STEP };
	struct target_stop at_bp;
	for (int n = 0; n < WINDOW_MAX_STEPS && !(machine_regs(r->m)->rflags & RFLAGS_IF); n++) {
		if (bp_at_pc(kt, &at_bp))
			return 2;
		int err = run_loop_resume_live(kt, &on, stop);
		if (err)
			return err;
		if (stop->reason != TARGET_STOP_STEP)
			return 1;
	}
	if (!(machine_regs(r->m)->rflags & RFLAGS_IF) || bp_at_pc(kt, &at_bp))
		return 2; /* nothing can come in here, or the run stops here first */
	struct target_resume step = { .kind = TARGET_RESUME_STEP };
	uint64_t before = position(r);
	uint64_t handler = vector >= 0 ? handler_of(r, vector) : 0;
	int slot = -1;
	for (int i = 0; handler && i < 4 && slot < 0; i++)
		if (!kt->hw_used[i])
			slot = i;
	if (slot >= 0) {
		kt->hw_used[slot] = true;
		kt->hw_watch[slot] = 0;
		kt->hw_for_sw[slot] = false;
		kt->hw_addr[slot] = handler;
	}
	bool step_blocks = kt->step_blocks_irq;
	kt->hold_irqs = kt->step_blocks_irq = false;
	kt->window_step = slot >= 0;
	int err = run_loop_resume_live(kt, &step, stop);
	kt->window_step = false;
	kt->hold_irqs = true;
	kt->step_blocks_irq = step_blocks;
	if (slot >= 0)
		kt->hw_used[slot] = false;
	if (err)
		return err;
	if (slot >= 0 && stop->reason == TARGET_STOP_HWBREAK && stop->addr == handler)
		stop->reason = TARGET_STOP_STEP; /* at the handler's entry */
	if (handler && vcpu_linear_pc(r->m) == handler) {
		/* Stopped at the handler's first instruction, the delivery is
		 * done, but KVM may still show the interrupt as being injected:
		 * restored like that, it would be delivered a second time. */
		struct kvm_vcpu_events events;
		if (ioctl(r->m->cur->fd, KVM_GET_VCPU_EVENTS, &events) == 0 &&
		    events.interrupt.injected) {
			events.interrupt.injected = 0;
			events.flags = 0;
			if (ioctl(r->m->cur->fd, KVM_SET_VCPU_EVENTS, &events) < 0)
				return fail(r, "KVM_SET_VCPU_EVENTS");
		}
	}
	/* Whatever came in is an input: the state after it is recorded
	 * whole, and replay restores it instead of running across. */
	if (position(r) != before || vcpu_linear_pc(r->m) == handler) {
		r->barrier_next = true;
		err = take_snapshot(r);
		if (err)
			return err;
		r->windows++;
	}
	return stop->reason == TARGET_STOP_STEP ? 2 : 1;
}

int reverse_io(struct reverse *r, bool after, uint16_t port, bool out, uint8_t *data,
	       uint32_t len, bool *handled)
{
	*handled = false;
	if (r->in_past) {
		*handled = true;
		if (out || after)
			return 0; /* output went out when it was recorded */
		uint64_t p = position(r);
		struct history *h = &r->h;
		if (r->cursor < h->ninputs) {
			const struct history_input *in = &h->inputs[r->cursor];
			if (in->pos == p && in->addr == port && in->len == len) {
				memcpy(data, history_input_data(h, r->cursor), len);
				if (r->config.perturb_replay)
					data[0] ^= 1;
				r->cursor++;
				if (regs_checksum(machine_regs(r->m)) == in->regs_sum)
					return 0;
				snprintf(r->why, sizeof(r->why),
					 "replay diverged: registers differ at the port 0x%x read at instruction %llu",
					 port, (unsigned long long)p);
				r->io_abandoned = true;
				r->diverged = true;
				return -ECANCELED;
			}
		}
		memset(data, 0xff, len);
		r->io_abandoned = true;
		if ((r->scanning && p > r->scan_end) || p > h->snaps[present(r)].pos) {
			r->log_ended = true; /* ran past what the scan needs */
			return -ECANCELED;
		}
		snprintf(r->why, sizeof(r->why),
			 "replay diverged: the guest read port 0x%x at instruction %llu, which the recording did not",
			 port, (unsigned long long)p);
		r->diverged = true;
		return -ECANCELED;
	}
	if (!r->recording || out || !after)
		return 0;
	int err = history_log_input(&r->h, position(r), port, regs_checksum(machine_regs(r->m)),
				    data, len);
	if (err)
		snprintf(r->m->error, sizeof(r->m->error), "recording: cannot log an input (%s)",
			 strerror(-err));
	return err;
}

void reverse_uncount_instruction(struct reverse *r)
{
	if (r->recording && !r->by_steps)
		r->offset++;
}

void reverse_stepped(struct reverse *r, const struct target_stop *stop)
{
	if (!r->recording || !r->by_steps ||
	    (stop->reason != TARGET_STOP_STEP && !is_watch(stop->reason)))
		return;
	r->steps++;
	if (!r->in_past && position(r) - r->h.snaps[present(r)].pos >= SNAP_MIN_INSNS) {
		int err = take_snapshot(r);
		if (err && !r->tick_error)
			r->tick_error = err;
	}
}

void reverse_split_step(struct reverse *r)
{
	/* Counting steps, replay splits the same way: nothing to record. */
	if (!r->by_steps)
		reverse_note_host_change(r, 0, 0);
}

void reverse_note_host_change(struct reverse *r, uint64_t phys, uint64_t len)
{
	struct machine *m = r->m;

	if (!r->recording || r->in_past)
		return;
	r->barrier_next = true;
	if (!len || !m->logged_pages)
		return;
	for (uint64_t page = phys / MACHINE_PAGE_SIZE;
	     page <= (phys + len - 1) / MACHINE_PAGE_SIZE && page < m->npages; page++)
		m->logged_pages[page / 64] |= 1ULL << (page % 64);
}

int reverse_may_write(const struct reverse *r)
{
	return r->in_past ? -EROFS : 0;
}

bool reverse_replaying(const struct reverse *r)
{
	return r->in_past && !r->by_steps;
}

/* ---- turning it on and off ---- */

int reverse_start(struct reverse *r)
{
	struct machine *m = r->m;
	int err;

	if (r->recording)
		return 0;
	if (m->ncpus > 1) {
		/* The history holds one vCPU's state and one instruction count. */
		snprintf(m->error, sizeof(m->error),
			 "reverse execution records one vCPU; this machine has %u (--smp)", m->ncpus);
		return -ENOTSUP;
	}
	if (r->stats_fd < 0) {
		/* Looked up only when recording starts: a session that never
		 * records issues no ioctl for it. */
		err = open_counter(r);
		if (err)
			return err;
		find_msrs(r);
		r->has_xcrs = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
		struct kvm_irqchip probe = { .chip_id = 0 };
		r->has_irqchip = ioctl(m->vm_fd, KVM_GET_IRQCHIP, &probe) == 0;
		struct kvm_pit_state2 pit;
		r->has_pit = ioctl(m->vm_fd, KVM_GET_PIT2, &pit) == 0;
	}
	if (r->has_irqchip && !m->has_blockirq) {
		snprintf(m->error, sizeof(m->error),
			 "this host's KVM cannot hold interrupts back (KVM_GUESTDBG_BLOCKIRQ), "
			 "which recording a machine with interrupts needs");
		return -ENOTSUP;
	}
	r->by_steps = r->insn_off < 0 || r->config.by_steps;
	if (r->by_steps && r->has_irqchip) {
		snprintf(m->error, sizeof(m->error),
			 "this host's KVM has no exact instruction counter (the insn_emulation statistic): "
			 "recording by single steps does not take interrupts yet; use --machine bare");
		return -ENOTSUP;
	}
	err = machine_set_dirty_logging(m, true);
	if (!err)
		err = machine_collect_dirty_pages(m);
	if (err)
		return err;
	memset(m->logged_pages, 0, (size_t)((m->npages + 63) / 64) * sizeof(uint64_t));
	free(r->seen);
	r->seen = calloc((size_t)((m->npages + 63) / 64), sizeof(uint64_t));
	if (!r->seen)
		return -ENOMEM;
	err = history_init(&r->h, m->ram_size, r->config.limit, read_page_unshadowed, r);
	if (err)
		return err;
	r->steps = 0;
	r->offset = counter(r);
	r->recording = true;
	r->in_past = false;
	err = take_snapshot(r);
	if (err) {
		history_destroy(&r->h);
		r->recording = false;
		return err;
	}
	m->tick_hook = on_tick;
	m->tick_ctx = r;
	/* Interrupts come in only at the tick's windows (kvm/run_loop.c). */
	r->kt->hold_irqs = r->has_irqchip;
	err = machine_set_tick_interval(m, RECORD_TICK_NS);
	return err == -ENOTSUP ? 0 : err;
}

static int reverse_stop(struct reverse *r)
{
	int err = 0;

	if (!r->recording)
		return 0;
	if (r->in_past)
		err = leave_past(r);
	if (err)
		return err;
	r->recording = false;
	r->m->tick_hook = NULL;
	r->kt->hold_irqs = false;
	history_destroy(&r->h);
	err = machine_set_tick_interval(r->m, MACHINE_FLUSH_INTERVAL_NS);
	if (err == -ENOTSUP)
		err = 0;
	if (!err)
		err = machine_set_dirty_logging(r->m, false);
	return err;
}

int reverse_command_off(struct reverse *r)
{
	return reverse_stop(r);
}

bool reverse_is_recording(const struct reverse *r)
{
	return r->recording;
}

static void status(struct reverse *r, char *out, size_t outlen)
{
	if (!r->recording) {
		snprintf(out, outlen, "recording: off\n");
		return;
	}
	const struct history *h = &r->h;
	uint64_t first = h->snaps[0].pos;
	uint64_t last = r->in_past ? h->snaps[present(r)].pos : position(r);
	int n = snprintf(out, outlen,
			 "recording: on (%s)\n"
			 "instructions recorded: %llu (positions %llu to %llu)\n"
			 "snapshots: %zu, inputs logged: %zu, interrupt windows: %llu\n"
			 "history memory: %llu bytes (limit %llu; the base copy of RAM, %llu bytes, not counted)\n",
			 r->by_steps ? "every instruction single-stepped" : "KVM's instruction counter",
			 (unsigned long long)(last - first), (unsigned long long)first,
			 (unsigned long long)last, h->nsnaps, h->ninputs,
			 (unsigned long long)r->windows,
			 (unsigned long long)h->bytes, (unsigned long long)h->limit,
			 (unsigned long long)r->m->ram_size);
	if (n > 0 && (size_t)n < outlen && r->in_past)
		snprintf(out + n, outlen - (size_t)n, "replaying: at instruction %llu\n",
			 (unsigned long long)position(r));
}

int reverse_command(void *target, enum target_record_request request, char *out,
		    size_t outlen)
{
	struct kvm_target *kt = kvm_target_of(target);
	struct reverse *r = kt->rev;
	int err = 0;

	if (!r) {
		snprintf(out, outlen, "recording is not available\n");
		return -ENOTSUP;
	}
	switch (request) {
	case TARGET_RECORD_ON:
		err = reverse_start(r);
		if (err)
			snprintf(out, outlen, "record on: %s\n", r->m->error);
		else
			status(r, out, outlen);
		break;
	case TARGET_RECORD_OFF:
		err = reverse_stop(r);
		if (err)
			snprintf(out, outlen, "record off: %s\n", r->m->error);
		else
			snprintf(out, outlen, "recording: off (history dropped)\n");
		break;
	case TARGET_RECORD_STATUS:
		status(r, out, outlen);
		break;
	default:
		snprintf(out, outlen, "record: request %d is not on, off or status\n", (int)request);
		err = -EINVAL;
		break;
	}
	return err;
}

int reverse_attach(struct kvm_target *kt, const struct reverse_config *config)
{
	struct reverse *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->kt = kt;
	r->m = kt->m;
	r->config = *config;
	r->stats_fd = -1;
	r->insn_off = -1;
	kt->rev = r;
	return 0;
}

void reverse_detach(struct kvm_target *kt)
{
	struct reverse *r = kt->rev;

	if (!r)
		return;
	if (r->recording)
		history_destroy(&r->h);
	if (r->stats_fd >= 0)
		close(r->stats_fd);
	free(r->pages);
	free(r->seen);
	free(r);
	kt->rev = NULL;
}
