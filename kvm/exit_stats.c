/* kvm/exit_stats.c — counting the vCPU's exits by reason and port. No
 * ioctls: machine_enter hands each exit over. */
#include "kvm/exit_stats.h"

#include <linux/kvm.h>
#include <stdio.h>
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
}
