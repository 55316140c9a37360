/* kvm/boot_image.h — puts a kernel image in a machine and the vCPU at its
 * first instruction: the boot protocol's load and information block
 * (kvm/bootinfo.c), the stub's own GDT and page tables (kvm/boot.c), the
 * protocol's registers, and which register layout gdb gets.
 *
 * One call does all of it, so a restart (gdb's `run ARGS`) can call it
 * again with another command line. It does not clear RAM first. */
#ifndef KVMSTUB_BOOT_IMAGE_H
#define KVMSTUB_BOOT_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/bootinfo.h"
#include "kvm/machine.h"
#include "stub/target.h"

struct boot_request {
	const uint8_t *image;
	size_t image_size;
	const char *image_name;      /* as given: Multiboot v1 command line */
	enum boot_protocol protocol; /* BOOT_AUTO: detect */
	bool mode_set;               /* --mode */
	enum machine_mode mode;
	bool arch_set;               /* --arch */
	enum target_arch arch;
	uint64_t load_addr;          /* a plain flat image */
	bool entry_set;              /* --entry */
	uint64_t entry;
	const char *args;            /* the command line (--append); NULL: none */
	const struct boot_module *modules;
	unsigned nmodules;
	uint64_t rsdp;               /* ACPI RSDP in RAM; 0: the machine's, if any */
};

struct boot_outcome {
	struct boot_layout layout;
	enum machine_mode mode;
	enum target_arch arch;       /* fixed for the run: gdb's layout */
};

/* Returns 0, or -EINVAL/-E2BIG for an image or request that cannot boot
 * and another negative errno for a machine failure; m->error says which
 * in one line either way. */
int boot_image(struct machine *m, const struct boot_request *req, struct boot_outcome *out);

#endif
