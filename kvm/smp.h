/* kvm/smp.h — several vCPUs: one thread each, stopped all together.
 *
 * vCPU 0 runs on the main thread (so a step of the boot processor costs
 * what it costs with one vCPU); vCPUs 1..N-1 each have a thread that
 * waits for a command, runs its vCPU through kvm/run_loop.c and parks.
 * All-stop: the first vCPU to stop for a reason gdb must hear about
 * kicks the main thread, which kicks every other vCPU out of KVM_RUN
 * (MACHINE_KICK_SIGNAL: KVM_RUN returns EINTR) and waits until all have
 * parked before anything is reported. A second vCPU's stop that came in
 * meanwhile is kept and reported at the next resume that lets it run.
 * Used only when the machine has more than one vCPU. */
#ifndef KVMSTUB_KVM_SMP_H
#define KVMSTUB_KVM_SMP_H

#include "kvm/vcpu.h"

/* Starts the threads of vCPUs 1..N-1 (parked). Returns 0 or -errno. */
int smp_start(struct kvm_target *kt);
/* Ends and joins them (every vCPU must be parked: between resumes). */
void smp_stop(struct kvm_target *kt);

/* The target's resume with several vCPUs: runs them as `how` says until
 * one stops, stops them all and fills *stop (with its thread). */
int smp_resume(struct kvm_target *kt, const struct target_resume *how,
	       struct target_stop *stop);

/* Drops the stops kept for later (a restart: they are of the old run).
 * Every vCPU must be parked. */
void smp_forget_stops(struct smp *s);

#endif
