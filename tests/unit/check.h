/* tests/unit/check.h — the smallest test harness that reports like ours.
 *
 * A unit test file defines `static void test_NAME(void)` functions that use
 * CHECK/CHECK_EQ, lists them in main with RUN(test_NAME), and ends with
 * `return check_summary();`. Each test prints `ok NAME` or `not ok NAME`
 * followed by the failed checks; tests/run.py adds the lines up.
 */
#ifndef KVMSTUB_CHECK_H
#define KVMSTUB_CHECK_H

#include <inttypes.h>
#include <stdio.h>

static int check_failures_in_test;
static int check_tests_failed;
static int check_tests_passed;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("  %s:%d: CHECK(%s) failed\n", __FILE__,    \
			       __LINE__, #cond);                           \
			check_failures_in_test++;                          \
		}                                                          \
	} while (0)

#define CHECK_EQ(actual, expected)                                          \
	do {                                                                \
		uint64_t check_a_ = (uint64_t)(actual);                     \
		uint64_t check_e_ = (uint64_t)(expected);                   \
		if (check_a_ != check_e_) {                                 \
			printf("  %s:%d: %s == 0x%" PRIx64                  \
			       ", expected %s == 0x%" PRIx64 "\n",          \
			       __FILE__, __LINE__, #actual, check_a_,       \
			       #expected, check_e_);                        \
			check_failures_in_test++;                           \
		}                                                           \
	} while (0)

#define RUN(test)                                                          \
	do {                                                               \
		check_failures_in_test = 0;                                \
		test();                                                    \
		if (check_failures_in_test) {                              \
			printf("not ok %s\n", &(#test)[5]);                  \
			check_tests_failed++;                              \
		} else {                                                   \
			printf("ok %s\n", &(#test)[5]);                      \
			check_tests_passed++;                              \
		}                                                          \
		fflush(stdout);                                            \
	} while (0)

static inline int check_summary(void)
{
	printf("%d passed, %d failed\n", check_tests_passed, check_tests_failed);
	return check_tests_failed ? 1 : 0;
}

#endif
