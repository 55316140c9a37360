/* kvm/devices.c — the port map: which device answers which port, input
 * from stdin to COM1 or the keyboard, interrupt levels to the irq_line,
 * output buffering and the live VGA view. The devices' registers live in
 * their own modules; no KVM here: the run loop passes each access in. */
#include "kvm/devices.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm/fwtables.h"
#include "kvm/report.h"

#define COM1_BASE 0x3f8
#define DEBUGCON_PORT 0xe9
#define EXIT_PORT 0xf4
#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71
#define KBC_DATA_PORT 0x60
#define KBC_STATUS_PORT 0x64
#define FW_CFG_SELECTOR_PORT 0x510
#define FW_CFG_DATA_PORT 0x511

/* The live screen takes the terminal's first 25 rows (on the alternate
 * screen); serial output scrolls in the rows below it. */
#define LIVE_ENTER "\033[?1049h\033[2J\033[27r\033[27;1H"
#define LIVE_LEAVE "\033[r\033[?1049l"
/* At most ~30 redraws a second: a guest that rewrites its screen all the
 * time must not flood the terminal. */
#define LIVE_MIN_INTERVAL_NS 30000000ULL

static void set_irq(struct devices *d, unsigned irq, bool level);

void devices_init(struct devices *d, const struct devices_config *config)
{
	unsigned n = config->nconsole_ports;

	memset(d, 0, sizeof(*d));
	d->out_fd = config->out_fd;
	d->in_fd = config->in_fd;
	d->trace_io = config->trace_io;
	d->pc = config->pc;
	d->keyboard = config->keyboard;
	d->vga = config->vga;
	d->no_reboot = config->no_reboot;
	if (n > DEVICES_MAX_CONSOLE_PORTS)
		n = DEVICES_MAX_CONSOLE_PORTS;
	d->nconsole_ports = n;
	if (n)
		memcpy(d->console_ports, config->console_ports, n * sizeof(config->console_ports[0]));
	d->input_closed = config->in_fd < 0;
	d->config_ram_size = config->ram_size;
	d->ncpus = config->ncpus ? config->ncpus : 1;
	d->live_vga = config->vga && isatty(config->out_fd);
	cmos_init(&d->cmos, d->config_ram_size, d->ncpus);
	devices_reset(d);
}

void devices_reset(struct devices *d)
{
	uart_init(&d->uart, d->pc);
	cmos_reset(&d->cmos, d->config_ram_size, d->ncpus);
	i8042_init(&d->kbc);
	pc_control_init(&d->control);
	fw_cfg_init(&d->fw_cfg, d->config_ram_size, d->ncpus, FWTABLES_MAX_CPUS);
	vga_init(&d->vga_regs);
	d->exit_requested = d->reset_requested = false;
	d->exit_status = 0;
	for (unsigned irq = 0; irq < 16; irq++)
		if (d->irq.set && d->irq_level[irq])
			set_irq(d, irq, false);
}

void devices_set_irq_line(struct devices *d, struct irq_line line)
{
	d->irq = line;
	memset(d->irq_level, 0, sizeof(d->irq_level));
}

void devices_set_ram(struct devices *d, const uint8_t *ram, uint64_t ram_size)
{
	d->ram = ram;
	d->ram_size = ram_size;
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

/* Writes bytes that must not mix with buffered output (screens). */
static int output_now(struct devices *d, const char *bytes, size_t len)
{
	int err = devices_flush(d);

	for (size_t done = 0; !err && done < len;) {
		ssize_t n = write(d->out_fd, bytes + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return err;
}

/* Takes up to max bytes that stdin has right now, without waiting: the
 * vCPU must never block on a guest polling its UART or keyboard. */
static size_t read_input(struct devices *d, uint8_t *buf, size_t max)
{
	struct pollfd pfd = { .fd = d->in_fd, .events = POLLIN };
	ssize_t n;

	if (d->input_closed || !max)
		return 0;
	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	n = read(d->in_fd, buf, max);
	if (n <= 0) {
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			d->input_closed = true;
		return 0;
	}
	return (size_t)n;
}

/* COM1 takes input only when its buffer is empty, as it always has. */
static void uart_fill(struct devices *d)
{
	uint8_t buf[UART_RX_CAPACITY];

	if (d->keyboard || d->uart.rx_count)
		return;
	uart_receive(&d->uart, buf, read_input(d, buf, uart_rx_room(&d->uart)));
}

/* The keyboard types what stdin has, a character at a time, while it
 * sends keys and has room for their scancodes; the rest waits in stdin. */
static void keyboard_fill(struct devices *d)
{
	uint8_t buf[I8042_QUEUE / 4];
	unsigned room = d->keyboard ? i8042_type_room(&d->kbc) : 0;

	if (!room)
		return;
	size_t n = read_input(d, buf, room);
	for (size_t i = 0; i < n; i++)
		(void)i8042_type_ascii(&d->kbc, buf[i]);
}

static bool has_keyboard_controller(const struct devices *d)
{
	return d->pc || d->keyboard;
}

static void set_irq(struct devices *d, unsigned irq, bool level)
{
	if (d->irq_level[irq] == level)
		return;
	d->irq_level[irq] = level;
	d->irq.set(d->irq.ctx, irq, level);
}

/* Tells the interrupt controller the lines that changed. */
static void update_irqs(struct devices *d)
{
	if (!d->irq.set)
		return;
	set_irq(d, DEVICES_COM1_IRQ, uart_irq_level(&d->uart));
	if (has_keyboard_controller(d))
		set_irq(d, DEVICES_KEYBOARD_IRQ, i8042_irq_level(&d->kbc));
}

static void request_reset(struct devices *d)
{
	d->reset_requested = true;
	d->exit_requested = true;
	d->exit_status = 0;
}

static void request_power_off(struct devices *d)
{
	d->exit_requested = true;
	d->exit_status = 0;
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

static uint64_t clock_ns(clockid_t clock, struct timespec *ts)
{
	clock_gettime(clock, ts);
	return (uint64_t)ts->tv_sec * 1000000000ULL + (uint64_t)ts->tv_nsec;
}

/* One byte at one port of the PC's byte-wide devices (CMOS, i8042, VGA).
 * Returns false when no such device answers the port. */
static bool pc_byte_access(struct devices *d, uint16_t port, bool is_out, uint8_t *byte)
{
	struct timespec now;

	if (d->pc && (port == CMOS_INDEX_PORT || port == CMOS_DATA_PORT)) {
		if (port == CMOS_INDEX_PORT && is_out)
			cmos_write_index(&d->cmos, *byte);
		else if (port == CMOS_INDEX_PORT)
			*byte = 0xff; /* the index register is write-only */
		else if (is_out)
			cmos_write_data(&d->cmos, *byte);
		else {
			(void)clock_ns(CLOCK_REALTIME, &now);
			*byte = cmos_read_data(&d->cmos, &now);
		}
		return true;
	}
	if (has_keyboard_controller(d) && (port == KBC_DATA_PORT || port == KBC_STATUS_PORT)) {
		if (port == KBC_DATA_PORT && is_out) {
			i8042_write_data(&d->kbc, *byte);
		} else if (is_out) {
			i8042_write_command(&d->kbc, *byte);
		} else if (port == KBC_STATUS_PORT) {
			keyboard_fill(d);
			*byte = i8042_read_status(&d->kbc);
		} else {
			*byte = i8042_read_data(&d->kbc);
			/* The next byte is a new interrupt: an edge for the PIC. */
			if (d->irq.set && d->irq_level[DEVICES_KEYBOARD_IRQ])
				set_irq(d, DEVICES_KEYBOARD_IRQ, false);
			keyboard_fill(d);
		}
		if (d->kbc.reset_requested)
			request_reset(d);
		return true;
	}
	if ((d->pc || d->vga) && vga_claims(port)) {
		vga_port_io(&d->vga_regs, port, is_out, byte);
		return true;
	}
	return false;
}

static void fw_cfg_access(struct devices *d, uint16_t port, bool is_out, unsigned size,
			  uint8_t *unit)
{
	if (port == FW_CFG_SELECTOR_PORT) {
		if (is_out)
			fw_cfg_select(&d->fw_cfg, (uint16_t)value_of(unit, size));
		else
			memset(unit, 0, size);
		return;
	}
	/* The data port gives successive bytes of the item, also to a
	 * wider read; writes are ignored, as QEMU has done since 2.4. */
	for (unsigned i = 0; i < size; i++)
		if (!is_out)
			unit[i] = fw_cfg_read(&d->fw_cfg);
}

/* One access of one unit (1, 2 or 4 bytes) on the PC's ports. Returns
 * false when none of them answers. */
static bool pc_access(struct devices *d, uint16_t port, bool is_out, unsigned size,
		      uint8_t *unit)
{
	if (d->pc && (port == FW_CFG_SELECTOR_PORT || port == FW_CFG_DATA_PORT)) {
		fw_cfg_access(d, port, is_out, size, unit);
		return true;
	}
	if (d->pc && pc_control_claims(port)) {
		struct timespec now;
		uint32_t value = value_of(unit, size);
		enum pc_action action = pc_control_access(&d->control, port, is_out, size, &value,
							  clock_ns(CLOCK_MONOTONIC, &now));
		if (!is_out)
			memcpy(unit, &value, size);
		if (action == PC_RESET)
			request_reset(d);
		else if (action == PC_POWER_OFF)
			request_power_off(d);
		return true;
	}
	/* Byte-wide devices: a wider access reaches the next ports too, as
	 * on the ISA bus (outw to 0x3d4 sets the CRTC index and data). */
	uint8_t probe = unit[0];
	if (!pc_byte_access(d, port, is_out, &probe))
		return false;
	unit[0] = probe;
	for (unsigned i = 1; i < size; i++)
		if (!pc_byte_access(d, (uint16_t)(port + i), is_out, &unit[i]))
			unit[i] = 0xff;
	return true;
}

static int uart_access(struct devices *d, unsigned reg, bool is_out, unsigned size,
		       uint8_t *unit)
{
	uint8_t tx;

	if (is_out)
		return uart_write(&d->uart, reg, unit[0], &tx) ? output_byte(d, tx) : 0;
	/* Wider accesses to the UART act on its first byte. */
	if (reg == 0 || reg == 5)
		uart_fill(d);
	memset(unit, 0, size);
	unit[0] = uart_read(&d->uart, reg);
	return 0;
}

/* One access of one unit (1, 2 or 4 bytes). */
static int port_access(struct devices *d, uint16_t port, bool is_out,
		       unsigned size, uint8_t *unit)
{
	if (port >= COM1_BASE && port < COM1_BASE + 8)
		return uart_access(d, port - COM1_BASE, is_out, size, unit);
	if (port == EXIT_PORT && is_out) {
		/* isa-debug-exit: status (v << 1) | 1, as an 8-bit exit code. */
		d->exit_requested = true;
		d->exit_status = (int)(((value_of(unit, size) << 1) | 1) & 0xff);
		return 0;
	}
	if (pc_access(d, port, is_out, size, unit))
		return 0;
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
	update_irqs(d);
	if (d->trace_io)
		trace_access(port, is_out, size, count, data);
	return 0;
}

bool devices_uart_tx_interrupts(const struct devices *d)
{
	return d->irq.set && uart_irq_enabled_for_tx(&d->uart);
}

static const uint8_t *vga_cells(const struct devices *d)
{
	if (!d->ram || d->ram_size < VGA_TEXT_BASE + VGA_TEXT_BYTES)
		return NULL;
	return d->ram + VGA_TEXT_BASE;
}

/* The guest's cursor cell, or one past the screen when it is off. */
static unsigned shown_cursor(const struct devices *d)
{
	if (d->vga_regs.crtc[0x0a] & 0x20)
		return VGA_COLS * VGA_ROWS;
	return vga_cursor(&d->vga_regs);
}

static int redraw_live_vga(struct devices *d)
{
	const uint8_t *cells = vga_cells(d);
	static const char enter[] = LIVE_ENTER;
	char frame[VGA_FRAME_MAX];
	unsigned cursor = shown_cursor(d);
	int err;

	struct timespec now;
	uint64_t now_ns = clock_ns(CLOCK_MONOTONIC, &now);

	if (!cells || (d->live_started && now_ns - d->live_drawn_ns < LIVE_MIN_INTERVAL_NS))
		return 0;
	if (d->live_started && cursor == d->shown_cursor &&
	    memcmp(cells, d->shown, VGA_TEXT_BYTES) == 0)
		return 0;
	if (!d->live_started) {
		err = output_now(d, enter, sizeof(enter) - 1);
		if (err)
			return err;
		d->live_started = true;
	}
	memcpy(d->shown, cells, VGA_TEXT_BYTES);
	d->shown_cursor = cursor;
	d->live_drawn_ns = now_ns;
	return output_now(d, frame, vga_render_frame(d->shown, cursor, frame, sizeof(frame)));
}

int devices_poll(struct devices *d)
{
	if (d->irq.set) {
		uart_fill(d);
		keyboard_fill(d);
		update_irqs(d);
	}
	if (d->live_vga)
		return redraw_live_vga(d);
	return devices_flush(d);
}

size_t devices_screen_text(const struct devices *d, char *out, size_t cap)
{
	const uint8_t *cells = vga_cells(d);

	if (!cells) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	return vga_render_text(cells, out, cap);
}

int devices_finish(struct devices *d)
{
	static const char leave[] = LIVE_LEAVE;
	char text[VGA_TEXT_MAX];
	int err = devices_flush(d);

	if (err || !d->vga)
		return err;
	if (d->live_started) {
		err = output_now(d, leave, sizeof(leave) - 1);
		d->live_started = false;
		if (err)
			return err;
	}
	return output_now(d, text, devices_screen_text(d, text, sizeof(text)));
}
