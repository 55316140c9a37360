/* tests/unit/test_bootinfo.c — kvm/bootinfo: which protocol an image gets,
 * where its bytes, modules and information block land, every field of the
 * Multiboot v1 information, the Multiboot2 tags and PVH's hvm_start_info
 * (checked at the offsets the specifications give, not through our own
 * structs), and a refusal naming the field for each broken header.
 *
 * Images are built here byte by byte. RAM is followed by guard bytes that
 * must never change, so a stray write past RAM fails a test even without
 * the sanitizers.
 */
#include "kvm/bootinfo.h"
#include "kvm/image_bytes.h"

#include <errno.h>
#include <string.h>

#include "tests/unit/check.h"

#define RAM_SIZE 0x400000u /* 4 MiB */
#define GUARD 4096u
#define RAM_FILL 0xa5
#define FILE_CAP 0x10000

static uint8_t ram[RAM_SIZE + GUARD];
static uint8_t file[FILE_CAP];
static struct boot_layout out;
static struct boot_params params;
static char err[256];

static uint32_t get32(uint64_t addr)
{
	const uint8_t *p = ram + addr;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(uint64_t addr)
{
	return get32(addr) | (uint64_t)get32(addr + 4) << 32;
}

static const char *str_at(uint64_t addr)
{
	return (const char *)ram + addr;
}

static void reset(void)
{
	memset(ram, RAM_FILL, sizeof(ram));
	memset(file, 0, sizeof(file));
	memset(&out, 0, sizeof(out));
	memset(err, 0, sizeof(err));
	memset(&params, 0, sizeof(params));
	params.image_name = "kernel";
	params.flat_load_addr = 0x1000;
}

static int guard_intact(void)
{
	for (size_t i = RAM_SIZE; i < sizeof(ram); i++)
		if (ram[i] != RAM_FILL)
			return 0;
	return 1;
}

static int load(size_t size)
{
	int rc = boot_load(file, size, ram, RAM_SIZE, &params, &out, err, sizeof(err));
	CHECK(guard_intact());
	if (rc)
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
	return rc;
}

/* A refusal: the status and a message that names the field. */
#define CHECK_REFUSED(call, status, text)                                  \
	do {                                                               \
		CHECK_EQ((call), (status));                                \
		if (strstr(err, (text)) == NULL) {                         \
			printf("  error '%s' lacks '%s'\n", err, (text));   \
			check_failures_in_test++;                          \
		}                                                          \
	} while (0)

/* ---- image builders ---- */

/* A flat Multiboot v1 image: header at file offset 0x40 with address
 * fields loading the whole 0x200-byte file at 0x100000, bss to 0x102000,
 * entry 0x100080. Code bytes are 0x90. */
#define MB1_FLAT_SIZE 0x200
static size_t build_mb1_flat(uint32_t flags)
{
	uint8_t *h = file + 0x40;

	memset(file, 0x90, MB1_FLAT_SIZE);
	image_put_le32(h, 0x1badb002);
	image_put_le32(h + 4, flags);
	image_put_le32(h + 8, (uint32_t)-(0x1badb002u + flags));
	image_put_le32(h + 12, 0x100040); /* header_addr */
	image_put_le32(h + 16, 0x100000); /* load_addr */
	image_put_le32(h + 20, 0x100200); /* load_end_addr */
	image_put_le32(h + 24, 0x102000); /* bss_end_addr */
	image_put_le32(h + 28, 0x100080); /* entry_addr */
	return MB1_FLAT_SIZE;
}

static void fix_mb1_checksum(size_t off)
{
	uint32_t flags = file[off + 4] | file[off + 5] << 8 | file[off + 6] << 16 |
			 (uint32_t)file[off + 7] << 24;
	image_put_le32(file + off + 8, (uint32_t)-(0x1badb002u + flags));
}

struct segment {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void build_elf(int is64, uint64_t entry, const struct segment *segs, unsigned n)
{
	file[0] = 0x7f; file[1] = 'E'; file[2] = 'L'; file[3] = 'F';
	file[4] = is64 ? 2 : 1;
	file[5] = 1;
	file[6] = 1;
	image_put_le16(file + 16, 2); /* ET_EXEC */
	image_put_le16(file + 18, is64 ? 62 : 3);
	image_put_le32(file + 20, 1);
	if (is64) {
		image_put_le64(file + 24, entry);
		image_put_le64(file + 32, 64);
		image_put_le16(file + 52, 64);
		image_put_le16(file + 54, 56);
		image_put_le16(file + 56, (uint16_t)n);
	} else {
		image_put_le32(file + 24, (uint32_t)entry);
		image_put_le32(file + 28, 52);
		image_put_le16(file + 40, 52);
		image_put_le16(file + 42, 32);
		image_put_le16(file + 44, (uint16_t)n);
	}
	for (unsigned i = 0; i < n; i++) {
		if (is64) {
			uint8_t *ph = file + 64 + 56 * i;
			image_put_le32(ph, segs[i].type);
			image_put_le64(ph + 8, segs[i].offset);
			image_put_le64(ph + 16, segs[i].paddr);
			image_put_le64(ph + 24, segs[i].paddr);
			image_put_le64(ph + 32, segs[i].filesz);
			image_put_le64(ph + 40, segs[i].memsz);
		} else {
			uint8_t *ph = file + 52 + 32 * i;
			image_put_le32(ph, segs[i].type);
			image_put_le32(ph + 4, (uint32_t)segs[i].offset);
			image_put_le32(ph + 8, (uint32_t)segs[i].paddr);
			image_put_le32(ph + 12, (uint32_t)segs[i].paddr);
			image_put_le32(ph + 16, (uint32_t)segs[i].filesz);
			image_put_le32(ph + 20, (uint32_t)segs[i].memsz);
		}
	}
}

/* An ELF32 Multiboot v1 kernel: one PT_LOAD of 0x1000 bytes at file 0x1000
 * to 0x100000 (memsz 0x3000), the header at its start, entry 0x100010. */
#define ELF_SIZE 0x2000
static size_t build_mb1_elf32(void)
{
	struct segment seg = { 1, 0x1000, 0x100000, 0x1000, 0x3000 };

	build_elf(0, 0x100010, &seg, 1);
	memset(file + 0x1000, 0x90, 0x1000);
	image_put_le32(file + 0x1000, 0x1badb002);
	image_put_le32(file + 0x1004, 3);
	fix_mb1_checksum(0x1000);
	return ELF_SIZE;
}

/* An ELF64 Multiboot2 kernel like mb2info64.elf: the header at file 0x1000
 * (loaded at 0x100000), e_entry 0x100800, entry address tag 0x100100.
 * extra_tag, when its size is not 0, goes before the entry tag. Returns
 * the file size; the header's length and checksum are filled in. */
static size_t build_mb2_elf64(const uint8_t *extra_tag, uint32_t extra_size)
{
	struct segment seg = { 1, 0x1000, 0x100000, 0x1000, 0x2000 };
	uint8_t *h = file + 0x1000;
	uint32_t at = 16, length;

	build_elf(1, 0x100800, &seg, 1);
	memset(file + 0x1000, 0x90, 0x1000);
	image_put_le32(h, 0xe85250d6);
	image_put_le32(h + 4, 0);
	/* information request: cmdline, loader name, modules, meminfo, mmap */
	image_put_le16(h + at, 1); image_put_le16(h + at + 2, 0); image_put_le32(h + at + 4, 8 + 5 * 4);
	image_put_le32(h + at + 8, 1); image_put_le32(h + at + 12, 2); image_put_le32(h + at + 16, 3);
	image_put_le32(h + at + 20, 4); image_put_le32(h + at + 24, 6);
	at += 32;
	if (extra_size) {
		memcpy(h + at, extra_tag, extra_size);
		at += (extra_size + 7) & ~7u;
	}
	image_put_le16(h + at, 3); image_put_le16(h + at + 2, 0); image_put_le32(h + at + 4, 12);
	image_put_le32(h + at + 8, 0x100100);
	at += 16;
	image_put_le16(h + at, 0); image_put_le16(h + at + 2, 0); image_put_le32(h + at + 4, 8);
	length = at + 8;
	image_put_le32(h + 8, length);
	image_put_le32(h + 12, (uint32_t)-(0xe85250d6u + length));
	return ELF_SIZE;
}

/* An ELF64 PVH kernel: PT_LOAD as above, a PT_NOTE at file 0x1800 holding
 * one Xen note of type 18 with a descsz-byte entry. */
static size_t build_pvh_elf64(uint32_t descsz, uint64_t entry)
{
	struct segment segs[2] = {
		{ 1, 0x1000, 0x100000, 0x1000, 0x2000 },
		{ 4, 0x1800, 0x100800, 12 + 4 + ((descsz + 3) & ~3u), 0 },
	};
	uint8_t *n = file + 0x1800;

	build_elf(1, 0x100900, segs, 2);
	memset(file + 0x1000, 0x90, 0x800);
	image_put_le32(n, 4);
	image_put_le32(n + 4, descsz);
	image_put_le32(n + 8, 18);
	memcpy(n + 12, "Xen", 4);
	if (descsz == 8)
		image_put_le64(n + 16, entry);
	else
		image_put_le32(n + 16, (uint32_t)entry);
	return ELF_SIZE;
}

static const uint8_t module_a[] = "first module";
static const uint8_t module_b[] = { 'B', 0, 1, 2 };
static struct boot_module two_modules[2] = {
	{ module_a, sizeof(module_a) - 1, "a.txt", "alpha beta" },
	{ module_b, sizeof(module_b), "b.bin", NULL },
};

/* ---- detection ---- */

static void test_detection_prefers_multiboot_then_multiboot2_then_pvh(void)
{
	size_t size;

	reset();
	size = build_mb2_elf64(NULL, 0);
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT2);

	/* A Multiboot v1 header too (within 8 KiB): v1 wins, as DESIGN.md says. */
	reset();
	size = build_mb2_elf64(NULL, 0);
	image_put_le32(file + 0x1400, 0x1badb002);
	image_put_le32(file + 0x1404, 0);
	fix_mb1_checksum(0x1400);
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT);
	/* --boot multiboot2 overrides the detection. */
	params.protocol = BOOT_MULTIBOOT2;
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT2);

	reset();
	size = build_pvh_elf64(4, 0x100040);
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_PVH);
	params.protocol = BOOT_ELF;
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_ELF);
	CHECK_EQ(out.entry, 0x100900);
	CHECK(!out.protocol_regs);
}

static void test_plain_images_keep_their_old_meaning(void)
{
	struct segment seg = { 1, 0x1000, 0x100000, 0x100, 0x100 };

	reset();
	build_elf(1, 0x100000, &seg, 1);
	CHECK_EQ(load(0x1100), 0);
	CHECK_EQ(out.protocol, BOOT_ELF);
	CHECK_EQ(out.kind, IMAGE_ELF64);
	CHECK_EQ(out.info_size, 0);

	reset();
	memset(file, 0x90, 0x30);
	CHECK_EQ(load(0x30), 0);
	CHECK_EQ(out.protocol, BOOT_FLAT);
	CHECK_EQ(out.entry, 0x1000);
	CHECK_EQ(ram[0x1000], 0x90);
	CHECK_EQ(out.nranges, 1);
	CHECK_EQ(out.ranges[0][0], 0x1000);
	CHECK_EQ(out.ranges[0][1], 0x1030);

	/* --boot flat copies even an ELF byte for byte. */
	reset();
	build_elf(1, 0x100000, &seg, 1);
	params.protocol = BOOT_FLAT;
	CHECK_EQ(load(0x1100), 0);
	CHECK_EQ(out.protocol, BOOT_FLAT);
	CHECK(memcmp(ram + 0x1000, file, 0x1100) == 0);
}

static void test_a_header_with_a_bad_checksum_or_out_of_reach_is_not_one(void)
{
	reset();
	build_mb1_flat(0x10003);
	file[0x48] ^= 1; /* checksum */
	CHECK_EQ(load(MB1_FLAT_SIZE), 0);
	CHECK_EQ(out.protocol, BOOT_FLAT);

	/* Past the first 8 KiB. */
	reset();
	memset(file, 0x90, 0x3000);
	image_put_le32(file + 0x2000, 0x1badb002);
	image_put_le32(file + 0x2004, 0);
	fix_mb1_checksum(0x2000);
	CHECK_EQ(load(0x3000), 0);
	CHECK_EQ(out.protocol, BOOT_FLAT);

	/* Not 4-byte aligned. */
	reset();
	memset(file, 0x90, 0x100);
	image_put_le32(file + 0x42, 0x1badb002);
	image_put_le32(file + 0x46, 0);
	fix_mb1_checksum(0x42);
	CHECK_EQ(load(0x100), 0);
	CHECK_EQ(out.protocol, BOOT_FLAT);
}

/* ---- Multiboot v1 ---- */

static void test_mb1_address_fields_load_the_file_and_zero_the_bss(void)
{
	reset();
	build_mb1_flat(0x10003);
	CHECK_EQ(load(MB1_FLAT_SIZE), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT);
	CHECK_EQ(out.kind, IMAGE_FLAT);
	CHECK(memcmp(ram + 0x100000, file, MB1_FLAT_SIZE) == 0);
	CHECK_EQ(ram[0x100200], 0);
	CHECK_EQ(ram[0x101fff], 0);
	CHECK_EQ(out.entry, 0x100080);
	CHECK_EQ(out.ranges[0][0], 0x100000);
	CHECK_EQ(out.ranges[0][1], 0x102000);
	CHECK(out.protocol_regs);
	CHECK_EQ(out.eax, 0x2badb002);
	CHECK_EQ(out.ebx, out.info_addr);
}

static void test_mb1_load_end_zero_means_the_whole_file_and_bss_zero_none(void)
{
	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 20, 0);
	image_put_le32(file + 0x40 + 24, 0);
	CHECK_EQ(load(MB1_FLAT_SIZE), 0);
	CHECK_EQ(out.ranges[0][1], 0x100200);
	CHECK_EQ(ram[0x100200], RAM_FILL);
}

static void test_mb1_elf_kernel_loads_by_program_headers(void)
{
	reset();
	size_t size = build_mb1_elf32();
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT);
	CHECK_EQ(out.kind, IMAGE_ELF32);
	CHECK_EQ(out.entry, 0x100010);
	CHECK_EQ(get32(0x100000), 0x1badb002);
	CHECK_EQ(ram[0x102fff], 0);
}

static void test_mb1_higher_half_elf_enters_at_the_physical_address_of_e_entry(void)
{
	/* Linked at 0xc0100000, loaded at 0x100000 (p_vaddr != p_paddr). */
	struct segment seg = { 1, 0x1000, 0x100000, 0x1000, 0x1000 };

	reset();
	build_elf(0, 0xc0100010, &seg, 1);
	image_put_le32(file + 52 + 8, 0xc0100000); /* p_vaddr */
	memset(file + 0x1000, 0x90, 0x1000);
	image_put_le32(file + 0x1000, 0x1badb002);
	image_put_le32(file + 0x1004, 3);
	fix_mb1_checksum(0x1000);
	CHECK_EQ(load(ELF_SIZE), 0);
	CHECK_EQ(out.entry, 0x100010);
}

static void test_mb1_info_block_field_by_field(void)
{
	reset();
	size_t size = build_mb1_elf32();
	params.image_name = "build/k.elf";
	params.args = "console=ttyS0 x=1";
	params.modules = two_modules;
	params.nmodules = 2;
	CHECK_EQ(load(size), 0);

	/* Modules: page-aligned, in order, after the image (which ends at
	 * 0x103000). */
	CHECK_EQ(out.module_addr[0], 0x103000);
	CHECK_EQ(out.module_addr[1], 0x104000);
	CHECK(memcmp(ram + 0x103000, module_a, sizeof(module_a) - 1) == 0);
	CHECK(memcmp(ram + 0x104000, module_b, sizeof(module_b)) == 0);
	CHECK_EQ(out.info_addr, 0x105000);

	uint64_t i = out.info_addr;
	CHECK_EQ(get32(i + 0), 0x24d); /* mem, cmdline, mods, mmap, loader name */
	CHECK_EQ(get32(i + 4), 639);
	CHECK_EQ(get32(i + 8), (RAM_SIZE - 0x100000) >> 10);
	CHECK_EQ(get32(i + 12), 0);    /* boot_device: not given */
	CHECK(strcmp(str_at(get32(i + 16)), "build/k.elf console=ttyS0 x=1") == 0);
	CHECK_EQ(get32(i + 20), 2);
	uint64_t mods = get32(i + 24);
	CHECK_EQ(get32(mods + 0), 0x103000);
	CHECK_EQ(get32(mods + 4), 0x103000 + sizeof(module_a) - 1);
	CHECK(strcmp(str_at(get32(mods + 8)), "a.txt alpha beta") == 0);
	CHECK_EQ(get32(mods + 12), 0);
	CHECK_EQ(get32(mods + 16), 0x104000);
	CHECK_EQ(get32(mods + 20), 0x104000 + sizeof(module_b));
	CHECK(strcmp(str_at(get32(mods + 24)), "b.bin") == 0);
	CHECK_EQ(get32(i + 28), 0); /* syms */
	CHECK_EQ(get32(i + 44), 4 * 24);
	uint64_t m = get32(i + 48);
	static const uint64_t want[4][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x60400, 2 },
		{ 0x100000, RAM_SIZE - 0x100000, 1 },
		{ 0xfffc0000, 0x40000, 2 },
	};
	for (unsigned e = 0; e < 4; e++) {
		CHECK_EQ(get32(m + e * 24), 20);
		CHECK_EQ(get64(m + e * 24 + 4), want[e][0]);
		CHECK_EQ(get64(m + e * 24 + 12), want[e][1]);
		CHECK_EQ(get32(m + e * 24 + 20), want[e][2]);
	}
	CHECK_EQ(get32(i + 52), 0); /* drives */
	CHECK(strcmp(str_at(get32(i + 64)), "kvmstub") == 0);
	CHECK_EQ(get32(i + 72), 0); /* no VBE */
	/* The ranges: image, two modules, the info block. */
	CHECK_EQ(out.nranges, 4);
	CHECK_EQ(out.ranges[3][0], out.info_addr);
	CHECK_EQ(out.ranges[3][1], out.info_addr + out.info_size);
}

static void test_mb1_without_append_the_cmdline_is_the_image_name_alone(void)
{
	reset();
	size_t size = build_mb1_elf32();
	params.image_name = "k.elf";
	CHECK_EQ(load(size), 0);
	CHECK(strcmp(str_at(get32(out.info_addr + 16)), "k.elf") == 0);
	CHECK_EQ(get32(out.info_addr + 20), 0);
}

static void test_modules_never_straddle_the_reserved_area_below_1mib(void)
{
	static uint8_t big[0x9f000];

	reset();
	build_mb1_flat(0x10003);
	/* Load the kernel at 0x1000 instead. */
	image_put_le32(file + 0x40 + 12, 0x1040);
	image_put_le32(file + 0x40 + 16, 0x1000);
	image_put_le32(file + 0x40 + 20, 0x1200);
	image_put_le32(file + 0x40 + 24, 0x2000);
	image_put_le32(file + 0x40 + 28, 0x1080);
	struct boot_module m[2] = { { big, 0x1000, "small", NULL }, { big, sizeof(big), "big", NULL } };
	params.modules = m;
	params.nmodules = 2;
	CHECK_EQ(load(MB1_FLAT_SIZE), 0);
	CHECK_EQ(out.module_addr[0], 0x2000);
	CHECK_EQ(out.module_addr[1], 0x100000);
	CHECK_EQ(out.info_addr, 0x100000 + sizeof(big));
}

static void test_mb1_refusals_name_the_field(void)
{
	reset();
	build_mb1_flat(0x10007);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "bit 2 (video mode)");

	reset();
	build_mb1_flat(0x10023);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "required bit 5");

	reset();
	build_mb1_flat(0x3); /* no address fields, and not ELF */
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "bit 16 (address fields) is clear");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 16, 0x100044); /* load_addr above header_addr */
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "load_addr 0x100044 is above header_addr");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 16, 0xff000); /* the file would start before offset 0 */
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "header_addr 0x100040 - load_addr");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 20, 0x100201);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "load_end_addr 0x100201 reads past");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 20, 0xfffff);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "load_end_addr 0xfffff is below load_addr");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 24, 0x100100);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "bss_end_addr 0x100100 is below");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 24, 0xfffff000); /* bss far outside RAM */
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -E2BIG, "does not fit in guest RAM");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 12, 0x7fffff40); /* the whole image outside RAM */
	image_put_le32(file + 0x40 + 16, 0x7fffff00);
	image_put_le32(file + 0x40 + 20, 0x80000100);
	image_put_le32(file + 0x40 + 24, 0);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -E2BIG, "does not fit in guest RAM");

	reset();
	build_mb1_flat(0x10003);
	image_put_le32(file + 0x40 + 28, RAM_SIZE);
	CHECK_REFUSED(load(MB1_FLAT_SIZE), -EINVAL, "entry_addr 0x400000 is outside guest RAM");

	/* Address fields cut off by the end of the file. */
	reset();
	build_mb1_flat(0x10003);
	memmove(file + 0x1e0, file + 0x40, 12);
	memset(file + 0x40, 0x90, 32);
	CHECK_REFUSED(load(0x1f0), -EINVAL, "address fields (flags bit 16) run past");

	/* --boot multiboot on an image without a header. */
	reset();
	memset(file, 0x90, 0x100);
	params.protocol = BOOT_MULTIBOOT;
	CHECK_REFUSED(load(0x100), -EINVAL, "no Multiboot header");
	CHECK_EQ(ram[0x1000], RAM_FILL);
}

/* ---- Multiboot2 ---- */

/* The tag of `type` in the information block, or 0. */
static uint64_t mb2_find(uint32_t type)
{
	uint64_t i = out.info_addr, at = i + 8, end = i + get32(i);

	while (at + 8 <= end) {
		if (get32(at) == type)
			return at;
		if (get32(at) == 0)
			return 0;
		at += (get32(at + 4) + 7) & ~7u;
	}
	return 0;
}

static void test_mb2_tags_field_by_field(void)
{
	reset();
	size_t size = build_mb2_elf64(NULL, 0);
	params.args = "console=ttyS0";
	params.modules = two_modules;
	params.nmodules = 2;
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_MULTIBOOT2);
	CHECK_EQ(out.kind, IMAGE_ELF64);
	CHECK_EQ(out.eax, 0x36d76289);
	CHECK_EQ(out.ebx, out.info_addr);
	CHECK_EQ(out.info_addr & 7, 0);
	/* The entry address tag wins over e_entry. */
	CHECK_EQ(out.entry, 0x100100);

	uint64_t i = out.info_addr, at = i + 8;
	CHECK_EQ(get32(i + 4), 0); /* reserved */
	/* In order: cmdline, loader name, modules, basic meminfo, mmap, end. */
	CHECK_EQ(get32(at), 1);
	CHECK_EQ(get32(at + 4), 8 + sizeof("console=ttyS0"));
	CHECK(strcmp(str_at(at + 8), "console=ttyS0") == 0);
	at += (get32(at + 4) + 7) & ~7u;
	CHECK_EQ(get32(at), 2);
	CHECK_EQ(get32(at + 4), 8 + sizeof("kvmstub"));
	CHECK(strcmp(str_at(at + 8), "kvmstub") == 0);
	at += (get32(at + 4) + 7) & ~7u;
	CHECK_EQ(get32(at), 3);
	CHECK_EQ(get32(at + 4), 16 + sizeof("alpha beta"));
	CHECK_EQ(get32(at + 8), 0x102000);
	CHECK_EQ(get32(at + 12), 0x102000 + sizeof(module_a) - 1);
	CHECK(strcmp(str_at(at + 16), "alpha beta") == 0); /* ARGS alone, as GRUB */
	at += (get32(at + 4) + 7) & ~7u;
	CHECK_EQ(get32(at), 3);
	CHECK_EQ(get32(at + 4), 17);
	CHECK_EQ(get32(at + 8), 0x103000);
	CHECK_EQ(get32(at + 12), 0x103000 + sizeof(module_b));
	CHECK(strcmp(str_at(at + 16), "") == 0);
	at += (get32(at + 4) + 7) & ~7u;
	CHECK_EQ(get32(at), 4);
	CHECK_EQ(get32(at + 4), 16);
	CHECK_EQ(get32(at + 8), 639);
	CHECK_EQ(get32(at + 12), (RAM_SIZE - 0x100000) >> 10);
	at += 16;
	CHECK_EQ(get32(at), 6);
	CHECK_EQ(get32(at + 4), 16 + 4 * 24);
	CHECK_EQ(get32(at + 8), 24);
	CHECK_EQ(get32(at + 12), 0);
	CHECK_EQ(get64(at + 16), 0);
	CHECK_EQ(get64(at + 24), 0x9fc00);
	CHECK_EQ(get32(at + 32), 1);
	CHECK_EQ(get64(at + 40), 0x9fc00);
	CHECK_EQ(get64(at + 48), 0x60400);
	CHECK_EQ(get32(at + 56), 2);
	CHECK_EQ(get64(at + 64), 0x100000);
	CHECK_EQ(get64(at + 72), RAM_SIZE - 0x100000);
	CHECK_EQ(get32(at + 80), 1);
	CHECK_EQ(get64(at + 88), 0xfffc0000);
	CHECK_EQ(get64(at + 96), 0x40000);
	CHECK_EQ(get32(at + 104), 2);
	at += 16 + 4 * 24;
	CHECK_EQ(get32(at), 0);
	CHECK_EQ(get32(at + 4), 8);
	CHECK_EQ(get32(i), at + 8 - i); /* total_size */
	CHECK_EQ(out.info_size, get32(i));
	CHECK_EQ(mb2_find(14), 0); /* no ACPI tables, no ACPI tags */
}

static void test_mb2_without_append_the_cmdline_is_empty(void)
{
	reset();
	size_t size = build_mb2_elf64(NULL, 0);
	CHECK_EQ(load(size), 0);
	uint64_t t = mb2_find(1);
	CHECK(t != 0);
	CHECK_EQ(get32(t + 4), 9);
	CHECK_EQ(ram[t + 8], 0);
}

static void test_mb2_acpi_tags_copy_the_rsdp_when_one_is_given(void)
{
	reset();
	size_t size = build_mb2_elf64(NULL, 0);
	/* An ACPI 2.0 RSDP at 0xf0000, as the tables' builder would leave it. */
	memcpy(ram + 0xf0000, "RSD PTR ", 8);
	ram[0xf0000 + 15] = 2;
	image_put_le32(ram + 0xf0000 + 20, 36);
	for (int b = 24; b < 36; b++) /* XSDT address, extended checksum */
		ram[0xf0000 + b] = (uint8_t)b;
	params.rsdp = 0xf0000;
	CHECK_EQ(load(size), 0);
	uint64_t old_tag = mb2_find(14), new_tag = mb2_find(15);
	CHECK(old_tag != 0 && new_tag != 0);
	CHECK_EQ(get32(old_tag + 4), 8 + 20);
	CHECK(memcmp(ram + old_tag + 8, ram + 0xf0000, 20) == 0);
	CHECK_EQ(get32(new_tag + 4), 8 + 36);
	CHECK(memcmp(ram + new_tag + 8, ram + 0xf0000, 36) == 0);

	/* Revision 0: the old tag alone. */
	reset();
	size = build_mb2_elf64(NULL, 0);
	memcpy(ram + 0xf0000, "RSD PTR ", 8);
	ram[0xf0000 + 15] = 0;
	params.rsdp = 0xf0000;
	CHECK_EQ(load(size), 0);
	CHECK(mb2_find(14) != 0);
	CHECK_EQ(mb2_find(15), 0);
}

static void test_mb2_acpi_tags_copy_the_rsdp_as_it_was_before_the_image_loaded(void)
{
	reset();
	size_t size = build_mb2_elf64(NULL, 0);
	/* The RSDP lies where the image's bss goes: the tags hold what was
	 * there, and their sizes do not change between measuring and writing. */
	memcpy(ram + 0x101800, "RSD PTR ", 8);
	ram[0x101800 + 15] = 2;
	image_put_le32(ram + 0x101800 + 20, 36);
	params.rsdp = 0x101800;
	CHECK_EQ(load(size), 0);
	uint64_t new_tag = mb2_find(15);
	CHECK(new_tag != 0);
	CHECK(memcmp(ram + new_tag + 8, "RSD PTR ", 8) == 0);
	CHECK_EQ(get32(new_tag + 8 + 20), 36);
	CHECK_EQ(ram[0x101800], 0); /* the bss was zeroed as the ELF says */
}

static void test_mb2_optional_and_harmless_tags_are_accepted(void)
{
	uint8_t tag[24] = { 0 };

	/* A framebuffer request: a text console is what there is. */
	reset();
	image_put_le16(tag, 5); image_put_le16(tag + 2, 0); image_put_le32(tag + 4, 20);
	CHECK_EQ(load(build_mb2_elf64(tag, 20)), 0);
	/* An unknown tag marked optional. */
	reset();
	image_put_le16(tag, 42); image_put_le16(tag + 2, 1); image_put_le32(tag + 4, 8);
	CHECK_EQ(load(build_mb2_elf64(tag, 8)), 0);
	/* An optional information request for something we lack. */
	reset();
	image_put_le16(tag, 1); image_put_le16(tag + 2, 1); image_put_le32(tag + 4, 12); image_put_le32(tag + 8, 8);
	CHECK_EQ(load(build_mb2_elf64(tag, 12)), 0);
}

static void test_mb2_refusals_name_the_field(void)
{
	uint8_t tag[24] = { 0 };
	size_t size;

	reset();
	size = build_mb2_elf64(NULL, 0);
	image_put_le32(file + 0x1004, 4);
	image_put_le32(file + 0x100c, (uint32_t)-(0xe85250d6u + 4 + 64));
	image_put_le32(file + 0x1008, 64);
	CHECK_REFUSED(load(size), -EINVAL, "architecture 4");

	reset();
	size = build_mb2_elf64(NULL, 0);
	image_put_le32(file + 0x1008, 0x2000); /* past the file */
	image_put_le32(file + 0x100c, (uint32_t)-(0xe85250d6u + 0x2000));
	CHECK_REFUSED(load(size), -EINVAL, "header_length 8192");

	reset();
	image_put_le16(tag, 42); image_put_le16(tag + 2, 0); image_put_le32(tag + 4, 8);
	CHECK_REFUSED(load(build_mb2_elf64(tag, 8)), -EINVAL, "tag type 42 is not supported");

	reset();
	image_put_le16(tag, 1); image_put_le16(tag + 2, 0); image_put_le32(tag + 4, 12); image_put_le32(tag + 8, 8);
	CHECK_REFUSED(load(build_mb2_elf64(tag, 12)), -EINVAL, "asks for tag type 8");

	/* A tag whose size runs past header_length. */
	reset();
	image_put_le16(tag, 4); image_put_le16(tag + 2, 0); image_put_le32(tag + 4, 0xfffffff0u);
	CHECK_REFUSED(load(build_mb2_elf64(tag, 8)), -EINVAL, "runs past header_length");

	reset();
	image_put_le16(tag, 4); image_put_le16(tag + 2, 0); image_put_le32(tag + 4, 4);
	CHECK_REFUSED(load(build_mb2_elf64(tag, 8)), -EINVAL, "smaller than a tag header");

	/* No end tag: cut the header before it. */
	reset();
	size = build_mb2_elf64(NULL, 0);
	image_put_le32(file + 0x1008, 16 + 32 + 16);
	image_put_le32(file + 0x100c, (uint32_t)-(0xe85250d6u + 64));
	CHECK_REFUSED(load(size), -EINVAL, "no end tag");

	/* An address tag without an entry tag, in a flat file. */
	reset();
	memset(file, 0x90, 0x200);
	image_put_le32(file, 0xe85250d6);
	image_put_le32(file + 4, 0);
	image_put_le32(file + 8, 16 + 24 + 8);
	image_put_le32(file + 12, (uint32_t)-(0xe85250d6u + 48));
	image_put_le16(file + 16, 2); image_put_le32(file + 20, 24);
	image_put_le32(file + 24, 0x100000); image_put_le32(file + 28, 0x100000);
	image_put_le32(file + 32, 0); image_put_le32(file + 36, 0);
	image_put_le16(file + 40, 0); image_put_le32(file + 44, 8);
	CHECK_REFUSED(load(0x200), -EINVAL, "without an entry address tag");

	/* The same with an entry tag loads at the address tag's place. */
	reset();
	memset(file, 0x90, 0x200);
	image_put_le32(file, 0xe85250d6);
	image_put_le32(file + 4, 0);
	image_put_le32(file + 8, 16 + 24 + 16 + 8);
	image_put_le32(file + 12, (uint32_t)-(0xe85250d6u + 64));
	image_put_le16(file + 16, 2); image_put_le32(file + 20, 24);
	image_put_le32(file + 24, 0x100000); image_put_le32(file + 28, 0x100000);
	image_put_le32(file + 32, 0); image_put_le32(file + 36, 0x101000);
	image_put_le16(file + 40, 3); image_put_le32(file + 44, 12); image_put_le32(file + 48, 0x100040);
	image_put_le16(file + 56, 0); image_put_le32(file + 60, 8);
	CHECK_EQ(load(0x200), 0);
	CHECK_EQ(out.entry, 0x100040);
	CHECK_EQ(out.kind, IMAGE_FLAT);
	CHECK(memcmp(ram + 0x100000, file, 0x200) == 0);
	CHECK_EQ(ram[0x100fff], 0);

	/* An entry tag pointing outside RAM. */
	image_put_le32(file + 48, 0x10000000);
	CHECK_REFUSED(load(0x200), -EINVAL, "entry address tag entry_addr 0x10000000");

	reset();
	size = build_mb2_elf64(NULL, 0);
	params.protocol = BOOT_MULTIBOOT2;
	memset(file + 0x1000, 0, 16);
	CHECK_REFUSED(load(size), -EINVAL, "no Multiboot2 header");
}

/* ---- PVH ---- */

static void test_pvh_start_info_field_by_field(void)
{
	reset();
	size_t size = build_pvh_elf64(4, 0x100040);
	params.args = "root=/dev/vda";
	params.modules = two_modules;
	params.nmodules = 2;
	params.rsdp = 0xf0000;
	memcpy(ram + 0xf0000, "RSD PTR ", 8);
	ram[0xf0000 + 15] = 0;
	CHECK_EQ(load(size), 0);
	CHECK_EQ(out.protocol, BOOT_PVH);
	CHECK_EQ(out.entry, 0x100040); /* the note, not e_entry */
	CHECK(out.protocol_regs);
	CHECK_EQ(out.ebx, out.info_addr);

	uint64_t i = out.info_addr;
	CHECK_EQ(get32(i + 0), 0x336ec578);
	CHECK_EQ(get32(i + 4), 1);
	CHECK_EQ(get32(i + 8), 0);
	CHECK_EQ(get32(i + 12), 2);
	uint64_t mods = get64(i + 16);
	CHECK(strcmp(str_at(get64(i + 24)), "root=/dev/vda") == 0);
	CHECK_EQ(get64(i + 32), 0xf0000);
	uint64_t map = get64(i + 40);
	CHECK_EQ(get32(i + 48), 4);
	CHECK_EQ(get32(i + 52), 0);
	CHECK_EQ(get64(mods + 0), 0x102000);
	CHECK_EQ(get64(mods + 8), sizeof(module_a) - 1);
	CHECK(strcmp(str_at(get64(mods + 16)), "alpha beta") == 0);
	CHECK_EQ(get64(mods + 24), 0);
	CHECK_EQ(get64(mods + 32), 0x103000);
	CHECK_EQ(get64(mods + 40), sizeof(module_b));
	CHECK(strcmp(str_at(get64(mods + 48)), "") == 0);
	CHECK_EQ(get64(map + 0), 0);
	CHECK_EQ(get64(map + 8), 0x9fc00);
	CHECK_EQ(get32(map + 16), 1);
	CHECK_EQ(get32(map + 20), 0);
	CHECK_EQ(get64(map + 24), 0x9fc00);
	CHECK_EQ(get32(map + 40), 2);
	CHECK_EQ(get64(map + 48), 0x100000);
	CHECK_EQ(get64(map + 56), RAM_SIZE - 0x100000);
	CHECK_EQ(get32(map + 64), 1);
	CHECK_EQ(get64(map + 72), 0xfffc0000);
	CHECK_EQ(get32(map + 88), 2);
}

static void test_pvh_without_modules_or_rsdp_leaves_their_addresses_zero(void)
{
	reset();
	CHECK_EQ(load(build_pvh_elf64(8, 0x100040)), 0);
	CHECK_EQ(out.entry, 0x100040);
	CHECK_EQ(get32(out.info_addr + 12), 0);
	CHECK_EQ(get64(out.info_addr + 16), 0);
	CHECK_EQ(get64(out.info_addr + 32), 0);
	CHECK(strcmp(str_at(get64(out.info_addr + 24)), "") == 0);
}

static void test_pvh_refusals_name_the_field(void)
{
	reset();
	CHECK_REFUSED(load(build_pvh_elf64(2, 0x100040)), -EINVAL, "descriptor size 2");

	reset();
	CHECK_REFUSED(load(build_pvh_elf64(8, 0x100000000ull)), -EINVAL,
		      "XEN_ELFNOTE_PHYS32_ENTRY 0x100000000 is outside");

	reset();
	size_t size = build_pvh_elf64(4, 0x100040);
	image_put_le32(file + 0x1800, 0x7ffffff0); /* namesz runs past the segment */
	CHECK_REFUSED(load(size), -EINVAL, "runs past the segment");

	reset();
	size = build_pvh_elf64(4, 0x100040);
	image_put_le64(file + 64 + 56 + 8, 0xfffffffffffff000ull); /* PT_NOTE offset */
	CHECK_REFUSED(load(size), -EINVAL, "PT_NOTE segment 1");

	reset();
	memset(file, 0x90, 0x100);
	params.protocol = BOOT_PVH;
	CHECK_REFUSED(load(0x100), -EINVAL, "not an ELF file");

	reset();
	params.protocol = BOOT_PVH;
	size = build_mb1_elf32();
	CHECK_REFUSED(load(size), -EINVAL, "without a XEN_ELFNOTE_PHYS32_ENTRY note");
}

/* ---- parameters ---- */

static void test_parameter_refusals(void)
{
	static struct boot_module many[BOOT_MAX_MODULES + 1];
	static uint8_t big[RAM_SIZE / 2];

	reset();
	params.modules = many;
	params.nmodules = BOOT_MAX_MODULES + 1;
	CHECK_REFUSED(load(build_mb1_elf32()), -EINVAL, "65 modules is more than");

	reset();
	struct boot_module two_big[2] = { { big, sizeof(big), "one", NULL },
					  { big, sizeof(big), "two", NULL } };
	params.modules = two_big;
	params.nmodules = 2;
	CHECK_REFUSED(load(build_mb1_elf32()), -E2BIG, "--module two:");

	reset();
	params.args = "x";
	struct segment seg = { 1, 0x1000, 0x100000, 0x100, 0x100 };
	build_elf(1, 0x100000, &seg, 1);
	CHECK_REFUSED(load(0x1100), -EINVAL, "--append: a plain elf image");
	CHECK_EQ(ram[0x100000], RAM_FILL);

	reset();
	params.rsdp = RAM_SIZE - 8;
	CHECK_REFUSED(load(build_mb1_elf32()), -EINVAL, "rsdp 0x3ffff8 is outside");

	reset();
	params.protocol = BOOT_ELF;
	memset(file, 0x90, 0x10);
	CHECK_REFUSED(load(0x10), -EINVAL, "--boot elf: the image is not an ELF");

	reset();
	CHECK_REFUSED(load(0), -EINVAL, "empty");
}

static void test_protocol_names_are_the_cli_spellings(void)
{
	CHECK(strcmp(boot_protocol_name(BOOT_MULTIBOOT), "multiboot") == 0);
	CHECK(strcmp(boot_protocol_name(BOOT_MULTIBOOT2), "multiboot2") == 0);
	CHECK(strcmp(boot_protocol_name(BOOT_PVH), "pvh") == 0);
	CHECK(strcmp(boot_protocol_name(BOOT_ELF), "elf") == 0);
	CHECK(strcmp(boot_protocol_name(BOOT_FLAT), "flat") == 0);
}

int main(void)
{
	RUN(test_detection_prefers_multiboot_then_multiboot2_then_pvh);
	RUN(test_plain_images_keep_their_old_meaning);
	RUN(test_a_header_with_a_bad_checksum_or_out_of_reach_is_not_one);
	RUN(test_mb1_address_fields_load_the_file_and_zero_the_bss);
	RUN(test_mb1_load_end_zero_means_the_whole_file_and_bss_zero_none);
	RUN(test_mb1_elf_kernel_loads_by_program_headers);
	RUN(test_mb1_higher_half_elf_enters_at_the_physical_address_of_e_entry);
	RUN(test_mb1_info_block_field_by_field);
	RUN(test_mb1_without_append_the_cmdline_is_the_image_name_alone);
	RUN(test_modules_never_straddle_the_reserved_area_below_1mib);
	RUN(test_mb1_refusals_name_the_field);
	RUN(test_mb2_tags_field_by_field);
	RUN(test_mb2_without_append_the_cmdline_is_empty);
	RUN(test_mb2_acpi_tags_copy_the_rsdp_when_one_is_given);
	RUN(test_mb2_acpi_tags_copy_the_rsdp_as_it_was_before_the_image_loaded);
	RUN(test_mb2_optional_and_harmless_tags_are_accepted);
	RUN(test_mb2_refusals_name_the_field);
	RUN(test_pvh_start_info_field_by_field);
	RUN(test_pvh_without_modules_or_rsdp_leaves_their_addresses_zero);
	RUN(test_pvh_refusals_name_the_field);
	RUN(test_parameter_refusals);
	RUN(test_protocol_names_are_the_cli_spellings);
	return check_summary();
}
