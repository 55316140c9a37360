/* kvm/devices.h — the guest's port I/O devices, dispatched by port: COM1
 * 16550 UART, debugcon (0xe9), the exit device (0xf4) and extra console
 * ports on every machine; on a PC also CMOS/RTC, the i8042 keyboard
 * controller, POST/port B/reset control/ACPI power-off, fw_cfg and the
 * VGA registers, with interrupts raised through an irq_line.
 *
 * Devices see bytes and ports, never KVM: the run loop hands them each
 * access. Output goes to one file descriptor, input comes from another. */
#ifndef KVMSTUB_DEVICES_H
#define KVMSTUB_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/cmos.h"
#include "kvm/fw_cfg.h"
#include "kvm/i8042.h"
#include "kvm/pc_control.h"
#include "kvm/uart16550.h"
#include "kvm/vga.h"

#define DEVICES_MAX_CONSOLE_PORTS 16
#define DEVICES_OUT_BUFFER 4096
#define DEVICES_COM1_IRQ 4
#define DEVICES_KEYBOARD_IRQ 1

/* How a device raises or lowers an ISA IRQ line (the pc machine drives
 * KVM_IRQ_LINE with it). A NULL set: no interrupt controller. */
struct irq_line {
	void (*set)(void *ctx, unsigned irq, bool level);
	void *ctx;
};

struct devices_config {
	int out_fd;
	int in_fd; /* -1: no input */
	bool trace_io;
	const uint16_t *console_ports;
	unsigned nconsole_ports;
	/* The PC's devices (CMOS, i8042, fw_cfg, port B, reset control,
	 * ACPI power-off, VGA registers) and the UART's interrupt logic.
	 * Off: the bare machine, exactly as it always was. */
	bool pc;
	bool keyboard;  /* stdin types on the i8042 keyboard instead of COM1 */
	bool vga;       /* show the text screen: live on a terminal, at the end */
	bool no_reboot; /* a reset ends the guest (status 0) */
	uint64_t ram_size;
	unsigned ncpus;
};


struct devices {
	int out_fd;
	int in_fd;
	bool trace_io;
	bool pc, keyboard, vga, no_reboot;
	uint64_t config_ram_size; /* for the CMOS and fw_cfg at a reset */
	unsigned ncpus;
	unsigned nconsole_ports;
	uint16_t console_ports[DEVICES_MAX_CONSOLE_PORTS];
	struct irq_line irq;
	bool irq_level[16]; /* what the irq_line was last told */
	bool input_closed;
	struct uart16550 uart;
	struct cmos cmos;
	struct i8042 kbc;
	struct pc_control control;
	struct fw_cfg fw_cfg;
	struct vga vga_regs;
	/* Guest RAM, for the VGA text buffer (set by the machine). */
	const uint8_t *ram;
	uint64_t ram_size;
	bool live_vga; /* --vga and stdout is a terminal */
	bool live_started;
	uint8_t shown[VGA_TEXT_BYTES]; /* the screen the terminal shows */
	unsigned shown_cursor;
	uint64_t live_drawn_ns; /* CLOCK_MONOTONIC of the last redraw */
	size_t out_len;
	uint8_t out[DEVICES_OUT_BUFFER];
	/* The guest asked to end (exit_status holds the status) or to be
	 * reset. A reset sets exit_requested too, with status 0: the run
	 * loop that can restart the guest checks reset_requested first and
	 * restarts unless no_reboot; one that cannot ends it with status 0. */
	bool exit_requested;
	bool reset_requested;
	int exit_status;
};

void devices_init(struct devices *d, const struct devices_config *config);

/* The devices as at power-on, for a guest restarted after a reset: the
 * registers, queued input and the exit/reset requests are cleared; the
 * configuration, the irq_line (its lines lowered), the RAM, the buffered
 * output and the CMOS's battery-backed RAM (as on a PC) stay. */
void devices_reset(struct devices *d);

/* Gives the devices the interrupt controller's lines. */
void devices_set_irq_line(struct devices *d, struct irq_line line);

/* Guest RAM, where the VGA text buffer lives. */
void devices_set_ram(struct devices *d, const uint8_t *ram, uint64_t ram_size);

/* One port access of `size` bytes, repeated `count` times over data
 * (count*size bytes, as KVM lays out string I/O). Returns 0, or -EPIPE
 * when the output is gone. Sets exit_requested when the guest wrote the
 * exit device, reset or powered off. */
int devices_port_io(struct devices *d, uint16_t port, bool is_out,
		    unsigned size, unsigned count, uint8_t *data);

/* Called now and then while the vCPU runs (the run loop's 10 ms tick):
 * takes waiting input (raising the COM1 or keyboard interrupt) and
 * redraws a live VGA screen that changed. Returns 0 or -EPIPE. */
int devices_poll(struct devices *d);

/* Whether COM1 THR writes must reach the UART at once (each one raises a
 * THR-empty interrupt the guest waits for), so they cannot be queued in
 * KVM's coalesced ring until the next exit. */
bool devices_uart_tx_interrupts(const struct devices *d);

/* Writes buffered output; returns 0 or a negative errno (-EPIPE). */
int devices_flush(struct devices *d);

/* The VGA text screen as plain text (vga_render_text's format), e.g. for
 * `monitor screen`; cap at least VGA_TEXT_MAX. Returns its length, 0 when
 * guest RAM does not reach the text buffer. */
size_t devices_screen_text(const struct devices *d, char *out, size_t cap);

/* The guest has ended: with --vga, leaves the live view and prints the
 * final screen as plain text. Returns 0 or a negative errno. */
int devices_finish(struct devices *d);

#endif
