/* tests/unit/test_vga.c — kvm/vga: the register ports keep what is
 * written (CRTC cursor location, attribute flip-flop), and the renderer
 * turns cells into plain text (trimmed, CP437 frames as UTF-8, '.' for the
 * rest) and into a terminal frame. */
#include "kvm/vga.h"

#include <string.h>

#include "tests/unit/check.h"

static struct vga v;
static uint8_t cells[VGA_TEXT_BYTES];
static char text[VGA_TEXT_MAX];
static char frame[VGA_FRAME_MAX];

static void put(unsigned row, unsigned col, const char *s)
{
	for (unsigned i = 0; s[i]; i++) {
		cells[(row * VGA_COLS + col + i) * 2] = (uint8_t)s[i];
		cells[(row * VGA_COLS + col + i) * 2 + 1] = 0x07;
	}
}

static void blank(uint8_t ch)
{
	for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++) {
		cells[2 * i] = ch;
		cells[2 * i + 1] = 0x07;
	}
}

static void out8(uint16_t port, uint8_t value)
{
	vga_port_io(&v, port, true, &value);
}

static uint8_t in8(uint16_t port)
{
	uint8_t value = 0xee;
	vga_port_io(&v, port, false, &value);
	return value;
}

static void test_crtc_keeps_cursor_location(void)
{
	vga_init(&v);
	out8(0x3d4, 0x0e);
	out8(0x3d5, 0x01);
	out8(0x3d4, 0x0f);
	out8(0x3d5, 0x40);
	CHECK_EQ(vga_cursor(&v), 0x0140);
	out8(0x3d4, 0x0e);
	CHECK_EQ(in8(0x3d4), 0x0e);
	CHECK_EQ(in8(0x3d5), 0x01);
	/* the monochrome CRTC ports reach the same registers */
	out8(0x3b4, 0x0f);
	CHECK_EQ(in8(0x3b5), 0x40);
}

static void test_claims_the_vga_ports_only(void)
{
	CHECK(vga_claims(0x3d4));
	CHECK(vga_claims(0x3d5));
	CHECK(vga_claims(0x3c0));
	CHECK(vga_claims(0x3cf));
	CHECK(vga_claims(0x3da));
	CHECK(!vga_claims(0x3f8));
	CHECK(!vga_claims(0x3d0));
	CHECK(!vga_claims(0x3bf));
}

static void test_attribute_port_alternates_index_and_data(void)
{
	vga_init(&v);
	(void)in8(0x3da); /* resets the flip-flop */
	out8(0x3c0, 0x10);
	out8(0x3c0, 0x01);
	CHECK_EQ(v.attr[0x10], 0x01);
	out8(0x3c0, 0x11);
	(void)in8(0x3da);
	out8(0x3c0, 0x12);
	out8(0x3c0, 0x0f);
	CHECK_EQ(v.attr[0x12], 0x0f);
	CHECK_EQ(v.attr[0x11], 0);
}

static void test_input_status_retrace_bit_alternates(void)
{
	vga_init(&v);
	uint8_t a = in8(0x3da), b = in8(0x3da);
	CHECK((a ^ b) & 0x08);
}

static void test_sequencer_graphics_and_misc_keep_values(void)
{
	vga_init(&v);
	out8(0x3c4, 0x02);
	out8(0x3c5, 0x03);
	CHECK_EQ(in8(0x3c5), 0x03);
	out8(0x3ce, 0x05);
	out8(0x3cf, 0x10);
	CHECK_EQ(in8(0x3cf), 0x10);
	out8(0x3c2, 0x63);
	CHECK_EQ(in8(0x3cc), 0x63);
}

static void test_render_blank_screen_is_empty(void)
{
	blank(' ');
	CHECK_EQ(vga_render_text(cells, text, sizeof(text)), 0);
	CHECK_EQ(text[0], 0);
	blank(0);
	CHECK_EQ(vga_render_text(cells, text, sizeof(text)), 0);
}

static void test_render_trims_trailing_spaces_and_lines_but_keeps_inner_blank_lines(void)
{
	blank(' ');
	put(0, 0, "Hello");
	put(2, 4, "world  x");
	vga_render_text(cells, text, sizeof(text));
	CHECK(strcmp(text, "Hello\n\n    world  x\n") == 0);
}

static void test_render_full_row_and_last_row(void)
{
	char want[VGA_COLS + 2];
	blank(' ');
	for (unsigned i = 0; i < VGA_COLS; i++)
		want[i] = (char)('a' + i % 26);
	want[VGA_COLS] = '\n';
	want[VGA_COLS + 1] = 0;
	for (unsigned i = 0; i < VGA_COLS; i++)
		cells[(24 * VGA_COLS + i) * 2] = (uint8_t)want[i];
	size_t n = vga_render_text(cells, text, sizeof(text));
	CHECK_EQ(n, 24 + VGA_COLS + 1);
	CHECK(strcmp(text + 24, want) == 0);
}

static void test_render_maps_cp437_frames_to_utf8_and_others_to_dot(void)
{
	blank(' ');
	cells[0] = 0xc9; /* ╔ */
	cells[2] = 0xcd; /* ═ */
	cells[4] = 0xbb; /* ╗ */
	cells[6] = 0xb3; /* │ */
	cells[8] = 0xdb; /* █ */
	cells[10] = 0x01; /* a smiley: no plain-text twin */
	cells[12] = 0xe1; /* ß in CP437 */
	cells[14] = 0x7f;
	vga_render_text(cells, text, sizeof(text));
	CHECK(strcmp(text, "\xe2\x95\x94\xe2\x95\x90\xe2\x95\x97\xe2\x94\x82\xe2\x96\x88...\n") == 0);
}

static void test_worst_case_screen_fits(void)
{
	blank(0xc4);
	size_t n = vga_render_text(cells, text, sizeof(text));
	CHECK_EQ(n, VGA_ROWS * (VGA_COLS * 3 + 1));
	CHECK(n < sizeof(text));
	for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++) {
		cells[2 * i] = 0xc4;
		cells[2 * i + 1] = (uint8_t)i;
	}
	n = vga_render_frame(cells, 0, frame, sizeof(frame));
	CHECK(n < sizeof(frame));
	CHECK(n > VGA_COLS * VGA_ROWS * 3);
}

static void test_small_buffers_get_nothing(void)
{
	char small[16];
	blank('x');
	CHECK_EQ(vga_render_text(cells, small, sizeof(small)), 0);
	CHECK_EQ(small[0], 0);
	CHECK_EQ(vga_render_frame(cells, 0, small, sizeof(small)), 0);
}

static void test_frame_has_colours_cursor_and_restores_terminal_cursor(void)
{
	blank(' ');
	put(0, 0, "A");
	cells[1] = 0x1e; /* yellow on blue */
	size_t n = vga_render_frame(cells, 1, frame, sizeof(frame));
	frame[n] = 0;
	CHECK(strncmp(frame, "\0337\033[H", 5) == 0);
	CHECK(strstr(frame, "\033[0;93;44mA") != NULL);
	CHECK(strstr(frame, "\033[0;37;40;7m ") != NULL);
	CHECK(strcmp(frame + n - 2, "\0338") == 0);
}

int main(void)
{
	RUN(test_crtc_keeps_cursor_location);
	RUN(test_claims_the_vga_ports_only);
	RUN(test_attribute_port_alternates_index_and_data);
	RUN(test_input_status_retrace_bit_alternates);
	RUN(test_sequencer_graphics_and_misc_keep_values);
	RUN(test_render_blank_screen_is_empty);
	RUN(test_render_trims_trailing_spaces_and_lines_but_keeps_inner_blank_lines);
	RUN(test_render_full_row_and_last_row);
	RUN(test_render_maps_cp437_frames_to_utf8_and_others_to_dot);
	RUN(test_worst_case_screen_fits);
	RUN(test_small_buffers_get_nothing);
	RUN(test_frame_has_colours_cursor_and_restores_terminal_cursor);
	return check_summary();
}
