/* stub/number.c — decimal and 0x-hex numbers from a user (see
 * stub/number.h). Pure: no I/O, no allocation. */
#include "stub/number.h"

#include <errno.h>

#include "stub/hex.h"

/* strtoull is not used: it takes a sign, leading spaces and octal, none of
 * which a user means here, and wraps "-1" to 2^64 - 1. */
int number_parse_prefix(const char *text, uint64_t *value, const char **end)
{
	const char *p = text;
	unsigned base = 10;
	uint64_t result = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	int digit = hex_digit_value(*p);
	if (digit < 0 || (unsigned)digit >= base)
		return -EINVAL;
	for (; (digit = hex_digit_value(*p)) >= 0 && (unsigned)digit < base; p++) {
		if (result > (UINT64_MAX - (uint64_t)digit) / base)
			return -ERANGE;
		result = result * base + (uint64_t)digit;
	}
	*value = result;
	*end = p;
	return 0;
}

int number_parse(const char *text, uint64_t *value)
{
	const char *end;
	uint64_t result;
	int rc = number_parse_prefix(text, &result, &end);

	if (rc)
		return rc;
	if (*end != '\0')
		return -EINVAL;
	*value = result;
	return 0;
}
