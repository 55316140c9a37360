/* kvm/pc_control.h — the PC's small system-control ports: POST codes
 * (0x80), system control port B (0x61), the reset control register (0xcf9)
 * and the ACPI PM1a blocks where QEMU has them (q35 at 0x600, PIIX/Bochs
 * at 0xb000), including the PM timer. Pure: each access returns what the
 * machine must do (nothing, reset, power off); no KVM. */
#ifndef KVMSTUB_PC_CONTROL_H
#define KVMSTUB_PC_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#define PC_POST_PORT 0x80
#define PC_PORT_B 0x61
#define PC_RESET_CONTROL 0xcf9
#define PC_PM_BASE 0x600        /* QEMU q35: PM1a_EVT 0x600, PM1a_CNT 0x604, PM_TMR 0x608 */
#define PC_PM_BASE_PIIX 0xb000  /* QEMU PIIX / Bochs: PM1a_CNT 0xb004 */
#define PC_PM1_CNT_OFFSET 4
#define PC_PM_TMR_OFFSET 8
#define PC_PM_TMR_HZ 3579545ULL
#define PC_SLP_EN 0x2000
#define PC_SCI_EN 0x0001
#define PC_SLP_TYP_S5 0 /* the DSDT's \_S5 says 0, as QEMU's does */

enum pc_action { PC_NOTHING, PC_RESET, PC_POWER_OFF };

struct pc_control {
	uint8_t port_b;       /* bits 0-3 as written */
	bool refresh_toggle;  /* bit 4 flips at every read, as DRAM refresh did */
	uint8_t reset_control;
	uint16_t pm1_cnt[2];  /* q35 and PIIX blocks */
	uint16_t pm1_en[2];
};

void pc_control_init(struct pc_control *p);

/* Whether port is one of these. */
bool pc_control_claims(uint16_t port);

/* One access of size bytes at port. For reads *value is set; now_ns is a
 * monotonic clock for the PM timer. */
enum pc_action pc_control_access(struct pc_control *p, uint16_t port, bool is_out,
				 unsigned size, uint32_t *value, uint64_t now_ns);

#endif
