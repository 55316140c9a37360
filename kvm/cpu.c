/* kvm/cpu.c — one vCPU: creation with its CPUID, the register cache,
 * guest-debug state, MP state and KVM_RUN. No exit handling here (that is
 * kvm/run_loop.c) and no threads (kvm/smp.c). Returns errors, never prints. */
#include "kvm/machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RFLAGS_IF (1ULL << 9)

static int cpu_fail(struct vcpu *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cpu_fail(struct vcpu *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->m->error, sizeof(c->m->error), fmt, ap);
	va_end(ap);
	return -err;
}

#define IOCTL_FAIL(c, name) cpu_fail((c), errno, "%s failed: %s", (name), strerror(errno))

/* Every vCPU gets what the host supports (a guest that enables long mode
 * itself checks CPUID for it), with its own APIC id where CPUID reports
 * one: leaf 1 EBX[31:24], and the x2APIC id of leaves 0xb and 0x1f. */
static int set_cpuid(struct vcpu *c)
{
	int n = 128;

	for (;;) {
		size_t size = sizeof(struct kvm_cpuid2) + n * sizeof(struct kvm_cpuid_entry2);
		struct kvm_cpuid2 *cpuid = calloc(1, size);
		if (!cpuid)
			return cpu_fail(c, ENOMEM, "out of memory for CPUID");
		cpuid->nent = (uint32_t)n;
		if (ioctl(c->m->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
			int err = errno;
			free(cpuid);
			if (err == E2BIG && n < 4096) {
				n *= 2;
				continue;
			}
			errno = err;
			return IOCTL_FAIL(c, "KVM_GET_SUPPORTED_CPUID");
		}
		for (uint32_t i = 0; i < cpuid->nent; i++) {
			struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
			if (e->function == 1)
				e->ebx = (e->ebx & 0x00ffffffu) | (c->index << 24);
			if (e->function == 0xb || e->function == 0x1f)
				e->edx = c->index;
		}
		int rc = ioctl(c->fd, KVM_SET_CPUID2, cpuid);
		int err = errno;
		free(cpuid);
		if (rc < 0) {
			errno = err;
			return IOCTL_FAIL(c, "KVM_SET_CPUID2");
		}
		return 0;
	}
}

int cpu_create(struct vcpu *c, struct machine *m, unsigned index)
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	c->index = index;
	c->fd = ioctl(m->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (c->fd < 0)
		return IOCTL_FAIL(c, "KVM_CREATE_VCPU");
	c->run = mmap(NULL, m->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		return cpu_fail(c, errno, "cannot map kvm_run: %s", strerror(errno));
	}
	int err = set_cpuid(c);
	if (err)
		return err;
	if (m->has_sync_regs)
		c->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	return 0;
}

void cpu_destroy(struct vcpu *c)
{
	if (c->has_tick)
		timer_delete(c->tick);
	c->has_tick = false;
	if (c->run)
		munmap(c->run, c->m->run_size);
	if (c->fd > 0)
		close(c->fd);
	c->run = NULL;
	c->fd = -1;
}

struct kvm_regs *cpu_regs(struct vcpu *c)
{
	if (!c->regs_valid) {
		/* Callers need a register file either way; the failure is kept
		 * and the next cpu_enter reports it. */
		if (ioctl(c->fd, KVM_GET_REGS, &c->regs) < 0) {
			memset(&c->regs, 0, sizeof(c->regs));
			c->failed = IOCTL_FAIL(c, "KVM_GET_REGS");
		}
		c->regs_valid = true;
	}
	return &c->regs;
}

struct kvm_sregs *cpu_sregs(struct vcpu *c)
{
	if (!c->sregs_valid) {
		if (ioctl(c->fd, KVM_GET_SREGS, &c->sregs) < 0) {
			memset(&c->sregs, 0, sizeof(c->sregs));
			c->failed = IOCTL_FAIL(c, "KVM_GET_SREGS");
		}
		c->sregs_valid = true;
	}
	return &c->sregs;
}

void cpu_regs_changed(struct vcpu *c)
{
	c->regs_dirty = true;
}

void cpu_sregs_changed(struct vcpu *c)
{
	c->sregs_dirty = true;
}

int cpu_set_debug(struct vcpu *c, uint32_t control, const uint64_t dr[4], uint64_t dr7)
{
	struct kvm_guest_debug want;

	memset(&want, 0, sizeof(want));
	want.control = control;
	for (int i = 0; i < 4; i++)
		want.arch.debugreg[i] = dr[i];
	want.arch.debugreg[7] = dr7;
	if (c->debug_applied && memcmp(&want, &c->debug, sizeof(want)) == 0)
		return 0;
	if (ioctl(c->fd, KVM_SET_GUEST_DEBUG, &want) < 0)
		return IOCTL_FAIL(c, "KVM_SET_GUEST_DEBUG");
	c->debug = want;
	c->debug_applied = true;
	return 0;
}

int cpu_set_run_sigmask(struct vcpu *c, const sigset_t *mask)
{
	/* struct kvm_signal_mask followed by the kernel's sigset, which is
	 * 8 bytes on x86-64 (not glibc's 128). */
	uint64_t arg[2];
	struct kvm_signal_mask *head = (struct kvm_signal_mask *)arg;

	head->len = 8;
	memcpy((uint8_t *)arg + sizeof(*head), mask, 8);
	if (ioctl(c->fd, KVM_SET_SIGNAL_MASK, arg) < 0)
		return IOCTL_FAIL(c, "KVM_SET_SIGNAL_MASK");
	return 0;
}

int cpu_mp_state(struct vcpu *c)
{
	struct kvm_mp_state state;

	if (ioctl(c->fd, KVM_GET_MP_STATE, &state) < 0)
		return IOCTL_FAIL(c, "KVM_GET_MP_STATE");
	return (int)state.mp_state;
}

int cpu_set_mp_state(struct vcpu *c, unsigned mp_state)
{
	struct kvm_mp_state state = { .mp_state = mp_state };

	if (ioctl(c->fd, KVM_SET_MP_STATE, &state) < 0)
		return IOCTL_FAIL(c, "KVM_SET_MP_STATE");
	return 0;
}

int cpu_wake_if_halted(struct vcpu *c)
{
	if (!c->m->has_irqchip)
		return 0;
	int state = cpu_mp_state(c);
	if (state < 0)
		return state;
	if (state != KVM_MP_STATE_HALTED)
		return 0;
	return cpu_set_mp_state(c, KVM_MP_STATE_RUNNABLE);
}

/* The flags as KVM has them now: the sync area after a run, else an
 * ioctl. */
static uint64_t current_rflags(struct vcpu *c)
{
	struct kvm_regs regs;

	if (c->m->has_sync_regs)
		return c->run->s.regs.regs.rflags;
	if (ioctl(c->fd, KVM_GET_REGS, &regs) < 0)
		return RFLAGS_IF; /* unknown: not idle */
	return regs.rflags;
}

/* Idle for good in MP state `state`: halted with interrupts off, or an AP
 * still waiting for INIT/SIPI. */
static bool idle_in_state(struct vcpu *c, int state)
{
	if (state == KVM_MP_STATE_UNINITIALIZED || state == KVM_MP_STATE_INIT_RECEIVED)
		return c->index != 0;
	return state == KVM_MP_STATE_HALTED && !(current_rflags(c) & RFLAGS_IF);
}

bool cpu_idle_for_good(struct vcpu *c)
{
	return idle_in_state(c, cpu_mp_state(c));
}

void cpu_start_tick(struct vcpu *c)
{
	c->has_tick = machine_start_tick(&c->tick);
}

static int write_back_registers(struct vcpu *c)
{
	/* KVM_SET_SREGS turns a vector in interrupt_bitmap into an interrupt
	 * to inject. What KVM_GET_SREGS showed there is KVM's own event state,
	 * which it keeps anyway: handing it back (after kvmstub completed an
	 * iret on PVM) lost the guest's IRQ0 for good in one run of three;
	 * with the bitmap left empty, 50 runs of 50 pass. */
	if (c->sregs_dirty)
		memset(c->sregs.interrupt_bitmap, 0, sizeof(c->sregs.interrupt_bitmap));
	if (c->m->has_sync_regs) {
		if (c->regs_dirty) {
			c->run->s.regs.regs = c->regs;
			c->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		}
		if (c->sregs_dirty) {
			c->run->s.regs.sregs = c->sregs;
			c->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		}
	} else {
		if (c->regs_dirty && ioctl(c->fd, KVM_SET_REGS, &c->regs) < 0)
			return IOCTL_FAIL(c, "KVM_SET_REGS");
		if (c->sregs_dirty && ioctl(c->fd, KVM_SET_SREGS, &c->sregs) < 0)
			return IOCTL_FAIL(c, "KVM_SET_SREGS");
	}
	c->regs_dirty = c->sregs_dirty = false;
	return 0;
}

/* After EINTR on the main thread: was it only the tick? Then the caller
 * may simply run again. Any other signal is the stub's business. */
static bool only_tick(void)
{
	sigset_t tick, pending;
	struct timespec zero = { 0, 0 };
	bool ticked;

	sigemptyset(&tick);
	sigaddset(&tick, MACHINE_FLUSH_SIGNAL);
	ticked = sigtimedwait(&tick, NULL, &zero) == MACHINE_FLUSH_SIGNAL;
	if (!ticked || sigpending(&pending))
		return false;
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sig != MACHINE_FLUSH_SIGNAL && sigismember(&pending, sig))
			return false;
	return true;
}

/* Whether a signal other than the tick is pending (they stay pending
 * after KVM_RUN). A tick that came in after only_tick looked is no reason
 * to end the run: the next KVM_RUN returns at once and the loop takes it
 * as a tick (so the first run after a state restore, which may return
 * EINTR with no signal at all, is not mistaken for an interruption when
 * a tick lands at that moment). */
static bool signal_waiting(void)
{
	sigset_t pending;

	if (sigpending(&pending))
		return true;
	for (int sig = 1; sig < SIGRTMIN; sig++)
		if (sig != MACHINE_FLUSH_SIGNAL && sigismember(&pending, sig))
			return true;
	return false;
}

/* Takes a pending signal of this thread without waiting. */
static bool take_signal(int signo)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, signo);
	return sigtimedwait(&set, NULL, &zero) == signo;
}

/* What the tick does for a vCPU: output out, new input in (its
 * interrupt raised), a live screen redrawn, and whether the vCPU is idle
 * for good. One vCPU: that ends the guest. Several: only when all are;
 * kvm/smp.c then checks with every vCPU stopped. */
static int on_tick(struct vcpu *c, bool *ended, bool *waiting)
{
	struct machine *m = c->m;
	int err = devices_poll(&m->devices);

	*ended = *waiting = false;
	if (err || !m->has_irqchip)
		return err;
	int state = cpu_mp_state(c);
	*waiting = state == KVM_MP_STATE_HALTED || state == KVM_MP_STATE_UNINITIALIZED ||
		   state == KVM_MP_STATE_INIT_RECEIVED;
	bool idle = idle_in_state(c, state);
	if (!m->smp) {
		*ended = idle;
		return 0;
	}
	__atomic_store_n(&c->idle, idle, __ATOMIC_RELAXED);
	if (!idle)
		return 0;
	for (unsigned i = 0; i < m->ncpus; i++)
		if (!__atomic_load_n(&m->cpus[i].idle, __ATOMIC_RELAXED))
			return 0;
	*ended = true;
	return 0;
}

/* One vDSO call (about 0.1 us here), once per exit; the same clock as
 * now_ns() in kvm/vcpu_internal.h, which is the target's, not a vCPU's. */
static uint64_t monotonic_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

int cpu_enter(struct vcpu *c, bool immediate)
{
	struct machine *m = c->m;
	int err;

	if (c->failed)
		return c->failed;
	if (c->stop_requested)
		return -EINTR;

	if (m->layout_dirty) {
		err = machine_apply_layout(m);
		if (err)
			return err;
	}
	/* Fetch what we cache before KVM_RUN replaces it, so a dirty
	 * half-written cache is never mixed with stale fields. */
	if (c->regs_dirty)
		(void)cpu_regs(c);
	if (c->sregs_dirty)
		(void)cpu_sregs(c);
	err = write_back_registers(c);
	if (err)
		return err;

	machine_sync_com1_coalescing(m);
	c->run->immediate_exit = immediate;
	int rc, run_errno, spurious = 0;
	bool report_tick = false, guest_ended = false;
	for (;;) {
		machine_unlock(m);
		rc = ioctl(c->fd, KVM_RUN, 0);
		run_errno = errno;
		c->exit_ns = monotonic_ns();
		machine_lock(m);
		err = machine_drain_output(m);
		if (err) {
			c->run->immediate_exit = 0;
			return err;
		}
		if (rc < 0 && run_errno == EAGAIN && !immediate)
			continue; /* an AP that received INIT: run again (it waits for SIPI) */
		if (rc < 0 && run_errno == EINTR && !immediate) {
			bool ticked, kicked;
			if (c->kick_only) {
				ticked = take_signal(MACHINE_FLUSH_SIGNAL);
				kicked = take_signal(MACHINE_KICK_SIGNAL);
			} else {
				ticked = (m->has_flush_timer || c->has_tick) && only_tick();
				kicked = !ticked;
			}
			if (ticked) {
				bool ended, waiting;
				err = on_tick(c, &ended, &waiting);
				if (err)
					return err;
				if (ended && !kicked) {
					guest_ended = true;
					break;
				}
				/* Waiting for an interrupt is no stall. */
				if (!kicked && !waiting) {
					if (m->tick_hook && m->tick_hook(m->tick_ctx))
						break; /* -EINTR: kvm/reverse.c ends the run */
					if (m->report_ticks) {
						report_tick = true;
						break;
					}
				}
			}
			if (!kicked)
				continue;
			/* After a full state restore the first KVM_RUN can
			 * return EINTR with no signal at all (measured on PVM):
			 * run again. */
			if (!c->kick_only && !signal_waiting() && spurious++ < 4)
				continue;
		}
		break;
	}
	c->run->immediate_exit = 0;
	if (rc == 0)
		exit_stats_count(&m->exits, c->run->exit_reason, c->run->io.port,
				 c->run->io.direction == KVM_EXIT_IO_OUT);
	else if (run_errno == EINTR)
		exit_stats_interrupted(&m->exits);
	if (m->has_sync_regs) {
		c->run->kvm_dirty_regs = 0;
		c->regs = c->run->s.regs.regs;
		c->sregs = c->run->s.regs.sregs;
		c->regs_valid = c->sregs_valid = true;
	} else {
		c->regs_valid = c->sregs_valid = false;
	}
	if (guest_ended)
		return CPU_GUEST_ENDED;
	if (report_tick)
		return -ETIME;
	if (rc < 0) {
		if (run_errno == EINTR || run_errno == EAGAIN)
			return -EINTR;
		errno = run_errno;
		return IOCTL_FAIL(c, "KVM_RUN");
	}
	return CPU_EXITED;
}
