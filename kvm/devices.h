/* kvm/devices.h — the guest's port I/O devices: COM1 16550 UART, debugcon
 * (0xe9), the exit device (0xf4) and extra console ports.
 *
 * Devices see bytes and ports, never KVM: the run loop hands them each
 * access. Output goes to one file descriptor, input comes from another. */
#ifndef KVMSTUB_DEVICES_H
#define KVMSTUB_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEVICES_MAX_CONSOLE_PORTS 16
#define DEVICES_OUT_BUFFER 4096

struct uart16550 {
	uint8_t ier, lcr, mcr, scr, fcr;
	uint16_t divisor;
	uint8_t rx[64]; /* bytes read from input, not yet taken by the guest */
	unsigned rx_head, rx_count;
	bool input_closed;
};

struct devices {
	int out_fd;
	int in_fd; /* -1: no input */
	bool trace_io;
	unsigned nconsole_ports;
	uint16_t console_ports[DEVICES_MAX_CONSOLE_PORTS];
	struct uart16550 uart;
	size_t out_len;
	uint8_t out[DEVICES_OUT_BUFFER];
	bool exit_requested;
	int exit_status;
};

void devices_init(struct devices *d, int out_fd, int in_fd, bool trace_io,
		  const uint16_t *console_ports, unsigned nconsole_ports);

/* One port access of `size` bytes, repeated `count` times over data
 * (count*size bytes, as KVM lays out string I/O). Returns 0, or -EPIPE
 * when the output is gone. Sets exit_requested when the guest wrote the
 * exit device. */
int devices_port_io(struct devices *d, uint16_t port, bool is_out,
		    unsigned size, unsigned count, uint8_t *data);

/* Writes buffered output; returns 0 or a negative errno (-EPIPE). */
int devices_flush(struct devices *d);

#endif
