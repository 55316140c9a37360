/* kvm/sysops.h — the optional target ops of stub/target.h on the KVM
 * machine: system state, physical memory, translation, interrupt
 * controllers, exit counts, trace-io, and restarting the guest. The ops
 * table in kvm/vcpu_state.c points here. */
#ifndef KVMSTUB_KVM_SYSOPS_H
#define KVMSTUB_KVM_SYSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub/target.h"

int sysops_system_state(void *kt, struct target_system_state *st);
long sysops_read_phys(void *kt, uint64_t addr, void *buf, size_t len);
int sysops_write_phys(void *kt, uint64_t addr, const void *buf, size_t len);
int sysops_translate(void *kt, uint64_t linear, uint64_t *phys);
int sysops_lapic(void *kt, struct target_lapic *lapic);
int sysops_irqchip(void *kt, struct target_irqchip *chip);
int sysops_exit_counts(void *kt, struct target_exit_counts *counts);
void sysops_stop_reported(void *kt, const struct target_stop *stop);
int sysops_set_trace_io(void *kt, bool on);
int sysops_screen_text(void *kt, char *out, size_t cap);
int sysops_restart(void *kt, const char *file, const char *cmdline);

#endif
