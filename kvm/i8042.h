/* kvm/i8042.h — the PC's keyboard controller (8042) at ports 0x60 (data)
 * and 0x64 (status/command), with a keyboard behind it that types ASCII as
 * set-1 scancodes. Pure: bytes in, bytes and the IRQ1 level out; the reset
 * line is a flag the caller turns into a machine reset. */
#ifndef KVMSTUB_I8042_H
#define KVMSTUB_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define I8042_QUEUE 64

struct i8042_fifo {
	uint8_t bytes[I8042_QUEUE];
	unsigned head, count;
};

struct i8042 {
	/* Answers to the guest's own commands, controller's and keyboard's,
	 * in the order asked: they come before any typed key the guest has
	 * not read yet. */
	struct i8042_fifo answers;
	/* Scancodes typed, held in the keyboard while its port is disabled
	 * or it does not scan. */
	struct i8042_fifo keys;
	uint8_t last_read;        /* port 0x60 with nothing waiting reads this again */
	uint8_t command_byte;
	uint8_t pending_command;  /* controller command awaiting its data byte */
	uint8_t pending_kbd;      /* keyboard command awaiting its argument */
	bool last_was_command;    /* status bit 3: the last write went to 0x64 */
	bool scanning;            /* the keyboard sends keys (0xf4/0xf5) */
	bool reset_requested;     /* the guest pulsed the CPU reset line */
};

void i8042_init(struct i8042 *k);
uint8_t i8042_read_data(struct i8042 *k);
uint8_t i8042_read_status(const struct i8042 *k);
void i8042_write_data(struct i8042 *k, uint8_t value);
void i8042_write_command(struct i8042 *k, uint8_t value);

/* How many characters the keyboard takes now: none while its port is
 * disabled or it does not scan (they wait where they are, unread), else
 * as many as its buffer has room for at four scancodes each. */
unsigned i8042_type_room(const struct i8042 *k);
/* Types one ASCII character: make and break codes, with Shift or Ctrl
 * around them where the character needs it. Returns false for a byte no
 * key produces (it is dropped). */
bool i8042_type_ascii(struct i8042 *k, uint8_t ch);

/* The level of IRQ1: a byte the guest can read is waiting and the
 * command byte enables the keyboard interrupt. */
bool i8042_irq_level(const struct i8042 *k);

#endif
