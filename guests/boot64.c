/* guests/boot64.c — the 64-bit C half of mb2info64.elf and pvhinfo64.elf:
 * prints the Multiboot2 information (every tag, Multiboot2 Specification
 * 3.6) or the PVH hvm_start_info (version 1: command line, modules, memory
 * map, RSDP) it was given, on COM1. Addresses that depend on the build
 * are printed as properties (page-aligned, after the kernel). */
#include <stdint.h>

#include "bootprint.h"
#include "uart.h"

#define MULTIBOOT2_MAGIC 0x36d76289u
#define PVH_MAGIC 0x336ec578u

void boot64_main(uint64_t magic, uint64_t info);

extern char _end[];

static uint32_t rd32(uint64_t addr)
{
	return *(const volatile uint32_t *)(uintptr_t)addr;
}

static uint64_t rd64(uint64_t addr)
{
	return *(const volatile uint64_t *)(uintptr_t)addr;
}

static void print_module(uint64_t start, uint64_t end)
{
	print_field("size", end - start);
	print_field("page_aligned", (start & 0xfff) == 0);
	print_field("after_kernel", start >= (uintptr_t)_end);
}

static void print_mb2(uint64_t info)
{
	uint64_t total = rd32(info), at = info + 8;

	print("multiboot2");
	print_field("magic", MULTIBOOT2_MAGIC);
	print_field("aligned8", (info & 7) == 0);
	print_field("info_after_kernel", info >= (uintptr_t)_end);
	print("\n");
	while (at + 8 <= info + total) {
		uint32_t type = rd32(at), size = rd32(at + 4);
		switch (type) {
		case 0:
			print("end");
			print_field("size", size);
			print_field("total_size_matches", at + size == info + total);
			print("\n");
			return;
		case 1:
			print("cmdline=");
			print_quoted(at + 8);
			break;
		case 2:
			print("boot_loader_name=");
			print_quoted(at + 8);
			break;
		case 3:
			print("module");
			print_module(rd32(at + 8), rd32(at + 12));
			print(" string=");
			print_quoted(at + 16);
			print(" data=");
			print_data(rd32(at + 8), rd32(at + 12) - rd32(at + 8));
			break;
		case 4:
			print("basic_meminfo");
			print_field("mem_lower", rd32(at + 8));
			print_field("mem_upper", rd32(at + 12));
			break;
		case 6:
			print("mmap");
			print_field("entry_size", rd32(at + 8));
			print_field("entry_version", rd32(at + 12));
			for (uint64_t e = at + 16; e + 24 <= at + size; e += rd32(at + 8)) {
				print("\nmmap");
				print_field("base", rd64(e));
				print_field("length", rd64(e + 8));
				print_field("type", rd32(e + 16));
			}
			break;
		case 14:
		case 15:
			/* A copy of the RSDP: signature and revision. */
			print(type == 14 ? "acpi_old_rsdp" : "acpi_new_rsdp");
			print_field("size", size);
			print(" signature=");
			print_data(at + 8, 8);
			print_field("revision", *(const volatile uint8_t *)(uintptr_t)(at + 8 + 15));
			break;
		default:
			print("tag");
			print_field("type", type);
			print_field("size", size);
			break;
		}
		print("\n");
		at += (size + 7) & ~7u;
	}
	print("no end tag\n");
}

static void print_pvh(uint64_t info)
{
	uint32_t nr_modules = rd32(info + 12), entries = rd32(info + 48);
	uint64_t mods = rd64(info + 16), memmap = rd64(info + 40);

	print("pvh");
	print_field("magic", rd32(info));
	print_field("version", rd32(info + 4));
	print_field("flags", rd32(info + 8));
	print_field("info_after_kernel", info >= (uintptr_t)_end);
	print("\ncmdline=");
	print_quoted(rd64(info + 24));
	print("\n");
	print("modules");
	print_field("nr_modules", nr_modules);
	print("\n");
	for (uint32_t i = 0; i < nr_modules; i++) {
		uint64_t e = mods + (uint64_t)i * 32;
		print("module");
		print_module(rd64(e), rd64(e) + rd64(e + 8));
		print(" cmdline=");
		print_quoted(rd64(e + 16));
		print(" data=");
		print_data(rd64(e), rd64(e + 8));
		print("\n");
	}
	for (uint32_t i = 0; i < entries; i++) {
		uint64_t e = memmap + (uint64_t)i * 24;
		print("memmap");
		print_field("base", rd64(e));
		print_field("length", rd64(e + 8));
		print_field("type", rd32(e + 16));
		print("\n");
	}
	print("acpi");
	print_field("rsdp_paddr", rd64(info + 32));
	if (rd64(info + 32)) {
		print(" signature=");
		print_data(rd64(info + 32), 8);
	}
	print("\n");
}

void boot64_main(uint64_t magic, uint64_t info)
{
	if (magic == MULTIBOOT2_MAGIC)
		print_mb2(info);
	else if (rd32(info) == PVH_MAGIC)
		print_pvh(info);
	else
		print("no boot information I know\n");
}
