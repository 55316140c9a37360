/* fuzz/fuzz_packet.c — libFuzzer harness for the RSP framing decoder and
 * encoder (stub/packet.c). It may not touch sockets or anything outside the
 * input; every broken promise aborts.
 *
 * Input: byte 0 picks options, byte 1 a near-limit fill length; the rest is
 * the byte stream gdb (or an attacker on the port) sends. Checks:
 * - the stream gives the same events split into chunks (sizes taken from the
 *   data) as in one write: TCP may cut it anywhere;
 * - consumed counts and payload bounds, and the NUL after each payload;
 * - every decoded payload, encoded and decoded again, comes back unchanged,
 *   and the encoder refuses a buffer one byte too small.
 * With option bits 2:0 all set the stream is preceded by '$' and a payload
 * run-length encoded to RSP_MAX_PAYLOAD - byte 1 bytes, so the length limit
 * is reached with small inputs; a packet that completes there still costs
 * milliseconds to round-trip under instrumentation, so one input in eight.
 */
#include "stub/packet.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MIN_RUN 3
#define MAX_RUN 97
#define RUN_COUNT_BIAS 29
#define NEAR_LIMIT_PREFIX_SIZE (2 + 2 * (RSP_MAX_PAYLOAD / MAX_RUN + 2) + 2)
#define NEAR_LIMIT_OPTION 7

/* What one decoder run produced, folded so two runs compare cheaply. */
struct event_digest {
	uint64_t hash;
	size_t events;
};

static void require(int promise)
{
	if (!promise)
		abort();
}

static uint64_t digest_bytes(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void check_round_trip(const struct rsp_decoder *d,
			     struct rsp_decoder *again, uint8_t *framed,
			     size_t framed_size)
{
	size_t n = rsp_encode(framed, framed_size, d->payload, d->len);
	require(n >= d->len + 4 && n <= framed_size);
	/* What the refused call writes below n - 1 must be the same frame, or
	 * the decode below fails. */
	require(rsp_encode(framed, n - 1, d->payload, d->len) == 0);

	enum rsp_event event;
	rsp_decoder_init(again);
	require(rsp_decode(again, framed, n, &event) == n);
	require(event == RSP_EVENT_PACKET);
	require(again->len == d->len);
	require(memcmp(again->payload, d->payload, d->len) == 0);
}

/* Feeds in[0..len) as one write, handling every event. */
static void feed(struct rsp_decoder *d, const uint8_t *in, size_t len,
		 struct event_digest *digest, struct rsp_decoder *again,
		 uint8_t *framed, size_t framed_size)
{
	while (len > 0) {
		enum rsp_event event = RSP_EVENT_PACKET;
		size_t used = rsp_decode(d, in, len, &event);
		require(used <= len);
		require(event >= RSP_EVENT_NONE && event <= RSP_EVENT_NAK);
		if (event == RSP_EVENT_NONE) {
			require(used == len);
			return;
		}
		require(used > 0);
		digest->events++;
		digest->hash = (digest->hash ^ (uint64_t)event) * 0x100000001b3ull;
		if (event == RSP_EVENT_PACKET) {
			require(d->len <= RSP_MAX_PAYLOAD);
			require(d->payload[d->len] == 0);
			digest->hash = digest_bytes(digest->hash, d->payload, d->len);
			if (again)
				check_round_trip(d, again, framed, framed_size);
		}
		in += used;
		len -= used;
	}
}

/* Writes '$' and a run-length encoded payload that expands to exactly
 * RSP_MAX_PAYLOAD - short_by bytes; returns its length. Runs keep the
 * prefix a few KiB: decoding 128 KiB of plain bytes would cost milliseconds
 * per input under the fuzzer's comparison tracing. */
static size_t build_near_limit_prefix(uint8_t *out, size_t short_by)
{
	size_t n = 0;
	size_t remaining = RSP_MAX_PAYLOAD - short_by - 1;

	out[n++] = '$';
	out[n++] = 'f';
	while (remaining > MAX_RUN) {
		out[n++] = '*';
		out[n++] = MAX_RUN + RUN_COUNT_BIAS;
		remaining -= MAX_RUN;
	}
	/* Counts 6 and 7 would be '#' and '$': the manual says to send a
	 * run of 5 and the rest plainly. */
	if (remaining == 6 || remaining == 7) {
		out[n++] = '*';
		out[n++] = 5 + RUN_COUNT_BIAS;
		remaining -= 5;
	}
	if (remaining >= MIN_RUN) {
		out[n++] = '*';
		out[n++] = (uint8_t)(remaining + RUN_COUNT_BIAS);
		remaining = 0;
	}
	while (remaining-- > 0)
		out[n++] = 'f';
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t options = data[0];
	size_t short_by = data[1];
	const uint8_t *stream = data + 2;
	size_t stream_len = size - 2;

	/* On the stack, not the heap: blocks this big would cost an mmap and
	 * page faults per input under AddressSanitizer. */
	struct rsp_decoder decoders[3];
	uint8_t framed[2 * RSP_MAX_PAYLOAD + 4];
	size_t framed_size = sizeof(framed);
	struct rsp_decoder *whole = &decoders[0], *chunked = &decoders[1];
	struct event_digest whole_digest = { 0xcbf29ce484222325ull, 0 };
	struct event_digest chunked_digest = whole_digest;

	rsp_decoder_init(whole);
	rsp_decoder_init(chunked);
	if ((options & NEAR_LIMIT_OPTION) == NEAR_LIMIT_OPTION) {
		/* Decode the prefix once and copy the decoder, which is plain
		 * data up to its payload's end. */
		uint8_t prefix[NEAR_LIMIT_PREFIX_SIZE];
		size_t prefix_len = build_near_limit_prefix(prefix, short_by);
		feed(whole, prefix, prefix_len, &whole_digest, NULL, NULL, 0);
		require(whole->len == RSP_MAX_PAYLOAD - short_by);
		memcpy(chunked, whole,
		       offsetof(struct rsp_decoder, payload) + whole->len);
		chunked_digest = whole_digest;
	}

	feed(whole, stream, stream_len, &whole_digest, &decoders[2], framed,
	     framed_size);

	/* Chunk sizes come from the data itself, salted by the options. */
	size_t pos = 0;
	while (pos < stream_len) {
		size_t n = 1 + ((stream[pos] ^ options) % 61);
		if (n > stream_len - pos)
			n = stream_len - pos;
		feed(chunked, stream + pos, n, &chunked_digest, NULL, NULL, 0);
		pos += n;
	}
	require(whole_digest.events == chunked_digest.events);
	require(whole_digest.hash == chunked_digest.hash);

	return 0;
}
