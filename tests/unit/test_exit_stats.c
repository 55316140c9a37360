/* tests/unit/test_exit_stats.c — kvm/exit_stats.c: exits counted by
 * reason and port, and the stop latencies `monitor info exits` prints (the
 * last, the largest, the median of the latest). */
#include <linux/kvm.h>
#include <string.h>

#include "check.h"
#include "kvm/exit_stats.h"

static struct exit_stats stats;

static void test_no_stop_timed_reports_zero_stops(void)
{
	struct target_exit_counts out;

	memset(&stats, 0, sizeof(stats));
	exit_stats_report(&stats, &out);
	CHECK_EQ(out.stops_timed, 0);
	CHECK_EQ(out.stop_median_of, 0);
	CHECK_EQ(out.stop_max_ns, 0);
}

static void test_latencies_give_last_max_and_median(void)
{
	static const uint64_t ns[] = { 30000, 10000, 900000, 20000, 50000 };
	struct target_exit_counts out;

	memset(&stats, 0, sizeof(stats));
	for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
		exit_stats_stop_latency(&stats, ns[i]);
	exit_stats_report(&stats, &out);
	CHECK_EQ(out.stops_timed, 5);
	CHECK_EQ(out.stop_last_ns, 50000);
	CHECK_EQ(out.stop_max_ns, 900000);
	CHECK_EQ(out.stop_median_ns, 30000);
	CHECK_EQ(out.stop_median_of, 5);
	/* An even count: the mean of the middle two. */
	exit_stats_stop_latency(&stats, 40000);
	exit_stats_report(&stats, &out);
	CHECK_EQ(out.stop_median_ns, 35000);
}

static void test_median_covers_the_latest_stops_and_max_all_of_them(void)
{
	struct target_exit_counts out;

	memset(&stats, 0, sizeof(stats));
	exit_stats_stop_latency(&stats, 5000000000ULL); /* beyond 32 bits of ns */
	for (unsigned i = 0; i < EXIT_STATS_LATENCIES; i++)
		exit_stats_stop_latency(&stats, 1000);
	exit_stats_report(&stats, &out);
	CHECK_EQ(out.stops_timed, EXIT_STATS_LATENCIES + 1);
	CHECK_EQ(out.stop_median_of, EXIT_STATS_LATENCIES);
	CHECK_EQ(out.stop_median_ns, 1000);
	CHECK_EQ(out.stop_max_ns, 5000000000ULL);
	CHECK_EQ(out.stop_last_ns, 1000);
}

static void test_port_exits_are_counted_by_port_and_direction(void)
{
	struct target_exit_counts out;

	memset(&stats, 0, sizeof(stats));
	exit_stats_count(&stats, KVM_EXIT_IO, 0x3f8, 1);
	exit_stats_count(&stats, KVM_EXIT_IO, 0x3f8, 1);
	exit_stats_count(&stats, KVM_EXIT_IO, 0x3fd, 0);
	exit_stats_count(&stats, KVM_EXIT_HLT, 0, 0);
	exit_stats_report(&stats, &out);
	CHECK_EQ(out.nports, 2);
	CHECK_EQ(out.ports[0].port, 0x3f8);
	CHECK_EQ(out.ports[0].out, 2);
	CHECK_EQ(out.ports[1].in, 1);
	CHECK_EQ(out.nreasons, 2);
	CHECK(!strcmp(out.reasons[0].name, "IO") && out.reasons[0].count == 3);
	CHECK(!strcmp(out.reasons[1].name, "HLT") && out.reasons[1].count == 1);
}

int main(void)
{
	RUN(test_no_stop_timed_reports_zero_stops);
	RUN(test_latencies_give_last_max_and_median);
	RUN(test_median_covers_the_latest_stops_and_max_all_of_them);
	RUN(test_port_exits_are_counted_by_port_and_direction);
	return check_summary();
}
