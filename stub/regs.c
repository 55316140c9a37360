/* stub/regs.c — the register layouts gdb sees (i8086/i386 and x86-64),
 * generated target descriptions, and register byte images. Pure.
 *
 * One table per layout drives both the target.xml gdb reads and the
 * g/p packet images, so the two can never disagree. The order within
 * core, sse and segments is the one gdb's i386 and amd64 code expects. */
#include "stub/regs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum reg_source {
	SRC_GPR,      /* a uint64_t field of target_regs */
	SRC_SELECTOR, /* a uint16_t segment selector in target_regs */
	SRC_FPU,      /* bytes of target_fpu */
	SRC_REAL_PC,  /* real mode: cs.base + ip */
};

enum reg_feature { FEAT_CORE, FEAT_SSE, FEAT_SEGMENTS, FEAT_SYSTEM, FEAT_COUNT };

struct reg_desc {
	const char *name;
	uint16_t bits;
	uint8_t source;
	uint8_t feature;
	uint16_t offset;
	const char *type;
	const char *group;
};

#define GPR(n, f, b, t) { n, b, SRC_GPR, FEAT_CORE, offsetof(struct target_regs, f), t, NULL }
#define SEL(n, s) { n, 32, SRC_SELECTOR, FEAT_CORE, offsetof(struct target_regs, s.selector), "int32", NULL }
#define ST(i) { "st" #i, 80, SRC_FPU, FEAT_CORE, offsetof(struct target_fpu, st[i]), "i387_ext", NULL }
#define FCTL(n, f) { n, 32, SRC_FPU, FEAT_CORE, offsetof(struct target_fpu, f), "int", "float" }
#define XMM(i) { "xmm" #i, 128, SRC_FPU, FEAT_SSE, offsetof(struct target_fpu, xmm[i]), "vec128", NULL }
#define MXCSR { "mxcsr", 32, SRC_FPU, FEAT_SSE, offsetof(struct target_fpu, mxcsr), "int", "vector" }
#define SEGBASE(n, s, b) { n, b, SRC_GPR, FEAT_SEGMENTS, offsetof(struct target_regs, s.base), "int", NULL }
#define SYS(n, f) { n, 64, SRC_GPR, FEAT_SYSTEM, offsetof(struct target_regs, f), "int", "system" }

#define X87 ST(0), ST(1), ST(2), ST(3), ST(4), ST(5), ST(6), ST(7), \
	FCTL("fctrl", fctrl), FCTL("fstat", fstat), FCTL("ftag", ftag), \
	FCTL("fiseg", fiseg), FCTL("fioff", fioff), FCTL("foseg", foseg), \
	FCTL("fooff", fooff), FCTL("fop", fop)
#define SYSTEM SYS("cr0", cr0), SYS("cr2", cr2), SYS("cr3", cr3), SYS("cr4", cr4), \
	SYS("cr8", cr8), SYS("efer", efer), \
	SEGBASE_SYS("cs_base", cs), SEGBASE_SYS("ss_base", ss), \
	SEGBASE_SYS("ds_base", ds), SEGBASE_SYS("es_base", es)
#define SEGBASE_SYS(n, s) { n, 64, SRC_GPR, FEAT_SYSTEM, offsetof(struct target_regs, s.base), "int", "system" }

static const struct reg_desc i386_layout[] = {
	GPR("eax", rax, 32, "int32"), GPR("ecx", rcx, 32, "int32"),
	GPR("edx", rdx, 32, "int32"), GPR("ebx", rbx, 32, "int32"),
	GPR("esp", rsp, 32, "data_ptr"), GPR("ebp", rbp, 32, "data_ptr"),
	GPR("esi", rsi, 32, "int32"), GPR("edi", rdi, 32, "int32"),
	GPR("eip", rip, 32, "code_ptr"), GPR("eflags", rflags, 32, "i386_eflags"),
	SEL("cs", cs), SEL("ss", ss), SEL("ds", ds), SEL("es", es), SEL("fs", fs), SEL("gs", gs),
	X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7), MXCSR,
	/* gdb 13's i386 code asserts on org.gnu.gdb.i386.segments in a
	 * 32-bit description, so the bases go in our own feature there. */
	SEGBASE_SYS("fs_base", fs), SEGBASE_SYS("gs_base", gs),
	SYSTEM,
};

static const struct reg_desc amd64_layout[] = {
	GPR("rax", rax, 64, "int64"), GPR("rbx", rbx, 64, "int64"),
	GPR("rcx", rcx, 64, "int64"), GPR("rdx", rdx, 64, "int64"),
	GPR("rsi", rsi, 64, "int64"), GPR("rdi", rdi, 64, "int64"),
	GPR("rbp", rbp, 64, "data_ptr"), GPR("rsp", rsp, 64, "data_ptr"),
	GPR("r8", r8, 64, "int64"), GPR("r9", r9, 64, "int64"),
	GPR("r10", r10, 64, "int64"), GPR("r11", r11, 64, "int64"),
	GPR("r12", r12, 64, "int64"), GPR("r13", r13, 64, "int64"),
	GPR("r14", r14, 64, "int64"), GPR("r15", r15, 64, "int64"),
	GPR("rip", rip, 64, "code_ptr"), GPR("eflags", rflags, 32, "i386_eflags"),
	SEL("cs", cs), SEL("ss", ss), SEL("ds", ds), SEL("es", es), SEL("fs", fs), SEL("gs", gs),
	X87,
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15), MXCSR,
	SEGBASE("fs_base", fs, 64), SEGBASE("gs_base", gs, 64),
	SYSTEM,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const struct reg_desc *layout(enum target_arch arch, unsigned *count)
{
	if (arch == TARGET_ARCH_X86_64) {
		*count = COUNT(amd64_layout);
		return amd64_layout;
	}
	*count = COUNT(i386_layout);
	return i386_layout;
}

static const struct reg_desc *reg(enum target_arch arch, unsigned n)
{
	unsigned count;
	const struct reg_desc *l = layout(arch, &count);
	return n < count ? &l[n] : NULL;
}

unsigned regs_count(enum target_arch arch)
{
	unsigned count;
	layout(arch, &count);
	return count;
}

unsigned regs_pc_number(enum target_arch arch)
{
	return arch == TARGET_ARCH_X86_64 ? 16 : 8;
}

unsigned regs_sp_number(enum target_arch arch)
{
	return arch == TARGET_ARCH_X86_64 ? 7 : 4;
}

unsigned regs_fp_number(enum target_arch arch)
{
	return arch == TARGET_ARCH_X86_64 ? 6 : 5;
}

bool regs_is_fpu(enum target_arch arch, unsigned n)
{
	const struct reg_desc *d = reg(arch, n);
	return d && d->source == SRC_FPU;
}

unsigned regs_size(enum target_arch arch, unsigned n)
{
	const struct reg_desc *d = reg(arch, n);
	return d ? d->bits / 8 : 0;
}

static const struct reg_desc *real_mode_pc(enum target_arch arch, unsigned n,
					   const struct reg_desc *d)
{
	static const struct reg_desc real_pc = { "eip", 32, SRC_REAL_PC, FEAT_CORE, 0,
						 "code_ptr", NULL };
	if (arch == TARGET_ARCH_I8086 && n == regs_pc_number(arch))
		return &real_pc;
	return d;
}

unsigned regs_get(enum target_arch arch, unsigned n, const struct target_regs *regs,
		  const struct target_fpu *fpu, uint8_t *out)
{
	const struct reg_desc *d = real_mode_pc(arch, n, reg(arch, n));
	unsigned size;
	uint64_t v;

	if (!d)
		return 0;
	size = d->bits / 8;
	switch (d->source) {
	case SRC_GPR:
		memcpy(&v, (const uint8_t *)regs + d->offset, sizeof(v));
		memcpy(out, &v, size); /* little-endian: the low bytes first */
		break;
	case SRC_SELECTOR: {
		uint16_t sel;
		memcpy(&sel, (const uint8_t *)regs + d->offset, sizeof(sel));
		v = sel;
		memcpy(out, &v, size);
		break;
	}
	case SRC_REAL_PC:
		v = (regs->cs.base + regs->rip) & 0xffffffff;
		memcpy(out, &v, size);
		break;
	default:
		if (!fpu)
			return 0;
		memcpy(out, (const uint8_t *)fpu + d->offset, size);
		break;
	}
	return size;
}

/* gdb wrote a linear pc in real mode: keep CS if the pc is inside its
 * 64 KiB segment, otherwise pick the segment whose base is the pc's
 * 64 KiB-aligned part. */
static void set_real_pc(struct target_regs *regs, uint64_t linear)
{
	if (linear >= regs->cs.base && linear - regs->cs.base <= 0xffff) {
		regs->rip = linear - regs->cs.base;
		return;
	}
	/* Above 1 MiB only CS = 0xffff reaches (the high memory area). */
	regs->cs.selector = linear < 0x100000 ? (uint16_t)((linear >> 4) & 0xf000) : 0xffff;
	regs->cs.base = (uint64_t)regs->cs.selector << 4;
	regs->rip = (linear - regs->cs.base) & 0xffff;
}

int regs_set(enum target_arch arch, unsigned n, struct target_regs *regs,
	     struct target_fpu *fpu, const uint8_t *in, size_t len)
{
	const struct reg_desc *d = real_mode_pc(arch, n, reg(arch, n));
	uint64_t v = 0;

	if (!d || len != d->bits / 8u)
		return -EINVAL;
	switch (d->source) {
	case SRC_GPR:
		/* A 32-bit layout writes the whole register: its upper half is
		 * not architecturally visible there. */
		memcpy(&v, in, len);
		memcpy((uint8_t *)regs + d->offset, &v, sizeof(v));
		break;
	case SRC_SELECTOR: {
		memcpy(&v, in, len);
		uint16_t sel = (uint16_t)v;
		memcpy((uint8_t *)regs + d->offset, &sel, sizeof(sel));
		break;
	}
	case SRC_REAL_PC:
		memcpy(&v, in, len);
		set_real_pc(regs, v);
		break;
	default:
		if (!fpu)
			return -EINVAL;
		memcpy((uint8_t *)fpu + d->offset, in, len);
		break;
	}
	return 0;
}

size_t regs_all_size(enum target_arch arch)
{
	unsigned count;
	const struct reg_desc *l = layout(arch, &count);
	size_t total = 0;

	for (unsigned i = 0; i < count; i++)
		total += l[i].bits / 8;
	return total;
}

size_t regs_get_all(enum target_arch arch, const struct target_regs *regs,
		    const struct target_fpu *fpu, uint8_t *out)
{
	unsigned count = regs_count(arch);
	size_t total = 0;

	for (unsigned i = 0; i < count; i++)
		total += regs_get(arch, i, regs, fpu, out + total);
	return total;
}

/* ---- target description ---- */

struct xml_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void emit(struct xml_out *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct xml_out *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->buf + x->len, x->size - x->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= x->size - x->len) {
		x->overflow = true;
		return;
	}
	x->len += (size_t)n;
}

static const char *const feature_names[FEAT_COUNT] = {
	[FEAT_CORE] = "org.gnu.gdb.i386.core",
	[FEAT_SSE] = "org.gnu.gdb.i386.sse",
	[FEAT_SEGMENTS] = "org.gnu.gdb.i386.segments",
	[FEAT_SYSTEM] = "org.kvmstub.x86.system",
};

static void emit_core_types(struct xml_out *x)
{
	static const struct { const char *name; unsigned bit; } flags[] = {
		{ "CF", 0 }, { "", 1 }, { "PF", 2 }, { "AF", 4 }, { "ZF", 6 },
		{ "SF", 7 }, { "TF", 8 }, { "IF", 9 }, { "DF", 10 }, { "OF", 11 },
		{ "NT", 14 }, { "RF", 16 }, { "VM", 17 }, { "AC", 18 }, { "VIF", 19 },
		{ "VIP", 20 }, { "ID", 21 },
	};
	emit(x, "<flags id=\"i386_eflags\" size=\"4\">");
	for (size_t i = 0; i < COUNT(flags); i++)
		emit(x, "<field name=\"%s\" start=\"%u\" end=\"%u\"/>", flags[i].name,
		     flags[i].bit, flags[i].bit);
	emit(x, "</flags>\n");
}

static void emit_sse_types(struct xml_out *x)
{
	emit(x, "<vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>"
		"<vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>"
		"<vector id=\"v16i8\" type=\"int8\" count=\"16\"/>"
		"<vector id=\"v8i16\" type=\"int16\" count=\"8\"/>"
		"<vector id=\"v4i32\" type=\"int32\" count=\"4\"/>"
		"<vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
		"<union id=\"vec128\"><field name=\"v4_float\" type=\"v4f\"/>"
		"<field name=\"v2_double\" type=\"v2d\"/>"
		"<field name=\"v16_int8\" type=\"v16i8\"/>"
		"<field name=\"v8_int16\" type=\"v8i16\"/>"
		"<field name=\"v4_int32\" type=\"v4i32\"/>"
		"<field name=\"v2_int64\" type=\"v2i64\"/>"
		"<field name=\"uint128\" type=\"uint128\"/></union>\n");
}

size_t regs_target_xml(enum target_arch arch, char *buf, size_t size)
{
	static const char *const arch_names[] = {
		[TARGET_ARCH_I8086] = "i8086",
		[TARGET_ARCH_I386] = "i386",
		[TARGET_ARCH_X86_64] = "i386:x86-64",
	};
	struct xml_out x = { .buf = buf, .size = size };
	unsigned count;
	const struct reg_desc *l = layout(arch, &count);

	if (!size)
		return 0;
	emit(&x, "<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
		 "<target version=\"1.0\">\n<architecture>%s</architecture>\n",
	     arch_names[arch]);
	for (unsigned f = 0; f < FEAT_COUNT; f++) {
		bool used = false;
		for (unsigned i = 0; i < count; i++)
			used |= l[i].feature == f;
		if (!used)
			continue; /* gdb rejects a known feature without its registers */
		emit(&x, "<feature name=\"%s\">\n", feature_names[f]);
		if (f == FEAT_CORE)
			emit_core_types(&x);
		if (f == FEAT_SSE)
			emit_sse_types(&x);
		for (unsigned i = 0; i < count; i++) {
			if (l[i].feature != f)
				continue;
			emit(&x, "<reg name=\"%s\" bitsize=\"%u\" type=\"%s\" regnum=\"%u\"",
			     l[i].name, l[i].bits, l[i].type, i);
			if (l[i].group)
				emit(&x, " group=\"%s\"", l[i].group);
			emit(&x, "/>\n");
		}
		emit(&x, "</feature>\n");
	}
	emit(&x, "</target>\n");
	return x.overflow ? 0 : x.len;
}
