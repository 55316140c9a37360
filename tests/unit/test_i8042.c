/* tests/unit/test_i8042.c — kvm/i8042: status register, command byte,
 * self-tests, enabling and disabling the keyboard, keyboard commands and
 * their acknowledgements, the reset line, ASCII typed as set-1 make and
 * break codes, and answers to commands ahead of keys typed earlier. */
#include "kvm/i8042.h"

#include <string.h>

#include "tests/unit/check.h"

static struct i8042 k;

static void expect_bytes(const uint8_t *want, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		CHECK_EQ(i8042_read_status(&k) & 1, 1);
		CHECK_EQ(i8042_read_data(&k), want[i]);
	}
	CHECK_EQ(i8042_read_status(&k) & 1, 0);
}

static void type(const char *s)
{
	for (; *s; s++)
		i8042_type_ascii(&k, (uint8_t)*s);
}

static void test_status_after_init_has_sys_and_no_data(void)
{
	i8042_init(&k);
	CHECK_EQ(i8042_read_status(&k), 0x14);
	i8042_write_command(&k, 0xab);
	CHECK_EQ(i8042_read_status(&k) & 0x08, 0x08); /* last write was a command */
	i8042_read_data(&k);
	i8042_write_data(&k, 0xf4);
	CHECK_EQ(i8042_read_status(&k) & 0x08, 0);
}

static void test_self_test_answers_0x55_and_interface_test_0x00(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0xaa);
	i8042_write_command(&k, 0xab);
	expect_bytes((const uint8_t[]){ 0x55, 0x00 }, 2);
}

static void test_command_byte_reads_and_writes(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0x20);
	expect_bytes((const uint8_t[]){ 0x45 }, 1);
	i8042_write_command(&k, 0x60);
	i8042_write_data(&k, 0x00);
	CHECK_EQ(k.command_byte, 0x00);
	CHECK_EQ(i8042_read_status(&k) & 0x04, 0); /* SYS follows the command byte */
	i8042_write_command(&k, 0x20);
	expect_bytes((const uint8_t[]){ 0x00 }, 1);
}

static void test_irq1_needs_data_and_the_interrupt_bit(void)
{
	i8042_init(&k);
	CHECK(!i8042_irq_level(&k));
	type("a");
	CHECK(i8042_irq_level(&k));
	i8042_write_command(&k, 0x60);
	i8042_write_data(&k, 0x44);
	CHECK(!i8042_irq_level(&k));
}

static void test_disabled_keyboard_takes_no_keys(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0xad);
	CHECK(!i8042_type_room(&k));
	i8042_write_command(&k, 0xae);
	CHECK(i8042_type_room(&k));
	i8042_write_data(&k, 0xf5); /* keyboard: stop scanning */
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	CHECK(!i8042_type_room(&k));
	i8042_write_data(&k, 0xf4);
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	CHECK(i8042_type_room(&k));
}

static void test_keyboard_commands_are_acknowledged(void)
{
	i8042_init(&k);
	i8042_write_data(&k, 0xff);
	expect_bytes((const uint8_t[]){ 0xfa, 0xaa }, 2);
	i8042_write_data(&k, 0xed);
	i8042_write_data(&k, 0x07);
	expect_bytes((const uint8_t[]){ 0xfa, 0xfa }, 2);
	i8042_write_data(&k, 0xf2);
	expect_bytes((const uint8_t[]){ 0xfa, 0xab, 0x41 }, 3);
	i8042_write_data(&k, 0xee);
	expect_bytes((const uint8_t[]){ 0xee }, 1);
	i8042_write_data(&k, 0xf0);
	i8042_write_data(&k, 0x00);
	expect_bytes((const uint8_t[]){ 0xfa, 0xfa, 0x02 }, 3);
}

static void test_pulse_reset_and_output_port_reset(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0xff); /* pulse nothing */
	CHECK(!k.reset_requested);
	i8042_write_command(&k, 0xfe);
	CHECK(k.reset_requested);
	i8042_init(&k);
	i8042_write_command(&k, 0xd1);
	i8042_write_data(&k, 0x03); /* A20 on, reset line high: no reset */
	CHECK(!k.reset_requested);
	i8042_write_command(&k, 0xd1);
	i8042_write_data(&k, 0x02);
	CHECK(k.reset_requested);
}

static void test_write_keyboard_output_buffer_echoes_a_byte(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0xd2);
	i8042_write_data(&k, 0x5a);
	expect_bytes((const uint8_t[]){ 0x5a }, 1);
}

static void test_lowercase_letters_and_digits_are_make_then_break(void)
{
	i8042_init(&k);
	type("az1 0");
	expect_bytes((const uint8_t[]){ 0x1e, 0x9e, 0x2c, 0xac, 0x02, 0x82, 0x39, 0xb9, 0x0b, 0x8b }, 10);
}

static void test_capitals_and_symbols_are_wrapped_in_shift(void)
{
	i8042_init(&k);
	type("Q!");
	expect_bytes((const uint8_t[]){ 0x2a, 0x10, 0x90, 0xaa, 0x2a, 0x02, 0x82, 0xaa }, 8);
	type("?|~\"");
	expect_bytes((const uint8_t[]){ 0x2a, 0x35, 0xb5, 0xaa, 0x2a, 0x2b, 0xab, 0xaa,
					0x2a, 0x29, 0xa9, 0xaa, 0x2a, 0x28, 0xa8, 0xaa }, 16);
}

static void test_enter_backspace_tab_escape(void)
{
	i8042_init(&k);
	type("\n\r\b\x7f\t\x1b");
	expect_bytes((const uint8_t[]){ 0x1c, 0x9c, 0x1c, 0x9c, 0x0e, 0x8e, 0x0e, 0x8e,
					0x0f, 0x8f, 0x01, 0x81 }, 12);
}

static void test_control_characters_are_ctrl_letters(void)
{
	i8042_init(&k);
	type("\x03"); /* Ctrl-C */
	expect_bytes((const uint8_t[]){ 0x1d, 0x2e, 0xae, 0x9d }, 4);
}

static void test_bytes_no_key_makes_are_dropped(void)
{
	i8042_init(&k);
	CHECK(!i8042_type_ascii(&k, 0x80));
	CHECK(!i8042_type_ascii(&k, 0xff));
	CHECK(!i8042_type_ascii(&k, 0x00));
	CHECK_EQ(k.keys.count, 0);
}

static void test_every_printable_ascii_character_has_a_key(void)
{
	i8042_init(&k);
	for (uint8_t ch = 0x20; ch < 0x7f; ch++) {
		CHECK(i8042_type_ascii(&k, ch));
		while (k.keys.count)
			i8042_read_data(&k);
	}
}

static void test_a_full_buffer_stops_taking_keys(void)
{
	i8042_init(&k);
	CHECK_EQ(i8042_type_room(&k), I8042_QUEUE / 4);
	while (i8042_type_room(&k))
		type("A");
	CHECK(I8042_QUEUE - k.keys.count < 4);
	CHECK(k.keys.count <= I8042_QUEUE);
}

/* Keys sent before the guest's start-up self-test: a polling kernel reads
 * 0x55 first, then every key. */
static void test_self_test_answer_comes_before_keys_typed_earlier(void)
{
	i8042_init(&k);
	type("ab");
	i8042_write_command(&k, 0xaa);
	expect_bytes((const uint8_t[]){ 0x55, 0x1e, 0x9e, 0x30, 0xb0 }, 5);
}

static void test_keyboard_answers_come_before_unread_keys(void)
{
	i8042_init(&k);
	type("a");
	i8042_write_data(&k, 0xff);
	i8042_write_command(&k, 0x20);
	expect_bytes((const uint8_t[]){ 0xfa, 0xaa, 0x45, 0x1e, 0x9e }, 5);
}

static void test_self_test_drops_answers_not_read(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0x20);
	i8042_write_command(&k, 0xaa);
	expect_bytes((const uint8_t[]){ 0x55 }, 1);
}

static void test_keys_wait_unread_while_the_port_is_disabled(void)
{
	i8042_init(&k);
	type("a");
	i8042_write_command(&k, 0xad);
	CHECK_EQ(i8042_read_status(&k) & 1, 0);
	CHECK(!i8042_irq_level(&k));
	i8042_write_command(&k, 0xaa); /* a flush-then-self-test start-up */
	expect_bytes((const uint8_t[]){ 0x55 }, 1);
	i8042_write_command(&k, 0xae);
	CHECK(i8042_irq_level(&k));
	expect_bytes((const uint8_t[]){ 0x1e, 0x9e }, 2);
}

static void test_keys_wait_unread_while_the_keyboard_does_not_scan(void)
{
	i8042_init(&k);
	type("a");
	i8042_write_data(&k, 0xf5);
	expect_bytes((const uint8_t[]){ 0xfa }, 1);
	i8042_write_data(&k, 0xf4);
	expect_bytes((const uint8_t[]){ 0xfa, 0x1e, 0x9e }, 3);
}

static void test_an_empty_data_port_reads_the_last_byte_again(void)
{
	i8042_init(&k);
	i8042_write_command(&k, 0xaa);
	CHECK_EQ(i8042_read_data(&k), 0x55);
	CHECK_EQ(i8042_read_status(&k) & 1, 0);
	CHECK_EQ(i8042_read_data(&k), 0x55);
}

int main(void)
{
	RUN(test_status_after_init_has_sys_and_no_data);
	RUN(test_self_test_answers_0x55_and_interface_test_0x00);
	RUN(test_command_byte_reads_and_writes);
	RUN(test_irq1_needs_data_and_the_interrupt_bit);
	RUN(test_disabled_keyboard_takes_no_keys);
	RUN(test_keyboard_commands_are_acknowledged);
	RUN(test_pulse_reset_and_output_port_reset);
	RUN(test_write_keyboard_output_buffer_echoes_a_byte);
	RUN(test_lowercase_letters_and_digits_are_make_then_break);
	RUN(test_capitals_and_symbols_are_wrapped_in_shift);
	RUN(test_enter_backspace_tab_escape);
	RUN(test_control_characters_are_ctrl_letters);
	RUN(test_bytes_no_key_makes_are_dropped);
	RUN(test_every_printable_ascii_character_has_a_key);
	RUN(test_a_full_buffer_stops_taking_keys);
	RUN(test_self_test_answer_comes_before_keys_typed_earlier);
	RUN(test_keyboard_answers_come_before_unread_keys);
	RUN(test_self_test_drops_answers_not_read);
	RUN(test_keys_wait_unread_while_the_port_is_disabled);
	RUN(test_keys_wait_unread_while_the_keyboard_does_not_scan);
	RUN(test_an_empty_data_port_reads_the_last_byte_again);
	return check_summary();
}
