/* kvm/loader.h — turns an image file's bytes into guest RAM contents.
 *
 * Pure: a byte buffer in, a RAM buffer out, no files and no KVM. ELF32 and
 * ELF64 executables are loaded by PT_LOAD p_paddr; anything else that is not
 * empty is a flat binary placed at a given address.
 */
#ifndef KVMSTUB_LOADER_H
#define KVMSTUB_LOADER_H

#include <stddef.h>
#include <stdint.h>

#define IMAGE_MAX_SEGMENTS 64

enum image_kind { IMAGE_FLAT, IMAGE_ELF32, IMAGE_ELF64 };

struct image_segment {
	uint64_t paddr; /* guest-physical start */
	uint64_t memsz; /* bytes it occupies in RAM (file bytes + zero fill) */
};

struct image_info {
	enum image_kind kind;
	uint64_t entry; /* e_entry, or the flat load address */
	unsigned nsegments;
	struct image_segment segments[IMAGE_MAX_SEGMENTS];
};

/* Checks the whole image first, then copies it into ram[0..ram_size):
 * on error RAM is untouched, and err holds one line naming the problem
 * (and the segment, for ELF), without a trailing newline.
 * Returns 0, or -EINVAL for a bad image, -E2BIG for one that does not fit. */
int image_load(const uint8_t *file, size_t file_size, uint8_t *ram,
	       uint64_t ram_size, uint64_t flat_load_addr,
	       struct image_info *info, char *err, size_t err_size);

#endif
