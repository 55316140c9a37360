/* fuzz/fuzz_rsp.c — libFuzzer harness for the whole RSP command dispatcher
 * (stub/rsp.c, with stub/regs.c and the condition interpreter behind it)
 * against the fake target of the unit tests. No sockets, no KVM; every
 * broken promise aborts.
 *
 * Input: byte 0 picks options, the rest is what gdb sends.
 *   bits 1:0  the layout: 0 i8086, 1 i386, 2 and 3 x86-64
 *   bit 2     memory at the top of the address space (0xfffff...f000)
 *   bit 3     the target fails to give registers (-EIO)
 *   bit 4     the target refuses every breakpoint and watchpoint (-ENOSPC)
 *   bits 7:5  where the cycle of scripted stop reasons starts; bits 7:6
 *             also the number of threads less one (1-4 vCPUs)
 * The rest is used twice, on one session initialised afresh per input
 * (building target.xml there is most of an input's cost):
 *   1. as a byte stream through rsp_decode, every decoded packet handled;
 *   2. split on '\n', every line handled as one payload.
 * A RESUME action runs the fake target, which stops with the next reason of
 * the cycle (breakpoint stops at the last point inserted, so conditions get
 * evaluated), resumes again while rsp_stop_is_reported says no (at most a
 * few times), then builds the stop reply. The fake target records (bs and bc
 * are offered; `monitor record on` makes them take the cycle too, before
 * that they stop at the beginning of history), so the cycle includes the
 * reverse stops (history begin, replay diverged).
 * Checks: the action is one of the six; monitor output is O packets and
 * one OK; the reply fits its buffer; a
 * resume request is well formed; g gives the layout's size; stop replies
 * are T or W packets; the condition list stays within its allocation.
 */
#include "stub/rsp.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "stub/regs.h"
#include "tests/unit/fake_target.h"

#define OPTION_ARCH_MASK 0x03
#define OPTION_HIGH_MEMORY 0x04
#define OPTION_REGS_FAIL 0x08
#define OPTION_POINTS_FAIL 0x10
#define OPTION_STOP_SHIFT 5
#define MAX_RESUMES_PER_PACKET 4
#define STOP_REASONS (TARGET_STOP_DIVERGED + 1)

struct harness {
	struct fake_target *target;
	struct fake_target *pristine[3]; /* one stopped guest per layout */
	struct rsp_session *session;
	struct rsp_decoder *decoder;
	unsigned stop_cycle;
	uint8_t options;
};

static void require(int promise)
{
	if (!promise)
		abort();
}

static struct harness *harness_get(void)
{
	static struct harness h;
	if (!h.session) {
		h.target = calloc(1, sizeof(*h.target));
		h.session = calloc(1, sizeof(*h.session));
		h.decoder = calloc(1, sizeof(*h.decoder));
		require(h.target && h.session && h.decoder);
		for (unsigned a = 0; a < 3; a++) {
			h.pristine[a] = calloc(1, sizeof(*h.pristine[a]));
			require(h.pristine[a] != NULL);
			fake_target_init(h.pristine[a], (enum target_arch)a);
		}
	}
	return &h;
}

static enum target_arch arch_of(uint8_t options)
{
	switch (options & OPTION_ARCH_MASK) {
	case 0:
		return TARGET_ARCH_I8086;
	case 1:
		return TARGET_ARCH_I386;
	default:
		return TARGET_ARCH_X86_64;
	}
}

static void session_start(struct harness *h)
{
	enum target_arch arch = arch_of(h->options);

	/* Everything but the memory no packet can reach (the mapping stays
	 * FAKE_MEMORY_SIZE bytes long): copying all of it costs more than
	 * most inputs. */
	const size_t head = offsetof(struct fake_target, mem) + FAKE_MEMORY_SIZE;
	const size_t tail = offsetof(struct fake_target, mem) + FAKE_MEMORY_MAX;
	memcpy(h->target, h->pristine[arch], head);
	memcpy((uint8_t *)h->target + tail, (const uint8_t *)h->pristine[arch] + tail,
	       sizeof(*h->target) - tail);
	if (h->options & OPTION_HIGH_MEMORY)
		h->target->mem_base = 0xfffffffffffff000ull;
	if (h->options & OPTION_REGS_FAIL)
		h->target->get_regs_error = -EIO;
	if (h->options & OPTION_POINTS_FAIL)
		h->target->point_error = -ENOSPC;
	h->stop_cycle = h->options >> OPTION_STOP_SHIFT;
	/* The top two bits also pick 1-4 threads (vCPUs), so Hg/Hc, vCont
	 * with thread actions, T..thread: and qXfer:threads see several. */
	h->target->nthreads = 1u + (h->options >> 6);
	rsp_session_init(h->session, fake_target_as_target(h->target), false);
}

static void session_end(struct harness *h)
{
	rsp_session_destroy(h->session);
	require(h->session->conds == NULL && h->session->nconds == 0);
}

/* The next stop of the cycle, at the last point gdb inserted. */
static void script_next_stop(struct harness *h)
{
	struct fake_target *t = h->target;
	struct target_stop stop;

	memset(&stop, 0, sizeof(stop));
	stop.reason = (enum target_stop_reason)(h->stop_cycle++ % STOP_REASONS);
	stop.addr = t->have_point ? t->last_insert.addr : t->regs.rip;
	stop.exit_status = (int)(h->stop_cycle & 0xff);
	stop.crash = TARGET_CRASH_TRIPLE_FAULT;
	if (stop.reason == TARGET_STOP_CRASH)
		strcpy(stop.why, "triple fault");
	if (stop.reason == TARGET_STOP_DIVERGED)
		strcpy(stop.why, "replay diverged at instruction 7");
	t->nstops = t->next_stop = 0;
	require(fake_script_stop(t, &stop));
}

static void check_stop_reply(const struct rsp_session *s)
{
	require(s->reply_len >= 3 && s->reply_len <= RSP_MAX_PAYLOAD);
	require(s->reply[0] == 'T' || s->reply[0] == 'W');
}

static void run_target(struct harness *h, const struct target_resume *how)
{
	struct target_stop stop;
	unsigned resumes = 0;

	require(how->kind == TARGET_RESUME_CONTINUE || how->kind == TARGET_RESUME_STEP ||
		how->kind == TARGET_RESUME_RANGE || how->kind == TARGET_RESUME_REVERSE_STEP ||
		how->kind == TARGET_RESUME_REVERSE_CONTINUE);
	for (;;) {
		script_next_stop(h);
		require(fake_resume(h->target, how, &stop) == 0);
		/* Let the guest move between stops, so conditions see new values. */
		h->target->regs.rax += 1;
		if (rsp_stop_is_reported(h->session, &stop) || ++resumes == MAX_RESUMES_PER_PACKET)
			break;
	}
	rsp_stop_reply(h->session, &stop);
	check_stop_reply(h->session);
}

static void handle(struct harness *h, const uint8_t *payload, size_t len)
{
	struct rsp_session *s = h->session;
	struct target_resume resume;

	memset(&resume, 0xa5, sizeof(resume));
	enum rsp_action action = rsp_handle_packet(s, payload, len, &resume);
	require(action == RSP_ACTION_REPLY || action == RSP_ACTION_RESUME ||
		action == RSP_ACTION_DETACH || action == RSP_ACTION_KILL ||
		action == RSP_ACTION_CONSOLE || action == RSP_ACTION_NONE);
	require(s->reply_len <= RSP_MAX_PAYLOAD);
	require(s->nconds <= s->conds_cap);
	if (len == 1 && payload[0] == 'g' && s->reply_len && s->reply[0] != 'E')
		require(s->reply_len == 2 * regs_all_size(s->arch));
	if (len == 1 && payload[0] == '?')
		check_stop_reply(s);
	switch (action) {
	case RSP_ACTION_RESUME:
		run_target(h, &resume);
		break;
	case RSP_ACTION_DETACH:
		/* What the server does: drop every point and the conditions. */
		fake_remove_all_points(h->target);
		break;
	case RSP_ACTION_CONSOLE: {
		/* Monitor output: O packets of hex, then one OK, then no more. */
		unsigned packets = 0;
		do {
			require(s->reply_len <= RSP_MAX_PAYLOAD);
			require(s->reply_len >= 1 && s->reply[0] == 'O');
			packets++;
			require(packets < 1024);
		} while (rsp_console_next(s));
		require(s->reply_len == 2 && s->reply[1] == 'K');
		break;
	}
	default:
		break;
	}
}

static void run_framed(struct harness *h, const uint8_t *data, size_t size)
{
	struct rsp_decoder *d = h->decoder;

	rsp_decoder_init(d);
	while (size > 0) {
		enum rsp_event event = RSP_EVENT_NONE;
		size_t used = rsp_decode(d, data, size, &event);
		require(used <= size);
		if (event == RSP_EVENT_NONE)
			break;
		require(used > 0);
		data += used;
		size -= used;
		if (event == RSP_EVENT_PACKET) {
			require(d->len <= RSP_MAX_PAYLOAD);
			handle(h, d->payload, d->len);
		}
	}
}

static void run_lines(struct harness *h, const uint8_t *data, size_t size)
{
	while (size > 0) {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t len = nl ? (size_t)(nl - data) : size;
		/* Hand each line over in its own allocation, so a read past the
		 * payload is caught even in the middle of the input. */
		uint8_t *line = malloc(len ? len : 1);
		require(line != NULL);
		memcpy(line, data, len);
		handle(h, line, len);
		free(line);
		data += len;
		size -= len;
		if (nl) {
			data++;
			size--;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness *h = harness_get();

	if (size == 0)
		return 0;
	h->options = data[0];
	session_start(h);
	run_framed(h, data + 1, size - 1);
	run_lines(h, data + 1, size - 1);
	session_end(h);
	return 0;
}
