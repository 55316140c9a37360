/* kvm/exit_stats.h — counts of the vCPU's exits, by KVM exit reason and,
 * for port I/O, by port, and how long stops took to reach gdb, for
 * `monitor info exits`. Pure bookkeeping: the caller hands over each
 * finished KVM_RUN and each stop's latency. */
#ifndef KVMSTUB_EXIT_STATS_H
#define KVMSTUB_EXIT_STATS_H

#include <stdint.h>

#include "stub/target.h"

#define EXIT_STATS_REASONS 64
#define EXIT_STATS_PORTS TARGET_MAX_EXIT_PORTS
/* The median covers this many of the latest stops (the maximum all). */
#define EXIT_STATS_LATENCIES 1024

struct exit_stats {
	uint64_t by_reason[EXIT_STATS_REASONS];
	uint64_t other_reasons;
	uint64_t interrupted; /* KVM_RUN returned EINTR */
	unsigned nports;
	struct {
		uint16_t port;
		uint64_t in, out;
	} ports[EXIT_STATS_PORTS];
	uint64_t other_ports;
	/* Stop latencies: a ring of the latest, the last, the largest. */
	uint64_t stops_timed;
	uint64_t stop_last_ns, stop_max_ns;
	uint32_t latency_ns[EXIT_STATS_LATENCIES]; /* saturated at UINT32_MAX */
};

/* One KVM_RUN that ended with exit_reason (and, for KVM_EXIT_IO, port and
 * direction). */
void exit_stats_count(struct exit_stats *s, uint32_t reason, uint16_t port, int is_out);
void exit_stats_interrupted(struct exit_stats *s);
/* One stop reported to gdb ns nanoseconds after its event. */
void exit_stats_stop_latency(struct exit_stats *s, uint64_t ns);
/* In the seam's shape, with KVM's names for the reasons. */
void exit_stats_report(const struct exit_stats *s, struct target_exit_counts *out);

#endif
