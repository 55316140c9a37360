/* kvm/machine.h — the virtual machine: /dev/kvm, guest RAM and its memory
 * slots, the irqchip, the devices, and its vCPUs (kvm/cpu.h, one or more).
 *
 * The only module (with kvm/cpu.c, kvm/vcpu_state.c, kvm/points.c,
 * kvm/run_loop.c, kvm/smp.c, kvm/boot.c, kvm/reset.c and kvm/sysops.c)
 * that issues KVM ioctls. Errors come back as negative errnos with a one-line explanation
 * in machine->error; nothing here prints or exits.
 */
#ifndef KVMSTUB_MACHINE_H
#define KVMSTUB_MACHINE_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdbool.h>
#include <stdint.h>

#include "kvm/cpu.h"
#include "kvm/devices.h"
#include "kvm/exit_stats.h"

#define MACHINE_PAGE_SIZE 4096ULL
/* RAM ends below the 3 GiB mark so the area KVM needs for its real-mode
 * TSS on older VMX hosts (just below 4 GiB) is never guest RAM. */
#define MACHINE_MAX_RAM (3ULL << 30)
#define MACHINE_MAX_SLOTS 512
#define MACHINE_MAX_CHANGED_PAGES 64
/* APIC ids 0..254 (0xff is the broadcast id): the most vCPUs a PC's MP
 * table and MADT can list, whatever KVM allows. */
#define MACHINE_MAX_CPUS 255
/* Where the pc machine's MP and ACPI tables go (kvm/fwtables.h). */
#define MACHINE_FWTABLES_ADDR 0xf0000ULL

enum machine_mode { MACHINE_MODE_REAL, MACHINE_MODE_PROTECTED, MACHINE_MODE_LONG };

/* What a RAM page is to the guest: ordinary memory, memory whose writes
 * exit to us (a read-only slot), or no memory at all so every access exits
 * (a hole in the slots). Ordered: a page takes the strongest it is asked. */
enum page_access { PAGE_RW = 0, PAGE_WRITE_TRAP = 1, PAGE_ACCESS_TRAP = 2 };

struct machine_config {
	uint64_t ram_size;
	int out_fd;
	int in_fd;
	bool trace_io;
	const uint16_t *console_ports;
	unsigned nconsole_ports;
	/* The pc machine: KVM's in-kernel interrupt controllers and PIT,
	 * and devices beyond the bare machine's (see kvm/devices.h). Off:
	 * the original bare machine, where `hlt` ends the guest. */
	bool pc_devices;
	bool keyboard;
	bool vga;
	bool no_reboot;
	unsigned ncpus; /* vCPUs (--smp), also in the firmware tables, CMOS and fw_cfg; 0 means 1 */
};

struct machine_slot {
	uint32_t id;
	uint64_t start, size; /* guest-physical */
	uint32_t flags;
};

struct machine {
	int kvm_fd, vm_fd;
	/* The vCPU the debugger's calls are about (machine_select_cpu); its
	 * fd and kvm_run are cur->fd and cur->run. */
	struct vcpu *cur;
	struct vcpu *cpus;
	unsigned ncpus;
	size_t run_size;
	uint8_t *ram;
	uint64_t ram_size;
	uint64_t npages;
	enum machine_mode mode;
	bool has_sync_regs;
	bool has_readonly_mem;
	bool has_blockirq; /* KVM_GUESTDBG_BLOCKIRQ: a step takes no interrupt */
	unsigned max_slots;

	/* Slot layout: what each page should be, what KVM has now. */
	uint8_t *page_want;
	uint8_t *page_now;
	uint8_t *page_release; /* a sticky write trap the guest wrote through */
	bool layout_dirty;
	unsigned nchanged;
	bool changes_overflowed;
	uint64_t changed_pages[MACHINE_MAX_CHANGED_PAGES];
	unsigned nslots;
	struct machine_slot slots[MACHINE_MAX_SLOTS];
	/* Every page is plain RAM for now, whatever is wanted: the run loop
	 * lets one instruction the trapped pages stall run this way. */
	bool traps_lifted;
	unsigned ntrapped; /* pages that are not plain RAM in the slots now */

	/* Output ports whose OUTs KVM queues in a ring instead of exiting
	 * (coalesced PIO): half the cost of a byte. A periodic timer signal
	 * ends KVM_RUN now and then so queued output is never held back. */
	struct kvm_coalesced_mmio_ring *ring;
	unsigned ring_max;
	bool com1_coalesced; /* 0x3f8 is in the ring now */
	bool has_flush_timer;
	timer_t flush_timer;
	/* machine_enter returns -ETIME when the flush tick ended a run, so
	 * the caller can look at the guest's progress every tick. */
	bool report_ticks;

	struct devices devices;

	/* Several vCPUs (kvm/smp.c): each runs on its own thread and holds
	 * `lock` whenever it is outside KVM_RUN, so exits that touch VM-wide
	 * state (devices, slots, breakpoint bytes) are served one at a time.
	 * One vCPU: no threads, no lock. */
	bool smp;
	pthread_mutex_t lock;
	struct smp *threads;
	sigset_t run_sigmask; /* what the main thread unblocks in KVM_RUN */
	/* The pc machine: in-kernel 8259s, IOAPIC, LAPIC and PIT; false on
	 * bare. `hlt` is then handled inside KVM; a vCPU halted with IF=0 is
	 * found on the periodic tick (cpu_enter: CPU_GUEST_ENDED). */
	bool has_irqchip;
	struct exit_stats exits;

	/* Restart (kvm/reset.c): RAM slots log the guest's writes; pages
	 * the host wrote or a deleted slot logged are kept here (one bit a
	 * page), so a restart clears only what was touched. */
	bool dirty_logging;
	uint64_t *touched;
	uint64_t *dirty_scratch; /* one slot's KVM_GET_DIRTY_LOG bitmap */
	struct machine_reset_state *reset_state; /* the vCPU as created */

	/* Reverse execution (kvm/reverse.c): the guest's writes since the last
	 * snapshot (one bit a page; the dirty log and host writes land here
	 * too while it is allocated). tick_hook runs at each timer tick during
	 * KVM_RUN and returns true to end the run there (-EINTR);
	 * discard_output drops queued output (replay). */
	uint64_t *logged_pages;
	bool (*tick_hook)(void *ctx);
	void *tick_ctx;
	bool discard_output;

	uint64_t rsdp_addr; /* the ACPI RSDP, 0 without tables (boot info wants it) */
	char error[256];
};

/* The signal of the output flush timer; kvm/ blocks it and takes it. */
#define MACHINE_FLUSH_SIGNAL SIGALRM
/* With several vCPUs: ends one vCPU's KVM_RUN for an all-stop, and tells
 * the main thread a vCPU has stopped (kvm/smp.c). Blocked outside KVM_RUN. */
#define MACHINE_KICK_SIGNAL SIGUSR1
#define MACHINE_FLUSH_INTERVAL_NS 10000000L

/* Starts a timer that sends MACHINE_FLUSH_SIGNAL to the calling thread
 * every MACHINE_FLUSH_INTERVAL_NS (the main thread's flush tick, or a
 * vCPU thread's own). False when the host gives none. */
bool machine_start_tick(timer_t *timer);

/* Opens /dev/kvm, makes the VM, its RAM and one vCPU. On failure returns a
 * negative errno with machine->error saying what went wrong and what to do;
 * machine_destroy is still safe to call. */
int machine_create(struct machine *m, const struct machine_config *config);
void machine_destroy(struct machine *m);

/* Puts the vCPU in `mode` at `entry` with the stub's own GDT and page
 * tables placed where the image is not (see kvm/boot.c). occupied lists
 * guest-physical ranges the image uses as [start, end) pairs. */
int machine_boot(struct machine *m, enum machine_mode mode, uint64_t entry,
		 const uint64_t (*occupied)[2], unsigned noccupied);

/* Makes vCPU `index` the one machine_regs, machine_sregs and the
 * debugger's calls are about. */
void machine_select_cpu(struct machine *m, unsigned index);

/* Taken by a vCPU thread outside KVM_RUN when there are several. */
static inline void machine_lock(struct machine *m)
{
	if (m->smp)
		pthread_mutex_lock(&m->lock);
}

static inline void machine_unlock(struct machine *m)
{
	if (m->smp)
		pthread_mutex_unlock(&m->lock);
}

/* The current vCPU's register cache (kvm/cpu.h). The pointers stay
 * valid; call the *_changed function after writing through them. */
struct kvm_regs *machine_regs(struct machine *m);
struct kvm_sregs *machine_sregs(struct machine *m);
void machine_regs_changed(struct machine *m);
void machine_sregs_changed(struct machine *m);

/* The signal mask while the main thread's vCPU runs: signals unblocked
 * here interrupt KVM_RUN (which then returns -EINTR). */
int machine_set_run_sigmask(struct machine *m, const sigset_t *mask);

/* Enters the guest once on the current vCPU (cpu_enter, same results). */
int machine_enter(struct machine *m, bool immediate);

/* Raises (level 1) or lowers (0) ISA/IOAPIC interrupt line `irq`
 * (0-23) through KVM_IRQ_LINE, routed as on a PC. -ENODEV on the bare
 * machine. */
int machine_irq_line(struct machine *m, unsigned irq, int level);

/* COM1's data port in or out of the coalesced ring, as the UART's
 * interrupt settings need (called before each run). */
void machine_sync_com1_coalescing(struct machine *m);

/* Hands queued (coalesced) output to the devices; returns 0 or -EPIPE. */
int machine_drain_output(struct machine *m);

/* What a page should be in the slot layout; applied at the next
 * machine_enter. */
void machine_set_page_want(struct machine *m, uint64_t page, enum page_access access);
/* A guest write landed on a sticky write-trapped page nobody needs. */
void machine_release_page(struct machine *m, uint64_t page);
/* Applies a changed layout now. */
int machine_apply_layout(struct machine *m);
/* Makes every page plain RAM (lifted) or what it is wanted to be again,
 * now. */
int machine_lift_traps(struct machine *m, bool lifted);

/* ---- restart (kvm/reset.c) ---- */

/* The host wrote guest RAM [phys, phys+len): cleared at the next reset. */
void machine_note_host_write(struct machine *m, uint64_t phys, uint64_t len);
/* Takes the dirty log of one slot (before it goes away) into touched. */
int machine_collect_dirty(struct machine *m, const struct machine_slot *slot);
/* Keeps the vCPU's state as KVM created it, for machine_reset. */
int machine_save_reset_state(struct machine *m);
/* The machine as just created: every page the guest or the host wrote
 * is zero again, the vCPU is in its reset state, devices are reset.
 * Breakpoint bytes must have been taken out first. */
int machine_reset(struct machine *m);

/* Reverse execution: keeps the guest's writes in logged_pages (or stops),
 * sets how often the timer ticks, and moves the guest's writes since
 * the last call into logged_pages. */
int machine_set_dirty_logging(struct machine *m, bool on);
int machine_set_tick_interval(struct machine *m, long ns);
int machine_collect_dirty_pages(struct machine *m);
/* The host wrote guest RAM [phys, phys+len) (KVM's log misses those). */
void machine_note_written(struct machine *m, uint64_t phys, uint64_t len);

/* What the host's KVM does with debug features, found by running a few
 * instructions on a throwaway VM (about a millisecond). */
struct host_caps {
	bool int3_traps;     /* int3 + KVM_GUESTDBG_USE_SW_BP exits (VMX/SVM) */
	/* int3 in protected mode ends KVM_RUN with an internal error, rip at
	 * it (PVM): resumable, so it can be a breakpoint there. */
	bool int3_internal_error;
	bool dr_watch_fires; /* a DR7 write watchpoint exits (not every host) */
};
void machine_probe_host(const struct machine *m, struct host_caps *caps);

/* Guest-physical range check written so it cannot overflow. */
static inline bool machine_ram_contains(const struct machine *m, uint64_t addr,
					uint64_t len)
{
	return addr <= m->ram_size && len <= m->ram_size - addr;
}

#endif
