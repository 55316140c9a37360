/* kvm/vcpu_state.c — the vCPU's state as the debugger sees it: registers,
 * x87/SSE, memory by linear address, and the target_ops table that joins
 * this file, kvm/points.c and kvm/run_loop.c into one stub/target.h target.
 * No run loop and no breakpoint logic here. */
#include "kvm/vcpu_internal.h"
#include "kvm/reverse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/mmu.h"
#include "kvm/smp.h"
#include "kvm/sysops.h"

/* ---- addresses ---- */

uint64_t cpu_linear_pc(struct vcpu *c)
{
	return cpu_sregs(c)->cs.base + cpu_regs(c)->rip;
}

uint64_t vcpu_linear_pc(struct machine *m)
{
	return cpu_linear_pc(m->cur);
}

int vcpu_translate(struct machine *m, uint64_t linear, uint64_t *phys, uint64_t *span)
{
	return cpu_translate(m->cur, linear, phys, span);
}

int cpu_translate(struct vcpu *c, uint64_t linear, uint64_t *phys, uint64_t *span)
{
	struct machine *m = c->m;
	struct kvm_sregs *s = cpu_sregs(c);
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

/* ---- registers ---- */

static enum target_arch kt_arch(void *t)
{
	if (kvm_target_of(t)->arch_fixed)
		return kvm_target_of(t)->arch;
	switch (kvm_target_of(t)->m->mode) {
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
	struct machine *m = kvm_target_of(t)->m;
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

/* gdb changing state: refused in the past (replay must stay the
 * recording), recorded as a host change in the present. */
static int host_change(struct kvm_target *kt, uint64_t phys, uint64_t len)
{
	if (!kt->rev)
		return 0;
	int err = reverse_may_write(kt->rev);
	if (!err)
		reverse_note_host_change(kt->rev, phys, len);
	return err;
}

static int kt_set_regs(void *t, const struct target_regs *r)
{
	struct machine *m = kvm_target_of(t)->m;
	int err = host_change(kvm_target_of(t), 0, 0);
	if (err)
		return err;
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
	struct machine *m = kvm_target_of(t)->m;
	struct kvm_fpu k;

	if (ioctl(m->cur->fd, KVM_GET_FPU, &k) < 0)
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
	struct machine *m = kvm_target_of(t)->m;
	struct kvm_fpu k;
	int err = host_change(kvm_target_of(t), 0, 0);
	if (err)
		return err;

	if (ioctl(m->cur->fd, KVM_GET_FPU, &k) < 0)
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
	if (ioctl(m->cur->fd, KVM_SET_FPU, &k) < 0)
		return -errno;
	return 0;
}

/* ---- memory ---- */

long vcpu_read_mem(void *t, uint64_t addr, void *buf, size_t len)
{
	struct kvm_target *kt = kvm_target_of(t);
	return vcpu_read_mem_as(kt, kt->m->cur, addr, buf, len);
}

long vcpu_read_mem_as(struct kvm_target *kt, struct vcpu *c, uint64_t addr, void *buf,
		      size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t phys, span;
		if (cpu_translate(c, addr + done, &phys, &span))
			break;
		uint64_t chunk = len - done < span ? len - done : span;
		memcpy(out + done, kt->m->ram + phys, chunk);
		points_unshadow(kt, phys, out + done, chunk);
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
	struct kvm_target *kt = kvm_target_of(t);
	const uint8_t *in = buf;
	size_t done = 0;

	if (len && addr + (len - 1) < addr)
		return -EFAULT;
	/* All or nothing: check every page before writing any. */
	while (done < len) {
		uint64_t phys, span;
		if (vcpu_translate(kt->m, addr + done, &phys, &span))
			return -EFAULT;
		done += len - done < span ? len - done : span;
	}
	for (done = 0; done < len;) {
		uint64_t phys, span;
		vcpu_translate(kt->m, addr + done, &phys, &span);
		uint64_t chunk = len - done < span ? len - done : span;
		int err = host_change(kt, phys, chunk);
		if (err)
			return err;
		points_write_around(kt, phys, in + done, chunk);
		done += chunk;
	}
	return 0;
}

static int kt_set_step_irq(void *t, bool on)
{
	struct kvm_target *kt = kvm_target_of(t);

	if (!kt->m->has_irqchip)
		return -ENODEV; /* the bare machine has no interrupts to take */
	kt->step_blocks_irq = !on;
	return 0;
}

/* ---- threads: one per vCPU ---- */

static unsigned kt_thread_count(void *t)
{
	return kvm_target_of(t)->m->ncpus;
}

static int kt_select_thread(void *t, unsigned thread)
{
	struct machine *m = kvm_target_of(t)->m;

	if (thread < 1 || thread > m->ncpus)
		return -ESRCH;
	machine_select_cpu(m, thread - 1);
	return 0;
}

static const char *mode_name(struct vcpu *c)
{
	const struct kvm_sregs *s = cpu_sregs(c);

	if (!(s->cr0 & 1))
		return "real mode";
	if (s->efer & (1ULL << 10))
		return s->cs.l ? "long mode" : "compatibility mode";
	return "protected mode";
}

static int kt_describe_thread(void *t, unsigned thread, char *buf, size_t size)
{
	struct machine *m = kvm_target_of(t)->m;

	if (thread < 1 || thread > m->ncpus)
		return -ESRCH;
	struct vcpu *c = &m->cpus[thread - 1];
	int state = m->has_irqchip ? cpu_mp_state(c) : KVM_MP_STATE_RUNNABLE;
	const char *what = state == KVM_MP_STATE_HALTED ? "halted"
			   : state == KVM_MP_STATE_UNINITIALIZED || state == KVM_MP_STATE_INIT_RECEIVED
				   ? "waiting for SIPI"
				   : "running";
	if (state < 0)
		what = "state unknown";
	int n = snprintf(buf, size, "vCPU %u: %s, %s", c->index, what,
			 state == KVM_MP_STATE_UNINITIALIZED || state == KVM_MP_STATE_INIT_RECEIVED
				 ? "real mode"
				 : mode_name(c));
	return n < 0 ? -EIO : n;
}

static const struct target_ops kvm_target_ops = {
	.arch = kt_arch,
	.get_regs = kt_get_regs,
	.set_regs = kt_set_regs,
	.get_fpu = kt_get_fpu,
	.set_fpu = kt_set_fpu,
	.read_mem = vcpu_read_mem,
	.write_mem = kt_write_mem,
	.insert_point = points_insert,
	.remove_point = points_remove,
	.remove_all_points = points_remove_all,
	.point_error = points_error,
	.resume = run_loop_resume,
	.get_system_state = sysops_system_state,
	.read_phys = sysops_read_phys,
	.write_phys = sysops_write_phys,
	.translate = sysops_translate,
	.get_lapic = sysops_lapic,
	.get_irqchip = sysops_irqchip,
	.get_exit_counts = sysops_exit_counts,
	.stop_reported = sysops_stop_reported,
	.set_trace_io = sysops_set_trace_io,
	.get_screen_text = sysops_screen_text,
	.set_step_irq = kt_set_step_irq,
	.thread_count = kt_thread_count,
	.select_thread = kt_select_thread,
	.describe_thread = kt_describe_thread,
	.restart = sysops_restart,
	.record = reverse_command,
};

int kvm_target_init(struct kvm_target *kt, struct machine *m, const struct host_caps *caps)
{
	memset(kt, 0, sizeof(*kt));
	kt->m = m;
	kt->use_sw_bp = caps->int3_traps;
	if (caps->int3_traps)
		kt->bp_opcode = INT3_OPCODE;
	else if (m->has_irqchip)
		kt->bp_opcode = caps->int3_internal_error ? INT3_OPCODE : 0;
	else
		kt->bp_opcode = HLT_OPCODE;
	kt->sw_bp_real_mode = caps->int3_traps || !m->has_irqchip;
	kt->step_blocks_irq = true;
	kt->dr_watch_fires = caps->dr_watch_fires;
	m->report_ticks = true;
	return m->smp ? smp_start(kt) : 0;
}

void kvm_target_destroy(struct kvm_target *kt)
{
	smp_stop(kt);
	free(kt->sw);
	free(kt->watch);
	free(kt->traps);
	free(kt->snapshot);
	kt->snapshot = NULL;
	kt->traps = NULL;
	kt->sw = NULL;
	kt->watch = NULL;
}

struct target kvm_target_as_target(struct kvm_target *kt)
{
	return (struct target){ .ops = &kvm_target_ops, .impl = kt };
}
