/* tests/unit/test_devices.c — kvm/devices: which device answers which
 * port on the bare machine and on a PC, stdin reaching COM1 or the
 * keyboard with their interrupts, resets and power-off as requests, and
 * the final VGA screen. Input and output are pipes; the irq_line is a
 * recorder. */
#include "kvm/devices.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/check.h"

#define RAM_SIZE (1024 * 1024)

static struct devices d;
static int in_pipe[2], out_pipe[2];
static uint8_t ram[RAM_SIZE];

struct irq_record {
	unsigned n;
	unsigned irq[64];
	bool level[64];
	bool now[16];
};
static struct irq_record rec;

static void record_irq(void *ctx, unsigned irq, bool level)
{
	struct irq_record *r = ctx;
	if (r->n < 64) {
		r->irq[r->n] = irq;
		r->level[r->n] = level;
		r->n++;
	}
	r->now[irq] = level;
}

static void setup(bool pc, bool keyboard, bool vga)
{
	static const uint16_t console[] = { 0xf1 };
	if (in_pipe[0] > 0) {
		close(in_pipe[0]);
		close(in_pipe[1]);
		close(out_pipe[0]);
		close(out_pipe[1]);
	}
	if (pipe(in_pipe) || pipe(out_pipe))
		return;
	fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
	struct devices_config c = {
		.out_fd = out_pipe[1], .in_fd = in_pipe[0],
		.console_ports = console, .nconsole_ports = 1,
		.pc = pc, .keyboard = keyboard, .vga = vga,
		.ram_size = 64 << 20, .ncpus = 2,
	};
	devices_init(&d, &c);
	memset(ram, 0, sizeof(ram));
	devices_set_ram(&d, ram, sizeof(ram));
	memset(&rec, 0, sizeof(rec));
	if (pc)
		devices_set_irq_line(&d, (struct irq_line){ record_irq, &rec });
}

static uint8_t in8(uint16_t port)
{
	uint8_t v = 0;
	devices_port_io(&d, port, false, 1, 1, &v);
	return v;
}

static void out8(uint16_t port, uint8_t v)
{
	devices_port_io(&d, port, true, 1, 1, &v);
}

static void out16(uint16_t port, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	devices_port_io(&d, port, true, 2, 1, b);
}

static size_t output(char *buf, size_t cap)
{
	devices_flush(&d);
	ssize_t n = read(out_pipe[0], buf, cap - 1);
	n = n < 0 ? 0 : n;
	buf[n] = '\0';
	return (size_t)n;
}

static void type_input(const char *s)
{
	(void)!write(in_pipe[1], s, strlen(s));
}

static void test_bare_machine_has_no_pc_ports(void)
{
	static const uint16_t ports[] = { 0x70, 0x71, 0x60, 0x64, 0x61, 0xcf9, 0x510, 0x511,
					  0x604, 0xb004, 0x3d5, 0x80 };
	setup(false, false, false);
	for (unsigned i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		CHECK_EQ(in8(ports[i]), 0xff);
	out8(0xcf9, 0x06);
	out16(0x604, 0x2000);
	out8(0x64, 0xfe);
	CHECK(!d.exit_requested);
	CHECK(!d.reset_requested);
}

static void test_bare_uart_reads_stdin_on_lsr_and_never_interrupts(void)
{
	setup(false, false, false);
	out8(0x3f9, 0x03);
	CHECK_EQ(in8(0x3fa), 0x01);
	type_input("ok");
	CHECK_EQ(in8(0x3fd) & 1, 1);
	CHECK_EQ(in8(0x3f8), 'o');
	CHECK_EQ(in8(0x3f8), 'k');
	CHECK_EQ(in8(0x3fd) & 1, 0);
	CHECK_EQ(rec.n, 0);
}

static void test_uart_output_and_console_ports_reach_stdout(void)
{
	char buf[64];
	setup(false, false, false);
	out8(0x3f8, 'a');
	out8(0xe9, 'b');
	out8(0xf1, 'c');
	out8(0xf2, 'x');
	output(buf, sizeof(buf));
	CHECK(strcmp(buf, "abc") == 0);
}

static void test_exit_device_sets_status(void)
{
	setup(true, false, false);
	out8(0xf4, 0x10);
	CHECK(d.exit_requested);
	CHECK_EQ(d.exit_status, 0x21);
	CHECK(!d.reset_requested);
}

static void test_pc_stdin_polled_while_running_raises_irq4(void)
{
	setup(true, false, false);
	out8(0x3f9, 0x01); /* received-data interrupt */
	CHECK(!rec.now[4]);
	type_input("k");
	devices_poll(&d);
	CHECK(rec.now[4]);
	CHECK_EQ(in8(0x3fa), 0x04);
	CHECK_EQ(in8(0x3f8), 'k');
	CHECK(!rec.now[4]);
}

static void test_pc_thr_empty_interrupt_follows_iir_reads(void)
{
	setup(true, false, false);
	out8(0x3f9, 0x02);
	CHECK(rec.now[4]);
	CHECK_EQ(in8(0x3fa), 0x02);
	CHECK(!rec.now[4]);
	out8(0x3f8, '!');
	CHECK(rec.now[4]);
}

static void test_thr_writes_must_exit_only_while_thr_empty_interrupts_can_be_delivered(void)
{
	setup(true, false, false);
	CHECK(!devices_uart_tx_interrupts(&d));
	out8(0x3f9, 0x02);
	CHECK(devices_uart_tx_interrupts(&d));
	out8(0x3f9, 0x01);
	CHECK(!devices_uart_tx_interrupts(&d));
	setup(false, false, false);
	out8(0x3f9, 0x02);
	CHECK(!devices_uart_tx_interrupts(&d));
}

static void test_cmos_reads_memory_size_and_ignores_nmi_bit(void)
{
	setup(true, false, false);
	out8(0x70, 0x80 | 0x15);
	CHECK(d.cmos.nmi_disabled);
	CHECK_EQ(in8(0x71), 0x80);
	out8(0x70, 0x16);
	CHECK(!d.cmos.nmi_disabled);
	CHECK_EQ(in8(0x71), 0x02);
	out8(0x70, 0x0d);
	CHECK_EQ(in8(0x71), 0x80);
}

static void test_fw_cfg_ports_give_signature_and_cpu_count(void)
{
	uint8_t sel[2] = { 0x00, 0x00 };
	char sig[5] = { 0 };
	setup(true, false, false);
	devices_port_io(&d, 0x510, true, 2, 1, sel);
	for (int i = 0; i < 4; i++)
		sig[i] = (char)in8(0x511);
	CHECK(strcmp(sig, "QEMU") == 0);
	out16(0x510, 0x0005);
	CHECK_EQ(in8(0x511), 2);
	CHECK_EQ(in8(0x511), 0);
	uint8_t ram_size[4];
	out16(0x510, 0x0003);
	devices_port_io(&d, 0x511, false, 1, 4, ram_size); /* rep insb */
	CHECK_EQ(ram_size[3], 0x04); /* 64 MiB = 0x04000000 */
}

static void test_reset_control_0xcf9_requests_a_reset(void)
{
	setup(true, false, false);
	out8(0xcf9, 0x02);
	CHECK(!d.exit_requested);
	out8(0xcf9, 0x06);
	CHECK(d.reset_requested);
	CHECK(d.exit_requested);
	CHECK_EQ(d.exit_status, 0);
}

static void test_keyboard_controller_0xfe_requests_a_reset(void)
{
	setup(true, false, false);
	out8(0x64, 0xfe);
	CHECK(d.reset_requested);
	CHECK_EQ(d.exit_status, 0);
}

static void test_acpi_power_off_at_0x604_and_0xb004_ends_with_status_0(void)
{
	setup(true, false, false);
	out16(0x604, 0x2000);
	CHECK(d.exit_requested);
	CHECK(!d.reset_requested);
	CHECK_EQ(d.exit_status, 0);
	setup(true, false, false);
	out16(0xb004, 0x2000);
	CHECK(d.exit_requested);
	setup(true, false, false);
	out16(0x604, 0x0400 | 0x2000); /* SLP_TYP 1: a sleep state, not off */
	CHECK(!d.exit_requested);
}

static void test_keyboard_mode_types_stdin_as_scancodes_with_irq1_edges(void)
{
	setup(true, true, false);
	type_input("aB");
	devices_poll(&d);
	CHECK(rec.now[1]);
	CHECK_EQ(in8(0x64) & 1, 1);
	static const uint8_t want[] = { 0x1e, 0x9e, 0x2a, 0x30, 0xb0, 0xaa };
	for (unsigned i = 0; i < sizeof(want); i++) {
		unsigned before = rec.n;
		CHECK_EQ(in8(0x60), want[i]);
		if (i + 1 < sizeof(want)) {
			/* lowered and raised again: one edge per byte */
			CHECK_EQ(rec.n, before + 2);
			CHECK(rec.now[1]);
		}
	}
	CHECK(!rec.now[1]);
	CHECK_EQ(in8(0x64) & 1, 0);
	/* the UART got nothing */
	CHECK_EQ(in8(0x3fd) & 1, 0);
}

static void test_keyboard_option_on_bare_machine_adds_the_controller_only(void)
{
	setup(false, true, false);
	type_input("q");
	CHECK_EQ(in8(0x64) & 1, 1);
	CHECK_EQ(in8(0x60), 0x10);
	CHECK_EQ(in8(0x70), 0xff);
}

static void test_reset_clears_registers_requests_and_lowers_lines(void)
{
	setup(true, false, false);
	out8(0x3f9, 0x02); /* THR-empty interrupt: IRQ4 high */
	out8(0x3fb, 0x03);
	out8(0x3d4, 0x0e);
	out8(0x3d5, 0x12);
	out8(0xcf9, 0x06);
	CHECK(d.reset_requested);
	CHECK(rec.now[4]);
	devices_reset(&d);
	CHECK(!d.reset_requested);
	CHECK(!d.exit_requested);
	CHECK(!rec.now[4]);
	CHECK_EQ(in8(0x3f9), 0);
	CHECK_EQ(in8(0x3fb), 0);
	CHECK_EQ(vga_cursor(&d.vga_regs), 0);
	out8(0x70, 0x15);
	CHECK_EQ(in8(0x71), 0x80); /* the CMOS still knows the RAM */
	out16(0x510, 0x0005);
	CHECK_EQ(in8(0x511), 2);
	out8(0x64, 0xfe); /* and resets again */
	CHECK(d.reset_requested);
}

static void test_vga_word_write_sets_crtc_index_and_data(void)
{
	setup(true, false, false);
	out16(0x3d4, 0x070e); /* index 0x0e, value 0x07 */
	out16(0x3d4, 0xd00f);
	CHECK_EQ(vga_cursor(&d.vga_regs), 0x07d0);
	out8(0x3d4, 0x0f);
	CHECK_EQ(in8(0x3d5), 0xd0);
}

static void test_vga_final_screen_is_printed_as_plain_text(void)
{
	char buf[4096];
	setup(false, false, true);
	out8(0x3f8, '>');
	const char *msg = "Hello VGA";
	for (unsigned i = 0; msg[i]; i++) {
		ram[0xb8000 + 2 * i] = (uint8_t)msg[i];
		ram[0xb8000 + 2 * i + 1] = 0x1f;
	}
	ram[0xb8000 + 160] = 0xc9; /* a frame corner */
	CHECK_EQ(devices_finish(&d), 0);
	output(buf, sizeof(buf));
	CHECK(strcmp(buf, ">Hello VGA\n\xe2\x95\x94\n") == 0);
}

static void test_screen_text_is_available_without_vga_and_empty_without_the_ram(void)
{
	char text[VGA_TEXT_MAX];
	setup(true, false, false);
	ram[0xb8000] = 'O';
	ram[0xb8002] = 'K';
	CHECK_EQ(devices_screen_text(&d, text, sizeof(text)), 3);
	CHECK(strcmp(text, "OK\n") == 0);
	devices_set_ram(&d, ram, 0xb8000 + 100);
	CHECK_EQ(devices_screen_text(&d, text, sizeof(text)), 0);
	CHECK_EQ(text[0], 0);
}

static void test_without_vga_finish_prints_no_screen(void)
{
	char buf[64];
	setup(true, false, false);
	ram[0xb8000] = 'X';
	devices_finish(&d);
	CHECK_EQ(output(buf, sizeof(buf)), 0);
}

int main(void)
{
	RUN(test_bare_machine_has_no_pc_ports);
	RUN(test_bare_uart_reads_stdin_on_lsr_and_never_interrupts);
	RUN(test_uart_output_and_console_ports_reach_stdout);
	RUN(test_exit_device_sets_status);
	RUN(test_pc_stdin_polled_while_running_raises_irq4);
	RUN(test_pc_thr_empty_interrupt_follows_iir_reads);
	RUN(test_thr_writes_must_exit_only_while_thr_empty_interrupts_can_be_delivered);
	RUN(test_cmos_reads_memory_size_and_ignores_nmi_bit);
	RUN(test_fw_cfg_ports_give_signature_and_cpu_count);
	RUN(test_reset_control_0xcf9_requests_a_reset);
	RUN(test_keyboard_controller_0xfe_requests_a_reset);
	RUN(test_acpi_power_off_at_0x604_and_0xb004_ends_with_status_0);
	RUN(test_keyboard_mode_types_stdin_as_scancodes_with_irq1_edges);
	RUN(test_keyboard_option_on_bare_machine_adds_the_controller_only);
	RUN(test_reset_clears_registers_requests_and_lowers_lines);
	RUN(test_vga_word_write_sets_crtc_index_and_data);
	RUN(test_vga_final_screen_is_printed_as_plain_text);
	RUN(test_screen_text_is_available_without_vga_and_empty_without_the_ram);
	RUN(test_without_vga_finish_prints_no_screen);
	return check_summary();
}
