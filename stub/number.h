/* stub/number.h — the numbers a user types (command-line options, monitor
 * commands): decimal, or hex after 0x, unsigned 64-bit. One parser for
 * every caller, so they all take and refuse the same text. Pure. */
#ifndef KVMSTUB_NUMBER_H
#define KVMSTUB_NUMBER_H

#include <stdint.h>

/* Reads the number text starts with and sets *end just past its digits,
 * so the caller can read a suffix there (e.g. the M of 64M). Returns 0,
 * -EINVAL when text does not start with a digit (or "0x" has none after
 * it), -ERANGE when the number needs more than 64 bits; on error *value
 * and *end are left alone. */
int number_parse_prefix(const char *text, uint64_t *value, const char **end);

/* The whole of text is one number and nothing else: 0, -EINVAL, -ERANGE
 * as above. */
int number_parse(const char *text, uint64_t *value);

#endif
