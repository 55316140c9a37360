/* kvm/points.c — breakpoints and watchpoints on a KVM vCPU: software
 * breakpoint bytes and their shadow, debug-register breakpoints and
 * watches, and the pages they trap. Nothing here enters the guest.
 *
 * - software breakpoints are one byte (`hlt`, or `int3` where the host
 *   traps it), shadowed so memory reads show the original;
 * - pages holding breakpoints or write watchpoints sit in read-only slots,
 *   so a guest write there exits (KVM_EXIT_MMIO, rip past the write): the
 *   run loop applies it around the breakpoint bytes and checks watches;
 * - pages with read or access watchpoints are left out of the slots, so
 *   every access exits (rip at the instruction). */
#include "kvm/vcpu_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define DR7_GLOBAL_ENABLE(i) (2ULL << ((i) * 2))

static struct sw_breakpoint *sw_at_phys(struct kvm_target *kt, uint64_t phys)
{
	for (size_t i = 0; i < kt->nsw; i++)
		if (kt->sw[i].phys == phys)
			return &kt->sw[i];
	return NULL;
}

struct sw_breakpoint *points_sw_at(struct kvm_target *kt, struct vcpu *c, uint64_t linear)
{
	uint64_t phys, span;

	if (!kt->nsw || cpu_translate(c, linear, &phys, &span))
		return NULL;
	return sw_at_phys(kt, phys);
}

struct sw_breakpoint *points_sw_at_linear(struct kvm_target *kt, uint64_t linear)
{
	return points_sw_at(kt, kt->m->cur, linear);
}

/* Guest memory as the guest wrote it: breakpoint bytes show the original. */
void points_unshadow(struct kvm_target *kt, uint64_t phys, uint8_t *buf, uint64_t len)
{
	for (size_t i = 0; i < kt->nsw; i++)
		if (kt->sw[i].phys >= phys && kt->sw[i].phys - phys < len)
			buf[kt->sw[i].phys - phys] = kt->sw[i].original;
}

/* Writes into RAM without disturbing breakpoints: a byte under a
 * breakpoint becomes its new original. */
void points_write_around(struct kvm_target *kt, uint64_t phys,
				     const uint8_t *buf, uint64_t len)
{
	memcpy(kt->m->ram + phys, buf, len);
	machine_note_host_write(kt->m, phys, len);
	for (size_t i = 0; i < kt->nsw; i++) {
		struct sw_breakpoint *bp = &kt->sw[i];
		if (bp->phys >= phys && bp->phys - phys < len) {
			bp->original = buf[bp->phys - phys];
			kt->m->ram[bp->phys] = kt->bp_opcode;
		}
	}
}

/* ---- breakpoints and watchpoints ---- */

static void want_trap(struct kvm_target *kt, uint64_t page, enum page_access access)
{
	for (size_t i = 0; i < kt->ntraps; i++) {
		if (kt->traps[i].page == page) {
			if (access > kt->traps[i].access)
				kt->traps[i].access = (uint8_t)access;
			return;
		}
	}
	if (kt->ntraps < kt->traps_cap)
		kt->traps[kt->ntraps++] = (struct trap_page){ page, (uint8_t)access };
}

/* The pages breakpoints and watchpoints need trapped. Pages no longer
 * needed are handed back first; the machine notices when nothing really
 * changed and leaves its slots alone. */
static void update_page_traps(struct kvm_target *kt)
{
	struct machine *m = kt->m;
	size_t need = kt->nsw + 2 * kt->nwatch;

	for (size_t i = 0; i < kt->ntraps; i++)
		machine_set_page_want(m, kt->traps[i].page, PAGE_RW);
	kt->ntraps = 0;
	if (need > kt->traps_cap) {
		struct trap_page *grown = realloc(kt->traps, need * sizeof(*grown));
		if (grown) {
			kt->traps = grown;
			kt->traps_cap = need;
		}
	}
	for (size_t i = 0; i < kt->nsw; i++)
		want_trap(kt, kt->sw[i].phys / MACHINE_PAGE_SIZE, PAGE_WRITE_TRAP);
	for (size_t i = 0; i < kt->nwatch; i++) {
		const struct watchpoint *w = &kt->watch[i];
		enum page_access a = w->kind == TARGET_POINT_WRITE ? PAGE_WRITE_TRAP
								   : PAGE_ACCESS_TRAP;
		for (unsigned p = 0; p < w->nparts; p++) {
			uint64_t first = w->phys[p] / MACHINE_PAGE_SIZE;
			uint64_t last = (w->phys[p] + w->plen[p] - 1) / MACHINE_PAGE_SIZE;
			for (uint64_t page = first; page <= last; page++)
				want_trap(kt, page, a);
		}
	}
	for (size_t i = 0; i < kt->ntraps; i++)
		machine_set_page_want(m, kt->traps[i].page, kt->traps[i].access);
}

/* Says why an insert is refused; points_error hands it to the stub. */
__attribute__((format(printf, 2, 3)))
static void refuse(struct kvm_target *kt, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(kt->point_error, sizeof(kt->point_error), fmt, ap);
	va_end(ap);
}

const char *points_error(void *t)
{
	return kvm_target_of(t)->point_error;
}

static int grow(void **array, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return 0;
	size_t new_cap = *cap ? *cap * 2 : 16;
	void *p = realloc(*array, new_cap * elem);
	if (!p)
		return -ENOMEM;
	*array = p;
	*cap = new_cap;
	return 0;
}

static int insert_hw_slot(struct kvm_target *kt, uint64_t addr, bool for_sw);

static int insert_sw(struct kvm_target *kt, uint64_t addr)
{
	uint64_t phys, span;

	for (size_t i = 0; i < kt->nsw; i++)
		if (kt->sw[i].addr == addr)
			return 0;
	/* Not mapped yet (a higher-half kernel before it loads its page
	 * tables): a debug register matches the linear address anyway. */
	if (vcpu_translate(kt->m, addr, &phys, &span)) {
		if (insert_hw_slot(kt, addr, true) == 0)
			return 0;
		refuse(kt, "the address is not mapped yet (a debug register could watch it, "
			   "but all four are in use)");
		return -EFAULT;
	}
	/* No byte traps here (real mode on the pc machine of a host whose
	 * int3 goes to the guest's IVT, and whose hlt now waits for
	 * interrupts): the four debug registers are all there is. */
	if (!kt->bp_opcode || (!kt->sw_bp_real_mode && !(machine_sregs(kt->m)->cr0 & 1))) {
		if (insert_hw_slot(kt, addr, true) == 0)
			return 0;
		refuse(kt, "all four debug registers are in use: in real mode on this host "
			   "software breakpoints use debug registers");
		return -ENOSPC;
	}
	if (grow((void **)&kt->sw, &kt->sw_cap, kt->nsw, sizeof(*kt->sw)))
		return -ENOMEM;
	/* Two linear addresses may alias one physical byte. */
	struct sw_breakpoint *alias = sw_at_phys(kt, phys);
	struct sw_breakpoint *bp = &kt->sw[kt->nsw++];
	bp->addr = addr;
	bp->phys = phys;
	bp->original = alias ? alias->original : kt->m->ram[phys];
	kt->m->ram[phys] = kt->bp_opcode;
	update_page_traps(kt);
	return 0;
}

static int remove_sw(struct kvm_target *kt, uint64_t addr)
{
	for (size_t i = 0; i < kt->nsw; i++) {
		if (kt->sw[i].addr != addr)
			continue;
		struct sw_breakpoint gone = kt->sw[i];
		kt->sw[i] = kt->sw[--kt->nsw];
		if (!sw_at_phys(kt, gone.phys))
			kt->m->ram[gone.phys] = gone.original;
		update_page_traps(kt);
		return 0;
	}
	for (int i = 0; i < 4; i++)
		if (kt->hw_used[i] && !kt->hw_watch[i] && kt->hw_for_sw[i] && kt->hw_addr[i] == addr)
			kt->hw_used[i] = false;
	return 0; /* gdb removes what it thinks is there; not an error */
}

static int insert_hw_slot(struct kvm_target *kt, uint64_t addr, bool for_sw)
{
	int free_slot = -1;

	for (int i = 0; i < 4; i++) {
		if (kt->hw_used[i] && !kt->hw_watch[i] && kt->hw_addr[i] == addr &&
		    kt->hw_for_sw[i] == for_sw)
			return 0;
		if (!kt->hw_used[i] && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return -ENOSPC;
	kt->hw_used[free_slot] = true;
	kt->hw_watch[free_slot] = 0;
	kt->hw_for_sw[free_slot] = for_sw;
	kt->hw_addr[free_slot] = addr;
	return 0;
}

static int insert_hw(struct kvm_target *kt, uint64_t addr)
{
	int err = insert_hw_slot(kt, addr, false);
	if (err)
		refuse(kt, "all four debug registers are in use (hardware breakpoints, "
			   "and software ones where this mode needs them)");
	return err;
}

static int remove_hw(struct kvm_target *kt, uint64_t addr)
{
	for (int i = 0; i < 4; i++)
		if (kt->hw_used[i] && !kt->hw_watch[i] && !kt->hw_for_sw[i] && kt->hw_addr[i] == addr)
			kt->hw_used[i] = false;
	return 0;
}

/* A write or access watchpoint in a debug register, on hosts where the
 * start-up probe saw data breakpoints fire: length 1, 2, 4 or 8, aligned
 * (SDM: DR7 LEN encodings 00, 01, 11, 10). Returns -ENOSPC when it cannot. */
static int insert_watch_dr(struct kvm_target *kt, enum target_point kind, uint64_t addr,
			   uint64_t len)
{
	if (!kt->dr_watch_fires || kind == TARGET_POINT_READ ||
	    (len != 1 && len != 2 && len != 4 && len != 8) || addr % len)
		return -ENOSPC;
	for (int i = 0; i < 4; i++) {
		if (kt->hw_used[i])
			continue;
		kt->hw_used[i] = true;
		kt->hw_for_sw[i] = false;
		kt->hw_watch[i] = (uint8_t)kind;
		kt->hw_len[i] = (uint8_t)len;
		kt->hw_addr[i] = addr;
		return 0;
	}
	return -ENOSPC;
}

static bool remove_watch_dr(struct kvm_target *kt, enum target_point kind, uint64_t addr,
			    uint64_t len)
{
	for (int i = 0; i < 4; i++) {
		if (kt->hw_used[i] && kt->hw_watch[i] == kind && kt->hw_addr[i] == addr &&
		    kt->hw_len[i] == len) {
			kt->hw_used[i] = false;
			kt->hw_watch[i] = 0;
			return true;
		}
	}
	return false;
}

static int insert_watch(struct kvm_target *kt, enum target_point kind, uint64_t addr,
			uint64_t len)
{
	struct watchpoint w = { .kind = kind, .addr = addr, .len = len };

	if (insert_watch_dr(kt, kind, addr, len) == 0)
		return 0;

	if (len == 0 || len > KVM_TARGET_MAX_WATCH_LEN || addr + (len - 1) < addr) {
		refuse(kt, "a watchpoint covers 1 to %u bytes", KVM_TARGET_MAX_WATCH_LEN);
		return -EINVAL;
	}
	for (size_t i = 0; i < kt->nwatch; i++)
		if (kt->watch[i].kind == kind && kt->watch[i].addr == addr &&
		    kt->watch[i].len == len)
			return 0;
	for (uint64_t done = 0; done < len;) {
		uint64_t phys, span;
		if (w.nparts == 2) {
			refuse(kt, "the watched bytes span more than two pages");
			return -EFAULT;
		}
		if (vcpu_translate(kt->m, addr + done, &phys, &span)) {
			refuse(kt, "0x%llx is not mapped to guest RAM, and watchpoints on this host "
				   "trap the page it maps to", (unsigned long long)(addr + done));
			return -EFAULT;
		}
		uint64_t chunk = len - done < span ? len - done : span;
		w.phys[w.nparts] = phys;
		w.plen[w.nparts++] = chunk;
		done += chunk;
	}
	if (grow((void **)&kt->watch, &kt->watch_cap, kt->nwatch, sizeof(*kt->watch)))
		return -ENOMEM;
	kt->watch[kt->nwatch++] = w;
	update_page_traps(kt);
	return 0;
}

static int remove_watch(struct kvm_target *kt, enum target_point kind, uint64_t addr,
			uint64_t len)
{
	if (remove_watch_dr(kt, kind, addr, len))
		return 0;
	for (size_t i = 0; i < kt->nwatch; i++) {
		if (kt->watch[i].kind == kind && kt->watch[i].addr == addr &&
		    kt->watch[i].len == len) {
			kt->watch[i] = kt->watch[--kt->nwatch];
			update_page_traps(kt);
			break;
		}
	}
	return 0;
}

int points_insert(void *t, enum target_point kind, uint64_t addr, uint64_t len)
{
	struct kvm_target *kt = kvm_target_of(t);

	kt->point_error[0] = 0;
	switch (kind) {
	case TARGET_POINT_SW:
		return insert_sw(kt, addr);
	case TARGET_POINT_HW:
		return insert_hw(kt, addr);
	case TARGET_POINT_WRITE:
	case TARGET_POINT_READ:
	case TARGET_POINT_ACCESS:
		return insert_watch(kt, kind, addr, len);
	}
	return -EINVAL;
}

int points_remove(void *t, enum target_point kind, uint64_t addr, uint64_t len)
{
	struct kvm_target *kt = kvm_target_of(t);

	switch (kind) {
	case TARGET_POINT_SW:
		return remove_sw(kt, addr);
	case TARGET_POINT_HW:
		return remove_hw(kt, addr);
	case TARGET_POINT_WRITE:
	case TARGET_POINT_READ:
	case TARGET_POINT_ACCESS:
		return remove_watch(kt, kind, addr, len);
	}
	return -EINVAL;
}

void points_remove_all(void *t)
{
	struct kvm_target *kt = kvm_target_of(t);

	while (kt->nsw)
		remove_sw(kt, kt->sw[0].addr);
	kt->nwatch = 0;
	memset(kt->hw_used, 0, sizeof(kt->hw_used));
	update_page_traps(kt);
}

/* Which watchpoint a physical access [phys, phys+len) touches. */
void points_check_watches(struct kvm_target *kt, struct vcpu *c, uint64_t phys, uint64_t len,
			  bool is_write)
{
	if (c->watch_hit)
		return;
	for (size_t i = 0; i < kt->nwatch; i++) {
		const struct watchpoint *w = &kt->watch[i];
		if (w->kind == TARGET_POINT_WRITE && !is_write)
			continue;
		if (w->kind == TARGET_POINT_READ && is_write)
			continue;
		for (unsigned p = 0; p < w->nparts; p++) {
			if (phys < w->phys[p] + w->plen[p] && w->phys[p] < phys + len) {
				c->watch_hit = true;
				c->watch_addr = w->addr;
				c->watch_reason = w->kind == TARGET_POINT_WRITE ? TARGET_STOP_WATCH
						 : w->kind == TARGET_POINT_READ  ? TARGET_STOP_RWATCH
										 : TARGET_STOP_AWATCH;
				return;
			}
		}
	}
}

/* The copy holds each watch's parts one after the other, in order. */
int points_snapshot(struct kvm_target *kt)
{
	size_t need = 0, at = 0;

	for (size_t i = 0; i < kt->nwatch; i++)
		for (unsigned p = 0; p < kt->watch[i].nparts; p++)
			need += kt->watch[i].plen[p];
	if (need > kt->snapshot_cap) {
		uint8_t *grown = realloc(kt->snapshot, need);
		if (!grown)
			return -ENOMEM;
		kt->snapshot = grown;
		kt->snapshot_cap = need;
	}
	for (size_t i = 0; i < kt->nwatch; i++) {
		const struct watchpoint *w = &kt->watch[i];
		for (unsigned p = 0; p < w->nparts; p++) {
			memcpy(kt->snapshot + at, kt->m->ram + w->phys[p], w->plen[p]);
			at += w->plen[p];
		}
	}
	return 0;
}

/* Only a change is visible here, so a lifted instruction that stores the
 * value a watched byte already holds is not reported; a read watch cannot
 * see the lifted instruction at all. The CPU's own writes beside watched
 * bytes (an accessed bit in the same page) change nothing watched. */
void points_reconcile(struct kvm_target *kt, struct vcpu *c)
{
	uint8_t *ram = kt->m->ram;
	size_t at = 0;

	for (size_t i = 0; i < kt->nsw; i++) {
		struct sw_breakpoint *bp = &kt->sw[i];
		if (ram[bp->phys] != kt->bp_opcode) {
			/* Every alias of this byte takes the new original. */
			uint8_t wrote = ram[bp->phys];
			for (size_t j = 0; j < kt->nsw; j++)
				if (kt->sw[j].phys == bp->phys)
					kt->sw[j].original = wrote;
			ram[bp->phys] = kt->bp_opcode;
		}
	}
	for (size_t i = 0; i < kt->nwatch; i++) {
		const struct watchpoint *w = &kt->watch[i];
		bool changed = false;
		for (unsigned p = 0; p < w->nparts; p++) {
			changed |= memcmp(kt->snapshot + at, ram + w->phys[p], w->plen[p]) != 0;
			at += w->plen[p];
		}
		if (changed && w->kind != TARGET_POINT_READ && !c->watch_hit) {
			c->watch_hit = true;
			c->watch_addr = w->addr;
			c->watch_reason = w->kind == TARGET_POINT_WRITE ? TARGET_STOP_WATCH
									  : TARGET_STOP_AWATCH;
		}
	}
}

int points_apply_debug(struct kvm_target *kt, struct vcpu *c, bool stepping)
{
	uint64_t dr7 = 0;
	uint32_t control = KVM_GUESTDBG_ENABLE;

	if (kt->use_sw_bp)
		control |= KVM_GUESTDBG_USE_SW_BP;
	if (stepping)
		control |= KVM_GUESTDBG_SINGLESTEP;
	if (kt->m->has_blockirq && ((stepping && kt->step_blocks_irq) || kt->hold_irqs))
		control |= KVM_GUESTDBG_BLOCKIRQ;
	/* Execution breakpoints stay off for a step (it starts on one);
	 * data watchpoints stay on, so a stepped write is still seen. */
	for (int i = 0; i < 4; i++) {
		if (!kt->hw_used[i] || (stepping && !kt->hw_watch[i] && !kt->window_step))
			continue;
		dr7 |= DR7_GLOBAL_ENABLE(i);
		if (kt->hw_watch[i]) {
			static const uint8_t len_bits[9] = { [1] = 0, [2] = 1, [4] = 3, [8] = 2 };
			uint64_t rw = kt->hw_watch[i] == TARGET_POINT_WRITE ? 1 : 3;
			dr7 |= (rw | (uint64_t)len_bits[kt->hw_len[i]] << 2) << (16 + 4 * i);
		}
	}
	if (dr7)
		control |= KVM_GUESTDBG_USE_HW_BP;
	return cpu_set_debug(c, control, kt->hw_addr, dr7);
}


/* The debug-register breakpoint at pc: 0 none, 1 hardware, 2 a software
 * breakpoint that had to use a debug register. */
int points_hw_at(const struct kvm_target *kt, uint64_t pc)
{
	for (int i = 0; i < 4; i++)
		if (kt->hw_used[i] && !kt->hw_watch[i] && kt->hw_addr[i] == pc)
			return kt->hw_for_sw[i] ? 2 : 1;
	return 0;
}

bool points_break_at(struct kvm_target *kt, struct vcpu *c, uint64_t pc,
		     enum target_stop_reason *reason)
{
	int hw = points_hw_at(kt, pc);

	if (points_sw_at(kt, c, pc) || hw == 2)
		*reason = TARGET_STOP_SWBREAK;
	else if (hw)
		*reason = TARGET_STOP_HWBREAK;
	else
		return false;
	return true;
}
