/* stub/packet.h — GDB Remote Serial Protocol framing: bytes in, packets out.
 *
 * Pure: no sockets. The decoder takes bytes as they arrive and yields one
 * event at a time; the encoder frames a payload for sending.
 */
#ifndef KVMSTUB_PACKET_H
#define KVMSTUB_PACKET_H

#include <stddef.h>
#include <stdint.h>

/* The largest payload we take or send: one `m` reply of 64 KiB as hex plus
 * room. PacketSize in qSupported is derived from it. */
#define RSP_MAX_PAYLOAD (0x20000 + 0x400)

enum rsp_event {
	RSP_EVENT_NONE,      /* all input consumed, no event yet */
	RSP_EVENT_PACKET,    /* a whole packet with a good checksum */
	RSP_EVENT_BAD_CHECKSUM, /* a whole packet, checksum wrong: send '-' */
	RSP_EVENT_TOO_LONG,  /* a packet over RSP_MAX_PAYLOAD, dropped whole */
	RSP_EVENT_INTERRUPT, /* 0x03 outside a packet */
	RSP_EVENT_ACK,       /* '+' */
	RSP_EVENT_NAK,       /* '-': resend the last packet */
};

struct rsp_decoder {
	int state;
	uint8_t checksum;   /* running sum of the raw bytes between $ and # */
	uint8_t sent_sum;   /* the two hex digits after # */
	int escape_next;
	int overflow;
	size_t len;
	uint8_t payload[RSP_MAX_PAYLOAD + 1]; /* NUL-terminated after PACKET */
};

void rsp_decoder_init(struct rsp_decoder *d);

/* Consumes bytes from in[0..len) up to and including the first event and
 * returns how many it consumed; *event says what happened. After
 * RSP_EVENT_PACKET, d->payload[0..d->len) holds the payload unescaped and
 * run-length expanded, valid until the next call. Garbage between packets
 * is skipped. */
size_t rsp_decode(struct rsp_decoder *d, const uint8_t *in, size_t len,
		  enum rsp_event *event);

/* The modulo-256 sum of len bytes: a packet's checksum. */
uint8_t rsp_checksum(const uint8_t *p, size_t len);

/* Frames payload as $payload#xx into out, escaping '#', '$', '}' and '*'.
 * Returns the framed length, or 0 if it does not fit in out_size. */
size_t rsp_encode(uint8_t *out, size_t out_size, const uint8_t *payload,
		  size_t len);

#endif
