/* kvm/insn_complete.c — `int n`, `int3`, `into` and `iret` finished in
 * userspace where the host's emulator refuses them, following the Intel
 * SDM (vol. 2, INT n/INTO/INT3 and IRET pseudocode; vol. 3, 6.12 "Exception
 * and interrupt handling" and 6.14 for IA-32e mode).
 *
 * Works on copies of the registers and writes them back only when the
 * whole instruction has been checked and its frame written, so a refusal
 * leaves the vCPU exactly as the host left it. No ioctls: memory comes
 * through the caller's callbacks. Anything the SDM would fault on (#GP,
 * #NP, #TS, #SS) is refused rather than delivered: the caller stops with
 * the reason, which is what a kernel developer wants to see. */
#include "kvm/insn_complete.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FL_CF (1ULL << 0)
#define FL_PF (1ULL << 2)
#define FL_AF (1ULL << 4)
#define FL_ZF (1ULL << 6)
#define FL_SF (1ULL << 7)
#define FL_TF (1ULL << 8)
#define FL_IF (1ULL << 9)
#define FL_DF (1ULL << 10)
#define FL_OF (1ULL << 11)
#define FL_IOPL (3ULL << 12)
#define FL_NT (1ULL << 14)
#define FL_RF (1ULL << 16)
#define FL_VM (1ULL << 17)
#define FL_AC (1ULL << 18)
#define FL_VIF (1ULL << 19)
#define FL_VIP (1ULL << 20)
#define FL_ID (1ULL << 21)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF)

#define CR0_PE (1ULL << 0)
#define EFER_LMA (1ULL << 10)

#define GATE_TASK 0x5
#define GATE_INT16 0x6
#define GATE_TRAP16 0x7
#define GATE_INT 0xe
#define GATE_TRAP 0xf

/* Descriptor fields (SDM vol. 3, 3.4.5). */
#define DESC_TYPE(d) ((unsigned)((d) >> 40) & 0xf)
#define DESC_S(d) ((unsigned)((d) >> 44) & 1)
#define DESC_DPL(d) ((unsigned)((d) >> 45) & 3)
#define DESC_P(d) ((unsigned)((d) >> 47) & 1)
#define DESC_AVL(d) ((unsigned)((d) >> 52) & 1)
#define DESC_L(d) ((unsigned)((d) >> 53) & 1)
#define DESC_DB(d) ((unsigned)((d) >> 54) & 1)
#define DESC_G(d) ((unsigned)((d) >> 55) & 1)
#define TYPE_CODE 0x8
#define TYPE_CONFORMING 0x4
#define TYPE_WRITABLE 0x2
#define TYPE_ACCESSED 0x1

struct completion {
	struct kvm_regs r;  /* the state being built */
	struct kvm_sregs s;
	const struct insn_memory *mem;
	char *why;
	size_t why_size;
	/* What the instruction is, for a refusal ("iret at 0x8:0x1234"); the
	 * text is formatted only then, as completions are on the hot path. */
	const char *name;
	int vector; /* int n: n; otherwise -1 */
	uint16_t at_cs;
	uint64_t at_rip;
};

static int refuse(struct completion *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int refuse(struct completion *c, int err, const char *fmt, ...)
{
	char reason[160];
	va_list ap;

	char what[48];

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (c->vector >= 0)
		snprintf(what, sizeof(what), "int $0x%x", (unsigned)c->vector);
	else
		snprintf(what, sizeof(what), "%s", c->name);
	if (c->why_size)
		snprintf(c->why, c->why_size, "%s at 0x%x:0x%llx: %s", what, c->at_cs,
			 (unsigned long long)c->at_rip, reason);
	return -err;
}

enum insn_cpu_mode insn_cpu_mode(const struct kvm_sregs *s)
{
	if (!(s->cr0 & CR0_PE))
		return INSN_MODE_REAL;
	if (s->efer & EFER_LMA)
		return s->cs.l ? INSN_MODE_LONG64 : INSN_MODE_COMPAT;
	return INSN_MODE_PROTECTED;
}

int insn_decode(const uint8_t *bytes, size_t len, enum insn_cpu_mode mode, bool cs_db,
		struct insn_decoded *out)
{
	bool opsize = false, rex_w = false;
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	out->kind = INSN_OTHER;
	out->name = "instruction";
	for (;; i++) {
		if (i >= len)
			return -EINVAL;
		if (i == 15) { /* too long: #UD on a CPU, never ours */
			out->length = 15;
			return 0;
		}
		uint8_t b = bytes[i];
		if (b == 0x66) {
			opsize = true;
		} else if (b == 0x67 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
			   b == 0x64 || b == 0x65 || b == 0xf2 || b == 0xf3) {
			/* address size, segment, rep: nothing to these instructions */
		} else if (b == 0xf0) {
			out->lock = true;
		} else if (mode == INSN_MODE_LONG64 && (b & 0xf0) == 0x40) {
			rex_w = (b & 0x8) != 0;
			continue; /* a REX counts only right before the opcode */
		} else {
			break;
		}
		rex_w = false;
	}
	uint8_t op = bytes[i];
	out->opcode = op;
	out->length = (unsigned)i + 1;
	if (mode == INSN_MODE_LONG64)
		out->operand_size = rex_w ? 8 : opsize ? 2 : 4;
	else
		out->operand_size = (cs_db != opsize) ? 4 : 2;
	switch (op) {
	case 0xcc:
		out->kind = INSN_INT;
		out->vector = 3;
		out->name = "int3";
		break;
	case 0xcd:
		if (i + 1 >= len)
			return -EINVAL;
		out->kind = INSN_INT;
		out->vector = bytes[i + 1];
		out->length++;
		out->name = "int";
		break;
	case 0xce:
		if (mode == INSN_MODE_LONG64)
			break; /* invalid in 64-bit mode: #UD */
		out->kind = INSN_INT;
		out->vector = 4;
		out->name = "into";
		break;
	case 0xcf:
		out->kind = INSN_IRET;
		out->name = out->operand_size == 8 ? "iretq" : out->operand_size == 4 ? "iret" : "iretw";
		break;
	default:
		break;
	}
	return 0;
}

/* ---- memory and descriptors ---- */

static int mem_read(struct completion *c, uint64_t linear, void *buf, size_t len,
		    const char *what)
{
	if (c->mem->read(c->mem->ctx, linear, buf, len))
		return refuse(c, EFAULT, "cannot read the %s at linear 0x%llx", what,
			      (unsigned long long)linear);
	return 0;
}

static int mem_write(struct completion *c, uint64_t linear, const void *buf, size_t len,
		     const char *what)
{
	if (c->mem->write(c->mem->ctx, linear, buf, len))
		return refuse(c, EFAULT, "cannot write the %s at linear 0x%llx", what,
			      (unsigned long long)linear);
	return 0;
}

static unsigned cpl_of(const struct completion *c)
{
	return c->s.cs.selector & 3;
}

/* The 8-byte descriptor for selector from the GDT or LDT; *where gets its
 * linear address (for the accessed bit). */
static int read_descriptor(struct completion *c, uint16_t selector, uint64_t *desc,
			   uint64_t *where, const char *what)
{
	uint64_t base, limit;

	if (selector & 4) {
		if (c->s.ldt.unusable || !c->s.ldt.present)
			return refuse(c, ENOTSUP, "%s selector 0x%x is in an LDT that is not loaded",
				      what, selector);
		base = c->s.ldt.base;
		limit = c->s.ldt.limit;
	} else {
		base = c->s.gdt.base;
		limit = c->s.gdt.limit;
	}
	uint64_t index = selector & ~7u;
	if (index + 7 > limit)
		return refuse(c, ENOTSUP, "%s selector 0x%x is beyond the descriptor table limit (#GP)",
			      what, selector);
	if (insn_cpu_mode(&c->s) != INSN_MODE_LONG64 && insn_cpu_mode(&c->s) != INSN_MODE_COMPAT)
		base &= 0xffffffffULL;
	*where = base + index;
	return mem_read(c, *where, desc, 8, "segment descriptor");
}

static void segment_from(struct kvm_segment *seg, uint16_t selector, uint64_t d)
{
	uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 48) & 0xf) << 16;

	memset(seg, 0, sizeof(*seg));
	seg->selector = selector;
	seg->base = ((d >> 16) & 0xffffff) | ((d >> 56) & 0xff) << 24;
	seg->limit = DESC_G(d) ? (limit << 12) | 0xfff : limit;
	seg->type = (uint8_t)(DESC_TYPE(d) | TYPE_ACCESSED);
	seg->s = (uint8_t)DESC_S(d);
	seg->dpl = (uint8_t)DESC_DPL(d);
	seg->present = (uint8_t)DESC_P(d);
	seg->avl = (uint8_t)DESC_AVL(d);
	seg->l = (uint8_t)DESC_L(d);
	seg->db = (uint8_t)DESC_DB(d);
	seg->g = (uint8_t)DESC_G(d);
}

static uint64_t segment_limit_of(uint64_t d)
{
	uint64_t limit = (d & 0xffff) | ((d >> 48) & 0xf) << 16;
	return DESC_G(d) ? (limit << 12) | 0xfff : limit;
}

/* The CPU sets a descriptor's accessed bit when it loads it. */
static int mark_accessed(struct completion *c, uint64_t where, uint64_t d)
{
	if (DESC_TYPE(d) & TYPE_ACCESSED)
		return 0;
	uint8_t type_byte = (uint8_t)((d >> 40) | TYPE_ACCESSED);
	return mem_write(c, where + 5, &type_byte, 1, "descriptor's accessed bit");
}

static void null_segment(struct kvm_segment *seg, uint16_t selector, unsigned dpl)
{
	memset(seg, 0, sizeof(*seg));
	seg->selector = selector;
	seg->dpl = (uint8_t)dpl;
	seg->unusable = 1;
}

/* A code segment the CPU may jump to: present code, and for IA-32e
 * targets of a 64-bit gate, L=1 D=0. */
static int check_code(struct completion *c, uint16_t selector, uint64_t d, const char *what)
{
	if (!DESC_S(d) || !(DESC_TYPE(d) & TYPE_CODE))
		return refuse(c, ENOTSUP, "%s selector 0x%x is not a code segment (#GP)", what, selector);
	if (!DESC_P(d))
		return refuse(c, ENOTSUP, "%s selector 0x%x is not present (#NP)", what, selector);
	return 0;
}

static int check_stack(struct completion *c, uint16_t selector, uint64_t d, unsigned cpl,
		       const char *what)
{
	if ((selector & 3) != cpl || DESC_DPL(d) != cpl)
		return refuse(c, ENOTSUP, "%s selector 0x%x does not match privilege level %u (#TS/#GP)",
			      what, selector, cpl);
	if (!DESC_S(d) || (DESC_TYPE(d) & TYPE_CODE) || !(DESC_TYPE(d) & TYPE_WRITABLE))
		return refuse(c, ENOTSUP, "%s selector 0x%x is not a writable data segment (#TS/#GP)",
			      what, selector);
	if (!DESC_P(d))
		return refuse(c, ENOTSUP, "%s selector 0x%x is not present (#SS)", what, selector);
	return 0;
}

static int read_tss(struct completion *c, uint64_t offset, void *buf, size_t len)
{
	/* Busy or available TSS of the 32-bit / 64-bit kind (types 9, 11). */
	if (c->s.tr.unusable || (c->s.tr.type != 9 && c->s.tr.type != 11))
		return refuse(c, ENOTSUP, "the task register holds no 32/64-bit TSS (type %u)",
			      c->s.tr.type);
	if (offset + len - 1 > c->s.tr.limit)
		return refuse(c, ENOTSUP, "TSS offset 0x%llx is beyond its limit 0x%x (#TS)",
			      (unsigned long long)offset, c->s.tr.limit);
	return mem_read(c, c->s.tr.base + offset, buf, len, "TSS");
}

/* ---- int n, int3, into ---- */

/* The last step of delivery through an interrupt or trap gate, once the
 * frame is pushed: CS:RIP from the gate at the new privilege level, and
 * the flags the SDM says delivery clears (IF only through an interrupt
 * gate). */
static void enter_handler(struct completion *c, uint16_t selector, unsigned new_cpl,
			  uint64_t cs_desc, uint64_t offset, unsigned type)
{
	segment_from(&c->s.cs, (uint16_t)((selector & ~3u) | new_cpl), cs_desc);
	c->r.rip = offset;
	c->r.rflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
	if (type == GATE_INT)
		c->r.rflags &= ~FL_IF;
}

/* Protected mode (SDM vol. 3, 6.12.1): 32-bit interrupt and trap gates,
 * to the same privilege level or, through the TSS's SSn:ESPn, to an inner
 * one. A software interrupt pushes no error code. */
static int deliver_protected(struct completion *c, unsigned vector, uint64_t next_ip)
{
	unsigned cpl = cpl_of(c);
	uint64_t gate, cs_desc, cs_where;

	if (vector * 8 + 7 > c->s.idt.limit)
		return refuse(c, ENOTSUP, "vector %u is beyond the IDT limit 0x%x (#GP)", vector,
			      c->s.idt.limit);
	if (mem_read(c, (c->s.idt.base + vector * 8) & 0xffffffffULL, &gate, 8, "IDT gate"))
		return -EFAULT;
	unsigned type = DESC_TYPE(gate);
	if (type == GATE_TASK)
		return refuse(c, ENOTSUP, "vector %u is a task gate (task switches are not supported)",
			      vector);
	if (type == GATE_INT16 || type == GATE_TRAP16)
		return refuse(c, ENOTSUP, "vector %u is a 16-bit gate (not supported)", vector);
	if (type != GATE_INT && type != GATE_TRAP)
		return refuse(c, ENOTSUP, "IDT entry %u is not a gate (type %u, #GP)", vector, type);
	if (DESC_DPL(gate) < cpl)
		return refuse(c, ENOTSUP, "gate %u has DPL %u < CPL %u (#GP)", vector, DESC_DPL(gate), cpl);
	if (!DESC_P(gate))
		return refuse(c, ENOTSUP, "gate %u is not present (#NP)", vector);
	uint16_t selector = (uint16_t)(gate >> 16);
	uint32_t offset = (uint32_t)(gate & 0xffff) | (uint32_t)((gate >> 48) & 0xffff) << 16;
	if ((selector & ~3u) == 0)
		return refuse(c, ENOTSUP, "gate %u has a null code selector (#GP)", vector);
	if (read_descriptor(c, selector, &cs_desc, &cs_where, "gate's code") ||
	    check_code(c, selector, cs_desc, "gate's code"))
		return -ENOTSUP;
	unsigned dpl = DESC_DPL(cs_desc);
	if (dpl > cpl)
		return refuse(c, ENOTSUP, "gate %u's code segment has DPL %u > CPL %u (#GP)", vector,
			      dpl, cpl);
	unsigned new_cpl = (DESC_TYPE(cs_desc) & TYPE_CONFORMING) ? cpl : dpl;

	uint32_t frame[5] = { (uint32_t)next_ip, c->s.cs.selector, (uint32_t)c->r.rflags,
			      (uint32_t)c->r.rsp, c->s.ss.selector };
	unsigned nframe = 3;
	struct kvm_segment new_ss = c->s.ss;
	uint64_t sp = c->r.rsp;
	uint64_t ss_desc = 0, ss_where = 0;
	if (new_cpl < cpl) {
		uint32_t esp;
		uint16_t ss_sel;
		if (read_tss(c, 4 + 8 * new_cpl, &esp, 4) || read_tss(c, 8 + 8 * new_cpl, &ss_sel, 2))
			return -ENOTSUP;
		if ((ss_sel & ~3u) == 0)
			return refuse(c, ENOTSUP, "the TSS's SS%u is null (#TS)", new_cpl);
		if (read_descriptor(c, ss_sel, &ss_desc, &ss_where, "TSS stack") ||
		    check_stack(c, ss_sel, ss_desc, new_cpl, "TSS stack"))
			return -ENOTSUP;
		segment_from(&new_ss, ss_sel, ss_desc);
		sp = esp;
		nframe = 5;
	}
	uint64_t sp_mask = new_ss.db ? 0xffffffffULL : 0xffffULL;
	uint64_t new_sp = (sp - 4 * nframe) & sp_mask;
	if (mem_write(c, (new_ss.base + new_sp) & 0xffffffffULL, frame, 4 * nframe,
		      "interrupt frame"))
		return -EFAULT;
	if (mark_accessed(c, cs_where, cs_desc) || (ss_where && mark_accessed(c, ss_where, ss_desc)))
		return -EFAULT;
	c->s.ss = new_ss;
	c->r.rsp = (sp & ~sp_mask) | new_sp;
	enter_handler(c, selector, new_cpl, cs_desc, offset, type);
	return 0;
}

/* IA-32e mode (SDM vol. 3, 6.14): 16-byte gates to 64-bit code, the stack
 * from the IST or (on a privilege change) the TSS's RSPn, aligned to 16,
 * and SS:RSP always pushed. */
static int deliver_long(struct completion *c, unsigned vector, uint64_t next_ip)
{
	unsigned cpl = cpl_of(c);
	uint64_t gate[2], cs_desc, cs_where;

	if (vector * 16 + 15 > c->s.idt.limit)
		return refuse(c, ENOTSUP, "vector %u is beyond the IDT limit 0x%x (#GP)", vector,
			      c->s.idt.limit);
	if (mem_read(c, c->s.idt.base + vector * 16, gate, 16, "IDT gate"))
		return -EFAULT;
	unsigned type = DESC_TYPE(gate[0]);
	if (type != GATE_INT && type != GATE_TRAP)
		return refuse(c, ENOTSUP, "IDT entry %u is not a 64-bit interrupt or trap gate (type %u, #GP)",
			      vector, type);
	if (DESC_DPL(gate[0]) < cpl)
		return refuse(c, ENOTSUP, "gate %u has DPL %u < CPL %u (#GP)", vector,
			      DESC_DPL(gate[0]), cpl);
	if (!DESC_P(gate[0]))
		return refuse(c, ENOTSUP, "gate %u is not present (#NP)", vector);
	uint16_t selector = (uint16_t)(gate[0] >> 16);
	uint64_t offset = (gate[0] & 0xffff) | ((gate[0] >> 48) & 0xffff) << 16 |
			  (gate[1] & 0xffffffffULL) << 32;
	unsigned ist = (unsigned)(gate[0] >> 32) & 7;
	if ((selector & ~3u) == 0)
		return refuse(c, ENOTSUP, "gate %u has a null code selector (#GP)", vector);
	if (read_descriptor(c, selector, &cs_desc, &cs_where, "gate's code") ||
	    check_code(c, selector, cs_desc, "gate's code"))
		return -ENOTSUP;
	if (!DESC_L(cs_desc) || DESC_DB(cs_desc))
		return refuse(c, ENOTSUP, "gate %u's code segment 0x%x is not 64-bit code (#GP)", vector,
			      selector);
	unsigned dpl = DESC_DPL(cs_desc);
	if (dpl > cpl)
		return refuse(c, ENOTSUP, "gate %u's code segment has DPL %u > CPL %u (#GP)", vector,
			      dpl, cpl);
	unsigned new_cpl = (DESC_TYPE(cs_desc) & TYPE_CONFORMING) ? cpl : dpl;

	uint64_t rsp = c->r.rsp;
	if (ist) {
		if (read_tss(c, 0x24 + 8 * (ist - 1), &rsp, 8))
			return -ENOTSUP;
	} else if (new_cpl < cpl) {
		if (read_tss(c, 4 + 8 * new_cpl, &rsp, 8))
			return -ENOTSUP;
	}
	rsp &= ~0xfULL;
	uint64_t frame[5] = { next_ip, c->s.cs.selector, c->r.rflags, c->r.rsp, c->s.ss.selector };
	if (mem_write(c, rsp - sizeof(frame), frame, sizeof(frame), "interrupt frame") ||
	    mark_accessed(c, cs_where, cs_desc))
		return -EFAULT;
	if (new_cpl < cpl)
		null_segment(&c->s.ss, (uint16_t)new_cpl, new_cpl);
	c->r.rsp = rsp - sizeof(frame);
	enter_handler(c, selector, new_cpl, cs_desc, offset, type);
	return 0;
}

static int complete_int(struct completion *c, const struct insn_decoded *d,
			enum insn_cpu_mode mode)
{
	uint64_t next_ip = c->r.rip + d->length;

	if (mode != INSN_MODE_LONG64)
		next_ip &= c->s.cs.db ? 0xffffffffULL : 0xffffULL;
	if (d->opcode == 0xce && !(c->r.rflags & FL_OF)) {
		c->r.rip = next_ip; /* into with OF clear does nothing */
		return 0;
	}
	if (mode == INSN_MODE_LONG64 || mode == INSN_MODE_COMPAT)
		return deliver_long(c, d->vector, next_ip);
	return deliver_protected(c, d->vector, next_ip);
}

/* ---- iret ---- */

/* Which flags an iret may change (SDM vol. 2, IRET): the arithmetic
 * ones, TF, DF, NT always; RF, AC, ID with a 32/64-bit operand; IF only
 * when CPL <= IOPL; IOPL, VIF, VIP only at CPL 0. cpl is the level before
 * the return. */
static uint64_t iret_flags(uint64_t old, uint64_t popped, unsigned operand_size, unsigned cpl)
{
	uint64_t mask = FL_ARITH | FL_NT;
	unsigned iopl = (unsigned)(old >> 12) & 3;

	if (operand_size >= 4)
		mask |= FL_RF | FL_AC | FL_ID;
	if (cpl <= iopl)
		mask |= FL_IF;
	if (cpl == 0) {
		mask |= FL_IOPL;
		if (operand_size >= 4)
			mask |= FL_VIF | FL_VIP;
	}
	return (old & ~mask) | (popped & mask) | 0x2;
}

/* After a return to an outer level, data segments the new level may not
 * use become null (SDM vol. 2, IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
static void drop_inner_segment(struct kvm_segment *seg, unsigned new_cpl)
{
	bool conforming_code = (seg->type & TYPE_CODE) && (seg->type & TYPE_CONFORMING);

	if (seg->unusable || !seg->s || conforming_code || seg->dpl >= new_cpl)
		return;
	null_segment(seg, 0, 0);
}

static int complete_iret(struct completion *c, const struct insn_decoded *d,
			 enum insn_cpu_mode mode)
{
	unsigned size = d->operand_size, cpl = cpl_of(c);
	bool ia32e = mode == INSN_MODE_LONG64 || mode == INSN_MODE_COMPAT;
	uint64_t sp_mask = mode == INSN_MODE_LONG64 ? ~0ULL
			   : c->s.ss.db ? 0xffffffffULL : 0xffffULL;
	uint64_t sp = c->r.rsp & sp_mask;
	uint64_t stack_base = mode == INSN_MODE_LONG64 ? 0 : c->s.ss.base;
	uint64_t item_mask = size == 8 ? ~0ULL : size == 4 ? 0xffffffffULL : 0xffffULL;
	uint8_t raw[40];
	uint64_t v[5];

	if (c->r.rflags & FL_NT)
		return refuse(c, ENOTSUP, "%s",
			      ia32e ? "NT is set in IA-32e mode (#GP)"
				    : "NT is set: a return to another task (task switches are not supported)");
	if (mem_read(c, (stack_base + sp) & (ia32e ? ~0ULL : 0xffffffffULL), raw, 3 * size,
		     "iret frame"))
		return -EFAULT;
	for (unsigned i = 0; i < 3; i++) {
		v[i] = 0;
		memcpy(&v[i], raw + i * size, size);
	}
	uint64_t new_ip = v[0] & item_mask;
	uint16_t new_cs = (uint16_t)v[1];
	uint64_t popped_flags = size == 2 ? (c->r.rflags & ~0xffffULL) | (v[2] & 0xffff)
					  : v[2] & item_mask;
	if (!ia32e && size == 4 && (popped_flags & FL_VM) && cpl == 0)
		return refuse(c, ENOTSUP, "returns to virtual-8086 mode (not supported)");
	unsigned rpl = new_cs & 3;
	if ((new_cs & ~3u) == 0)
		return refuse(c, ENOTSUP, "pops a null code selector (#GP)");
	if (rpl < cpl)
		return refuse(c, ENOTSUP, "returns to CS 0x%x, more privileged than CPL %u (#GP)",
			      new_cs, cpl);
	uint64_t cs_desc, cs_where;
	if (read_descriptor(c, new_cs, &cs_desc, &cs_where, "returned code") ||
	    check_code(c, new_cs, cs_desc, "returned code"))
		return -ENOTSUP;
	bool conforming = DESC_TYPE(cs_desc) & TYPE_CONFORMING;
	if (conforming ? DESC_DPL(cs_desc) > rpl : DESC_DPL(cs_desc) != rpl)
		return refuse(c, ENOTSUP, "returned code segment 0x%x has DPL %u for RPL %u (#GP)",
			      new_cs, DESC_DPL(cs_desc), rpl);
	bool to_64 = ia32e && DESC_L(cs_desc);
	if (DESC_L(cs_desc) && (!ia32e || DESC_DB(cs_desc)))
		return refuse(c, ENOTSUP, "returned code segment 0x%x has L set outside IA-32e mode or with D (#GP)",
			      new_cs);
	if (to_64) {
		if ((uint64_t)((int64_t)(new_ip << 16) >> 16) != new_ip)
			return refuse(c, ENOTSUP, "returns to non-canonical rip 0x%llx (#GP)",
				      (unsigned long long)new_ip);
	} else if (new_ip > segment_limit_of(cs_desc)) {
		return refuse(c, ENOTSUP, "returns to eip 0x%llx beyond the code segment limit (#GP)",
			      (unsigned long long)new_ip);
	}

	bool pops_stack = mode == INSN_MODE_LONG64 || rpl > cpl;
	struct kvm_segment new_ss = c->s.ss;
	uint64_t new_sp = (sp + 3 * size) & sp_mask, ss_desc = 0, ss_where = 0;
	if (pops_stack) {
		if (mem_read(c, (stack_base + sp + 3 * size) & (ia32e ? ~0ULL : 0xffffffffULL),
			     raw + 3 * size, 2 * size, "iret frame"))
			return -EFAULT;
		for (unsigned i = 3; i < 5; i++) {
			v[i] = 0;
			memcpy(&v[i], raw + i * size, size);
		}
		uint16_t ss_sel = (uint16_t)v[4];
		new_sp = v[3] & item_mask;
		if ((ss_sel & ~3u) == 0) {
			/* A null SS is allowed only for 64-bit code below ring 3. */
			if (!to_64 || rpl == 3)
				return refuse(c, ENOTSUP, "pops a null stack selector (#GP)");
			null_segment(&new_ss, ss_sel, rpl);
		} else {
			if (read_descriptor(c, ss_sel, &ss_desc, &ss_where, "returned stack") ||
			    check_stack(c, ss_sel, ss_desc, rpl, "returned stack"))
				return -ENOTSUP;
			segment_from(&new_ss, ss_sel, ss_desc);
		}
	}
	if (mark_accessed(c, cs_where, cs_desc) || (ss_where && mark_accessed(c, ss_where, ss_desc)))
		return -EFAULT;

	c->r.rflags = iret_flags(c->r.rflags, popped_flags, size, cpl);
	segment_from(&c->s.cs, new_cs, cs_desc);
	c->r.rip = new_ip;
	if (pops_stack) {
		c->s.ss = new_ss;
		if (to_64 || new_ss.db)
			c->r.rsp = new_sp;
		else
			c->r.rsp = (c->r.rsp & ~0xffffULL) | (new_sp & 0xffff);
	} else {
		c->r.rsp = (c->r.rsp & ~sp_mask) | new_sp;
	}
	if (rpl > cpl) {
		drop_inner_segment(&c->s.ds, rpl);
		drop_inner_segment(&c->s.es, rpl);
		drop_inner_segment(&c->s.fs, rpl);
		drop_inner_segment(&c->s.gs, rpl);
	}
	return 0;
}

/* ---- the entry ---- */

int insn_complete(struct kvm_regs *regs, struct kvm_sregs *sregs,
		  const struct insn_memory *mem, char *why, size_t why_size)
{
	struct completion c = { .r = *regs, .s = *sregs, .mem = mem, .why = why,
				.why_size = why_size, .name = "instruction", .vector = -1,
				.at_cs = sregs->cs.selector, .at_rip = regs->rip };
	enum insn_cpu_mode mode = insn_cpu_mode(sregs);
	uint8_t bytes[15];
	struct insn_decoded d;
	uint64_t pc = mode == INSN_MODE_LONG64 ? regs->rip : sregs->cs.base + regs->rip;

	if (why_size)
		why[0] = '\0';
	/* Fetch what is there, up to 15 bytes: an instruction near the end of
	 * mapped memory is shorter than that. */
	size_t n = sizeof(bytes);
	while (n && mem->read(mem->ctx, pc, bytes, n))
		n--;
	if (!n)
		return refuse(&c, EFAULT, "cannot read the instruction at linear 0x%llx",
			      (unsigned long long)pc);
	if (insn_decode(bytes, n, mode, sregs->cs.db, &d))
		return refuse(&c, EFAULT, "the instruction runs past mapped memory");
	if (d.kind == INSN_OTHER) {
		/* Its length is unknown to us: show the first bytes. */
		char hex[3 * 6 + 1] = "";
		unsigned len = n < 6 ? (unsigned)n : 6;
		for (unsigned i = 0; i < len; i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%02x ", bytes[i]);
		hex[3 * len - 1] = '\0';
		return refuse(&c, ENOTSUP, "bytes %s%s: not an instruction kvmstub completes", hex,
			      n > len ? " ..." : "");
	}
	c.name = d.name;
	if (d.kind == INSN_INT && d.opcode == 0xcd)
		c.vector = d.vector;
	if (d.lock)
		return refuse(&c, ENOTSUP, "a lock prefix (#UD)");
	if (mode == INSN_MODE_REAL)
		return refuse(&c, ENOTSUP, "real mode (the host runs these itself there)");
	if (regs->rflags & FL_VM)
		return refuse(&c, ENOTSUP, "virtual-8086 mode is not supported");

	int err = d.kind == INSN_INT ? complete_int(&c, &d, mode) : complete_iret(&c, &d, mode);
	if (err)
		return err;
	*regs = c.r;
	*sregs = c.s;
	return 0;
}
