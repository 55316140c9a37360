/* kvm/smp.c — several vCPUs: the threads of vCPUs 1..N-1, starting them,
 * the all-stop, and which stop gdb hears about (see kvm/smp.h). No exit
 * handling here: each vCPU runs through kvm/run_loop.c.
 *
 * Locking: the machine's lock is held by whichever thread is outside
 * KVM_RUN (cpu_enter drops it around the ioctl), so exits are served one
 * at a time and the fields marked below change only under it. A parked
 * vCPU is touched only by the main thread. */
#include "kvm/smp.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/sysops.h"
#include "kvm/vcpu_internal.h"

/* A thread that has not taken its command when a short resume (a step)
 * ends is left out of it, as if the host had not scheduled it; if it has
 * not run for SMP_SLICE_NS, the next resume starts it first and lets it
 * run SMP_MIN_RUN_NS before the others, so the other vCPUs make progress
 * while one is stepped (a spin-wait on another CPU finishes under
 * `stepi`), at a cost of one slow step in many, and no stop waits for it. */
#define SMP_SLICE_NS 1000000ULL
#define SMP_MIN_RUN_NS 100000ULL

enum smp_command { SMP_NONE, SMP_RUN, SMP_EXIT };

struct smp_cpu {
	struct smp *smp;
	struct vcpu *c;
	pthread_t thread;
	bool has_thread;
	pid_t tid;
	/* Under the machine's lock. */
	enum smp_command command;
	struct target_resume how;
	bool runs;      /* this resume lets it run */
	bool running;   /* took a command and has not parked since */
	bool ran;       /* stop/err hold what its last run ended with */
	int err;
	struct target_stop stop;
	uint64_t seq;   /* when it stopped: the first stop is the one told */
	uint64_t started_ns, last_ran_ns; /* took its last command; last parked after a run */
	bool owed;      /* left out of a round, long unrun: starts first next time */
	bool pending;   /* a stop gdb has not heard of yet */
	struct target_stop pending_stop;
};

struct smp {
	struct kvm_target *kt;
	struct machine *m;
	pid_t main_tid;
	uint64_t boot_started_ns; /* vCPU 0 entered its run of this round */
	bool boot_running;
	pthread_cond_t go, parked;
	uint64_t seq;
	unsigned ncpus;
	struct smp_cpu cpu[];
};

/* Waits, the machine's lock let go, until `deadline` (CLOCK_MONOTONIC).
 * A sleep, not sched_yield(): with more busy vCPUs than host CPUs a
 * yield hands the CPU to a vCPU thread in the guest, which keeps it until
 * the scheduler's tick (4 ms measured here), however short the wait was
 * meant to be; a sleep's timer wakes the waiter when it is due. */
static void sleep_until(struct machine *m, uint64_t deadline)
{
	struct timespec t = { (time_t)(deadline / 1000000000ULL), (long)(deadline % 1000000000ULL) };

	machine_unlock(m);
	(void)clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL);
	machine_lock(m);
}

static void on_kick(int signo)
{
	(void)signo; /* its job is done: KVM_RUN or ppoll returned EINTR */
}

static bool take_kick(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, MACHINE_KICK_SIGNAL);
	return sigtimedwait(&set, NULL, &zero) == MACHINE_KICK_SIGNAL;
}

static void kick(pid_t tid)
{
	tgkill(getpid(), tid, MACHINE_KICK_SIGNAL);
}

/* One vCPU's resume, its stop stamped with the time of the exit that
 * ended it (0 if it never entered KVM_RUN). */
static int resume_cpu_timed(struct kvm_target *kt, struct vcpu *c, const struct target_resume *how,
			    struct target_stop *stop)
{
	c->exit_ns = 0;
	int err = run_loop_resume_cpu(kt, c, how, stop);
	stop->event_ns = c->exit_ns;
	return err;
}

/* The other vCPU threads that are in or around KVM_RUN, told to stop now
 * rather than when the main thread gets to it (stop_all does the same):
 * on a host with fewer CPUs than busy vCPUs that saves the main thread's
 * wait for a CPU before they even hear of the stop. One that has not
 * taken its command yet is left to stop_all. Under the machine's lock. */
static void kick_running_aps(struct smp *s)
{
	for (unsigned i = 1; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		if (p->running && p->command != SMP_RUN) {
			p->c->stop_requested = true;
			kick(p->tid);
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct smp_cpu *me = arg;
	struct smp *s = me->smp;
	struct machine *m = s->m;
	struct vcpu *c = me->c;
	sigset_t during_run;

	/* Only a kick and this vCPU's own tick end its KVM_RUN; SIGINT,
	 * SIGTERM and SIGIO are the main thread's. */
	sigfillset(&during_run);
	sigdelset(&during_run, MACHINE_KICK_SIGNAL);
	sigdelset(&during_run, MACHINE_FLUSH_SIGNAL);
	c->kick_only = true;
	cpu_start_tick(c);
	int err = cpu_set_run_sigmask(c, &during_run);

	machine_lock(m);
	me->tid = gettid();
	me->err = err;
	pthread_cond_broadcast(&s->parked);
	while (!err) {
		while (me->command == SMP_NONE)
			pthread_cond_wait(&s->go, &m->lock);
		if (me->command == SMP_EXIT)
			break;
		struct target_resume how = me->how;
		me->command = SMP_NONE;
		c->stop_requested = false;
		me->started_ns = now_ns();
		pthread_cond_broadcast(&s->parked); /* stop_all may wait for this */
		me->err = resume_cpu_timed(s->kt, c, &how, &me->stop);
		(void)take_kick(); /* it has stopped anyway */
		me->last_ran_ns = now_ns();
		me->seq = ++s->seq;
		me->running = false;
		me->ran = true;
		bool event = me->err || me->stop.reason != TARGET_STOP_INTERRUPTED;
		/* vCPU 0 runs on the main thread, which this kick stops: give
		 * it its slice too when it runs beside a short step. */
		while (event && s->boot_running && now_ns() - s->boot_started_ns < SMP_MIN_RUN_NS)
			sleep_until(m, s->boot_started_ns + SMP_MIN_RUN_NS);
		if (event) {
			kick(s->main_tid);
			kick_running_aps(s);
		}
		pthread_cond_broadcast(&s->parked);
	}
	machine_unlock(m);
	if (c->has_tick) { /* it names this thread, which is ending */
		timer_delete(c->tick);
		c->has_tick = false;
	}
	return NULL;
}

int smp_start(struct kvm_target *kt)
{
	struct machine *m = kt->m;
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_kick;
	if (sigaction(MACHINE_KICK_SIGNAL, &sa, NULL))
		return -errno;
	/* Blocked everywhere but inside KVM_RUN and the main thread's wait;
	 * the threads inherit the mask. */
	sigemptyset(&block);
	sigaddset(&block, MACHINE_KICK_SIGNAL);
	sigaddset(&block, MACHINE_FLUSH_SIGNAL);
	if (pthread_sigmask(SIG_BLOCK, &block, NULL))
		return -EINVAL;

	struct smp *s = calloc(1, sizeof(*s) + m->ncpus * sizeof(s->cpu[0]));
	if (!s)
		return -ENOMEM;
	s->kt = kt;
	s->m = m;
	s->ncpus = m->ncpus;
	s->main_tid = gettid();
	pthread_cond_init(&s->go, NULL);
	pthread_cond_init(&s->parked, NULL);
	for (unsigned i = 0; i < s->ncpus; i++) {
		s->cpu[i].smp = s;
		s->cpu[i].c = &m->cpus[i];
	}
	s->cpu[0].tid = s->main_tid;
	kt->smp = s;
	m->threads = s;

	int err = 0;
	machine_lock(m);
	for (unsigned i = 1; i < s->ncpus && !err; i++) {
		err = -pthread_create(&s->cpu[i].thread, NULL, vcpu_thread, &s->cpu[i]);
		s->cpu[i].has_thread = !err;
	}
	for (unsigned i = 1; i < s->ncpus; i++) {
		while (s->cpu[i].has_thread && !s->cpu[i].tid)
			pthread_cond_wait(&s->parked, &m->lock);
		if (s->cpu[i].err && !err)
			err = s->cpu[i].err;
	}
	machine_unlock(m);
	return err;
}

void smp_stop(struct kvm_target *kt)
{
	struct smp *s = kt->smp;

	if (!s)
		return;
	machine_lock(s->m);
	for (unsigned i = 1; i < s->ncpus; i++)
		s->cpu[i].command = SMP_EXIT;
	pthread_cond_broadcast(&s->go);
	machine_unlock(s->m);
	for (unsigned i = 1; i < s->ncpus; i++)
		if (s->cpu[i].has_thread)
			pthread_join(s->cpu[i].thread, NULL);
	pthread_cond_destroy(&s->go);
	pthread_cond_destroy(&s->parked);
	kt->smp = NULL;
	s->m->threads = NULL;
	free(s);
}

/* A stop kept for later still means something: the breakpoint is still
 * there (gdb may have removed it meanwhile). A finished step is never
 * kept: gdb asked for it in a resume that has ended. */
static bool worth_keeping(struct kvm_target *kt, struct vcpu *c, const struct target_stop *stop)
{
	uint64_t pc = cpu_linear_pc(c);

	switch (stop->reason) {
	case TARGET_STOP_SWBREAK:
		return points_sw_at(kt, c, pc) || points_hw_at(kt, pc) == 2;
	case TARGET_STOP_HWBREAK:
		return points_hw_at(kt, pc) != 0;
	case TARGET_STOP_WATCH:
	case TARGET_STOP_RWATCH:
	case TARGET_STOP_AWATCH:
	case TARGET_STOP_CRASH:
		return true;
	default:
		return false;
	}
}

static bool has_event(const struct smp_cpu *p)
{
	return p->ran && (p->err || p->stop.reason != TARGET_STOP_INTERRUPTED);
}

/* Waits, vCPU 0 not running, until a vCPU stops or a signal for the
 * main thread (SIGIO, SIGINT, SIGTERM) comes. Returns true for the
 * latter. */
static bool wait_for_stop(struct smp *s)
{
	struct machine *m = s->m;
	sigset_t wait_mask = m->run_sigmask;

	sigaddset(&wait_mask, MACHINE_FLUSH_SIGNAL); /* no handler: KVM_RUN's only */
	for (;;) {
		for (unsigned i = 1; i < s->ncpus; i++)
			if (has_event(&s->cpu[i]))
				return false;
		machine_unlock(m);
		int r = ppoll(NULL, 0, NULL, &wait_mask);
		machine_lock(m);
		(void)take_kick();
		if (r < 0 && errno == EINTR) {
			bool stopped = false;
			for (unsigned i = 1; i < s->ncpus; i++)
				stopped |= has_event(&s->cpu[i]);
			if (!stopped)
				return true;
		}
	}
}

/* Every vCPU out of KVM_RUN and parked. A thread that has not taken its
 * command yet is simply not started: as if the host had not scheduled it. */
static void stop_all(struct smp *s)
{
	struct machine *m = s->m;
	uint64_t now = now_ns();

	for (unsigned i = 1; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		if (p->command != SMP_RUN)
			continue;
		p->command = SMP_NONE;
		p->running = false;
		if (now - p->last_ran_ns >= SMP_SLICE_NS)
			p->owed = true; /* its slice comes at the next resume */
	}
	for (unsigned i = 1; i < s->ncpus; i++) {
		if (s->cpu[i].running) {
			s->cpu[i].c->stop_requested = true;
			kick(s->cpu[i].tid);
		}
	}
	for (;;) {
		bool any = false;
		for (unsigned i = 1; i < s->ncpus; i++)
			any |= s->cpu[i].running;
		if (!any)
			break;
		pthread_cond_wait(&s->parked, &m->lock);
	}
}

/* Every vCPU halted with IF=0 or waiting for SIPI: the guest's end.
 * Asked with all of them parked, so KVM answers for each. */
static bool all_idle(struct smp *s)
{
	bool idle = true;

	for (unsigned i = 0; i < s->ncpus; i++) {
		bool this_one = cpu_idle_for_good(s->cpu[i].c);
		__atomic_store_n(&s->cpu[i].c->idle, this_one, __ATOMIC_RELAXED);
		idle &= this_one;
	}
	return idle;
}

/* A kept stop of a vCPU this resume would run, the oldest first. */
static bool take_pending(struct smp *s, struct target_stop *stop)
{
	struct smp_cpu *best = NULL;

	for (unsigned i = 0; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		if (!p->runs || !p->pending)
			continue;
		/* A breakpoint hit at the pc a step of this very vCPU starts
		 * from is the one gdb steps over: told now, it would only
		 * repeat where the thread already is. */
		bool steps_from_it = p->how.kind != TARGET_RESUME_CONTINUE &&
				     (p->pending_stop.reason == TARGET_STOP_SWBREAK ||
				      p->pending_stop.reason == TARGET_STOP_HWBREAK);
		if (steps_from_it || !worth_keeping(s->kt, p->c, &p->pending_stop)) {
			p->pending = false;
			continue;
		}
		if (!best || p->seq < best->seq)
			best = p;
	}
	if (!best)
		return false;
	*stop = best->pending_stop;
	stop->event_ns = 0; /* its event was long ago: gdb was busy with another */
	best->pending = false;
	return true;
}

/* Threads left out of an earlier round while they had not run for
 * SMP_SLICE_NS start first and run SMP_MIN_RUN_NS before the others
 * start: the slice they are owed, given when a resume begins rather than
 * when a stop is told, so a stop reaches gdb without waiting for the host
 * to schedule a thread (a scheduler tick when more vCPUs are busy than
 * the host has CPUs). One that stops meanwhile ends the round as usual. */
static void give_owed_slices(struct smp *s)
{
	struct machine *m = s->m;
	bool any = false;

	for (unsigned i = 1; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		if (!p->owed || !p->runs)
			continue;
		p->owed = false;
		p->command = SMP_RUN;
		p->running = true;
		any = true;
	}
	if (!any)
		return;
	pthread_cond_broadcast(&s->go);
	for (;;) {
		bool waiting = false;
		for (unsigned i = 1; i < s->ncpus; i++)
			waiting |= s->cpu[i].command == SMP_RUN;
		if (!waiting)
			break;
		pthread_cond_wait(&s->parked, &m->lock);
	}
	for (unsigned i = 1; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		while (p->running && now_ns() - p->started_ns < SMP_MIN_RUN_NS)
			sleep_until(m, p->started_ns + SMP_MIN_RUN_NS);
	}
}

/* One round: the vCPUs run until the first stop, then all stop. */
static void run_round(struct smp *s, bool *external)
{
	struct smp_cpu *boot = &s->cpu[0];

	for (unsigned i = 0; i < s->ncpus; i++)
		s->cpu[i].ran = false;
	give_owed_slices(s);
	for (unsigned i = 1; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		if (!p->runs || p->running || p->ran)
			continue; /* not in this resume, or it had its head start */
		p->command = SMP_RUN;
		p->running = true;
	}
	pthread_cond_broadcast(&s->go);
	*external = false;
	if (boot->runs) {
		s->boot_started_ns = now_ns();
		s->boot_running = true;
		boot->err = resume_cpu_timed(s->kt, boot->c, &boot->how, &boot->stop);
		s->boot_running = false;
		boot->seq = ++s->seq;
		boot->ran = true;
		bool kicked = take_kick();
		*external = !boot->err && boot->stop.reason == TARGET_STOP_INTERRUPTED && !kicked;
	} else {
		*external = wait_for_stop(s);
	}
	stop_all(s);
}

/* Steps vCPU p alone, the others parked. */
static void step_alone(struct smp *s, struct smp_cpu *p)
{
	struct target_resume step = { .kind = TARGET_RESUME_STEP };

	(void)take_kick(); /* a kick left by an earlier stop would end it at once */
	if (p == &s->cpu[0]) {
		p->err = resume_cpu_timed(s->kt, p->c, &step, &p->stop);
		return;
	}
	struct target_resume planned = p->how;
	p->how = step;
	p->command = SMP_RUN;
	p->running = true;
	pthread_cond_broadcast(&s->go);
	while (p->running || p->command == SMP_RUN)
		pthread_cond_wait(&s->parked, &s->m->lock);
	p->how = planned;
	(void)take_kick(); /* the one it sent when it parked */
}

/* Stepping off a software breakpoint puts the original byte back for one
 * instruction: any other vCPU running then would pass the breakpoint
 * unseen. So each vCPU that stands on one steps off it first, alone (as
 * gdb itself steps over breakpoints). Returns true with *stop filled when
 * that step is already what gdb must hear (it was the step asked for, or
 * it stopped for a reason of its own). */
static bool step_off_breakpoints(struct smp *s, const struct target_resume *how,
				 unsigned primary, struct target_stop *stop)
{
	struct kvm_target *kt = s->kt;

	if (how->others_stopped)
		return false; /* one vCPU runs: nobody else can pass */
	for (unsigned i = 0; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		struct vcpu *c = p->c;
		if (!p->runs || c->interrupted || !points_sw_at(kt, c, cpu_linear_pc(c)))
			continue;
		step_alone(s, p);
		if (p->err) {
			stop->reason = TARGET_STOP_INTERRUPTED;
			return true;
		}
		if (p->stop.reason == TARGET_STOP_INTERRUPTED) {
			/* A signal for the main thread (gdb's input) came first and
			 * the step did not run: the stub hears of it, and the
			 * breakpoint is still to be stepped off next time. */
			*stop = p->stop;
			stop->thread = primary + 1;
			return true;
		}
		if (p->stop.reason != TARGET_STOP_STEP) {
			*stop = p->stop;
			return true;
		}
		uint64_t pc = cpu_linear_pc(c);
		if (i == primary && how->kind == TARGET_RESUME_STEP) {
			*stop = p->stop;
			return true;
		}
		if (i == primary && how->kind == TARGET_RESUME_RANGE) {
			enum target_stop_reason hit;
			bool at_break = points_break_at(kt, c, pc, &hit);
			if (at_break || pc < how->range_start || pc >= how->range_end) {
				*stop = p->stop;
				if (at_break)
					stop->reason = hit;
				stop->addr = pc;
				return true;
			}
		}
		/* Where it landed may be another breakpoint: that one must
		 * fire, not be stepped off. */
		c->interrupted = true;
	}
	return false;
}

void smp_forget_stops(struct smp *s)
{
	for (unsigned i = 0; i < s->ncpus; i++) {
		s->cpu[i].pending = false;
		s->cpu[i].ran = false;
		__atomic_store_n(&s->cpu[i].c->idle, false, __ATOMIC_RELAXED);
	}
}

/* The guest reset the machine (keyboard controller, port 0xcf9): it
 * boots again, as one vCPU does (--no-reboot: it ends instead). */
static bool reset_restarts(const struct kvm_target *kt)
{
	const struct devices *dev = &kt->m->devices;

	return dev->reset_requested && !dev->no_reboot && kt->boot;
}

int smp_resume(struct kvm_target *kt, const struct target_resume *how, struct target_stop *stop)
{
	struct smp *s = kt->smp;
	struct machine *m = kt->m;
	unsigned primary = how->thread ? how->thread - 1 : m->cur->index;

	if (primary >= s->ncpus)
		primary = 0;
	memset(stop, 0, sizeof(*stop));
	machine_lock(m);
	for (unsigned i = 0; i < s->ncpus; i++) {
		struct smp_cpu *p = &s->cpu[i];
		p->runs = i == primary || !how->others_stopped;
		memset(&p->how, 0, sizeof(p->how));
		if (i == primary)
			p->how = *how;
		else
			p->how.kind = TARGET_RESUME_CONTINUE;
	}
	if (take_pending(s, stop)) {
		machine_unlock(m);
		return 0;
	}
	if (step_off_breakpoints(s, how, primary, stop)) {
		int err = 0;
		for (unsigned i = 0; i < s->ncpus && !err; i++)
			err = s->cpu[i].runs ? s->cpu[i].err : 0;
		machine_unlock(m);
		return err;
	}
	(void)take_kick(); /* left from an earlier stop */

	for (;;) {
		bool external;
		run_round(s, &external);

		struct smp_cpu *first = NULL;
		bool candidate_end = false, restart = false;
		for (unsigned i = 0; i < s->ncpus; i++) {
			struct smp_cpu *p = &s->cpu[i];
			if (!p->ran)
				continue;
			if (p->err) {
				int err = p->err;
				machine_unlock(m);
				return err;
			}
			if (p->stop.reason == TARGET_STOP_INTERRUPTED)
				continue;
			if (p->stop.reason == TARGET_STOP_EXITED && !m->devices.exit_requested) {
				candidate_end = true; /* its tick saw every vCPU idle */
				continue;
			}
			if (p->stop.reason == TARGET_STOP_EXITED && reset_restarts(kt)) {
				restart = true;
				continue;
			}
			if (p->stop.reason == TARGET_STOP_EXITED) {
				*stop = p->stop;
				stop->thread = 0;
				machine_unlock(m);
				return 0;
			}
			if (!first || p->seq < first->seq)
				first = p;
		}
		if (restart) {
			/* Whatever else stopped in this round was the old run's.
			 * The breakpoints go back into the new image; a step
			 * ends before its first instruction. */
			int err = sysops_restart(kt, "", NULL);
			memset(stop, 0, sizeof(*stop));
			if (err) {
				machine_unlock(m);
				return err;
			}
			if (how->kind != TARGET_RESUME_CONTINUE) {
				stop->reason = TARGET_STOP_STEP;
				stop->addr = cpu_linear_pc(m->cur);
				stop->thread = 1;
				machine_unlock(m);
				return 0;
			}
			for (unsigned i = 0; i < s->ncpus; i++) {
				s->cpu[i].runs = true;
				memset(&s->cpu[i].how, 0, sizeof(s->cpu[i].how));
				s->cpu[i].how.kind = TARGET_RESUME_CONTINUE;
			}
			continue;
		}
		if (!first && candidate_end && all_idle(s)) {
			stop->reason = TARGET_STOP_EXITED;
			stop->exit_status = 0;
			machine_unlock(m);
			return 0;
		}
		if (first) {
			*stop = first->stop;
			for (unsigned i = 0; i < s->ncpus; i++) {
				struct smp_cpu *p = &s->cpu[i];
				if (p == first || !p->ran || !worth_keeping(kt, p->c, &p->stop))
					continue;
				p->pending = true;
				p->pending_stop = p->stop;
			}
			machine_unlock(m);
			return 0;
		}
		if (external || !candidate_end) {
			stop->reason = TARGET_STOP_INTERRUPTED;
			stop->thread = primary + 1;
			machine_unlock(m);
			return 0;
		}
		/* The idle flags were stale (a vCPU woke another just before it
		 * halted): run on. */
	}
}
