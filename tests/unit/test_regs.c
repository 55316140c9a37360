/* tests/unit/test_regs.c — the register layouts gdb sees (stub/regs.c):
 * the target.xml of each mode is one gdb accepts and agrees with the g/p
 * images byte for byte, every register survives a write and a read, the
 * 32-bit layouts show low halves, and the real-mode pc is linear.
 */
#include "stub/regs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "tests/unit/fake_target.h"

static const enum target_arch all_arches[] = {
	TARGET_ARCH_I8086, TARGET_ARCH_I386, TARGET_ARCH_X86_64,
};
#define NARCHES (sizeof(all_arches) / sizeof(all_arches[0]))

static char xml[16384];

static size_t xml_of(enum target_arch arch)
{
	memset(xml, 0, sizeof(xml));
	return regs_target_xml(arch, xml, sizeof(xml));
}

/* Tags open and close in order: a stack of names, "<?...?>" and
 * "<!...>" skipped, "<x/>" self-closing. Returns false on any mismatch. */
static bool tags_balance(const char *text)
{
	char stack[16][64];
	int depth = 0;
	bool root_seen = false;

	for (const char *p = text; (p = strchr(p, '<')) != NULL;) {
		const char *close = strchr(p, '>');
		if (!close)
			return false;
		if (p[1] == '?' || p[1] == '!') {
			p = close + 1;
			continue;
		}
		bool closing = p[1] == '/';
		const char *name = p + 1 + closing;
		size_t n = strcspn(name, " />");
		if (n == 0 || n >= sizeof(stack[0]))
			return false;
		if (memchr(p + 1, '<', (size_t)(close - p - 1)))
			return false; /* a '<' inside a tag */
		if (closing) {
			if (depth == 0 || strlen(stack[depth - 1]) != n ||
			    memcmp(stack[depth - 1], name, n) != 0)
				return false;
			depth--;
		} else if (close[-1] != '/') {
			if (depth == 0) {
				if (root_seen)
					return false; /* one root element */
				root_seen = true;
			}
			if (depth == 16)
				return false;
			memcpy(stack[depth], name, n);
			stack[depth][n] = '\0';
			depth++;
		}
		p = close + 1;
	}
	return depth == 0 && root_seen;
}

/* The value of attribute `name` in the tag starting at tag, or NULL. */
static const char *attr(const char *tag, const char *name, char *out, size_t size)
{
	const char *end = strchr(tag, '>');
	char pattern[32];
	snprintf(pattern, sizeof(pattern), " %s=\"", name);
	const char *at = strstr(tag, pattern);
	if (!at || !end || at > end)
		return NULL;
	at += strlen(pattern);
	const char *q = strchr(at, '"');
	if (!q || (size_t)(q - at) >= size)
		return NULL;
	memcpy(out, at, (size_t)(q - at));
	out[q - at] = '\0';
	return out;
}

/* Calls fn for every <reg .../> in order. */
struct reg_tag {
	char name[32], type[32];
	unsigned bitsize, regnum;
	bool has_regnum;
};

static unsigned reg_tags(const char *text, struct reg_tag *out, unsigned max)
{
	unsigned n = 0;
	for (const char *p = text; (p = strstr(p, "<reg ")) != NULL; p++) {
		char value[32];
		if (n < max) {
			struct reg_tag *r = &out[n];
			memset(r, 0, sizeof(*r));
			if (attr(p, "name", value, sizeof(value)))
				snprintf(r->name, sizeof(r->name), "%s", value);
			if (attr(p, "type", value, sizeof(value)))
				snprintf(r->type, sizeof(r->type), "%s", value);
			if (attr(p, "bitsize", value, sizeof(value)))
				r->bitsize = (unsigned)strtoul(value, NULL, 10);
			if (attr(p, "regnum", value, sizeof(value))) {
				r->regnum = (unsigned)strtoul(value, NULL, 10);
				r->has_regnum = true;
			}
		}
		n++;
	}
	return n;
}

static bool has_reg(const struct reg_tag *regs, unsigned n, const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(regs[i].name, name))
			return true;
	return false;
}

/* ---- target.xml ---- */

static void test_target_xml_is_balanced_and_names_the_architecture(void)
{
	static const char *const names[] = { "i8086", "i386", "i386:x86-64" };

	for (size_t a = 0; a < NARCHES; a++) {
		size_t len = xml_of(all_arches[a]);
		char want[64];
		CHECK(len > 0);
		CHECK_EQ(strlen(xml), len);
		CHECK(!strncmp(xml, "<?xml version=\"1.0\"?>", 21));
		CHECK(strstr(xml, "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">") != NULL);
		CHECK(tags_balance(xml));
		snprintf(want, sizeof(want), "<architecture>%s</architecture>", names[a]);
		CHECK(strstr(xml, want) != NULL);
		CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.i386.core\">") != NULL);
		CHECK(strstr(xml, "<feature name=\"org.gnu.gdb.i386.sse\">") != NULL);
		/* gdb's parser knows no entities we could need: none appear. */
		CHECK(strchr(xml, '&') == NULL);
	}
}

static void test_target_xml_registers_match_the_layout(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		static struct reg_tag regs[256];
		xml_of(arch);
		unsigned n = reg_tags(xml, regs, 256);
		CHECK_EQ(n, regs_count(arch));
		unsigned bits = 0;
		for (unsigned i = 0; i < n && i < 256; i++) {
			CHECK(regs[i].has_regnum);
			CHECK_EQ(regs[i].regnum, i); /* in order, no gaps */
			CHECK_EQ(regs[i].bitsize, 8 * regs_size(arch, i));
			CHECK(regs[i].name[0] != '\0');
			CHECK(regs[i].type[0] != '\0');
			bits += regs[i].bitsize;
		}
		CHECK_EQ(bits, regs_all_size(arch) * 8);
		CHECK(has_reg(regs, n, "cr3"));
		CHECK(has_reg(regs, n, "fs_base"));
		CHECK(has_reg(regs, n, "gs_base"));
		CHECK(has_reg(regs, n, "st0"));
		CHECK(has_reg(regs, n, "xmm0"));
		CHECK(has_reg(regs, n, "mxcsr"));
		if (arch == TARGET_ARCH_X86_64) {
			CHECK(has_reg(regs, n, "rip"));
			CHECK(has_reg(regs, n, "xmm15"));
			CHECK(!has_reg(regs, n, "eip"));
		} else {
			CHECK(has_reg(regs, n, "eip"));
			CHECK(!has_reg(regs, n, "rip"));
			CHECK(!has_reg(regs, n, "xmm8"));
		}
	}
}

/* gdb refuses a description with a known feature that has no registers. */
static void test_target_xml_has_no_empty_feature(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		xml_of(all_arches[a]);
		unsigned features = 0;
		for (const char *p = xml; (p = strstr(p, "<feature ")) != NULL; p++) {
			const char *end = strstr(p, "</feature>");
			const char *reg = strstr(p, "<reg ");
			CHECK(end != NULL);
			CHECK(reg != NULL && end != NULL && reg < end);
			features++;
		}
		CHECK(features >= 2);
	}
}

/* gdb's i386 and amd64 code find registers by position in the core and
 * sse features: these orders are fixed by gdb, not by us. */
static void test_core_registers_come_in_gdbs_order(void)
{
	static const char *const amd64[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10",
		"r11", "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ss", "ds", "es",
		"fs", "gs", "st0", "st1", "st2", "st3", "st4", "st5", "st6", "st7", "fctrl",
		"fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "xmm0",
	};
	static const char *const i386[] = {
		"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "eip", "eflags", "cs",
		"ss", "ds", "es", "fs", "gs", "st0", "st1", "st2", "st3", "st4", "st5", "st6",
		"st7", "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop", "xmm0",
	};
	static struct reg_tag regs[256];

	xml_of(TARGET_ARCH_X86_64);
	reg_tags(xml, regs, 256);
	for (size_t i = 0; i < sizeof(amd64) / sizeof(amd64[0]); i++)
		CHECK(!strcmp(regs[i].name, amd64[i]));
	for (size_t a = 0; a < 2; a++) {
		xml_of(all_arches[a]);
		reg_tags(xml, regs, 256);
		for (size_t i = 0; i < sizeof(i386) / sizeof(i386[0]); i++)
			CHECK(!strcmp(regs[i].name, i386[i]));
	}
	CHECK_EQ(regs_pc_number(TARGET_ARCH_X86_64), 16);
	CHECK_EQ(regs_sp_number(TARGET_ARCH_X86_64), 7);
	CHECK_EQ(regs_fp_number(TARGET_ARCH_X86_64), 6);
	for (size_t a = 0; a < 2; a++) {
		CHECK_EQ(regs_pc_number(all_arches[a]), 8);
		CHECK_EQ(regs_sp_number(all_arches[a]), 4);
		CHECK_EQ(regs_fp_number(all_arches[a]), 5);
	}
}

static void test_target_xml_refuses_a_small_buffer_without_overrunning_it(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		size_t len = xml_of(all_arches[a]);
		char *buf = malloc(len + 16);
		if (!buf)
			abort();
		CHECK_EQ(regs_target_xml(all_arches[a], buf, 0), 0);
		memset(buf, 'Z', len + 16);
		CHECK_EQ(regs_target_xml(all_arches[a], buf, len), 0); /* no room for NUL */
		CHECK_EQ(buf[len], 'Z');
		memset(buf, 'Z', len + 16);
		CHECK_EQ(regs_target_xml(all_arches[a], buf, 100), 0);
		CHECK_EQ(buf[100], 'Z');
		memset(buf, 'Z', len + 16);
		CHECK_EQ(regs_target_xml(all_arches[a], buf, len + 1), len);
		CHECK_EQ(buf[len], '\0');
		CHECK_EQ(buf[len + 1], 'Z');
		CHECK(memcmp(buf, xml, len) == 0);
		free(buf);
	}
}

/* ---- register images ---- */

static void test_g_image_is_every_register_in_order(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct fake_target *t = calloc(1, sizeof(*t));
		uint8_t image[REGS_MAX_BYTES], one[16];
		if (!t)
			abort();
		fake_target_init(t, arch);
		CHECK(regs_all_size(arch) <= REGS_MAX_BYTES);
		size_t n = regs_get_all(arch, &t->regs, &t->fpu, image);
		CHECK_EQ(n, regs_all_size(arch));
		size_t at = 0;
		for (unsigned r = 0; r < regs_count(arch); r++) {
			unsigned size = regs_get(arch, r, &t->regs, &t->fpu, one);
			CHECK_EQ(size, regs_size(arch, r));
			CHECK(at + size <= n && memcmp(image + at, one, size) == 0);
			at += size;
		}
		CHECK_EQ(at, n);
		free(t);
	}
}

static void test_every_register_round_trips_through_set_and_get(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct target_regs regs;
		struct target_fpu fpu;
		memset(&regs, 0, sizeof(regs));
		memset(&fpu, 0, sizeof(fpu));
		for (unsigned n = 0; n < regs_count(arch); n++) {
			unsigned size = regs_size(arch, n);
			uint8_t in[16], out[16];
			CHECK(size > 0 && size <= 16);
			for (unsigned i = 0; i < size; i++)
				in[i] = (uint8_t)(0x11 * (i + 1) + n);
			bool selector = n >= regs_pc_number(arch) + 2 && n < regs_pc_number(arch) + 8;
			if (selector)
				in[2] = in[3] = 0;
			if (arch == TARGET_ARCH_I8086 && n == regs_pc_number(arch)) {
				/* A linear pc this CS reaches. */
				regs.cs.selector = 0;
				regs.cs.base = 0;
				in[2] = 0x0a;
				in[3] = 0;
			}
			CHECK_EQ(regs_set(arch, n, &regs, &fpu, in, size), 0);
			CHECK_EQ(regs_get(arch, n, &regs, &fpu, out), size);
			if (memcmp(in, out, size) != 0)
				printf("  register %u of arch %d does not round-trip\n", n, (int)arch);
			CHECK(memcmp(in, out, size) == 0);
		}
	}
}

static void test_registers_outside_the_layout_or_of_wrong_size_are_refused(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct target_regs regs, before;
		struct target_fpu fpu;
		uint8_t buf[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
		unsigned count = regs_count(arch);
		memset(&regs, 0, sizeof(regs));
		memset(&fpu, 0, sizeof(fpu));
		before = regs;

		CHECK_EQ(regs_size(arch, count), 0);
		CHECK_EQ(regs_get(arch, count, &regs, &fpu, buf), 0);
		CHECK_EQ(regs_set(arch, count, &regs, &fpu, buf, 4), -EINVAL);
		CHECK_EQ(regs_set(arch, 0xffffffffu, &regs, &fpu, buf, 4), -EINVAL);
		CHECK_EQ(regs_set(arch, 0, &regs, &fpu, buf, regs_size(arch, 0) + 1), -EINVAL);
		CHECK_EQ(regs_set(arch, 0, &regs, &fpu, buf, regs_size(arch, 0) - 1), -EINVAL);
		CHECK(memcmp(&regs, &before, sizeof(regs)) == 0);
		/* x87/SSE registers need the FPU state. */
		unsigned st0 = regs_pc_number(arch) + 8;
		CHECK(regs_is_fpu(arch, st0));
		CHECK(!regs_is_fpu(arch, 0));
		CHECK(!regs_is_fpu(arch, regs_pc_number(arch)));
		CHECK(!regs_is_fpu(arch, count));
		CHECK_EQ(regs_size(arch, st0), 10);
		CHECK_EQ(regs_get(arch, st0, &regs, NULL, buf), 0);
		CHECK_EQ(regs_set(arch, st0, &regs, NULL, buf, 10), -EINVAL);
		/* Integer registers work without it. */
		CHECK_EQ(regs_get(arch, 0, &regs, NULL, buf), regs_size(arch, 0));
	}
}

static void test_32_bit_layouts_show_the_low_halves(void)
{
	for (size_t a = 0; a < 2; a++) {
		enum target_arch arch = all_arches[a];
		struct target_regs regs;
		uint8_t out[16];
		memset(&regs, 0, sizeof(regs));
		regs.rax = 0x1122334455667788ull;
		regs.rsp = 0xffffffff00007c00ull;
		regs.rflags = 0xffffffff00000202ull;
		regs.fs.base = 0xaaaaaaaa12345678ull;

		CHECK_EQ(regs_size(arch, 0), 4);
		CHECK_EQ(regs_get(arch, 0, &regs, NULL, out), 4);
		CHECK(memcmp(out, "\x88\x77\x66\x55", 4) == 0);
		CHECK_EQ(regs_get(arch, 4, &regs, NULL, out), 4);
		CHECK(memcmp(out, "\x00\x7c\x00\x00", 4) == 0);
		CHECK_EQ(regs_get(arch, 9, &regs, NULL, out), 4);
		CHECK(memcmp(out, "\x02\x02\x00\x00", 4) == 0);
		CHECK(memcmp(out, "\x02\x02\x00\x00", 4) == 0);
		/* Writing a 32-bit register: the value gdb gave, zero-extended. */
		CHECK_EQ(regs_set(arch, 0, &regs, NULL, (const uint8_t *)"\x01\x02\x03\x04", 4), 0);
		CHECK_EQ(regs.rax, 0x04030201);
	}
	/* x86-64 eflags is 32 bits as gdb's amd64 layout has it. */
	struct target_regs regs;
	uint8_t out[8];
	memset(&regs, 0, sizeof(regs));
	regs.rflags = 0x246;
	CHECK_EQ(regs_size(TARGET_ARCH_X86_64, 17), 4);
	CHECK_EQ(regs_get(TARGET_ARCH_X86_64, 17, &regs, NULL, out), 4);
	CHECK(memcmp(out, "\x46\x02\x00\x00", 4) == 0);
}

static void test_segment_selectors_are_32_bit_values(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		unsigned cs = regs_pc_number(arch) + 2;
		struct target_regs regs;
		uint8_t out[8];
		memset(&regs, 0, sizeof(regs));
		regs.cs.selector = 0x1234;
		regs.cs.base = 0xdead0000;
		regs.gs.selector = 0xfffb;

		for (unsigned i = 0; i < 6; i++)
			CHECK_EQ(regs_size(arch, cs + i), 4);
		CHECK_EQ(regs_get(arch, cs, &regs, NULL, out), 4);
		CHECK(memcmp(out, "\x34\x12\x00\x00", 4) == 0);
		CHECK_EQ(regs_get(arch, cs + 5, &regs, NULL, out), 4);
		CHECK(memcmp(out, "\xfb\xff\x00\x00", 4) == 0);
		CHECK_EQ(regs_set(arch, cs + 2, &regs, NULL, (const uint8_t *)"\x2b\x00\x00\x00", 4),
			 0);
		CHECK_EQ(regs.ds.selector, 0x2b);
		/* Writing a selector leaves the base alone (the target decides). */
		CHECK_EQ(regs_set(arch, cs, &regs, NULL, (const uint8_t *)"\x08\x00\x00\x00", 4), 0);
		CHECK_EQ(regs.cs.selector, 0x08);
		CHECK_EQ(regs.cs.base, 0xdead0000);
	}
}

/* ---- the real-mode pc ---- */

static void test_real_mode_pc_is_cs_base_plus_ip(void)
{
	struct target_regs regs;
	uint8_t out[4];
	memset(&regs, 0, sizeof(regs));
	regs.cs.selector = 0xf000;
	regs.cs.base = 0xf0000;
	regs.rip = 0xfff0;

	CHECK_EQ(regs_size(TARGET_ARCH_I8086, 8), 4);
	CHECK_EQ(regs_get(TARGET_ARCH_I8086, 8, &regs, NULL, out), 4);
	CHECK(memcmp(out, "\xf0\xff\x0f\x00", 4) == 0);
	/* Protected mode: eip is eip, whatever the CS base. */
	CHECK_EQ(regs_get(TARGET_ARCH_I386, 8, &regs, NULL, out), 4);
	CHECK(memcmp(out, "\xf0\xff\x00\x00", 4) == 0);
	/* The g image carries the same linear pc. */
	struct target_fpu fpu;
	uint8_t image[REGS_MAX_BYTES];
	memset(&fpu, 0, sizeof(fpu));
	regs_get_all(TARGET_ARCH_I8086, &regs, &fpu, image);
	CHECK(memcmp(image + 8 * 4, "\xf0\xff\x0f\x00", 4) == 0);
}

static void set_pc(struct target_regs *regs, uint32_t linear)
{
	uint8_t in[4];
	memcpy(in, &linear, sizeof(in));
	CHECK_EQ(regs_set(TARGET_ARCH_I8086, 8, regs, NULL, in, 4), 0);
}

static void test_real_mode_pc_written_inside_cs_keeps_cs(void)
{
	struct target_regs regs;
	memset(&regs, 0, sizeof(regs));
	regs.cs.selector = 0x07c0;
	regs.cs.base = 0x7c00;
	regs.rip = 0;

	set_pc(&regs, 0x7c00);
	CHECK_EQ(regs.cs.selector, 0x07c0);
	CHECK_EQ(regs.rip, 0);
	set_pc(&regs, 0x7c00 + 0xffff);
	CHECK_EQ(regs.cs.selector, 0x07c0);
	CHECK_EQ(regs.rip, 0xffff);
	set_pc(&regs, 0x7d23);
	CHECK_EQ(regs.cs.base, 0x7c00);
	CHECK_EQ(regs.rip, 0x123);
}

static void test_real_mode_pc_written_outside_cs_moves_cs_there(void)
{
	static const uint32_t pcs[] = { 0x0, 0x500, 0x7bff, 0x17c00, 0x2abcd, 0x9ffff, 0xffff0,
					0xfffff };
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		struct target_regs regs;
		uint8_t out[4];
		memset(&regs, 0, sizeof(regs));
		regs.cs.selector = 0x07c0;
		regs.cs.base = 0x7c00;
		regs.rip = 0;
		set_pc(&regs, pcs[i]);
		CHECK_EQ(regs.cs.base + regs.rip, pcs[i]);
		CHECK_EQ((uint64_t)regs.cs.selector << 4, regs.cs.base);
		CHECK(regs.rip <= 0xffff);
		CHECK_EQ(regs_get(TARGET_ARCH_I8086, 8, &regs, NULL, out), 4);
		uint32_t back;
		memcpy(&back, out, 4);
		CHECK_EQ(back, pcs[i]);
	}
}

/* With A20 on, real-mode code runs up to 0xffff:0xffff = 0x10ffef (the
 * HMA). A pc written there must still become a 16-bit ip. */
static void test_real_mode_pc_written_in_the_high_memory_area_keeps_ip_16_bit(void)
{
	static const uint32_t pcs[] = { 0x100000, 0x10ff00, 0x10ffef };
	for (size_t i = 0; i < sizeof(pcs) / sizeof(pcs[0]); i++) {
		struct target_regs regs;
		memset(&regs, 0, sizeof(regs));
		regs.cs.selector = 0x07c0;
		regs.cs.base = 0x7c00;
		set_pc(&regs, pcs[i]);
		CHECK_EQ(regs.cs.base + regs.rip, pcs[i]);
		CHECK_EQ((uint64_t)regs.cs.selector << 4, regs.cs.base);
		if (regs.rip > 0xffff)
			printf("  pc 0x%x gave cs=0x%x ip=0x%llx\n", pcs[i], regs.cs.selector,
			       (unsigned long long)regs.rip);
		CHECK(regs.rip <= 0xffff);
	}
}

/* A Multiboot2 or PVH kernel in its 32-bit entry, shown with the x86-64
 * layout its ELF64 image gets: the 32-bit values zero-extended, and a pc
 * gdb writes back lands whole in rip. */
static void test_x86_64_layout_of_a_32_bit_protected_mode_state(void)
{
	struct target_regs regs;
	uint8_t out[8];

	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x100048;
	regs.rax = 0x36d76289;
	regs.rbx = 0x109000;
	regs.rflags = 0x2;
	regs.cs.selector = 0x08;
	regs.cr0 = 0x11;
	CHECK_EQ(regs_size(TARGET_ARCH_X86_64, 16), 8);
	CHECK_EQ(regs_get(TARGET_ARCH_X86_64, 16, &regs, NULL, out), 8);
	CHECK(memcmp(out, "\x48\x00\x10\x00\x00\x00\x00\x00", 8) == 0);
	CHECK_EQ(regs_get(TARGET_ARCH_X86_64, 0, &regs, NULL, out), 8);
	CHECK(memcmp(out, "\x89\x62\xd7\x36\x00\x00\x00\x00", 8) == 0);
	CHECK_EQ(regs_get(TARGET_ARCH_X86_64, 18, &regs, NULL, out), 4); /* cs */
	CHECK(memcmp(out, "\x08\x00\x00\x00", 4) == 0);
	CHECK_EQ(regs_set(TARGET_ARCH_X86_64, 16, &regs, NULL,
			  (const uint8_t *)"\x49\x00\x10\x00\x00\x00\x00\x00", 8), 0);
	CHECK_EQ(regs.rip, 0x100049);
	CHECK_EQ(regs_pc_number(TARGET_ARCH_X86_64), 16);
}

int main(void)
{
	RUN(test_target_xml_is_balanced_and_names_the_architecture);
	RUN(test_target_xml_registers_match_the_layout);
	RUN(test_target_xml_has_no_empty_feature);
	RUN(test_core_registers_come_in_gdbs_order);
	RUN(test_target_xml_refuses_a_small_buffer_without_overrunning_it);
	RUN(test_g_image_is_every_register_in_order);
	RUN(test_every_register_round_trips_through_set_and_get);
	RUN(test_registers_outside_the_layout_or_of_wrong_size_are_refused);
	RUN(test_32_bit_layouts_show_the_low_halves);
	RUN(test_segment_selectors_are_32_bit_values);
	RUN(test_real_mode_pc_is_cs_base_plus_ip);
	RUN(test_real_mode_pc_written_inside_cs_keeps_cs);
	RUN(test_real_mode_pc_written_outside_cs_moves_cs_there);
	RUN(test_real_mode_pc_written_in_the_high_memory_area_keeps_ip_16_bit);
	RUN(test_x86_64_layout_of_a_32_bit_protected_mode_state);
	return check_summary();
}
