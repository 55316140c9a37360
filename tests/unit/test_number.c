/* tests/unit/test_number.c — the one parser of the numbers users type
 * (stub/number.c), which the command line and the monitor share: decimal
 * and 0x hex, the 64-bit edges, what is refused and where a prefix ends. */
#include "stub/number.h"

#include <errno.h>
#include <string.h>

#include "tests/unit/check.h"

static void test_decimal_and_0x_hex_give_their_value(void)
{
	static const struct {
		const char *text;
		uint64_t value;
	} good[] = {
		{ "0", 0 }, { "31", 31 }, { "007", 7 }, { "0x1f", 0x1f }, { "0X1F", 0x1f },
		{ "0xAbCdEf", 0xabcdef }, { "0x0", 0 }, { "0x00000000000000001", 1 },
		{ "18446744073709551615", UINT64_MAX }, { "0xffffffffffffffff", UINT64_MAX },
		{ "00018446744073709551615", UINT64_MAX },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 12345;
		int rc = number_parse(good[i].text, &v);
		if (rc || v != good[i].value)
			printf("  for \"%s\"\n", good[i].text);
		CHECK_EQ(rc, 0);
		CHECK_EQ(v, good[i].value);
	}
}

static void test_one_past_64_bits_is_erange_and_leaves_the_value_alone(void)
{
	static const char *const big[] = {
		"18446744073709551616", "0x10000000000000000", "99999999999999999999",
		"0xfffffffffffffffff", "18446744073709551616x", /* out of range before the junk */
	};
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		uint64_t v = 12345;
		int rc = number_parse(big[i], &v);
		if (rc != -ERANGE)
			printf("  for \"%s\": %d\n", big[i], rc);
		CHECK_EQ(rc, -ERANGE);
		CHECK_EQ(v, 12345);
	}
}

static void test_empty_signs_spaces_octal_and_junk_are_einval(void)
{
	static const char *const bad[] = {
		"", "0x", "0X", "x10", "-1", "+1", " 1", "1 ", "12a", "0x1g", "0xx1", "00x10",
		"1.5", "1e3", "0b101", "a", "ff", "0x-1", "1\n", "64M", "4k",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 12345;
		int rc = number_parse(bad[i], &v);
		if (rc != -EINVAL)
			printf("  for \"%s\": %d\n", bad[i], rc);
		CHECK_EQ(rc, -EINVAL);
		CHECK_EQ(v, 12345);
	}
}

/* A prefix stops at the first character that is not a digit of its base,
 * which is where a caller reads a size suffix (--mem 64M). */
static void test_a_prefix_ends_where_its_digits_end(void)
{
	static const struct {
		const char *text;
		uint64_t value;
		size_t length; /* of the number */
	} cases[] = {
		{ "64M", 64, 2 }, { "4KiB", 4, 1 }, { "0x10g", 0x10, 4 }, { "12", 12, 2 },
		{ "0x1fz", 0x1f, 4 }, { "10abc", 10, 2 }, { "0 x", 0, 1 },
		{ "00x10", 0, 2 }, /* a second 0x is not a prefix: "00", then junk */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		const char *end = NULL;
		int rc = number_parse_prefix(cases[i].text, &v, &end);
		if (rc || v != cases[i].value || end != cases[i].text + cases[i].length)
			printf("  for \"%s\"\n", cases[i].text);
		CHECK_EQ(rc, 0);
		CHECK_EQ(v, cases[i].value);
		CHECK(end == cases[i].text + cases[i].length);
	}
	const char *end = NULL;
	uint64_t v = 12345;
	CHECK_EQ(number_parse_prefix("M64", &v, &end), -EINVAL);
	CHECK_EQ(number_parse_prefix("0xM", &v, &end), -EINVAL);
	CHECK_EQ(number_parse_prefix("", &v, &end), -EINVAL);
	CHECK_EQ(number_parse_prefix("18446744073709551616K", &v, &end), -ERANGE);
	CHECK(end == NULL);
	CHECK_EQ(v, 12345);
}

int main(void)
{
	RUN(test_decimal_and_0x_hex_give_their_value);
	RUN(test_one_past_64_bits_is_erange_and_leaves_the_value_alone);
	RUN(test_empty_signs_spaces_octal_and_junk_are_einval);
	RUN(test_a_prefix_ends_where_its_digits_end);
	return check_summary();
}
