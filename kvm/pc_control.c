/* kvm/pc_control.c — POST port, port 0x61, reset control at 0xcf9, ACPI
 * PM1 event/control blocks and the PM timer. Pure. */
#include "kvm/pc_control.h"

#include <string.h>

#define PORT_B_WRITABLE 0x0f  /* timer 2 gate, speaker data, parity/IOCHK enables */
#define PORT_B_TIMER2_GATE 0x01
#define PORT_B_REFRESH 0x10
#define PORT_B_TIMER2_OUT 0x20
#define RESET_CONTROL_RST_CPU 0x04
#define RESET_CONTROL_KEPT 0x0e

void pc_control_init(struct pc_control *p)
{
	memset(p, 0, sizeof(*p));
	/* SCI_EN: the FADT has no SMI command port, so the machine is in
	 * ACPI mode from the start, as the spec asks of such a machine. */
	p->pm1_cnt[0] = p->pm1_cnt[1] = PC_SCI_EN;
}

/* Which PM block (0 q35, 1 PIIX) and the offset in it, or -1. */
static int pm_block(uint16_t port, unsigned *offset)
{
	if (port >= PC_PM_BASE && port < PC_PM_BASE + 12) {
		*offset = port - PC_PM_BASE;
		return 0;
	}
	if (port >= PC_PM_BASE_PIIX && port < PC_PM_BASE_PIIX + 12) {
		*offset = port - PC_PM_BASE_PIIX;
		return 1;
	}
	return -1;
}

bool pc_control_claims(uint16_t port)
{
	unsigned offset;

	return port == PC_POST_PORT || port == PC_PORT_B || port == PC_RESET_CONTROL ||
	       pm_block(port, &offset) >= 0;
}

/* Port 0x61 without the in-kernel PIT's own copy of it: timer 2's output
 * cannot be known here, so it reads high whenever the gate is on (a
 * one-shot count that has run out). Calibration loops waiting for it end. */
static uint8_t read_port_b(struct pc_control *p)
{
	p->refresh_toggle = !p->refresh_toggle;
	return (uint8_t)((p->port_b & PORT_B_WRITABLE) | (p->refresh_toggle ? PORT_B_REFRESH : 0) |
			 ((p->port_b & PORT_B_TIMER2_GATE) ? PORT_B_TIMER2_OUT : 0));
}

/* The PM1 registers as one little-endian window: EVT status (0-1),
 * EVT enable (2-3), CNT (4-5), timer (8-11). */
static enum pc_action pm_access(struct pc_control *p, int block, unsigned offset, bool is_out,
				unsigned size, uint32_t *value, uint64_t now_ns)
{
	/* Split in seconds and the rest, so no product overflows. */
	uint64_t ticks = (now_ns / 1000000000ULL) * PC_PM_TMR_HZ +
			 (now_ns % 1000000000ULL) * PC_PM_TMR_HZ / 1000000000ULL;
	uint32_t timer = (uint32_t)ticks & 0xffffff;
	uint8_t window[12];
	enum pc_action action = PC_NOTHING;

	memset(window, 0, sizeof(window));
	window[2] = (uint8_t)p->pm1_en[block];
	window[3] = (uint8_t)(p->pm1_en[block] >> 8);
	window[4] = (uint8_t)p->pm1_cnt[block];
	window[5] = (uint8_t)(p->pm1_cnt[block] >> 8);
	for (unsigned i = 0; i < 4; i++)
		window[8 + i] = (uint8_t)(timer >> (8 * i));
	if (!is_out) {
		*value = 0;
		for (unsigned i = 0; i < size && offset + i < sizeof(window); i++)
			*value |= (uint32_t)window[offset + i] << (8 * i);
		return PC_NOTHING;
	}
	for (unsigned i = 0; i < size && offset + i < sizeof(window); i++)
		window[offset + i] = (uint8_t)(*value >> (8 * i));
	p->pm1_en[block] = (uint16_t)(window[2] | window[3] << 8);
	uint16_t cnt = (uint16_t)(window[4] | window[5] << 8);
	if (offset + size > 4 && offset < 6 && (cnt & PC_SLP_EN)) {
		/* SLP_EN is write-only: it acts, it is not kept. */
		if (((cnt >> 10) & 7) == PC_SLP_TYP_S5)
			action = PC_POWER_OFF;
		cnt &= (uint16_t)~PC_SLP_EN;
	}
	p->pm1_cnt[block] = cnt;
	return action;
}

enum pc_action pc_control_access(struct pc_control *p, uint16_t port, bool is_out,
				 unsigned size, uint32_t *value, uint64_t now_ns)
{
	unsigned offset;
	int block = pm_block(port, &offset);

	if (block >= 0)
		return pm_access(p, block, offset, is_out, size, value, now_ns);
	switch (port) {
	case PC_PORT_B:
		if (is_out)
			p->port_b = (uint8_t)(*value & PORT_B_WRITABLE);
		else
			*value = read_port_b(p);
		return PC_NOTHING;
	case PC_RESET_CONTROL:
		if (!is_out) {
			*value = p->reset_control;
			return PC_NOTHING;
		}
		/* RST_CPU set starts the reset (0x06 soft, 0x0e hard). */
		p->reset_control = (uint8_t)(*value & RESET_CONTROL_KEPT & ~RESET_CONTROL_RST_CPU);
		return (*value & RESET_CONTROL_RST_CPU) ? PC_RESET : PC_NOTHING;
	default: /* POST codes: written, never read back */
		if (!is_out)
			*value = 0xffffffff;
		return PC_NOTHING;
	}
}
