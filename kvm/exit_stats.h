/* kvm/exit_stats.h — counts of the vCPU's exits, by KVM exit reason and,
 * for port I/O, by port, for `monitor info exits`. Pure bookkeeping: the
 * caller hands over each finished KVM_RUN. */
#ifndef KVMSTUB_EXIT_STATS_H
#define KVMSTUB_EXIT_STATS_H

#include <stdint.h>

#include "stub/target.h"

#define EXIT_STATS_REASONS 64
#define EXIT_STATS_PORTS TARGET_MAX_EXIT_PORTS

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
};

/* One KVM_RUN that ended with exit_reason (and, for KVM_EXIT_IO, port and
 * direction). */
void exit_stats_count(struct exit_stats *s, uint32_t reason, uint16_t port, int is_out);
void exit_stats_interrupted(struct exit_stats *s);
/* In the seam's shape, with KVM's names for the reasons. */
void exit_stats_report(const struct exit_stats *s, struct target_exit_counts *out);

#endif
