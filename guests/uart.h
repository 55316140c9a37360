/* guests/uart.h — text output for the C guests through the COM1 UART. */
#ifndef GUESTS_UART_H
#define GUESTS_UART_H

void uart_putc(char c);
void print(const char *s);

/* Ends the guest through kvmstub's exit device: status (value << 1) | 1. */
void exit_device(unsigned char value);

#endif
