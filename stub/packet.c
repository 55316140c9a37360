/* stub/packet.c — RSP framing: bytes in, packets out, and packets framed for
 * sending. Pure: no sockets, no allocation, no callbacks; it may not know what
 * a packet means.
 *
 * Decoding rules (GDB manual, "Remote Protocol" → "Overview", "Binary Data"):
 * - Outside a packet, '+' is an ack, '-' a nak, 0x03 an interrupt request;
 *   every other byte is line noise and skipped.
 * - '$' starts a packet, '#' ends it, two hex digits follow: the modulo-256
 *   sum of the raw bytes between '$' and '#'.
 * - '}' escapes the next byte (it is XORed with 0x20). gdb escapes '#', '$',
 *   '}' and '*' in binary data, so unescaping here is the same as unescaping
 *   per packet type, and no raw '#' or '$' ever stands for data.
 * - '*' n is run-length encoding: the byte before '*' is repeated n - 29 more
 *   times. The manual allows printable counts only (' '..'~'; '#' and '$'
 *   stay framing), so any other count, a '*' with nothing before it, or a '}'
 *   right before '#' makes the packet malformed: it is reported as
 *   RSP_EVENT_BAD_CHECKSUM so that gdb resends it.
 * - A '$' before a packet is complete (in its payload or its checksum) drops
 *   the partial packet and starts a new one. gdb never sends '$' there, so
 *   one means the earlier bytes were noise or a torn packet; restarting is
 *   what lets the stub resync on the next real packet.
 * - A payload that expands past RSP_MAX_PAYLOAD is not stored; the decoder
 *   keeps scanning for its '#' (not for a '$', which could be data after a
 *   '*') and reports RSP_EVENT_TOO_LONG once the two checksum digits arrive.
 */
#include "stub/packet.h"
#include "stub/hex.h"

#include <string.h>

/* Where the decoder is in the framing. The *_MALFORMED states mirror the
 * normal ones for a packet already known to be bad, so it is dropped only
 * after its '#xx' and the next bytes are read in sync. */
enum decoder_state {
	STATE_IDLE,
	STATE_PAYLOAD,
	STATE_RLE_COUNT,
	STATE_CHECKSUM_HIGH,
	STATE_CHECKSUM_LOW,
	STATE_MALFORMED_PAYLOAD,
	STATE_MALFORMED_CHECKSUM_HIGH,
	STATE_MALFORMED_CHECKSUM_LOW,
};

/* The manual's printable run-length counts: ' ' (3 repeats) to '~' (97). */
#define RLE_FIRST_COUNT ' '
#define RLE_LAST_COUNT '~'
#define RLE_COUNT_BIAS 29

static const char hex_digits[] = "0123456789abcdef";

/* Bytes gdb reads as framing ('#', '$') or encoding ('}', '*'): the payload
 * scan stops at them and the encoder escapes them. One table load per byte
 * keeps both hot loops branch-light. */
static const uint8_t special_payload_byte[256] = {
	['#'] = 1, ['$'] = 1, ['}'] = 1, ['*'] = 1,
};

void rsp_decoder_init(struct rsp_decoder *d)
{
	d->state = STATE_IDLE;
	d->checksum = 0;
	d->sent_sum = 0;
	d->escape_next = 0;
	d->overflow = 0;
	d->len = 0;
	d->payload[0] = 0;
}

static void start_packet(struct rsp_decoder *d)
{
	d->state = STATE_PAYLOAD;
	d->checksum = 0;
	d->sent_sum = 0;
	d->escape_next = 0;
	d->overflow = 0;
	d->len = 0;
}

/* Appends one decoded byte, or marks the packet too long once it is full. */
static inline void store_payload_byte(struct rsp_decoder *d, uint8_t c)
{
	if (d->len < RSP_MAX_PAYLOAD)
		d->payload[d->len++] = c;
	else
		d->overflow = 1;
}

/* Handles the count byte after '*'. Returns 0, or -1 if the count is one the
 * manual does not allow or there is no byte to repeat. */
static int expand_run(struct rsp_decoder *d, uint8_t count_char)
{
	if (count_char < RLE_FIRST_COUNT || count_char > RLE_LAST_COUNT ||
	    d->len == 0)
		return -1;
	size_t repeat = (size_t)count_char - RLE_COUNT_BIAS;
	if (repeat > RSP_MAX_PAYLOAD - d->len) {
		d->overflow = 1;
		return 0;
	}
	memset(d->payload + d->len, d->payload[d->len - 1], repeat);
	d->len += repeat;
	return 0;
}

/* The packet's last checksum digit has arrived: decide what it was. */
static enum rsp_event finish_packet(struct rsp_decoder *d, int malformed,
				    int digit_ok)
{
	d->state = STATE_IDLE;
	if (d->overflow) {
		d->len = 0;
		d->payload[0] = 0;
		return RSP_EVENT_TOO_LONG;
	}
	if (malformed || !digit_ok || d->sent_sum != d->checksum)
		return RSP_EVENT_BAD_CHECKSUM;
	d->payload[d->len] = 0;
	return RSP_EVENT_PACKET;
}

/* Scans payload bytes from in[i..len) while nothing special happens: the
 * hot loop for the bulk of every packet. Returns the index of the first byte
 * it did not take. */
static size_t scan_plain_payload(struct rsp_decoder *d, const uint8_t *in,
				 size_t i, size_t len)
{
	uint8_t sum = d->checksum;
	size_t room = RSP_MAX_PAYLOAD - d->len;
	size_t end = len - i < room ? len : i + room;
	uint8_t *dst = d->payload + d->len;
	size_t start = i;

	while (i < end && !special_payload_byte[in[i]]) {
		sum = (uint8_t)(sum + in[i]);
		dst[i - start] = in[i];
		i++;
	}
	d->checksum = sum;
	d->len += i - start;
	return i;
}

/* Skips the payload of a packet that is not stored (too long or malformed):
 * only '#' and '$' matter. Returns the index of that byte, or len. */
static size_t skip_to_frame_byte(const uint8_t *in, size_t i, size_t len)
{
	while (i < len && in[i] != '#' && in[i] != '$')
		i++;
	return i;
}

size_t rsp_decode(struct rsp_decoder *d, const uint8_t *in, size_t len,
		  enum rsp_event *event)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c;

		if (d->state == STATE_PAYLOAD && !d->escape_next) {
			if (d->overflow)
				i = skip_to_frame_byte(in, i, len);
			else
				i = scan_plain_payload(d, in, i, len);
			if (i == len)
				break;
		} else if (d->state == STATE_MALFORMED_PAYLOAD) {
			i = skip_to_frame_byte(in, i, len);
			if (i == len)
				break;
		}
		c = in[i++];

		switch (d->state) {
		case STATE_IDLE:
			if (c == '$') {
				start_packet(d);
			} else if (c == '+') {
				*event = RSP_EVENT_ACK;
				return i;
			} else if (c == '-') {
				*event = RSP_EVENT_NAK;
				return i;
			} else if (c == 0x03) {
				*event = RSP_EVENT_INTERRUPT;
				return i;
			}
			break;

		case STATE_PAYLOAD:
			if (c == '$') {
				start_packet(d);
				break;
			}
			if (c == '#') {
				/* A '}' with nothing after it escapes nothing. */
				d->state = d->escape_next
						   ? STATE_MALFORMED_CHECKSUM_HIGH
						   : STATE_CHECKSUM_HIGH;
				break;
			}
			d->checksum = (uint8_t)(d->checksum + c);
			if (d->escape_next) {
				d->escape_next = 0;
				store_payload_byte(d, c ^ 0x20);
			} else if (c == '}') {
				d->escape_next = 1;
			} else if (c == '*') {
				d->state = STATE_RLE_COUNT;
			} else {
				store_payload_byte(d, c);
			}
			break;

		case STATE_RLE_COUNT:
			if (c == '$') {
				start_packet(d);
				break;
			}
			if (c == '#') {
				d->state = STATE_MALFORMED_CHECKSUM_HIGH;
				break;
			}
			d->checksum = (uint8_t)(d->checksum + c);
			d->state = expand_run(d, c) == 0 ? STATE_PAYLOAD
							 : STATE_MALFORMED_PAYLOAD;
			break;

		case STATE_MALFORMED_PAYLOAD:
			if (c == '$')
				start_packet(d);
			else
				d->state = STATE_MALFORMED_CHECKSUM_HIGH;
			break;

		case STATE_CHECKSUM_HIGH:
		case STATE_MALFORMED_CHECKSUM_HIGH: {
			if (c == '$') {
				start_packet(d);
				break;
			}
			int value = hex_digit_value(c);
			/* A bad first digit still waits for the second, so the
			 * packet ends where gdb meant it to. */
			d->sent_sum = value < 0 ? 0 : (uint8_t)(value << 4);
			if (value < 0)
				d->state = STATE_MALFORMED_CHECKSUM_LOW;
			else
				d->state = d->state == STATE_CHECKSUM_HIGH
						   ? STATE_CHECKSUM_LOW
						   : STATE_MALFORMED_CHECKSUM_LOW;
			break;
		}

		case STATE_CHECKSUM_LOW:
		case STATE_MALFORMED_CHECKSUM_LOW: {
			if (c == '$') {
				start_packet(d);
				break;
			}
			int malformed = d->state == STATE_MALFORMED_CHECKSUM_LOW;
			int value = hex_digit_value(c);
			if (value >= 0)
				d->sent_sum = (uint8_t)(d->sent_sum | value);
			*event = finish_packet(d, malformed, value >= 0);
			return i;
		}

		default:
			/* A corrupted state can only mean "between packets". */
			d->state = STATE_IDLE;
			break;
		}
	}
	*event = RSP_EVENT_NONE;
	return i;
}

/* Modulo-256 sum of a run; a wide accumulator lets the compiler
 * vectorise it (a 64 KiB memory read is 128 KiB of hex to sum). */
uint8_t rsp_checksum(const uint8_t *p, size_t n)
{
	/* Eight bytes at a time in 16-bit lanes (each lane takes at most
	 * 2 * 255 per word, so 128 words cannot overflow it), then folded:
	 * a 64 KiB memory read is 128 KiB of hex to sum. */
	const uint64_t low_bytes = 0x00ff00ff00ff00ffULL;
	uint64_t total = 0;
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t lanes = 0;
		size_t words = (n - i) / 8 < 128 ? (n - i) / 8 : 128;
		for (size_t w = 0; w < words; w++, i += 8) {
			uint64_t x;
			memcpy(&x, p + i, sizeof(x));
			lanes += (x & low_bytes) + ((x >> 8) & low_bytes);
		}
		total += (lanes & 0xffff) + ((lanes >> 16) & 0xffff) + ((lanes >> 32) & 0xffff) +
			 (lanes >> 48);
	}
	for (; i < n; i++)
		total += p[i];
	return (uint8_t)total;
}

size_t rsp_encode(uint8_t *out, size_t out_size, const uint8_t *payload,
		  size_t len)
{
	size_t pos = 0;
	uint8_t sum = 0;

	/* '$' and '#xx' take four bytes besides the payload. */
	if (out_size < 4)
		return 0;
	out[pos++] = '$';
	for (size_t i = 0; i < len;) {
		size_t run = i;
		while (run < len && !special_payload_byte[payload[run]])
			run++;
		if (run > i) {
			/* Plain bytes (all of a hex reply) go in one copy. */
			size_t n = run - i;
			if (out_size - pos < n + 3)
				return 0;
			memcpy(out + pos, payload + i, n);
			pos += n;
			sum = (uint8_t)(sum + rsp_checksum(payload + i, n));
			i = run;
			continue;
		}
		uint8_t c = payload[i++];
		if (out_size - pos < 2 + 3)
			return 0;
		out[pos++] = '}';
		out[pos++] = (uint8_t)(c ^ 0x20);
		sum = (uint8_t)(sum + '}' + (c ^ 0x20));
	}
	out[pos++] = '#';
	out[pos++] = (uint8_t)hex_digits[sum >> 4];
	out[pos++] = (uint8_t)hex_digits[sum & 0xf];
	return pos;
}
