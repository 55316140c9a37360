/* tests/unit/test_rsp.c — the RSP command dispatcher (stub/rsp.c) against a
 * fake target: every packet family gdb sends, the replies it must get, and
 * the malformed and boundary inputs it must survive with an E reply. No
 * sockets and no KVM; payloads go in as the decoder would hand them over.
 */
#include "stub/rsp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stub/regs.h"
#include "tests/unit/check.h"
#include "tests/unit/fake_target.h"

/* ---- fixtures ---- */

struct fixture {
	struct fake_target *t;
	struct rsp_session *s;
	struct target_resume resume;
	enum rsp_action action;
};

static struct fixture fixture_open(enum target_arch arch, int signal)
{
	struct fixture f;

	memset(&f, 0, sizeof(f));
	f.t = calloc(1, sizeof(*f.t));
	f.s = calloc(1, sizeof(*f.s));
	if (!f.t || !f.s)
		abort();
	fake_target_init(f.t, arch);
	rsp_session_init(f.s, fake_target_as_target(f.t), signal == 2);
	return f;
}

static void fixture_close(struct fixture *f)
{
	rsp_session_destroy(f->s);
	free(f->s);
	free(f->t);
}

static enum rsp_action send_bytes(struct fixture *f, const void *payload, size_t len)
{
	memset(&f->resume, 0xa5, sizeof(f->resume));
	f->action = rsp_handle_packet(f->s, payload, len, &f->resume);
	return f->action;
}

static enum rsp_action send(struct fixture *f, const char *payload)
{
	return send_bytes(f, payload, strlen(payload));
}

static bool reply_is(const struct fixture *f, const char *expected)
{
	size_t n = strlen(expected);
	bool same = f->s->reply_len == n && memcmp(f->s->reply, expected, n) == 0;
	if (!same)
		printf("  reply \"%.*s\", expected \"%s\"\n",
		       (int)(f->s->reply_len > 200 ? 200 : f->s->reply_len), f->s->reply,
		       expected);
	return same;
}

static bool reply_starts_with(const struct fixture *f, const char *prefix)
{
	size_t n = strlen(prefix);
	return f->s->reply_len >= n && memcmp(f->s->reply, prefix, n) == 0;
}

static bool reply_contains(const struct fixture *f, const char *needle)
{
	return memmem(f->s->reply, f->s->reply_len, needle, strlen(needle)) != NULL;
}

/* An E reply: 'E' and two hex digits, as gdb parses it. */
static bool reply_is_error(const struct fixture *f)
{
	const uint8_t *r = f->s->reply;
	bool ok = f->action == RSP_ACTION_REPLY && f->s->reply_len == 3 && r[0] == 'E' &&
		  strchr("0123456789abcdef", r[1]) && strchr("0123456789abcdef", r[2]);
	if (!ok)
		printf("  reply \"%.*s\" (action %d) is not an E reply\n",
		       (int)(f->s->reply_len > 200 ? 200 : f->s->reply_len), f->s->reply,
		       (int)f->action);
	return ok;
}

/* Sends packet and says whether the reply is an E reply, naming the packet
 * when it is not. */
static bool is_error_reply_to(struct fixture *f, const char *packet)
{
	send(f, packet);
	bool ok = reply_is_error(f);
	if (!ok)
		printf("  for \"%s\"\n", packet);
	return ok;
}

static void hex_of(char *out, const uint8_t *bytes, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* v as `size` little-endian bytes in hex, the way registers travel. */
static void hex_le(char *out, uint64_t v, unsigned size)
{
	uint8_t bytes[8];
	memcpy(bytes, &v, sizeof(bytes));
	hex_of(out, bytes, size);
}

static uint64_t le_from_hex(const uint8_t *hex, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;) {
		char pair[3] = { (char)hex[2 * i], (char)hex[2 * i + 1], 0 };
		v = (v << 8) | strtoull(pair, NULL, 16);
	}
	return v;
}

/* The T reply gdb must see for a stop: signal, reason text, then
 * pc/sp/fp expedited with their gdb numbers. */
static void expected_stop(char *out, int signal, const char *reason, enum target_arch arch,
			  uint64_t pc, uint64_t sp, uint64_t fp)
{
	unsigned size = arch == TARGET_ARCH_X86_64 ? 8 : 4;
	char pch[17], sph[17], fph[17];

	hex_le(pch, pc, size);
	hex_le(sph, sp, size);
	hex_le(fph, fp, size);
	if (arch == TARGET_ARCH_X86_64)
		sprintf(out, "T%02x%s10:%s;07:%s;06:%s;thread:1;", signal, reason, pch, sph, fph);
	else
		sprintf(out, "T%02x%s08:%s;04:%s;05:%s;thread:1;", signal, reason, pch, sph, fph);
}

static const enum target_arch all_arches[] = {
	TARGET_ARCH_I8086, TARGET_ARCH_I386, TARGET_ARCH_X86_64,
};
#define NARCHES (sizeof(all_arches) / sizeof(all_arches[0]))

static uint64_t linear_pc(const struct fake_target *t)
{
	if (t->arch == TARGET_ARCH_I8086)
		return t->regs.cs.base + t->regs.rip;
	if (t->arch == TARGET_ARCH_I386)
		return t->regs.rip & 0xffffffff;
	return t->regs.rip;
}

/* ---- queries ---- */

static void test_qsupported_offers_packet_size_of_at_least_0x20000_and_conditions(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	CHECK_EQ(send(&f, "qSupported:multiprocess+;swbreak+;hwbreak+;qRelocInsn+;"
			  "fork-events+;vfork-events+;exec-events+;vContSupported+;"
			  "QThreadEvents+;no-resumed+;memory-tagging+"),
		 RSP_ACTION_REPLY);
	CHECK(reply_starts_with(&f, "PacketSize="));
	char text[512];
	size_t n = f.s->reply_len < sizeof(text) - 1 ? f.s->reply_len : sizeof(text) - 1;
	memcpy(text, f.s->reply, n);
	text[n] = '\0';
	unsigned long long size = strtoull(text + strlen("PacketSize="), NULL, 16);
	CHECK(size >= 0x20000);
	CHECK(size <= RSP_MAX_PAYLOAD); /* we must take what we announce */
	CHECK(reply_contains(&f, ";ConditionalBreakpoints+"));
	CHECK(reply_contains(&f, ";qXfer:features:read+"));
	CHECK(reply_contains(&f, ";swbreak+"));
	CHECK(reply_contains(&f, ";hwbreak+"));
	CHECK(reply_contains(&f, ";QStartNoAckMode+"));
	CHECK(reply_contains(&f, ";vContSupported+"));

	/* A bare qSupported (old gdb) gets the same answer. */
	send(&f, "qSupported");
	CHECK(reply_starts_with(&f, "PacketSize="));
	CHECK(reply_contains(&f, "ConditionalBreakpoints+"));
	fixture_close(&f);
}

/* Reads target.xml in chunks of `chunk` bytes the way gdb does, into out. */
static size_t read_target_xml(struct fixture *f, size_t chunk, char *out, size_t size,
			      bool *well_formed)
{
	size_t len = 0;
	*well_formed = true;
	for (unsigned rounds = 0; rounds < 10000; rounds++) {
		char packet[96];
		snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:%zx,%zx", len,
			 chunk);
		send(f, packet);
		const struct rsp_session *s = f->s;
		if (s->reply_len == 0 || (s->reply[0] != 'm' && s->reply[0] != 'l') ||
		    s->reply_len - 1 > chunk || len + s->reply_len - 1 >= size) {
			*well_formed = false;
			return len;
		}
		memcpy(out + len, s->reply + 1, s->reply_len - 1);
		len += s->reply_len - 1;
		if (s->reply[0] == 'l')
			return len;
		if (s->reply_len - 1 != chunk) { /* 'm' carries a full chunk */
			*well_formed = false;
			return len;
		}
	}
	*well_formed = false;
	return len;
}

static void test_qxfer_features_serves_the_whole_target_xml_in_any_chunking(void)
{
	static char expected[16384], got[16384];
	static const size_t chunks[] = { 1, 7, 0x100, 0xfff, 0x10000 };

	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		size_t want = regs_target_xml(all_arches[a], expected, sizeof(expected));
		CHECK(want > 0);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			bool ok;
			size_t n = read_target_xml(&f, chunks[c], got, sizeof(got), &ok);
			CHECK(ok);
			CHECK_EQ(n, want);
			CHECK(n == want && memcmp(got, expected, want) == 0);
		}
		fixture_close(&f);
	}
}

static void test_qxfer_features_offset_at_or_past_the_end_is_l(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char xml[16384], packet[96];
	size_t len = regs_target_xml(TARGET_ARCH_X86_64, xml, sizeof(xml));

	snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:%zx,100", len);
	send(&f, packet);
	CHECK(reply_is(&f, "l"));
	snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:%zx,100", len + 1);
	send(&f, packet);
	CHECK(reply_is(&f, "l"));
	send(&f, "qXfer:features:read:target.xml:ffffffffffffffff,ffffffffffffffff");
	CHECK(reply_is(&f, "l"));
	/* The last byte alone, asked for with room to spare, is the last chunk. */
	snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:%zx,100", len - 1);
	send(&f, packet);
	CHECK_EQ(f.s->reply_len, 2);
	CHECK(reply_starts_with(&f, "l"));
	/* A length that ends exactly at the end: 'l' or 'm', never past it. */
	snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:0,%zx", len);
	send(&f, packet);
	CHECK_EQ(f.s->reply_len, len + 1);
	/* An offset + length that overflows 64 bits is still just the rest. */
	snprintf(packet, sizeof(packet), "qXfer:features:read:target.xml:%zx,ffffffffffffffff",
		 len - 3);
	send(&f, packet);
	CHECK_EQ(f.s->reply_len, 4);
	CHECK(reply_starts_with(&f, "l"));
	fixture_close(&f);
}

static void test_qxfer_features_bad_annex_or_numbers_is_an_error(void)
{
	static const char *const bad[] = {
		"qXfer:features:read:other.xml:0,100",
		"qXfer:features:read::0,100",
		"qXfer:features:read:target.xm:0,100",
		"qXfer:features:read:target.xml:",
		"qXfer:features:read:target.xml:0",
		"qXfer:features:read:target.xml:0,",
		"qXfer:features:read:target.xml:,100",
		"qXfer:features:read:target.xml:zz,100",
		"qXfer:features:read:target.xml:0,100x",
		"qXfer:features:read:target.xml:10000000000000000,1",
		"qXfer:features:read:target.xml:0,10000000000000000",
	};
	struct fixture f = fixture_open(TARGET_ARCH_I386, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	/* Another object is not supported: the empty reply. */
	send(&f, "qXfer:memory-map:read::0,100");
	CHECK(reply_is(&f, ""));
	fixture_close(&f);
}

static void test_thread_queries_describe_one_thread(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "qC");
	CHECK(reply_is(&f, "QC1"));
	send(&f, "qfThreadInfo");
	CHECK(reply_is(&f, "m1"));
	send(&f, "qsThreadInfo");
	CHECK(reply_is(&f, "l"));
	send(&f, "qAttached");
	CHECK(reply_is(&f, "1"));
	send(&f, "qAttached:1");
	CHECK(reply_is(&f, "1"));
	CHECK_EQ(send(&f, "Hg0"), RSP_ACTION_REPLY);
	CHECK(reply_is(&f, "OK"));
	send(&f, "Hc-1");
	CHECK(reply_is(&f, "OK"));
	send(&f, "T1");
	CHECK(reply_is(&f, "OK"));
	fixture_close(&f);
}

/* ---- stop replies ---- */

static void test_initial_stop_is_t05_with_pc_sp_fp_in_each_layouts_numbers(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		char expected[256];

		CHECK_EQ(send(&f, "?"), RSP_ACTION_REPLY);
		expected_stop(expected, 5, "", all_arches[a], linear_pc(f.t), f.t->regs.rsp,
			      f.t->regs.rbp);
		CHECK(reply_is(&f, expected));
		fixture_close(&f);
	}
}

static void test_x86_64_stop_expedites_rip_as_10_rsp_as_07_rbp_as_06(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	f.t->regs.rip = 0xffffffff81000010ull;
	f.t->regs.rsp = 0x00007ffffffde000ull;
	f.t->regs.rbp = 0x1122334455667788ull;
	send(&f, "?");
	CHECK(reply_is(&f, "T0510:10000081ffffffff;07:00e0fdffff7f0000;06:8877665544332211;"
			   "thread:1;"));
	fixture_close(&f);
}

static void test_i386_stop_expedites_eip_as_08_esp_as_04_ebp_as_05(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I386, 5);

	f.t->regs.rip = 0xc0100010;
	f.t->regs.rsp = 0xffffffff00090000ull; /* upper half is not shown */
	f.t->regs.rbp = 0x12345678;
	send(&f, "?");
	CHECK(reply_is(&f, "T0508:100010c0;04:00000900;05:78563412;thread:1;"));
	fixture_close(&f);
}

static void test_real_mode_stop_reports_pc_as_cs_base_plus_ip(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I8086, 5);

	f.t->regs.cs.selector = 0xf000;
	f.t->regs.cs.base = 0xf0000;
	f.t->regs.rip = 0xfff0;
	f.t->regs.rsp = 0x7c00;
	f.t->regs.rbp = 0;
	send(&f, "?");
	CHECK(reply_is(&f, "T0508:f0ff0f00;04:007c0000;05:00000000;thread:1;"));
	fixture_close(&f);
}

static void test_session_started_by_ctrl_c_reports_t02(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 2);

	send(&f, "?");
	CHECK(reply_starts_with(&f, "T02"));
	CHECK(reply_contains(&f, "10:"));
	fixture_close(&f);
}

static void stop_with(struct fixture *f, enum target_stop_reason reason, uint64_t addr,
		      int status_or_signal, int signal)
{
	struct target_stop stop;
	memset(&stop, 0, sizeof(stop));
	stop.reason = reason;
	stop.addr = addr;
	stop.exit_status = status_or_signal;
	/* Crash cases give the gdb signal they must come out as. */
	stop.crash = status_or_signal == 11 ? TARGET_CRASH_TRIPLE_FAULT
					    : TARGET_CRASH_INTERNAL_ERROR;
	(void)signal;
	rsp_stop_reply(f->s, &stop);
}

static void test_stop_reply_names_every_stop_reason(void)
{
	static const struct {
		enum target_stop_reason reason;
		uint64_t addr;
		int value, signal;
		const char *prefix;
	} cases[] = {
		{ TARGET_STOP_STEP, 0, 0, 5, "T05" },
		{ TARGET_STOP_SWBREAK, 0x1100, 0, 5, "T05swbreak:;" },
		{ TARGET_STOP_HWBREAK, 0x1100, 0, 5, "T05hwbreak:;" },
		{ TARGET_STOP_WATCH, 0x1234, 0, 5, "T05watch:1234;" },
		{ TARGET_STOP_RWATCH, 0xffff800000001000ull, 0, 5, "T05rwatch:ffff800000001000;" },
		{ TARGET_STOP_AWATCH, 0x10, 0, 5, "T05awatch:10;" },
		{ TARGET_STOP_CRASH, 0, 11, 5, "T0b" },
		{ TARGET_STOP_CRASH, 0, 4, 5, "T04" },
		{ TARGET_STOP_INTERRUPTED, 0, 0, 2, "T02" },
	};

	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			char expected[256];
			stop_with(&f, cases[i].reason, cases[i].addr, cases[i].value,
				  cases[i].signal);
			/* The prefix, then exactly the expedited registers. */
			expected_stop(expected, 0, "", all_arches[a], linear_pc(f.t),
				      f.t->regs.rsp, f.t->regs.rbp);
			char full[320];
			snprintf(full, sizeof(full), "%s%s", cases[i].prefix, expected + 3);
			CHECK(reply_is(&f, full));
			/* '?' says it again. */
			send(&f, "?");
			CHECK(reply_is(&f, full));
		}
		fixture_close(&f);
	}
}

static void test_exit_is_reported_as_w_with_the_status(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	stop_with(&f, TARGET_STOP_EXITED, 0, 0, 5);
	CHECK(reply_is(&f, "W00"));
	stop_with(&f, TARGET_STOP_EXITED, 0, 0x85, 5);
	CHECK(reply_is(&f, "W85"));
	send(&f, "?");
	CHECK(reply_is(&f, "W85"));
	stop_with(&f, TARGET_STOP_EXITED, 0, 255, 5);
	CHECK(reply_is(&f, "Wff"));
	fixture_close(&f);
}

static void test_registers_are_fetched_again_after_a_stop(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char expected[32];

	send(&f, "p0");
	hex_le(expected, f.t->regs.rax, 8);
	CHECK(reply_is(&f, expected));
	CHECK_EQ(send(&f, "c"), RSP_ACTION_RESUME);
	f.t->regs.rax = 0xabcdef;
	f.t->regs.rip = 0x1200;
	stop_with(&f, TARGET_STOP_STEP, 0, 0, 5);
	CHECK(reply_contains(&f, "10:0012000000000000;"));
	send(&f, "p0");
	hex_le(expected, 0xabcdef, 8);
	CHECK(reply_is(&f, expected));
	fixture_close(&f);
}

/* ---- registers ---- */

static void test_g_is_the_whole_layout_as_hex(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		uint8_t image[REGS_MAX_BYTES];
		static char expected[2 * REGS_MAX_BYTES + 1];
		size_t n = regs_get_all(all_arches[a], &f.t->regs, &f.t->fpu, image);

		CHECK_EQ(send(&f, "g"), RSP_ACTION_REPLY);
		CHECK_EQ(f.s->reply_len, 2 * regs_all_size(all_arches[a]));
		hex_of(expected, image, n);
		CHECK(reply_is(&f, expected));
		/* The pc sits where its register number says. */
		size_t at = 0;
		for (unsigned r = 0; r < regs_pc_number(all_arches[a]); r++)
			at += regs_size(all_arches[a], r);
		unsigned pcsize = regs_size(all_arches[a], regs_pc_number(all_arches[a]));
		CHECK_EQ(le_from_hex(f.s->reply + 2 * at, pcsize), linear_pc(f.t));
		fixture_close(&f);
	}
}

static void test_g_with_trailing_bytes_is_an_error(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	send(&f, "gx");
	CHECK(reply_is_error(&f));
	fixture_close(&f);
}

static void test_G_of_what_g_said_changes_nothing(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		static char packet[2 * REGS_MAX_BYTES + 2];
		struct fake_target before = *f.t;

		send(&f, "g");
		packet[0] = 'G';
		memcpy(packet + 1, f.s->reply, f.s->reply_len);
		packet[1 + f.s->reply_len] = '\0';
		CHECK_EQ(send(&f, packet), RSP_ACTION_REPLY);
		CHECK(reply_is(&f, "OK"));
		CHECK(f.t->set_regs_calls >= 1);
		/* The 32-bit layouts cannot carry upper halves; compare what gdb sees. */
		uint8_t img_before[REGS_MAX_BYTES], img_after[REGS_MAX_BYTES];
		size_t n1 = regs_get_all(all_arches[a], &before.regs, &before.fpu, img_before);
		size_t n2 = regs_get_all(all_arches[a], &f.t->regs, &f.t->fpu, img_after);
		CHECK_EQ(n1, n2);
		CHECK(memcmp(img_before, img_after, n1) == 0);
		CHECK_EQ(f.t->regs.cs.selector, before.regs.cs.selector);
		CHECK_EQ(f.t->regs.cs.base, before.regs.cs.base);
		CHECK_EQ(linear_pc(f.t), linear_pc(&before));
		if (all_arches[a] == TARGET_ARCH_X86_64)
			CHECK(memcmp(&f.t->regs, &before.regs, sizeof(before.regs)) == 0);
		CHECK(memcmp(&f.t->fpu, &before.fpu, sizeof(before.fpu)) == 0);
		fixture_close(&f);
	}
}

static void test_G_sets_every_register_g_then_reports(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct fixture f = fixture_open(arch, 5);
		struct target_regs want = f.t->regs;
		struct target_fpu want_fpu = f.t->fpu;
		uint8_t image[REGS_MAX_BYTES];
		static char packet[2 * REGS_MAX_BYTES + 2];

		want.rax = 0x0badc0de0badc0deull;
		want.rdi = 0x5555;
		want.r15 = 0x77;
		want.rflags = 0x202;
		want.ds.selector = 0x2b;
		want.cr3 = 0x123000;
		want.fs.base = 0x4000;
		if (arch == TARGET_ARCH_I8086)
			want.rip = 0x0456; /* same CS: pc stays in its segment */
		else
			want.rip = 0x1300;
		want_fpu.st[3][9] = 0x7f;
		want_fpu.xmm[7][0] = 0xee;
		want_fpu.mxcsr = 0x1fa0;
		size_t n = regs_get_all(arch, &want, &want_fpu, image);
		packet[0] = 'G';
		hex_of(packet + 1, image, n);
		send(&f, packet);
		CHECK(reply_is(&f, "OK"));
		send(&f, "g");
		CHECK_EQ(f.s->reply_len, 2 * n);
		CHECK(f.s->reply_len == 2 * n && memcmp(f.s->reply, packet + 1, 2 * n) == 0);
		CHECK_EQ(f.t->regs.rdi, 0x5555);
		CHECK_EQ(f.t->regs.ds.selector, 0x2b);
		CHECK_EQ(f.t->regs.cr3, 0x123000);
		CHECK_EQ(f.t->fpu.mxcsr, 0x1fa0);
		CHECK_EQ(f.t->fpu.st[3][9], 0x7f);
		CHECK_EQ(linear_pc(f.t), arch == TARGET_ARCH_I8086 ? 0x1456 : 0x1300);
		fixture_close(&f);
	}
}

static void test_G_with_wrong_length_or_bad_hex_is_an_error_and_writes_nothing(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		struct fixture f = fixture_open(all_arches[a], 5);
		static char packet[2 * REGS_MAX_BYTES + 8];
		size_t hexlen = 2 * regs_all_size(all_arches[a]);

		packet[0] = 'G';
		memset(packet + 1, '0', hexlen);
		size_t cuts[] = { hexlen - 2, hexlen - 1, hexlen + 1, hexlen + 2, 0, 2 };
		for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
			memset(packet + 1, '0', hexlen + 2);
			packet[1 + cuts[i]] = '\0';
			send(&f, packet);
			CHECK(reply_is_error(&f));
		}
		memset(packet + 1, '0', hexlen);
		packet[1 + hexlen] = '\0';
		packet[1 + hexlen / 2] = 'g';
		send(&f, packet);
		CHECK(reply_is_error(&f));
		CHECK_EQ(f.t->set_regs_calls, 0);
		CHECK_EQ(f.t->set_fpu_calls, 0);
		fixture_close(&f);
	}
}

static void test_p_reads_every_register_of_every_layout(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct fixture f = fixture_open(arch, 5);
		unsigned count = regs_count(arch);
		CHECK(count > 0);
		for (unsigned n = 0; n < count; n++) {
			char packet[16], expected[40];
			uint8_t bytes[16];
			unsigned size = regs_get(arch, n, &f.t->regs, &f.t->fpu, bytes);
			CHECK(size > 0);
			hex_of(expected, bytes, size);
			snprintf(packet, sizeof(packet), "p%x", n);
			send(&f, packet);
			if (!reply_is(&f, expected))
				printf("  for %s\n", packet);
			CHECK(reply_is(&f, expected));
		}
		char packet[16];
		snprintf(packet, sizeof(packet), "p%x", count);
		send(&f, packet);
		CHECK(reply_is_error(&f));
		fixture_close(&f);
	}
}

static void test_p_reads_rip_eip_and_real_mode_pc(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	f.t->regs.rip = 0xffffffff80001234ull;
	send(&f, "p10");
	CHECK(reply_is(&f, "34120080ffffffff"));
	fixture_close(&f);

	f = fixture_open(TARGET_ARCH_I386, 5);
	f.t->regs.rip = 0x1234;
	f.t->regs.rax = 0xaaaaaaaa11223344ull;
	send(&f, "p8");
	CHECK(reply_is(&f, "34120000"));
	send(&f, "p0");
	CHECK(reply_is(&f, "44332211"));
	fixture_close(&f);

	f = fixture_open(TARGET_ARCH_I8086, 5);
	f.t->regs.cs.selector = 0x1000;
	f.t->regs.cs.base = 0x10000;
	f.t->regs.rip = 0x0234;
	send(&f, "p8");
	CHECK(reply_is(&f, "34020100"));
	send(&f, "pa"); /* cs: the selector, as 32 bits */
	CHECK(reply_is(&f, "00100000"));
	fixture_close(&f);
}

static void test_p_malformed_is_an_error(void)
{
	static const char *const bad[] = {
		"p", "px", "p10x", "p-1", "p10000000000000000", "pffffffff", "p100000000", "p0,",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	fixture_close(&f);
}

static void test_P_writes_every_register_of_every_layout(void)
{
	for (size_t a = 0; a < NARCHES; a++) {
		enum target_arch arch = all_arches[a];
		struct fixture f = fixture_open(arch, 5);
		for (unsigned n = 0; n < regs_count(arch); n++) {
			if (arch == TARGET_ARCH_I8086 && n == regs_pc_number(arch))
				continue; /* the linear pc has its own tests */
			unsigned size = regs_size(arch, n);
			uint8_t bytes[16];
			char packet[64], hex[40];
			for (unsigned i = 0; i < size; i++)
				bytes[i] = (uint8_t)(0x31 * (n + 1) + 7 * i);
			unsigned first_selector = regs_pc_number(arch) + 2; /* after eflags */
			if (n >= first_selector && n < first_selector + 6)
				bytes[2] = bytes[3] = 0; /* selectors: 16 bits in 32 */
			hex_of(hex, bytes, size);
			snprintf(packet, sizeof(packet), "P%x=%s", n, hex);
			send(&f, packet);
			CHECK(reply_is(&f, "OK"));
			snprintf(packet, sizeof(packet), "p%x", n);
			send(&f, packet);
			bool same = reply_is(&f, hex);
			if (!same)
				printf("  for register %u of arch %d\n", n, (int)arch);
			CHECK(same);
		}
		fixture_close(&f);
	}
}

static void test_P_writes_rip_and_eip(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	send(&f, "P10=0020000000000000");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.rip, 0x2000);
	send(&f, "P0=efbeadde00000080");
	CHECK_EQ(f.t->regs.rax, 0x80000000deadbeefull);
	fixture_close(&f);

	f = fixture_open(TARGET_ARCH_I386, 5);
	send(&f, "P8=00300000");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.rip, 0x3000);
	fixture_close(&f);
}

static void test_real_mode_P_pc_inside_the_segment_changes_only_ip(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I8086, 5);

	f.t->regs.cs.selector = 0x1000;
	f.t->regs.cs.base = 0x10000;
	f.t->regs.rip = 0x10;
	send(&f, "P8=00050100"); /* linear 0x10500 */
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.cs.selector, 0x1000);
	CHECK_EQ(f.t->regs.cs.base, 0x10000);
	CHECK_EQ(f.t->regs.rip, 0x500);
	send(&f, "P8=ffff0100"); /* the last byte of the segment */
	CHECK_EQ(f.t->regs.cs.base, 0x10000);
	CHECK_EQ(f.t->regs.rip, 0xffff);
	send(&f, "p8");
	CHECK(reply_is(&f, "ffff0100"));
	fixture_close(&f);
}

static void test_real_mode_P_pc_outside_the_segment_moves_cs(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I8086, 5);

	f.t->regs.cs.selector = 0x1000;
	f.t->regs.cs.base = 0x10000;
	f.t->regs.rip = 0x10;
	send(&f, "P8=00050000"); /* linear 0x500, below CS */
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.cs.base + f.t->regs.rip, 0x500);
	CHECK_EQ((uint64_t)f.t->regs.cs.selector << 4, f.t->regs.cs.base);
	CHECK(f.t->regs.rip <= 0xffff);
	send(&f, "p8");
	CHECK(reply_is(&f, "00050000"));

	send(&f, "P8=cdab0200"); /* linear 0x2abcd, above CS */
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.cs.base + f.t->regs.rip, 0x2abcd);
	CHECK_EQ((uint64_t)f.t->regs.cs.selector << 4, f.t->regs.cs.base);
	CHECK(f.t->regs.rip <= 0xffff);
	send(&f, "p8");
	CHECK(reply_is(&f, "cdab0200"));
	fixture_close(&f);
}

/* gdb falls back to G when it stores all registers; the pc in a G image is
 * linear like in P, so a pc outside CS must move CS there too. */
static void test_real_mode_G_pc_outside_the_segment_moves_cs(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I8086, 5);
	static char packet[2 * REGS_MAX_BYTES + 2];

	f.t->regs.cs.selector = 0x1000;
	f.t->regs.cs.base = 0x10000;
	f.t->regs.rip = 0x10;
	send(&f, "g");
	packet[0] = 'G';
	memcpy(packet + 1, f.s->reply, f.s->reply_len);
	packet[1 + f.s->reply_len] = '\0';
	memcpy(packet + 1 + 2 * 8 * 4, "00050000", 8); /* pc (register 8) = 0x500 */
	send(&f, packet);
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->regs.cs.base + f.t->regs.rip, 0x500);
	CHECK_EQ((uint64_t)f.t->regs.cs.selector << 4, f.t->regs.cs.base);
	send(&f, "p8");
	CHECK(reply_is(&f, "00050000"));
	fixture_close(&f);
}

static void test_P_malformed_or_wrong_size_is_an_error_and_writes_nothing(void)
{
	static const char *const bad[] = {
		"P", "P0", "P0=", "P0=00", "P0=00000000000000", "P0=000000000000000000",
		"P0=0000000000000g00", "P10000000000000000=00", "Pfff=00000000", "P=00",
		"P8=00000000", /* rip is 8 bytes in x86-64 */
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.t->set_regs_calls, 0);
	fixture_close(&f);
}

static void test_register_write_failure_is_an_error(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	f.t->set_regs_error = -EIO;
	send(&f, "P0=0100000000000000");
	CHECK(reply_is(&f, "E05"));
	f.t->set_regs_error = 0;
	f.t->get_regs_error = -EIO;
	send(&f, "g");
	CHECK(reply_is(&f, "E05"));
	send(&f, "p0");
	CHECK(reply_is(&f, "E05"));
	/* The stop reply still goes out, without registers. */
	send(&f, "?");
	CHECK(reply_starts_with(&f, "T05"));
	fixture_close(&f);
}

/* ---- memory ---- */

static void test_m_reads_mapped_memory(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char expected[64];

	send(&f, "m1000,10");
	hex_of(expected, f.t->mem, 16);
	CHECK(reply_is(&f, expected));
	send(&f, "m1ff8,8"); /* the last 8 bytes */
	hex_of(expected, f.t->mem + FAKE_MEMORY_SIZE - 8, 8);
	CHECK(reply_is(&f, expected));
	/* Leading zeros do not count toward the 16 digits. */
	send(&f, "m000000000000000000001004,2");
	hex_of(expected, f.t->mem + 4, 2);
	CHECK(reply_is(&f, expected));
	send(&f, "M1000,0000000000000000000000001:5a");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->mem[0], 0x5a);
	fixture_close(&f);
}

static void test_m_partially_mapped_returns_the_readable_prefix(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char expected[64];

	send(&f, "m1ffc,10");
	hex_of(expected, f.t->mem + FAKE_MEMORY_SIZE - 4, 4);
	CHECK(reply_is(&f, expected));
	fixture_close(&f);
}

static void test_m_unmapped_is_an_error(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "m2000,4");
	CHECK(reply_is_error(&f));
	send(&f, "m0,10");
	CHECK(reply_is_error(&f));
	send(&f, "mfff,1");
	CHECK(reply_is_error(&f));
	fixture_close(&f);
}

static void test_m_length_zero_reads_nothing(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	CHECK_EQ(send(&f, "m1000,0"), RSP_ACTION_REPLY);
	CHECK_EQ(f.s->reply_len, 0);
	send(&f, "m2000,0");
	CHECK(f.s->reply_len == 0 || reply_is_error(&f));
	fixture_close(&f);
}

static void test_m_huge_length_is_capped_to_what_a_reply_holds(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	static char expected[2 * FAKE_MEMORY_MAX + 1];

	f.t->mem_size = FAKE_MEMORY_MAX;
	/* 64 KiB fits in one reply: all of it. */
	send(&f, "m1000,10000");
	CHECK_EQ(f.s->reply_len, 0x20000);
	hex_of(expected, f.t->mem, 0x10000);
	CHECK(reply_is(&f, expected));
	/* More is cut to what fits; never more than asked of the target. */
	static const char *const huge[] = {
		"m1000,ffffffffffffffff", "m1000,8000000000000000", "m1000,12000",
		"m1000,ffffffff",
	};
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		send(&f, huge[i]);
		CHECK(f.s->reply_len >= 0x20000);
		CHECK(f.s->reply_len <= RSP_MAX_PAYLOAD);
		CHECK(f.s->reply_len % 2 == 0);
		CHECK(f.t->last_read_len <= RSP_MAX_PAYLOAD / 2);
		hex_of(expected, f.t->mem, f.s->reply_len / 2);
		CHECK(memcmp(f.s->reply, expected, f.s->reply_len) == 0);
	}
	fixture_close(&f);
}

static void test_m_near_2_to_the_64_never_wraps(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char expected[64];

	send(&f, "mffffffffffffffff,1");
	CHECK(reply_is_error(&f));
	send(&f, "mfffffffffffffff0,20");
	CHECK(reply_is_error(&f));
	send(&f, "mffffffffffffffff,ffffffffffffffff");
	CHECK(reply_is_error(&f));

	/* Memory at the very top: the prefix up to 2^64, nothing from 0. */
	f.t->mem_base = 0xfffffffffffff000ull;
	send(&f, "mfffffffffffffff0,20");
	hex_of(expected, f.t->mem + 0xff0, 16);
	CHECK(reply_is(&f, expected));
	send(&f, "mffffffffffffffff,ffffffffffffffff");
	hex_of(expected, f.t->mem + 0xfff, 1);
	CHECK(reply_is(&f, expected));
	send(&f, "Mfffffffffffffff0,20:"
		 "0000000000000000000000000000000000000000000000000000000000000000");
	CHECK(reply_is_error(&f));
	send(&f, "Xffffffffffffffff,2:ab");
	CHECK(reply_is_error(&f));
	send(&f, "Mffffffffffffffff,1:ab");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->mem[0xfff], 0xab);
	fixture_close(&f);
}

static void test_m_malformed_or_17_hex_digits_is_an_error(void)
{
	static const char *const bad[] = {
		"m", "m1000", "m1000,", "m,10", "mzz,10", "m1000,10x", "m1000;10", "m1000,,10",
		"m 1000,10", "m10000000000000000,1", "m1000,10000000000000000",
		"m1ffffffffffffffff,1", "m-1,1",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.t->read_mem_calls, 0);
	fixture_close(&f);
}

static void test_M_writes_mapped_memory_all_or_nothing(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "M1010,4:deadBEEF");
	CHECK(reply_is(&f, "OK"));
	CHECK(memcmp(f.t->mem + 0x10, "\xde\xad\xbe\xef", 4) == 0);
	send(&f, "m1010,4");
	CHECK(reply_is(&f, "deadbeef"));

	uint8_t before[8];
	memcpy(before, f.t->mem + FAKE_MEMORY_SIZE - 4, 4);
	send(&f, "M1ffc,8:0102030405060708"); /* runs off the end */
	CHECK(reply_is_error(&f));
	CHECK(memcmp(f.t->mem + FAKE_MEMORY_SIZE - 4, before, 4) == 0);
	send(&f, "M3000,1:00");
	CHECK(reply_is_error(&f));
	send(&f, "M1000,0:");
	CHECK(reply_is(&f, "OK"));
	fixture_close(&f);
}

static void test_M_malformed_is_an_error_and_writes_nothing(void)
{
	static const char *const bad[] = {
		"M", "M1000", "M1000,1", "M1000,1:", "M1000,1:a", "M1000,1:abc", "M1000,2:ab",
		"M1000,1:zz", "M1000,1;ab", "Mx,1:ab", "M1000,ffffffffffffffff:ab",
		"M1000,10001:ab", "M10000000000000000,1:ab", "M1000,0:ab",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.t->write_mem_calls, 0);
	fixture_close(&f);
}

static void test_X_writes_binary_bytes_as_decoded(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	/* What gdb escaped ('#', '$', '}', '*') arrives here decoded, as do
	 * NUL and 0xff. */
	static const uint8_t packet[] = { 'X', '1', '0', '2', '0', ',', '8', ':',
					  '#', '$', '}', '*', 0x00, 0xff, ':', ',' };

	send_bytes(&f, packet, sizeof(packet));
	CHECK(reply_is(&f, "OK"));
	CHECK(memcmp(f.t->mem + 0x20, packet + 8, 8) == 0);
	send(&f, "X1000,0:"); /* gdb's probe for X */
	CHECK(reply_is(&f, "OK"));
	fixture_close(&f);
}

static void test_X_malformed_or_unmapped_is_an_error(void)
{
	static const char *const bad[] = {
		"X", "X1000", "X1000,1", "X1000,2:a", "X1000,1:ab", "X1000;1:a", "Xq,1:a",
		"X1000,ffffffffffffffff:a", "X10000000000000000,1:a",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.t->write_mem_calls, 0);
	send(&f, "X3000,1:a");
	CHECK(reply_is_error(&f));
	send(&f, "X1ffe,4:abcd");
	CHECK(reply_is_error(&f));
	fixture_close(&f);
}

/* ---- breakpoints, watchpoints, conditions ---- */

static void test_Z_and_z_of_every_kind_reach_the_target(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	static const char *const packets[] = {
		"Z0,1100,1", "Z1,2000,1", "Z2,1200,4", "Z3,1208,8", "Z4,1210,2",
		"z0,1100,1", "z1,2000,1", "z2,1200,4", "z3,1208,8", "z4,1210,2",
	};
	static const struct fake_point_call want[] = {
		{ true, TARGET_POINT_SW, 0x1100, 1 },     { true, TARGET_POINT_HW, 0x2000, 1 },
		{ true, TARGET_POINT_WRITE, 0x1200, 4 },  { true, TARGET_POINT_READ, 0x1208, 8 },
		{ true, TARGET_POINT_ACCESS, 0x1210, 2 }, { false, TARGET_POINT_SW, 0x1100, 1 },
		{ false, TARGET_POINT_HW, 0x2000, 1 },    { false, TARGET_POINT_WRITE, 0x1200, 4 },
		{ false, TARGET_POINT_READ, 0x1208, 8 },  { false, TARGET_POINT_ACCESS, 0x1210, 2 },
	};

	for (size_t i = 0; i < sizeof(packets) / sizeof(packets[0]); i++) {
		CHECK_EQ(send(&f, packets[i]), RSP_ACTION_REPLY);
		CHECK(reply_is(&f, "OK"));
		CHECK_EQ(f.t->npoint_calls, i + 1);
		const struct fake_point_call *got = &f.t->point_calls[i];
		CHECK_EQ(got->insert, want[i].insert);
		CHECK_EQ(got->kind, want[i].kind);
		CHECK_EQ(got->addr, want[i].addr);
		CHECK_EQ(got->len, want[i].len);
	}
	fixture_close(&f);
}

static void test_Z_of_an_unknown_type_is_not_supported(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "Z5,1000,1");
	CHECK(reply_is(&f, ""));
	send(&f, "z5,1000,1");
	CHECK(reply_is(&f, ""));
	send(&f, "Zff,1000,1");
	CHECK(reply_is(&f, ""));
	CHECK_EQ(f.t->npoint_calls, 0);
	fixture_close(&f);
}

static void test_Z_malformed_or_refused_is_an_error(void)
{
	static const char *const bad[] = {
		"Z", "Z0", "Z0,", "Z0,1000", "Z0,1000,", "Z0,,1", "Zx,1000,1", "Z0,1000,1x",
		"z0,1000,1;X1,27", "z0,1000", "Z0,10000000000000000,1", "Z2,1000,4;X1,27",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.t->npoint_calls, 0);
	/* The target's errno comes back: out of debug registers, unmapped. */
	f.t->point_error = -ENOSPC;
	send(&f, "Z1,1000,1");
	CHECK(reply_is(&f, "E1c"));
	f.t->point_error = 0;
	send(&f, "Z0,5000,1");
	CHECK(reply_is(&f, "E0e"));
	fixture_close(&f);
}

static void test_refused_Z_leaves_a_notice_with_the_targets_reason(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_I8086, 5);

	f.t->point_error = -ENOSPC;
	f.t->point_reason = "all four debug registers are in use";
	send(&f, "Z0,1234,1");
	CHECK(reply_is(&f, "E1c"));
	CHECK(strcmp(f.s->notice,
		     "breakpoint at 0x1234 refused: all four debug registers are in use") == 0);
	/* Without a reason from the target the errno speaks; a watchpoint says so. */
	f.s->notice[0] = 0;
	f.t->point_reason = NULL;
	f.t->point_error = -EINVAL;
	send(&f, "Z3,2000,3");
	CHECK(reply_is(&f, "E16"));
	CHECK(strcmp(f.s->notice, "watchpoint at 0x2000 refused: the target cannot take that "
				  "length or alignment") == 0);
	/* An accepted one leaves none. */
	f.s->notice[0] = 0;
	f.t->point_error = 0;
	send(&f, "Z0,1000,1");
	CHECK(reply_is(&f, "OK"));
	CHECK(strcmp(f.s->notice, "") == 0);
	fixture_close(&f);
}

static void test_Z0_conditions_are_parsed_and_stored(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "Z0,1100,1;X3,260003");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->npoint_calls, 1);
	CHECK_EQ(f.s->nconds, 1);
	if (f.s->nconds == 1) {
		const struct rsp_condition_set *c = &f.s->conds[0];
		CHECK_EQ(c->kind, TARGET_POINT_SW);
		CHECK_EQ(c->addr, 0x1100);
		CHECK_EQ(c->count, 1);
		CHECK_EQ(c->exprs[0].len, 3);
		CHECK(memcmp(c->exprs[0].code, "\x26\x00\x03", 3) == 0);
	}
	/* gdb re-sends the breakpoint with its new conditions: replaced. */
	send(&f, "Z0,1100,1;X3,260003;X2,2227;cmds:0,X1,27");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.s->nconds, 1);
	if (f.s->nconds == 1) {
		CHECK_EQ(f.s->conds[0].count, 2);
		CHECK_EQ(f.s->conds[0].exprs[1].len, 2);
		CHECK(memcmp(f.s->conds[0].exprs[1].code, "\x22\x27", 2) == 0);
	}
	/* Hardware breakpoints carry them too, kept apart from Z0's. */
	send(&f, "Z1,1100,1;X1,27");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.s->nconds, 2);
	/* Re-sent without conditions: it is unconditional now. */
	send(&f, "Z0,1100,1");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.s->nconds, 1);
	send(&f, "z1,1100,1");
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.s->nconds, 0);
	fixture_close(&f);
}

static void test_many_conditional_breakpoints_are_kept(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	char packet[64];

	for (unsigned i = 0; i < 40; i++) {
		snprintf(packet, sizeof(packet), "Z0,%x,1;X2,2227", 0x1000 + i);
		send(&f, packet);
		CHECK(reply_is(&f, "OK"));
	}
	CHECK_EQ(f.s->nconds, 40);
	for (unsigned i = 0; i < 40; i += 2) {
		snprintf(packet, sizeof(packet), "z0,%x,1", 0x1000 + i);
		send(&f, packet);
	}
	CHECK_EQ(f.s->nconds, 20);
	fixture_close(&f);
}

static void test_condition_list_with_bad_hex_is_an_error_and_stores_nothing(void)
{
	static const char *const bad[] = {
		"Z0,1100,1;X3,26zz03", "Z0,1100,1;X3,2600", "Z0,1100,1;X3,26000300",
		"Z0,1100,1;X3", "Z0,1100,1;X,26", "Z0,1100,1;Y3,260003", "Z0,1100,1;",
		"Z0,1100,1;X3,260003;", "Z0,1100,1;Xzz,26", "Z0,1100,1;X401,00",
		"Z0,1100,1;X1,27;X1,27;X1,27;X1,27;X1,27",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	CHECK_EQ(f.s->nconds, 0);
	CHECK_EQ(f.t->npoint_calls, 0);
	/* Four conditions is the most we keep, and fine. */
	send(&f, "Z0,1100,1;X1,27;X1,27;X1,27;X1,27");
	CHECK(reply_is(&f, "OK"));
	fixture_close(&f);
}

static void test_conditional_breakpoint_stops_only_when_its_condition_holds(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	struct target_stop stop;

	/* reg 0 (rax); const8 5; equal; end */
	send(&f, "Z0,1100,1;X7,26000022051327");
	CHECK(reply_is(&f, "OK"));
	memset(&stop, 0, sizeof(stop));
	stop.reason = TARGET_STOP_SWBREAK;
	stop.addr = 0x1100;
	f.t->regs.rax = 4;
	CHECK(!rsp_stop_is_reported(f.s, &stop));
	f.t->regs.rax = 5; /* registers are read afresh at every stop */
	CHECK(rsp_stop_is_reported(f.s, &stop));
	f.t->regs.rax = 4;
	/* Another address, or another kind of stop, is always reported. */
	stop.addr = 0x1101;
	CHECK(rsp_stop_is_reported(f.s, &stop));
	stop.addr = 0x1100;
	stop.reason = TARGET_STOP_HWBREAK;
	CHECK(rsp_stop_is_reported(f.s, &stop));
	stop.reason = TARGET_STOP_STEP;
	CHECK(rsp_stop_is_reported(f.s, &stop));
	/* Once removed, the breakpoint is plain again. */
	send(&f, "z0,1100,1");
	stop.reason = TARGET_STOP_SWBREAK;
	CHECK(rsp_stop_is_reported(f.s, &stop));
	fixture_close(&f);
}

static void test_condition_that_cannot_be_evaluated_is_left_to_gdb(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	struct target_stop stop;

	memset(&stop, 0, sizeof(stop));
	stop.reason = TARGET_STOP_HWBREAK;
	stop.addr = 0x2000;
	send(&f, "Z1,2000,1;X2,ff27"); /* an unknown opcode */
	CHECK(reply_is(&f, "OK"));
	CHECK(rsp_stop_is_reported(f.s, &stop));
	/* Reads of unmapped memory: const32 0x5000; ref32; end */
	send(&f, "Z1,2000,1;X7,24000050001927");
	CHECK(rsp_stop_is_reported(f.s, &stop));
	/* Any condition true stops: false, then true. */
	send(&f, "Z1,2000,1;X3,220027;X3,220127");
	CHECK(rsp_stop_is_reported(f.s, &stop));
	send(&f, "Z1,2000,1;X3,220027;X3,220027");
	CHECK(!rsp_stop_is_reported(f.s, &stop));
	/* A target that cannot give registers: report. */
	f.t->get_regs_error = -EIO;
	CHECK(rsp_stop_is_reported(f.s, &stop));
	fixture_close(&f);
}

/* ---- resuming ---- */

static void test_c_and_s_resume_and_with_an_address_set_the_pc(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	CHECK_EQ(send(&f, "c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(f.t->set_regs_calls, 0);
	CHECK_EQ(send(&f, "s"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "c1234"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(f.t->regs.rip, 0x1234);
	CHECK_EQ(send(&f, "sffffffff80000000"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(f.t->regs.rip, 0xffffffff80000000ull);
	CHECK_EQ(send(&f, "cxyz"), RSP_ACTION_REPLY);
	CHECK(reply_is_error(&f));
	CHECK_EQ(send(&f, "s10000000000000000"), RSP_ACTION_REPLY);
	CHECK(reply_is_error(&f));
	fixture_close(&f);

	f = fixture_open(TARGET_ARCH_I386, 5);
	CHECK_EQ(send(&f, "c2000"), RSP_ACTION_RESUME);
	CHECK_EQ(f.t->regs.rip, 0x2000);
	fixture_close(&f);

	f = fixture_open(TARGET_ARCH_I8086, 5);
	f.t->regs.cs.selector = 0x1000;
	f.t->regs.cs.base = 0x10000;
	CHECK_EQ(send(&f, "c10500"), RSP_ACTION_RESUME);
	CHECK_EQ(f.t->regs.cs.base, 0x10000);
	CHECK_EQ(f.t->regs.rip, 0x500);
	fixture_close(&f);
}

static void test_vcont_forms_gdb_sends(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	CHECK_EQ(send(&f, "vCont;c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(send(&f, "vCont;s:1;c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "vCont;s:p1.1;c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "vCont;r1000,1010:1"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_RANGE);
	CHECK_EQ(f.resume.range_start, 0x1000);
	CHECK_EQ(f.resume.range_end, 0x1010);
	CHECK_EQ(send(&f, "vCont;C05"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(send(&f, "vCont;S05:1"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "vCont;c:-1"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	/* An action for another thread only: nothing runs, the stop stands. */
	CHECK_EQ(send(&f, "vCont;s:2"), RSP_ACTION_REPLY);
	CHECK(reply_starts_with(&f, "T05"));
	CHECK_EQ(f.t->resume_calls, 0);
	fixture_close(&f);
}

/* lldb's step is "vCont;s:0001": a thread id with leading zeros is still
 * thread 1 (answering with the old stop made lldb's si stay put). */
static void test_vcont_thread_ids_with_leading_zeros_are_thread_1(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	CHECK_EQ(send(&f, "vCont;s:0001"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "vCont;c:00000001"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(send(&f, "vCont;s:p0001.0001"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(send(&f, "vCont;s:p1"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	/* Still not ours: another thread or process, or no number at all. */
	CHECK_EQ(send(&f, "vCont;s:0002"), RSP_ACTION_REPLY);
	CHECK(reply_starts_with(&f, "T05"));
	CHECK_EQ(send(&f, "vCont;s:p2.1"), RSP_ACTION_REPLY);
	CHECK_EQ(send(&f, "vCont;s:p1.2"), RSP_ACTION_REPLY);
	CHECK_EQ(send(&f, "vCont;s:"), RSP_ACTION_REPLY);
	CHECK_EQ(send(&f, "vCont;s:zz"), RSP_ACTION_REPLY);
	CHECK_EQ(send(&f, "vCont;s:100000000000000001"), RSP_ACTION_REPLY);
	CHECK_EQ(f.t->resume_calls, 0);
	fixture_close(&f);
}

static void test_vcont_malformed_is_an_error(void)
{
	static const char *const bad[] = {
		"vCont;", "vCont;x", "vCont;cx", "vCont;s5", "vCont;r1000", "vCont;r1000,",
		"vCont;r,1010", "vCont;rz,1", "vCont;C", "vCont;Czz", "vCont;C05x", "vCont;;c",
		"vCont;:1",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(is_error_reply_to(&f, bad[i]));
	}
	fixture_close(&f);
}

static void test_vcont_query_lists_the_actions(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	send(&f, "vCont?");
	CHECK(reply_starts_with(&f, "vCont;"));
	CHECK(reply_contains(&f, ";c"));
	CHECK(reply_contains(&f, ";C"));
	CHECK(reply_contains(&f, ";s"));
	CHECK(reply_contains(&f, ";S"));
	CHECK(reply_contains(&f, ";r"));
	fixture_close(&f);
}

/* ---- session control ---- */

static void test_D_detaches_with_OK(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	CHECK_EQ(send(&f, "D"), RSP_ACTION_DETACH);
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(send(&f, "D;1"), RSP_ACTION_DETACH);
	fixture_close(&f);
}

static void test_k_and_vKill_end_kvmstub(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	CHECK_EQ(send(&f, "k"), RSP_ACTION_KILL);
	CHECK_EQ(send(&f, "vKill;1"), RSP_ACTION_KILL);
	CHECK(reply_is(&f, "OK"));
	fixture_close(&f);
}

static void test_QStartNoAckMode_asks_for_noack_after_the_OK(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	CHECK(!f.s->noack_requested);
	send(&f, "QStartNoAckMode");
	CHECK(reply_is(&f, "OK"));
	CHECK(f.s->noack_requested);
	CHECK(!f.s->noack); /* the OK itself still wants its '+' */
	fixture_close(&f);
}

static void test_unknown_packets_get_the_empty_reply(void)
{
	static const char *const unknown[] = {
		"qFooBar", "qTStatus", "QNonStop:1", "QFoo", "vMustReplyEmpty", "vFile:open:x",
		"bx", "Hz", "", "qL1200000000000000000", "qOffsets", "vCont",
	};
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		if (!strcmp(unknown[i], "Hz"))
			continue; /* H is answered OK whatever the thread */
		CHECK_EQ(send(&f, unknown[i]), RSP_ACTION_REPLY);
		bool empty = reply_is(&f, "");
		if (!empty)
			printf("  for \"%s\"\n", unknown[i]);
		CHECK(empty);
	}
	CHECK_EQ(f.t->set_regs_calls + f.t->write_mem_calls + f.t->npoint_calls, 0);
	fixture_close(&f);
}

static void test_a_resume_runs_until_a_stop_worth_reporting(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	struct target_stop stop;
	char expected[256];

	/* Stop at 0x1100 only when rax == 5. */
	send(&f, "Z0,1100,1;X7,26000022051327");
	CHECK(reply_is(&f, "OK"));
	memset(&stop, 0, sizeof(stop));
	stop.reason = TARGET_STOP_SWBREAK;
	stop.addr = 0x1100;
	fake_script_stop(f.t, &stop);
	fake_script_stop(f.t, &stop);
	CHECK_EQ(send(&f, "vCont;c"), RSP_ACTION_RESUME);

	/* What the server does: resume until a stop must reach gdb. */
	f.t->regs.rax = 4;
	f.t->regs.rip = 0x1100;
	unsigned rounds = 0;
	for (; rounds < 5; rounds++) {
		CHECK_EQ(fake_resume(f.t, &f.resume, &stop), 0);
		if (rsp_stop_is_reported(f.s, &stop))
			break;
		f.t->regs.rax = 5; /* the guest changed rax before the next hit */
	}
	CHECK_EQ(rounds, 1);
	CHECK_EQ(f.t->resume_calls, 2);
	CHECK_EQ(f.t->last_resume.kind, TARGET_RESUME_CONTINUE);
	rsp_stop_reply(f.s, &stop);
	expected_stop(expected, 5, "swbreak:;", TARGET_ARCH_X86_64, 0x1100, f.t->regs.rsp,
		      f.t->regs.rbp);
	CHECK(reply_is(&f, expected));
	/* The script is spent: the guest exits. */
	CHECK_EQ(fake_resume(f.t, &f.resume, &stop), 0);
	CHECK(rsp_stop_is_reported(f.s, &stop));
	rsp_stop_reply(f.s, &stop);
	CHECK(reply_is(&f, "W00"));
	fixture_close(&f);
}


/* ---- threads: one per vCPU ---- */

static struct fixture fixture_open_threads(unsigned n)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);

	f.t->nthreads = n;
	rsp_session_init(f.s, fake_target_as_target(f.t), false);
	return f;
}

static void test_thread_list_names_every_vcpu(void)
{
	struct fixture f = fixture_open_threads(12);

	send(&f, "qfThreadInfo");
	CHECK(reply_is(&f, "m1,2,3,4,5,6,7,8,9,a,b,c"));
	send(&f, "qsThreadInfo");
	CHECK(reply_is(&f, "l"));
	send(&f, "qC");
	CHECK(reply_is(&f, "QC1"));
	fixture_close(&f);
}

static void test_hg_selects_the_vcpu_registers_and_memory_are_read_for(void)
{
	struct fixture f = fixture_open_threads(4);

	CHECK_EQ(send(&f, "Hg3"), RSP_ACTION_REPLY);
	CHECK(reply_is(&f, "OK"));
	send(&f, "g");
	CHECK_EQ(f.t->get_regs_thread, 3);
	send(&f, "m1000,4");
	CHECK_EQ(f.t->read_mem_thread, 3);
	send(&f, "Z0,1010,1");
	CHECK_EQ(f.t->point_thread, 3);
	send(&f, "qC");
	CHECK(reply_is(&f, "QC3"));
	/* A new Hg drops the register cache: the next g asks the target. */
	unsigned calls = f.t->get_regs_calls;
	send(&f, "Hg2");
	send(&f, "g");
	CHECK_EQ(f.t->get_regs_calls, calls + 1);
	CHECK_EQ(f.t->get_regs_thread, 2);
	/* 0 and -1 keep the choice. */
	send(&f, "Hg0");
	CHECK(reply_is(&f, "OK"));
	send(&f, "Hg-1");
	send(&f, "qC");
	CHECK(reply_is(&f, "QC2"));
	fixture_close(&f);
}

static void test_threads_that_do_not_exist_are_refused(void)
{
	struct fixture f = fixture_open_threads(4);

	CHECK(is_error_reply_to(&f, "Hg5"));
	CHECK(is_error_reply_to(&f, "Hc9"));
	CHECK(is_error_reply_to(&f, "T5"));
	CHECK(is_error_reply_to(&f, "Hgzz"));
	CHECK(is_error_reply_to(&f, "qThreadExtraInfo,5"));
	send(&f, "T4");
	CHECK(reply_is(&f, "OK"));
	send(&f, "qC");
	CHECK(reply_is(&f, "QC1"));
	fixture_close(&f);
}

static void test_stop_reply_names_the_thread_that_stopped(void)
{
	struct fixture f = fixture_open_threads(4);

	f.t->nstops = 1;
	f.t->stops[0].reason = TARGET_STOP_SWBREAK;
	f.t->stops[0].addr = 0x1100;
	f.t->stops[0].thread = 3;
	CHECK_EQ(send(&f, "vCont;c"), RSP_ACTION_RESUME);
	struct target_stop stop;
	CHECK_EQ(fake_resume(f.t, &f.resume, &stop), 0);
	rsp_stop_reply(f.s, &stop);
	CHECK(reply_starts_with(&f, "T05swbreak:;"));
	CHECK(reply_contains(&f, "thread:3;"));
	/* The expedited registers are that thread's. */
	CHECK_EQ(f.t->get_regs_thread, 3);
	send(&f, "qC");
	CHECK(reply_is(&f, "QC3"));
	send(&f, "?");
	CHECK(reply_contains(&f, "thread:3;"));
	fixture_close(&f);
}

static void test_vcont_scheduler_locking_steps_one_vcpu_alone(void)
{
	struct fixture f = fixture_open_threads(4);

	/* scheduler-locking on: the step names one thread, nothing else. */
	CHECK_EQ(send(&f, "vCont;s:2"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(f.resume.thread, 2);
	CHECK(f.resume.others_stopped);
	/* off: the others continue while it steps. */
	CHECK_EQ(send(&f, "vCont;s:3;c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_STEP);
	CHECK_EQ(f.resume.thread, 3);
	CHECK(!f.resume.others_stopped);
	CHECK_EQ(send(&f, "vCont;r1000,1010:p1.4;c:-1"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_RANGE);
	CHECK_EQ(f.resume.thread, 4);
	CHECK_EQ(f.resume.range_start, 0x1000);
	CHECK_EQ(f.resume.range_end, 0x1010);
	CHECK(!f.resume.others_stopped);
	fixture_close(&f);
}

static void test_vcont_continues_all_or_only_the_named_threads(void)
{
	struct fixture f = fixture_open_threads(4);

	CHECK_EQ(send(&f, "vCont;c"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK(!f.resume.others_stopped);
	CHECK_EQ(send(&f, "vCont;c:3"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.kind, TARGET_RESUME_CONTINUE);
	CHECK_EQ(f.resume.thread, 3);
	CHECK(f.resume.others_stopped);
	/* An action for a thread that does not exist runs nothing. */
	CHECK_EQ(send(&f, "vCont;s:7"), RSP_ACTION_REPLY);
	CHECK(reply_starts_with(&f, "T05"));
	CHECK_EQ(f.t->resume_calls, 0);
	fixture_close(&f);
}

static void test_thread_extra_info_says_vcpu_state_and_mode(void)
{
	struct fixture f = fixture_open_threads(4);
	char want[128];
	const char *text = "vCPU 1: halted, long mode";

	hex_of(want, (const uint8_t *)text, strlen(text));
	send(&f, "qThreadExtraInfo,2");
	CHECK(reply_is(&f, want));
	fixture_close(&f);
}

static void test_xfer_threads_lists_every_vcpu_in_pieces(void)
{
	struct fixture f = fixture_open_threads(3);

	send(&f, "qSupported:multiprocess+");
	CHECK(reply_contains(&f, "qXfer:threads:read+"));
	send(&f, "qXfer:threads:read::0,fff");
	CHECK(reply_starts_with(&f, "l<?xml"));
	CHECK(reply_contains(&f, "<thread id=\"1\" core=\"0\" name=\"vCPU 0\">vCPU 0: running, long mode</thread>"));
	CHECK(reply_contains(&f, "<thread id=\"3\" core=\"2\" name=\"vCPU 2\">"));
	CHECK(reply_contains(&f, "</threads>"));
	size_t whole = f.s->reply_len - 1;
	/* In two pieces: 'm' then 'l', together the same document. */
	send(&f, "qXfer:threads:read::0,20");
	CHECK(reply_starts_with(&f, "m<?xml"));
	CHECK_EQ(f.s->reply_len, 0x21);
	char rest[64];
	snprintf(rest, sizeof(rest), "qXfer:threads:read::20,%zx", whole);
	send(&f, rest);
	CHECK(reply_starts_with(&f, "l"));
	CHECK_EQ(f.s->reply_len - 1, whole - 0x20);
	CHECK(is_error_reply_to(&f, "qXfer:threads:read::zz,10"));
	fixture_close(&f);
}

static void test_255_vcpus_fit_the_thread_list_and_document(void)
{
	struct fixture f = fixture_open_threads(255);

	send(&f, "qfThreadInfo");
	CHECK(reply_starts_with(&f, "m1,2,"));
	CHECK(reply_contains(&f, ",fe,ff"));
	send(&f, "qXfer:threads:read::0,ffff");
	CHECK(reply_starts_with(&f, "l"));
	CHECK(reply_contains(&f, "name=\"vCPU 254\">vCPU 254: running, long mode</thread>\n</threads>"));
	CHECK_EQ(send(&f, "vCont;s:ff"), RSP_ACTION_RESUME);
	CHECK_EQ(f.resume.thread, 255);
	fixture_close(&f);
}

/* ---- reverse execution ---- */

static void test_reverse_packets_are_offered_and_parsed_only_for_a_recording_target(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	struct target_resume how;

	/* The fake target without its record op first. */
	static struct target_ops ops;
	ops = *f.s->target.ops;
	ops.record = NULL;
	f.s->target.ops = &ops;
	send(&f, "qSupported");
	CHECK(!reply_contains(&f, "ReverseStep+"));
	CHECK_EQ(rsp_handle_packet(f.s, (const uint8_t *)"bs", 2, &how), RSP_ACTION_REPLY);
	CHECK_EQ(f.s->reply_len, 0);
	CHECK_EQ(rsp_handle_packet(f.s, (const uint8_t *)"bc", 2, &how), RSP_ACTION_REPLY);
	CHECK_EQ(f.s->reply_len, 0);

	f.s->target = fake_target_as_target(f.t);
	send(&f, "qSupported");
	CHECK(reply_contains(&f, ";ReverseStep+;ReverseContinue+"));
	CHECK_EQ(rsp_handle_packet(f.s, (const uint8_t *)"bs", 2, &how), RSP_ACTION_RESUME);
	CHECK_EQ(how.kind, TARGET_RESUME_REVERSE_STEP);
	CHECK_EQ(rsp_handle_packet(f.s, (const uint8_t *)"bc", 2, &how), RSP_ACTION_RESUME);
	CHECK_EQ(how.kind, TARGET_RESUME_REVERSE_CONTINUE);
	CHECK_EQ(rsp_handle_packet(f.s, (const uint8_t *)"bx", 2, &how), RSP_ACTION_REPLY);
	CHECK_EQ(f.s->reply_len, 0);

	/* monitor record status: the monitor hands it to the target; the
	 * text comes back as O packets, then OK. */
	CHECK_EQ(send(&f, "qRcmd,7265636f726420737461747573"), RSP_ACTION_CONSOLE);
	CHECK(reply_is(&f, "O7265636f7264696e673a206f66660a")); /* "recording: off\n" */
	CHECK(rsp_console_next(f.s));
	CHECK(reply_is(&f, "OK"));
	CHECK_EQ(f.t->record_calls, 1);
	CHECK_EQ(f.t->last_record, TARGET_RECORD_STATUS);
	send(&f, "qRcmd,7265636f7264206f6e"); /* "record on" */
	CHECK_EQ(f.t->record_calls, 2);
	CHECK_EQ(f.t->last_record, TARGET_RECORD_ON);
	CHECK(f.t->recording);
	fixture_close(&f);
}

static void test_history_begin_stop_says_replaylog_begin(void)
{
	struct fixture f = fixture_open(TARGET_ARCH_X86_64, 5);
	struct target_stop stop = { .reason = TARGET_STOP_HISTORY_BEGIN };

	rsp_stop_reply(f.s, &stop);
	CHECK(reply_starts_with(&f, "T05replaylog:begin;"));
	stop.reason = TARGET_STOP_DIVERGED;
	rsp_stop_reply(f.s, &stop);
	CHECK(reply_starts_with(&f, "T05"));
	rsp_output_reply(f.s, "hi");
	CHECK(reply_is(&f, "O6869"));
	fixture_close(&f);
}

int main(void)
{
	RUN(test_reverse_packets_are_offered_and_parsed_only_for_a_recording_target);
	RUN(test_history_begin_stop_says_replaylog_begin);
	RUN(test_qsupported_offers_packet_size_of_at_least_0x20000_and_conditions);
	RUN(test_qxfer_features_serves_the_whole_target_xml_in_any_chunking);
	RUN(test_qxfer_features_offset_at_or_past_the_end_is_l);
	RUN(test_qxfer_features_bad_annex_or_numbers_is_an_error);
	RUN(test_thread_queries_describe_one_thread);
	RUN(test_thread_list_names_every_vcpu);
	RUN(test_hg_selects_the_vcpu_registers_and_memory_are_read_for);
	RUN(test_threads_that_do_not_exist_are_refused);
	RUN(test_stop_reply_names_the_thread_that_stopped);
	RUN(test_vcont_scheduler_locking_steps_one_vcpu_alone);
	RUN(test_vcont_continues_all_or_only_the_named_threads);
	RUN(test_thread_extra_info_says_vcpu_state_and_mode);
	RUN(test_xfer_threads_lists_every_vcpu_in_pieces);
	RUN(test_255_vcpus_fit_the_thread_list_and_document);
	RUN(test_initial_stop_is_t05_with_pc_sp_fp_in_each_layouts_numbers);
	RUN(test_x86_64_stop_expedites_rip_as_10_rsp_as_07_rbp_as_06);
	RUN(test_i386_stop_expedites_eip_as_08_esp_as_04_ebp_as_05);
	RUN(test_real_mode_stop_reports_pc_as_cs_base_plus_ip);
	RUN(test_session_started_by_ctrl_c_reports_t02);
	RUN(test_stop_reply_names_every_stop_reason);
	RUN(test_exit_is_reported_as_w_with_the_status);
	RUN(test_registers_are_fetched_again_after_a_stop);
	RUN(test_g_is_the_whole_layout_as_hex);
	RUN(test_g_with_trailing_bytes_is_an_error);
	RUN(test_G_of_what_g_said_changes_nothing);
	RUN(test_G_sets_every_register_g_then_reports);
	RUN(test_G_with_wrong_length_or_bad_hex_is_an_error_and_writes_nothing);
	RUN(test_p_reads_every_register_of_every_layout);
	RUN(test_p_reads_rip_eip_and_real_mode_pc);
	RUN(test_p_malformed_is_an_error);
	RUN(test_P_writes_every_register_of_every_layout);
	RUN(test_P_writes_rip_and_eip);
	RUN(test_real_mode_P_pc_inside_the_segment_changes_only_ip);
	RUN(test_real_mode_P_pc_outside_the_segment_moves_cs);
	RUN(test_real_mode_G_pc_outside_the_segment_moves_cs);
	RUN(test_P_malformed_or_wrong_size_is_an_error_and_writes_nothing);
	RUN(test_register_write_failure_is_an_error);
	RUN(test_m_reads_mapped_memory);
	RUN(test_m_partially_mapped_returns_the_readable_prefix);
	RUN(test_m_unmapped_is_an_error);
	RUN(test_m_length_zero_reads_nothing);
	RUN(test_m_huge_length_is_capped_to_what_a_reply_holds);
	RUN(test_m_near_2_to_the_64_never_wraps);
	RUN(test_m_malformed_or_17_hex_digits_is_an_error);
	RUN(test_M_writes_mapped_memory_all_or_nothing);
	RUN(test_M_malformed_is_an_error_and_writes_nothing);
	RUN(test_X_writes_binary_bytes_as_decoded);
	RUN(test_X_malformed_or_unmapped_is_an_error);
	RUN(test_Z_and_z_of_every_kind_reach_the_target);
	RUN(test_Z_of_an_unknown_type_is_not_supported);
	RUN(test_Z_malformed_or_refused_is_an_error);
	RUN(test_refused_Z_leaves_a_notice_with_the_targets_reason);
	RUN(test_Z0_conditions_are_parsed_and_stored);
	RUN(test_many_conditional_breakpoints_are_kept);
	RUN(test_condition_list_with_bad_hex_is_an_error_and_stores_nothing);
	RUN(test_conditional_breakpoint_stops_only_when_its_condition_holds);
	RUN(test_condition_that_cannot_be_evaluated_is_left_to_gdb);
	RUN(test_c_and_s_resume_and_with_an_address_set_the_pc);
	RUN(test_vcont_forms_gdb_sends);
	RUN(test_vcont_thread_ids_with_leading_zeros_are_thread_1);
	RUN(test_vcont_malformed_is_an_error);
	RUN(test_vcont_query_lists_the_actions);
	RUN(test_D_detaches_with_OK);
	RUN(test_k_and_vKill_end_kvmstub);
	RUN(test_QStartNoAckMode_asks_for_noack_after_the_OK);
	RUN(test_unknown_packets_get_the_empty_reply);
	RUN(test_a_resume_runs_until_a_stop_worth_reporting);
	return check_summary();
}
