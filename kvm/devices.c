/* kvm/devices.c — port I/O devices: COM1 16550, debugcon, exit device,
 * console ports. No KVM here: the run loop passes each access in. */
#include "kvm/devices.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kvm/report.h"

#define COM1_BASE 0x3f8
#define DEBUGCON_PORT 0xe9
#define EXIT_PORT 0xf4

#define UART_LCR_DLAB 0x80
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40
#define UART_IIR_NO_INT 0x01
#define UART_MSR_IDLE 0xb0 /* DCD, DSR, CTS: a cable that is always there */

void devices_init(struct devices *d, int out_fd, int in_fd, bool trace_io,
		  const uint16_t *console_ports, unsigned nconsole_ports)
{
	memset(d, 0, sizeof(*d));
	d->out_fd = out_fd;
	d->in_fd = in_fd;
	d->trace_io = trace_io;
	if (nconsole_ports > DEVICES_MAX_CONSOLE_PORTS)
		nconsole_ports = DEVICES_MAX_CONSOLE_PORTS;
	d->nconsole_ports = nconsole_ports;
	memcpy(d->console_ports, console_ports,
	       nconsole_ports * sizeof(console_ports[0]));
	d->uart.input_closed = in_fd < 0;
}

int devices_flush(struct devices *d)
{
	size_t done = 0;

	while (done < d->out_len) {
		ssize_t n = write(d->out_fd, d->out + done, d->out_len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			d->out_len = 0;
			return -errno;
		}
		done += (size_t)n;
	}
	d->out_len = 0;
	return 0;
}

static int output_byte(struct devices *d, uint8_t byte)
{
	if (d->out_len == sizeof(d->out)) {
		int err = devices_flush(d);
		if (err)
			return err;
	}
	d->out[d->out_len++] = byte;
	return 0;
}

/* Takes what stdin has right now, without waiting: the vCPU must never
 * block on a guest polling its UART. */
static void uart_fill_rx(struct uart16550 *u, int in_fd)
{
	struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
	uint8_t buf[sizeof(u->rx)];
	ssize_t n;

	if (u->input_closed || u->rx_count)
		return;
	if (poll(&pfd, 1, 0) <= 0)
		return;
	n = read(in_fd, buf, sizeof(buf));
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			u->input_closed = true;
		return;
	}
	memcpy(u->rx, buf, (size_t)n);
	u->rx_head = 0;
	u->rx_count = (unsigned)n;
}

static uint8_t uart_read(struct devices *d, unsigned reg)
{
	struct uart16550 *u = &d->uart;
	bool dlab = u->lcr & UART_LCR_DLAB;
	uint8_t byte;

	switch (reg) {
	case 0:
		if (dlab)
			return (uint8_t)u->divisor;
		uart_fill_rx(u, d->in_fd);
		if (!u->rx_count)
			return 0;
		byte = u->rx[u->rx_head++];
		u->rx_count--;
		return byte;
	case 1:
		return dlab ? (uint8_t)(u->divisor >> 8) : u->ier;
	case 2:
		/* FIFOs enabled show in the top bits, as a 16550A does. */
		return UART_IIR_NO_INT | ((u->fcr & 1) ? 0xc0 : 0);
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		uart_fill_rx(u, d->in_fd);
		return UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
	case 6:
		return UART_MSR_IDLE;
	default:
		return u->scr;
	}
}

static int uart_write(struct devices *d, unsigned reg, uint8_t value)
{
	struct uart16550 *u = &d->uart;
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case 0:
		if (dlab) {
			u->divisor = (uint16_t)((u->divisor & 0xff00) | value);
			return 0;
		}
		return output_byte(d, value);
	case 1:
		if (dlab)
			u->divisor = (uint16_t)((u->divisor & 0x00ff) | (value << 8));
		else
			u->ier = value;
		return 0;
	case 2:
		u->fcr = value;
		return 0;
	case 3:
		u->lcr = value;
		return 0;
	case 4:
		u->mcr = value;
		return 0;
	case 7:
		u->scr = value;
		return 0;
	default:
		return 0; /* LSR and MSR are read-only on a 16550 */
	}
}

static bool is_console_port(const struct devices *d, uint16_t port)
{
	for (unsigned i = 0; i < d->nconsole_ports; i++)
		if (d->console_ports[i] == port)
			return true;
	return false;
}

static uint32_t value_of(const uint8_t *data, unsigned size)
{
	uint32_t v = 0;
	memcpy(&v, data, size > 4 ? 4 : size);
	return v;
}

static void trace_access(uint16_t port, bool is_out, unsigned size,
			 unsigned count, const uint8_t *data)
{
	if (count == 1) {
		kvm_report("io: %s port=0x%x size=%u count=1 value=0x%0*x",
			   is_out ? "out" : "in", port, size, (int)size * 2,
			   value_of(data, size));
		return;
	}
	char hex[2 * 64 + 4];
	size_t total = (size_t)size * count, shown = total > 64 ? 64 : total;
	for (size_t i = 0; i < shown; i++)
		snprintf(hex + 2 * i, 3, "%02x", data[i]);
	if (shown < total)
		strcpy(hex + 2 * shown, "...");
	kvm_report("io: %s port=0x%x size=%u count=%u data=%s",
		   is_out ? "out" : "in", port, size, count, hex);
}

/* One access of one unit (1, 2 or 4 bytes). Wider accesses to byte
 * devices act on the first byte, as the low byte lane does on a PC. */
static int port_access(struct devices *d, uint16_t port, bool is_out,
		       unsigned size, uint8_t *unit)
{
	if (port >= COM1_BASE && port < COM1_BASE + 8) {
		if (is_out)
			return uart_write(d, port - COM1_BASE, unit[0]);
		memset(unit, 0, size);
		unit[0] = uart_read(d, port - COM1_BASE);
		return 0;
	}
	if (port == EXIT_PORT && is_out) {
		/* isa-debug-exit: status (v << 1) | 1, as an 8-bit exit code. */
		d->exit_requested = true;
		d->exit_status = (int)(((value_of(unit, size) << 1) | 1) & 0xff);
		return 0;
	}
	if (is_out) {
		if (port == DEBUGCON_PORT || is_console_port(d, port))
			return output_byte(d, unit[0]);
		return 0; /* unknown OUT ports are ignored */
	}
	memset(unit, 0xff, size); /* unknown IN ports float high */
	return 0;
}

int devices_port_io(struct devices *d, uint16_t port, bool is_out,
		    unsigned size, unsigned count, uint8_t *data)
{
	if (size != 1 && size != 2 && size != 4)
		return -EINVAL;
	for (unsigned i = 0; i < count && !d->exit_requested; i++) {
		int err = port_access(d, port, is_out, size, data + (size_t)i * size);
		if (err)
			return err;
	}
	if (d->trace_io)
		trace_access(port, is_out, size, count, data);
	return 0;
}
