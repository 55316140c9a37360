/* fuzz/fuzz_bootinfo.c — libFuzzer harness for kvm/bootinfo: hostile
 * Multiboot, Multiboot2 and PVH headers and images.
 *
 * Input: 4 parameter bytes, then the image file.
 *   byte 0: the protocol asked for (value % 6: auto, elf, flat, multiboot,
 *           multiboot2, pvh)
 *   byte 1: bits 1:0 the number of modules (0-3), bit 2 an ACPI RSDP in
 *           RAM (revision 2), bit 3 --append given, bit 4 the RSDP near
 *           the end of RAM
 *   bytes 2-3: module sizes: module i is the first (byte 2 << (i * 3))
 *           bytes of the image, repeated if byte 3 is odd
 * Beyond what the sanitizers catch, it checks the promises: nothing
 * written past RAM (guard bytes), a refusal says why in one line, and a
 * success places image, modules and information block inside RAM, the
 * modules page-aligned and apart from each other and from the block.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/bootinfo.h"

#define RAM_SIZE (2u << 20)
#define GUARD 4096u
#define FILL 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[RAM_SIZE + GUARD];

static int overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1)
{
	return a0 < b1 && b0 < a1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum boot_protocol protocols[6] = {
		BOOT_AUTO, BOOT_ELF, BOOT_FLAT, BOOT_MULTIBOOT, BOOT_MULTIBOOT2, BOOT_PVH,
	};
	struct boot_module modules[3];
	struct boot_params p = { 0 };
	struct boot_layout out;
	char err[256];
	int rc;

	if (size < 4)
		return 0;
	const uint8_t *image = data + 4;
	size_t image_size = size - 4;

	memset(ram + RAM_SIZE, FILL, GUARD);
	p.protocol = protocols[data[0] % 6];
	p.image_name = "fuzz.img";
	p.args = (data[1] & 8) ? "console=ttyS0" : NULL;
	p.flat_load_addr = 0x1000;
	p.nmodules = data[1] & 3;
	for (unsigned i = 0; i < p.nmodules; i++) {
		size_t msize = (size_t)data[2] << (i * 3);
		if (msize > image_size)
			msize = image_size;
		modules[i] = (struct boot_module){ image, msize, "m", (data[3] & 1) ? "x y" : NULL };
	}
	p.modules = modules;
	if (data[1] & 4) {
		uint64_t at = (data[1] & 16) ? RAM_SIZE - 24 : 0xf0000;
		memcpy(ram + at, "RSD PTR ", 8);
		ram[at + 15] = 2;
		if (at + 24 <= RAM_SIZE) {
			ram[at + 20] = 36;
			ram[at + 21] = ram[at + 22] = ram[at + 23] = 0;
		}
		p.rsdp = at;
	}

	rc = boot_load(image, image_size, ram, RAM_SIZE, &p, &out, err, sizeof(err));
	for (size_t i = RAM_SIZE; i < sizeof(ram); i++)
		if (ram[i] != FILL)
			abort(); /* a write past RAM */
	if (rc) {
		if (rc != -EINVAL && rc != -E2BIG)
			abort();
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL || strchr(err, '\n'))
			abort(); /* a refusal must say why, in one line */
		return 0;
	}
	if (out.protocol == BOOT_AUTO || out.nranges == 0 || out.nranges > BOOT_MAX_RANGES)
		abort();
	for (unsigned i = 0; i < out.nranges; i++)
		if (out.ranges[i][0] > out.ranges[i][1] || out.ranges[i][1] > RAM_SIZE)
			abort(); /* something placed outside RAM */
	if (!out.protocol_regs)
		return 0;
	if (out.entry >= RAM_SIZE || out.info_addr % 4096 || out.info_size == 0 ||
	    out.info_addr + out.info_size > RAM_SIZE || out.ebx != out.info_addr)
		abort();
	for (unsigned i = 0; i < p.nmodules; i++) {
		uint64_t a0 = out.module_addr[i], a1 = a0 + modules[i].size;
		if (a0 % 4096 || a1 > RAM_SIZE)
			abort();
		if (modules[i].size && overlap(a0, a1, out.info_addr, out.info_addr + out.info_size))
			abort();
		for (unsigned j = 0; j < i; j++) {
			uint64_t b0 = out.module_addr[j], b1 = b0 + modules[j].size;
			if (modules[i].size && modules[j].size && overlap(a0, a1, b0, b1))
				abort();
		}
		if (modules[i].size && memcmp(ram + a0, modules[i].data, modules[i].size) != 0)
			abort(); /* a module not copied verbatim */
	}
	return 0;
}
