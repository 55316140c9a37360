/* kvm/uart16550.h — the registers of a 16550A UART and its interrupt
 * output, as a pure state machine: register accesses in, bytes to send and
 * the IRQ level out. No file descriptors, no ports, no KVM. */
#ifndef KVMSTUB_UART16550_H
#define KVMSTUB_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_RX_CAPACITY 64

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint16_t divisor;
	uint8_t rx[UART_RX_CAPACITY]; /* bytes received, not yet read by the guest */
	unsigned rx_head, rx_count;
	/* A 16550 of a PC: real IIR/IER interrupt logic and loopback.
	 * Off, the registers behave as the bare machine's always did (IIR
	 * reads "no interrupt", MSR a cable that is always there). */
	bool pc;
	bool thre_pending; /* THR-empty interrupt, until IIR shows it or THR is written */
};

void uart_init(struct uart16550 *u, bool pc);

/* A guest read of register reg (0..7). */
uint8_t uart_read(struct uart16550 *u, unsigned reg);

/* A guest write. Returns true with *tx set when the write sends a byte
 * (THR with DLAB clear, outside loopback mode). */
bool uart_write(struct uart16550 *u, unsigned reg, uint8_t value, uint8_t *tx);

/* Room for received bytes, and the bytes themselves (what does not fit
 * is dropped; callers ask for room first). */
size_t uart_rx_room(const struct uart16550 *u);
void uart_receive(struct uart16550 *u, const uint8_t *bytes, size_t n);

/* Whether the guest enabled THR-empty interrupts (a PC UART only). */
bool uart_irq_enabled_for_tx(const struct uart16550 *u);

/* The level of the UART's interrupt output (IRQ4 for COM1). */
bool uart_irq_level(const struct uart16550 *u);

#endif
