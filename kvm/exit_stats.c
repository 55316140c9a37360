/* kvm/exit_stats.c — counting the vCPU's exits by reason and port, and
 * the stops' latencies. No ioctls: cpu_enter hands each exit over, the
 * stop_reported op each stop. */
#include "kvm/exit_stats.h"

#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exit_stats_count(struct exit_stats *s, uint32_t reason, uint16_t port, int is_out)
{
	if (reason < EXIT_STATS_REASONS)
		s->by_reason[reason]++;
	else
		s->other_reasons++;
	if (reason != KVM_EXIT_IO)
		return;
	for (unsigned i = 0; i < s->nports; i++) {
		if (s->ports[i].port == port) {
			if (is_out)
				s->ports[i].out++;
			else
				s->ports[i].in++;
			return;
		}
	}
	if (s->nports == EXIT_STATS_PORTS) {
		s->other_ports++;
		return;
	}
	s->ports[s->nports].port = port;
	s->ports[s->nports].in = !is_out;
	s->ports[s->nports].out = !!is_out;
	s->nports++;
}

void exit_stats_interrupted(struct exit_stats *s)
{
	s->interrupted++;
}

void exit_stats_stop_latency(struct exit_stats *s, uint64_t ns)
{
	s->latency_ns[s->stops_timed % EXIT_STATS_LATENCIES] =
		ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
	s->stops_timed++;
	s->stop_last_ns = ns;
	if (ns > s->stop_max_ns)
		s->stop_max_ns = ns;
}

static int compare_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* The median of the latest stops (the mean of the middle two for an even
 * count), from a sorted copy: asked for by a person, not per stop. */
static uint64_t latency_median(const struct exit_stats *s, uint64_t *of)
{
	uint32_t sorted[EXIT_STATS_LATENCIES];
	size_t n = s->stops_timed < EXIT_STATS_LATENCIES ? (size_t)s->stops_timed
							 : EXIT_STATS_LATENCIES;

	*of = n;
	if (!n)
		return 0;
	memcpy(sorted, s->latency_ns, n * sizeof(sorted[0]));
	qsort(sorted, n, sizeof(sorted[0]), compare_u32);
	if (n % 2)
		return sorted[n / 2];
	return ((uint64_t)sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

static const char *reason_name(unsigned reason)
{
	switch (reason) {
	case KVM_EXIT_UNKNOWN: return "UNKNOWN";
	case KVM_EXIT_EXCEPTION: return "EXCEPTION";
	case KVM_EXIT_IO: return "IO";
	case KVM_EXIT_HYPERCALL: return "HYPERCALL";
	case KVM_EXIT_DEBUG: return "DEBUG";
	case KVM_EXIT_HLT: return "HLT";
	case KVM_EXIT_MMIO: return "MMIO";
	case KVM_EXIT_IRQ_WINDOW_OPEN: return "IRQ_WINDOW_OPEN";
	case KVM_EXIT_SHUTDOWN: return "SHUTDOWN";
	case KVM_EXIT_FAIL_ENTRY: return "FAIL_ENTRY";
	case KVM_EXIT_INTR: return "INTR";
	case KVM_EXIT_SET_TPR: return "SET_TPR";
	case KVM_EXIT_TPR_ACCESS: return "TPR_ACCESS";
	case KVM_EXIT_NMI: return "NMI";
	case KVM_EXIT_INTERNAL_ERROR: return "INTERNAL_ERROR";
	case KVM_EXIT_SYSTEM_EVENT: return "SYSTEM_EVENT";
	case KVM_EXIT_IOAPIC_EOI: return "IOAPIC_EOI";
	case KVM_EXIT_HYPERV: return "HYPERV";
	case KVM_EXIT_X86_RDMSR: return "X86_RDMSR";
	case KVM_EXIT_X86_WRMSR: return "X86_WRMSR";
	default: return NULL;
	}
}

static void add_reason(struct target_exit_counts *out, const char *name, uint64_t count)
{
	if (!count || out->nreasons >= TARGET_MAX_EXIT_REASONS)
		return;
	snprintf(out->reasons[out->nreasons].name, sizeof(out->reasons[0].name), "%s", name);
	out->reasons[out->nreasons].count = count;
	out->nreasons++;
}

void exit_stats_report(const struct exit_stats *s, struct target_exit_counts *out)
{
	char name[28];

	memset(out, 0, sizeof(*out));
	for (unsigned r = 0; r < EXIT_STATS_REASONS; r++) {
		const char *known = reason_name(r);
		if (!known) {
			snprintf(name, sizeof(name), "reason %u", r);
			known = name;
		}
		add_reason(out, known, s->by_reason[r]);
	}
	add_reason(out, "other reasons", s->other_reasons);
	add_reason(out, "signal (EINTR)", s->interrupted);
	out->nports = s->nports;
	for (unsigned i = 0; i < s->nports; i++) {
		out->ports[i].port = s->ports[i].port;
		out->ports[i].in = s->ports[i].in;
		out->ports[i].out = s->ports[i].out;
	}
	out->other_port_exits = s->other_ports;
	out->stops_timed = s->stops_timed;
	out->stop_last_ns = s->stop_last_ns;
	out->stop_max_ns = s->stop_max_ns;
	out->stop_median_ns = latency_median(s, &out->stop_median_of);
}
