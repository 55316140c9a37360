/* kvm/fw_cfg.h — QEMU's firmware configuration device (fw_cfg), the
 * traditional port interface: a 16-bit selector at 0x510, a byte-wide data
 * port at 0x511. Pure: items are computed from the machine's RAM size and
 * CPU count; no ports, no KVM. */
#ifndef KVMSTUB_FW_CFG_H
#define KVMSTUB_FW_CFG_H

#include <stdint.h>

#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019

struct fw_cfg {
	uint16_t selector;
	uint32_t offset; /* next byte of the selected item */
	uint64_t ram_size;
	uint16_t ncpus, max_cpus;
};

void fw_cfg_init(struct fw_cfg *f, uint64_t ram_size, unsigned ncpus, unsigned max_cpus);
/* Selects an item and rewinds to its first byte. */
void fw_cfg_select(struct fw_cfg *f, uint16_t key);
/* The next byte of the selected item; zero past its end and for items
 * this machine does not have. */
uint8_t fw_cfg_read(struct fw_cfg *f);

#endif
