/* kvm/bootinfo.c — Multiboot v1, Multiboot2 and PVH: header detection,
 * loading by the header's address fields, module placement and the
 * information block each protocol hands its kernel.
 *
 * Pure: no files, no KVM, no printing, no allocation. Every header field is
 * read byte-wise and checked once, with arithmetic that cannot overflow;
 * nothing is written to RAM until the header, the image's place and every
 * module's place have been checked, and every write of the information
 * block goes through a writer that refuses to leave the block it measured.
 * Layouts: the Multiboot Specification 0.6.96, the Multiboot2 Specification
 * 2.0, and Xen's arch-x86/hvm/start_info.h (version 1) for PVH.
 */
#include "kvm/bootinfo.h"

#include "kvm/image_bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096u
#define MB1_MAGIC 0x1badb002u
#define MB1_SEARCH 8192u
#define MB1_FLAG_ALIGN_MODULES (1u << 0)
#define MB1_FLAG_MEMORY_INFO (1u << 1)
#define MB1_FLAG_VIDEO_MODE (1u << 2)
#define MB1_FLAG_ADDRESS (1u << 16)
#define MB1_INFO_SIZE 116u

#define MB2_MAGIC 0xe85250d6u
#define MB2_SEARCH 32768u
#define MB2_TAG_OPTIONAL 1u

#define XEN_ELFNOTE_PHYS32_ENTRY 18u

/* The PC memory map every protocol reports (DESIGN.md, "The PC
 * contract"): conventional memory up to the extended BIOS data area, the
 * EBDA, video memory, option ROMs and the BIOS area reserved up to 1 MiB,
 * RAM above it, and the BIOS ROM just below 4 GiB, as on a PC. */
#define LOW_RAM_END 0x9fc00u
#define HIGH_RAM_START 0x100000u
#define BIOS_ROM_START 0xfffc0000ull
#define BIOS_ROM_END 0x100000000ull
#define MEMMAP_RAM 1u
#define MEMMAP_RESERVED 2u
#define MEMMAP_MAX 4

struct mem_region {
	uint64_t base, length;
	uint32_t type;
};

/* The address fields of a Multiboot v1 header or a Multiboot2 address
 * tag: where the file's bytes go and how much bss follows. */
struct address_fields {
	size_t header_offset;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
};

struct mb1_header {
	size_t offset;
	uint32_t flags;
	struct address_fields addr;
	uint32_t entry_addr;
};

struct mb2_header {
	size_t offset;
	bool has_address, has_entry;
	struct address_fields addr;
	uint32_t entry_addr;
};

/* ---- bytes ---- */

static bool range_fits(uint64_t start, uint64_t len, uint64_t limit)
{
	return start <= limit && len <= limit - start;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

static bool is_elf(const uint8_t *file, size_t size)
{
	return size >= 4 && memcmp(file, "\177ELF", 4) == 0;
}

const char *boot_protocol_name(enum boot_protocol protocol)
{
	switch (protocol) {
	case BOOT_ELF: return "elf";
	case BOOT_FLAT: return "flat";
	case BOOT_MULTIBOOT: return "multiboot";
	case BOOT_MULTIBOOT2: return "multiboot2";
	case BOOT_PVH: return "pvh";
	default: return "auto";
	}
}

/* ---- detection ---- */

/* The first 4-byte aligned Multiboot v1 header (magic and a checksum
 * that adds up) in the first 8 KiB. A magic with a wrong checksum is
 * just bytes that happen to look like one. */
static bool find_mb1(const uint8_t *file, size_t size, size_t *offset)
{
	/* The header lies wholly within the first 8 KiB. */
	for (size_t off = 0; off + 12 <= MB1_SEARCH && size >= 12 && off <= size - 12; off += 4) {
		uint32_t magic = image_le32(file + off), flags = image_le32(file + off + 4);
		if (magic == MB1_MAGIC && (uint32_t)(magic + flags + image_le32(file + off + 8)) == 0) {
			*offset = off;
			return true;
		}
	}
	return false;
}

static bool find_mb2(const uint8_t *file, size_t size, size_t *offset)
{
	for (size_t off = 0; off + 16 <= MB2_SEARCH && size >= 16 && off <= size - 16; off += 8) {
		uint32_t sum = image_le32(file + off) + image_le32(file + off + 4) +
			       image_le32(file + off + 8) + image_le32(file + off + 12);
		if (image_le32(file + off) == MB2_MAGIC && sum == 0) {
			*offset = off;
			return true;
		}
	}
	return false;
}

static int parse_mb1(const uint8_t *file, size_t size, size_t off,
		     struct mb1_header *h, char *err, size_t err_size)
{
	uint32_t unsupported;

	memset(h, 0, sizeof(*h));
	h->offset = off;
	h->flags = image_le32(file + off + 4);
	if (h->flags & MB1_FLAG_VIDEO_MODE) {
		image_error(err, err_size, "multiboot header flags 0x%" PRIx32 ": bit 2 (video mode) "
		     "asks for a graphics mode, which kvmstub cannot set", h->flags);
		return -EINVAL;
	}
	/* Bits 0-15 are requirements: one we do not know must be refused. */
	unsupported = h->flags & 0xfff8u;
	if (unsupported) {
		image_error(err, err_size, "multiboot header flags 0x%" PRIx32 ": required bit %d "
		     "is not supported", h->flags, __builtin_ctz(unsupported));
		return -EINVAL;
	}
	if (!(h->flags & MB1_FLAG_ADDRESS))
		return 0;
	if (size - off < 32) {
		image_error(err, err_size, "multiboot header at file offset 0x%zx: the address "
		     "fields (flags bit 16) run past the end of the file", off);
		return -EINVAL;
	}
	h->addr.header_offset = off;
	h->addr.header_addr = image_le32(file + off + 12);
	h->addr.load_addr = image_le32(file + off + 16);
	h->addr.load_end_addr = image_le32(file + off + 20);
	h->addr.bss_end_addr = image_le32(file + off + 24);
	h->entry_addr = image_le32(file + off + 28);
	return 0;
}

static bool mb2_info_type_supported(uint32_t type, bool have_rsdp)
{
	switch (type) {
	case 0: /* the end tag */
	case 1: /* command line */
	case 2: /* boot loader name */
	case 3: /* modules */
	case 4: /* basic memory information */
	case 6: /* memory map */
		return true;
	case 14: /* ACPI old RSDP */
	case 15: /* ACPI new RSDP */
		return have_rsdp;
	default:
		return false;
	}
}

static int parse_mb2(const uint8_t *file, size_t size, size_t off, bool have_rsdp,
		     struct mb2_header *h, char *err, size_t err_size)
{
	uint32_t arch = image_le32(file + off + 4), length = image_le32(file + off + 8);
	uint64_t end, at;

	memset(h, 0, sizeof(*h));
	h->offset = off;
	if (arch != 0) {
		image_error(err, err_size, "multiboot2 header: architecture %" PRIu32
		     " is not 0 (i386 protected mode)", arch);
		return -EINVAL;
	}
	if (length < 24 || !range_fits(off, length, size)) {
		image_error(err, err_size, "multiboot2 header: header_length %" PRIu32 " at file "
		     "offset 0x%zx is %s", length, off,
		     length < 24 ? "too short for the header and its end tag"
				 : "past the end of the file");
		return -EINVAL;
	}
	end = off + (uint64_t)length;
	/* Each tag advances at least 8 bytes, so the walk ends. */
	for (at = off + 16; ; ) {
		if (end - at < 8) {
			image_error(err, err_size, "multiboot2 header: no end tag within "
			     "header_length %" PRIu32, length);
			return -EINVAL;
		}
		uint16_t type = image_le16(file + at), flags = image_le16(file + at + 2);
		uint32_t tag_size = image_le32(file + at + 4);
		bool optional = flags & MB2_TAG_OPTIONAL;

		if (tag_size < 8 || tag_size > end - at) {
			image_error(err, err_size, "multiboot2 header: tag type %u at header offset "
			     "0x%" PRIx64 ": size %" PRIu32 " %s", type, at - off, tag_size,
			     tag_size < 8 ? "is smaller than a tag header"
					  : "runs past header_length");
			return -EINVAL;
		}
		if (type == 0)
			break;
		switch (type) {
		case 1: /* information request */
			for (uint64_t i = 8; i + 4 <= tag_size; i += 4) {
				uint32_t want = image_le32(file + at + i);
				if (!optional && !mb2_info_type_supported(want, have_rsdp)) {
					image_error(err, err_size, "multiboot2 header: information "
					     "request tag asks for tag type %" PRIu32 ", which "
					     "kvmstub does not provide", want);
					return -EINVAL;
				}
			}
			break;
		case 2: /* address */
			if (tag_size < 24) {
				image_error(err, err_size, "multiboot2 header: address tag size %"
				     PRIu32 " is not 24", tag_size);
				return -EINVAL;
			}
			h->has_address = true;
			h->addr.header_offset = off;
			h->addr.header_addr = image_le32(file + at + 8);
			h->addr.load_addr = image_le32(file + at + 12);
			h->addr.load_end_addr = image_le32(file + at + 16);
			h->addr.bss_end_addr = image_le32(file + at + 20);
			break;
		case 3: /* entry address */
			if (tag_size < 12) {
				image_error(err, err_size, "multiboot2 header: entry address tag "
				     "size %" PRIu32 " is not 12", tag_size);
				return -EINVAL;
			}
			h->has_entry = true;
			h->entry_addr = image_le32(file + at + 8);
			break;
		case 4:  /* console flags: the console is COM1 and text */
		case 5:  /* framebuffer: a text console is what there is */
		case 6:  /* module alignment: modules are page-aligned anyway */
		case 7:  /* EFI boot services: there is no EFI */
		case 8:  /* EFI i386 entry */
		case 9:  /* EFI amd64 entry */
		case 10: /* relocatable: loaded where it was linked */
			break;
		default:
			if (!optional) {
				image_error(err, err_size, "multiboot2 header: tag type %u is not "
				     "supported (and not marked optional)", type);
				return -EINVAL;
			}
			break;
		}
		at += ((uint64_t)tag_size + 7) & ~(uint64_t)7;
		if (at > end) {
			image_error(err, err_size, "multiboot2 header: no end tag within "
			     "header_length %" PRIu32, length);
			return -EINVAL;
		}
	}
	return 0;
}

/* The PVH entry from a XEN_ELFNOTE_PHYS32_ENTRY note in a PT_NOTE
 * segment. Returns 1 found, 0 not there, or a negative errno for a
 * note that is there but broken. A file whose ELF headers are broken
 * is "not there": the ELF loader then says what is wrong with it. */
static int find_pvh_note(const uint8_t *file, size_t size, uint64_t *entry,
			 char *err, size_t err_size)
{
	bool elf64;
	uint64_t phoff;
	uint16_t phentsize, phnum;

	if (!is_elf(file, size) || size < 64)
		return 0;
	elf64 = file[4] == 2;
	if (elf64) {
		phoff = image_le64(file + 32);
		phentsize = image_le16(file + 54);
		phnum = image_le16(file + 56);
	} else {
		phoff = image_le32(file + 28);
		phentsize = image_le16(file + 42);
		phnum = image_le16(file + 44);
	}
	if (phentsize != (elf64 ? 56 : 32) ||
	    !range_fits(phoff, (uint64_t)phnum * phentsize, size))
		return 0;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + (uint64_t)i * phentsize;
		uint64_t offset = elf64 ? image_le64(ph + 8) : image_le32(ph + 4);
		uint64_t filesz = elf64 ? image_le64(ph + 32) : image_le32(ph + 16);

		if (image_le32(ph) != 4 /* PT_NOTE */)
			continue;
		if (!range_fits(offset, filesz, size)) {
			image_error(err, err_size, "ELF PT_NOTE segment %u: file range 0x%" PRIx64
			     "+0x%" PRIx64 " is past the end of the file", i, offset, filesz);
			return -EINVAL;
		}
		for (uint64_t at = 0; filesz - at >= 12; ) {
			const uint8_t *n = file + offset + at;
			uint64_t namesz = image_le32(n), descsz = image_le32(n + 4);
			uint32_t type = image_le32(n + 8);
			uint64_t name_padded = (namesz + 3) & ~3ull;
			uint64_t desc_padded = (descsz + 3) & ~3ull;

			if (name_padded > filesz - at - 12 ||
			    desc_padded > filesz - at - 12 - name_padded) {
				image_error(err, err_size, "ELF note in PT_NOTE segment %u at +0x%"
				     PRIx64 ": name or descriptor size runs past the "
				     "segment", i, at);
				return -EINVAL;
			}
			if (namesz == 4 && memcmp(n + 12, "Xen", 4) == 0 &&
			    type == XEN_ELFNOTE_PHYS32_ENTRY) {
				const uint8_t *desc = n + 12 + name_padded;
				if (descsz != 4 && descsz != 8) {
					image_error(err, err_size, "XEN_ELFNOTE_PHYS32_ENTRY: "
					     "descriptor size %" PRIu64 " is not 4 or 8", descsz);
					return -EINVAL;
				}
				*entry = descsz == 4 ? image_le32(desc) : image_le64(desc);
				return 1;
			}
			at += 12 + name_padded + desc_padded;
		}
	}
	return 0;
}

/* ---- loading ---- */

/* e_entry of a kernel linked to run higher up (its segments' p_vaddr above
 * p_paddr) is a virtual address; with paging off the protocols enter at
 * the physical address it is loaded at, as GRUB and QEMU compute it: through
 * the PT_LOAD that contains it. An entry in no segment stays as it is. */
static uint64_t elf_entry_physical(const uint8_t *file, size_t size, uint64_t entry)
{
	bool elf64 = size > 4 && file[4] == 2;
	uint64_t phoff = elf64 ? image_le64(file + 32) : image_le32(file + 28);
	uint16_t phentsize = image_le16(file + (elf64 ? 54 : 42));
	uint16_t phnum = image_le16(file + (elf64 ? 56 : 44));

	/* The ELF loader has checked the header and the table already. */
	if (phentsize != (elf64 ? 56 : 32) ||
	    !range_fits(phoff, (uint64_t)phnum * phentsize, size))
		return entry;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = file + phoff + (uint64_t)i * phentsize;
		uint64_t vaddr = elf64 ? image_le64(ph + 16) : image_le32(ph + 8);
		uint64_t paddr = elf64 ? image_le64(ph + 24) : image_le32(ph + 12);
		uint64_t memsz = elf64 ? image_le64(ph + 40) : image_le32(ph + 20);

		if (image_le32(ph) == 1 /* PT_LOAD */ && entry >= vaddr && entry - vaddr < memsz)
			return paddr + (entry - vaddr);
	}
	return entry;
}

static void add_range(struct boot_layout *out, uint64_t start, uint64_t end)
{
	if (out->nranges < BOOT_MAX_RANGES) {
		out->ranges[out->nranges][0] = start;
		out->ranges[out->nranges][1] = end;
		out->nranges++;
	}
}

/* Loads by address fields (the a.out kludge of Multiboot v1, the
 * address tag of Multiboot2): the file from header_offset - (header_addr
 * - load_addr) goes to load_addr, up to load_end_addr (0: the file's
 * end), then zeroes up to bss_end_addr (0: no bss). */
static int load_by_address(const uint8_t *file, size_t size, const struct address_fields *a,
			   const char *what, uint8_t *ram, uint64_t ram_size,
			   struct boot_layout *out, char *err, size_t err_size)
{
	uint64_t load_addr = a->load_addr, file_offset, file_len, mem_end;

	/* Multiboot2: load_addr -1 means "from the file's beginning". */
	if (a->load_addr == 0xffffffffu && out->protocol == BOOT_MULTIBOOT2) {
		if (a->header_addr < a->header_offset) {
			image_error(err, err_size, "%s: header_addr 0x%" PRIx32 " is below the "
			     "header's file offset 0x%zx", what, a->header_addr, a->header_offset);
			return -EINVAL;
		}
		load_addr = a->header_addr - a->header_offset;
	}
	if (load_addr > a->header_addr) {
		image_error(err, err_size, "%s: load_addr 0x%" PRIx64 " is above header_addr 0x%"
		     PRIx32, what, load_addr, a->header_addr);
		return -EINVAL;
	}
	if (a->header_addr - load_addr > a->header_offset) {
		image_error(err, err_size, "%s: header_addr 0x%" PRIx32 " - load_addr 0x%" PRIx64
		     " is more than the header's file offset 0x%zx", what,
		     a->header_addr, load_addr, a->header_offset);
		return -EINVAL;
	}
	file_offset = a->header_offset - (a->header_addr - load_addr);
	if (a->load_end_addr == 0) {
		file_len = size - file_offset;
	} else {
		if (a->load_end_addr < load_addr) {
			image_error(err, err_size, "%s: load_end_addr 0x%" PRIx32 " is below "
			     "load_addr 0x%" PRIx64, what, a->load_end_addr, load_addr);
			return -EINVAL;
		}
		file_len = a->load_end_addr - load_addr;
		if (!range_fits(file_offset, file_len, size)) {
			image_error(err, err_size, "%s: load_end_addr 0x%" PRIx32 " reads past the "
			     "end of the file (0x%zx bytes from file offset 0x%" PRIx64 ")",
			     what, a->load_end_addr, size, file_offset);
			return -EINVAL;
		}
	}
	mem_end = load_addr + file_len;
	if (a->bss_end_addr != 0) {
		if (a->bss_end_addr < mem_end) {
			image_error(err, err_size, "%s: bss_end_addr 0x%" PRIx32 " is below the end "
			     "of the loaded bytes 0x%" PRIx64, what, a->bss_end_addr, mem_end);
			return -EINVAL;
		}
		mem_end = a->bss_end_addr;
	}
	if (!range_fits(load_addr, mem_end - load_addr, ram_size) || mem_end == load_addr) {
		image_error(err, err_size, "%s: load_addr 0x%" PRIx64 "..0x%" PRIx64 " %s", what,
		     load_addr, mem_end, mem_end == load_addr ? "loads nothing"
		     : "does not fit in guest RAM");
		return mem_end == load_addr ? -EINVAL : -E2BIG;
	}
	memcpy(ram + load_addr, file + file_offset, file_len);
	memset(ram + load_addr + file_len, 0, mem_end - load_addr - file_len);
	add_range(out, load_addr, mem_end);
	return 0;
}

static int load_elf_image(const uint8_t *file, size_t size, uint8_t *ram, uint64_t ram_size,
			  struct boot_layout *out, char *err, size_t err_size)
{
	struct image_info info;
	int rc = image_load(file, size, ram, ram_size, 0, &info, err, err_size);

	if (rc)
		return rc;
	out->kind = info.kind;
	out->entry = info.entry;
	for (unsigned i = 0; i < info.nsegments; i++)
		add_range(out, info.segments[i].paddr,
			  info.segments[i].paddr + info.segments[i].memsz);
	return 0;
}

static int load_flat_image(const uint8_t *file, size_t size, uint8_t *ram, uint64_t ram_size,
			   uint64_t at, struct boot_layout *out, char *err, size_t err_size)
{
	if (size == 0) {
		image_error(err, err_size, "the image file is empty");
		return -EINVAL;
	}
	if (!range_fits(at, size, ram_size)) {
		image_error(err, err_size, "flat image of 0x%zx bytes at 0x%" PRIx64 " does not "
		     "fit in guest RAM", size, at);
		return -E2BIG;
	}
	memcpy(ram + at, file, size);
	out->kind = IMAGE_FLAT;
	out->entry = at;
	add_range(out, at, at + size);
	return 0;
}

/* The boot protocols enter with paging off at a 32-bit physical address. */
static int check_entry(uint64_t entry, uint64_t ram_size, const char *field,
		       char *err, size_t err_size)
{
	if (entry >= ram_size) {
		image_error(err, err_size, "%s 0x%" PRIx64 " is outside guest RAM (the entry is "
		     "a physical address: paging is off)", field, entry);
		return -EINVAL;
	}
	return 0;
}

/* ---- the information block ---- */

/* Writes into the block [addr, addr + cap) of RAM; with mem == NULL it only
 * measures. Any write that would leave the block is dropped and remembered,
 * so a wrong size computation is an error, never a stray write. */
struct info_writer {
	uint8_t *mem;
	uint64_t addr, cap, used;
	bool overflow;
};

static uint64_t w_alloc(struct info_writer *w, uint64_t size, uint64_t align)
{
	uint64_t at = (w->used + align - 1) & ~(align - 1);
	w->used = at + size;
	if (w->mem && w->used > w->cap)
		w->overflow = true;
	return w->addr + at;
}

static void w_bytes(struct info_writer *w, uint64_t gpa, const void *src, uint64_t len)
{
	if (!w->mem)
		return;
	if (gpa < w->addr || !range_fits(gpa - w->addr, len, w->cap)) {
		w->overflow = true;
		return;
	}
	memcpy(w->mem + (gpa - w->addr), src, len);
}

static void w32(struct info_writer *w, uint64_t gpa, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	w_bytes(w, gpa, b, 4);
}

static void w64(struct info_writer *w, uint64_t gpa, uint64_t v)
{
	w32(w, gpa, (uint32_t)v);
	w32(w, gpa + 4, (uint32_t)(v >> 32));
}

/* A NUL-terminated string "a b" (or "a" when b is NULL); returns where. */
static uint64_t w_string(struct info_writer *w, const char *a, const char *b)
{
	uint64_t alen = strlen(a), blen = b ? strlen(b) : 0;
	uint64_t total = alen + (b ? 1 + blen : 0) + 1;
	uint64_t at = w_alloc(w, total, 1);

	w_bytes(w, at, a, alen);
	if (b) {
		w_bytes(w, at + alen, " ", 1);
		w_bytes(w, at + alen + 1, b, blen);
	}
	w_bytes(w, at + total - 1, "", 1);
	return at;
}

static unsigned memory_map(uint64_t ram_size, struct mem_region *r)
{
	unsigned n = 0;
	uint64_t low = ram_size < LOW_RAM_END ? ram_size : LOW_RAM_END;

	if (low)
		r[n++] = (struct mem_region){ 0, low, MEMMAP_RAM };
	r[n++] = (struct mem_region){ LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END, MEMMAP_RESERVED };
	if (ram_size > HIGH_RAM_START)
		r[n++] = (struct mem_region){ HIGH_RAM_START, ram_size - HIGH_RAM_START, MEMMAP_RAM };
	r[n++] = (struct mem_region){ BIOS_ROM_START, BIOS_ROM_END - BIOS_ROM_START, MEMMAP_RESERVED };
	return n;
}

static uint32_t mem_lower_kib(uint64_t ram_size)
{
	return (uint32_t)((ram_size < LOW_RAM_END ? ram_size : LOW_RAM_END) >> 10);
}

static uint32_t mem_upper_kib(uint64_t ram_size)
{
	return ram_size > HIGH_RAM_START ? (uint32_t)((ram_size - HIGH_RAM_START) >> 10) : 0;
}

static void build_mb1(struct info_writer *w, const struct boot_params *p,
		      const struct boot_layout *out, uint64_t ram_size)
{
	struct mem_region map[MEMMAP_MAX];
	unsigned nmap = memory_map(ram_size, map);
	uint64_t info = w_alloc(w, MB1_INFO_SIZE, 8);
	uint64_t mmap = w_alloc(w, (uint64_t)nmap * 24, 8);
	uint64_t mods = w_alloc(w, (uint64_t)p->nmodules * 16, 8);
	uint8_t zero[MB1_INFO_SIZE] = { 0 };

	w_bytes(w, info, zero, sizeof(zero));
	/* mem, cmdline, mods, mmap, boot_loader_name */
	w32(w, info + 0, 1u << 0 | 1u << 2 | 1u << 3 | 1u << 6 | 1u << 9);
	w32(w, info + 4, mem_lower_kib(ram_size));
	w32(w, info + 8, mem_upper_kib(ram_size));
	/* As qemu -kernel: the image's name as given, then the arguments. */
	w32(w, info + 16, (uint32_t)w_string(w, p->image_name ? p->image_name : "", p->args));
	w32(w, info + 20, p->nmodules);
	w32(w, info + 24, (uint32_t)mods);
	w32(w, info + 44, nmap * 24);
	w32(w, info + 48, (uint32_t)mmap);
	w32(w, info + 64, (uint32_t)w_string(w, BOOT_LOADER_NAME, NULL));
	for (unsigned i = 0; i < nmap; i++) {
		uint64_t e = mmap + (uint64_t)i * 24;
		w32(w, e, 20); /* the size field does not count itself */
		w64(w, e + 4, map[i].base);
		w64(w, e + 12, map[i].length);
		w32(w, e + 20, map[i].type);
	}
	for (unsigned i = 0; i < p->nmodules; i++) {
		uint64_t e = mods + (uint64_t)i * 16;
		w32(w, e, (uint32_t)out->module_addr[i]);
		w32(w, e + 4, (uint32_t)(out->module_addr[i] + p->modules[i].size));
		w32(w, e + 8, (uint32_t)w_string(w, p->modules[i].name, p->modules[i].args));
		w32(w, e + 12, 0);
	}
}

static uint64_t mb2_tag(struct info_writer *w, uint32_t type, uint64_t size)
{
	uint64_t at = w_alloc(w, size, 8);
	w32(w, at, type);
	w32(w, at + 4, (uint32_t)size);
	return at;
}

/* A string tag: type, size, the NUL-terminated string. */
static void mb2_string_tag(struct info_writer *w, uint32_t type, const char *s)
{
	uint64_t len = strlen(s) + 1;
	uint64_t at = mb2_tag(w, type, 8 + len);
	w_bytes(w, at + 8, s, len);
}

/* The RSDP as it was before anything was loaded: the image must not change
 * what the tags copy between measuring and writing. */
struct rsdp_copy {
	uint8_t bytes[PAGE];
	uint32_t old_len, new_len; /* 0: no such tag */
};

static void build_mb2(struct info_writer *w, const struct boot_params *p,
		      const struct boot_layout *out, uint64_t ram_size,
		      const struct rsdp_copy *rsdp)
{
	struct mem_region map[MEMMAP_MAX];
	unsigned nmap = memory_map(ram_size, map);
	uint64_t start = w_alloc(w, 8, 8), at;

	/* As GRUB: the arguments alone, an empty string without any. */
	mb2_string_tag(w, 1, p->args ? p->args : "");
	mb2_string_tag(w, 2, BOOT_LOADER_NAME);
	for (unsigned i = 0; i < p->nmodules; i++) {
		const char *s = p->modules[i].args ? p->modules[i].args : "";
		uint64_t len = strlen(s) + 1;
		at = mb2_tag(w, 3, 16 + len);
		w32(w, at + 8, (uint32_t)out->module_addr[i]);
		w32(w, at + 12, (uint32_t)(out->module_addr[i] + p->modules[i].size));
		w_bytes(w, at + 16, s, len);
	}
	at = mb2_tag(w, 4, 16);
	w32(w, at + 8, mem_lower_kib(ram_size));
	w32(w, at + 12, mem_upper_kib(ram_size));
	at = mb2_tag(w, 6, 16 + (uint64_t)nmap * 24);
	w32(w, at + 8, 24); /* entry_size */
	w32(w, at + 12, 0); /* entry_version */
	for (unsigned i = 0; i < nmap; i++) {
		uint64_t e = at + 16 + (uint64_t)i * 24;
		w64(w, e, map[i].base);
		w64(w, e + 8, map[i].length);
		w32(w, e + 16, map[i].type);
		w32(w, e + 20, 0);
	}
	/* Copies of the RSDP: the 20-byte ACPI 1.0 part always, the whole
	 * table (its length field) when revision >= 2. */
	if (rsdp->old_len) {
		at = mb2_tag(w, 14, 8 + rsdp->old_len);
		w_bytes(w, at + 8, rsdp->bytes, rsdp->old_len);
	}
	if (rsdp->new_len) {
		at = mb2_tag(w, 15, 8 + (uint64_t)rsdp->new_len);
		w_bytes(w, at + 8, rsdp->bytes, rsdp->new_len);
	}
	mb2_tag(w, 0, 8);
	w32(w, start, (uint32_t)(w->used - (start - w->addr)));
	w32(w, start + 4, 0);
}

static void build_pvh(struct info_writer *w, const struct boot_params *p,
		      const struct boot_layout *out, uint64_t ram_size)
{
	struct mem_region map[MEMMAP_MAX];
	unsigned nmap = memory_map(ram_size, map);
	uint64_t info = w_alloc(w, 56, 8);
	uint64_t mods = p->nmodules ? w_alloc(w, (uint64_t)p->nmodules * 32, 8) : 0;
	uint64_t memmap = w_alloc(w, (uint64_t)nmap * 24, 8);
	uint8_t zero[56] = { 0 };

	w_bytes(w, info, zero, sizeof(zero));
	w32(w, info + 0, PVH_START_MAGIC);
	w32(w, info + 4, 1); /* version 1: with the memory map */
	w32(w, info + 8, 0);
	w32(w, info + 12, p->nmodules);
	w64(w, info + 16, mods);
	/* As Linux expects: the arguments alone. */
	w64(w, info + 24, w_string(w, p->args ? p->args : "", NULL));
	w64(w, info + 32, p->rsdp);
	w64(w, info + 40, memmap);
	w32(w, info + 48, nmap);
	for (unsigned i = 0; i < p->nmodules; i++) {
		uint64_t e = mods + (uint64_t)i * 32;
		w64(w, e, out->module_addr[i]);
		w64(w, e + 8, p->modules[i].size);
		w64(w, e + 16, w_string(w, p->modules[i].args ? p->modules[i].args : "", NULL));
		w64(w, e + 24, 0);
	}
	for (unsigned i = 0; i < nmap; i++) {
		uint64_t e = memmap + (uint64_t)i * 24;
		w64(w, e, map[i].base);
		w64(w, e + 8, map[i].length);
		w32(w, e + 16, map[i].type);
		w32(w, e + 20, 0);
	}
}

static void build_info(struct info_writer *w, const struct boot_params *p,
		       const struct boot_layout *out, const struct rsdp_copy *rsdp,
		       uint64_t ram_size)
{
	if (out->protocol == BOOT_MULTIBOOT)
		build_mb1(w, p, out, ram_size);
	else if (out->protocol == BOOT_MULTIBOOT2)
		build_mb2(w, p, out, ram_size, rsdp);
	else
		build_pvh(w, p, out, ram_size);
}

/* The next page-aligned place for size bytes at or after *cursor, never
 * straddling the reserved area below 1 MiB. */
static bool place(uint64_t *cursor, uint64_t size, uint64_t ram_size, uint64_t *at)
{
	uint64_t a = page_up(*cursor);

	if (a < HIGH_RAM_START && size && (a >= LOW_RAM_END || size > LOW_RAM_END - a))
		a = HIGH_RAM_START;
	if (!range_fits(a, size, ram_size))
		return false;
	*at = a;
	*cursor = a + size;
	return true;
}

static int check_params(const uint8_t *ram, uint64_t ram_size, const struct boot_params *p,
			struct rsdp_copy *rsdp, char *err, size_t err_size)
{
	if (p->nmodules > BOOT_MAX_MODULES) {
		image_error(err, err_size, "--module: %u modules is more than the %d kvmstub takes",
		     p->nmodules, BOOT_MAX_MODULES);
		return -EINVAL;
	}
	for (unsigned i = 0; i < p->nmodules; i++) {
		if (!p->modules[i].name || (p->modules[i].size && !p->modules[i].data)) {
			image_error(err, err_size, "--module %u: no file", i + 1);
			return -EINVAL;
		}
	}
	if (p->rsdp) {
		if (!range_fits(p->rsdp, 36, ram_size)) {
			image_error(err, err_size, "rsdp 0x%" PRIx64 " is outside guest RAM", p->rsdp);
			return -EINVAL;
		}
		uint32_t len = image_le32(ram + p->rsdp + 20);
		rsdp->old_len = 20;
		if (ram[p->rsdp + 15] >= 2) {
			if (len < 36 || len > PAGE || !range_fits(p->rsdp, len, ram_size)) {
				image_error(err, err_size, "rsdp at 0x%" PRIx64 ": length %" PRIu32
				     " is not 36..4096 inside RAM", p->rsdp, len);
				return -EINVAL;
			}
			rsdp->new_len = len;
		}
		memcpy(rsdp->bytes, ram + p->rsdp, rsdp->new_len ? rsdp->new_len : 20);
	}
	return 0;
}

/* Which protocol the image asks for, and its header. */
static int choose_protocol(const uint8_t *file, size_t size, const struct boot_params *p,
			   struct boot_layout *out, struct mb1_header *mb1,
			   struct mb2_header *mb2, uint64_t *pvh_entry,
			   char *err, size_t err_size)
{
	enum boot_protocol want = p->protocol;
	size_t off;
	int rc;

	if (want == BOOT_AUTO || want == BOOT_MULTIBOOT) {
		if (find_mb1(file, size, &off)) {
			out->protocol = BOOT_MULTIBOOT;
			return parse_mb1(file, size, off, mb1, err, err_size);
		}
		if (want == BOOT_MULTIBOOT) {
			image_error(err, err_size, "--boot multiboot: no Multiboot header (magic "
			     "0x1badb002 with a valid checksum) in the first 8 KiB");
			return -EINVAL;
		}
	}
	if (want == BOOT_AUTO || want == BOOT_MULTIBOOT2) {
		if (find_mb2(file, size, &off)) {
			out->protocol = BOOT_MULTIBOOT2;
			return parse_mb2(file, size, off, p->rsdp != 0, mb2, err, err_size);
		}
		if (want == BOOT_MULTIBOOT2) {
			image_error(err, err_size, "--boot multiboot2: no Multiboot2 header (magic "
			     "0xe85250d6 with a valid checksum) in the first 32 KiB");
			return -EINVAL;
		}
	}
	if (want == BOOT_AUTO || want == BOOT_PVH) {
		rc = find_pvh_note(file, size, pvh_entry, err, err_size);
		if (rc < 0)
			return rc;
		if (rc > 0) {
			out->protocol = BOOT_PVH;
			return 0;
		}
		if (want == BOOT_PVH) {
			image_error(err, err_size, "--boot pvh: the image is %s", is_elf(file, size)
			     ? "an ELF without a XEN_ELFNOTE_PHYS32_ENTRY note" : "not an ELF file");
			return -EINVAL;
		}
	}
	if (want == BOOT_ELF && !is_elf(file, size)) {
		image_error(err, err_size, "--boot elf: the image is not an ELF file");
		return -EINVAL;
	}
	if (want == BOOT_FLAT)
		out->protocol = BOOT_FLAT;
	else
		out->protocol = is_elf(file, size) ? BOOT_ELF : BOOT_FLAT;
	return 0;
}

static int load_image(const uint8_t *file, size_t size, uint8_t *ram, uint64_t ram_size,
		      const struct boot_params *p, const struct mb1_header *mb1,
		      const struct mb2_header *mb2, uint64_t pvh_entry,
		      struct boot_layout *out, char *err, size_t err_size)
{
	int rc;

	out->kind = is_elf(file, size) ? (size > 4 && file[4] == 2 ? IMAGE_ELF64 : IMAGE_ELF32)
				       : IMAGE_FLAT;
	switch (out->protocol) {
	case BOOT_MULTIBOOT:
		if (mb1->flags & MB1_FLAG_ADDRESS) {
			rc = load_by_address(file, size, &mb1->addr, "multiboot header", ram,
					     ram_size, out, err, err_size);
			if (rc)
				return rc;
			out->entry = mb1->entry_addr;
			return check_entry(out->entry, ram_size, "multiboot header entry_addr",
					   err, err_size);
		}
		if (!is_elf(file, size)) {
			image_error(err, err_size, "multiboot header flags 0x%" PRIx32 ": bit 16 (address "
			     "fields) is clear, and the image is not ELF", mb1->flags);
			return -EINVAL;
		}
		rc = load_elf_image(file, size, ram, ram_size, out, err, err_size);
		if (rc)
			return rc;
		out->entry = elf_entry_physical(file, size, out->entry);
		return check_entry(out->entry, ram_size, "ELF e_entry", err, err_size);
	case BOOT_MULTIBOOT2:
		if (mb2->has_address) {
			rc = load_by_address(file, size, &mb2->addr, "multiboot2 address tag",
					     ram, ram_size, out, err, err_size);
			if (rc)
				return rc;
			if (!mb2->has_entry) {
				image_error(err, err_size, "multiboot2 header: an address tag without "
				     "an entry address tag");
				return -EINVAL;
			}
		} else {
			if (!is_elf(file, size)) {
				image_error(err, err_size, "multiboot2 header: no address tag, and the "
				     "image is not ELF");
				return -EINVAL;
			}
			rc = load_elf_image(file, size, ram, ram_size, out, err, err_size);
			if (rc)
				return rc;
			out->entry = elf_entry_physical(file, size, out->entry);
		}
		if (mb2->has_entry)
			out->entry = mb2->entry_addr;
		return check_entry(out->entry, ram_size, mb2->has_entry ?
				   "multiboot2 entry address tag entry_addr" : "ELF e_entry",
				   err, err_size);
	case BOOT_PVH:
		rc = load_elf_image(file, size, ram, ram_size, out, err, err_size);
		if (rc)
			return rc;
		out->entry = pvh_entry;
		return check_entry(pvh_entry, ram_size, "XEN_ELFNOTE_PHYS32_ENTRY", err,
				   err_size);
	case BOOT_ELF:
		return load_elf_image(file, size, ram, ram_size, out, err, err_size);
	default:
		rc = load_flat_image(file, size, ram, ram_size, p->flat_load_addr, out,
				     err, err_size);
		out->kind = IMAGE_FLAT;
		return rc;
	}
}

int boot_load(const uint8_t *file, size_t file_size, uint8_t *ram,
	      uint64_t ram_size, const struct boot_params *p,
	      struct boot_layout *out, char *err, size_t err_size)
{
	struct mb1_header mb1;
	struct mb2_header mb2;
	uint64_t pvh_entry = 0, cursor = 0, info_addr;
	struct info_writer w = { 0 };
	struct rsdp_copy rsdp = { .old_len = 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	if (err && err_size)
		err[0] = '\0';
	if (file_size == 0) {
		image_error(err, err_size, "the image file is empty");
		return -EINVAL;
	}
	rc = check_params(ram, ram_size, p, &rsdp, err, err_size);
	if (!rc)
		rc = choose_protocol(file, file_size, p, out, &mb1, &mb2, &pvh_entry, err,
				     err_size);
	if (rc)
		return rc;
	if ((out->protocol == BOOT_ELF || out->protocol == BOOT_FLAT) &&
	    (p->args || p->nmodules)) {
		image_error(err, err_size, "%s: a plain %s image receives no command line or "
		     "modules; they need a Multiboot, Multiboot2 or PVH kernel",
		     p->args ? "--append" : "--module", boot_protocol_name(out->protocol));
		return -EINVAL;
	}

	/* Everything after this point has its place checked before it is
	 * written; the image goes first (the ELF loader checks all of it
	 * before it copies). */
	rc = load_image(file, file_size, ram, ram_size, p, &mb1, &mb2, pvh_entry, out,
			err, err_size);
	if (rc || out->protocol == BOOT_ELF || out->protocol == BOOT_FLAT)
		return rc;

	for (unsigned i = 0; i < out->nranges; i++)
		if (out->ranges[i][1] > cursor)
			cursor = out->ranges[i][1];
	for (unsigned i = 0; i < p->nmodules; i++) {
		if (!place(&cursor, p->modules[i].size, ram_size, &out->module_addr[i])) {
			image_error(err, err_size, "--module %s: %zu bytes do not fit in guest RAM "
			     "after the image and the modules before it",
			     p->modules[i].name, p->modules[i].size);
			return -E2BIG;
		}
	}
	build_info(&w, p, out, &rsdp, ram_size); /* measures */
	if (!place(&cursor, w.used, ram_size, &info_addr)) {
		image_error(err, err_size, "the %s information (%" PRIu64 " bytes) does not fit in "
		     "guest RAM after the image and the modules",
		     boot_protocol_name(out->protocol), w.used);
		return -E2BIG;
	}
	/* Every place is known and inside RAM: now copy and build. */
	for (unsigned i = 0; i < p->nmodules; i++) {
		if (p->modules[i].size)
			memcpy(ram + out->module_addr[i], p->modules[i].data, p->modules[i].size);
		add_range(out, out->module_addr[i], out->module_addr[i] + p->modules[i].size);
	}
	w = (struct info_writer){ .mem = ram + info_addr, .addr = info_addr, .cap = w.used };
	build_info(&w, p, out, &rsdp, ram_size);
	if (w.overflow || w.used != w.cap) {
		image_error(err, err_size, "internal error: the %s information changed size",
		     boot_protocol_name(out->protocol));
		return -EINVAL;
	}
	add_range(out, info_addr, info_addr + w.cap);
	out->info_addr = info_addr;
	out->info_size = w.cap;
	out->protocol_regs = true;
	out->ebx = (uint32_t)info_addr;
	out->eax = out->protocol == BOOT_MULTIBOOT ? MULTIBOOT_BOOTLOADER_MAGIC
		 : out->protocol == BOOT_MULTIBOOT2 ? MULTIBOOT2_BOOTLOADER_MAGIC : 0;
	return 0;
}
