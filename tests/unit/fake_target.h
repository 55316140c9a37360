/* tests/unit/fake_target.h — a struct target made of plain data, for testing
 * stub/ without KVM: registers in a struct, memory as one buffer at a base
 * address (everything else unmapped), every insert/remove of a point
 * recorded, resume answering with stops the test scripted, and a record
 * op that remembers what `monitor record` asked (it records nothing).
 *
 * Header-only (static inline) so unit tests and fuzz harnesses can both
 * include it. It follows the contract in stub/target.h, including the
 * overflow-safe bounds a real target needs near 2^64. Allocate it with
 * calloc: it carries up to FAKE_MEMORY_MAX bytes of memory.
 */
#ifndef KVMSTUB_FAKE_TARGET_H
#define KVMSTUB_FAKE_TARGET_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/target.h"

#define FAKE_MEMORY_BASE 0x1000u
#define FAKE_MEMORY_SIZE 0x1000u   /* the default mapping */
#define FAKE_PHYS_BASE 0x200000u   /* where that memory is, physically */
#define FAKE_MEMORY_MAX 0x12000u   /* more than one capped m reply */
#define FAKE_MAX_POINT_CALLS 32
#define FAKE_MAX_STOPS 8

struct fake_point_call {
	bool insert;
	enum target_point kind;
	uint64_t addr, len;
};

struct fake_target {
	enum target_arch arch;
	struct target_regs regs;
	struct target_fpu fpu;

	uint64_t mem_base;
	size_t mem_size; /* at most FAKE_MEMORY_MAX */
	uint8_t mem[FAKE_MEMORY_MAX];

	/* Error injection: a negative errno returned by the call, 0 for none. */
	int get_regs_error, set_regs_error, point_error;
	const char *point_reason; /* what point_error_text says, NULL for "" */

	/* What the stub asked for. */
	unsigned get_regs_calls, set_regs_calls, get_fpu_calls, set_fpu_calls;
	unsigned read_mem_calls, write_mem_calls;
	size_t last_read_len;
	unsigned npoint_calls; /* all of them; the first FAKE_MAX_POINT_CALLS kept */
	struct fake_point_call point_calls[FAKE_MAX_POINT_CALLS];
	bool have_point;
	struct fake_point_call last_insert;
	unsigned remove_all_calls;

	/* Threads 1..nthreads (0 counts as 1): which one the stub selected,
	 * and which was selected when registers and memory were last asked. */
	unsigned nthreads;
	unsigned selected, select_calls;
	unsigned get_regs_thread, read_mem_thread, point_thread;
	/* The optional ops (system state, physical memory, restart...).
	 * Physical memory is the same buffer as linear memory, at phys_base;
	 * translate maps mem_base.. to phys_base.. and nothing else. */
	struct target_system_state system;
	uint64_t phys_base;
	int lapic_error, irqchip_error; /* -ENODEV: no interrupt controller */
	struct target_lapic lapic;
	struct target_irqchip irqchip;
	struct target_exit_counts exits;
	bool trace_io;
	char screen[128]; /* what get_screen_text answers; "" for blank */
	unsigned trace_io_calls, restart_calls, read_phys_calls, write_phys_calls;
	int restart_error;
	char restart_file[64], restart_cmdline[256];
	bool restart_cmdline_null;

	/* `monitor record`: whether the fake records, how often and what it
	 * was asked last, and an errno it fails with (0: none). */
	bool recording;
	unsigned record_calls;
	enum target_record_request last_record;
	int record_error;

	/* resume pops stops[next_stop]; once they run out it reports exit 0.
	 * Going back while not recording stops at once, at the beginning of
	 * history, as the KVM target does. */
	unsigned resume_calls;
	struct target_resume last_resume;
	unsigned nstops, next_stop;
	struct target_stop stops[FAKE_MAX_STOPS];
};

static inline enum target_arch fake_arch(void *impl)
{
	return ((struct fake_target *)impl)->arch;
}

static inline int fake_get_regs(void *impl, struct target_regs *regs)
{
	struct fake_target *t = impl;
	t->get_regs_calls++;
	t->get_regs_thread = t->selected;
	if (t->get_regs_error)
		return t->get_regs_error;
	*regs = t->regs;
	return 0;
}

static inline int fake_set_regs(void *impl, const struct target_regs *regs)
{
	struct fake_target *t = impl;
	t->set_regs_calls++;
	if (t->set_regs_error)
		return t->set_regs_error;
	t->regs = *regs;
	return 0;
}

static inline int fake_get_fpu(void *impl, struct target_fpu *fpu)
{
	struct fake_target *t = impl;
	t->get_fpu_calls++;
	*fpu = t->fpu;
	return 0;
}

static inline int fake_set_fpu(void *impl, const struct target_fpu *fpu)
{
	struct fake_target *t = impl;
	t->set_fpu_calls++;
	t->fpu = *fpu;
	return 0;
}

static inline bool fake_is_mapped(const struct fake_target *t, uint64_t addr)
{
	return addr >= t->mem_base && addr - t->mem_base < t->mem_size;
}

/* The readable prefix, or -EFAULT when the first byte is unmapped. */
static inline long fake_read_mem(void *impl, uint64_t addr, void *buf, size_t len)
{
	struct fake_target *t = impl;
	t->read_mem_calls++;
	t->read_mem_thread = t->selected;
	t->last_read_len = len;
	if (!fake_is_mapped(t, addr))
		return -EFAULT;
	size_t offset = (size_t)(addr - t->mem_base);
	size_t n = t->mem_size - offset < len ? t->mem_size - offset : len;
	memcpy(buf, t->mem + offset, n);
	return (long)n;
}

/* All or nothing. */
static inline int fake_write_mem(void *impl, uint64_t addr, const void *buf, size_t len)
{
	struct fake_target *t = impl;
	t->write_mem_calls++;
	if (len == 0)
		return 0;
	if (!fake_is_mapped(t, addr) || len > t->mem_size - (size_t)(addr - t->mem_base))
		return -EFAULT;
	memcpy(t->mem + (addr - t->mem_base), buf, len);
	return 0;
}

static inline int fake_record_point(struct fake_target *t, bool insert, enum target_point kind,
				    uint64_t addr, uint64_t len)
{
	struct fake_point_call call = { insert, kind, addr, len };
	t->point_thread = t->selected;
	if (t->npoint_calls < FAKE_MAX_POINT_CALLS)
		t->point_calls[t->npoint_calls] = call;
	t->npoint_calls++;
	if (t->point_error)
		return t->point_error;
	/* A software breakpoint is written into memory: it must be mapped. */
	if (kind == TARGET_POINT_SW && !fake_is_mapped(t, addr))
		return -EFAULT;
	if (insert) {
		t->have_point = true;
		t->last_insert = call;
	}
	return 0;
}

static inline int fake_insert_point(void *impl, enum target_point kind, uint64_t addr,
				    uint64_t len)
{
	return fake_record_point(impl, true, kind, addr, len);
}

static inline int fake_remove_point(void *impl, enum target_point kind, uint64_t addr,
				    uint64_t len)
{
	return fake_record_point(impl, false, kind, addr, len);
}

static inline void fake_remove_all_points(void *impl)
{
	struct fake_target *t = impl;
	t->remove_all_calls++;
	t->have_point = false;
}

static inline int fake_resume(void *impl, const struct target_resume *how,
			      struct target_stop *stop)
{
	struct fake_target *t = impl;
	t->resume_calls++;
	t->last_resume = *how;
	if (!t->recording && (how->kind == TARGET_RESUME_REVERSE_STEP ||
			      how->kind == TARGET_RESUME_REVERSE_CONTINUE)) {
		memset(stop, 0, sizeof(*stop));
		stop->reason = TARGET_STOP_HISTORY_BEGIN;
		stop->addr = t->regs.rip;
		return 0;
	}
	if (t->next_stop < t->nstops && t->next_stop < FAKE_MAX_STOPS) {
		*stop = t->stops[t->next_stop++];
		return 0;
	}
	memset(stop, 0, sizeof(*stop));
	stop->reason = TARGET_STOP_EXITED;
	return 0;
}

static inline unsigned fake_thread_count(void *impl)
{
	struct fake_target *t = impl;
	return t->nthreads ? t->nthreads : 1;
}

static inline int fake_select_thread(void *impl, unsigned thread)
{
	struct fake_target *t = impl;
	t->select_calls++;
	if (thread < 1 || thread > fake_thread_count(impl))
		return -ESRCH;
	t->selected = thread;
	return 0;
}

/* "vCPU n: halted, long mode" for even threads, running for odd ones. */
static inline int fake_describe_thread(void *impl, unsigned thread, char *buf, size_t size)
{
	if (thread < 1 || thread > fake_thread_count(impl) || size < 48)
		return -ESRCH;
	const char *state = thread % 2 ? "running" : "halted";
	size_t n = 0;
	const char *head = "vCPU ";
	while (*head)
		buf[n++] = *head++;
	unsigned index = thread - 1;
	if (index >= 100)
		buf[n++] = (char)('0' + index / 100);
	if (index >= 10)
		buf[n++] = (char)('0' + index / 10 % 10);
	buf[n++] = (char)('0' + index % 10);
	buf[n++] = ':';
	buf[n++] = ' ';
	while (*state)
		buf[n++] = *state++;
	const char *tail = ", long mode";
	while (*tail)
		buf[n++] = *tail++;
	buf[n] = '\0';
	return (int)n;
}

static inline int fake_get_system_state(void *impl, struct target_system_state *st)
{
	struct fake_target *t = impl;
	*st = t->system;
	st->regs = t->regs;
	return 0;
}

static inline bool fake_phys_mapped(const struct fake_target *t, uint64_t addr)
{
	return addr >= t->phys_base && addr - t->phys_base < t->mem_size;
}

static inline long fake_read_phys(void *impl, uint64_t addr, void *buf, size_t len)
{
	struct fake_target *t = impl;
	t->read_phys_calls++;
	if (len == 0)
		return 0;
	if (!fake_phys_mapped(t, addr))
		return -EFAULT;
	size_t offset = (size_t)(addr - t->phys_base);
	size_t n = t->mem_size - offset < len ? t->mem_size - offset : len;
	memcpy(buf, t->mem + offset, n);
	return (long)n;
}

static inline int fake_write_phys(void *impl, uint64_t addr, const void *buf, size_t len)
{
	struct fake_target *t = impl;
	t->write_phys_calls++;
	if (len == 0)
		return 0;
	if (!fake_phys_mapped(t, addr) || len > t->mem_size - (size_t)(addr - t->phys_base))
		return -EFAULT;
	memcpy(t->mem + (addr - t->phys_base), buf, len);
	return 0;
}

static inline int fake_translate(void *impl, uint64_t linear, uint64_t *phys)
{
	struct fake_target *t = impl;
	if (!fake_is_mapped(t, linear))
		return -EFAULT;
	*phys = linear - t->mem_base + t->phys_base;
	return 0;
}

static inline int fake_get_lapic(void *impl, struct target_lapic *lapic)
{
	struct fake_target *t = impl;
	if (t->lapic_error)
		return t->lapic_error;
	*lapic = t->lapic;
	return 0;
}

static inline int fake_get_irqchip(void *impl, struct target_irqchip *chip)
{
	struct fake_target *t = impl;
	if (t->irqchip_error)
		return t->irqchip_error;
	*chip = t->irqchip;
	return 0;
}

static inline int fake_get_exit_counts(void *impl, struct target_exit_counts *counts)
{
	*counts = ((struct fake_target *)impl)->exits;
	return 0;
}

static inline int fake_set_trace_io(void *impl, bool on)
{
	struct fake_target *t = impl;
	t->trace_io_calls++;
	t->trace_io = on;
	return 0;
}

static inline int fake_get_screen_text(void *impl, char *out, size_t cap)
{
	struct fake_target *t = impl;
	if (cap < TARGET_SCREEN_TEXT_MAX)
		return -EINVAL;
	strcpy(out, t->screen);
	return 0;
}

static inline int fake_restart(void *impl, const char *file, const char *cmdline)
{
	struct fake_target *t = impl;
	t->restart_calls++;
	if (t->restart_error)
		return t->restart_error;
	strncpy(t->restart_file, file, sizeof(t->restart_file) - 1);
	t->restart_cmdline_null = cmdline == NULL;
	if (cmdline)
		strncpy(t->restart_cmdline, cmdline, sizeof(t->restart_cmdline) - 1);
	t->regs.rip = FAKE_MEMORY_BASE; /* the first instruction */
	return 0;
}

/* Records nothing; says "recording: on" or "off" the way the KVM target
 * begins its answers. */
static inline int fake_record(void *impl, enum target_record_request request, char *out,
			      size_t outlen)
{
	struct fake_target *t = impl;
	t->record_calls++;
	t->last_record = request;
	if (t->record_error) {
		snprintf(out, outlen, "record: the fake target fails (%d)\n", t->record_error);
		return t->record_error;
	}
	switch (request) {
	case TARGET_RECORD_ON:
		t->recording = true;
		break;
	case TARGET_RECORD_OFF:
		t->recording = false;
		snprintf(out, outlen, "recording: off (history dropped)\n");
		return 0;
	case TARGET_RECORD_STATUS:
		break;
	default:
		snprintf(out, outlen, "record: no such request\n");
		return -EINVAL;
	}
	snprintf(out, outlen, "recording: %s\n", t->recording ? "on" : "off");
	return 0;
}

static inline const char *fake_point_error_text(void *impl)
{
	struct fake_target *t = impl;
	return t->point_reason ? t->point_reason : "";
}

static const struct target_ops fake_target_ops = {
	.arch = fake_arch,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.get_fpu = fake_get_fpu,
	.set_fpu = fake_set_fpu,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.insert_point = fake_insert_point,
	.remove_point = fake_remove_point,
	.remove_all_points = fake_remove_all_points,
	.resume = fake_resume,
	.thread_count = fake_thread_count,
	.select_thread = fake_select_thread,
	.describe_thread = fake_describe_thread,
	.get_system_state = fake_get_system_state,
	.read_phys = fake_read_phys,
	.write_phys = fake_write_phys,
	.translate = fake_translate,
	.get_lapic = fake_get_lapic,
	.get_irqchip = fake_get_irqchip,
	.get_exit_counts = fake_get_exit_counts,
	.set_trace_io = fake_set_trace_io,
	.get_screen_text = fake_get_screen_text,
	.set_step_irq = NULL, /* as on the KVM machine today: "not available" */
	.restart = fake_restart,
	.record = fake_record,
	.point_error = fake_point_error_text,
};

/* The same target without any optional op, for "not available". */
static const struct target_ops fake_target_ops_minimal = {
	.arch = fake_arch,
	.get_regs = fake_get_regs,
	.set_regs = fake_set_regs,
	.get_fpu = fake_get_fpu,
	.set_fpu = fake_set_fpu,
	.read_mem = fake_read_mem,
	.write_mem = fake_write_mem,
	.insert_point = fake_insert_point,
	.remove_point = fake_remove_point,
	.remove_all_points = fake_remove_all_points,
	.resume = fake_resume,
};

/* A stopped guest of the given mode: recognisable register values (each
 * byte differs), memory FAKE_MEMORY_SIZE bytes at FAKE_MEMORY_BASE filled
 * with a pattern. */
static inline void fake_target_init(struct fake_target *t, enum target_arch arch)
{
	memset(t, 0, sizeof(*t));
	t->arch = arch;
	uint64_t *gpr = &t->regs.rax;
	for (unsigned i = 0; i < 16; i++)
		gpr[i] = 0x0101010101010101ull * (i + 1) + 0x1000000000000000ull * i;
	t->regs.rsp = FAKE_MEMORY_BASE + 0x800;
	t->regs.rbp = FAKE_MEMORY_BASE + 0x810;
	t->regs.rip = FAKE_MEMORY_BASE + 0x100;
	t->regs.rflags = 0x246;
	t->regs.cs.selector = 0x08;
	t->regs.ss.selector = t->regs.ds.selector = t->regs.es.selector = 0x10;
	t->regs.fs.selector = 0x18;
	t->regs.fs.base = 0x7f0000001000ull;
	t->regs.gs.selector = 0x20;
	t->regs.gs.base = 0xffff800000002000ull;
	t->regs.cr0 = 0x80000011;
	t->regs.cr3 = 0x9000;
	t->regs.cr4 = 0x20;
	t->regs.efer = 0x500;
	if (arch == TARGET_ARCH_I8086) {
		/* Real mode with CS != 0, so pc != ip. */
		t->regs.cs.selector = 0x100;
		t->regs.cs.base = 0x1000;
		t->regs.rip = 0x0123;
		t->regs.rsp = 0x7c00;
		t->regs.rbp = 0x7bf0;
		t->regs.cr0 = 0x10;
		t->regs.efer = 0;
	}
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < 10; j++)
			t->fpu.st[i][j] = (uint8_t)(0x10 * i + j);
	for (unsigned i = 0; i < 16; i++)
		for (unsigned j = 0; j < 16; j++)
			t->fpu.xmm[i][j] = (uint8_t)(0x80 + 0x10 * (i & 7) + j);
	t->fpu.fctrl = 0x37f;
	t->fpu.mxcsr = 0x1f80;
	t->mem_base = FAKE_MEMORY_BASE;
	t->mem_size = FAKE_MEMORY_SIZE;
	t->phys_base = FAKE_PHYS_BASE;
	t->lapic_error = t->irqchip_error = -ENODEV;
	for (size_t i = 0; i < FAKE_MEMORY_MAX; i++)
		t->mem[i] = (uint8_t)(i * 7 + (i >> 8));
}

static inline struct target fake_target_as_target(struct fake_target *t)
{
	struct target target = { &fake_target_ops, t };
	return target;
}

static inline struct target fake_target_as_minimal_target(struct fake_target *t)
{
	struct target target = { &fake_target_ops_minimal, t };
	return target;
}

/* Queues a stop for the next resume; returns false when the script is full. */
static inline bool fake_script_stop(struct fake_target *t, const struct target_stop *stop)
{
	if (t->nstops >= FAKE_MAX_STOPS)
		return false;
	t->stops[t->nstops++] = *stop;
	return true;
}

#endif
