/* stub/rsp.c — GDB remote protocol commands against the target interface:
 * a packet payload in, a reply or a resume request out. No sockets, no
 * ioctls, no allocation per packet (conditions aside). */
#include "stub/rsp.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/regs.h"
#include "stub/hex.h"
#include "stub/monitor.h"

/* gdb's signal numbers (its own, not the host's). */
#define GDB_SIGNAL_INT 2
#define GDB_SIGNAL_ILL 4
#define GDB_SIGNAL_TRAP 5
#define GDB_SIGNAL_SEGV 11
#define GDB_SIGNAL_TERM 15
/* The most memory one m reply carries: 64 KiB and more as hex. */
#define RSP_MAX_MEMORY_READ ((RSP_MAX_PAYLOAD - 16) / 2)
/* Monitor text per O packet (hex doubles it). */
#define RSP_CONSOLE_CHUNK 4096
/* vRun's file name and command line, decoded. */
#define RSP_MAX_RUN_STRING 4096


/* ---- reply building ---- */

/* Two hex digits for every byte value, in one constant string. */
#define HEX_ROW(h) h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" \
	h "8" h "9" h "a" h "b" h "c" h "d" h "e" h "f"
static const char hex_pairs[] = HEX_ROW("0") HEX_ROW("1") HEX_ROW("2") HEX_ROW("3")
	HEX_ROW("4") HEX_ROW("5") HEX_ROW("6") HEX_ROW("7") HEX_ROW("8") HEX_ROW("9")
	HEX_ROW("a") HEX_ROW("b") HEX_ROW("c") HEX_ROW("d") HEX_ROW("e") HEX_ROW("f");

static void reply_clear(struct rsp_session *s)
{
	s->reply_len = 0;
	s->reply_plain = true;
}

static void reply_raw(struct rsp_session *s, const void *data, size_t len)
{
	if (len > RSP_MAX_PAYLOAD - s->reply_len)
		len = RSP_MAX_PAYLOAD - s->reply_len;
	const uint8_t *bytes = data;
	for (size_t i = 0; i < len && s->reply_plain; i++)
		if (bytes[i] == '#' || bytes[i] == '$' || bytes[i] == '}' || bytes[i] == '*')
			s->reply_plain = false;
	memcpy(s->reply + s->reply_len, data, len);
	s->reply_len += len;
}

static void reply_str(struct rsp_session *s, const char *str)
{
	reply_raw(s, str, strlen(str));
}

static void reply_fmt(struct rsp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void reply_fmt(struct rsp_session *s, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		reply_raw(s, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void reply_hex(struct rsp_session *s, const uint8_t *data, size_t len)
{
	if (len > (RSP_MAX_PAYLOAD - s->reply_len) / 2)
		len = (RSP_MAX_PAYLOAD - s->reply_len) / 2;
	uint8_t *out = s->reply + s->reply_len;
	size_t i = 0;
	/* Four bytes become eight hex digits in one 64-bit word: spread the
	 * bytes to 16-bit lanes, split the nibbles, add '0' and, where a
	 * nibble is over 9, the distance to 'a'. A 64 KiB read is 128 KiB. */
	for (; i + 4 <= len; i += 4) {
		uint32_t in;
		memcpy(&in, data + i, sizeof(in));
		uint64_t v = in;
		v = (v | (v << 16)) & 0x0000ffff0000ffffULL;
		v = (v | (v << 8)) & 0x00ff00ff00ff00ffULL;
		uint64_t nibbles = ((v >> 4) & 0x000f000f000f000fULL) |
				   ((v & 0x000f000f000f000fULL) << 8);
		uint64_t over9 = ((nibbles + 0x0606060606060606ULL) >> 4) & 0x0101010101010101ULL;
		uint64_t ascii = nibbles + 0x3030303030303030ULL + over9 * ('a' - '0' - 10);
		memcpy(out + 2 * i, &ascii, sizeof(ascii));
	}
	for (; i < len; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * data[i], 2);
	s->reply_len += 2 * len;
}

/* Errors as gdb expects them: E and two hex digits (an errno here). */
static enum rsp_action reply_error(struct rsp_session *s, int err)
{
	reply_clear(s);
	if (err < 0)
		err = -err;
	reply_fmt(s, "E%02x", err & 0xff);
	return RSP_ACTION_REPLY;
}

static enum rsp_action reply_ok(struct rsp_session *s)
{
	reply_clear(s);
	reply_str(s, "OK");
	return RSP_ACTION_REPLY;
}

static enum rsp_action reply_empty(struct rsp_session *s)
{
	reply_clear(s);
	return RSP_ACTION_REPLY;
}

/* ---- parsing ---- */

/* A hex number at *p (before end); refuses no digits and values that do
 * not fit in 64 bits. */
static bool parse_hex(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
	uint64_t v = 0;
	const uint8_t *q = *p;
	int d;

	while (q < end && *q == '0' && q + 1 < end && hex_digit_value(q[1]) >= 0)
		q++; /* leading zeros do not count toward the 16 digits */
	const uint8_t *digits = q;
	while (q < end && (d = hex_digit_value(*q)) >= 0) {
		if (q - digits >= 16)
			return false;
		v = (v << 4) | (uint64_t)d;
		q++;
	}
	if (q == *p)
		return false;
	*p = q;
	*out = v;
	return true;
}

static bool expect(const uint8_t **p, const uint8_t *end, char c)
{
	if (*p < end && **p == (uint8_t)c) {
		(*p)++;
		return true;
	}
	return false;
}

static bool parse_hex_bytes(const uint8_t *hex, size_t hex_len, uint8_t *out, size_t n)
{
	if (hex_len != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		int hi = hex_digit_value(hex[2 * i]), lo = hex_digit_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool starts_with(const uint8_t *p, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(p, prefix, n) == 0;
}

static bool equals(const uint8_t *p, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(p, word, len) == 0;
}

/* ---- threads ---- */

/* Points the target at g_thread: registers, and the page tables that
 * translate memory and point addresses, are that vCPU's. */
static int select_g_thread(struct rsp_session *s)
{
	if (s->nthreads < 2 || !s->target.ops->select_thread)
		return 0;
	return s->target.ops->select_thread(s->target.impl, s->g_thread);
}

static bool thread_exists(const struct rsp_session *s, uint64_t thread)
{
	return thread >= 1 && thread <= s->nthreads;
}

/* ---- register cache ---- */

static int load_regs(struct rsp_session *s)
{
	if (s->regs_valid)
		return 0;
	int err = select_g_thread(s);
	if (!err)
		err = s->target.ops->get_regs(s->target.impl, &s->regs);
	if (err)
		return err;
	s->regs_valid = true;
	return 0;
}

static int load_fpu(struct rsp_session *s)
{
	if (s->fpu_valid)
		return 0;
	int err = select_g_thread(s);
	if (!err)
		err = s->target.ops->get_fpu(s->target.impl, &s->fpu);
	if (err)
		return err;
	s->fpu_valid = true;
	return 0;
}

/* ---- stop replies ---- */

static void reply_expedite(struct rsp_session *s, unsigned n)
{
	uint8_t buf[16];
	unsigned size = regs_get(s->arch, n, &s->regs, NULL, buf);
	reply_fmt(s, "%02x:", n);
	reply_hex(s, buf, size);
	reply_str(s, ";");
}

static int crash_signal(enum target_crash crash)
{
	switch (crash) {
	case TARGET_CRASH_TRIPLE_FAULT:
		return GDB_SIGNAL_SEGV;
	case TARGET_CRASH_GUEST_BREAKPOINT:
		return GDB_SIGNAL_TRAP;
	default:
		return GDB_SIGNAL_ILL;
	}
}

void rsp_terminated_reply(struct rsp_session *s, int signo)
{
	reply_clear(s);
	reply_fmt(s, "X%02x", signo == SIGINT ? GDB_SIGNAL_INT : GDB_SIGNAL_TERM);
}

void rsp_error_reply(struct rsp_session *s, int err)
{
	reply_error(s, err);
}

void rsp_stop_reply(struct rsp_session *s, const struct target_stop *stop)
{
	int signal;

	s->last_stop = *stop;
	if (thread_exists(s, stop->thread))
		s->g_thread = s->c_thread = stop->thread;
	s->last_stop.thread = s->g_thread;
	s->regs_valid = s->fpu_valid = false;
	reply_clear(s);
	if (stop->reason == TARGET_STOP_EXITED) {
		reply_fmt(s, "W%02x", stop->exit_status & 0xff);
		return;
	}
	switch (stop->reason) {
	case TARGET_STOP_INTERRUPTED:
		signal = GDB_SIGNAL_INT;
		break;
	case TARGET_STOP_CRASH:
		signal = crash_signal(stop->crash);
		break;
	default:
		signal = GDB_SIGNAL_TRAP;
		break;
	}
	reply_fmt(s, "T%02x", signal & 0xff);
	switch (stop->reason) {
	case TARGET_STOP_SWBREAK:
		reply_str(s, "swbreak:;");
		break;
	case TARGET_STOP_HISTORY_BEGIN:
		reply_str(s, "replaylog:begin;");
		break;
	case TARGET_STOP_HWBREAK:
		reply_str(s, "hwbreak:;");
		break;
	case TARGET_STOP_WATCH:
		reply_fmt(s, "watch:%llx;", (unsigned long long)stop->addr);
		break;
	case TARGET_STOP_RWATCH:
		reply_fmt(s, "rwatch:%llx;", (unsigned long long)stop->addr);
		break;
	case TARGET_STOP_AWATCH:
		reply_fmt(s, "awatch:%llx;", (unsigned long long)stop->addr);
		break;
	default:
		break;
	}
	if (load_regs(s) == 0) {
		reply_expedite(s, regs_pc_number(s->arch));
		reply_expedite(s, regs_sp_number(s->arch));
		reply_expedite(s, regs_fp_number(s->arch));
	}
	reply_fmt(s, "thread:%x;", s->g_thread);
}

/* ---- session ---- */

void rsp_session_init(struct rsp_session *s, struct target target, bool stopped_running_guest)
{
	memset(s, 0, offsetof(struct rsp_session, reply_frame));
	textbuf_init(&s->console, 0);
	s->reply = s->reply_frame + 2;
	s->reply_plain = true;
	s->target = target;
	s->arch = target.ops->arch(target.impl);
	/* A guest stopped before its first instruction is at a trap, one
	 * stopped by connecting is interrupted. */
	s->last_stop.reason = stopped_running_guest ? TARGET_STOP_INTERRUPTED : TARGET_STOP_STEP;
	s->xml_len = regs_target_xml(s->arch, s->xml, sizeof(s->xml));
	s->nthreads = target.ops->thread_count ? target.ops->thread_count(target.impl) : 1;
	if (s->nthreads < 1)
		s->nthreads = 1;
	s->g_thread = s->c_thread = 1;
	s->last_stop.thread = 1;
}

void rsp_session_destroy(struct rsp_session *s)
{
	free(s->conds);
	textbuf_free(&s->console);
	s->conds = NULL;
	s->nconds = s->conds_cap = 0;
}

/* ---- packets ---- */

static enum rsp_action handle_query_supported(struct rsp_session *s)
{
	reply_clear(s);
	reply_fmt(s, "PacketSize=%x;qXfer:features:read+;qXfer:threads:read+;swbreak+;hwbreak+;"
		     "QStartNoAckMode+;vContSupported+;ConditionalBreakpoints+;binary-upload+",
		  (unsigned)RSP_MAX_PAYLOAD);
	if (s->target.ops->record)
		reply_str(s, ";ReverseStep+;ReverseContinue+");
	return RSP_ACTION_REPLY;
}

/* The qXfer reply for doc[offset, offset+length): `m` and a slice while
 * more follows, `l` and the rest at the end. */
static enum rsp_action reply_xfer_slice(struct rsp_session *s, const char *doc,
					 uint64_t doc_len, uint64_t offset, uint64_t length)
{
	reply_clear(s);
	if (offset >= doc_len) {
		reply_str(s, "l");
		return RSP_ACTION_REPLY;
	}
	uint64_t left = doc_len - offset;
	uint64_t room = RSP_MAX_PAYLOAD / 2; /* escapes may double bytes */
	uint64_t n = length < left ? length : left;
	if (n > room)
		n = room;
	reply_str(s, n < left ? "m" : "l");
	reply_raw(s, doc + offset, n);
	return RSP_ACTION_REPLY;
}

/* qXfer:features:read:ANNEX:OFFSET,LENGTH */
static enum rsp_action handle_xfer_features(struct rsp_session *s, const uint8_t *p,
					    const uint8_t *end)
{
	const char *annex = "target.xml:";
	uint64_t offset, length;

	if (!starts_with(p, (size_t)(end - p), annex))
		return reply_error(s, EINVAL);
	p += strlen(annex);
	if (!parse_hex(&p, end, &offset) || !expect(&p, end, ',') ||
	    !parse_hex(&p, end, &length) || p != end)
		return reply_error(s, EINVAL);
	if (!s->xml_len)
		return reply_error(s, EIO);
	return reply_xfer_slice(s, s->xml, s->xml_len, offset, length);
}

/* One line saying what a thread is, from the target (or "vCPU n"). */
static int describe_thread(struct rsp_session *s, unsigned thread, char *buf, size_t size)
{
	int n = -1;

	if (s->target.ops->describe_thread)
		n = s->target.ops->describe_thread(s->target.impl, thread, buf, size);
	if (n < 0)
		n = snprintf(buf, size, "vCPU %u", thread - 1);
	if (n < 0)
		n = 0;
	if ((size_t)n >= size)
		n = (int)size - 1;
	return n;
}

/* The <threads> document gdb's `info threads` reads. Text from the
 * target is plain words; '<' and '&' are left out all the same. */
static void build_threads_xml(struct rsp_session *s)
{
	size_t at = 0, room = sizeof(s->threads_xml);

	at += (size_t)snprintf(s->threads_xml, room, "<?xml version=\"1.0\"?>\n<threads>\n");
	/* No guest (after a kill, in extended mode), no thread. */
	for (unsigned t = 1; !s->guest_dead && t <= s->nthreads && at < room; t++) {
		char what[160];
		describe_thread(s, t, what, sizeof(what));
		for (char *c = what; *c; c++)
			if (*c == '<' || *c == '&' || *c == '>')
				*c = ' ';
		int n = snprintf(s->threads_xml + at, room - at,
				 "<thread id=\"%x\" core=\"%u\" name=\"vCPU %u\">%s</thread>\n", t,
				 t - 1, t - 1, what);
		if (n < 0 || (size_t)n >= room - at)
			break;
		at += (size_t)n;
	}
	if (at < room)
		at += (size_t)snprintf(s->threads_xml + at, room - at, "</threads>\n");
	s->threads_xml_len = at < room ? at : room - 1;
}

/* qXfer:threads:read::OFFSET,LENGTH */
static enum rsp_action handle_xfer_threads(struct rsp_session *s, const uint8_t *p,
					   const uint8_t *end)
{
	uint64_t offset, length;

	if (!expect(&p, end, ':') || !parse_hex(&p, end, &offset) || !expect(&p, end, ',') ||
	    !parse_hex(&p, end, &length) || p != end)
		return reply_error(s, EINVAL);
	if (offset == 0 || !s->threads_xml_len)
		build_threads_xml(s);
	return reply_xfer_slice(s, s->threads_xml, s->threads_xml_len, offset, length);
}

/* qThreadExtraInfo,ID: the description, hex-encoded. */
static enum rsp_action handle_thread_extra_info(struct rsp_session *s, const uint8_t *p,
						const uint8_t *end)
{
	uint64_t thread;
	char what[160];

	if (!parse_hex(&p, end, &thread) || p != end || !thread_exists(s, thread))
		return reply_error(s, ESRCH);
	int n = describe_thread(s, (unsigned)thread, what, sizeof(what));
	reply_clear(s);
	reply_hex(s, (const uint8_t *)what, (size_t)n);
	return RSP_ACTION_REPLY;
}

static enum rsp_action handle_thread_list(struct rsp_session *s)
{
	reply_clear(s);
	if (s->guest_dead) {
		reply_str(s, "l"); /* no guest, no thread */
		return RSP_ACTION_REPLY;
	}
	reply_str(s, "m");
	for (unsigned t = 1; t <= s->nthreads; t++)
		reply_fmt(s, t == 1 ? "%x" : ",%x", t);
	return RSP_ACTION_REPLY;
}

void rsp_output_reply(struct rsp_session *s, const char *text)
{
	reply_clear(s);
	reply_str(s, "O");
	reply_hex(s, (const uint8_t *)text, strlen(text));
}

/* ---- monitor commands and console output ---- */

/* Hex text to bytes, NUL-terminated; false for odd lengths, bad digits,
 * NULs inside or more than size - 1 bytes. */
static bool decode_hex_string(const uint8_t *hex, size_t hex_len, char *out, size_t size)
{
	size_t n = hex_len / 2;

	if (hex_len % 2 || n >= size || !parse_hex_bytes(hex, hex_len, (uint8_t *)out, n) ||
	    memchr(out, 0, n))
		return false;
	out[n] = 0;
	return true;
}

bool rsp_console_next(struct rsp_session *s)
{
	if (s->console_done)
		return false;
	reply_clear(s);
	if (s->console_sent < s->console.len) {
		size_t n = s->console.len - s->console_sent;
		if (n > RSP_CONSOLE_CHUNK)
			n = RSP_CONSOLE_CHUNK;
		reply_str(s, "O");
		reply_hex(s, (const uint8_t *)s->console.data + s->console_sent, n);
		s->console_sent += n;
		return true;
	}
	reply_str(s, "OK");
	s->console_done = true;
	return true;
}

/* After a restart: gdb's view of the stop is the first instruction. */
static void note_restarted(struct rsp_session *s)
{
	s->regs_valid = s->fpu_valid = false;
	s->guest_dead = s->guest_killed = false;
	memset(&s->last_stop, 0, sizeof(s->last_stop));
	s->last_stop.reason = TARGET_STOP_STEP;
	/* The boot processor starts again; the others wait for INIT/SIPI.
	 * gdb's selected thread stays its own (it does not ask again). */
	s->last_stop.thread = 1;
}

/* qRcmd,HEX: the monitor's output as O packets, then OK. */
static enum rsp_action handle_monitor(struct rsp_session *s, const uint8_t *hex, size_t len)
{
	char line[512];
	bool restarted = false;

	textbuf_clear(&s->console);
	s->console_sent = 0;
	s->console_done = false;
	if (!decode_hex_string(hex, len, line, sizeof(line)))
		textbuf_printf(&s->console, "monitor: the command must be text of at most %zu bytes\n",
			       sizeof(line) - 1);
	else if (s->guest_dead && strncmp(line, "help", 4) != 0 && strcmp(line, "info exits") != 0)
		/* The exits of a guest that ended are still worth reading (all
		 * of its run); nothing else of it is there. */
		textbuf_printf(&s->console, "monitor: the guest is not running (use 'run')\n");
	else
		monitor_run(s->target, line, &s->console, &restarted);
	if (restarted)
		note_restarted(s);
	if (s->console.truncated)
		textbuf_note(&s->console, "(output truncated)\n");
	if (s->console.failed) {
		textbuf_clear(&s->console);
		textbuf_printf(&s->console, "monitor: out of memory\n");
	}
	rsp_console_next(s);
	return RSP_ACTION_CONSOLE;
}

/* qqemu.* and Qqemu.*: the QEMU extensions gdb scripts use. */
static enum rsp_action handle_qemu(struct rsp_session *s, const uint8_t *p, size_t len)
{
	if (equals(p, len, "qqemu.Supported")) {
		reply_clear(s);
		if (s->target.ops->read_phys && s->target.ops->write_phys)
			reply_str(s, "PhyMemMode");
		return RSP_ACTION_REPLY;
	}
	if (equals(p, len, "qqemu.PhyMemMode")) {
		reply_clear(s);
		reply_str(s, s->phys_mode ? "1" : "0");
		return RSP_ACTION_REPLY;
	}
	if (equals(p, len, "Qqemu.PhyMemMode:1") || equals(p, len, "Qqemu.PhyMemMode:0")) {
		bool on = p[len - 1] == '1';
		if (on && (!s->target.ops->read_phys || !s->target.ops->write_phys))
			return reply_error(s, ENOSYS);
		s->phys_mode = on;
		return reply_ok(s);
	}
	if (starts_with(p, len, "Qqemu.PhyMemMode:"))
		return reply_error(s, EINVAL);
	return reply_empty(s);
}

static enum rsp_action handle_query(struct rsp_session *s, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;

	if (starts_with(p, len, "qRcmd,"))
		return handle_monitor(s, p + 6, len - 6);
	if (starts_with(p, len, "qqemu."))
		return handle_qemu(s, p, len);

	if (starts_with(p, len, "qSupported"))
		return handle_query_supported(s);
	if (starts_with(p, len, "qXfer:features:read:"))
		return handle_xfer_features(s, p + strlen("qXfer:features:read:"), end);
	if (starts_with(p, len, "qXfer:threads:read:"))
		return handle_xfer_threads(s, p + strlen("qXfer:threads:read:"), end);
	if (starts_with(p, len, "qThreadExtraInfo,"))
		return handle_thread_extra_info(s, p + strlen("qThreadExtraInfo,"), end);
	if (equals(p, len, "qfThreadInfo"))
		return handle_thread_list(s);
	reply_clear(s);
	if (equals(p, len, "qC")) {
		reply_fmt(s, "QC%x", s->g_thread);
	} else if (equals(p, len, "qsThreadInfo")) {
		reply_str(s, "l");
	} else if (starts_with(p, len, "qAttached")) {
		reply_str(s, "1");
	} else if (starts_with(p, len, "qSymbol")) {
		reply_str(s, "OK");
	}
	/* Anything else: the empty reply, "not supported". */
	return RSP_ACTION_REPLY;
}

static enum rsp_action handle_read_all_registers(struct rsp_session *s)
{
	uint8_t image[REGS_MAX_BYTES];
	int err = load_regs(s);

	if (!err)
		err = load_fpu(s);
	if (err)
		return reply_error(s, err);
	size_t n = regs_get_all(s->arch, &s->regs, &s->fpu, image);
	reply_clear(s);
	reply_hex(s, image, n);
	return RSP_ACTION_REPLY;
}

static int store_regs(struct rsp_session *s, bool fpu_changed)
{
	int err = select_g_thread(s);
	if (!err)
		err = s->target.ops->set_regs(s->target.impl, &s->regs);
	if (!err && fpu_changed)
		err = s->target.ops->set_fpu(s->target.impl, &s->fpu);
	/* Re-read on next use: the target may normalise what we wrote. */
	s->regs_valid = s->fpu_valid = false;
	return err;
}

static enum rsp_action handle_write_all_registers(struct rsp_session *s, const uint8_t *p,
						  size_t len)
{
	uint8_t image[REGS_MAX_BYTES];
	size_t size = regs_all_size(s->arch);
	int err = load_regs(s);

	if (!err)
		err = load_fpu(s);
	if (err)
		return reply_error(s, err);
	/* gdb sends exactly the g layout; a shorter G is refused rather than
	 * half-applied. */
	if (!parse_hex_bytes(p, len, image, size))
		return reply_error(s, EINVAL);
	/* The pc last: in real mode it is linear and moves CS, which must
	 * not be overwritten by the image's CS afterwards. */
	unsigned pc = regs_pc_number(s->arch), pc_at = 0;
	for (unsigned n = 0, at = 0; n < regs_count(s->arch); n++) {
		unsigned rs = regs_size(s->arch, n);
		if (n == pc)
			pc_at = at;
		else
			regs_set(s->arch, n, &s->regs, &s->fpu, image + at, rs);
		at += rs;
	}
	regs_set(s->arch, pc, &s->regs, &s->fpu, image + pc_at, regs_size(s->arch, pc));
	err = store_regs(s, true);
	return err ? reply_error(s, err) : reply_ok(s);
}

static enum rsp_action handle_read_register(struct rsp_session *s, const uint8_t *p,
					    const uint8_t *end)
{
	uint64_t n;
	uint8_t buf[16];

	if (!parse_hex(&p, end, &n) || p != end || n >= regs_count(s->arch))
		return reply_error(s, EINVAL);
	int err = load_regs(s);
	if (!err && regs_is_fpu(s->arch, (unsigned)n))
		err = load_fpu(s);
	if (err)
		return reply_error(s, err);
	unsigned size = regs_get(s->arch, (unsigned)n, &s->regs, &s->fpu, buf);
	reply_clear(s);
	reply_hex(s, buf, size);
	return RSP_ACTION_REPLY;
}

static enum rsp_action handle_write_register(struct rsp_session *s, const uint8_t *p,
					     const uint8_t *end)
{
	uint64_t n;
	uint8_t buf[16];

	if (!parse_hex(&p, end, &n) || !expect(&p, end, '=') || n >= regs_count(s->arch))
		return reply_error(s, EINVAL);
	unsigned size = regs_size(s->arch, (unsigned)n);
	if (!parse_hex_bytes(p, (size_t)(end - p), buf, size))
		return reply_error(s, EINVAL);
	bool fpu = regs_is_fpu(s->arch, (unsigned)n);
	int err = load_regs(s);
	if (!err && fpu)
		err = load_fpu(s);
	if (!err)
		err = regs_set(s->arch, (unsigned)n, &s->regs, &s->fpu, buf, size);
	if (!err)
		err = store_regs(s, fpu);
	return err ? reply_error(s, err) : reply_ok(s);
}

/* "ADDR,LENGTH" followed by what `after` says: end of packet or ':'. */
static bool parse_addr_len(const uint8_t **p, const uint8_t *end, uint64_t *addr,
			   uint64_t *len)
{
	return parse_hex(p, end, addr) && expect(p, end, ',') && parse_hex(p, end, len);
}

/* By linear address, or physical in PhyMemMode. */
static long read_memory(struct rsp_session *s, uint64_t addr, void *buf, size_t len)
{
	if (s->guest_dead)
		return -ESRCH;
	int err = select_g_thread(s);
	if (err)
		return err;
	if (s->phys_mode)
		return s->target.ops->read_phys(s->target.impl, addr, buf, len);
	return s->target.ops->read_mem(s->target.impl, addr, buf, len);
}

static enum rsp_action handle_read_memory(struct rsp_session *s, const uint8_t *p,
					  const uint8_t *end)
{
	uint8_t buf[RSP_MAX_MEMORY_READ];
	uint64_t addr, len;

	if (!parse_addr_len(&p, end, &addr, &len) || p != end)
		return reply_error(s, EINVAL);
	if (len > sizeof(buf))
		len = sizeof(buf);
	reply_clear(s);
	if (len == 0)
		return RSP_ACTION_REPLY;
	long n = read_memory(s, addr, buf, (size_t)len);
	if (n <= 0)
		return reply_error(s, n < 0 ? (int)n : EFAULT);
	reply_hex(s, buf, (size_t)n);
	return RSP_ACTION_REPLY;
}

/* x ADDR,LENGTH (gdb 16): 'b' and the bytes, binary; the framing escapes
 * them. A zero length is gdb's probe: an empty 'b'. */
static enum rsp_action handle_read_memory_binary(struct rsp_session *s, const uint8_t *p,
						 const uint8_t *end)
{
	uint8_t buf[RSP_MAX_MEMORY_READ];
	uint64_t addr, len;

	if (!parse_addr_len(&p, end, &addr, &len) || p != end)
		return reply_error(s, EINVAL);
	/* Escaping may double every byte: keep the reply under the limit. */
	if (len > (RSP_MAX_PAYLOAD - 16) / 2)
		len = (RSP_MAX_PAYLOAD - 16) / 2;
	if (len > sizeof(buf))
		len = sizeof(buf);
	reply_clear(s);
	if (len == 0) {
		reply_str(s, "b");
		return RSP_ACTION_REPLY;
	}
	long n = read_memory(s, addr, buf, (size_t)len);
	if (n <= 0)
		return reply_error(s, n < 0 ? (int)n : EFAULT);
	reply_str(s, "b");
	reply_raw(s, buf, (size_t)n);
	return RSP_ACTION_REPLY;
}

static enum rsp_action write_memory(struct rsp_session *s, uint64_t addr, const uint8_t *data,
				    size_t len)
{
	if (len == 0)
		return reply_ok(s); /* gdb probes X support with a zero length */
	if (s->guest_dead)
		return reply_error(s, ESRCH);
	int err = select_g_thread(s);
	if (!err)
		err = s->phys_mode ? s->target.ops->write_phys(s->target.impl, addr, data, len)
				   : s->target.ops->write_mem(s->target.impl, addr, data, len);
	return err ? reply_error(s, err) : reply_ok(s);
}

static enum rsp_action handle_write_memory_hex(struct rsp_session *s, const uint8_t *p,
					       const uint8_t *end)
{
	uint8_t buf[RSP_MAX_PAYLOAD / 2];
	uint64_t addr, len;

	if (!parse_addr_len(&p, end, &addr, &len) || !expect(&p, end, ':') ||
	    len > sizeof(buf) || !parse_hex_bytes(p, (size_t)(end - p), buf, (size_t)len))
		return reply_error(s, EINVAL);
	return write_memory(s, addr, buf, (size_t)len);
}

static enum rsp_action handle_write_memory_binary(struct rsp_session *s, const uint8_t *p,
						  const uint8_t *end)
{
	uint64_t addr, len;

	if (!parse_addr_len(&p, end, &addr, &len) || !expect(&p, end, ':') ||
	    len != (uint64_t)(end - p))
		return reply_error(s, EINVAL);
	return write_memory(s, addr, p, (size_t)len);
}

/* ---- breakpoints and conditions ---- */

static struct rsp_condition_set *find_conditions(struct rsp_session *s,
						 enum target_point kind, uint64_t addr)
{
	for (size_t i = 0; i < s->nconds; i++)
		if (s->conds[i].kind == kind && s->conds[i].addr == addr)
			return &s->conds[i];
	return NULL;
}

static void drop_conditions(struct rsp_session *s, enum target_point kind, uint64_t addr)
{
	struct rsp_condition_set *c = find_conditions(s, kind, addr);
	if (c)
		*c = s->conds[--s->nconds];
}

/* ";X<len>,<hex>" repeated, possibly followed by ";cmds:..." which we
 * do not take (BreakpointCommands is not advertised). */
static int parse_conditions(struct rsp_condition_set *set, const uint8_t *p, const uint8_t *end)
{
	set->count = 0;
	while (p < end) {
		uint64_t n;
		if (!expect(&p, end, ';'))
			return -EINVAL;
		if (starts_with(p, (size_t)(end - p), "cmds:"))
			return 0;
		if (!expect(&p, end, 'X') || !parse_hex(&p, end, &n) || !expect(&p, end, ','))
			return -EINVAL;
		const uint8_t *hex = p;
		while (p < end && *p != ';')
			p++;
		if (set->count == AGENT_MAX_CONDITIONS)
			return -E2BIG;
		if (n > AGENT_MAX_BYTECODE)
			return -E2BIG;
		if (agent_parse_hex(&set->exprs[set->count], (const char *)hex,
				    (size_t)(p - hex), (size_t)n))
			return -EINVAL;
		set->count++;
	}
	return 0;
}

/* gdb says only "Cannot insert breakpoint" (or "Cannot access memory"),
 * whatever the reply's text: the reason goes to the user on stderr. */
static void note_refused_point(struct rsp_session *s, enum target_point point, uint64_t addr,
			       int err)
{
	const char *why = s->target.ops->point_error ? s->target.ops->point_error(s->target.impl)
						      : NULL;
	if (!why || !why[0])
		why = err == -ENOSPC ? "no debug register or other resource is left for it"
		      : err == -EFAULT ? "the address is not mapped to guest RAM"
		      : err == -EINVAL ? "the target cannot take that length or alignment"
				       : strerror(err < 0 ? -err : err);
	snprintf(s->notice, sizeof(s->notice), "%s at 0x%" PRIx64 " refused: %s",
		 point <= TARGET_POINT_HW ? "breakpoint" : "watchpoint", addr, why);
}

static enum rsp_action handle_point(struct rsp_session *s, bool insert, const uint8_t *p,
				    const uint8_t *end)
{
	uint64_t type, addr, kind;

	if (!parse_hex(&p, end, &type) || !expect(&p, end, ',') || !parse_hex(&p, end, &addr) ||
	    !expect(&p, end, ',') || !parse_hex(&p, end, &kind))
		return reply_error(s, EINVAL);
	if (type > TARGET_POINT_ACCESS)
		return reply_empty(s);
	enum target_point point = (enum target_point)type;
	int selected = select_g_thread(s);
	if (selected)
		return reply_error(s, selected);
	if (!insert) {
		if (p != end)
			return reply_error(s, EINVAL);
		drop_conditions(s, point, addr);
		int err = s->target.ops->remove_point(s->target.impl, point, addr, kind);
		return err ? reply_error(s, err) : reply_ok(s);
	}

	struct rsp_condition_set set = { .kind = point, .addr = addr };
	int err = 0;
	if (p != end) {
		if (point > TARGET_POINT_HW)
			return reply_error(s, EINVAL);
		err = parse_conditions(&set, p, end);
		if (err)
			return reply_error(s, err);
	}
	err = s->target.ops->insert_point(s->target.impl, point, addr, kind);
	if (err) {
		note_refused_point(s, point, addr, err);
		return reply_error(s, err);
	}
	/* gdb re-sends a breakpoint with its current conditions: replace. */
	drop_conditions(s, point, addr);
	if (set.count) {
		if (s->nconds == s->conds_cap) {
			size_t cap = s->conds_cap ? s->conds_cap * 2 : 8;
			void *grown = realloc(s->conds, cap * sizeof(*s->conds));
			if (!grown) {
				s->target.ops->remove_point(s->target.impl, point, addr, kind);
				return reply_error(s, ENOMEM);
			}
			s->conds = grown;
			s->conds_cap = cap;
		}
		s->conds[s->nconds++] = set;
	}
	return reply_ok(s);
}

bool rsp_stop_is_reported(struct rsp_session *s, const struct target_stop *stop)
{
	enum target_point kind;

	if (stop->reason == TARGET_STOP_SWBREAK)
		kind = TARGET_POINT_SW;
	else if (stop->reason == TARGET_STOP_HWBREAK)
		kind = TARGET_POINT_HW;
	else
		return true;
	struct rsp_condition_set *set = find_conditions(s, kind, stop->addr);
	if (!set)
		return true;
	/* The condition is about the thread that hit the breakpoint. */
	if (thread_exists(s, stop->thread))
		s->g_thread = stop->thread;
	s->regs_valid = s->fpu_valid = false;
	if (load_regs(s))
		return true;
	/* gdb's rule: the breakpoint stops if any of its conditions is true;
	 * one we cannot evaluate is left to gdb. */
	for (unsigned i = 0; i < set->count; i++)
		if (agent_eval(&set->exprs[i], &s->target, s->arch, &s->regs) != AGENT_FALSE)
			return true;
	return false;
}

/* ---- resuming ---- */

/* "c [ADDR]" / "s [ADDR]": resume at ADDR if given. */
static enum rsp_action resume_at(struct rsp_session *s, const uint8_t *p, const uint8_t *end,
				 enum target_resume_kind kind, struct target_resume *resume)
{
	if (s->guest_dead)
		return reply_error(s, ESRCH);
	if (p != end) {
		uint64_t addr;
		uint8_t buf[8];
		if (!parse_hex(&p, end, &addr) || p != end)
			return reply_error(s, EINVAL);
		int err = load_regs(s);
		if (err)
			return reply_error(s, err);
		memcpy(buf, &addr, sizeof(buf));
		unsigned pc = regs_pc_number(s->arch);
		regs_set(s->arch, pc, &s->regs, NULL, buf, regs_size(s->arch, pc));
		err = store_regs(s, false);
		if (err)
			return reply_error(s, err);
	}
	memset(resume, 0, sizeof(*resume));
	resume->kind = kind;
	resume->thread = s->c_thread;
	s->regs_valid = s->fpu_valid = false;
	return RSP_ACTION_RESUME;
}

/* A thread id in a vCont action or an H packet: N (hex, leading zeros
 * as lldb sends them), -1 (all), 0 (any), or pP.N / pP as in the
 * multiprocess syntax (one process here). -1 and 0 come back as 0.
 * Returns false for anything else. */
static bool parse_thread_id(const uint8_t *p, const uint8_t *end, uint64_t *thread)
{
	if (p < end && *p == 'p') {
		/* pPID alone is every thread of the process (lldb sends it);
		 * another process's threads are none of ours. */
		const uint8_t *dot = memchr(p, '.', (size_t)(end - p));
		const uint8_t *pid_end = dot ? dot : end;
		uint64_t pid = 1;
		p++;
		if (!(pid_end - p == 2 && p[0] == '-' && p[1] == '1') &&
		    (!parse_hex(&p, pid_end, &pid) || p != pid_end))
			return false;
		if (pid > 1) {
			*thread = UINT64_MAX;
			return true;
		}
		if (!dot) {
			*thread = 0;
			return true;
		}
		p = dot + 1;
	}
	if (end - p == 2 && p[0] == '-' && p[1] == '1') {
		*thread = 0;
		return true;
	}
	return parse_hex(&p, end, thread) && p == end;
}

/* What one vCont action asks of a thread. */
struct vcont_action {
	char verb; /* c s r t, or 0: none */
	uint64_t range_start, range_end;
};

/* Parses the actions of vCont;ACTION[:THREAD]... and gives each thread
 * the first one that names it (or names no thread). Returns 0 or
 * -EINVAL. */
static int parse_vcont(struct rsp_session *s, const uint8_t *p, const uint8_t *end,
		       struct vcont_action *per_thread, unsigned n)
{
	memset(per_thread, 0, n * sizeof(*per_thread));
	while (p < end) {
		if (!expect(&p, end, ';'))
			return -EINVAL;
		const uint8_t *action = p;
		while (p < end && *p != ';')
			p++;
		const uint8_t *action_end = p;
		const uint8_t *colon = memchr(action, ':', (size_t)(action_end - action));
		const uint8_t *args_end = colon ? colon : action_end;
		uint64_t thread = 0, sig;
		if (action == args_end)
			return -EINVAL;
		if (colon && !parse_thread_id(colon + 1, action_end, &thread))
			return -EINVAL;
		struct vcont_action a = { .verb = (char)*action };
		const uint8_t *q = action + 1;
		switch (*action) {
		case 'c':
		case 's':
		case 't':
			if (q != args_end)
				return -EINVAL;
			break;
		case 'C':
		case 'S':
			/* The signal is not delivered: a bare-metal guest has no
			 * signals; gdb passes back the one it was told. */
			if (!parse_hex(&q, args_end, &sig) || q != args_end)
				return -EINVAL;
			a.verb = *action == 'C' ? 'c' : 's';
			break;
		case 'r':
			if (!parse_hex(&q, args_end, &a.range_start) || !expect(&q, args_end, ',') ||
			    !parse_hex(&q, args_end, &a.range_end) || q != args_end)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
		if (thread && !thread_exists(s, thread))
			continue; /* not one of ours */
		for (unsigned t = 1; t <= n; t++)
			if ((!thread || thread == t) && !per_thread[t - 1].verb)
				per_thread[t - 1] = a;
	}
	return 0;
}

/* vCont;ACTION[:THREAD]... All-stop: one thread steps (s or r) or
 * continues; the rest continue with it or stay stopped, as the actions
 * say (gdb's scheduler-locking sends a step for one thread alone). */
static enum rsp_action handle_vcont(struct rsp_session *s, const uint8_t *p, const uint8_t *end,
				    struct target_resume *resume)
{
	struct vcont_action per_thread[RSP_MAX_THREADS];
	unsigned n = s->nthreads < RSP_MAX_THREADS ? s->nthreads : RSP_MAX_THREADS;

	if (s->guest_dead)
		return reply_error(s, ESRCH);
	if (parse_vcont(s, p, end, per_thread, n))
		return reply_error(s, EINVAL);
	unsigned stepper = 0, runner = 0, running = 0;
	for (unsigned t = 1; t <= n; t++) {
		char verb = per_thread[t - 1].verb;
		if ((verb == 's' || verb == 'r') && !stepper)
			stepper = t;
		if (verb == 'c') {
			running++;
			if (!runner || t == s->c_thread)
				runner = t;
		}
	}
	if (!stepper && !running) {
		/* Nothing to run: stay stopped and say so. */
		rsp_stop_reply(s, &s->last_stop);
		return RSP_ACTION_REPLY;
	}
	unsigned primary = stepper ? stepper : runner;
	const struct vcont_action *a = &per_thread[primary - 1];
	memset(resume, 0, sizeof(*resume));
	resume->kind = a->verb == 's' ? TARGET_RESUME_STEP
		       : a->verb == 'r' ? TARGET_RESUME_RANGE
					: TARGET_RESUME_CONTINUE;
	resume->range_start = a->range_start;
	resume->range_end = a->range_end;
	resume->thread = primary;
	/* The others continue only if every one of them was told to. */
	resume->others_stopped = running + (stepper ? 1 : 0) < n;
	s->c_thread = primary;
	s->regs_valid = s->fpu_valid = false;
	return RSP_ACTION_RESUME;
}

/* Extended mode: the guest is gone until the next vRun; kvmstub stays. */
static void kill_guest(struct rsp_session *s)
{
	s->guest_dead = s->guest_killed = true;
	s->dead_status = 0;
	s->regs_valid = s->fpu_valid = false;
}

bool rsp_guest_ended(struct rsp_session *s, int status)
{
	if (!s->extended)
		return false;
	s->guest_dead = true;
	s->guest_killed = false;
	s->dead_status = status;
	return true;
}

/* vRun;FILE[;ARG]...: start the guest again from its image; the arguments,
 * joined by spaces, become the boot command line. */
static enum rsp_action handle_vrun(struct rsp_session *s, const uint8_t *p, const uint8_t *end)
{
	char file[RSP_MAX_RUN_STRING], cmdline[RSP_MAX_RUN_STRING], arg[RSP_MAX_RUN_STRING];
	const uint8_t *field = p;
	size_t used = 0;

	if (!s->target.ops->restart)
		return reply_error(s, ENOSYS);
	const uint8_t *semi = memchr(field, ';', (size_t)(end - field));
	const uint8_t *field_end = semi ? semi : end;
	if (field_end == field)
		file[0] = 0;
	else if (!decode_hex_string(field, (size_t)(field_end - field), file, sizeof(file)))
		return reply_error(s, EINVAL);
	cmdline[0] = 0;
	while (semi) {
		field = semi + 1;
		semi = memchr(field, ';', (size_t)(end - field));
		field_end = semi ? semi : end;
		size_t n = (size_t)(field_end - field) / 2;
		if (field_end == field)
			arg[0] = 0;
		else if (!decode_hex_string(field, (size_t)(field_end - field), arg, sizeof(arg)))
			return reply_error(s, EINVAL);
		if (used + n + 2 > sizeof(cmdline))
			return reply_error(s, E2BIG);
		if (used)
			cmdline[used++] = ' ';
		memcpy(cmdline + used, arg, n + 1);
		used += n;
	}
	int err = s->target.ops->restart(s->target.impl, file, cmdline);
	note_restarted(s);
	if (err) {
		/* A failed restart leaves no guest to look at. */
		kill_guest(s);
		return reply_error(s, err);
	}
	rsp_stop_reply(s, &s->last_stop);
	return RSP_ACTION_REPLY;
}

static enum rsp_action handle_v(struct rsp_session *s, const uint8_t *p, size_t len,
				struct target_resume *resume)
{
	const uint8_t *end = p + len;

	if (equals(p, len, "vCont?")) {
		reply_clear(s);
		reply_str(s, "vCont;c;C;s;S;r;t");
		return RSP_ACTION_REPLY;
	}
	if (starts_with(p, len, "vCont;"))
		return handle_vcont(s, p + 5, end, resume);
	if (starts_with(p, len, "vKill")) {
		reply_ok(s);
		if (s->extended) {
			kill_guest(s);
			return RSP_ACTION_REPLY;
		}
		return RSP_ACTION_KILL;
	}
	if (starts_with(p, len, "vRun;"))
		return handle_vrun(s, p + 5, end);
	if (equals(p, len, "vCtrlC")) {
		/* All-stop: the guest is already stopped when we read this. */
		return reply_ok(s);
	}
	return reply_empty(s);
}

/* Hg / Hc: the thread later register (g) or resume (c) packets are for.
 * 0 and -1 leave the choice as it is. */
static enum rsp_action handle_set_thread(struct rsp_session *s, const uint8_t *p,
					 const uint8_t *end)
{
	uint64_t thread;

	if (p == end || (*p != 'g' && *p != 'c'))
		return reply_ok(s); /* other H kinds are obsolete: accepted */
	char which = (char)*p++;
	if (!parse_thread_id(p, end, &thread))
		return reply_error(s, EINVAL);
	if (thread && !thread_exists(s, thread))
		return reply_error(s, ESRCH);
	if (!thread)
		return reply_ok(s);
	if (which == 'g' && thread != s->g_thread) {
		s->g_thread = (unsigned)thread;
		s->regs_valid = s->fpu_valid = false;
	} else if (which == 'c') {
		s->c_thread = (unsigned)thread;
	}
	return reply_ok(s);
}

enum rsp_action rsp_handle_packet(struct rsp_session *s, const uint8_t *payload, size_t len,
				  struct target_resume *resume)
{
	const uint8_t *end = payload + len;

	if (len == 0)
		return reply_empty(s);
	switch (payload[0]) {
	case '?':
		if (s->guest_dead) {
			reply_clear(s);
			reply_fmt(s, "W%02x", s->dead_status & 0xff);
			return RSP_ACTION_REPLY;
		}
		rsp_stop_reply(s, &s->last_stop);
		return RSP_ACTION_REPLY;
	case '!':
		/* Extended mode only where the guest can be started again. */
		if (!s->target.ops->restart)
			return reply_empty(s);
		s->extended = true;
		return reply_ok(s);
	case 'q':
		return handle_query(s, payload, len);
	case 'Q':
		if (equals(payload, len, "QStartNoAckMode")) {
			s->noack_requested = true;
			return reply_ok(s);
		}
		if (starts_with(payload, len, "Qqemu."))
			return handle_qemu(s, payload, len);
		return reply_empty(s);
	case 'g':
		if (len != 1)
			return reply_error(s, EINVAL);
		return handle_read_all_registers(s);
	case 'G':
		return handle_write_all_registers(s, payload + 1, len - 1);
	case 'p':
		return handle_read_register(s, payload + 1, end);
	case 'P':
		return handle_write_register(s, payload + 1, end);
	case 'm':
		return handle_read_memory(s, payload + 1, end);
	case 'x':
		return handle_read_memory_binary(s, payload + 1, end);
	case 'M':
		return handle_write_memory_hex(s, payload + 1, end);
	case 'X':
		return handle_write_memory_binary(s, payload + 1, end);
	case 'Z':
	case 'z':
		return handle_point(s, payload[0] == 'Z', payload + 1, end);
	case 'c':
		return resume_at(s, payload + 1, end, TARGET_RESUME_CONTINUE, resume);
	case 's':
		return resume_at(s, payload + 1, end, TARGET_RESUME_STEP, resume);
	case 'v':
		return handle_v(s, payload, len, resume);
	case 'b':
		/* bs / bc: reverse step and continue (ReverseStep+). */
		if (len != 2 || (payload[1] != 's' && payload[1] != 'c') || !s->target.ops->record)
			return reply_empty(s);
		memset(resume, 0, sizeof(*resume));
		resume->kind = payload[1] == 's' ? TARGET_RESUME_REVERSE_STEP
						 : TARGET_RESUME_REVERSE_CONTINUE;
		s->regs_valid = s->fpu_valid = false;
		return RSP_ACTION_RESUME;
	case 'H':
		return handle_set_thread(s, payload + 1, end);
	case 'T': {
		uint64_t thread;
		if (!parse_thread_id(payload + 1, end, &thread) || !thread_exists(s, thread))
			return reply_error(s, ESRCH);
		return reply_ok(s); /* every vCPU lives as long as the machine */
	}
	case 'D':
		reply_ok(s);
		return RSP_ACTION_DETACH;
	case 'k':
		reply_clear(s);
		if (s->extended) {
			kill_guest(s);
			return RSP_ACTION_NONE; /* k has no reply */
		}
		return RSP_ACTION_KILL;
	default:
		return reply_empty(s);
	}
}
