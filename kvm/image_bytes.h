/* kvm/image_bytes.h — what the parsers of image files (kvm/loader.c: ELF;
 * kvm/bootinfo.c: Multiboot, Multiboot2, PVH) and the builders of guest
 * structures (kvm/fwtables.c) share: little-endian fields read and
 * written byte by byte (never through a cast pointer), and one-line error
 * messages. Pure: no files, no printing. */
#ifndef KVMSTUB_IMAGE_BYTES_H
#define KVMSTUB_IMAGE_BYTES_H

#include <stddef.h>
#include <stdint.h>

static inline uint16_t image_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static inline uint32_t image_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t image_le64(const uint8_t *p)
{
	return (uint64_t)image_le32(p) | (uint64_t)image_le32(p + 4) << 32;
}

static inline void image_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void image_put_le32(uint8_t *p, uint32_t v)
{
	image_put_le16(p, (uint16_t)v);
	image_put_le16(p + 2, (uint16_t)(v >> 16));
}

static inline void image_put_le64(uint8_t *p, uint64_t v)
{
	image_put_le32(p, (uint32_t)v);
	image_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* Formats the message into err (nothing when err is NULL or err_size 0),
 * every control character turned into '?' so it stays one printable line
 * even when it quotes a file name or an argument. */
void image_error(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
