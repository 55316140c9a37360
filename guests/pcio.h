/* guests/pcio.h — what the PC-device guests share: 16- and 32-bit port
 * I/O and number printing on COM1. Header only, always inlined. */
#ifndef GUESTS_PCIO_H
#define GUESTS_PCIO_H

#include "io.h"
#include "uart.h"

__attribute__((always_inline)) static inline void outw(unsigned short port,
						       unsigned short value)
{
	__asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port));
}

__attribute__((always_inline)) static inline unsigned int inl(unsigned short port)
{
	unsigned int value;

	__asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
	return value;
}

static inline void print_dec(unsigned long long v)
{
	char buf[24];
	int i = 23;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	print(buf + i);
}

static inline void print_hex2(unsigned char v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[3] = { digits[v >> 4], digits[v & 15], 0 };

	print(buf);
}

#endif
