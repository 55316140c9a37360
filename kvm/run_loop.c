/* kvm/run_loop.c — entering the guest: the run loop, the exits it serves
 * (port I/O, MMIO, hlt, debug traps, crashes), single steps and resume.
 *
 * - a single step that exits for I/O or MMIO is completed with an
 *   immediate_exit run, so it stops after exactly one instruction whether
 *   the host delivers the step trap after the exit (VMX) or loses it;
 * - accesses to trapped pages (kvm/points.c) are served here and
 *   completed the same way when a watchpoint fired;
 * - an instruction the host's emulator refuses (KVM_EXIT_INTERNAL_ERROR,
 *   rip at it: on PVM our own int3 breakpoint, or the guest's int n, int3,
 *   iret) is our breakpoint or is completed by kvm/insn_complete.c;
 * - on the pc machine `hlt` is KVM's: a vCPU halted with IF=0 comes back
 *   from cpu_enter as CPU_GUEST_ENDED, the guest's end, and a step after
 *   a signal that found the vCPU halted first makes it runnable;
 * - a guest that pulls the reset line (0xcf9, the i8042) starts again
 *   from its image, as `monitor system_reset` does, and runs on: gdb sees
 *   only the next stop (unless --no-reboot: then the reset is its end). */
#include "kvm/vcpu_internal.h"
#include "kvm/reverse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kvm/insn_complete.h"
#include "kvm/smp.h"
#include "kvm/sysops.h"

#define RFLAGS_ZF (1ULL << 6)
#define RFLAGS_TF (1ULL << 8)
#define RFLAGS_RF (1ULL << 16)
#define EFER_LMA (1ULL << 10)
#define CR0_PE 1ULL
/* How many exits completing one instruction may take (string I/O and
 * MMIO split across pages) before we call the host broken. */
#define COMPLETE_MAX_EXITS 64

/* ---- the run loop ---- */

static void stop_crash(struct target_stop *stop, struct vcpu *c, enum target_crash crash,
		       const char *what)
{
	stop->reason = TARGET_STOP_CRASH;
	stop->crash = crash;
	if (c->m->ncpus > 1)
		snprintf(stop->why, sizeof(stop->why), "%s on vCPU %u at rip 0x%llx, cs 0x%x", what,
			 c->index, (unsigned long long)cpu_regs(c)->rip, cpu_sregs(c)->cs.selector);
	else
		snprintf(stop->why, sizeof(stop->why), "%s at rip 0x%llx, cs 0x%x", what,
			 (unsigned long long)cpu_regs(c)->rip, cpu_sregs(c)->cs.selector);
}

static int handle_io(struct kvm_target *kt, struct vcpu *c)
{
	struct kvm_run *run = c->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	uint64_t bytes = (uint64_t)run->io.size * run->io.count;

	/* The data area lies inside the kvm_run mapping; never trust more. */
	if (run->io.data_offset > kt->m->run_size ||
	    bytes > kt->m->run_size - run->io.data_offset)
		return -EIO;
	bool out = run->io.direction == KVM_EXIT_IO_OUT, handled = false;
	if (kt->rev) {
		int err = reverse_io(kt->rev, false, run->io.port, out, data, (uint32_t)bytes,
				     &handled);
		if (err || handled)
			return err;
	}
	int err = devices_port_io(&kt->m->devices, run->io.port, out, run->io.size,
				  run->io.count, data);
	if (!err && kt->rev)
		err = reverse_io(kt->rev, true, run->io.port, out, data, (uint32_t)bytes, &handled);
	return err;
}

/* A guest access to a trapped page or to an address with no RAM. */
static void handle_mmio(struct kvm_target *kt, struct vcpu *c)
{
	struct machine *m = kt->m;
	struct kvm_run *run = c->run;
	uint64_t phys = run->mmio.phys_addr;
	uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;

	if (!machine_ram_contains(m, phys, len)) {
		/* Nothing there: reads float high, writes vanish. */
		if (!run->mmio.is_write)
			memset(run->mmio.data, 0xff, len);
		return;
	}
	if (run->mmio.is_write) {
		points_write_around(kt, phys, run->mmio.data, len);
		machine_note_written(m, phys, len);
		uint64_t first = phys / MACHINE_PAGE_SIZE;
		uint64_t last = (phys + len - 1) / MACHINE_PAGE_SIZE;
		for (uint64_t page = first; page <= last; page++)
			if (m->page_want[page] == PAGE_RW)
				machine_release_page(m, page);
	} else {
		memcpy(run->mmio.data, m->ram + phys, len);
		points_unshadow(kt, phys, run->mmio.data, len);
	}
	points_check_watches(kt, c, phys, len, run->mmio.is_write);
}

/* Lets KVM finish the instruction whose I/O or MMIO we just served,
 * without starting another: KVM completes pending userspace I/O before
 * it looks at immediate_exit. */
static int complete_instruction(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	for (int i = 0; i < COMPLETE_MAX_EXITS; i++) {
		int err = cpu_enter(c, true);
		if (err == -EINTR)
			return 0;
		if (err)
			return err;
		switch (c->run->exit_reason) {
		case KVM_EXIT_IO:
			err = handle_io(kt, c);
			if (err)
				return err;
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(kt, c);
			break;
		case KVM_EXIT_DEBUG: /* a step trap, delivered after the I/O */
		case KVM_EXIT_INTR:
			return 0;
		case KVM_EXIT_SHUTDOWN:
			stop_crash(stop, c, TARGET_CRASH_TRIPLE_FAULT, "triple fault");
			return 1;
		default:
			stop_crash(stop, c, TARGET_CRASH_INTERNAL_ERROR, "instruction did not complete");
			return 1;
		}
	}
	stop_crash(stop, c, TARGET_CRASH_INTERNAL_ERROR, "instruction did not complete");
	return 1;
}

static void stop_exited(struct target_stop *stop, int status)
{
	stop->reason = TARGET_STOP_EXITED;
	stop->exit_status = status;
}

/* KVM_EXIT_HLT (the bare machine: KVM runs no hlt itself): one of our
 * breakpoints, or the guest's own end. */
static void handle_hlt(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	uint64_t at = cpu_linear_pc(c) - 1;

	if (kt->bp_opcode == HLT_OPCODE && points_sw_at(kt, c, at)) {
		cpu_regs(c)->rip -= 1;
		cpu_regs_changed(c);
		if (kt->rev)
			reverse_uncount_instruction(kt->rev);
		stop->reason = TARGET_STOP_SWBREAK;
		stop->addr = at;
		return;
	}
	stop_exited(stop, 0);
}


/* ---- instructions the host refuses ---- */

/* What insn_complete reads and writes through: the vCPU whose
 * instruction it completes. */
struct completion {
	struct kvm_target *kt;
	struct vcpu *c;
};

static int complete_read(void *ctx, uint64_t linear, void *buf, size_t len)
{
	struct completion *how = ctx;
	return vcpu_read_mem_as(how->kt, how->c, linear, buf, len) == (long)len ? 0 : -EFAULT;
}

/* Writes the way a guest store would land: around our breakpoint bytes,
 * and seen by write watchpoints. All or nothing. */
static int complete_write(void *ctx, uint64_t linear, const void *buf, size_t len)
{
	struct completion *how = ctx;
	struct kvm_target *kt = how->kt;
	uint64_t phys, span;

	if (len && linear + (len - 1) < linear)
		return -EFAULT;
	for (size_t done = 0; done < len; done += span) {
		if (cpu_translate(how->c, linear + done, &phys, &span))
			return -EFAULT;
	}
	for (size_t done = 0; done < len;) {
		cpu_translate(how->c, linear + done, &phys, &span);
		uint64_t chunk = len - done < span ? len - done : span;
		points_write_around(kt, phys, (const uint8_t *)buf + done, chunk);
		points_check_watches(kt, how->c, phys, chunk, true);
		done += chunk;
	}
	return 0;
}

/* Finishes the instruction at rip as the SDM says (kvm/insn_complete.c).
 * Returns 0 when done; otherwise fills a crash stop naming it and returns
 * 1. */
static int complete_refused(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop,
			    const char *prefix)
{
	struct completion how = { kt, c };
	const struct insn_memory mem = { &how, complete_read, complete_write };
	char why[160];
	uint64_t start = now_ns();

	int err = insn_complete(cpu_regs(c), cpu_sregs(c), &mem, why, sizeof(why));
	if (err) {
		stop->reason = TARGET_STOP_CRASH;
		stop->crash = TARGET_CRASH_INTERNAL_ERROR;
		snprintf(stop->why, sizeof(stop->why), "%.40s: %.110s", prefix, why);
		return 1;
	}
	cpu_regs_changed(c);
	cpu_sregs_changed(c);
	__atomic_add_fetch(&kt->completions, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&kt->completion_ns, now_ns() - start, __ATOMIC_RELAXED);
	return 0;
}

/* KVM_EXIT_INTERNAL_ERROR. On PVM an emulation failure (suberror 1)
 * leaves rip at an instruction the emulator refused: our own int3
 * breakpoint, or a guest's int n/int3/iret that kvmstub completes.
 * Returns 0 when the guest may run on, 1 with *stop filled. */
static int handle_internal_error(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	struct machine *m = kt->m;
	uint64_t pc = cpu_linear_pc(c);
	char what[64];

	snprintf(what, sizeof(what), "KVM internal error, suberror %u", c->run->internal.suberror);
	if (c->run->internal.suberror != KVM_INTERNAL_ERROR_EMULATION) {
		stop_crash(stop, c, TARGET_CRASH_INTERNAL_ERROR, what);
		return 1;
	}
	struct sw_breakpoint *bp = kt->bp_opcode == INT3_OPCODE ? points_sw_at(kt, c, pc) : NULL;
	if (bp && m->ram[bp->phys] == INT3_OPCODE) {
		/* The counter counted the refused int3 (measured). */
		if (kt->rev)
			reverse_uncount_instruction(kt->rev);
		stop->reason = TARGET_STOP_SWBREAK;
		stop->addr = pc;
		return 1;
	}
	return complete_refused(kt, c, stop, what);
}

static void handle_debug(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop,
			 bool stepping)
{
	uint64_t dr6 = c->run->debug.arch.dr6;
	uint64_t pc = cpu_linear_pc(c);

	if (c->run->debug.arch.exception == 3) {
		/* int3 with KVM_GUESTDBG_USE_SW_BP (hosts where it traps): rip
		 * is still at the int3. Not ours: the guest's own breakpoint,
		 * shown to gdb as a SIGTRAP it did not plant. */
		uint64_t at = c->run->debug.arch.pc;
		stop->addr = at;
		if (points_sw_at(kt, c, at)) {
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

/* ---- instructions that a trapped page stalls ----
 *
 * Some accesses the CPU makes by itself cannot complete on a trapped page
 * (measured on this host; the KVM sources say VMX/SVM do the same): KVM's
 * emulator writes a descriptor's accessed bit with kvm_write_guest, which
 * fails on a read-only slot, and reads descriptors with kvm_read_guest,
 * which fails on a slot hole; the instruction is then neither finished
 * nor reported but re-entered for ever inside KVM_RUN, which only our
 * periodic tick ends (rip at the instruction). Events delivered through
 * an IDT, a stack or page tables on such a page end in a triple fault
 * here (an internal error on VMX), the guest state still before the
 * instruction. Both are met the same way: that one instruction runs with
 * every trap lifted, then the traps come back and what it wrote to
 * breakpoint or watched bytes is reconciled (kvm/points.c). */

static int step_instruction(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop);

/* With the in-kernel irqchip a halted vCPU sits after its hlt without
 * exits: that is waiting, not a stall. */
static bool pc_follows_hlt(struct kvm_target *kt, struct vcpu *c, uint64_t pc)
{
	uint8_t before;
	return pc && vcpu_read_mem_as(kt, c, pc - 1, &before, 1) == 1 && before == HLT_OPCODE;
}

/* CPU time a vCPU's thread must have had for "no progress" to mean
 * anything: 1 ms is a thousand instructions even where the host emulates
 * them, and a starved thread (more busy vCPUs than host CPUs, a loaded
 * host) gets less between two ticks. Taking such a tick for a stall lifts
 * traps for nothing or, already lifted, stops the guest with "no
 * progress"; during recording (1 ms ticks) it also nested a probe step
 * inside a counted one. */
#define STALL_MIN_CPU_NS 1000000ULL

/* At a tick: the guest sat at one pc without a single exit since the last
 * tick while its thread ran, and a trapped page may be why. */
static bool stalled_at_tick(struct kvm_target *kt, struct vcpu *c)
{
	if (!kt->m->ntrapped && !c->lifted) {
		c->tick_valid = false;
		return false;
	}
	uint64_t pc = cpu_linear_pc(c);
	uint64_t cpu = thread_cpu_ns();
	bool unmoved = c->tick_valid && c->exits_since_tick == 0 && c->tick_pc == pc;

	if (unmoved && cpu - c->tick_cpu_ns < STALL_MIN_CPU_NS)
		return false; /* not run enough to tell: keep counting to the next tick */
	c->tick_valid = true;
	c->tick_pc = pc;
	c->tick_cpu_ns = cpu;
	c->exits_since_tick = 0;
	return unmoved && !pc_follows_hlt(kt, c, pc);
}

/* About 0.4 ms a lifted instruction: after half a second of progress
 * made only that way the user hears why, rather than waiting on a guest
 * a thousand times slower. */
#define LIFT_STREAK_LIMIT 1000

/* The CPU keeps reaching into a trapped page by itself at every
 * instruction: page tables under a read watch, typically. */
static bool stop_if_crawling(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	uint64_t page = 0;

	if (c->lift_streak < LIFT_STREAK_LIMIT)
		return false;
	c->lift_streak = 0;
	for (size_t i = 0; i < kt->ntraps; i++)
		if (!page || kt->traps[i].access == PAGE_ACCESS_TRAP)
			page = kt->traps[i].page * MACHINE_PAGE_SIZE;
	stop->reason = TARGET_STOP_CRASH;
	stop->crash = TARGET_CRASH_INTERNAL_ERROR;
	snprintf(stop->why, sizeof(stop->why),
		 "the guest runs one instruction at a time: the CPU itself keeps reaching "
		 "into trapped page 0x%llx (page tables under rwatch?)", (unsigned long long)page);
	return true;
}

/* Runs the instruction at pc with the traps lifted. Returns 1 when *stop
 * is for the caller to report, 0 when the guest runs on. A stalled
 * instruction must run rather than a pending interrupt (which would only
 * bring the guest back to it): block_irq; an event whose delivery failed
 * must be delivered now: not. */
static int run_lifted(struct kvm_target *kt, struct vcpu *c, bool stepping, bool block_irq,
		      struct target_stop *stop)
{
	struct machine *m = kt->m;
	int err = points_snapshot(kt);
	if (!err)
		err = machine_lift_traps(m, true);
	if (err)
		return err;
	uint64_t pc = cpu_linear_pc(c);
	c->lift_streak = pc == c->lift_end_pc ? c->lift_streak + 1 : 1;
	bool blocked = kt->step_blocks_irq;
	c->lifted = true;
	kt->step_blocks_irq = block_irq;
	err = step_instruction(kt, c, stop);
	kt->step_blocks_irq = blocked;
	c->lift_end_pc = cpu_linear_pc(c);
	c->lifted = false;
	int restored = machine_lift_traps(m, false);
	if (err || restored)
		return err ? err : restored;
	points_reconcile(kt, c);
	if (stop->reason != TARGET_STOP_STEP)
		return 1;
	if (c->watch_hit) {
		stop->reason = c->watch_reason;
		stop->addr = c->watch_addr;
		return 1;
	}
	if (stepping)
		return 1;
	err = points_apply_debug(kt, c, false);
	return err ? err : 0;
}

/* At a tick with no exit and no move since the last: one step with the
 * traps in place tells a tight loop (the step finishes at once) from a
 * stall (it does not finish before the next tick); only a stall pays for
 * lifting the traps, which changes memory slots. */
static int probe_then_lift(struct kvm_target *kt, struct vcpu *c, bool stepping, struct target_stop *stop)
{
	bool blocked = kt->step_blocks_irq;
	c->probing = true;
	c->probe_stalled = false;
	c->probe_cpu_ns = thread_cpu_ns();
	kt->step_blocks_irq = true; /* an interrupt would look like progress */
	int err = step_instruction(kt, c, stop);
	kt->step_blocks_irq = blocked;
	c->probing = false;
	if (err)
		return err;
	/* A probe that ran its instruction before the tick ended it is no
	 * stall, and running lifted would run the next instruction too. */
	if (c->probe_stalled && stop->reason != TARGET_STOP_STEP)
		return run_lifted(kt, c, stepping, true, stop);
	if (stop->reason != TARGET_STOP_STEP || stepping)
		return 1;
	err = points_apply_debug(kt, c, false);
	return err ? err : 0;
}

/* A triple fault while pages are trapped may be the traps' doing (event
 * delivery through them, here), and so may an internal error about event
 * delivery (VMX/SVM refuse to emulate an access to such a page while
 * delivering: KVM_INTERNAL_ERROR_DELIVERY_EV): worth one lifted try. An
 * emulation failure is not (an instruction the host cannot run, which the
 * run loop may complete itself), nor a breakpoint byte at pc. */
static bool failure_may_be_traps(struct kvm_target *kt, struct vcpu *c)
{
	const struct kvm_run *run = c->run;

	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR &&
	    run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
		return false;
	return !c->lifted && kt->m->ntrapped &&
	       !points_sw_at(kt, c, cpu_linear_pc(c));
}

/* The host cannot fetch instructions from a page left out of the slots
 * for a read or access watchpoint. Running them lifted would work but
 * would hide the very reads the watchpoint is for, so the user hears why
 * the guest stopped and what to do instead. */
static bool fetch_from_hole(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	struct machine *m = kt->m;
	uint64_t pc = cpu_linear_pc(c), phys, span;

	if (c->lifted || cpu_translate(c, pc, &phys, &span) ||
	    m->page_now[phys / MACHINE_PAGE_SIZE] != PAGE_ACCESS_TRAP)
		return false;
	stop->reason = TARGET_STOP_CRASH;
	stop->crash = TARGET_CRASH_INTERNAL_ERROR;
	snprintf(stop->why, sizeof(stop->why),
		 "the guest runs code at 0x%llx on page 0x%llx, which a read/access "
		 "watchpoint traps; delete it, or use `watch`, or put the data on its own page",
		 (unsigned long long)pc, (unsigned long long)(phys & ~(MACHINE_PAGE_SIZE - 1)));
	return true;
}

/* Runs the vCPU until something the debugger must hear about. Port I/O
 * and MMIO are served here, so serial output flows while gdb waits. */
static int run_guest(struct kvm_target *kt, struct vcpu *c, bool stepping,
		     struct target_stop *stop)
{
	struct machine *m = kt->m;
	struct devices *dev = &m->devices;
	int err = points_apply_debug(kt, c, stepping);

	if (err)
		return err;
	c->watch_hit = false;
	c->tick_valid = false;
	for (;;) {
		if (dev->out_len) {
			err = devices_flush(dev);
			if (err)
				return err;
		}
		err = cpu_enter(c, false);
		if (err == -EINTR && kt->rev) {
			/* Recording on a machine with interrupts: a tick lets
			 * pending ones in (kvm/reverse.c). */
			int window = reverse_window(kt->rev, stop);
			if (window < 0)
				return window;
			if (window == 1)
				return devices_flush(dev);
			if (window == 2) {
				err = points_apply_debug(kt, c, stepping);
				if (err)
					return err;
				continue;
			}
		}
		if (err == -ETIME) {
			if (c->probing && (m->ntrapped || c->lifted)) {
				if (thread_cpu_ns() - c->probe_cpu_ns < STALL_MIN_CPU_NS)
					continue; /* starved, not stalled: the step goes on */
				/* One instruction took a millisecond of CPU. */
				c->probe_stalled = true;
				stop->reason = TARGET_STOP_INTERRUPTED;
				return 0;
			}
			if (!stalled_at_tick(kt, c))
				continue;
			if (c->lifted) {
				stop_crash(stop, c, TARGET_CRASH_INTERNAL_ERROR,
					   "no progress even with the trapped pages lifted");
				return 0;
			}
			err = probe_then_lift(kt, c, stepping, stop);
			if (err)
				return err < 0 ? err : devices_flush(dev);
			continue;
		}
		if (err == -EINTR) {
			stop->reason = TARGET_STOP_INTERRUPTED;
			c->maybe_halted = m->has_irqchip;
			return 0;
		}
		if (err == CPU_GUEST_ENDED) {
			stop_exited(stop, 0);
			return devices_flush(dev);
		}
		if (err)
			return err;
		c->exits_since_tick++;
		if (!c->lifted && !c->probing && stop_if_crawling(kt, c, stop))
			return devices_flush(dev);

		if (c->run->exit_reason == KVM_EXIT_INTERNAL_ERROR && fetch_from_hole(kt, c, stop))
			return devices_flush(dev);
		if ((c->run->exit_reason == KVM_EXIT_SHUTDOWN ||
		     c->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) && failure_may_be_traps(kt, c)) {
			err = run_lifted(kt, c, stepping, false, stop);
			if (err)
				return err < 0 ? err : devices_flush(dev);
			continue;
		}

		switch (c->run->exit_reason) {
		case KVM_EXIT_IO:
			err = handle_io(kt, c);
			if (err)
				return err;
			if (dev->exit_requested) {
				stop_exited(stop, dev->exit_status);
				return devices_flush(dev);
			}
			if (stepping) {
				err = complete_instruction(kt, c, stop);
				if (err < 0)
					return err;
				if (err == 0)
					stop->reason = TARGET_STOP_STEP;
				return devices_flush(dev);
			}
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(kt, c);
			if (c->watch_hit || stepping) {
				err = complete_instruction(kt, c, stop);
				if (err < 0)
					return err;
				if (err == 0) {
					stop->reason = c->watch_hit ? c->watch_reason
								    : TARGET_STOP_STEP;
					stop->addr = c->watch_addr;
				}
				return devices_flush(dev);
			}
			break;
		case KVM_EXIT_HLT:
			handle_hlt(kt, c, stop);
			return devices_flush(dev);
		case KVM_EXIT_DEBUG:
			handle_debug(kt, c, stop, stepping);
			if (stop->reason == TARGET_STOP_CRASH && (cpu_sregs(c)->cr0 & 1)) {
				/* The guest's own int3 where USE_SW_BP traps every
				 * int3: give it to the guest's IDT as the CPU would
				 * have (a #BP trap frame). Real mode stays a stop. */
				if (complete_refused(kt, c, stop, "the guest's own int3"))
					return devices_flush(dev);
				memset(stop, 0, sizeof(*stop));
				if (!stepping)
					break;
				stop->reason = TARGET_STOP_STEP;
				stop->addr = cpu_linear_pc(c);
			}
			return devices_flush(dev);
		case KVM_EXIT_INTR:
			stop->reason = TARGET_STOP_INTERRUPTED;
			return 0;
		case KVM_EXIT_SHUTDOWN:
			stop_crash(stop, c, TARGET_CRASH_TRIPLE_FAULT, "triple fault (shutdown)");
			return devices_flush(dev);
		case KVM_EXIT_INTERNAL_ERROR:
			if (handle_internal_error(kt, c, stop))
				return devices_flush(dev);
			if (c->watch_hit) {
				/* The completed instruction's frame landed on a
				 * watched stack. */
				stop->reason = c->watch_reason;
				stop->addr = c->watch_addr;
				return devices_flush(dev);
			}
			if (stepping) {
				stop->reason = TARGET_STOP_STEP;
				return devices_flush(dev);
			}
			break;
		case KVM_EXIT_FAIL_ENTRY: {
			char what[64];
			snprintf(what, sizeof(what), "VM entry failed, reason 0x%llx",
				 (unsigned long long)c->run->fail_entry.hardware_entry_failure_reason);
			stop_crash(stop, c, TARGET_CRASH_ENTRY_FAILED, what);
			return devices_flush(dev);
		}
		default: {
			char what[64];
			snprintf(what, sizeof(what), "unexpected KVM exit %u", c->run->exit_reason);
			stop_crash(stop, c, TARGET_CRASH_INTERNAL_ERROR, what);
			return devices_flush(dev);
		}
		}
	}
}

/* Reads the instruction at pc as the guest wrote it (up to 15 bytes). */
static size_t fetch_instruction(struct kvm_target *kt, struct vcpu *c, uint8_t insn[15])
{
	long n = vcpu_read_mem_as(kt, c, cpu_linear_pc(c), insn, 15);
	return n > 0 ? (size_t)n : 0;
}

/* A rep-prefixed string instruction: what a step must do to run only one
 * iteration. Returns the counter width in bytes, 0 if not such an
 * instruction; *repne for F2, *compares for cmps/scas. */
static unsigned rep_string_width(struct vcpu *c, const uint8_t *insn, size_t n,
				 bool *repne, bool *compares, unsigned *length)
{
	const struct kvm_sregs *s = cpu_sregs(c);
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

/* Where the guest's stack was before a step, to find an event frame the
 * step pushed. */
struct frame_before {
	uint64_t sp;    /* linear */
	uint64_t rsp, rflags;
	uint16_t cs;
	unsigned width; /* of one stack slot: 8, 4 or 2 */
};

static void note_frame_before(struct vcpu *c, struct frame_before *b)
{
	const struct kvm_sregs *s = cpu_sregs(c);
	const struct kvm_regs *r = cpu_regs(c);

	b->rsp = r->rsp;
	b->rflags = r->rflags;
	b->cs = s->cs.selector;
	b->width = (s->efer & EFER_LMA) ? 8 : (s->cr0 & CR0_PE) ? 4 : 2;
	b->sp = s->ss.base + (b->width == 2 ? (r->rsp & 0xffff) : r->rsp);
}

static uint64_t read_slot(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	memcpy(&v, p, width); /* x86 is little-endian, as is the host */
	return v;
}

/* A step that delivers an exception runs with the trap flag the step set,
 * and the CPU pushes RFLAGS as it is: the frame then holds TF=1 and the
 * guest's iret would turn stepping on inside the guest (measured here; on
 * VMX the hardware pushes TF the same way). Find the frame just above the
 * new stack pointer (the host may have run the handler's first
 * instruction, a push perhaps) and clear the flag the guest never set. */
static void clear_leaked_trap_flag(struct kvm_target *kt, struct vcpu *c,
				   const struct frame_before *b)
{
	struct machine *m = kt->m;
	const struct kvm_sregs *s = cpu_sregs(c);
	uint64_t sp = s->ss.base + (b->width == 2 ? (cpu_regs(c)->rsp & 0xffff)
						  : cpu_regs(c)->rsp);
	uint8_t frame[8 * 8];
	unsigned w = b->width;

	/* Delivery moves the stack pointer: down, or in 64-bit mode to an IST
	 * stack anywhere; most steps leave it alone and cost nothing here. */
	if ((b->rflags & RFLAGS_TF) || sp == b->sp || (sp > b->sp && w != 8))
		return;
	long got = vcpu_read_mem_as(kt, c, sp, frame, sizeof(frame));
	for (unsigned k = 0; k + 4 <= 8 && (long)((k + 4) * w) <= got; k++) {
		const uint8_t *f = frame + k * w;
		uint64_t flags = read_slot(f + 2 * w, w);
		bool matches = (read_slot(f + w, w) & 0xffff) == b->cs && (flags & RFLAGS_TF) &&
			       ((flags ^ b->rflags) & ~(RFLAGS_TF | RFLAGS_RF) & width_mask(w)) == 0;
		/* 64-bit frames hold the old rsp; others end where it was. */
		matches = matches && (w == 8 ? read_slot(f + 3 * w, w) == b->rsp
					     : sp + (k + 3) * w == b->sp);
		uint64_t phys, span;
		if (matches && !cpu_translate(c, sp + (k + 2) * w + 1, &phys, &span)) {
			m->ram[phys] &= (uint8_t)~(RFLAGS_TF >> 8);
			return;
		}
	}
}

/* Exactly one instruction, with a breakpoint at pc lifted for it; not
 * counted for recording (single_step does that). Steps nest: a step whose
 * KVM_RUN sees two ticks without an exit probes for a stall with a step of
 * its own, which may run the instruction lifted with a third: all of them
 * run that one instruction. */
static int step_instruction(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	struct machine *m = kt->m;
	uint8_t insn[15];
	size_t n = fetch_instruction(kt, c, insn);
	bool repne = false, compares = false;
	unsigned length = 0;
	/* Replay steps what the instruction counter counts: one KVM step. */
	bool raw = kt->rev && reverse_replaying(kt->rev);
	unsigned width = n && !raw ? rep_string_width(c, insn, n, &repne, &compares, &length) : 0;
	struct kvm_regs *regs = cpu_regs(c);
	uint64_t start_rip = regs->rip, mask = width_mask(width ? width : 8);
	uint64_t count = width ? regs->rcx & mask : 0;

	if (c->maybe_halted) {
		/* Stopped by a signal while in hlt: the step runs what follows
		 * it rather than wait for an interrupt it may not take. */
		c->maybe_halted = false;
		int err = cpu_wake_if_halted(c);
		if (err)
			return err;
	}
	if (n && insn[0] == HLT_OPCODE) {
		/* The host would run on past hlt. With IF=0 (or no irqchip) it
		 * is the guest's end — with several vCPUs, this one's: it stays
		 * halted until another wakes it. With interrupts on, the step
		 * ends after it as if woken at once: the interrupt that would
		 * wake it stays pending for the next continue. */
		regs->rip += 1;
		cpu_regs_changed(c);
		if (m->has_irqchip && (regs->rflags & (1ULL << 9))) {
			stop->reason = TARGET_STOP_STEP;
			stop->addr = cpu_linear_pc(c);
		} else if (m->smp) {
			int err = cpu_set_mp_state(c, KVM_MP_STATE_HALTED);
			if (err)
				return err;
			stop->reason = TARGET_STOP_STEP;
			stop->addr = cpu_linear_pc(c);
		} else {
			stop_exited(stop, 0);
		}
		return 0;
	}
	if (count > 1) {
		regs->rcx = (regs->rcx & ~mask) | 1;
		cpu_regs_changed(c);
	}

	struct frame_before before;
	note_frame_before(c, &before);
	struct sw_breakpoint *bp = points_sw_at(kt, c, cpu_linear_pc(c));
	if (bp)
		m->ram[bp->phys] = bp->original;
	struct kvm_regs regs_before = *cpu_regs(c);
	int err = run_guest(kt, c, true, stop);
	if (!err && stop->reason == TARGET_STOP_STEP)
		clear_leaked_trap_flag(kt, c, &before);
	/* A step over an instruction that a trapped page stalls may end
	 * without the instruction having run (a far jump into long mode with
	 * the GDT on such a page, here): no change at all is no progress. */
	if (!err && stop->reason == TARGET_STOP_STEP && !c->lifted && m->ntrapped &&
	    !memcmp(&regs_before, cpu_regs(c), sizeof(regs_before))) {
		int lifted = run_lifted(kt, c, true, true, stop);
		err = lifted < 0 ? lifted : 0;
	}
	if (!err && stop->reason == TARGET_STOP_INTERRUPTED) {
		/* A signal ended KVM_RUN. If the instruction ran, the step is
		 * done; if not, the caller hears of the signal (it stays
		 * pending until taken, so running again here would spin). */
		const struct kvm_regs *now = cpu_regs(c);
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
		regs = cpu_regs(c);
		bool done_one = count == 0 || (regs->rcx & mask) == 0;
		bool ended_early = compares && done_one &&
				   (repne ? (regs->rflags & RFLAGS_ZF) : !(regs->rflags & RFLAGS_ZF));
		uint64_t left = !done_one ? count : count ? count - 1 : 0;
		regs->rcx = (regs->rcx & ~mask) | left;
		if (done_one)
			regs->rip = (left && !ended_early) ? start_rip : start_rip + length;
		cpu_regs_changed(c);
		if (kt->rev)
			reverse_split_step(kt->rev);
	} else if (count > 1) {
		regs = cpu_regs(c);
		regs->rcx = (regs->rcx & ~mask) | count; /* the step did not run */
		cpu_regs_changed(c);
	}
	return 0;
}

/* A step as the debugger asks for it, and as recording by single steps
 * counts it: once, here, however many nested steps it took (a step
 * counted at every level put every position after a loaded moment one
 * too far, in recording and replay alike). */
static int single_step(struct kvm_target *kt, struct vcpu *c, struct target_stop *stop)
{
	int err = step_instruction(kt, c, stop);

	if (!err && kt->rev)
		reverse_stepped(kt->rev, stop);
	return err;
}

/* The guest's end was a reset that starts it again: not with --no-reboot,
 * and only where the machine knows how to boot the image again. */
static bool guest_reset_restarts(const struct kvm_target *kt, const struct target_stop *stop)
{
	const struct devices *dev = &kt->m->devices;

	/* Several vCPUs: kvm/smp.c restarts, with every vCPU parked. */
	return stop->reason == TARGET_STOP_EXITED && dev->reset_requested && !dev->no_reboot &&
	       kt->boot && !kt->m->smp;
}

int run_loop_resume_cpu(struct kvm_target *kt, struct vcpu *c, const struct target_resume *how,
			struct target_stop *stop)
{
	bool was_interrupted = c->interrupted;
	bool moved = false; /* an instruction of this resume completed */
	int err = 0;

	uint64_t pc_at_start = cpu_linear_pc(c);

	memset(stop, 0, sizeof(*stop));
	c->interrupted = false;
	switch (how->kind) {
	case TARGET_RESUME_STEP:
		err = single_step(kt, c, stop);
		break;
	case TARGET_RESUME_RANGE:
		for (bool first = true;; first = false) {
			uint64_t pc = cpu_linear_pc(c);
			enum target_stop_reason hit;
			if (!first && points_break_at(kt, c, pc, &hit)) {
				stop->reason = hit;
				stop->addr = pc;
				break;
			}
			err = single_step(kt, c, stop);
			if (err || stop->reason != TARGET_STOP_STEP)
				break;
			moved = true;
			pc = cpu_linear_pc(c);
			if (pc < how->range_start || pc >= how->range_end)
				break;
		}
		break;
	case TARGET_RESUME_CONTINUE: {
		uint64_t pc = cpu_linear_pc(c);
		if (!was_interrupted && (points_sw_at(kt, c, pc) || points_hw_at(kt, pc))) {
			err = single_step(kt, c, stop);
			if (err || stop->reason != TARGET_STOP_STEP)
				break;
			moved = true;
		}
		err = run_guest(kt, c, false, stop);
		break;
	}
	default:
		return -ENOTSUP; /* reverse kinds: kvm/reverse.c */
	}
	while (!err && guest_reset_restarts(kt, stop)) {
		/* The breakpoints go back into the new image (gdb still
		 * believes them inserted), so one at the entry fires again. */
		err = sysops_restart(kt, "", NULL);
		memset(stop, 0, sizeof(*stop));
		if (err)
			break;
		if (how->kind != TARGET_RESUME_CONTINUE) {
			/* The step's instruction was the reset: it ends before
			 * the first instruction of the new boot. */
			stop->reason = TARGET_STOP_STEP;
			stop->addr = cpu_linear_pc(c);
			break;
		}
		err = run_guest(kt, c, false, stop);
	}
	/* Interrupted after the guest moved: it may sit on a breakpoint that
	 * has not fired yet, so the next resume must not step off it. Not
	 * moved: whatever was owed (a step off a breakpoint) is still owed.
	 * The pc alone cannot tell: a loop brings the guest back to where it
	 * started, and a kick there, before the breakpoint's #DB, would
	 * otherwise have the next resume step over an unseen hit (several
	 * vCPUs, a debug-register breakpoint that stays inserted). */
	if (!err && stop->reason == TARGET_STOP_INTERRUPTED)
		c->interrupted = moved || cpu_linear_pc(c) != pc_at_start || was_interrupted;
	stop->thread = c->index + 1;
	return err;
}

int run_loop_resume(void *t, const struct target_resume *how, struct target_stop *stop)
{
	struct kvm_target *kt = kvm_target_of(t);

	if (kt->rev) {
		bool handled;
		int err = reverse_resume(kt->rev, how, stop, &handled);
		if (handled) {
			/* Replayed or found by a scan of the history: no exit of
			 * now to time it from. */
			stop->event_ns = 0;
			return err;
		}
	}
	return run_loop_resume_live(kt, how, stop);
}

int run_loop_resume_live(struct kvm_target *kt, const struct target_resume *how,
			 struct target_stop *stop)
{
	if (kt->m->smp)
		return smp_resume(kt, how, stop);
	struct vcpu *c = &kt->m->cpus[0];
	c->exit_ns = 0; /* stays 0 if no KVM_RUN ran: no event to time */
	int err = run_loop_resume_cpu(kt, c, how, stop);
	stop->event_ns = c->exit_ns;
	return err;
}
