/* guests/bootprint.h — what the boot-information guests print with: hex
 * numbers and strings from guest memory, on COM1 (guests/uart.c). */
#ifndef GUESTS_BOOTPRINT_H
#define GUESTS_BOOTPRINT_H

#include <stdint.h>

void print_hex(uint64_t value);
/* " name=0xVALUE" */
void print_field(const char *name, uint64_t value);
/* "<text>" for a NUL-terminated string at a physical address. */
void print_quoted(uintptr_t addr);
/* "<...>" with the first bytes of a module, at most 16 of them; bytes
 * that are not printable show as '.'. */
void print_data(uintptr_t addr, uint64_t size);

#endif
