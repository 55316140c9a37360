/* kvm/vcpu.h — the KVM vCPUs as a debugger target (stub/target.h), one
 * gdb thread per vCPU.
 *
 * Three files implement it (and kvm/smp.c when there are several vCPUs), because how each part works depends on what
 * the host's KVM can do (see DESIGN.md and the README): kvm/vcpu_state.c
 * (registers and memory), kvm/points.c (breakpoints, watchpoints and the
 * pages they trap) and kvm/run_loop.c (entering the guest, exits, steps). */
#ifndef KVMSTUB_KVM_VCPU_H
#define KVMSTUB_KVM_VCPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/machine.h"
#include "stub/target.h"

/* Loads an image into the reset machine and sets its boot state. file is
 * the image gdb named ("" for kvmstub's own), cmdline the boot command
 * line (NULL: the one used last). 0 or a negative errno, with a one-line
 * reason in the machine's error. */
typedef int (*kvm_target_boot_fn)(void *ctx, const char *file, const char *cmdline);

struct sw_breakpoint {
	uint64_t addr; /* linear, as gdb gave it */
	uint64_t phys;
	uint8_t original;
};

struct watchpoint {
	enum target_point kind;
	uint64_t addr, len;    /* linear */
	unsigned nparts;
	uint64_t phys[2], plen[2]; /* a watch may straddle one page boundary */
};

#define KVM_TARGET_MAX_WATCH_LEN 4096

struct trap_page {
	uint64_t page;
	uint8_t access; /* enum page_access */
};

struct reverse;

struct kvm_target {
	struct machine *m;
	struct reverse *rev; /* reverse execution (kvm/reverse.c), or NULL */
	/* Interrupts held back (KVM_GUESTDBG_BLOCKIRQ) whatever the run:
	 * recording and replay let them in only at chosen points. */
	bool hold_irqs;
	/* The step of a recording's interrupt window: its execution
	 * breakpoints (one of them on the handler) stay armed. */
	bool window_step;
	/* gdb's layout for the whole run, from the image (kvm/boot_image.c);
	 * when not fixed it follows the mode the machine was booted in. */
	bool arch_fixed;
	enum target_arch arch;
	struct sw_breakpoint *sw;
	size_t nsw, sw_cap;
	struct watchpoint *watch;
	size_t nwatch, watch_cap;
	/* The pages they trap, as last given to the machine. */
	struct trap_page *traps;
	size_t ntraps, traps_cap;
	/* Why the last refused insert_point was refused (for the user). */
	char point_error[200];
	bool hw_used[4];
	bool hw_for_sw[4]; /* a Z0 whose address was not mapped */
	uint8_t hw_watch[4]; /* 0, or the TARGET_POINT_ kind of a data watch */
	uint8_t hw_len[4];
	bool dr_watch_fires; /* the start-up probe saw a DR7 data watch fire */
	uint64_t hw_addr[4];
	/* The software breakpoint byte: hlt (0xf4) on the bare machine, int3
	 * (0xcc) where a start-up probe showed KVM_GUESTDBG_USE_SW_BP traps it
	 * (use_sw_bp) or, on the pc machine, where int3 ends KVM_RUN with an
	 * internal error at it (PVM, protected and long mode only: real-mode
	 * int3 goes to the guest's IVT there, so Z0 takes a debug register). */
	uint8_t bp_opcode;
	bool use_sw_bp;
	bool sw_bp_real_mode; /* bp_opcode traps in real mode too */
	/* Instructions the host refused and kvmstub completed (insn_complete),
	 * and the time that took. */
	uint64_t completions, completion_ns;
	/* Several vCPUs: their threads and the all-stop (kvm/smp.c). */
	struct smp *smp;
	/* Stall detection (the CPU's own access to a descriptor table, stack
	 * or page table on a trapped page never completes) is per vCPU: see
	 * struct vcpu and kvm/run_loop.c. */
	/* Steps take no interrupt (KVM_GUESTDBG_BLOCKIRQ, where the host has
	 * it): on unless the user said "monitor step-irq on". */
	bool step_blocks_irq;
	/* The watched bytes as they were before a lifted instruction. */
	uint8_t *snapshot;
	size_t snapshot_cap;
	/* Loads the image and sets up the boot state again, for a restart
	 * (kvm/sysops.c); NULL: restart is not available. */
	kvm_target_boot_fn boot;
	void *boot_ctx;
};

/* Returns 0 or a negative errno (starting the vCPU threads of an SMP
 * machine can fail). */
int kvm_target_init(struct kvm_target *kt, struct machine *m, const struct host_caps *caps);
void kvm_target_destroy(struct kvm_target *kt);
struct target kvm_target_as_target(struct kvm_target *kt);
/* Who boots the guest again on a restart. */
void kvm_target_set_boot(struct kvm_target *kt, kvm_target_boot_fn boot, void *ctx);

#endif
