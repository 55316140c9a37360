/* kvm/vga.h — VGA text mode: the register ports a text-mode kernel writes
 * (CRTC at 0x3d4/0x3d5 and 0x3b4/0x3b5, 0x3c0-0x3cf, input status 0x3da)
 * keep what is written, and a renderer turns the 80x25 cells at 0xb8000
 * (ordinary guest RAM) into text. Pure: buffers in, bytes out. */
#ifndef KVMSTUB_VGA_H
#define KVMSTUB_VGA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VGA_TEXT_BASE 0xb8000
#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_TEXT_BYTES (VGA_COLS * VGA_ROWS * 2)
/* Room for a rendered screen: each cell at most 3 UTF-8 bytes, plus
 * newlines; or a live frame with colour escapes. */
#define VGA_TEXT_MAX (VGA_ROWS * (VGA_COLS * 3 + 1) + 1)
#define VGA_FRAME_MAX (VGA_ROWS * (VGA_COLS * 16 + 16) + 64)

struct vga {
	uint8_t crtc_index, crtc[32];
	uint8_t seq_index, seq[8];
	uint8_t gc_index, gc[16];
	uint8_t attr_index, attr[32];
	bool attr_expect_data; /* 0x3c0 alternates index and data */
	uint8_t misc;
	uint8_t dac_read, dac_write, dac_state;
	bool retrace;          /* 0x3da toggles, so retrace waits end */
};

void vga_init(struct vga *v);
bool vga_claims(uint16_t port);
/* One byte-wide access; reads set *value. */
void vga_port_io(struct vga *v, uint16_t port, bool is_out, uint8_t *value);

/* The cursor's cell (CRTC 0x0e/0x0f), and whether it is shown. */
unsigned vga_cursor(const struct vga *v);

/* The screen as plain text: 25 lines of 80 cells, trailing spaces and
 * trailing empty lines left out, each line ending in '\n'. Printable
 * ASCII as is, CP437 line and block characters as UTF-8, a NUL cell as a
 * space, anything else as '.'. Returns the length written (< cap; out is
 * NUL-terminated); cap must be at least VGA_TEXT_MAX. */
size_t vga_render_text(const uint8_t cells[VGA_TEXT_BYTES], char *out, size_t cap);

/* A whole screen for a terminal: the terminal's cursor saved, each row
 * with its colours (ANSI SGR), the guest's cursor cell in reverse video,
 * the terminal's cursor restored; cap at least VGA_FRAME_MAX. */
size_t vga_render_frame(const uint8_t cells[VGA_TEXT_BYTES], unsigned cursor, char *out,
			size_t cap);

#endif
