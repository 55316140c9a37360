/* fuzz/fuzz_loader.c — libFuzzer harness for kvm/loader: the input is the
 * image file.
 *
 * Beyond what the sanitizers catch (a read past the input or a write past
 * RAM), it checks the loader's promises: a refusal leaves RAM untouched and
 * says why, a success lists segments that lie inside RAM.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kvm/loader.h"

#define FUZZ_RAM_SIZE (1u << 20)
#define RAM_FILL 0xa5

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t ram[FUZZ_RAM_SIZE];
static uint8_t ram_pristine[FUZZ_RAM_SIZE];
static int ram_dirty = 1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_info info;
	char err[200];
	uint64_t flat_load_addr;
	int rc;

	/* Refilling 1 MiB is only needed after a load wrote to it. */
	if (ram_dirty) {
		memset(ram, RAM_FILL, sizeof(ram));
		memset(ram_pristine, RAM_FILL, sizeof(ram_pristine));
		ram_dirty = 0;
	}
	/* The last byte picks a flat load address from 0 to just under 2 MiB,
	 * so about half of flat images land past the end of RAM. */
	flat_load_addr = size ? (uint64_t)data[size - 1] << 13 : 0;

	rc = image_load(data, size, ram, sizeof(ram), flat_load_addr, &info,
			err, sizeof(err));
	if (rc != 0) {
		if (memcmp(ram, ram_pristine, sizeof(ram)) != 0)
			abort(); /* a refused image changed RAM */
		if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
			abort(); /* a refusal without a message */
		if (rc != -EINVAL && rc != -E2BIG)
			abort();
		return 0;
	}
	ram_dirty = 1;
	if (info.nsegments == 0 || info.nsegments > IMAGE_MAX_SEGMENTS)
		abort();
	for (unsigned i = 0; i < info.nsegments; i++) {
		const struct image_segment *seg = &info.segments[i];

		if (seg->paddr > sizeof(ram) ||
		    seg->memsz > sizeof(ram) - seg->paddr)
			abort(); /* a segment reported outside RAM */
	}
	if (info.kind == IMAGE_FLAT &&
	    memcmp(ram + flat_load_addr, data, size) != 0)
		abort(); /* a flat image not copied verbatim */
	return 0;
}
