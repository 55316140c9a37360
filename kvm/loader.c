/* kvm/loader.c — checks an image file's bytes and copies them into guest RAM.
 *
 * Pure: no files, no KVM, no printing, no allocation. The file is outside
 * data: every field is read byte-wise (never through a cast pointer into the
 * buffer), every offset and length is checked once with arithmetic that
 * cannot overflow, and nothing is written to RAM until the whole image has
 * been checked.
 */
#include "kvm/loader.h"

#include "kvm/image_bytes.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* No real kernel comes near this; a bigger count is a corrupt or hostile
 * header, and refusing it keeps the checking loop short. */
#define ELF_MAX_PROGRAM_HEADERS 4096

/* The header fields we use, the same for both classes once widened. */
struct elf_header {
	enum image_kind kind;
	uint16_t type;
	uint16_t machine;
	uint64_t entry;
	uint64_t phoff;
	uint16_t phentsize;
	uint16_t phnum;
};

struct elf_program_header {
	uint32_t type;
	uint64_t offset;
	uint64_t paddr;
	uint64_t filesz;
	uint64_t memsz;
};

/* A PT_LOAD that passed every check: what to copy and where. */
struct loadable_segment {
	uint64_t file_offset;
	uint64_t filesz;
	uint64_t paddr;
	uint64_t memsz;
};

/* "64 MiB" reads better than 0x4000000 in a message about RAM size. */
static void format_ram_size(char *out, size_t out_size, uint64_t bytes)
{
	if (bytes != 0 && bytes % (UINT64_C(1) << 30) == 0)
		snprintf(out, out_size, "%" PRIu64 " GiB", bytes >> 30);
	else if (bytes != 0 && bytes % (UINT64_C(1) << 20) == 0)
		snprintf(out, out_size, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes != 0 && bytes % 1024 == 0)
		snprintf(out, out_size, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(out, out_size, "0x%" PRIx64 " bytes", bytes);
}

/* True when [start, start + len) lies inside [0, limit). */
static bool range_fits(uint64_t start, uint64_t len, uint64_t limit)
{
	return start <= limit && len <= limit - start;
}

static bool starts_with_elf_magic(const uint8_t *file, size_t file_size)
{
	return file_size >= SELFMAG && memcmp(file, ELFMAG, SELFMAG) == 0;
}

static const char *elf_type_name(uint16_t type)
{
	switch (type) {
	case ET_NONE: return "ET_NONE";
	case ET_REL: return "ET_REL, a relocatable object";
	case ET_DYN: return "ET_DYN, a shared object or PIE";
	case ET_CORE: return "ET_CORE, a core dump";
	default: return "unknown";
	}
}

static int parse_elf_header(const uint8_t *file, size_t file_size,
			    struct elf_header *hdr, char *err, size_t err_size)
{
	size_t header_size;
	uint8_t elf_class;

	if (file_size < EI_NIDENT) {
		image_error(err, err_size,
			     "ELF: header truncated: the file is %zu bytes, "
			     "shorter than the %d-byte identification",
			     file_size, EI_NIDENT);
		return -EINVAL;
	}
	elf_class = file[EI_CLASS];
	if (elf_class == ELFCLASS32) {
		hdr->kind = IMAGE_ELF32;
		header_size = sizeof(Elf32_Ehdr);
	} else if (elf_class == ELFCLASS64) {
		hdr->kind = IMAGE_ELF64;
		header_size = sizeof(Elf64_Ehdr);
	} else {
		image_error(err, err_size,
			     "ELF: class %u is neither ELFCLASS32 nor ELFCLASS64",
			     elf_class);
		return -EINVAL;
	}
	if (file[EI_DATA] != ELFDATA2LSB) {
		image_error(err, err_size,
			     "ELF: data encoding %u is not little-endian "
			     "(ELFDATA2LSB); x86 images are little-endian",
			     file[EI_DATA]);
		return -EINVAL;
	}
	if (file[EI_VERSION] != EV_CURRENT) {
		image_error(err, err_size,
			     "ELF: identification version %u is not EV_CURRENT (1)",
			     file[EI_VERSION]);
		return -EINVAL;
	}
	if (file_size < header_size) {
		image_error(err, err_size,
			     "ELF: header truncated: the file is %zu bytes, "
			     "the ELF%s header needs %zu",
			     file_size, hdr->kind == IMAGE_ELF32 ? "32" : "64",
			     header_size);
		return -EINVAL;
	}

	/* The ELF32 and ELF64 headers agree up to e_entry, then the address
	 * fields widen; offsets from the gABI. */
	hdr->type = image_le16(file + 16);
	hdr->machine = image_le16(file + 18);
	if (hdr->kind == IMAGE_ELF32) {
		hdr->entry = image_le32(file + 24);
		hdr->phoff = image_le32(file + 28);
		hdr->phentsize = image_le16(file + 42);
		hdr->phnum = image_le16(file + 44);
	} else {
		hdr->entry = image_le64(file + 24);
		hdr->phoff = image_le64(file + 32);
		hdr->phentsize = image_le16(file + 54);
		hdr->phnum = image_le16(file + 56);
	}
	return 0;
}

static int check_elf_header(const struct elf_header *hdr, size_t file_size,
			    char *err, size_t err_size)
{
	uint16_t wanted_machine = hdr->kind == IMAGE_ELF32 ? EM_386 : EM_X86_64;
	size_t wanted_phentsize = hdr->kind == IMAGE_ELF32 ?
		sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
	uint64_t table_size;

	if (hdr->type != ET_EXEC) {
		image_error(err, err_size,
			     "ELF: type %u (%s) is not an executable (ET_EXEC); "
			     "link the kernel static and without -pie",
			     hdr->type, elf_type_name(hdr->type));
		return -EINVAL;
	}
	if (hdr->machine != EM_386 && hdr->machine != EM_X86_64) {
		image_error(err, err_size,
			     "ELF: machine %u is not x86 (EM_386/EM_X86_64)",
			     hdr->machine);
		return -EINVAL;
	}
	if (hdr->machine != wanted_machine) {
		image_error(err, err_size,
			     "ELF: an ELF%s file must have machine %u (%s), "
			     "not %u",
			     hdr->kind == IMAGE_ELF32 ? "32" : "64",
			     wanted_machine,
			     hdr->kind == IMAGE_ELF32 ? "EM_386" : "EM_X86_64",
			     hdr->machine);
		return -EINVAL;
	}
	if (hdr->phentsize != wanted_phentsize) {
		image_error(err, err_size,
			     "ELF: program header size %u is not %zu, the size "
			     "for ELF%s",
			     hdr->phentsize, wanted_phentsize,
			     hdr->kind == IMAGE_ELF32 ? "32" : "64");
		return -EINVAL;
	}
	if (hdr->phnum == 0) {
		image_error(err, err_size,
			     "ELF: no program headers, so nothing to load");
		return -EINVAL;
	}
	/* PN_XNUM (0xffff) lands here too: that many headers is never a
	 * kernel, so the count hidden in section 0 is not worth reading. */
	if (hdr->phnum > ELF_MAX_PROGRAM_HEADERS) {
		image_error(err, err_size,
			     "ELF: %u program headers is more than the %d this "
			     "loader accepts",
			     hdr->phnum, ELF_MAX_PROGRAM_HEADERS);
		return -EINVAL;
	}
	/* At most 4096 * 56 bytes: the product cannot overflow. */
	table_size = (uint64_t)hdr->phnum * hdr->phentsize;
	if (!range_fits(hdr->phoff, table_size, file_size)) {
		image_error(err, err_size,
			     "ELF: program header table 0x%" PRIx64 "+0x%" PRIx64
			     " is past the end of the file (0x%zx bytes)",
			     hdr->phoff, table_size, file_size);
		return -EINVAL;
	}
	return 0;
}

static void read_program_header(const uint8_t *file,
				const struct elf_header *hdr, unsigned index,
				struct elf_program_header *ph)
{
	const uint8_t *p = file + hdr->phoff + (uint64_t)index * hdr->phentsize;

	ph->type = image_le32(p);
	if (hdr->kind == IMAGE_ELF32) {
		ph->offset = image_le32(p + 4);
		ph->paddr = image_le32(p + 12);
		ph->filesz = image_le32(p + 16);
		ph->memsz = image_le32(p + 20);
	} else {
		ph->offset = image_le64(p + 8);
		ph->paddr = image_le64(p + 24);
		ph->filesz = image_le64(p + 32);
		ph->memsz = image_le64(p + 40);
	}
}

/* Checks every PT_LOAD and lists the ones with bytes to place. Returns the
 * number listed, or a negative errno with err filled. */
static int collect_loadable_segments(const uint8_t *file, size_t file_size,
				     const struct elf_header *hdr,
				     uint64_t ram_size,
				     struct loadable_segment *out,
				     char *err, size_t err_size)
{
	char ram_text[32];
	int count = 0;

	for (unsigned i = 0; i < hdr->phnum; i++) {
		struct elf_program_header ph;

		read_program_header(file, hdr, i, &ph);
		if (ph.type != PT_LOAD)
			continue;
		if (ph.filesz > ph.memsz) {
			image_error(err, err_size,
				     "ELF segment %u: file size 0x%" PRIx64
				     " is larger than its memory size 0x%" PRIx64,
				     i, ph.filesz, ph.memsz);
			return -EINVAL;
		}
		/* An empty PT_LOAD occupies nothing, wherever it says it is. */
		if (ph.memsz == 0)
			continue;
		/* A bss-only segment reads no file bytes, and linkers may give
		 * it an offset past the end of a stripped file. */
		if (ph.filesz != 0 &&
		    !range_fits(ph.offset, ph.filesz, file_size)) {
			image_error(err, err_size,
				     "ELF segment %u: file range 0x%" PRIx64
				     "+0x%" PRIx64 " is past the end of the file "
				     "(0x%zx bytes)",
				     i, ph.offset, ph.filesz, file_size);
			return -EINVAL;
		}
		if (!range_fits(ph.paddr, ph.memsz, ram_size)) {
			format_ram_size(ram_text, sizeof(ram_text), ram_size);
			image_error(err, err_size,
				     "ELF segment %u: physical range 0x%" PRIx64
				     "+0x%" PRIx64 " does not fit in %s of RAM",
				     i, ph.paddr, ph.memsz, ram_text);
			return -E2BIG;
		}
		if (count == IMAGE_MAX_SEGMENTS) {
			image_error(err, err_size,
				     "ELF segment %u: more than %d loadable "
				     "segments", i, IMAGE_MAX_SEGMENTS);
			return -EINVAL;
		}
		out[count].file_offset = ph.offset;
		out[count].filesz = ph.filesz;
		out[count].paddr = ph.paddr;
		out[count].memsz = ph.memsz;
		count++;
	}
	if (count == 0) {
		image_error(err, err_size,
			     "ELF: no PT_LOAD segment with a memory size, so "
			     "nothing to load");
		return -EINVAL;
	}
	return count;
}

static int load_elf(const uint8_t *file, size_t file_size, uint8_t *ram,
		    uint64_t ram_size, struct image_info *info,
		    char *err, size_t err_size)
{
	struct loadable_segment segments[IMAGE_MAX_SEGMENTS];
	struct elf_header hdr;
	int count;
	int rc;

	rc = parse_elf_header(file, file_size, &hdr, err, err_size);
	if (rc)
		return rc;
	rc = check_elf_header(&hdr, file_size, err, err_size);
	if (rc)
		return rc;
	count = collect_loadable_segments(file, file_size, &hdr, ram_size,
					  segments, err, err_size);
	if (count < 0)
		return count;

	/* Everything is checked: only now does RAM change. Segments are copied
	 * in header order, so where two overlap the later one wins. */
	for (int i = 0; i < count; i++) {
		const struct loadable_segment *seg = &segments[i];

		/* file + file_offset is only a valid pointer when bytes are
		 * read from there. */
		if (seg->filesz != 0)
			memcpy(ram + seg->paddr, file + seg->file_offset,
			       seg->filesz);
		memset(ram + seg->paddr + seg->filesz, 0,
		       seg->memsz - seg->filesz);
	}

	info->kind = hdr.kind;
	/* e_entry is not checked against RAM or the segments: it is a
	 * virtual address that only means something once the mode and any
	 * page tables are set up, and a bad one shows up as a guest fault
	 * that gdb can inspect, which is more useful than a refusal. */
	info->entry = hdr.entry;
	info->nsegments = (unsigned)count;
	for (int i = 0; i < count; i++) {
		info->segments[i].paddr = segments[i].paddr;
		info->segments[i].memsz = segments[i].memsz;
	}
	return 0;
}

static int load_flat(const uint8_t *file, size_t file_size, uint8_t *ram,
		     uint64_t ram_size, uint64_t load_addr,
		     struct image_info *info, char *err, size_t err_size)
{
	char ram_text[32];

	if (!range_fits(load_addr, file_size, ram_size)) {
		format_ram_size(ram_text, sizeof(ram_text), ram_size);
		image_error(err, err_size,
			     "flat image of 0x%zx bytes at 0x%" PRIx64
			     " does not fit in %s of RAM",
			     file_size, load_addr, ram_text);
		return -E2BIG;
	}
	memcpy(ram + load_addr, file, file_size);
	info->kind = IMAGE_FLAT;
	info->entry = load_addr;
	info->nsegments = 1;
	info->segments[0].paddr = load_addr;
	info->segments[0].memsz = file_size;
	return 0;
}

int image_load(const uint8_t *file, size_t file_size, uint8_t *ram,
	       uint64_t ram_size, uint64_t flat_load_addr,
	       struct image_info *info, char *err, size_t err_size)
{
	struct image_info unused_info;

	if (!info)
		info = &unused_info;
	if (err && err_size)
		err[0] = '\0';
	if (file_size == 0) {
		image_error(err, err_size, "the image file is empty");
		return -EINVAL;
	}
	/* Anything with the magic is meant to be ELF: loading a broken one as
	 * flat bytes would run its header as code. */
	if (starts_with_elf_magic(file, file_size))
		return load_elf(file, file_size, ram, ram_size, info, err,
				err_size);
	return load_flat(file, file_size, ram, ram_size, flat_load_addr, info,
			 err, err_size);
}
