/* kvm/i8042.c — 8042 controller commands, keyboard commands and the
 * ASCII-to-set-1 keymap of a US keyboard. Pure. */
#include "kvm/i8042.h"

#include <string.h>

#define STATUS_OBF 0x01
#define STATUS_SYS 0x04
#define STATUS_CMD 0x08
#define STATUS_UNLOCKED 0x10 /* keyboard not inhibited by the key lock */

#define CB_KBD_INT 0x01
#define CB_SYS 0x04
#define CB_KBD_DISABLED 0x10
#define CB_XLATE 0x40
/* What a BIOS leaves: keyboard interrupt on, POST passed, translation to
 * set 1 on. */
#define CB_DEFAULT (CB_KBD_INT | CB_SYS | CB_XLATE)

#define KBD_ACK 0xfa
#define KBD_SELF_TEST_OK 0xaa
#define SCAN_LSHIFT 0x2a
#define SCAN_LCTRL 0x1d
#define SCAN_BREAK 0x80

void i8042_init(struct i8042 *k)
{
	memset(k, 0, sizeof(*k));
	k->command_byte = CB_DEFAULT;
	k->scanning = true;
}

static void fifo_push(struct i8042_fifo *f, uint8_t byte)
{
	if (f->count == I8042_QUEUE)
		return; /* a full buffer drops, as the keyboard's own does */
	f->bytes[(f->head + f->count) % I8042_QUEUE] = byte;
	f->count++;
}

static uint8_t fifo_pop(struct i8042_fifo *f)
{
	uint8_t byte = f->bytes[f->head];

	f->head = (f->head + 1) % I8042_QUEUE;
	f->count--;
	return byte;
}

/* An answer to a command of the guest's. */
static void push(struct i8042 *k, uint8_t byte)
{
	fifo_push(&k->answers, byte);
}

/* Whether typed scancodes reach the controller: the keyboard sends while
 * it scans and its port is enabled; otherwise they wait in the keyboard
 * (a real one holds them while the controller inhibits its clock). */
static bool keys_flow(const struct i8042 *k)
{
	return k->scanning && !(k->command_byte & CB_KBD_DISABLED);
}

/* Whether port 0x60 has a byte for the guest. Answers go first: a real
 * controller inhibits the keyboard while it runs a command and the
 * keyboard's bytes wait (a byte cut off mid-transfer is sent again), so a
 * key not yet read cannot stand between a command and its answer. */
static bool has_data(const struct i8042 *k)
{
	return k->answers.count || (k->keys.count && keys_flow(k));
}

uint8_t i8042_read_data(struct i8042 *k)
{
	if (k->answers.count)
		k->last_read = fifo_pop(&k->answers);
	else if (k->keys.count && keys_flow(k))
		k->last_read = fifo_pop(&k->keys);
	/* Nothing waiting: the output buffer still holds the last byte. */
	return k->last_read;
}

uint8_t i8042_read_status(const struct i8042 *k)
{
	return (uint8_t)((has_data(k) ? STATUS_OBF : 0) | (k->command_byte & CB_SYS ? STATUS_SYS : 0) |
			 (k->last_was_command ? STATUS_CMD : 0) | STATUS_UNLOCKED);
}

bool i8042_irq_level(const struct i8042 *k)
{
	return has_data(k) && (k->command_byte & CB_KBD_INT);
}

/* A byte to port 0x60 with no controller command waiting: a command for
 * the keyboard itself. */
static void keyboard_command(struct i8042 *k, uint8_t value)
{
	if (k->pending_kbd) {
		/* The argument of LEDs, typematic rate or scancode set. */
		uint8_t cmd = k->pending_kbd;
		k->pending_kbd = 0;
		push(k, KBD_ACK);
		if (cmd == 0xf0 && value == 0)
			push(k, 0x02); /* set 2, which the controller translates to set 1 */
		return;
	}
	switch (value) {
	case 0xed: /* LEDs */
	case 0xf3: /* typematic rate */
	case 0xf0: /* scancode set */
		k->pending_kbd = value;
		push(k, KBD_ACK);
		return;
	case 0xee: /* echo */
		push(k, 0xee);
		return;
	case 0xf2: /* identify: an MF2 keyboard, as the translating controller shows it */
		push(k, KBD_ACK);
		push(k, 0xab);
		push(k, (k->command_byte & CB_XLATE) ? 0x41 : 0x83);
		return;
	case 0xf4:
		k->scanning = true;
		push(k, KBD_ACK);
		return;
	case 0xf5:
		k->scanning = false;
		push(k, KBD_ACK);
		return;
	case 0xff: /* reset and self-test */
		/* A real keyboard empties its buffer here; ours keeps what was
		 * typed: it is the user's input, and a guest that resets the
		 * keyboard while starting must not lose keys sent early. */
		k->scanning = true;
		push(k, KBD_ACK);
		push(k, KBD_SELF_TEST_OK);
		return;
	default:
		push(k, KBD_ACK);
		return;
	}
}

void i8042_write_data(struct i8042 *k, uint8_t value)
{
	uint8_t cmd = k->pending_command;

	k->last_was_command = false;
	k->pending_command = 0;
	switch (cmd) {
	case 0x60: /* write command byte */
		k->command_byte = value;
		return;
	case 0xd1: /* write output port: bit 0 low holds the CPU in reset */
		if (!(value & 0x01))
			k->reset_requested = true;
		return;
	case 0xd2: /* write keyboard output buffer */
		push(k, value);
		return;
	case 0xd3: /* write aux output buffer, 0xd4 write to aux: no mouse */
	case 0xd4:
		return;
	default:
		keyboard_command(k, value);
	}
}

void i8042_write_command(struct i8042 *k, uint8_t value)
{
	k->last_was_command = true;
	switch (value) {
	case 0x20:
		push(k, k->command_byte);
		return;
	case 0x60:
	case 0xd1:
	case 0xd2:
	case 0xd3:
	case 0xd4:
		k->pending_command = value;
		return;
	case 0xa9: /* aux interface test: there is no aux port */
		push(k, 0xff);
		return;
	case 0xaa: /* controller self-test */
		/* It resets the controller: answers not read are gone (the
		 * output buffer holds 0x55 now); typed keys are the
		 * keyboard's and stay. */
		k->answers.count = 0;
		k->command_byte |= CB_SYS;
		push(k, 0x55);
		return;
	case 0xab: /* keyboard interface test: no error */
		push(k, 0x00);
		return;
	case 0xad:
		k->command_byte |= CB_KBD_DISABLED;
		return;
	case 0xae:
		k->command_byte &= (uint8_t)~CB_KBD_DISABLED;
		return;
	case 0xd0: /* read output port: reset line high, A20 on */
		push(k, 0x03);
		return;
	default:
		/* 0xf0-0xff pulse the output port bits whose mask bit is 0;
		 * bit 0 is the CPU reset line (0xfe: the classic reboot). */
		if (value >= 0xf0 && !(value & 0x01))
			k->reset_requested = true;
		return;
	}
}

unsigned i8042_type_room(const struct i8042 *k)
{
	return keys_flow(k) ? (I8042_QUEUE - k->keys.count) / 4 : 0;
}

/* Set-1 make codes of a US keyboard, unshifted and shifted characters. */
static const char keys_plain[] = "\0\0" "1234567890-=\0\0" "qwertyuiop[]\0\0" "asdfghjkl;'`\0\\" "zxcvbnm,./";
static const char keys_shift[] = "\0\0" "!@#$%^&*()_+\0\0" "QWERTYUIOP{}\0\0" "ASDFGHJKL:\"~\0|" "ZXCVBNM<>?";

/* The make code for ch, and the modifier it needs (0 for none). */
static uint8_t scancode_for(uint8_t ch, uint8_t *modifier)
{
	*modifier = 0;
	switch (ch) {
	case '\n':
	case '\r':
		return 0x1c;
	case '\b':
	case 0x7f:
		return 0x0e;
	case '\t':
		return 0x0f;
	case 0x1b:
		return 0x01;
	case ' ':
		return 0x39;
	default:
		break;
	}
	if (ch == 0)
		return 0;
	for (uint8_t i = 0; i < sizeof(keys_plain) - 1; i++) {
		if (keys_plain[i] == (char)ch)
			return i;
		if (keys_shift[i] == (char)ch) {
			*modifier = SCAN_LSHIFT;
			return i;
		}
	}
	if (ch < 0x20) { /* Ctrl-A .. Ctrl-Z and friends */
		uint8_t mod;
		uint8_t code = scancode_for((uint8_t)(ch | 0x60), &mod);
		*modifier = code ? SCAN_LCTRL : 0;
		return code;
	}
	return 0;
}

bool i8042_type_ascii(struct i8042 *k, uint8_t ch)
{
	uint8_t modifier;
	uint8_t code = scancode_for(ch, &modifier);

	if (!code)
		return false;
	if (modifier)
		fifo_push(&k->keys, modifier);
	fifo_push(&k->keys, code);
	fifo_push(&k->keys, code | SCAN_BREAK);
	if (modifier)
		fifo_push(&k->keys, modifier | SCAN_BREAK);
	return true;
}
