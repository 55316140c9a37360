/* kvm/fw_cfg.c — fw_cfg items as byte strings, read one byte at a time.
 * Without DMA (the ID item says so) and with an empty file directory. */
#include "kvm/fw_cfg.h"

#include <string.h>

#define FW_CFG_ITEM_MAX 16

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, unsigned ncpus, unsigned max_cpus)
{
	memset(f, 0, sizeof(*f));
	f->ram_size = ram_size;
	f->ncpus = (uint16_t)ncpus;
	f->max_cpus = (uint16_t)(max_cpus < ncpus ? ncpus : max_cpus);
}

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	f->selector = key;
	f->offset = 0;
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The selected item's bytes; returns its length. */
static unsigned item_bytes(const struct fw_cfg *f, uint8_t out[FW_CFG_ITEM_MAX])
{
	memset(out, 0, FW_CFG_ITEM_MAX);
	switch (f->selector) {
	case FW_CFG_SIGNATURE:
		memcpy(out, "QEMU", 4);
		return 4;
	case FW_CFG_ID:
		put_le(out, 1, 4); /* the traditional interface only, no DMA */
		return 4;
	case FW_CFG_RAM_SIZE:
		put_le(out, f->ram_size, 8);
		return 8;
	case FW_CFG_NB_CPUS:
		put_le(out, f->ncpus, 2);
		return 2;
	case FW_CFG_MAX_CPUS:
		put_le(out, f->max_cpus, 2);
		return 2;
	case FW_CFG_FILE_DIR:
		return 4; /* a big-endian count of zero files */
	default:
		return 0;
	}
}

uint8_t fw_cfg_read(struct fw_cfg *f)
{
	uint8_t bytes[FW_CFG_ITEM_MAX];
	unsigned len = item_bytes(f, bytes);

	if (f->offset >= len)
		return 0;
	return bytes[f->offset++];
}
