/* kvm/vcpu_internal.h — what kvm/vcpu_state.c, kvm/points.c and
 * kvm/run_loop.c share among themselves. Nothing outside kvm/ includes it;
 * the rest of kvmstub sees kvm/vcpu.h. */
#ifndef KVMSTUB_KVM_VCPU_INTERNAL_H
#define KVMSTUB_KVM_VCPU_INTERNAL_H

#include <stdint.h>
#include <time.h>

#include "kvm/vcpu.h"

#define HLT_OPCODE 0xf4
#define INT3_OPCODE 0xcc

static inline struct kvm_target *kvm_target_of(void *t)
{
	return t;
}

/* CLOCK_MONOTONIC in nanoseconds: run slices (kvm/smp.c), the time
 * instruction completion takes (kvm/run_loop.c) and stop latencies
 * (kvm/sysops.c; kvm/cpu.c, below this layer, reads the same clock). */
static inline uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* CPU time of the calling thread: a vCPU's guest time counts in its
 * thread's, inside KVM_RUN. */
static inline uint64_t thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* kvm/vcpu_state.c: addresses and memory, as vCPU c sees them (its CR3,
 * its CS base), or as the current vCPU does (machine_select_cpu). */
uint64_t cpu_linear_pc(struct vcpu *c);
int cpu_translate(struct vcpu *c, uint64_t linear, uint64_t *phys, uint64_t *span);
long vcpu_read_mem_as(struct kvm_target *kt, struct vcpu *c, uint64_t addr, void *buf,
		      size_t len);
uint64_t vcpu_linear_pc(struct machine *m);
int vcpu_translate(struct machine *m, uint64_t linear, uint64_t *phys, uint64_t *span);
long vcpu_read_mem(void *t, uint64_t addr, void *buf, size_t len);

/* kvm/points.c: breakpoints and watchpoints. */
struct sw_breakpoint *points_sw_at(struct kvm_target *kt, struct vcpu *c, uint64_t linear);
struct sw_breakpoint *points_sw_at_linear(struct kvm_target *kt, uint64_t linear);
/* The debug-register breakpoint at pc: 0 none, 1 hardware, 2 a software
 * breakpoint that had to use a debug register. */
int points_hw_at(const struct kvm_target *kt, uint64_t pc);
/* One of our breakpoints (either kind) is at pc as vCPU c sees it; *reason
 * is what gdb is told: SWBREAK for a software one, also one that had to
 * use a debug register, else HWBREAK. */
bool points_break_at(struct kvm_target *kt, struct vcpu *c, uint64_t pc,
		     enum target_stop_reason *reason);
void points_unshadow(struct kvm_target *kt, uint64_t phys, uint8_t *buf, uint64_t len);
void points_write_around(struct kvm_target *kt, uint64_t phys, const uint8_t *buf,
			 uint64_t len);
void points_check_watches(struct kvm_target *kt, struct vcpu *c, uint64_t phys, uint64_t len,
			  bool is_write);
/* Gives vCPU c the debug registers and guest-debug flags (every vCPU
 * gets the same breakpoints; only c steps). */
int points_apply_debug(struct kvm_target *kt, struct vcpu *c, bool stepping);
/* Around one instruction run with the trapped pages lifted: keep a copy
 * of the watched bytes, then afterwards put back breakpoint bytes the
 * instruction overwrote (what it wrote becomes their original) and tell
 * whether it changed watched bytes (kt->watch_hit). */
int points_snapshot(struct kvm_target *kt);
void points_reconcile(struct kvm_target *kt, struct vcpu *c);
int points_insert(void *t, enum target_point kind, uint64_t addr, uint64_t len);
int points_remove(void *t, enum target_point kind, uint64_t addr, uint64_t len);
void points_remove_all(void *t);
const char *points_error(void *t);

/* kvm/run_loop.c: one vCPU runs until it stops (with several vCPUs, on
 * its own thread: kvm/smp.c), and the target's resume. */
int run_loop_resume_cpu(struct kvm_target *kt, struct vcpu *c, const struct target_resume *how,
			struct target_stop *stop);
int run_loop_resume(void *t, const struct target_resume *how, struct target_stop *stop);
/* The same without the reverse-execution hook (kvm/reverse.c runs replay
 * through it). */
int run_loop_resume_live(struct kvm_target *kt, const struct target_resume *how,
			 struct target_stop *stop);

#endif
