/* tests/unit/test_uart16550.c — kvm/uart16550: the registers a driver
 * programs and the interrupt logic of a PC's 16550A (IER, IIR priorities,
 * THR-empty acknowledged by reading IIR), and the bare machine's UART that
 * never interrupts. */
#include "kvm/uart16550.h"

#include <string.h>

#include "tests/unit/check.h"

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static struct uart16550 u;

static void test_bare_uart_iir_says_no_interrupt_whatever_ier_holds(void)
{
	uint8_t tx;
	uart_init(&u, false);
	uart_write(&u, IER, 0x0f, &tx);
	uart_receive(&u, (const uint8_t *)"x", 1);
	CHECK_EQ(uart_read(&u, IIR), 0x01);
	CHECK_EQ(uart_read(&u, IER), 0x0f);
	CHECK(!uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, MSR), 0xb0);
}

static void test_thr_write_sends_the_byte(void)
{
	uint8_t tx = 0;
	uart_init(&u, true);
	CHECK(uart_write(&u, RBR, 'A', &tx));
	CHECK_EQ(tx, 'A');
	CHECK_EQ(uart_read(&u, LSR), 0x60);
}

static void test_dlab_routes_ports_0_and_1_to_the_divisor(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, LCR, 0x80, &tx);
	CHECK(!uart_write(&u, RBR, 0x03, &tx));
	uart_write(&u, IER, 0x00, &tx);
	CHECK_EQ(u.divisor, 3);
	CHECK_EQ(uart_read(&u, RBR), 0x03);
	uart_write(&u, LCR, 0x03, &tx);
	CHECK_EQ(uart_read(&u, IER), 0);
	CHECK(!uart_irq_level(&u));
}

static void test_received_data_interrupt_while_rbr_holds_bytes(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, IER, 0x01, &tx);
	CHECK(!uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x01);
	uart_receive(&u, (const uint8_t *)"hi", 2);
	CHECK(uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x04);
	CHECK_EQ(uart_read(&u, LSR) & 1, 1);
	CHECK_EQ(uart_read(&u, RBR), 'h');
	CHECK(uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, RBR), 'i');
	CHECK(!uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x01);
}

static void test_enabling_thr_empty_interrupt_raises_it_at_once(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, IER, 0x02, &tx);
	CHECK(uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x02);
	/* Reading IIR acknowledged it. */
	CHECK(!uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x01);
	/* Each byte sent empties THR again: a new interrupt. */
	uart_write(&u, RBR, 'x', &tx);
	CHECK(uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x02);
}

static void test_received_data_has_priority_over_thr_empty(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, IER, 0x03, &tx);
	uart_receive(&u, (const uint8_t *)"z", 1);
	CHECK_EQ(uart_read(&u, IIR), 0x04);
	CHECK_EQ(uart_read(&u, IIR), 0x04); /* not acknowledged by IIR */
	CHECK_EQ(uart_read(&u, RBR), 'z');
	CHECK_EQ(uart_read(&u, IIR), 0x02); /* the THR-empty still pending */
	CHECK_EQ(uart_read(&u, IIR), 0x01);
	CHECK(!uart_irq_level(&u));
}

static void test_thr_empty_masked_by_ier_is_not_signalled(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, RBR, 'x', &tx);
	CHECK(!uart_irq_level(&u));
	CHECK_EQ(uart_read(&u, IIR), 0x01);
}

static void test_out2_does_not_gate_the_interrupt_as_in_qemu(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, MCR, 0x00, &tx);
	uart_write(&u, IER, 0x01, &tx);
	uart_receive(&u, (const uint8_t *)"a", 1);
	CHECK(uart_irq_level(&u));
	uart_write(&u, MCR, 0x0b, &tx);
	CHECK(uart_irq_level(&u));
}

static void test_fifo_enabled_shows_in_iir_top_bits(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, FCR, 0xc7, &tx);
	CHECK_EQ(uart_read(&u, IIR), 0xc1);
	uart_init(&u, false);
	uart_write(&u, FCR, 0x01, &tx);
	CHECK_EQ(uart_read(&u, IIR), 0xc1);
}

static void test_fcr_clear_rx_drops_received_bytes(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_receive(&u, (const uint8_t *)"abc", 3);
	uart_write(&u, FCR, 0x03, &tx);
	CHECK_EQ(uart_read(&u, LSR) & 1, 0);
}

static void test_loopback_sends_thr_to_rbr_and_mirrors_modem_lines(void)
{
	uint8_t tx = 0;
	uart_init(&u, true);
	uart_write(&u, MCR, 0x1a, &tx); /* loop | OUT2 | RTS */
	CHECK_EQ(uart_read(&u, MSR) & 0xf0, 0x90);
	CHECK(!uart_write(&u, RBR, 0x5a, &tx));
	CHECK_EQ(uart_read(&u, LSR) & 1, 1);
	CHECK_EQ(uart_read(&u, RBR), 0x5a);
	uart_write(&u, MCR, 0x0b, &tx);
	CHECK_EQ(uart_read(&u, MSR), 0xb0);
}

static void test_receive_buffer_keeps_order_and_drops_overflow(void)
{
	uint8_t bytes[UART_RX_CAPACITY + 8];
	uart_init(&u, true);
	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	uart_receive(&u, bytes, 10);
	CHECK_EQ(uart_read(&u, RBR), 0);
	CHECK_EQ(uart_rx_room(&u), UART_RX_CAPACITY - 9);
	uart_receive(&u, bytes + 10, sizeof(bytes) - 10);
	CHECK_EQ(uart_rx_room(&u), 0);
	for (unsigned i = 1; i < UART_RX_CAPACITY + 1; i++)
		CHECK_EQ(uart_read(&u, RBR), i);
	CHECK_EQ(uart_read(&u, LSR) & 1, 0);
}

static void test_scratch_register_keeps_what_is_written(void)
{
	uint8_t tx;
	uart_init(&u, true);
	uart_write(&u, SCR, 0xa5, &tx);
	CHECK_EQ(uart_read(&u, SCR), 0xa5);
}

int main(void)
{
	RUN(test_bare_uart_iir_says_no_interrupt_whatever_ier_holds);
	RUN(test_thr_write_sends_the_byte);
	RUN(test_dlab_routes_ports_0_and_1_to_the_divisor);
	RUN(test_received_data_interrupt_while_rbr_holds_bytes);
	RUN(test_enabling_thr_empty_interrupt_raises_it_at_once);
	RUN(test_received_data_has_priority_over_thr_empty);
	RUN(test_thr_empty_masked_by_ier_is_not_signalled);
	RUN(test_out2_does_not_gate_the_interrupt_as_in_qemu);
	RUN(test_fifo_enabled_shows_in_iir_top_bits);
	RUN(test_fcr_clear_rx_drops_received_bytes);
	RUN(test_loopback_sends_thr_to_rbr_and_mirrors_modem_lines);
	RUN(test_receive_buffer_keeps_order_and_drops_overflow);
	RUN(test_scratch_register_keeps_what_is_written);
	return check_summary();
}
