/* kvm/cpu.h — one KVM vCPU: its fd and kvm_run mapping, its register
 * cache, its guest-debug state and KVM_RUN on it. The VM-wide parts (RAM,
 * memory slots, devices, irqchip) are kvm/machine.h's; the run loop that
 * serves one vCPU's exits is kvm/run_loop.c; several vCPUs on threads are
 * kvm/smp.c. Returns errors (text in the machine's error), never prints.
 *
 * Which thread may touch a vCPU: the one that runs it while it runs; any
 * one while it is parked (kvm/smp.c says when). */
#ifndef KVMSTUB_KVM_CPU_H
#define KVMSTUB_KVM_CPU_H

#include <linux/kvm.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "stub/target.h"

struct machine;

struct vcpu {
	struct machine *m;
	unsigned index; /* = its APIC id; gdb's thread id is index + 1 */
	int fd;
	struct kvm_run *run;

	/* Register cache: valid until the next KVM_RUN; dirty ones are
	 * written back before it (through kvm_run's sync area when we can). */
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	bool regs_valid, sregs_valid, regs_dirty, sregs_dirty;

	/* The guest-debug state last given to KVM, so unchanged state costs
	 * no ioctl. */
	struct kvm_guest_debug debug;
	bool debug_applied;

	/* With several vCPUs: only a kick (kvm/smp.c) ends a run with -EINTR;
	 * the tick and signals meant for the main thread do not. */
	bool kick_only;
	/* Set (under the machine's lock) before the kick: a run that starts
	 * after the kick was taken (a step inside a continue) ends at once. */
	bool stop_requested;
	/* This vCPU's own tick (vCPUs on their own threads): SIGEV_THREAD_ID
	 * timers reach one thread. */
	bool has_tick;
	timer_t tick;
	/* Seen halted with IF=0, or waiting for INIT/SIPI, at its last tick
	 * (several vCPUs: the guest ends when all are). Written by its own
	 * thread, read by the others. */
	int idle;

	/* Run-loop state of this vCPU (kvm/run_loop.c). */
	bool maybe_halted; /* the last stop was a signal, maybe in `hlt` */
	bool interrupted;  /* ...and it moved: do not step off a breakpoint */
	bool watch_hit;    /* a watchpoint fired during the current run */
	enum target_stop_reason watch_reason;
	uint64_t watch_addr;

	/* Progress seen at the flush ticks (kvm/run_loop.c): a vCPU that sits
	 * at one pc with no exit for a whole tick may be stalled on a trapped
	 * page; that one instruction then runs with the traps lifted. */
	bool tick_valid;
	uint64_t tick_pc;
	unsigned long exits_since_tick;
	/* CPU time of the thread running this vCPU, at the last tick and when
	 * a probe step began: no progress while the host did not run it
	 * (more busy vCPUs than host CPUs) is not a stall. */
	uint64_t tick_cpu_ns, probe_cpu_ns;
	bool lifted;
	bool probing;       /* a step to see whether the vCPU is stalled */
	bool probe_stalled; /* ... and it did not finish within a tick */
	/* Lifted instructions in a row with not one instruction run normally
	 * between them: a guest that only advances that way is told about. */
	unsigned long lift_streak;
	uint64_t lift_end_pc;

	int failed; /* a register fetch failed: -errno, reported at the next run */

	/* CLOCK_MONOTONIC ns when its last KVM_RUN returned, taken on its own
	 * thread before anything else: the moment of the event a stop reports
	 * (`monitor info exits` times each stop from it to gdb). */
	uint64_t exit_ns;
};

/* Creates vCPU `index` of the machine's VM (its CPUID says APIC id =
 * index) and maps its kvm_run. */
int cpu_create(struct vcpu *c, struct machine *m, unsigned index);
void cpu_destroy(struct vcpu *c);

/* Register cache access. The pointers stay valid; call the *_changed
 * function after writing through them. */
struct kvm_regs *cpu_regs(struct vcpu *c);
struct kvm_sregs *cpu_sregs(struct vcpu *c);
void cpu_regs_changed(struct vcpu *c);
void cpu_sregs_changed(struct vcpu *c);

/* Sets the guest-debug control and debug registers; no ioctl when they
 * are what KVM has already. */
int cpu_set_debug(struct vcpu *c, uint32_t control, const uint64_t dr[4], uint64_t dr7);

/* The signal mask while the vCPU runs (kernel sigset). */
int cpu_set_run_sigmask(struct vcpu *c, const sigset_t *mask);

/* What cpu_enter returns when it does not fail. */
enum cpu_entered {
	CPU_EXITED = 0,      /* KVM returned an exit: c->run->exit_reason */
	/* The tick found the guest idle for good (the pc machine, where KVM
	 * runs `hlt` itself): its end. No exit reason: KVM gave none. Never
	 * with `immediate`. */
	CPU_GUEST_ENDED = 1,
};

/* Enters the guest once. Returns an enum cpu_entered, -EINTR if a signal
 * (or `immediate`, or the machine's tick_hook) ended the run first, -ETIME
 * if the flush tick did and the machine's report_ticks is set, another
 * negative errno if KVM_RUN failed. Applies a changed slot layout first;
 * counts the exit (kvm/exit_stats.c). */
int cpu_enter(struct vcpu *c, bool immediate);

/* KVM_GET_MP_STATE: KVM_MP_STATE_*, or a negative errno. */
int cpu_mp_state(struct vcpu *c);
int cpu_set_mp_state(struct vcpu *c, unsigned state);

/* After a stop that may have left the vCPU halted in `hlt`: makes it
 * runnable again, so a step runs the next instruction. */
int cpu_wake_if_halted(struct vcpu *c);

/* Halted with IF=0, or waiting for INIT/SIPI: only another vCPU can wake
 * it. Asks KVM (the vCPU must not be running). */
bool cpu_idle_for_good(struct vcpu *c);

/* Starts this thread's own tick for vCPU c (see has_tick). */
void cpu_start_tick(struct vcpu *c);

#endif
