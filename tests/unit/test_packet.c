/* tests/unit/test_packet.c — RSP framing as gdb sends and expects it: events,
 * checksums, escapes, run-length encoding, resync, and the encoder's bounds.
 * Feeds byte buffers only; no sockets.
 */
#include "stub/packet.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

#define LOG_MAX_EVENTS 64
#define LOG_TEXT_SIZE 8192

/* What a decoder produced from a stream: a readable transcript ("pkt:OK ack
 * bad") for small packets, and every packet's length and hash so transcripts
 * of big ones can be compared too. */
struct event_log {
	size_t count;
	enum rsp_event event[LOG_MAX_EVENTS];
	size_t len[LOG_MAX_EVENTS];
	uint64_t hash[LOG_MAX_EVENTS];
	char text[LOG_TEXT_SIZE];
};

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t next_random(uint64_t *rng)
{
	*rng ^= *rng << 13;
	*rng ^= *rng >> 7;
	*rng ^= *rng << 17;
	return *rng;
}

static void log_append(struct event_log *log, const char *s)
{
	size_t used = strlen(log->text);
	snprintf(log->text + used, sizeof(log->text) - used, "%s%s",
		 used ? " " : "", s);
}

static void log_event(struct event_log *log, const struct rsp_decoder *d,
		      enum rsp_event event)
{
	static const char *const names[] = {
		[RSP_EVENT_NONE] = "none", [RSP_EVENT_PACKET] = "pkt",
		[RSP_EVENT_BAD_CHECKSUM] = "bad", [RSP_EVENT_TOO_LONG] = "long",
		[RSP_EVENT_INTERRUPT] = "int", [RSP_EVENT_ACK] = "ack",
		[RSP_EVENT_NAK] = "nak",
	};
	char word[160];

	if (log->count < LOG_MAX_EVENTS) {
		log->event[log->count] = event;
		log->len[log->count] = event == RSP_EVENT_PACKET ? d->len : 0;
		log->hash[log->count] =
			event == RSP_EVENT_PACKET ? fnv1a(d->payload, d->len) : 0;
	}
	log->count++;
	if (event != RSP_EVENT_PACKET) {
		log_append(log, names[event]);
		return;
	}
	if (d->len > 32) {
		snprintf(word, sizeof(word), "pkt:<%zu bytes>", d->len);
	} else {
		size_t n = (size_t)snprintf(word, sizeof(word), "pkt:");
		for (size_t i = 0; i < d->len; i++) {
			uint8_t c = d->payload[i];
			if (c > ' ' && c < 0x7f && c != '\\')
				word[n++] = (char)c;
			else
				n += (size_t)snprintf(word + n, sizeof(word) - n,
						      "\\x%02x", c);
		}
		word[n] = 0;
	}
	log_append(log, word);
}

/* Feeds in[0..len) to d as one write, calling rsp_decode until it has taken
 * every byte, and logs the events. Also checks the decoder's promises that
 * hold after every call. */
static void feed(struct rsp_decoder *d, const uint8_t *in, size_t len,
		 struct event_log *log)
{
	while (len > 0) {
		enum rsp_event event = RSP_EVENT_PACKET;
		size_t used = rsp_decode(d, in, len, &event);
		CHECK(used <= len);
		if (event == RSP_EVENT_NONE) {
			CHECK_EQ(used, len);
			return;
		}
		CHECK(used > 0);
		if (event == RSP_EVENT_PACKET) {
			CHECK(d->len <= RSP_MAX_PAYLOAD);
			CHECK_EQ(d->payload[d->len], 0);
		}
		log_event(log, d, event);
		in += used;
		len -= used;
	}
}

static struct rsp_decoder *new_decoder(void)
{
	struct rsp_decoder *d = malloc(sizeof(*d));
	if (!d)
		abort();
	rsp_decoder_init(d);
	return d;
}

/* The whole stream in one call. */
static void decode_whole(const void *in, size_t len, struct event_log *log)
{
	struct rsp_decoder *d = new_decoder();
	memset(log, 0, sizeof(*log));
	feed(d, in, len, log);
	free(d);
}

static void decode_str(const char *in, struct event_log *log)
{
	decode_whole(in, strlen(in), log);
}

/* The stream in writes of sizes chosen by seed: 0 means one byte at a time. */
static void decode_chunked(const uint8_t *in, size_t len, uint64_t seed,
			   struct event_log *log)
{
	struct rsp_decoder *d = new_decoder();
	uint64_t rng = seed;

	memset(log, 0, sizeof(*log));
	while (len > 0) {
		size_t n = seed ? 1 + next_random(&rng) % 9 : 1;
		if (n > len)
			n = len;
		feed(d, in, n, log);
		in += n;
		len -= n;
	}
	free(d);
}

static int logs_equal(const struct event_log *a, const struct event_log *b)
{
	size_t n = a->count < LOG_MAX_EVENTS ? a->count : LOG_MAX_EVENTS;
	return a->count == b->count && strcmp(a->text, b->text) == 0 &&
	       memcmp(a->event, b->event, n * sizeof(a->event[0])) == 0 &&
	       memcmp(a->len, b->len, n * sizeof(a->len[0])) == 0 &&
	       memcmp(a->hash, b->hash, n * sizeof(a->hash[0])) == 0;
}

/* Frames raw (already escaped / run-length encoded) bytes with the checksum
 * gdb would send: out must hold n + 4 bytes. */
static size_t frame_raw(uint8_t *out, const void *raw, size_t n)
{
	const uint8_t *bytes = raw;
	uint8_t sum = 0;

	out[0] = '$';
	for (size_t i = 0; i < n; i++) {
		out[1 + i] = bytes[i];
		sum = (uint8_t)(sum + bytes[i]);
	}
	snprintf((char *)out + 1 + n, 4, "#%02x", sum);
	return n + 4;
}

static void decode_framed(const char *raw, struct event_log *log)
{
	uint8_t buf[512];
	size_t n = frame_raw(buf, raw, strlen(raw));
	decode_whole(buf, n, log);
}

static struct event_log log_a, log_b;

static void test_packet_with_good_checksum_is_delivered_nul_terminated(void)
{
	struct rsp_decoder *d = new_decoder();
	enum rsp_event event;
	const char *in = "$OK#9a";

	CHECK_EQ(rsp_decode(d, (const uint8_t *)in, 6, &event), 6);
	CHECK_EQ(event, RSP_EVENT_PACKET);
	CHECK_EQ(d->len, 2);
	CHECK(strcmp((const char *)d->payload, "OK") == 0);
	free(d);
}

static void test_empty_packet_is_delivered(void)
{
	decode_str("$#00", &log_a);
	CHECK(strcmp(log_a.text, "pkt:") == 0);
	CHECK_EQ(log_a.len[0], 0);
}

static void test_ack_nak_and_interrupt_outside_packets_are_events(void)
{
	decode_str("+-\x03+", &log_a);
	CHECK(strcmp(log_a.text, "ack nak int ack") == 0);
}

static void test_decode_returns_right_after_each_event(void)
{
	struct rsp_decoder *d = new_decoder();
	enum rsp_event event;
	const uint8_t in[] = "+$OK#9a-";

	CHECK_EQ(rsp_decode(d, in, 8, &event), 1);
	CHECK_EQ(event, RSP_EVENT_ACK);
	CHECK_EQ(rsp_decode(d, in + 1, 7, &event), 6);
	CHECK_EQ(event, RSP_EVENT_PACKET);
	CHECK_EQ(rsp_decode(d, in + 7, 1, &event), 1);
	CHECK_EQ(event, RSP_EVENT_NAK);
	CHECK_EQ(rsp_decode(d, in + 8, 0, &event), 0);
	CHECK_EQ(event, RSP_EVENT_NONE);
	free(d);
}

static void test_garbage_before_a_packet_is_skipped(void)
{
	const char in[] = "hello#12\r\n\xff\x00zz$g#67";
	decode_whole(in, sizeof(in) - 1, &log_a);
	CHECK(strcmp(log_a.text, "pkt:g") == 0);
}

static void test_wrong_checksum_is_bad_checksum_and_next_packet_decodes(void)
{
	decode_str("$OK#9b$OK#9a", &log_a);
	CHECK(strcmp(log_a.text, "bad pkt:OK") == 0);
}

static void test_non_hex_checksum_digit_is_bad_checksum_and_keeps_sync(void)
{
	decode_str("$OK#g9+$OK#9z-$OK#9a", &log_a);
	CHECK(strcmp(log_a.text, "bad ack bad nak pkt:OK") == 0);
}

static void test_uppercase_checksum_digits_are_accepted(void)
{
	decode_str("$OK#9A", &log_a);
	CHECK(strcmp(log_a.text, "pkt:OK") == 0);
}

static void test_escaped_special_bytes_are_unescaped(void)
{
	/* gdb sends '#', '$', '}' and '*' in binary data as '}' c^0x20. */
	decode_framed("X}\x03}\x04}]}\x0a!", &log_a);
	CHECK(strcmp(log_a.text, "pkt:X#$}*!") == 0);
}

static void test_escape_of_any_byte_is_xor_0x20(void)
{
	decode_framed("}\x20}a", &log_a);
	CHECK(strcmp(log_a.text, "pkt:\\x00A") == 0);
}

static void test_checksum_covers_raw_escaped_bytes(void)
{
	/* Summing the unescaped '#' (0x23) instead of '}' 0x03 would give 0x23. */
	decode_str("$}\x03#80", &log_a);
	CHECK(strcmp(log_a.text, "pkt:#") == 0);
}

static void test_dangling_escape_before_hash_is_bad_checksum(void)
{
	decode_framed("ab}", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
}

static void test_run_length_count_repeats_previous_byte(void)
{
	/* The manual's example: "0* " is "0000" (' ' is 32, 32 - 29 = 3). */
	decode_framed("0* ", &log_a);
	CHECK(strcmp(log_a.text, "pkt:0000") == 0);
	decode_framed("ab*\"c", &log_a);
	CHECK(strcmp(log_a.text, "pkt:abbbbbbc") == 0);
}

static void test_run_length_largest_count_repeats_97_times(void)
{
	struct rsp_decoder *d = new_decoder();
	uint8_t buf[16];
	enum rsp_event event;
	size_t n = frame_raw(buf, "x*~", 3);

	CHECK_EQ(rsp_decode(d, buf, n, &event), n);
	CHECK_EQ(event, RSP_EVENT_PACKET);
	CHECK_EQ(d->len, 98);
	CHECK_EQ(d->payload[97], 'x');
	CHECK_EQ(d->payload[98], 0);
	free(d);
}

static void test_run_length_after_escape_repeats_unescaped_byte(void)
{
	decode_framed("}\x03* ", &log_a);
	CHECK(strcmp(log_a.text, "pkt:####") == 0);
}

static void test_run_length_runs_can_follow_each_other(void)
{
	decode_framed("7* * ", &log_a);
	CHECK(strcmp(log_a.text, "pkt:7777777") == 0);
}

static void test_run_length_at_payload_start_is_bad_checksum(void)
{
	decode_framed("* abc", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
}

static void test_run_length_count_outside_printable_is_bad_checksum(void)
{
	decode_framed("a*\x1f", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
	decode_framed("a*\x7f", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
	decode_framed("a*\x80zz", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
}

static void test_run_length_without_count_before_hash_is_bad_checksum(void)
{
	decode_framed("a*", &log_a);
	CHECK(strcmp(log_a.text, "bad") == 0);
}

static void test_malformed_packet_keeps_sync_for_next_packet(void)
{
	uint8_t buf[64];
	size_t n = frame_raw(buf, "* x", 3);
	n += frame_raw(buf + n, "OK", 2);
	decode_whole(buf, n, &log_a);
	CHECK(strcmp(log_a.text, "bad pkt:OK") == 0);
}

/* Builds "$" 'a' * (fill) "*" count "#xx", the run ending exactly at
 * fill + count - 29 payload bytes. */
static size_t frame_run_at_end(uint8_t *out, size_t fill, uint8_t count)
{
	uint8_t *raw = malloc(fill + 2);
	if (!raw)
		abort();
	memset(raw, 'a', fill);
	raw[fill] = '*';
	raw[fill + 1] = count;
	size_t n = frame_raw(out, raw, fill + 2);
	free(raw);
	return n;
}

static void test_run_length_filling_payload_to_max_is_accepted(void)
{
	size_t size = RSP_MAX_PAYLOAD + 16;
	uint8_t *buf = malloc(size);
	struct rsp_decoder *d = new_decoder();
	enum rsp_event event;

	/* 'a' * (max - 3) then "* " adds the last 3. */
	size_t n = frame_run_at_end(buf, RSP_MAX_PAYLOAD - 3, ' ');
	CHECK_EQ(rsp_decode(d, buf, n, &event), n);
	CHECK_EQ(event, RSP_EVENT_PACKET);
	CHECK_EQ(d->len, RSP_MAX_PAYLOAD);
	CHECK_EQ(d->payload[RSP_MAX_PAYLOAD - 1], 'a');
	CHECK_EQ(d->payload[RSP_MAX_PAYLOAD], 0);
	free(d);
	free(buf);
}

static void test_run_length_one_past_max_is_too_long(void)
{
	size_t size = RSP_MAX_PAYLOAD + 16;
	uint8_t *buf = malloc(size);

	size_t n = frame_run_at_end(buf, RSP_MAX_PAYLOAD - 2, ' ');
	n += frame_raw(buf + n, "OK", 2);
	decode_whole(buf, n, &log_a);
	CHECK(strcmp(log_a.text, "long pkt:OK") == 0);
	free(buf);
}

static void test_packet_of_exactly_max_payload_is_delivered(void)
{
	size_t size = RSP_MAX_PAYLOAD + 16;
	uint8_t *raw = malloc(RSP_MAX_PAYLOAD);
	uint8_t *buf = malloc(size);

	memset(raw, '5', RSP_MAX_PAYLOAD);
	size_t n = frame_raw(buf, raw, RSP_MAX_PAYLOAD);
	decode_whole(buf, n, &log_a);
	CHECK_EQ(log_a.count, 1);
	CHECK_EQ(log_a.event[0], RSP_EVENT_PACKET);
	CHECK_EQ(log_a.len[0], RSP_MAX_PAYLOAD);
	CHECK_EQ(log_a.hash[0], fnv1a(raw, RSP_MAX_PAYLOAD));
	free(raw);
	free(buf);
}

static void test_oversized_packet_is_too_long_then_next_packet_decodes(void)
{
	size_t raw_len = RSP_MAX_PAYLOAD + 1000;
	uint8_t *raw = malloc(raw_len);
	uint8_t *buf = malloc(raw_len + 64);
	uint64_t rng = 7;

	/* A full payload, then binary data with '*', '}' and 0x03 past the
	 * limit: none of it may be taken for framing or an event. */
	memset(raw, 'a', RSP_MAX_PAYLOAD);
	for (size_t i = RSP_MAX_PAYLOAD; i < raw_len; i++) {
		uint8_t c = (uint8_t)next_random(&rng);
		raw[i] = c == '#' || c == '$' ? 'x' : c;
	}
	size_t n = frame_raw(buf, raw, raw_len);
	buf[n++] = '+';
	n += frame_raw(buf + n, "OK", 2);
	decode_whole(buf, n, &log_a);
	CHECK(strcmp(log_a.text, "long ack pkt:OK") == 0);
	decode_chunked(buf, n, 0, &log_b);
	CHECK(logs_equal(&log_a, &log_b));
	free(raw);
	free(buf);
}

static void test_too_long_is_reported_only_after_its_checksum(void)
{
	size_t raw_len = RSP_MAX_PAYLOAD + 1;
	uint8_t *buf = malloc(raw_len + 8);
	struct rsp_decoder *d = new_decoder();
	enum rsp_event event;

	buf[0] = '$';
	memset(buf + 1, 'z', raw_len);
	CHECK_EQ(rsp_decode(d, buf, raw_len + 1, &event), raw_len + 1);
	CHECK_EQ(event, RSP_EVENT_NONE);
	CHECK_EQ(rsp_decode(d, (const uint8_t *)"#0", 2, &event), 2);
	CHECK_EQ(event, RSP_EVENT_NONE);
	CHECK_EQ(rsp_decode(d, (const uint8_t *)"0", 1, &event), 1);
	CHECK_EQ(event, RSP_EVENT_TOO_LONG);
	free(d);
	free(buf);
}

static void test_dollar_mid_packet_restarts_the_packet(void)
{
	decode_str("$m100,4$OK#9a", &log_a);
	CHECK(strcmp(log_a.text, "pkt:OK") == 0);
}

static void test_dollar_in_checksum_restarts_the_packet(void)
{
	decode_str("$xy#$OK#9a$ab#6$OK#9a", &log_a);
	CHECK(strcmp(log_a.text, "pkt:OK pkt:OK") == 0);
}

static void test_dollar_as_run_length_count_restarts_the_packet(void)
{
	decode_str("$a*$OK#9a", &log_a);
	CHECK(strcmp(log_a.text, "pkt:OK") == 0);
}

static void test_dollar_after_too_long_payload_restarts_the_packet(void)
{
	size_t raw_len = RSP_MAX_PAYLOAD + 10;
	uint8_t *buf = malloc(raw_len + 16);

	buf[0] = '$';
	memset(buf + 1, 'q', raw_len);
	memcpy(buf + 1 + raw_len, "$OK#9a", 6);
	decode_whole(buf, raw_len + 7, &log_a);
	CHECK(strcmp(log_a.text, "pkt:OK") == 0);
	free(buf);
}

static void test_interrupt_and_ack_bytes_inside_a_packet_are_data(void)
{
	decode_framed("a\x03+-b", &log_a);
	CHECK(strcmp(log_a.text, "pkt:a\\x03+-b") == 0);
}

/* A stream with every kind of event and trap in it. */
static size_t build_mixed_stream(uint8_t *buf)
{
	size_t n = 0;
	const char *noise = "junk\r\n+";
	memcpy(buf + n, noise, strlen(noise));
	n += strlen(noise);
	n += frame_raw(buf + n, "qSupported:multiprocess+", 24);
	buf[n++] = 0x03;
	n += frame_raw(buf + n, "X1000,4:}\x03}\x04}]}\x0a", 16);
	n += frame_raw(buf + n, "0* ab*!", 7);
	memcpy(buf + n, "$OK#00-", 7);
	n += 7;
	memcpy(buf + n, "$half$g#67", 10);
	n += 10;
	n += frame_raw(buf + n, "* bad", 5);
	memcpy(buf + n, "$OK#zz", 6);
	n += 6;
	n += frame_raw(buf + n, "c", 1);
	return n;
}

static void test_every_split_point_gives_the_same_events(void)
{
	uint8_t buf[512];
	size_t n = build_mixed_stream(buf);
	struct rsp_decoder *d = new_decoder();
	int all_equal = 1;

	decode_whole(buf, n, &log_a);
	CHECK(strcmp(log_a.text,
		     "ack pkt:qSupported:multiprocess+ int "
		     "pkt:X1000,4:#$}* pkt:0000abbbbb bad nak pkt:g bad bad "
		     "pkt:c") == 0);
	for (size_t split = 0; split <= n; split++) {
		rsp_decoder_init(d);
		memset(&log_b, 0, sizeof(log_b));
		feed(d, buf, split, &log_b);
		feed(d, buf + split, n - split, &log_b);
		if (!logs_equal(&log_a, &log_b)) {
			printf("  split at %zu: %s\n", split, log_b.text);
			all_equal = 0;
		}
	}
	CHECK(all_equal);
	free(d);
}

static void test_byte_at_a_time_and_random_chunks_give_the_same_events(void)
{
	uint8_t buf[512];
	size_t n = build_mixed_stream(buf);

	decode_whole(buf, n, &log_a);
	decode_chunked(buf, n, 0, &log_b);
	CHECK(logs_equal(&log_a, &log_b));
	for (uint64_t seed = 1; seed <= 200; seed++) {
		decode_chunked(buf, n, seed, &log_b);
		CHECK(logs_equal(&log_a, &log_b));
	}
}

static void test_encode_frames_and_checksums(void)
{
	uint8_t out[16];

	CHECK_EQ(rsp_encode(out, sizeof(out), (const uint8_t *)"OK", 2), 6);
	CHECK(memcmp(out, "$OK#9a", 6) == 0);
	CHECK_EQ(rsp_encode(out, sizeof(out), (const uint8_t *)"", 0), 4);
	CHECK(memcmp(out, "$#00", 4) == 0);
}

static void test_encode_escapes_the_four_special_bytes(void)
{
	uint8_t out[32];
	size_t n = rsp_encode(out, sizeof(out), (const uint8_t *)"#$}*a", 5);

	CHECK_EQ(n, 1 + 9 + 3);
	/* The checksum is over what is on the wire: '}' 0x03 ... 'a'. */
	CHECK(memcmp(out, "$}\x03}\x04}]}\x0a" "a#c3", n) == 0);
}

static void test_encode_then_decode_gives_back_random_payloads(void)
{
	size_t max_len = 3000;
	uint8_t *payload = malloc(max_len);
	uint8_t *framed = malloc(2 * max_len + 4);
	struct rsp_decoder *d = new_decoder();
	uint64_t rng = 0x1234567;
	int all_equal = 1;

	for (int round = 0; round < 500; round++) {
		size_t len = next_random(&rng) % max_len;
		/* Skew towards the special bytes half the time. */
		int special = round & 1;
		for (size_t i = 0; i < len; i++) {
			uint64_t r = next_random(&rng);
			payload[i] = special && (r & 3) == 0
					     ? (uint8_t) "#$}*"[(r >> 2) & 3]
					     : (uint8_t)(r >> 8);
		}
		size_t n = rsp_encode(framed, 2 * max_len + 4, payload, len);
		enum rsp_event event;
		rsp_decoder_init(d);
		size_t used = rsp_decode(d, framed, n, &event);
		if (n == 0 || used != n || event != RSP_EVENT_PACKET ||
		    d->len != len || memcmp(d->payload, payload, len) != 0)
			all_equal = 0;
	}
	CHECK(all_equal);
	free(d);
	free(payload);
	free(framed);
}

static void test_encode_into_buffer_one_byte_too_small_returns_zero(void)
{
	const uint8_t payload[] = "m}$*#0";
	uint8_t out[64];
	size_t need = rsp_encode(out, sizeof(out), payload, 6);

	CHECK_EQ(need, 1 + 2 + 4 * 2 + 3);
	for (size_t size = 0; size < need; size++) {
		memset(out, 0xee, sizeof(out));
		CHECK_EQ(rsp_encode(out, size, payload, 6), 0);
		/* Nothing past out_size may be touched. */
		for (size_t i = size; i < sizeof(out); i++)
			CHECK_EQ(out[i], 0xee);
	}
	CHECK_EQ(rsp_encode(out, need, payload, 6), need);
}

int main(void)
{
	RUN(test_packet_with_good_checksum_is_delivered_nul_terminated);
	RUN(test_empty_packet_is_delivered);
	RUN(test_ack_nak_and_interrupt_outside_packets_are_events);
	RUN(test_decode_returns_right_after_each_event);
	RUN(test_garbage_before_a_packet_is_skipped);
	RUN(test_wrong_checksum_is_bad_checksum_and_next_packet_decodes);
	RUN(test_non_hex_checksum_digit_is_bad_checksum_and_keeps_sync);
	RUN(test_uppercase_checksum_digits_are_accepted);
	RUN(test_escaped_special_bytes_are_unescaped);
	RUN(test_escape_of_any_byte_is_xor_0x20);
	RUN(test_checksum_covers_raw_escaped_bytes);
	RUN(test_dangling_escape_before_hash_is_bad_checksum);
	RUN(test_run_length_count_repeats_previous_byte);
	RUN(test_run_length_largest_count_repeats_97_times);
	RUN(test_run_length_after_escape_repeats_unescaped_byte);
	RUN(test_run_length_runs_can_follow_each_other);
	RUN(test_run_length_at_payload_start_is_bad_checksum);
	RUN(test_run_length_count_outside_printable_is_bad_checksum);
	RUN(test_run_length_without_count_before_hash_is_bad_checksum);
	RUN(test_malformed_packet_keeps_sync_for_next_packet);
	RUN(test_run_length_filling_payload_to_max_is_accepted);
	RUN(test_run_length_one_past_max_is_too_long);
	RUN(test_packet_of_exactly_max_payload_is_delivered);
	RUN(test_oversized_packet_is_too_long_then_next_packet_decodes);
	RUN(test_too_long_is_reported_only_after_its_checksum);
	RUN(test_dollar_mid_packet_restarts_the_packet);
	RUN(test_dollar_in_checksum_restarts_the_packet);
	RUN(test_dollar_as_run_length_count_restarts_the_packet);
	RUN(test_dollar_after_too_long_payload_restarts_the_packet);
	RUN(test_interrupt_and_ack_bytes_inside_a_packet_are_data);
	RUN(test_every_split_point_gives_the_same_events);
	RUN(test_byte_at_a_time_and_random_chunks_give_the_same_events);
	RUN(test_encode_frames_and_checksums);
	RUN(test_encode_escapes_the_four_special_bytes);
	RUN(test_encode_then_decode_gives_back_random_payloads);
	RUN(test_encode_into_buffer_one_byte_too_small_returns_zero);
	return check_summary();
}
