/* stub/target.h — the seam between the debugger (stub/) and a machine.
 *
 * stub/ is written against this interface only: it never sees an ioctl.
 * kvm/vcpu.h implements it on a KVM vCPU; tests/unit implements it on
 * plain memory. Addresses are linear (what gdb calls an address); the
 * target translates them. Every function returns 0 or a negative errno
 * unless its comment says otherwise.
 */
#ifndef KVMSTUB_TARGET_H
#define KVMSTUB_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Which register layout and gdb architecture the guest's mode calls for. */
enum target_arch {
	TARGET_ARCH_I8086,  /* real mode: i386 registers, pc = cs.base + ip */
	TARGET_ARCH_I386,   /* protected mode */
	TARGET_ARCH_X86_64, /* long mode */
};

struct target_segment {
	uint16_t selector;
	uint64_t base;
};

/* The register file every layout is cut from. Integer registers are full
 * 64-bit values; a 32-bit layout shows their low halves. rip is the raw
 * instruction pointer (in real mode the stub adds cs.base for gdb). */
struct target_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	struct target_segment cs, ss, ds, es, fs, gs;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

/* x87 and SSE state in the shape gdb shows it. */
struct target_fpu {
	uint8_t st[8][10]; /* 80-bit registers, st0 first */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];
	uint32_t mxcsr;
};

/* Z/z packet types, numbered as gdb numbers them. */
enum target_point {
	TARGET_POINT_SW = 0,     /* software breakpoint (Z0) */
	TARGET_POINT_HW = 1,     /* hardware breakpoint (Z1) */
	TARGET_POINT_WRITE = 2,  /* write watchpoint (Z2) */
	TARGET_POINT_READ = 3,   /* read watchpoint (Z3) */
	TARGET_POINT_ACCESS = 4, /* access watchpoint (Z4) */
};

enum target_resume_kind {
	TARGET_RESUME_CONTINUE,
	TARGET_RESUME_STEP,  /* exactly one instruction */
	TARGET_RESUME_RANGE, /* step while range_start <= pc < range_end */
	/* Reverse execution (targets that record; others return -ENOTSUP). */
	TARGET_RESUME_REVERSE_STEP,     /* back one instruction */
	TARGET_RESUME_REVERSE_CONTINUE, /* back to the previous breakpoint or watch */
};

/* `monitor record on|off|status`: what the user asked of the recorder.
 * None of them takes an argument. */
enum target_record_request {
	TARGET_RECORD_ON,     /* start recording here */
	TARGET_RECORD_OFF,    /* stop, back to the present, drop the history */
	TARGET_RECORD_STATUS, /* say what is recorded (also `record` alone) */
};

struct target_resume {
	enum target_resume_kind kind;
	uint64_t range_start, range_end; /* linear pc values, for RANGE */
	/* Several threads: the one `kind` is for (0: the selected one), and
	 * whether the others stay stopped (gdb's scheduler-locking) instead
	 * of continuing meanwhile. A stop of any thread stops them all. */
	unsigned thread;
	bool others_stopped;
};

enum target_stop_reason {
	TARGET_STOP_STEP,        /* a step or range step finished */
	TARGET_STOP_SWBREAK,     /* addr: the breakpoint's address */
	TARGET_STOP_HWBREAK,     /* addr: the breakpoint's address */
	TARGET_STOP_WATCH,       /* addr: the watched address written */
	TARGET_STOP_RWATCH,      /* addr: the watched address read */
	TARGET_STOP_AWATCH,      /* addr: the watched address accessed */
	TARGET_STOP_CRASH,       /* the guest died; registers still readable */
	TARGET_STOP_INTERRUPTED, /* a signal ended the run; the stub decides */
	TARGET_STOP_EXITED,      /* the guest ended; exit_status is set */
	TARGET_STOP_HISTORY_BEGIN, /* going back reached the oldest recorded state */
	TARGET_STOP_DIVERGED,    /* replay did not reproduce the recording; why says where */
};

/* How the guest died (CRASH); the stub decides what gdb is told. */
enum target_crash {
	TARGET_CRASH_TRIPLE_FAULT,      /* shutdown */
	TARGET_CRASH_INTERNAL_ERROR,    /* the host could not run an instruction */
	TARGET_CRASH_ENTRY_FAILED,
	TARGET_CRASH_GUEST_BREAKPOINT,  /* the guest's own int3, where it traps */
};

struct target_stop {
	enum target_stop_reason reason;
	uint64_t addr;
	int exit_status;  /* EXITED: what kvmstub exits with, 0..255 */
	enum target_crash crash; /* CRASH: what happened */
	char why[160];    /* CRASH, DIVERGED: one-line diagnosis */
	unsigned thread;  /* the thread that stopped (1-based); 0: the resumed one */
	/* CLOCK_MONOTONIC ns of the event (the exit that caused the stop, on
	 * the thread that took it); 0 when not timed, e.g. a stop kept from
	 * an earlier run and told only now. */
	uint64_t event_ns;
};

/* A segment register with the descriptor cache the CPU holds for it. */
struct target_segment_cache {
	uint16_t selector;
	uint64_t base;
	uint32_t limit; /* in bytes - 1, as the cache holds it (G applied) */
	uint8_t type, s, dpl, present, avl, l, db, g, unusable;
};

struct target_table_register {
	uint64_t base;
	uint16_t limit;
};

/* Every piece of system state the vCPU has, for `monitor info registers`. */
struct target_system_state {
	struct target_regs regs; /* GPRs, rip, rflags, CRs, EFER */
	struct target_segment_cache cs, ds, es, fs, gs, ss, tr, ldt;
	struct target_table_register gdt, idt;
	uint64_t dr[8]; /* dr4 and dr5 alias dr6 and dr7 */
	uint64_t apic_base;
	bool has_events; /* the fields below are known */
	struct {
		bool injected, pending, has_error_code;
		uint8_t nr;
		uint32_t error_code;
	} exception;
	struct {
		bool injected, soft;
		uint8_t nr;
		uint8_t shadow; /* 1: after sti, 2: after mov ss */
	} interrupt;
	struct {
		bool injected, pending, masked;
	} nmi;
	bool smi_pending, in_smm;
};

/* The local APIC's 1 KiB register page, as the APIC lays it out. */
struct target_lapic {
	uint8_t regs[1024];
};

/* One 8259 and its programming state. */
struct target_pic8259 {
	uint8_t irr, imr, isr, irq_base, priority_add, elcr;
	uint8_t read_reg_select, poll, special_mask, init_state, auto_eoi, init4;
	uint8_t special_fully_nested, rotate_on_auto_eoi;
};

#define TARGET_IOAPIC_PINS 24
struct target_irqchip {
	struct target_pic8259 pic[2]; /* master, slave */
	bool has_ioapic;
	uint64_t ioapic_base;
	uint32_t ioapic_id, ioapic_irr;
	uint64_t redirection[TARGET_IOAPIC_PINS];
};

/* 25 rows of 80 cells, each up to 3 bytes of UTF-8, a newline per row. */
#define TARGET_SCREEN_TEXT_MAX (25 * (80 * 3 + 1) + 1)

#define TARGET_MAX_EXIT_REASONS 48
#define TARGET_MAX_EXIT_PORTS 64
/* Exits the vCPU took since the guest started, by reason and by port. */
struct target_exit_counts {
	unsigned nreasons;
	struct {
		char name[28];
		uint64_t count;
	} reasons[TARGET_MAX_EXIT_REASONS];
	unsigned nports;
	struct {
		uint16_t port;
		uint64_t in, out;
	} ports[TARGET_MAX_EXIT_PORTS];
	uint64_t other_port_exits; /* ports beyond the table */
	/* Stops the guest caused (steps, breakpoints, watchpoints, crashes),
	 * timed from the event to the moment their reply is written to gdb. */
	uint64_t stops_timed;
	uint64_t stop_last_ns, stop_median_ns, stop_max_ns;
	uint64_t stop_median_of; /* how many of the latest stops the median covers */
};

struct target_ops {
	enum target_arch (*arch)(void *target);
	int (*get_regs)(void *target, struct target_regs *regs);
	int (*set_regs)(void *target, const struct target_regs *regs);
	int (*get_fpu)(void *target, struct target_fpu *fpu);
	int (*set_fpu)(void *target, const struct target_fpu *fpu);
	/* Returns the number of bytes read (the readable prefix, possibly 0
	 * when the first byte is unmapped: then -EFAULT). Breakpoint bytes
	 * read as the original memory. */
	long (*read_mem)(void *target, uint64_t addr, void *buf, size_t len);
	/* All or nothing: -EFAULT if any byte is unmapped or outside RAM. */
	int (*write_mem)(void *target, uint64_t addr, const void *buf, size_t len);
	/* -ENOSPC when hardware resources run out, -EINVAL for a length or
	 * alignment the kind cannot take, -EFAULT for an unmapped address. */
	int (*insert_point)(void *target, enum target_point kind, uint64_t addr,
			    uint64_t len);
	int (*remove_point)(void *target, enum target_point kind, uint64_t addr,
			    uint64_t len);
	void (*remove_all_points)(void *target);
	/* Runs until a stop. Steps off a breakpoint at the current pc by itself.
	 * Returns 0 with *stop filled, or a negative errno if the machine
	 * itself failed. */
	int (*resume)(void *target, const struct target_resume *how,
		      struct target_stop *stop);

	/* Optional: NULL where a target lacks them (the stub says so). */
	int (*get_system_state)(void *target, struct target_system_state *state);
	/* Guest-physical memory: the readable prefix, -EFAULT when addr is
	 * outside RAM. Breakpoint bytes read as the original memory. */
	long (*read_phys)(void *target, uint64_t addr, void *buf, size_t len);
	/* All or nothing, like write_mem. */
	int (*write_phys)(void *target, uint64_t addr, const void *buf, size_t len);
	/* Linear to physical through the guest's page tables; -EFAULT when
	 * not mapped. */
	int (*translate)(void *target, uint64_t linear, uint64_t *phys);
	/* -ENODEV when the machine has no interrupt controller. */
	int (*get_lapic)(void *target, struct target_lapic *lapic);
	int (*get_irqchip)(void *target, struct target_irqchip *chip);
	int (*get_exit_counts)(void *target, struct target_exit_counts *counts);
	/* The reply for *stop (what the last resume returned) is built and
	 * being written to gdb: the target may time it from stop->event_ns. */
	void (*stop_reported)(void *target, const struct target_stop *stop);
	int (*set_trace_io)(void *target, bool on);
	/* The VGA text screen as plain text, as `--vga` prints it at the end
	 * (NUL-terminated, at most TARGET_SCREEN_TEXT_MAX bytes with the NUL);
	 * -ENODEV when guest RAM does not reach the text buffer. */
	int (*get_screen_text)(void *target, char *out, size_t cap);
	/* Whether a step may enter an interrupt handler (off by default:
	 * interrupts stay pending while stepping and come on continue). */
	int (*set_step_irq)(void *target, bool on);
	/* Threads (a machine's vCPUs), numbered 1..thread_count. NULL: one
	 * thread, 1. */
	unsigned (*thread_count)(void *target);
	/* Makes `thread` the one the register calls are about and whose page
	 * tables translate memory and point addresses. */
	int (*select_thread)(void *target, unsigned thread);
	/* One line for gdb's `info threads`, e.g. "vCPU 1: halted, long mode".
	 * Returns its length. */
	int (*describe_thread)(void *target, unsigned thread, char *buf, size_t size);
	/* Starts the guest again from its image, as a fresh machine: RAM
	 * reloaded, vCPU and devices reset, breakpoints kept. file is the
	 * image gdb named ("" for kvmstub's own), cmdline becomes the boot
	 * protocol's command line. Stopped at the first instruction after. */
	int (*restart)(void *target, const char *file, const char *cmdline);
	/* Optional (NULL: not offered): `monitor record on|off|status`, as
	 * stub/monitor.c parsed it. The reply for the user goes to out (whole
	 * lines, NUL-terminated); returns 0 or a negative errno, the reason
	 * then in out. */
	int (*record)(void *target, enum target_record_request request, char *out,
		      size_t outlen);
	/* Why the last insert_point that failed was refused, one line for the
	 * user (e.g. which resource ran out and why this mode needs it); ""
	 * when the target has nothing to add to the errno. */
	const char *(*point_error)(void *target);
};

struct target {
	const struct target_ops *ops;
	void *impl;
};

#endif
