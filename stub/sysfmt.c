/* stub/sysfmt.c — x86 system state decoded and formatted for the monitor.
 * Pure: buffers and a read callback in, text out; every walk over guest
 * tables is bounded (SDM vol. 3, chapters 3-6 and 10, are the reference
 * for the layouts). No target, no KVM. */
#include "stub/sysfmt.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/number.h"

#define CR0_PE (1ULL << 0)
#define CR0_PG (1ULL << 31)
#define CR4_PSE (1ULL << 4)
#define CR4_PAE (1ULL << 5)
#define CR4_LA57 (1ULL << 12)
#define EFER_LMA (1ULL << 10)
#define RFLAGS_VM (1ULL << 17)

#define PTE_P (1ULL << 0)
#define PTE_RW (1ULL << 1)
#define PTE_US (1ULL << 2)
#define PTE_PWT (1ULL << 3)
#define PTE_PCD (1ULL << 4)
#define PTE_A (1ULL << 5)
#define PTE_D (1ULL << 6)
#define PTE_PS (1ULL << 7)
#define PTE_G (1ULL << 8)
#define PTE_NX (1ULL << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL

static uint64_t get_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* ---- registers ---- */

const char *sysfmt_mode_name(const struct target_system_state *st)
{
	const struct target_regs *r = &st->regs;

	if (!(r->cr0 & CR0_PE))
		return "real";
	if (r->efer & EFER_LMA)
		return st->cs.l ? "long (64-bit)" : "long (compatibility)";
	if (r->rflags & RFLAGS_VM)
		return "virtual-8086";
	return st->cs.db ? "protected (32-bit)" : "protected (16-bit)";
}

static void format_segment(struct textbuf *out, const char *name,
			   const struct target_segment_cache *s)
{
	textbuf_printf(out, "%-3s=%04x %016" PRIx64 " %08" PRIx32
			    " type=%x S=%u DPL=%u P=%u DB=%u L=%u G=%u AVL=%u%s\n",
		       name, s->selector, s->base, s->limit, s->type & 0xf, s->s & 1,
		       s->dpl & 3, s->present & 1, s->db & 1, s->l & 1, s->g & 1, s->avl & 1,
		       s->unusable ? " unusable" : "");
}

static void format_rflags(char *buf, uint64_t f)
{
	/* The flags gdb users look for first, set ones in capitals. */
	static const struct { unsigned bit; char c; } flags[] = {
		{ 11, 'o' }, { 10, 'd' }, { 9, 'i' }, { 8, 't' }, { 7, 's' },
		{ 6, 'z' }, { 4, 'a' }, { 2, 'p' }, { 0, 'c' },
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		buf[n++] = (f >> flags[i].bit) & 1 ? (char)toupper(flags[i].c) : '-';
	buf[n] = 0;
}

void sysfmt_registers(struct textbuf *out, const struct target_system_state *st)
{
	const struct target_regs *r = &st->regs;
	char fl[16];

	textbuf_printf(out, "RAX=%016" PRIx64 " RBX=%016" PRIx64 " RCX=%016" PRIx64
			    " RDX=%016" PRIx64 "\n", r->rax, r->rbx, r->rcx, r->rdx);
	textbuf_printf(out, "RSI=%016" PRIx64 " RDI=%016" PRIx64 " RBP=%016" PRIx64
			    " RSP=%016" PRIx64 "\n", r->rsi, r->rdi, r->rbp, r->rsp);
	textbuf_printf(out, "R8 =%016" PRIx64 " R9 =%016" PRIx64 " R10=%016" PRIx64
			    " R11=%016" PRIx64 "\n", r->r8, r->r9, r->r10, r->r11);
	textbuf_printf(out, "R12=%016" PRIx64 " R13=%016" PRIx64 " R14=%016" PRIx64
			    " R15=%016" PRIx64 "\n", r->r12, r->r13, r->r14, r->r15);
	format_rflags(fl, r->rflags);
	unsigned cpl = (r->cr0 & CR0_PE) ? (r->rflags & RFLAGS_VM ? 3u : st->cs.selector & 3u) : 0u;
	textbuf_printf(out, "RIP=%016" PRIx64 " RFL=%08" PRIx64 " [%s] CPL=%u IOPL=%u\n",
		       r->rip, r->rflags, fl, cpl, (unsigned)((r->rflags >> 12) & 3));
	textbuf_printf(out, "mode: %s\n", sysfmt_mode_name(st));
	format_segment(out, "ES", &st->es);
	format_segment(out, "CS", &st->cs);
	format_segment(out, "SS", &st->ss);
	format_segment(out, "DS", &st->ds);
	format_segment(out, "FS", &st->fs);
	format_segment(out, "GS", &st->gs);
	format_segment(out, "LDT", &st->ldt);
	format_segment(out, "TR", &st->tr);
	textbuf_printf(out, "GDT=     %016" PRIx64 " %08x\n", st->gdt.base, st->gdt.limit);
	textbuf_printf(out, "IDT=     %016" PRIx64 " %08x\n", st->idt.base, st->idt.limit);
	textbuf_printf(out, "CR0=%08" PRIx64 " CR2=%016" PRIx64 " CR3=%016" PRIx64
			    " CR4=%08" PRIx64 " CR8=%" PRIx64 "\n",
		       r->cr0, r->cr2, r->cr3, r->cr4, r->cr8);
	textbuf_printf(out, "DR0=%016" PRIx64 " DR1=%016" PRIx64 " DR2=%016" PRIx64
			    " DR3=%016" PRIx64 "\n", st->dr[0], st->dr[1], st->dr[2], st->dr[3]);
	textbuf_printf(out, "DR6=%016" PRIx64 " DR7=%016" PRIx64 "\n", st->dr[6], st->dr[7]);
	textbuf_printf(out, "EFER=%016" PRIx64 " APIC_BASE=%016" PRIx64 "\n", r->efer,
		       st->apic_base);
	if (!st->has_events) {
		textbuf_printf(out, "pending events: unknown\n");
		return;
	}
	textbuf_printf(out, "exception: ");
	if (st->exception.injected || st->exception.pending) {
		textbuf_printf(out, "vector %u %s", st->exception.nr,
			       st->exception.injected ? "injected" : "pending");
		if (st->exception.has_error_code)
			textbuf_printf(out, " error code 0x%" PRIx32, st->exception.error_code);
		textbuf_printf(out, "\n");
	} else {
		textbuf_printf(out, "none\n");
	}
	textbuf_printf(out, "interrupt: ");
	if (st->interrupt.injected)
		textbuf_printf(out, "vector %u injected%s", st->interrupt.nr,
			       st->interrupt.soft ? " (software)" : "");
	else
		textbuf_printf(out, "none");
	textbuf_printf(out, "%s\n", st->interrupt.shadow & 1 ? ", sti shadow"
				 : st->interrupt.shadow & 2 ? ", mov-ss shadow" : "");
	textbuf_printf(out, "NMI: %s%s%s\n",
		       st->nmi.injected ? "injected" : st->nmi.pending ? "pending" : "none",
		       st->nmi.masked ? ", masked" : "", "");
	textbuf_printf(out, "SMI: %s%s\n", st->smi_pending ? "pending" : "none",
		       st->in_smm ? ", in SMM" : "");
}

/* ---- descriptor tables ---- */

void sysfmt_decode_descriptor(uint64_t lo, uint64_t hi, bool long_mode,
			      struct sysfmt_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	uint32_t limit = (uint32_t)(lo & 0xffff) | (uint32_t)((lo >> 48) & 0xf) << 16;
	d->base = ((lo >> 16) & 0xffffff) | ((lo >> 56) & 0xff) << 24;
	uint8_t access = (uint8_t)(lo >> 40);
	d->type = access & 0xf;
	d->s = (access >> 4) & 1;
	d->dpl = (access >> 5) & 3;
	d->present = (access >> 7) & 1;
	uint8_t flags = (uint8_t)((lo >> 52) & 0xf);
	d->avl = flags & 1;
	d->l = (flags >> 1) & 1;
	d->db = (flags >> 2) & 1;
	d->g = (flags >> 3) & 1;
	d->limit = d->g ? (limit << 12) | 0xfff : limit;
	/* In long mode LDT and TSS descriptors are 16 bytes (SDM 7.2.3). */
	if (long_mode && !d->s && (d->type == 2 || d->type == 9 || d->type == 0xb)) {
		d->wide = true;
		d->base |= (hi & 0xffffffffULL) << 32;
	}
}

static const char *system_type_name(uint8_t type, bool long_mode)
{
	static const char *const legacy[16] = {
		"reserved", "tss16-avail", "ldt", "tss16-busy", "call-gate16", "task-gate",
		"int-gate16", "trap-gate16", "reserved", "tss32-avail", "reserved",
		"tss32-busy", "call-gate32", "reserved", "int-gate32", "trap-gate32",
	};
	static const char *const wide[16] = {
		"reserved", "reserved", "ldt", "reserved", "reserved", "reserved",
		"reserved", "reserved", "reserved", "tss64-avail", "reserved",
		"tss64-busy", "call-gate64", "reserved", "int-gate64", "trap-gate64",
	};
	return (long_mode ? wide : legacy)[type & 0xf];
}

static void format_type(char *buf, size_t size, const struct sysfmt_descriptor *d,
			bool long_mode)
{
	if (!d->s) {
		snprintf(buf, size, "%s", system_type_name(d->type, long_mode));
		return;
	}
	bool code = d->type & 8;
	const char *bits = code ? (d->l ? "64" : d->db ? "32" : "16") : "";
	if (code)
		snprintf(buf, size, "code%s %s%s%s", bits, d->type & 2 ? "r-x" : "--x",
			 d->type & 4 ? " conforming" : "", d->type & 1 ? " accessed" : "");
	else
		snprintf(buf, size, "data %s%s%s", d->type & 2 ? "rw-" : "r--",
			 d->type & 4 ? " expand-down" : "", d->type & 1 ? " accessed" : "");
}

void sysfmt_gdt(struct textbuf *out, const uint8_t *table, size_t len, uint64_t base,
		uint16_t limit, bool long_mode)
{
	size_t want = (size_t)limit + 1;

	textbuf_printf(out, "GDT at 0x%" PRIx64 ", limit 0x%x (%zu entries)\n", base, limit,
		       want / 8);
	for (size_t at = 0; at + 8 <= want && !textbuf_full(out); at += 8) {
		if (at + 8 > len) {
			textbuf_printf(out, "%04zx  cannot read guest memory at 0x%" PRIx64 "\n", at,
				       base + at);
			return;
		}
		uint64_t lo = get_le(table + at, 8);
		uint64_t hi = at + 16 <= len ? get_le(table + at + 8, 8) : 0;
		if (lo == 0) {
			textbuf_printf(out, "%04zx  0000000000000000  null\n", at);
			continue;
		}
		struct sysfmt_descriptor d;
		char type[48];
		sysfmt_decode_descriptor(lo, hi, long_mode, &d);
		format_type(type, sizeof(type), &d, long_mode);
		textbuf_printf(out, "%04zx  %016" PRIx64 "  base=0x%" PRIx64 " limit=0x%" PRIx32
				    " %s type=%x DPL=%u P=%u DB=%u L=%u G=%u\n",
			       at, lo, d.base, d.limit, type, d.type, d.dpl, d.present, d.db, d.l,
			       d.g);
		if (d.wide) {
			at += 8; /* the upper half is not a descriptor of its own */
			if (at + 8 > len)
				return;
		}
	}
}

void sysfmt_idt(struct textbuf *out, const uint8_t *table, size_t len, uint64_t base,
		uint16_t limit, bool long_mode, bool real_mode)
{
	size_t want = (size_t)limit + 1;
	unsigned entry = real_mode ? 4 : long_mode ? 16 : 8;
	unsigned present = 0, total = 0;

	textbuf_printf(out, "%s at 0x%" PRIx64 ", limit 0x%x\n", real_mode ? "IVT" : "IDT", base,
		       limit);
	for (size_t at = 0; at + entry <= want && total < 256 && !textbuf_full(out);
	     at += entry, total++) {
		if (at + entry > len) {
			textbuf_printf(out, "vector 0x%02x: cannot read guest memory at 0x%" PRIx64 "\n",
				       total, base + at);
			return;
		}
		if (real_mode) {
			textbuf_printf(out, "vector 0x%02x: %04" PRIx64 ":%04" PRIx64 "\n", total,
				       get_le(table + at + 2, 2), get_le(table + at, 2));
			present++;
			continue;
		}
		uint64_t lo = get_le(table + at, 8);
		uint64_t hi = long_mode ? get_le(table + at + 8, 8) : 0;
		if (!((lo >> 47) & 1))
			continue;
		present++;
		uint64_t offset = (lo & 0xffff) | ((lo >> 48) & 0xffff) << 16 |
				  (hi & 0xffffffffULL) << 32;
		unsigned type = (unsigned)(lo >> 40) & 0xf;
		textbuf_printf(out, "vector 0x%02x: %s sel=0x%04x offset=0x%" PRIx64 " DPL=%u",
			       total, system_type_name((uint8_t)type, long_mode),
			       (unsigned)((lo >> 16) & 0xffff), type == 5 ? 0 : offset,
			       (unsigned)((lo >> 45) & 3));
		if (long_mode)
			textbuf_printf(out, " IST=%u", (unsigned)((lo >> 32) & 7));
		textbuf_printf(out, "\n");
	}
	textbuf_printf(out, "%u of %u vectors present\n", present, total);
}

/* ---- page tables ---- */

struct walk {
	struct textbuf *out;
	enum sysfmt_paging_view view;
	sysfmt_read_fn read;
	void *ctx;
	unsigned tables_left;
	bool stopped;        /* budget or output cap reached */
	unsigned entry_size; /* 8, or 4 for 32-bit paging */
	unsigned top;        /* the top level's number (2..5) */
	bool pae;            /* 3-level: the PDPT has 4 entries, no R/W U/S */
	bool pse;            /* 32-bit paging: 4 MiB pages */
	unsigned sign_bit;   /* 47 or 56; 0 when addresses are 32-bit */
	unsigned addr_width; /* hex digits */
	/* info mem: the range being merged */
	bool have_range;
	uint64_t range_start, range_end, range_prot;
};

static unsigned level_shift(const struct walk *w, unsigned level)
{
	if (w->entry_size == 4)
		return level == 2 ? 22 : 12;
	return 12 + 9 * (level - 1);
}

static uint64_t canonical(const struct walk *w, uint64_t va)
{
	if (w->sign_bit && (va >> w->sign_bit) & 1)
		va |= ~0ULL << w->sign_bit;
	return va;
}

static void flush_range(struct walk *w)
{
	if (!w->have_range)
		return;
	uint64_t p = w->range_prot;
	textbuf_printf(w->out, "%0*" PRIx64 "-%0*" PRIx64 " %0*" PRIx64 " %c%c%c\n",
		       (int)w->addr_width, w->range_start, (int)w->addr_width, w->range_end,
		       (int)w->addr_width, w->range_end - w->range_start, p & PTE_US ? 'u' : '-',
		       'r', p & PTE_RW ? 'w' : '-');
	w->have_range = false;
}

static void emit_leaf(struct walk *w, uint64_t va, uint64_t size, uint64_t phys,
		      uint64_t entry, uint64_t prot)
{
	if (w->view == SYSFMT_TLB) {
		uint64_t e = entry;
		textbuf_printf(w->out, "%0*" PRIx64 ": %0*" PRIx64 " %c%c%c%c%c%c%c%c%c\n",
			       (int)w->addr_width, va, (int)w->addr_width, phys,
			       e & PTE_NX ? 'X' : '-', e & PTE_G ? 'G' : '-',
			       size > 4096 ? 'P' : '-', e & PTE_D ? 'D' : '-',
			       e & PTE_A ? 'A' : '-', e & PTE_PCD ? 'C' : '-',
			       e & PTE_PWT ? 'T' : '-', e & PTE_US ? 'U' : '-',
			       e & PTE_RW ? 'W' : '-');
		return;
	}
	uint64_t perm = prot & (PTE_US | PTE_RW);
	uint64_t end = va + size;
	if (w->have_range && w->range_end == va && w->range_prot == perm && end != 0) {
		w->range_end = end;
		return;
	}
	flush_range(w);
	if (end == 0)
		end = ~0ULL; /* the last page of the address space */
	w->have_range = true;
	w->range_start = va;
	w->range_end = end;
	w->range_prot = perm;
}

static void walk_table(struct walk *w, uint64_t table, unsigned level, uint64_t va_base,
		       uint64_t prot)
{
	uint8_t buf[4096];
	unsigned entries = (w->pae && level == 3) ? 4 : 4096 / w->entry_size;
	size_t bytes = (size_t)entries * w->entry_size;

	if (w->stopped)
		return;
	if (w->tables_left == 0 || textbuf_full(w->out)) {
		w->stopped = true;
		return;
	}
	w->tables_left--;
	if (w->read(w->ctx, table, buf, bytes)) {
		flush_range(w);
		textbuf_printf(w->out, "(page table at 0x%" PRIx64 " is outside guest RAM)\n", table);
		return;
	}
	unsigned shift = level_shift(w, level);
	for (unsigned i = 0; i < entries && !w->stopped; i++) {
		uint64_t e = get_le(buf + (size_t)i * w->entry_size, w->entry_size);
		uint64_t va = canonical(w, va_base | ((uint64_t)i << shift));
		if (!(e & PTE_P)) {
			if (w->view == SYSFMT_MEM)
				flush_range(w);
			continue;
		}
		/* The PAE PDPT has no permission bits: everything passes. */
		uint64_t p = (w->pae && level == 3) ? prot : prot & (e | ~(PTE_RW | PTE_US));
		bool leaf = level == 1;
		uint64_t size = 1ULL << shift, phys;
		if (!leaf && (e & PTE_PS)) {
			if (w->entry_size == 4 && level == 2 && w->pse) {
				leaf = true; /* 4 MiB page, PSE-36 high bits in 20:13 */
				phys = (e & 0xffc00000ULL) | ((e >> 13) & 0xffULL) << 32;
			} else if (w->entry_size == 8 && (level == 2 || level == 3) &&
				   !(w->pae && level == 3)) {
				leaf = true;
				phys = e & PTE_ADDR_MASK & ~(size - 1);
			}
		}
		if (leaf) {
			if (level == 1)
				phys = w->entry_size == 4 ? (e & 0xfffff000ULL) : (e & PTE_ADDR_MASK);
			emit_leaf(w, va, size, phys, e, p);
			if (textbuf_full(w->out))
				w->stopped = true;
			continue;
		}
		uint64_t next = w->entry_size == 4 ? (e & 0xfffff000ULL) : (e & PTE_ADDR_MASK);
		walk_table(w, next, level - 1, va, p);
	}
}

void sysfmt_page_tables(struct textbuf *out, const struct sysfmt_paging *p,
			enum sysfmt_paging_view view, sysfmt_read_fn read, void *ctx,
			unsigned max_tables)
{
	struct walk w = { .out = out, .view = view, .read = read, .ctx = ctx,
			  .tables_left = max_tables, .entry_size = 8, .addr_width = 8 };
	uint64_t table;

	if (!(p->cr0 & CR0_PG) || !(p->cr0 & CR0_PE)) {
		textbuf_printf(out, "PG disabled\n");
		return;
	}
	if (p->efer & EFER_LMA) {
		bool la57 = p->cr4 & CR4_LA57;
		w.top = la57 ? 5 : 4;
		w.sign_bit = la57 ? 56 : 47;
		w.addr_width = 16;
		table = p->cr3 & PTE_ADDR_MASK;
	} else if (p->cr4 & CR4_PAE) {
		w.top = 3;
		w.pae = true;
		table = p->cr3 & 0xffffffe0ULL;
	} else {
		w.top = 2;
		w.entry_size = 4;
		w.pse = p->cr4 & CR4_PSE;
		table = p->cr3 & 0xfffff000ULL;
	}
	walk_table(&w, table, w.top, 0, PTE_RW | PTE_US);
	flush_range(&w);
	if (w.stopped) {
		char note[128];
		snprintf(note, sizeof(note), "(stopped after %u page tables or at the output limit: "
					     "the tables are too large or loop)\n",
			 max_tables - w.tables_left);
		textbuf_note(out, note);
	}
}

/* ---- physical memory ---- */

int sysfmt_parse_xp(const char *args, struct sysfmt_xfmt *fmt, uint64_t *addr,
		    char *why, size_t why_size)
{
	const char *p = args;
	fmt->count = 1;
	fmt->format = 'x';
	fmt->size = 4;

	while (*p == ' ')
		p++;
	if (*p == '/') {
		p++;
		if (isdigit((unsigned char)*p)) {
			unsigned long n = 0;
			while (isdigit((unsigned char)*p)) {
				n = n * 10 + (unsigned long)(*p - '0');
				if (n > 65536) {
					snprintf(why, why_size, "xp: count is at most 65536");
					return -EINVAL;
				}
				p++;
			}
			if (n == 0) {
				snprintf(why, why_size, "xp: count must be at least 1");
				return -EINVAL;
			}
			fmt->count = (unsigned)n;
		}
		bool size_set = false, format_set = false;
		for (; *p && *p != ' '; p++) {
			switch (*p) {
			case 'b': fmt->size = 1; size_set = true; break;
			case 'h': fmt->size = 2; size_set = true; break;
			case 'w': fmt->size = 4; size_set = true; break;
			case 'g': fmt->size = 8; size_set = true; break;
			case 'x': case 'd': case 'u': case 'o': case 'c':
				fmt->format = *p;
				format_set = true;
				break;
			case 'i':
				snprintf(why, why_size, "xp: format 'i' needs a disassembler: use x/i in gdb");
				return -EINVAL;
			default:
				snprintf(why, why_size, "xp: unknown format letter '%c' (formats x d u o c, sizes b h w g)",
					 isprint((unsigned char)*p) ? *p : '?');
				return -EINVAL;
			}
		}
		if (format_set && fmt->format == 'c' && !size_set)
			fmt->size = 1;
	}
	while (*p == ' ')
		p++;
	if (!*p) {
		snprintf(why, why_size, "xp: missing address (usage: xp /FMT ADDR)");
		return -EINVAL;
	}
	char word[32];
	size_t n = strcspn(p, " ");
	if (n >= sizeof(word) || p[n] != 0) {
		snprintf(why, why_size, "xp: address must be one number (0x... or decimal)");
		return -EINVAL;
	}
	memcpy(word, p, n);
	word[n] = 0;
	if (number_parse(word, addr)) {
		snprintf(why, why_size, "xp: bad address '%s' (0x... or decimal)", word);
		return -EINVAL;
	}
	if (fmt->count * fmt->size > 65536) {
		snprintf(why, why_size, "xp: at most 64 KiB at a time");
		return -EINVAL;
	}
	return 0;
}

static void format_unit(char *buf, size_t size, uint64_t v, const struct sysfmt_xfmt *f)
{
	unsigned bits = f->size * 8;
	switch (f->format) {
	case 'd': {
		int64_t s = bits == 64 ? (int64_t)v
			  : (int64_t)(v << (64 - bits)) >> (64 - bits);
		snprintf(buf, size, "%" PRId64, s);
		break;
	}
	case 'u':
		snprintf(buf, size, "%" PRIu64, v);
		break;
	case 'o':
		snprintf(buf, size, "0%" PRIo64, v);
		break;
	case 'c': {
		uint8_t c = (uint8_t)v;
		if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\')
			snprintf(buf, size, "%u '%c'", c, c);
		else
			snprintf(buf, size, "%u '\\%03o'", c, c);
		break;
	}
	default:
		snprintf(buf, size, "0x%0*" PRIx64, (int)(f->size * 2), v);
		break;
	}
}

void sysfmt_memory(struct textbuf *out, uint64_t addr, const uint8_t *data, size_t len,
		   const struct sysfmt_xfmt *fmt)
{
	unsigned per_line = fmt->format == 'c' ? 8 : 16 / fmt->size;
	size_t units = len / fmt->size;
	char buf[48];

	if (units > fmt->count)
		units = fmt->count;
	for (size_t i = 0; i < units && !textbuf_full(out); i++) {
		if (i % per_line == 0)
			textbuf_printf(out, "%s%016" PRIx64 ":", i ? "\n" : "", addr + i * fmt->size);
		format_unit(buf, sizeof(buf), get_le(data + i * fmt->size, fmt->size), fmt);
		textbuf_printf(out, " %s", buf);
	}
	if (units)
		textbuf_printf(out, "\n");
	if (units < fmt->count)
		textbuf_printf(out, "Cannot access memory at address 0x%" PRIx64 "\n",
			       addr + units * fmt->size);
}

/* ---- interrupt controllers ---- */

static uint32_t apic_reg(const struct target_lapic *l, unsigned offset)
{
	return (uint32_t)get_le(l->regs + offset, 4);
}

static void format_lvt(struct textbuf *out, const char *name, uint32_t v, bool timer)
{
	static const char *const modes[8] = { "Fixed", "SMI", "reserved", "reserved",
					      "NMI", "INIT", "reserved", "ExtINT" };
	static const char *const timer_modes[4] = { "one-shot", "periodic", "tsc-deadline",
						    "reserved" };
	textbuf_printf(out, "%-8s 0x%08" PRIx32 " %s %s%s%s", name, v,
		       (v >> 13) & 1 ? "active-lo" : "active-hi",
		       (v >> 15) & 1 ? "level" : "edge ", (v >> 16) & 1 ? " masked" : "",
		       (v >> 12) & 1 ? " pending" : "");
	if (timer)
		textbuf_printf(out, " %s vec %u\n", timer_modes[(v >> 17) & 3], v & 0xff);
	else
		textbuf_printf(out, " %s vec %u\n", modes[(v >> 8) & 7], v & 0xff);
}

static void format_vector_bits(struct textbuf *out, const char *name,
			       const struct target_lapic *l, unsigned offset)
{
	bool any = false;
	textbuf_printf(out, "%-8s", name);
	for (unsigned v = 0; v < 256; v++) {
		if (apic_reg(l, offset + (v / 32) * 0x10) >> (v % 32) & 1) {
			textbuf_printf(out, " %u", v);
			any = true;
		}
	}
	textbuf_printf(out, "%s\n", any ? "" : " (none)");
}

void sysfmt_lapic(struct textbuf *out, const struct target_lapic *l)
{
	static const unsigned divide[8] = { 2, 4, 8, 16, 32, 64, 128, 1 };
	uint32_t dcr = apic_reg(l, 0x3e0);
	uint32_t svr = apic_reg(l, 0xf0);

	textbuf_printf(out, "local APIC of vCPU 0: id %u, version 0x%02x, max LVT %u\n",
		       apic_reg(l, 0x20) >> 24, apic_reg(l, 0x30) & 0xff,
		       (apic_reg(l, 0x30) >> 16) & 0xff);
	format_lvt(out, "LVT0", apic_reg(l, 0x350), false);
	format_lvt(out, "LVT1", apic_reg(l, 0x360), false);
	format_lvt(out, "LVTPC", apic_reg(l, 0x340), false);
	format_lvt(out, "LVTERR", apic_reg(l, 0x370), false);
	format_lvt(out, "LVTTHMR", apic_reg(l, 0x330), false);
	format_lvt(out, "LVTT", apic_reg(l, 0x320), true);
	textbuf_printf(out, "Timer    DCR=0x%" PRIx32 " (divide by %u) initial_count=%" PRIu32
			    " current_count=%" PRIu32 "\n",
		       dcr, divide[(dcr & 3) | ((dcr >> 1) & 4)], apic_reg(l, 0x380),
		       apic_reg(l, 0x390));
	textbuf_printf(out, "SPIV     0x%08" PRIx32 " APIC %s, focus=%s, spurious vec %u\n", svr,
		       (svr >> 8) & 1 ? "enabled" : "disabled", (svr >> 9) & 1 ? "off" : "on",
		       svr & 0xff);
	uint32_t icr = apic_reg(l, 0x300);
	static const char *const shorthand[4] = { "no-shorthand", "self", "all-self",
						  "all-but-self" };
	textbuf_printf(out, "ICR      0x%08" PRIx32 " %s %s %s %s vec %u\n", icr,
		       (icr >> 11) & 1 ? "logical" : "physical", (icr >> 15) & 1 ? "level" : "edge",
		       (icr >> 14) & 1 ? "assert" : "de-assert", shorthand[(icr >> 18) & 3],
		       icr & 0xff);
	textbuf_printf(out, "ICR2     0x%08" PRIx32 " destination %u\n", apic_reg(l, 0x310),
		       apic_reg(l, 0x310) >> 24);
	textbuf_printf(out, "ESR      0x%08" PRIx32 "\n", apic_reg(l, 0x280));
	format_vector_bits(out, "ISR", l, 0x100);
	format_vector_bits(out, "TMR", l, 0x180);
	format_vector_bits(out, "IRR", l, 0x200);
	textbuf_printf(out, "APR 0x%02x TPR 0x%02x DFR 0x%02x LDR 0x%02x PPR 0x%02x\n",
		       apic_reg(l, 0x90) & 0xff, apic_reg(l, 0x80) & 0xff, apic_reg(l, 0xe0) >> 28,
		       apic_reg(l, 0xd0) >> 24, apic_reg(l, 0xa0) & 0xff);
}

void sysfmt_irqchip(struct textbuf *out, const struct target_irqchip *c)
{
	for (unsigned i = 0; i < 2; i++) {
		const struct target_pic8259 *p = &c->pic[i];
		textbuf_printf(out, "pic%u: irr=%02x imr=%02x isr=%02x hprio=%u irq_base=%02x "
				    "rr_sel=%u elcr=%02x fnm=%u auto_eoi=%u poll=%u init_state=%u\n",
			       i, p->irr, p->imr, p->isr, p->priority_add & 7, p->irq_base,
			       p->read_reg_select & 1, p->elcr, p->special_fully_nested & 1,
			       p->auto_eoi & 1, p->poll & 1, p->init_state);
	}
	if (!c->has_ioapic)
		return;
	textbuf_printf(out, "ioapic: base=0x%08" PRIx64 " id=0x%02x irr=0x%08" PRIx32 "\n",
		       c->ioapic_base, c->ioapic_id, c->ioapic_irr);
	static const char *const delivery[8] = { "fixed", "lowest", "SMI", "reserved",
						 "NMI", "INIT", "reserved", "ExtINT" };
	for (unsigned pin = 0; pin < TARGET_IOAPIC_PINS; pin++) {
		uint64_t e = c->redirection[pin];
		textbuf_printf(out, "pin %-2u 0x%016" PRIx64 " dest=%" PRIx64 " vec=%-3u %-6s %-5s "
				    "%-9s %-8s%s%s\n",
			       pin, e, e >> 56, (unsigned)(e & 0xff), delivery[(e >> 8) & 7],
			       (e >> 15) & 1 ? "level" : "edge", (e >> 13) & 1 ? "active-lo" : "active-hi",
			       (e >> 11) & 1 ? "logical" : "physical", (e >> 16) & 1 ? " masked" : "",
			       (e >> 14) & 1 ? " remote-irr" : "");
	}
}

void sysfmt_exits(struct textbuf *out, const struct target_exit_counts *c)
{
	uint64_t total = 0;
	unsigned nreasons = c->nreasons < TARGET_MAX_EXIT_REASONS ? c->nreasons
								  : TARGET_MAX_EXIT_REASONS;
	unsigned nports = c->nports < TARGET_MAX_EXIT_PORTS ? c->nports : TARGET_MAX_EXIT_PORTS;

	for (unsigned i = 0; i < nreasons; i++)
		total += c->reasons[i].count;
	textbuf_printf(out, "exits by reason (%" PRIu64 " in all):\n", total);
	for (unsigned i = 0; i < nreasons; i++) {
		char name[sizeof(c->reasons[i].name) + 1];
		memcpy(name, c->reasons[i].name, sizeof(c->reasons[i].name));
		name[sizeof(c->reasons[i].name)] = 0;
		if (c->reasons[i].count)
			textbuf_printf(out, "  %-24s %12" PRIu64 "\n", name, c->reasons[i].count);
	}
	textbuf_printf(out, "port I/O exits by port:\n");
	if (!nports && !c->other_port_exits)
		textbuf_printf(out, "  (none)\n");
	for (unsigned i = 0; i < nports; i++)
		textbuf_printf(out, "  0x%04x  in %12" PRIu64 "  out %12" PRIu64 "\n",
			       c->ports[i].port, c->ports[i].in, c->ports[i].out);
	if (c->other_port_exits)
		textbuf_printf(out, "  other ports %" PRIu64 "\n", c->other_port_exits);
	/* From the exit that caused a stop to the write of its reply to gdb. */
	if (!c->stops_timed) {
		textbuf_printf(out, "stop latency: no stops yet\n");
		return;
	}
	textbuf_printf(out, "stop latency: last %.1f us, median %.1f us, max %.1f us over %" PRIu64
			    " stops",
		       c->stop_last_ns / 1e3, c->stop_median_ns / 1e3, c->stop_max_ns / 1e3,
		       c->stops_timed);
	if (c->stop_median_of < c->stops_timed)
		textbuf_printf(out, " (median of the last %" PRIu64 ")", c->stop_median_of);
	textbuf_printf(out, "\n");
}
