/* kvm/target.c — the KVM vCPU as a debugger target: registers, memory by
 * linear address, breakpoints, watchpoints, stepping and the run loop.
 *
 * Mechanisms, chosen to behave the same on this software KVM and on
 * VMX/SVM (DESIGN.md, "Facts about the KVM on our machines"):
 * - software breakpoints are `hlt` (0xf4): KVM_EXIT_HLT with rip one past
 *   it, in every mode, with no in-kernel irqchip;
 * - pages holding breakpoints or write watchpoints sit in read-only slots,
 *   so a guest write there exits (KVM_EXIT_MMIO, rip past the write): the
 *   stub applies it, keeps breakpoint bytes in place, checks watches;
 * - pages with read or access watchpoints are left out of the slots, so
 *   every access exits (rip at the instruction) and is completed with an
 *   immediate_exit run;
 * - a single step that exits for I/O or MMIO is completed with an
 *   immediate_exit run, so it stops after exactly one instruction whether
 *   the host delivers the step trap after the exit (VMX) or loses it. */
#include "kvm/target.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/mmu.h"
#include "kvm/sysops.h"

#define HLT_OPCODE 0xf4
#define INT3_OPCODE 0xcc
#define DR7_GLOBAL_ENABLE(i) (2ULL << ((i) * 2))
#define RFLAGS_ZF (1ULL << 6)
/* How many exits completing one instruction may take (string I/O and
 * MMIO split across pages) before we call the host broken. */
#define COMPLETE_MAX_EXITS 64

static struct kvm_target *impl(void *t)
{
	return t;
}

/* ---- addresses ---- */

static uint64_t linear_pc(struct machine *m)
{
	return machine_sregs(m)->cs.base + machine_regs(m)->rip;
}

static int translate(struct machine *m, uint64_t linear, uint64_t *phys, uint64_t *span)
{
	struct kvm_sregs *s = machine_sregs(m);
	struct mmu_state state = { .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4,
				   .efer = s->efer };
	struct mmu_mapping map;

	if (mmu_translate(&state, m->ram, m->ram_size, linear, &map) < 0)
		return -EFAULT;
	if (map.phys >= m->ram_size)
		return -EFAULT;
	*phys = map.phys;
	*span = map.span;
	if (*span > m->ram_size - map.phys)
		*span = m->ram_size - map.phys;
	return 0;
}

static struct sw_breakpoint *sw_at_phys(struct kvm_target *kt, uint64_t phys)
{
	for (size_t i = 0; i < kt->nsw; i++)
		if (kt->sw[i].phys == phys)
			return &kt->sw[i];
	return NULL;
}

static struct sw_breakpoint *sw_at_linear(struct kvm_target *kt, uint64_t linear)
{
	uint64_t phys, span;

	if (!kt->nsw || translate(kt->m, linear, &phys, &span))
		return NULL;
	return sw_at_phys(kt, phys);
}

/* Guest memory as the guest wrote it: breakpoint bytes show the original. */
static void unshadow(struct kvm_target *kt, uint64_t phys, uint8_t *buf, uint64_t len)
{
	for (size_t i = 0; i < kt->nsw; i++)
		if (kt->sw[i].phys >= phys && kt->sw[i].phys - phys < len)
			buf[kt->sw[i].phys - phys] = kt->sw[i].original;
}

/* Writes into RAM without disturbing breakpoints: a byte under a
 * breakpoint becomes its new original. */
static void write_around_breakpoints(struct kvm_target *kt, uint64_t phys,
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

/* ---- registers ---- */

static enum target_arch kt_arch(void *t)
{
	switch (impl(t)->m->mode) {
	case MACHINE_MODE_REAL:
		return TARGET_ARCH_I8086;
	case MACHINE_MODE_PROTECTED:
		return TARGET_ARCH_I386;
	default:
		return TARGET_ARCH_X86_64;
	}
}

static void segment_out(struct target_segment *out, const struct kvm_segment *s)
{
	out->selector = s->selector;
	out->base = s->base;
}

static int kt_get_regs(void *t, struct target_regs *r)
{
	struct machine *m = impl(t)->m;
	const struct kvm_regs *k = machine_regs(m);
	const struct kvm_sregs *s = machine_sregs(m);

	r->rax = k->rax; r->rbx = k->rbx; r->rcx = k->rcx; r->rdx = k->rdx;
	r->rsi = k->rsi; r->rdi = k->rdi; r->rbp = k->rbp; r->rsp = k->rsp;
	r->r8 = k->r8; r->r9 = k->r9; r->r10 = k->r10; r->r11 = k->r11;
	r->r12 = k->r12; r->r13 = k->r13; r->r14 = k->r14; r->r15 = k->r15;
	r->rip = k->rip;
	r->rflags = k->rflags;
	segment_out(&r->cs, &s->cs);
	segment_out(&r->ss, &s->ss);
	segment_out(&r->ds, &s->ds);
	segment_out(&r->es, &s->es);
	segment_out(&r->fs, &s->fs);
	segment_out(&r->gs, &s->gs);
	r->cr0 = s->cr0; r->cr2 = s->cr2; r->cr3 = s->cr3; r->cr4 = s->cr4;
	r->cr8 = s->cr8; r->efer = s->efer;
	return 0;
}

/* A selector written from gdb: in real mode the base follows it; in
 * other modes only the selector changes (reloading a descriptor is the
 * guest's business). An explicit base write (fs_base, gs_base) wins. */
static bool segment_in(struct kvm_segment *s, const struct target_segment *in,
		       bool real_mode)
{
	bool changed = false;

	if (s->selector != in->selector) {
		s->selector = in->selector;
		if (real_mode && in->base == s->base)
			s->base = (uint64_t)in->selector << 4;
		changed = true;
	}
	if (in->base != s->base) {
		s->base = in->base;
		changed = true;
	}
	return changed;
}

static int kt_set_regs(void *t, const struct target_regs *r)
{
	struct machine *m = impl(t)->m;
	struct kvm_regs *k = machine_regs(m);
	struct kvm_sregs *s = machine_sregs(m);
	bool real = m->mode == MACHINE_MODE_REAL;
	bool sregs_changed = false;

	k->rax = r->rax; k->rbx = r->rbx; k->rcx = r->rcx; k->rdx = r->rdx;
	k->rsi = r->rsi; k->rdi = r->rdi; k->rbp = r->rbp; k->rsp = r->rsp;
	k->r8 = r->r8; k->r9 = r->r9; k->r10 = r->r10; k->r11 = r->r11;
	k->r12 = r->r12; k->r13 = r->r13; k->r14 = r->r14; k->r15 = r->r15;
	k->rip = r->rip;
	/* Bit 1 of rflags always reads as one. */
	k->rflags = r->rflags | 0x2;
	machine_regs_changed(m);

	sregs_changed |= segment_in(&s->cs, &r->cs, real);
	sregs_changed |= segment_in(&s->ss, &r->ss, real);
	sregs_changed |= segment_in(&s->ds, &r->ds, real);
	sregs_changed |= segment_in(&s->es, &r->es, real);
	sregs_changed |= segment_in(&s->fs, &r->fs, real);
	sregs_changed |= segment_in(&s->gs, &r->gs, real);
	if (s->cr0 != r->cr0 || s->cr2 != r->cr2 || s->cr3 != r->cr3 ||
	    s->cr4 != r->cr4 || s->cr8 != r->cr8 || s->efer != r->efer) {
		s->cr0 = r->cr0; s->cr2 = r->cr2; s->cr3 = r->cr3;
		s->cr4 = r->cr4; s->cr8 = r->cr8; s->efer = r->efer;
		sregs_changed = true;
	}
	if (sregs_changed)
		machine_sregs_changed(m);
	return 0;
}

static int kt_get_fpu(void *t, struct target_fpu *f)
{
	struct machine *m = impl(t)->m;
	struct kvm_fpu k;

	if (ioctl(m->vcpu_fd, KVM_GET_FPU, &k) < 0)
		return -errno;
	for (int i = 0; i < 8; i++)
		memcpy(f->st[i], k.fpr[i], 10);
	f->fctrl = k.fcw;
	f->fstat = k.fsw;
	/* KVM keeps the abridged (FXSAVE) tag: one bit per register, set
	 * when it holds a value. gdb shows the full tag: 3 = empty. */
	f->ftag = 0;
	for (int i = 0; i < 8; i++)
		if (!(k.ftwx & (1u << i)))
			f->ftag |= 3u << (2 * i);
	f->fiseg = 0;
	f->fioff = (uint32_t)k.last_ip;
	f->foseg = 0;
	f->fooff = (uint32_t)k.last_dp;
	f->fop = k.last_opcode;
	memcpy(f->xmm, k.xmm, sizeof(f->xmm));
	f->mxcsr = k.mxcsr;
	return 0;
}

static int kt_set_fpu(void *t, const struct target_fpu *f)
{
	struct machine *m = impl(t)->m;
	struct kvm_fpu k;

	if (ioctl(m->vcpu_fd, KVM_GET_FPU, &k) < 0)
		return -errno;
	for (int i = 0; i < 8; i++)
		memcpy(k.fpr[i], f->st[i], 10);
	k.fcw = (uint16_t)f->fctrl;
	k.fsw = (uint16_t)f->fstat;
	k.ftwx = 0;
	for (int i = 0; i < 8; i++)
		if (((f->ftag >> (2 * i)) & 3) != 3)
			k.ftwx |= (uint8_t)(1u << i);
	k.last_ip = f->fioff;
	k.last_dp = f->fooff;
	k.last_opcode = (uint16_t)f->fop;
	memcpy(k.xmm, f->xmm, sizeof(k.xmm));
	k.mxcsr = f->mxcsr;
	if (ioctl(m->vcpu_fd, KVM_SET_FPU, &k) < 0)
		return -errno;
	return 0;
}

/* ---- memory ---- */

static long kt_read_mem(void *t, uint64_t addr, void *buf, size_t len)
{
	struct kvm_target *kt = impl(t);
	uint8_t *out = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t phys, span;
		if (translate(kt->m, addr + done, &phys, &span))
			break;
		uint64_t chunk = len - done < span ? len - done : span;
		memcpy(out + done, kt->m->ram + phys, chunk);
		unshadow(kt, phys, out + done, chunk);
		done += chunk;
		if (addr + done < addr) /* wrapped past 2^64 */
			break;
	}
	if (done == 0 && len)
		return -EFAULT;
	return (long)done;
}

static int kt_write_mem(void *t, uint64_t addr, const void *buf, size_t len)
{
	struct kvm_target *kt = impl(t);
	const uint8_t *in = buf;
	size_t done = 0;

	if (len && addr + (len - 1) < addr)
		return -EFAULT;
	/* All or nothing: check every page before writing any. */
	while (done < len) {
		uint64_t phys, span;
		if (translate(kt->m, addr + done, &phys, &span))
			return -EFAULT;
		done += len - done < span ? len - done : span;
	}
	for (done = 0; done < len;) {
		uint64_t phys, span;
		translate(kt->m, addr + done, &phys, &span);
		uint64_t chunk = len - done < span ? len - done : span;
		write_around_breakpoints(kt, phys, in + done, chunk);
		done += chunk;
	}
	return 0;
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
	if (translate(kt->m, addr, &phys, &span))
		return insert_hw_slot(kt, addr, true) == 0 ? 0 : -EFAULT;
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
	return insert_hw_slot(kt, addr, false);
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

	if (len == 0 || len > KVM_TARGET_MAX_WATCH_LEN || addr + (len - 1) < addr)
		return -EINVAL;
	for (size_t i = 0; i < kt->nwatch; i++)
		if (kt->watch[i].kind == kind && kt->watch[i].addr == addr &&
		    kt->watch[i].len == len)
			return 0;
	for (uint64_t done = 0; done < len;) {
		uint64_t phys, span;
		if (w.nparts == 2 || translate(kt->m, addr + done, &phys, &span))
			return -EFAULT;
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

static int kt_insert_point(void *t, enum target_point kind, uint64_t addr, uint64_t len)
{
	struct kvm_target *kt = impl(t);

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

static int kt_remove_point(void *t, enum target_point kind, uint64_t addr, uint64_t len)
{
	struct kvm_target *kt = impl(t);

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

static void kt_remove_all_points(void *t)
{
	struct kvm_target *kt = impl(t);

	while (kt->nsw)
		remove_sw(kt, kt->sw[0].addr);
	kt->nwatch = 0;
	memset(kt->hw_used, 0, sizeof(kt->hw_used));
	update_page_traps(kt);
}

/* ---- the run loop ---- */

static void stop_crash(struct target_stop *stop, struct machine *m, enum target_crash crash,
		       const char *what)
{
	stop->reason = TARGET_STOP_CRASH;
	stop->crash = crash;
	snprintf(stop->why, sizeof(stop->why), "%s at rip 0x%llx, cs 0x%x", what,
		 (unsigned long long)machine_regs(m)->rip, machine_sregs(m)->cs.selector);
}

/* Which watchpoint a physical access [phys, phys+len) touches. */
static void check_watches(struct kvm_target *kt, uint64_t phys, uint64_t len, bool is_write)
{
	if (kt->watch_hit)
		return;
	for (size_t i = 0; i < kt->nwatch; i++) {
		const struct watchpoint *w = &kt->watch[i];
		if (w->kind == TARGET_POINT_WRITE && !is_write)
			continue;
		if (w->kind == TARGET_POINT_READ && is_write)
			continue;
		for (unsigned p = 0; p < w->nparts; p++) {
			if (phys < w->phys[p] + w->plen[p] && w->phys[p] < phys + len) {
				kt->watch_hit = true;
				kt->watch_addr = w->addr;
				kt->watch_reason = w->kind == TARGET_POINT_WRITE ? TARGET_STOP_WATCH
						 : w->kind == TARGET_POINT_READ  ? TARGET_STOP_RWATCH
										 : TARGET_STOP_AWATCH;
				return;
			}
		}
	}
}

static int handle_io(struct kvm_target *kt)
{
	struct kvm_run *run = kt->m->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;

	/* The data area lies inside the kvm_run mapping; never trust more. */
	if (run->io.data_offset > kt->m->run_size ||
	    bytes > kt->m->run_size - run->io.data_offset)
		return -EIO;
	return devices_port_io(&kt->m->devices, run->io.port,
			       run->io.direction == KVM_EXIT_IO_OUT, run->io.size,
			       run->io.count, data);
}

/* A guest access to a trapped page or to an address with no RAM. */
static void handle_mmio(struct kvm_target *kt)
{
	struct machine *m = kt->m;
	struct kvm_run *run = m->run;
	uint64_t phys = run->mmio.phys_addr;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;

	if (!machine_ram_contains(m, phys, len)) {
		/* Nothing there: reads float high, writes vanish. */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, len);
		return;
	}
	if (run->mmio.is_write) {
		write_around_breakpoints(kt, phys, run->mmio.data, len);
		uint64_t first = phys / MACHINE_PAGE_SIZE;
		uint64_t last = (phys + len - 1) / MACHINE_PAGE_SIZE;
		for (uint64_t page = first; page <= last; page++)
			if (m->page_want[page] == PAGE_RW)
				machine_release_page(m, page);
	} else {
		memcpy(run->mmio.data, m->ram + phys, len);
		unshadow(kt, phys, run->mmio.data, len);
	}
	check_watches(kt, phys, len, run->mmio.is_write);
}

/* Lets KVM finish the instruction whose I/O or MMIO we just served,
 * without starting another: KVM completes pending userspace I/O before
 * it looks at immediate_exit. */
static int complete_instruction(struct kvm_target *kt, struct target_stop *stop)
{
	struct machine *m = kt->m;

	for (int i = 0; i < COMPLETE_MAX_EXITS; i++) {
		int err = machine_enter(m, true);
		if (err == -EINTR)
			return 0;
		if (err)
			return err;
		switch (m->run->exit_reason) {
		case KVM_EXIT_IO:
			err = handle_io(kt);
			if (err)
				return err;
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(kt);
			break;
		case KVM_EXIT_DEBUG: /* a step trap, delivered after the I/O */
		case KVM_EXIT_INTR:
			return 0;
		case KVM_EXIT_SHUTDOWN:
			stop_crash(stop, m, TARGET_CRASH_TRIPLE_FAULT, "triple fault");
			return 1;
		default:
			stop_crash(stop, m, TARGET_CRASH_INTERNAL_ERROR, "instruction did not complete");
			return 1;
		}
	}
	stop_crash(stop, m, TARGET_CRASH_INTERNAL_ERROR, "instruction did not complete");
	return 1;
}

static int apply_debug(struct kvm_target *kt, bool stepping)
{
	uint64_t dr7 = 0;
	uint32_t control = KVM_GUESTDBG_ENABLE;

	if (kt->bp_opcode == INT3_OPCODE)
		control |= KVM_GUESTDBG_USE_SW_BP;
	if (stepping)
		control |= KVM_GUESTDBG_SINGLESTEP;
	/* Execution breakpoints stay off for a step (it starts on one);
	 * data watchpoints stay on, so a stepped write is still seen. */
	for (int i = 0; i < 4; i++) {
		if (!kt->hw_used[i] || (stepping && !kt->hw_watch[i]))
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
	return machine_set_debug(kt->m, control, kt->hw_addr, dr7);
}

static void stop_exited(struct target_stop *stop, int status)
{
	stop->reason = TARGET_STOP_EXITED;
	stop->exit_status = status;
}

/* KVM_EXIT_HLT: one of our breakpoints, or the guest's own end. */
static void handle_hlt(struct kvm_target *kt, struct target_stop *stop)
{
	struct machine *m = kt->m;
	uint64_t at = linear_pc(m) - 1;

	if (sw_at_linear(kt, at)) {
		machine_regs(m)->rip -= 1;
		machine_regs_changed(m);
		stop->reason = TARGET_STOP_SWBREAK;
		stop->addr = at;
		return;
	}
	stop_exited(stop, 0);
}

static void handle_debug(struct kvm_target *kt, struct target_stop *stop, bool stepping)
{
	struct machine *m = kt->m;
	uint64_t dr6 = m->run->debug.arch.dr6;
	uint64_t pc = linear_pc(m);

	if (m->run->debug.arch.exception == 3) {
		/* int3 with KVM_GUESTDBG_USE_SW_BP (hosts where it traps): rip
		 * is still at the int3. Not ours: the guest's own breakpoint,
		 * shown to gdb as a SIGTRAP it did not plant. */
		uint64_t at = m->run->debug.arch.pc;
		stop->addr = at;
		if (sw_at_linear(kt, at)) {
			stop->reason = TARGET_STOP_SWBREAK;
			return;
		}
		stop->reason = TARGET_STOP_CRASH;
		stop->crash = TARGET_CRASH_GUEST_BREAKPOINT;
		snprintf(stop->why, sizeof(stop->why), "the guest's own int3 at 0x%llx",
			 (unsigned long long)at);
		return;
	}
	for (int i = 0; i < 4; i++) {
		if (kt->hw_used[i] && kt->hw_watch[i] && (dr6 & (1ULL << i))) {
			stop->reason = kt->hw_watch[i] == TARGET_POINT_WRITE ? TARGET_STOP_WATCH
									    : TARGET_STOP_AWATCH;
			stop->addr = kt->hw_addr[i];
			return;
		}
	}
	if (!stepping) {
		for (int i = 0; i < 4; i++) {
			if (kt->hw_used[i] && !kt->hw_watch[i] &&
			    ((dr6 & (1ULL << i)) || kt->hw_addr[i] == pc)) {
				stop->reason = kt->hw_for_sw[i] ? TARGET_STOP_SWBREAK
								: TARGET_STOP_HWBREAK;
				stop->addr = kt->hw_addr[i];
				return;
			}
		}
	}
	stop->reason = stepping ? TARGET_STOP_STEP : TARGET_STOP_HWBREAK;
	stop->addr = pc;
}

/* Runs the vCPU until something the debugger must hear about. Port I/O
 * and MMIO are served here, so serial output flows while gdb waits. */
static int run_guest(struct kvm_target *kt, bool stepping, struct target_stop *stop)
{
	struct machine *m = kt->m;
	struct devices *dev = &m->devices;
	int err = apply_debug(kt, stepping);

	if (err)
		return err;
	kt->watch_hit = false;
	for (;;) {
		if (dev->out_len) {
			err = devices_flush(dev);
			if (err)
				return err;
		}
		err = machine_enter(m, false);
		if (err == -EINTR) {
			stop->reason = TARGET_STOP_INTERRUPTED;
			return 0;
		}
		if (err)
			return err;

		switch (m->run->exit_reason) {
		case KVM_EXIT_IO:
			err = handle_io(kt);
			if (err)
				return err;
			if (dev->exit_requested) {
				stop_exited(stop, dev->exit_status);
				return devices_flush(dev);
			}
			if (stepping) {
				err = complete_instruction(kt, stop);
				if (err < 0)
					return err;
				if (err == 0)
					stop->reason = TARGET_STOP_STEP;
				return devices_flush(dev);
			}
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(kt);
			if (kt->watch_hit || stepping) {
				err = complete_instruction(kt, stop);
				if (err < 0)
					return err;
				if (err == 0) {
					stop->reason = kt->watch_hit ? kt->watch_reason
								     : TARGET_STOP_STEP;
					stop->addr = kt->watch_addr;
				}
				return devices_flush(dev);
			}
			break;
		case KVM_EXIT_HLT:
			handle_hlt(kt, stop);
			return devices_flush(dev);
		case KVM_EXIT_DEBUG:
			handle_debug(kt, stop, stepping);
			return devices_flush(dev);
		case KVM_EXIT_INTR:
			stop->reason = TARGET_STOP_INTERRUPTED;
			return 0;
		case KVM_EXIT_SHUTDOWN:
			stop_crash(stop, m, TARGET_CRASH_TRIPLE_FAULT, "triple fault (shutdown)");
			return devices_flush(dev);
		case KVM_EXIT_INTERNAL_ERROR: {
			char what[64];
			snprintf(what, sizeof(what), "KVM internal error, suberror %u",
				 m->run->internal.suberror);
			stop_crash(stop, m, TARGET_CRASH_INTERNAL_ERROR, what);
			return devices_flush(dev);
		}
		case KVM_EXIT_FAIL_ENTRY: {
			char what[64];
			snprintf(what, sizeof(what), "VM entry failed, reason 0x%llx",
				 (unsigned long long)m->run->fail_entry.hardware_entry_failure_reason);
			stop_crash(stop, m, TARGET_CRASH_ENTRY_FAILED, what);
			return devices_flush(dev);
		}
		default: {
			char what[64];
			snprintf(what, sizeof(what), "unexpected KVM exit %u", m->run->exit_reason);
			stop_crash(stop, m, TARGET_CRASH_INTERNAL_ERROR, what);
			return devices_flush(dev);
		}
		}
	}
}

/* Reads the instruction at pc as the guest wrote it (up to 15 bytes). */
static size_t fetch_instruction(struct kvm_target *kt, uint8_t insn[15])
{
	long n = kt_read_mem(kt, linear_pc(kt->m), insn, 15);
	return n > 0 ? (size_t)n : 0;
}

/* A rep-prefixed string instruction: what a step must do to run only one
 * iteration. Returns the counter width in bytes, 0 if not such an
 * instruction; *repne for F2, *compares for cmps/scas. */
static unsigned rep_string_width(struct kvm_target *kt, const uint8_t *insn, size_t n,
				 bool *repne, bool *compares, unsigned *length)
{
	struct machine *m = kt->m;
	const struct kvm_sregs *s = machine_sregs(m);
	bool long_mode = s->cs.l && (s->efer & (1ULL << 10));
	bool addr_override = false, rep = false;
	size_t i = 0;

	*repne = false;
	for (; i < n; i++) {
		uint8_t b = insn[i];
		if (b == 0xf3 || b == 0xf2) {
			rep = true;
			*repne = b == 0xf2;
		} else if (b == 0x67) {
			addr_override = true;
		} else if (b == 0x66 || b == 0xf0 || b == 0x26 || b == 0x2e || b == 0x36 ||
			   b == 0x3e || b == 0x64 || b == 0x65) {
			continue;
		} else if (long_mode && (b & 0xf0) == 0x40) {
			continue;
		} else {
			break;
		}
	}
	if (!rep || i >= n)
		return 0;
	uint8_t op = insn[i];
	bool string_op = (op >= 0x6c && op <= 0x6f) || (op >= 0xa4 && op <= 0xa7) ||
			 (op >= 0xaa && op <= 0xaf);
	if (!string_op)
		return 0;
	*compares = (op >= 0xa6 && op <= 0xa7) || op >= 0xae;
	*length = (unsigned)i + 1;
	if (long_mode)
		return addr_override ? 4 : 8;
	bool big = s->cs.db;
	return (big != addr_override) ? 4 : 2;
}

static uint64_t width_mask(unsigned width)
{
	return width == 8 ? ~0ULL : (1ULL << (width * 8)) - 1;
}

/* Exactly one instruction, with a breakpoint at pc lifted for it. */
static int single_step(struct kvm_target *kt, struct target_stop *stop)
{
	struct machine *m = kt->m;
	uint8_t insn[15];
	size_t n = fetch_instruction(kt, insn);
	bool repne = false, compares = false;
	unsigned length = 0;
	unsigned width = n ? rep_string_width(kt, insn, n, &repne, &compares, &length) : 0;
	struct kvm_regs *regs = machine_regs(m);
	uint64_t start_rip = regs->rip, mask = width_mask(width ? width : 8);
	uint64_t count = width ? regs->rcx & mask : 0;

	if (n && insn[0] == HLT_OPCODE) {
		/* A step over hlt is the guest's end (no irqchip wakes it); the
		 * host would otherwise run on past it. */
		regs->rip += 1;
		machine_regs_changed(m);
		stop_exited(stop, 0);
		return 0;
	}
	if (count > 1) {
		regs->rcx = (regs->rcx & ~mask) | 1;
		machine_regs_changed(m);
	}

	struct sw_breakpoint *bp = sw_at_linear(kt, linear_pc(m));
	if (bp)
		m->ram[bp->phys] = bp->original;
	int err = run_guest(kt, true, stop);
	if (!err && stop->reason == TARGET_STOP_INTERRUPTED) {
		/* A signal ended KVM_RUN. If the instruction ran, the step is
		 * done; if not, the caller hears of the signal (it stays
		 * pending until taken, so running again here would spin). */
		const struct kvm_regs *now = machine_regs(m);
		if (now->rip != start_rip || (count > 1 && (now->rcx & mask) == 0))
			stop->reason = TARGET_STOP_STEP;
	}
	if (bp)
		m->ram[bp->phys] = kt->bp_opcode;
	if (err)
		return err;

	if (width && stop->reason == TARGET_STOP_STEP) {
		/* One iteration ran with a count of one: put the rest of the
		 * count back and leave rip on the instruction while iterations
		 * remain, past it otherwise (some hosts leave it on the
		 * instruction until a re-execution with a zero count). */
		regs = machine_regs(m);
		bool done_one = count == 0 || (regs->rcx & mask) == 0;
		bool ended_early = compares && done_one &&
				   (repne ? (regs->rflags & RFLAGS_ZF) : !(regs->rflags & RFLAGS_ZF));
		uint64_t left = !done_one ? count : count ? count - 1 : 0;
		regs->rcx = (regs->rcx & ~mask) | left;
		if (done_one)
			regs->rip = (left && !ended_early) ? start_rip : start_rip + length;
		machine_regs_changed(m);
	} else if (count > 1) {
		regs = machine_regs(m);
		regs->rcx = (regs->rcx & ~mask) | count; /* the step did not run */
		machine_regs_changed(m);
	}
	return 0;
}

/* The debug-register breakpoint at pc: 0 none, 1 hardware, 2 a software
 * breakpoint that had to use a debug register. */
static int hw_at(const struct kvm_target *kt, uint64_t pc)
{
	for (int i = 0; i < 4; i++)
		if (kt->hw_used[i] && !kt->hw_watch[i] && kt->hw_addr[i] == pc)
			return kt->hw_for_sw[i] ? 2 : 1;
	return 0;
}

static int kt_resume(void *t, const struct target_resume *how, struct target_stop *stop)
{
	struct kvm_target *kt = impl(t);
	struct machine *m = kt->m;
	bool was_interrupted = kt->interrupted;
	int err = 0;

	uint64_t pc_at_start = linear_pc(m);

	memset(stop, 0, sizeof(*stop));
	kt->interrupted = false;
	switch (how->kind) {
	case TARGET_RESUME_STEP:
		err = single_step(kt, stop);
		break;
	case TARGET_RESUME_RANGE:
		for (bool first = true;; first = false) {
			uint64_t pc = linear_pc(m);
			if (!first && (sw_at_linear(kt, pc) || hw_at(kt, pc))) {
				stop->reason = sw_at_linear(kt, pc) || hw_at(kt, pc) == 2
						       ? TARGET_STOP_SWBREAK
						       : TARGET_STOP_HWBREAK;
				stop->addr = pc;
				break;
			}
			err = single_step(kt, stop);
			if (err || stop->reason != TARGET_STOP_STEP)
				break;
			pc = linear_pc(m);
			if (pc < how->range_start || pc >= how->range_end)
				break;
		}
		break;
	case TARGET_RESUME_CONTINUE: {
		uint64_t pc = linear_pc(m);
		if (!was_interrupted && (sw_at_linear(kt, pc) || hw_at(kt, pc))) {
			err = single_step(kt, stop);
			if (err || stop->reason != TARGET_STOP_STEP)
				break;
		}
		err = run_guest(kt, false, stop);
		break;
	}
	}
	/* Interrupted after the guest moved: it may sit on a breakpoint that
	 * has not fired yet, so the next resume must not step off it. Not
	 * moved: whatever was owed (a step off a breakpoint) is still owed. */
	if (!err && stop->reason == TARGET_STOP_INTERRUPTED)
		kt->interrupted = linear_pc(m) != pc_at_start || was_interrupted;
	return err;
}

static const struct target_ops kvm_target_ops = {
	.arch = kt_arch,
	.get_regs = kt_get_regs,
	.set_regs = kt_set_regs,
	.get_fpu = kt_get_fpu,
	.set_fpu = kt_set_fpu,
	.read_mem = kt_read_mem,
	.write_mem = kt_write_mem,
	.insert_point = kt_insert_point,
	.remove_point = kt_remove_point,
	.remove_all_points = kt_remove_all_points,
	.resume = kt_resume,
	.get_system_state = sysops_system_state,
	.read_phys = sysops_read_phys,
	.write_phys = sysops_write_phys,
	.translate = sysops_translate,
	.get_lapic = sysops_lapic,
	.get_irqchip = sysops_irqchip,
	.get_exit_counts = sysops_exit_counts,
	.set_trace_io = sysops_set_trace_io,
	.set_step_irq = NULL, /* comes with the interrupt controller */
	.restart = sysops_restart,
};

void kvm_target_init(struct kvm_target *kt, struct machine *m, const struct host_caps *caps)
{
	memset(kt, 0, sizeof(*kt));
	kt->m = m;
	kt->bp_opcode = caps->int3_traps ? INT3_OPCODE : HLT_OPCODE;
	kt->dr_watch_fires = caps->dr_watch_fires;
}

void kvm_target_destroy(struct kvm_target *kt)
{
	free(kt->sw);
	free(kt->watch);
	free(kt->traps);
	kt->traps = NULL;
	kt->sw = NULL;
	kt->watch = NULL;
}

struct target kvm_target_as_target(struct kvm_target *kt)
{
	return (struct target){ .ops = &kvm_target_ops, .impl = kt };
}
