/* kvm/fwtables.h — the firmware tables a PC kernel looks for to find its
 * CPUs and interrupt routing: an Intel MP table (MultiProcessor Spec 1.4)
 * and ACPI (RSDP v2, RSDT, XSDT, FADT, FACS, DSDT, MADT). Pure: writes
 * into a buffer that will sit at a given guest-physical address; no KVM. */
#ifndef KVMSTUB_FWTABLES_H
#define KVMSTUB_FWTABLES_H

#include <stddef.h>
#include <stdint.h>

#define FWTABLES_MAX_CPUS 255   /* APIC ids 0..254: 0xff is the broadcast id */
#define FWTABLES_BIOS_START 0xf0000ULL /* where kernels scan for both pointers */
#define FWTABLES_BIOS_END 0x100000ULL
#define FWTABLES_LAPIC_ADDR 0xfee00000U
#define FWTABLES_IOAPIC_ADDR 0xfec00000U
#define FWTABLES_IOAPIC_ID 0    /* KVM's in-kernel IOAPIC resets to id 0 */
#define FWTABLES_SCI_IRQ 9
/* The most any CPU count up to FWTABLES_MAX_CPUS needs. */
#define FWTABLES_MAX_SIZE 16384

/* Where each table went (guest-physical). */
struct fwtables {
	uint64_t mp_floating, mp_config;
	uint64_t rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
	size_t size; /* bytes used from the start of the buffer */
};

/* Builds every table for ncpus CPUs (APIC id = index, CPU 0 the BSP) into
 * buf, which the guest will see at phys: 64-byte aligned, inside the BIOS
 * area 0xf0000-0xfffff where kernels scan for the MP floating pointer and
 * the RSDP. Returns 0, -EINVAL for a CPU count or placement kernels could
 * not use, -ENOSPC when buf is too small. */
int fwtables_build(uint8_t *buf, size_t buf_size, uint64_t phys, unsigned ncpus,
		   struct fwtables *out);

#endif
