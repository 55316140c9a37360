/* kvm/vga.c — VGA register ports that keep what is written, and text
 * screens rendered from the 80x25 cell buffer. Pure. */
#include "kvm/vga.h"

#include <stdio.h>
#include <string.h>

#define CRTC_CURSOR_START 0x0a
#define CRTC_CURSOR_HI 0x0e
#define CRTC_CURSOR_LO 0x0f
#define MISC_COLOR 0x01 /* I/O at 0x3dx, not 0x3bx */

void vga_init(struct vga *v)
{
	memset(v, 0, sizeof(*v));
	v->misc = 0x67; /* colour, RAM enabled, 28 MHz clock: 80x25 text */
	v->crtc[CRTC_CURSOR_START] = 0x0d;
	v->crtc[0x0b] = 0x0e;
	v->attr[0x10] = 0x0c; /* mode control: text, line graphics */
}

bool vga_claims(uint16_t port)
{
	return (port >= 0x3c0 && port <= 0x3cf) || port == 0x3b4 || port == 0x3b5 ||
	       port == 0x3ba || port == 0x3d4 || port == 0x3d5 || port == 0x3da;
}

static void status_read(struct vga *v, uint8_t *value)
{
	/* Reading input status 1 resets the attribute flip-flop; the
	 * retrace bits alternate so that "wait for retrace" loops end. */
	v->attr_expect_data = false;
	v->retrace = !v->retrace;
	*value = v->retrace ? 0x09 : 0x00;
}

void vga_port_io(struct vga *v, uint16_t port, bool is_out, uint8_t *value)
{
	switch (port) {
	case 0x3b4:
	case 0x3d4:
		if (is_out)
			v->crtc_index = *value;
		else
			*value = v->crtc_index;
		return;
	case 0x3b5:
	case 0x3d5:
		if (is_out)
			v->crtc[v->crtc_index % sizeof(v->crtc)] = *value;
		else
			*value = v->crtc[v->crtc_index % sizeof(v->crtc)];
		return;
	case 0x3ba:
	case 0x3da:
		if (!is_out)
			status_read(v, value);
		return;
	case 0x3c0:
		if (!is_out) {
			*value = v->attr_index;
		} else if (v->attr_expect_data) {
			v->attr[v->attr_index % sizeof(v->attr)] = *value;
			v->attr_expect_data = false;
		} else {
			v->attr_index = *value & 0x3f;
			v->attr_expect_data = true;
		}
		return;
	case 0x3c1:
		if (!is_out)
			*value = v->attr[v->attr_index % sizeof(v->attr)];
		return;
	case 0x3c2:
		if (is_out)
			v->misc = *value;
		else
			*value = 0; /* input status 0 */
		return;
	case 0x3cc:
		if (!is_out)
			*value = v->misc;
		return;
	case 0x3c4:
		if (is_out)
			v->seq_index = *value;
		else
			*value = v->seq_index;
		return;
	case 0x3c5:
		if (is_out)
			v->seq[v->seq_index % sizeof(v->seq)] = *value;
		else
			*value = v->seq[v->seq_index % sizeof(v->seq)];
		return;
	case 0x3ce:
		if (is_out)
			v->gc_index = *value;
		else
			*value = v->gc_index;
		return;
	case 0x3cf:
		if (is_out)
			v->gc[v->gc_index % sizeof(v->gc)] = *value;
		else
			*value = v->gc[v->gc_index % sizeof(v->gc)];
		return;
	case 0x3c7: /* DAC read index; reads the DAC state */
		if (is_out)
			v->dac_read = *value;
		else
			*value = v->dac_state;
		return;
	case 0x3c8:
		if (is_out)
			v->dac_write = *value;
		else
			*value = v->dac_write;
		return;
	default: /* palette data, feature control, the rest: kept nowhere */
		if (!is_out)
			*value = 0;
		return;
	}
}

unsigned vga_cursor(const struct vga *v)
{
	return (unsigned)v->crtc[CRTC_CURSOR_HI] << 8 | v->crtc[CRTC_CURSOR_LO];
}

/* CP437 0xb0-0xdf (shades, box drawing, blocks) as Unicode: the
 * characters text-mode kernels draw frames with. */
static const uint16_t cp437_b0[48] = {
	0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562, 0x2556,
	0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510,
	0x2514, 0x2534, 0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f,
	0x255a, 0x2554, 0x2569, 0x2566, 0x2560, 0x2550, 0x256c, 0x2567,
	0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
	0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580,
};

/* One character cell as text; returns the bytes written (1 to 3). */
static size_t put_char(uint8_t ch, char *out)
{
	if (ch >= 0x20 && ch < 0x7f) {
		out[0] = (char)ch;
		return 1;
	}
	if (ch == 0) {
		out[0] = ' ';
		return 1;
	}
	if (ch >= 0xb0 && ch <= 0xdf) {
		uint16_t u = cp437_b0[ch - 0xb0];
		out[0] = (char)(0xe0 | (u >> 12));
		out[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		out[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	out[0] = '.';
	return 1;
}

size_t vga_render_text(const uint8_t cells[VGA_TEXT_BYTES], char *out, size_t cap)
{
	size_t len = 0, kept = 0; /* kept: the length up to the last non-empty line */

	if (cap < VGA_TEXT_MAX) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	for (unsigned row = 0; row < VGA_ROWS; row++) {
		size_t line_start = len, line_end = len;
		for (unsigned col = 0; col < VGA_COLS; col++) {
			uint8_t ch = cells[(row * VGA_COLS + col) * 2];
			len += put_char(ch, out + len);
			if (ch != ' ' && ch != 0)
				line_end = len;
		}
		len = line_end;
		out[len++] = '\n';
		if (line_end > line_start)
			kept = len;
	}
	out[kept] = '\0';
	return kept;
}

/* VGA colour numbers to ANSI ones (VGA: blue is 1, ANSI: red is 1). */
static const uint8_t vga_to_ansi[8] = { 0, 4, 2, 6, 1, 5, 3, 7 };

size_t vga_render_frame(const uint8_t cells[VGA_TEXT_BYTES], unsigned cursor, char *out,
			size_t cap)
{
	size_t len = 0;
	int last_attr = -1;

	if (cap < VGA_FRAME_MAX) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	len += (size_t)snprintf(out + len, cap - len, "\0337\033[H");
	for (unsigned row = 0; row < VGA_ROWS; row++) {
		for (unsigned col = 0; col < VGA_COLS; col++) {
			const uint8_t *cell = cells + (row * VGA_COLS + col) * 2;
			bool at_cursor = row * VGA_COLS + col == cursor;
			if (cell[1] != last_attr || at_cursor) {
				unsigned fg = cell[1] & 0x0f, bg = (cell[1] >> 4) & 0x07;
				len += (size_t)snprintf(out + len, cap - len, "\033[0;%u;%u%sm",
							(fg & 8 ? 90 : 30) + vga_to_ansi[fg & 7],
							40 + vga_to_ansi[bg], at_cursor ? ";7" : "");
				last_attr = at_cursor ? -1 : cell[1];
			}
			len += put_char(cell[0], out + len);
		}
		len += (size_t)snprintf(out + len, cap - len, "\033[0m\r\n");
		last_attr = -1;
	}
	/* The guest's cursor is drawn in reverse video, not as the
	 * terminal's: serial output below the screen keeps its position. */
	len += (size_t)snprintf(out + len, cap - len, "\0338");
	return len;
}
