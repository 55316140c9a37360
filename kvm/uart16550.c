/* kvm/uart16550.c — a 16550A UART's registers and interrupt logic.
 * Pure: the caller feeds received bytes and sends what THR gets. */
#include "kvm/uart16550.h"

#include <string.h>

#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* THR empty */
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO_ON 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_IDLE (MSR_DCD | MSR_DSR | MSR_CTS) /* a cable that is always there */

void uart_init(struct uart16550 *u, bool pc)
{
	memset(u, 0, sizeof(*u));
	u->pc = pc;
}

size_t uart_rx_room(const struct uart16550 *u)
{
	return UART_RX_CAPACITY - u->rx_count;
}

void uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n && u->rx_count < UART_RX_CAPACITY; i++) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_CAPACITY] = bytes[i];
		u->rx_count++;
	}
}

static bool rx_interrupt(const struct uart16550 *u)
{
	return (u->ier & IER_RDI) && u->rx_count;
}

static bool thre_interrupt(const struct uart16550 *u)
{
	return (u->ier & IER_THRI) && u->thre_pending;
}

bool uart_irq_enabled_for_tx(const struct uart16550 *u)
{
	return u->pc && (u->ier & IER_THRI);
}

/* OUT2 does not gate the output: QEMU's 16550 does not, and kernels
 * written for QEMU that never set it expect their interrupts. Linux and
 * most hobby kernels set OUT2, so they see no difference. */
bool uart_irq_level(const struct uart16550 *u)
{
	return u->pc && (rx_interrupt(u) || thre_interrupt(u));
}

/* Reading IIR acknowledges a THR-empty interrupt it reports (16550 data
 * sheet); received data stays pending until RBR is read empty. */
static uint8_t read_iir(struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & FCR_ENABLE) ? IIR_FIFO_ON : 0;

	if (!u->pc)
		return IIR_NO_INT | fifo;
	if (rx_interrupt(u))
		return IIR_RDI | fifo;
	if (thre_interrupt(u)) {
		u->thre_pending = false;
		return IIR_THRI | fifo;
	}
	return IIR_NO_INT | fifo;
}

static uint8_t read_msr(const struct uart16550 *u)
{
	uint8_t m = u->mcr;

	if (!u->pc || !(m & MCR_LOOP))
		return MSR_IDLE;
	/* Loopback wires the modem outputs to the inputs; drivers probe a
	 * UART this way (RTS|OUT2 must read back as CTS|DCD). */
	return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
			 ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
}

uint8_t uart_read(struct uart16550 *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;
	uint8_t byte;

	switch (reg & 7) {
	case 0:
		if (dlab)
			return (uint8_t)u->divisor;
		if (!u->rx_count)
			return 0;
		byte = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_RX_CAPACITY;
		u->rx_count--;
		return byte;
	case 1:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case 2:
		return read_iir(u);
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		/* Bytes leave at once, so the transmitter is always empty. */
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case 6:
		return read_msr(u);
	default:
		return u->scr;
	}
}

bool uart_write(struct uart16550 *u, unsigned reg, uint8_t value, uint8_t *tx)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg & 7) {
	case 0:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | value);
			return false;
		}
		/* The byte leaves at once and THR is empty again: a new
		 * THR-empty interrupt, as after each character on a 16550. */
		u->thre_pending = true;
		if (u->pc && (u->mcr & MCR_LOOP)) {
			uart_receive(u, &value, 1);
			return false;
		}
		*tx = value;
		return true;
	case 1:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (value << 8));
			return false;
		}
		u->ier = u->pc ? (value & 0x0f) : value;
		/* Enabling THR-empty interrupts while THR is empty raises one
		 * at once (Linux's serial driver relies on it). */
		u->thre_pending = true;
		return false;
	case 2:
		u->fcr = value;
		if (u->pc && (value & FCR_CLEAR_RX))
			u->rx_count = u->rx_head = 0;
		return false;
	case 3:
		u->lcr = value;
		return false;
	case 4:
		u->mcr = u->pc ? (value & 0x1f) : value;
		return false;
	case 7:
		u->scr = value;
		return false;
	default:
		return false; /* LSR and MSR are read-only on a 16550 */
	}
}
