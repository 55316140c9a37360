/* stub/sysfmt.h — decoding and formatting of x86 system state for the
 * monitor commands: registers with descriptor caches, GDT and IDT
 * entries, page tables (QEMU's `info tlb` / `info mem` formats), the local
 * APIC, the 8259s and IOAPIC, exit counts and physical memory dumps in
 * gdb's x formats.
 *
 * Pure: buffers and a read callback in, text out. Every table comes from
 * the guest and may be hostile: walks are bounded and output is capped
 * (struct textbuf). No target, no KVM. */
#ifndef KVMSTUB_SYSFMT_H
#define KVMSTUB_SYSFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub/target.h"
#include "stub/textbuf.h"

/* Reads len bytes of guest-physical memory at phys; 0 or a negative errno
 * (all or nothing). */
typedef int (*sysfmt_read_fn)(void *ctx, uint64_t phys, void *buf, size_t len);

/* The CPU mode the state describes, in words ("long (64-bit)", ...). */
const char *sysfmt_mode_name(const struct target_system_state *st);

void sysfmt_registers(struct textbuf *out, const struct target_system_state *st);

/* One decoded 8-byte descriptor (a 16-byte system descriptor in long mode
 * takes the high half from hi). */
struct sysfmt_descriptor {
	uint64_t base;
	uint32_t limit; /* in bytes - 1, G applied */
	uint8_t type, s, dpl, present, avl, l, db, g;
	bool wide; /* a 16-byte long-mode system descriptor */
};
void sysfmt_decode_descriptor(uint64_t lo, uint64_t hi, bool long_mode,
			      struct sysfmt_descriptor *d);

/* The GDT whose bytes (from linear base, len bytes readable of limit+1)
 * are in table. */
void sysfmt_gdt(struct textbuf *out, const uint8_t *table, size_t len, uint64_t base,
		uint16_t limit, bool long_mode);
/* The IDT (or the real-mode IVT when real_mode). */
void sysfmt_idt(struct textbuf *out, const uint8_t *table, size_t len, uint64_t base,
		uint16_t limit, bool long_mode, bool real_mode);

enum sysfmt_paging_view { SYSFMT_TLB, SYSFMT_MEM };
struct sysfmt_paging {
	uint64_t cr0, cr3, cr4, efer;
};
/* Walks the guest's page tables (2-, 3-, 4- and 5-level, large pages) and
 * prints every mapping (TLB) or the merged ranges with permissions (MEM).
 * Reads at most max_tables page tables. */
void sysfmt_page_tables(struct textbuf *out, const struct sysfmt_paging *p,
			enum sysfmt_paging_view view, sysfmt_read_fn read, void *ctx,
			unsigned max_tables);

/* gdb's x format: /COUNT FORMAT SIZE. */
struct sysfmt_xfmt {
	unsigned count;
	char format; /* x d u o c */
	unsigned size; /* 1 2 4 8 */
};
/* Parses "/FMT ADDR" (the /FMT part optional). 0, or -EINVAL with a one
 * line reason in why. */
int sysfmt_parse_xp(const char *args, struct sysfmt_xfmt *fmt, uint64_t *addr,
		    char *why, size_t why_size);
/* Prints len bytes read at addr as fmt says; fewer than count*size bytes
 * means the rest could not be read. */
void sysfmt_memory(struct textbuf *out, uint64_t addr, const uint8_t *data, size_t len,
		   const struct sysfmt_xfmt *fmt);

void sysfmt_lapic(struct textbuf *out, const struct target_lapic *lapic);
void sysfmt_irqchip(struct textbuf *out, const struct target_irqchip *chip);
void sysfmt_exits(struct textbuf *out, const struct target_exit_counts *counts);

#endif
