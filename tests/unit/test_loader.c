/* tests/unit/test_loader.c — kvm/loader: what lands in RAM and what is refused.
 *
 * Images are built here as byte arrays by small helpers, so each test shows
 * the one field it breaks. Every refusal is also checked to leave RAM exactly
 * as it was and to say what was wrong in one line.
 */
#include "kvm/loader.h"
#include "kvm/image_bytes.h"

#include <errno.h>
#include <string.h>

#include "tests/unit/check.h"

#define RAM_SIZE 0x10000 /* 64 KiB */
#define RAM_FILL 0xa5    /* what RAM holds before a load */
#define FILE_CAP 0x4000

static uint8_t ram[RAM_SIZE];
static uint8_t file[FILE_CAP];
static struct image_info info;
static char err[256];

struct test_segment {
	uint32_t type;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

static void reset(void)
{
	memset(ram, RAM_FILL, sizeof(ram));
	memset(file, 0, sizeof(file));
	memset(&info, 0, sizeof(info));
	memset(err, 0, sizeof(err));
}

static int ram_untouched(void)
{
	for (size_t i = 0; i < sizeof(ram); i++)
		if (ram[i] != RAM_FILL)
			return 0;
	return 1;
}

static void put_ident(uint8_t elf_class)
{
	file[0] = 0x7f;
	file[1] = 'E';
	file[2] = 'L';
	file[3] = 'F';
	file[4] = elf_class;
	file[5] = 1; /* ELFDATA2LSB */
	file[6] = 1; /* EV_CURRENT */
}

/* An ELF64 x86-64 executable header with its program headers right after
 * it at 64. Returns the offset just past the program header table. */
static size_t build_elf64(uint64_t entry, const struct test_segment *segs,
			  unsigned nsegs)
{
	put_ident(2);
	image_put_le16(file + 16, 2);   /* ET_EXEC */
	image_put_le16(file + 18, 62);  /* EM_X86_64 */
	image_put_le32(file + 20, 1);   /* e_version */
	image_put_le64(file + 24, entry);
	image_put_le64(file + 32, 64);  /* e_phoff */
	image_put_le16(file + 52, 64);  /* e_ehsize */
	image_put_le16(file + 54, 56);  /* e_phentsize */
	image_put_le16(file + 56, (uint16_t)nsegs);
	for (unsigned i = 0; i < nsegs; i++) {
		uint8_t *ph = file + 64 + 56 * i;

		image_put_le32(ph, segs[i].type);
		image_put_le32(ph + 4, 7); /* p_flags RWX */
		image_put_le64(ph + 8, segs[i].offset);
		image_put_le64(ph + 16, segs[i].vaddr);
		image_put_le64(ph + 24, segs[i].paddr);
		image_put_le64(ph + 32, segs[i].filesz);
		image_put_le64(ph + 40, segs[i].memsz);
		image_put_le64(ph + 48, 0x1000);
	}
	return 64 + 56 * (size_t)nsegs;
}

/* The same for ELF32 i386: header 52 bytes, program headers of 32. */
static size_t build_elf32(uint32_t entry, const struct test_segment *segs,
			  unsigned nsegs)
{
	put_ident(1);
	image_put_le16(file + 16, 2);  /* ET_EXEC */
	image_put_le16(file + 18, 3);  /* EM_386 */
	image_put_le32(file + 20, 1);
	image_put_le32(file + 24, entry);
	image_put_le32(file + 28, 52); /* e_phoff */
	image_put_le16(file + 40, 52); /* e_ehsize */
	image_put_le16(file + 42, 32); /* e_phentsize */
	image_put_le16(file + 44, (uint16_t)nsegs);
	for (unsigned i = 0; i < nsegs; i++) {
		uint8_t *ph = file + 52 + 32 * i;

		image_put_le32(ph, segs[i].type);
		image_put_le32(ph + 4, (uint32_t)segs[i].offset);
		image_put_le32(ph + 8, (uint32_t)segs[i].vaddr);
		image_put_le32(ph + 12, (uint32_t)segs[i].paddr);
		image_put_le32(ph + 16, (uint32_t)segs[i].filesz);
		image_put_le32(ph + 20, (uint32_t)segs[i].memsz);
		image_put_le32(ph + 24, 7);
		image_put_le32(ph + 28, 0x1000);
	}
	return 52 + 32 * (size_t)nsegs;
}

/* A valid one-segment ELF64: 0x100 bytes of 0x11.. at file 0x200 loaded to
 * 0x2000, memsz 0x180. Tests break one field of it. */
static size_t build_simple_elf64(void)
{
	struct test_segment seg = {
		.type = 1, .offset = 0x200, .vaddr = 0xffff800000002000,
		.paddr = 0x2000, .filesz = 0x100, .memsz = 0x180,
	};

	build_elf64(0x2000, &seg, 1);
	memset(file + 0x200, 0x11, 0x100);
	return 0x300;
}

/* Offsets of the first program header's fields in build_simple_elf64. */
#define PH0 64
#define PH0_OFFSET (PH0 + 8)
#define PH0_PADDR (PH0 + 24)
#define PH0_FILESZ (PH0 + 32)
#define PH0_MEMSZ (PH0 + 40)

static int load(size_t size)
{
	return image_load(file, size, ram, RAM_SIZE, 0x1000, &info, err,
			  sizeof(err));
}

/* A refusal: the errno we expect, RAM as it was, one non-empty line that
 * mentions `needle`. */
#define CHECK_REFUSED(rc, want_rc, needle)                                 \
	do {                                                               \
		CHECK_EQ((rc), (want_rc));                                 \
		CHECK(ram_untouched());                                    \
		CHECK(err[0] != '\0');                                     \
		CHECK(strchr(err, '\n') == NULL);                          \
		if (!strstr(err, (needle))) {                              \
			printf("  %s:%d: error '%s' does not mention '%s'\n", \
			       __FILE__, __LINE__, err, (needle));         \
			check_failures_in_test++;                          \
		}                                                          \
	} while (0)

static void test_elf64_executable_is_loaded_at_its_physical_addresses(void)
{
	struct test_segment segs[2] = {
		{ .type = 1, .offset = 0x200, .vaddr = 0xffffffff80001000,
		  .paddr = 0x1000, .filesz = 0x10, .memsz = 0x10 },
		{ .type = 1, .offset = 0x210, .vaddr = 0xffffffff80008000,
		  .paddr = 0x8000, .filesz = 0x8, .memsz = 0x8 },
	};

	reset();
	build_elf64(0x1004, segs, 2);
	memset(file + 0x200, 0x22, 0x10);
	memset(file + 0x210, 0x33, 0x8);
	CHECK_EQ(load(0x218), 0);
	CHECK_EQ(info.kind, IMAGE_ELF64);
	CHECK_EQ(info.entry, 0x1004);
	CHECK_EQ(info.nsegments, 2);
	CHECK_EQ(info.segments[0].paddr, 0x1000);
	CHECK_EQ(info.segments[0].memsz, 0x10);
	CHECK_EQ(info.segments[1].paddr, 0x8000);
	CHECK_EQ(info.segments[1].memsz, 0x8);
	CHECK_EQ(ram[0x0fff], RAM_FILL);
	CHECK_EQ(ram[0x1000], 0x22);
	CHECK_EQ(ram[0x100f], 0x22);
	CHECK_EQ(ram[0x1010], RAM_FILL);
	CHECK_EQ(ram[0x8000], 0x33);
	CHECK_EQ(ram[0x8007], 0x33);
	CHECK_EQ(ram[0x8008], RAM_FILL);
	CHECK_EQ(err[0], '\0');
}

static void test_elf32_executable_is_loaded_at_its_physical_addresses(void)
{
	struct test_segment seg = {
		.type = 1, .offset = 0x100, .vaddr = 0xc0003000,
		.paddr = 0x3000, .filesz = 0x20, .memsz = 0x20,
	};

	reset();
	build_elf32(0x3010, &seg, 1);
	memset(file + 0x100, 0x44, 0x20);
	CHECK_EQ(load(0x120), 0);
	CHECK_EQ(info.kind, IMAGE_ELF32);
	CHECK_EQ(info.entry, 0x3010);
	CHECK_EQ(info.nsegments, 1);
	CHECK_EQ(info.segments[0].paddr, 0x3000);
	CHECK_EQ(info.segments[0].memsz, 0x20);
	CHECK_EQ(ram[0x2fff], RAM_FILL);
	CHECK_EQ(ram[0x3000], 0x44);
	CHECK_EQ(ram[0x301f], 0x44);
	CHECK_EQ(ram[0x3020], RAM_FILL);
}

static void test_elf64_bss_past_file_size_is_zero_filled(void)
{
	reset();
	CHECK_EQ(load(build_simple_elf64()), 0);
	CHECK_EQ(ram[0x20ff], 0x11);
	for (unsigned i = 0x2100; i < 0x2180; i++)
		CHECK_EQ(ram[i], 0);
	CHECK_EQ(ram[0x2180], RAM_FILL);
	CHECK_EQ(info.segments[0].memsz, 0x180);
}

static void test_elf32_bss_only_segment_is_zero_filled(void)
{
	struct test_segment segs[2] = {
		{ .type = 1, .offset = 0x100, .paddr = 0x1000,
		  .filesz = 4, .memsz = 4 },
		{ .type = 1, .offset = 0, .paddr = 0x5000,
		  .filesz = 0, .memsz = 0x800 },
	};

	reset();
	build_elf32(0x1000, segs, 2);
	memset(file + 0x100, 0x90, 4);
	CHECK_EQ(load(0x104), 0);
	CHECK_EQ(ram[0x1003], 0x90);
	CHECK_EQ(ram[0x4fff], RAM_FILL);
	CHECK_EQ(ram[0x5000], 0);
	CHECK_EQ(ram[0x57ff], 0);
	CHECK_EQ(ram[0x5800], RAM_FILL);
}

static void test_elf64_bss_only_segment_with_offset_past_end_of_file_is_loaded(void)
{
	struct test_segment segs[2] = {
		{ .type = 1, .offset = 0x200, .paddr = 0x1000,
		  .filesz = 1, .memsz = 1 },
		{ .type = 1, .offset = 0x5000, .paddr = 0x6000,
		  .filesz = 0, .memsz = 0x100 },
	};

	reset();
	build_elf64(0x1000, segs, 2);
	file[0x200] = 0xf4;
	CHECK_EQ(load(0x201), 0);
	CHECK_EQ(info.nsegments, 2);
	CHECK_EQ(ram[0x1000], 0xf4);
	CHECK_EQ(ram[0x6000], 0);
	CHECK_EQ(ram[0x60ff], 0);
	CHECK_EQ(ram[0x6100], RAM_FILL);
}

static void test_elf_segments_other_than_pt_load_are_ignored(void)
{
	struct test_segment segs[2] = {
		/* PT_NOTE with ranges that would fail every check if loaded */
		{ .type = 4, .offset = UINT64_MAX, .paddr = UINT64_MAX,
		  .filesz = 0x100000, .memsz = 1 },
		{ .type = 1, .offset = 0x200, .paddr = 0x1000,
		  .filesz = 2, .memsz = 2 },
	};

	reset();
	build_elf64(0x1000, segs, 2);
	file[0x200] = 0xeb;
	file[0x201] = 0xfe;
	CHECK_EQ(load(0x202), 0);
	CHECK_EQ(info.nsegments, 1);
	CHECK_EQ(ram[0x1000], 0xeb);
	CHECK_EQ(ram[0x1001], 0xfe);
}

static void test_elf_empty_pt_load_is_skipped(void)
{
	struct test_segment segs[2] = {
		/* empty, and pointing nowhere: it has nothing to place */
		{ .type = 1, .offset = UINT64_MAX, .paddr = UINT64_MAX,
		  .filesz = 0, .memsz = 0 },
		{ .type = 1, .offset = 0x200, .paddr = 0x1000,
		  .filesz = 1, .memsz = 1 },
	};

	reset();
	build_elf64(0x1000, segs, 2);
	file[0x200] = 0xf4;
	CHECK_EQ(load(0x201), 0);
	CHECK_EQ(info.nsegments, 1);
	CHECK_EQ(info.segments[0].paddr, 0x1000);
	CHECK_EQ(ram[0], RAM_FILL);
}

static void test_elf64_segment_ending_exactly_at_end_of_ram_is_loaded(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_PADDR, RAM_SIZE - 0x180);
	CHECK_EQ(load(0x300), 0);
	CHECK_EQ(ram[RAM_SIZE - 0x180], 0x11);
	CHECK_EQ(ram[RAM_SIZE - 1], 0);
}

static void test_elf64_with_max_segments_is_loaded(void)
{
	struct test_segment segs[IMAGE_MAX_SEGMENTS];

	reset();
	for (unsigned i = 0; i < IMAGE_MAX_SEGMENTS; i++) {
		segs[i] = (struct test_segment){
			.type = 1, .offset = 0x1000 + i, .paddr = 0x100 * i,
			.filesz = 1, .memsz = 0x10,
		};
		file[0x1000 + i] = (uint8_t)i;
	}
	build_elf64(0, segs, IMAGE_MAX_SEGMENTS);
	CHECK_EQ(load(0x1000 + IMAGE_MAX_SEGMENTS), 0);
	CHECK_EQ(info.nsegments, IMAGE_MAX_SEGMENTS);
	CHECK_EQ(ram[0x100 * 63], 63);
	CHECK_EQ(ram[0x100 * 63 + 1], 0);
}

static void test_flat_binary_is_copied_to_the_load_address(void)
{
	static const uint8_t code[] = { 0xb0, 0x41, 0xe6, 0xe9, 0xf4 };

	reset();
	memcpy(file, code, sizeof(code));
	CHECK_EQ(image_load(file, sizeof(code), ram, RAM_SIZE, 0x7c00, &info,
			    err, sizeof(err)), 0);
	CHECK_EQ(info.kind, IMAGE_FLAT);
	CHECK_EQ(info.entry, 0x7c00);
	CHECK_EQ(info.nsegments, 1);
	CHECK_EQ(info.segments[0].paddr, 0x7c00);
	CHECK_EQ(info.segments[0].memsz, sizeof(code));
	CHECK(memcmp(ram + 0x7c00, code, sizeof(code)) == 0);
	CHECK_EQ(ram[0x7bff], RAM_FILL);
	CHECK_EQ(ram[0x7c05], RAM_FILL);
}

static void test_flat_binary_exactly_filling_ram_is_loaded(void)
{
	reset();
	memset(file, 0x90, 0x1000);
	CHECK_EQ(image_load(file, 0x1000, ram, RAM_SIZE, RAM_SIZE - 0x1000,
			    &info, err, sizeof(err)), 0);
	CHECK_EQ(ram[RAM_SIZE - 1], 0x90);
}

static void test_file_with_partial_elf_magic_is_flat(void)
{
	reset();
	memcpy(file, "\x7f" "EL", 3);
	CHECK_EQ(load(3), 0);
	CHECK_EQ(info.kind, IMAGE_FLAT);
	CHECK_EQ(ram[0x1000], 0x7f);
	CHECK_EQ(ram[0x1002], 'L');
}

static void test_null_info_and_error_buffer_are_allowed(void)
{
	reset();
	build_simple_elf64();
	CHECK_EQ(image_load(file, 0x300, ram, RAM_SIZE, 0, NULL, NULL, 0), 0);
	CHECK_EQ(image_load(file, 0, ram, RAM_SIZE, 0, NULL, NULL, 0), -EINVAL);
}

static void test_long_error_is_cut_to_the_buffer_and_terminated(void)
{
	char small[12];

	reset();
	memset(small, 'x', sizeof(small));
	CHECK_EQ(image_load(file, 0, ram, RAM_SIZE, 0, &info, small,
			    sizeof(small)), -EINVAL);
	CHECK(memchr(small, '\0', sizeof(small)) != NULL);
	CHECK(strlen(small) == sizeof(small) - 1);
}

/* --- refusals --- */

static void test_empty_file_is_refused(void)
{
	reset();
	CHECK_REFUSED(load(0), -EINVAL, "empty");
}

static void test_elf_magic_alone_is_refused_not_loaded_flat(void)
{
	reset();
	memcpy(file, "\x7f" "ELF", 4);
	CHECK_REFUSED(load(4), -EINVAL, "truncated");
}

static void test_elf64_truncated_header_is_refused(void)
{
	reset();
	build_simple_elf64();
	CHECK_REFUSED(load(40), -EINVAL, "truncated");
	CHECK(strstr(err, "64") != NULL);
}

static void test_elf32_truncated_header_is_refused(void)
{
	reset();
	build_elf32(0, NULL, 0);
	CHECK_REFUSED(load(51), -EINVAL, "truncated");
}

static void test_elf_unknown_class_is_refused(void)
{
	reset();
	build_simple_elf64();
	file[4] = 3;
	CHECK_REFUSED(load(0x300), -EINVAL, "class 3");
}

static void test_elf_big_endian_is_refused(void)
{
	reset();
	build_simple_elf64();
	file[5] = 2; /* ELFDATA2MSB */
	CHECK_REFUSED(load(0x300), -EINVAL, "little-endian");
}

static void test_elf_bad_ident_version_is_refused(void)
{
	reset();
	build_simple_elf64();
	file[6] = 0;
	CHECK_REFUSED(load(0x300), -EINVAL, "version");
}

static void test_elf_non_x86_machine_is_refused_naming_it(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 18, 40); /* EM_ARM */
	CHECK_REFUSED(load(0x300), -EINVAL,
		      "machine 40 is not x86 (EM_386/EM_X86_64)");
}

static void test_elf32_with_x86_64_machine_is_refused(void)
{
	struct test_segment seg = { .type = 1, .offset = 0x100,
				    .paddr = 0x1000, .filesz = 1, .memsz = 1 };

	reset();
	build_elf32(0x1000, &seg, 1);
	image_put_le16(file + 18, 62);
	CHECK_REFUSED(load(0x101), -EINVAL, "EM_386");
}

static void test_elf64_with_i386_machine_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 18, 3);
	CHECK_REFUSED(load(0x300), -EINVAL, "EM_X86_64");
}

static void test_elf_shared_object_or_pie_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 16, 3); /* ET_DYN */
	CHECK_REFUSED(load(0x300), -EINVAL, "ET_DYN");
}

static void test_elf_relocatable_object_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 16, 1); /* ET_REL */
	CHECK_REFUSED(load(0x300), -EINVAL, "ET_REL");
}

static void test_elf64_wrong_program_header_size_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 54, 32);
	CHECK_REFUSED(load(0x300), -EINVAL, "program header size 32");
}

static void test_elf32_wrong_program_header_size_is_refused(void)
{
	struct test_segment seg = { .type = 1, .offset = 0x100,
				    .paddr = 0x1000, .filesz = 1, .memsz = 1 };

	reset();
	build_elf32(0x1000, &seg, 1);
	image_put_le16(file + 42, 56);
	CHECK_REFUSED(load(0x101), -EINVAL, "program header size 56");
}

static void test_elf64_program_headers_past_end_of_file_are_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + 32, 0x2e0); /* 0x2e0 + 56 > 0x300 */
	CHECK_REFUSED(load(0x300), -EINVAL, "program header table");
}

static void test_elf64_program_header_offset_near_2_64_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + 32, UINT64_MAX - 8);
	CHECK_REFUSED(load(0x300), -EINVAL, "program header table");
}

static void test_elf64_zero_program_headers_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 56, 0);
	CHECK_REFUSED(load(0x300), -EINVAL, "no program headers");
}

static void test_elf64_huge_program_header_count_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le16(file + 56, 0xffff); /* also PN_XNUM */
	CHECK_REFUSED(load(0x300), -EINVAL, "65535 program headers");
}

static void test_elf64_without_pt_load_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le32(file + PH0, 4); /* PT_NOTE */
	CHECK_REFUSED(load(0x300), -EINVAL, "no PT_LOAD");
}

static void test_elf64_with_only_empty_pt_load_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_FILESZ, 0);
	image_put_le64(file + PH0_MEMSZ, 0);
	CHECK_REFUSED(load(0x300), -EINVAL, "no PT_LOAD");
}

static void test_elf64_segment_past_end_of_file_is_refused(void)
{
	reset();
	build_simple_elf64();
	CHECK_REFUSED(load(0x2ff), -EINVAL,
		      "ELF segment 0: file range 0x200+0x100 is past the end "
		      "of the file (0x2ff bytes)");
}

static void test_elf64_segment_offset_plus_filesz_overflowing_2_64_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_OFFSET, UINT64_MAX - 0x7f); /* + 0x100 wraps to 0x80 */
	CHECK_REFUSED(load(0x300), -EINVAL, "ELF segment 0: file range");
}

static void test_elf64_segment_past_end_of_ram_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_PADDR, RAM_SIZE - 0x17f);
	CHECK_REFUSED(load(0x300), -E2BIG, "ELF segment 0: physical range");
	CHECK(strstr(err, "64 KiB of RAM") != NULL);
}

static void test_elf64_segment_paddr_plus_memsz_overflowing_2_64_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_PADDR, UINT64_MAX - 0xff); /* + 0x180 wraps */
	CHECK_REFUSED(load(0x300), -E2BIG, "ELF segment 0: physical range");
}

static void test_elf64_segment_with_huge_memsz_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_MEMSZ, UINT64_MAX);
	CHECK_REFUSED(load(0x300), -E2BIG, "ELF segment 0");
}

static void test_elf32_segment_past_end_of_ram_is_refused(void)
{
	struct test_segment seg = { .type = 1, .offset = 0x100,
				    .paddr = 0xfffff000, .filesz = 1,
				    .memsz = 0x2000 };

	reset();
	build_elf32(0x1000, &seg, 1);
	CHECK_REFUSED(load(0x101), -E2BIG, "ELF segment 0: physical range");
}

static void test_elf64_segment_filesz_larger_than_memsz_is_refused(void)
{
	reset();
	build_simple_elf64();
	image_put_le64(file + PH0_MEMSZ, 0xff);
	CHECK_REFUSED(load(0x300), -EINVAL,
		      "ELF segment 0: file size 0x100 is larger than its "
		      "memory size 0xff");
}

static void test_elf64_bad_later_segment_leaves_ram_untouched(void)
{
	struct test_segment segs[3] = {
		{ .type = 1, .offset = 0x200, .paddr = 0x1000,
		  .filesz = 0x10, .memsz = 0x10 },
		{ .type = 4 },
		{ .type = 1, .offset = 0x200, .paddr = 0x2000,
		  .filesz = 0x10, .memsz = RAM_SIZE },
	};

	reset();
	build_elf64(0x1000, segs, 3);
	memset(file + 0x200, 0x55, 0x10);
	CHECK_REFUSED(load(0x210), -E2BIG, "ELF segment 2");
}

static void test_elf64_more_than_max_segments_is_refused(void)
{
	struct test_segment segs[IMAGE_MAX_SEGMENTS + 1];

	reset();
	for (unsigned i = 0; i <= IMAGE_MAX_SEGMENTS; i++)
		segs[i] = (struct test_segment){
			.type = 1, .offset = 0x1000, .paddr = 0x100 * i,
			.filesz = 1, .memsz = 1,
		};
	build_elf64(0, segs, IMAGE_MAX_SEGMENTS + 1);
	CHECK_REFUSED(load(0x1001), -EINVAL, "ELF segment 64: more than 64");
}

static void test_flat_binary_past_end_of_ram_is_refused(void)
{
	reset();
	memset(file, 0x90, 0x1001);
	CHECK_REFUSED(image_load(file, 0x1001, ram, RAM_SIZE, RAM_SIZE - 0x1000,
				 &info, err, sizeof(err)),
		      -E2BIG,
		      "flat image of 0x1001 bytes at 0xf000 does not fit in "
		      "64 KiB of RAM");
}

static void test_flat_binary_loaded_past_ram_is_refused(void)
{
	reset();
	file[0] = 0xf4;
	CHECK_REFUSED(image_load(file, 1, ram, RAM_SIZE, RAM_SIZE, &info, err,
				 sizeof(err)),
		      -E2BIG, "does not fit");
}

static void test_flat_load_address_near_2_64_is_refused(void)
{
	reset();
	file[0] = 0xf4;
	CHECK_REFUSED(image_load(file, 0x10, ram, RAM_SIZE, UINT64_MAX - 4,
				 &info, err, sizeof(err)),
		      -E2BIG, "does not fit");
}

static void test_ram_size_in_messages_uses_binary_units(void)
{
	uint8_t byte = 0x90;

	reset();
	/* RAM is not touched on this path, so a size larger than the real
	 * buffer is safe to claim. */
	CHECK_EQ(image_load(&byte, 1, ram, 64 << 20, 64 << 20, &info, err,
			    sizeof(err)), -E2BIG);
	CHECK(strstr(err, "at 0x4000000 does not fit in 64 MiB of RAM") != NULL);
	CHECK_EQ(image_load(&byte, 1, ram, 100, 100, &info, err,
			    sizeof(err)), -E2BIG);
	CHECK(strstr(err, "0x64 bytes of RAM") != NULL);
}

int main(void)
{
	RUN(test_elf64_executable_is_loaded_at_its_physical_addresses);
	RUN(test_elf32_executable_is_loaded_at_its_physical_addresses);
	RUN(test_elf64_bss_past_file_size_is_zero_filled);
	RUN(test_elf32_bss_only_segment_is_zero_filled);
	RUN(test_elf64_bss_only_segment_with_offset_past_end_of_file_is_loaded);
	RUN(test_elf_segments_other_than_pt_load_are_ignored);
	RUN(test_elf_empty_pt_load_is_skipped);
	RUN(test_elf64_segment_ending_exactly_at_end_of_ram_is_loaded);
	RUN(test_elf64_with_max_segments_is_loaded);
	RUN(test_flat_binary_is_copied_to_the_load_address);
	RUN(test_flat_binary_exactly_filling_ram_is_loaded);
	RUN(test_file_with_partial_elf_magic_is_flat);
	RUN(test_null_info_and_error_buffer_are_allowed);
	RUN(test_long_error_is_cut_to_the_buffer_and_terminated);
	RUN(test_empty_file_is_refused);
	RUN(test_elf_magic_alone_is_refused_not_loaded_flat);
	RUN(test_elf64_truncated_header_is_refused);
	RUN(test_elf32_truncated_header_is_refused);
	RUN(test_elf_unknown_class_is_refused);
	RUN(test_elf_big_endian_is_refused);
	RUN(test_elf_bad_ident_version_is_refused);
	RUN(test_elf_non_x86_machine_is_refused_naming_it);
	RUN(test_elf32_with_x86_64_machine_is_refused);
	RUN(test_elf64_with_i386_machine_is_refused);
	RUN(test_elf_shared_object_or_pie_is_refused);
	RUN(test_elf_relocatable_object_is_refused);
	RUN(test_elf64_wrong_program_header_size_is_refused);
	RUN(test_elf32_wrong_program_header_size_is_refused);
	RUN(test_elf64_program_headers_past_end_of_file_are_refused);
	RUN(test_elf64_program_header_offset_near_2_64_is_refused);
	RUN(test_elf64_zero_program_headers_is_refused);
	RUN(test_elf64_huge_program_header_count_is_refused);
	RUN(test_elf64_without_pt_load_is_refused);
	RUN(test_elf64_with_only_empty_pt_load_is_refused);
	RUN(test_elf64_segment_past_end_of_file_is_refused);
	RUN(test_elf64_segment_offset_plus_filesz_overflowing_2_64_is_refused);
	RUN(test_elf64_segment_past_end_of_ram_is_refused);
	RUN(test_elf64_segment_paddr_plus_memsz_overflowing_2_64_is_refused);
	RUN(test_elf64_segment_with_huge_memsz_is_refused);
	RUN(test_elf32_segment_past_end_of_ram_is_refused);
	RUN(test_elf64_segment_filesz_larger_than_memsz_is_refused);
	RUN(test_elf64_bad_later_segment_leaves_ram_untouched);
	RUN(test_elf64_more_than_max_segments_is_refused);
	RUN(test_flat_binary_past_end_of_ram_is_refused);
	RUN(test_flat_binary_loaded_past_ram_is_refused);
	RUN(test_flat_load_address_near_2_64_is_refused);
	RUN(test_ram_size_in_messages_uses_binary_units);
	return check_summary();
}
