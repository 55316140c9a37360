/* kvm/bootinfo.h — boot protocols: finds a Multiboot, Multiboot2 or PVH
 * header in an image, loads the image as that protocol says, places the
 * modules and builds the information structure the kernel receives.
 *
 * Pure: byte buffers in, a RAM buffer out; no files, no KVM. Every header
 * field is outside data: a bad one is refused with one line naming it, and
 * nothing is ever written outside ram[0..ram_size).
 */
#ifndef KVMSTUB_BOOTINFO_H
#define KVMSTUB_BOOTINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/loader.h"

enum boot_protocol {
	BOOT_AUTO,       /* detect: Multiboot, Multiboot2, PVH, ELF, flat */
	BOOT_ELF,
	BOOT_FLAT,
	BOOT_MULTIBOOT,
	BOOT_MULTIBOOT2,
	BOOT_PVH,
};

#define BOOT_MAX_MODULES 64
/* The image's segments, each module, and the information block. */
#define BOOT_MAX_RANGES (IMAGE_MAX_SEGMENTS + BOOT_MAX_MODULES + 1)

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36d76289u
#define PVH_START_MAGIC 0x336ec578u
#define BOOT_LOADER_NAME "kvmstub"

struct boot_module {
	const uint8_t *data;
	size_t size;
	const char *name; /* FILE as the user gave it */
	const char *args; /* NULL when none were given */
};

struct boot_params {
	enum boot_protocol protocol; /* BOOT_AUTO: detect */
	const char *image_name;      /* IMAGE as given (Multiboot v1 cmdline) */
	const char *args;            /* --append ARGS; NULL when not given */
	const struct boot_module *modules;
	unsigned nmodules;
	uint64_t flat_load_addr;     /* a plain flat image goes here */
	uint64_t rsdp;               /* ACPI RSDP in RAM; 0 when none */
};

struct boot_layout {
	enum boot_protocol protocol; /* the one used, never BOOT_AUTO */
	enum image_kind kind;        /* what the file is: ELF32, ELF64, flat */
	uint64_t entry;              /* physical for the boot protocols */
	bool protocol_regs;          /* eax/ebx below are the protocol's */
	uint32_t eax, ebx;
	uint64_t info_addr, info_size;     /* 0 for plain ELF/flat */
	uint64_t module_addr[BOOT_MAX_MODULES];
	/* What the image, the modules and the info block occupy, as
	 * [start, end) guest-physical pairs, for placing the stub's own
	 * tables elsewhere. */
	unsigned nranges;
	uint64_t ranges[BOOT_MAX_RANGES][2];
};

/* Loads the image into ram as p->protocol says (or as detected), copies
 * the modules page-aligned after it and builds the information block
 * after them. Returns 0, or -EINVAL (bad header or image, bad parameter)
 * or -E2BIG (does not fit in RAM) with err holding one line without a
 * trailing newline. */
int boot_load(const uint8_t *file, size_t file_size, uint8_t *ram,
	      uint64_t ram_size, const struct boot_params *p,
	      struct boot_layout *out, char *err, size_t err_size);

/* "multiboot", "multiboot2", "pvh", "elf", "flat" (as --boot spells it). */
const char *boot_protocol_name(enum boot_protocol protocol);

#endif
