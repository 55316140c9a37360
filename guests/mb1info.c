/* guests/mb1info.c — a Multiboot v1 kernel that prints the whole
 * information block it was given (Multiboot Specification 0.6.96, section
 * 3.3) on COM1: magic, flags, mem_lower/mem_upper, the memory map, the
 * command line, each module (its string, its size, whether it is
 * page-aligned after the kernel, its first bytes) and the boot loader
 * name. Addresses that depend on the build are printed as properties. */
#include <stdint.h>

#include "bootprint.h"
#include "uart.h"

void mb1_main(uint32_t magic, uint32_t info_addr);

extern char _end[];

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr, config_table, boot_loader_name;
};

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};

void mb1_main(uint32_t magic, uint32_t info_addr)
{
	const struct mb1_info *info = (const struct mb1_info *)(uintptr_t)info_addr;

	print("multiboot");
	print_field("magic", magic);
	print_field("flags", info->flags);
	print_field("info_after_kernel", info_addr >= (uintptr_t)_end);
	print("\n");
	if (info->flags & (1u << 0)) {
		print("memory");
		print_field("mem_lower", info->mem_lower);
		print_field("mem_upper", info->mem_upper);
		print("\n");
	}
	if (info->flags & (1u << 6)) {
		uint32_t at = info->mmap_addr, end = at + info->mmap_length;
		while (at < end) {
			const uint32_t *e = (const uint32_t *)(uintptr_t)at;
			print("mmap");
			print_field("size", e[0]);
			print_field("base", (uint64_t)e[2] << 32 | e[1]);
			print_field("length", (uint64_t)e[4] << 32 | e[3]);
			print_field("type", e[5]);
			print("\n");
			at += e[0] + 4;
		}
	}
	if (info->flags & (1u << 2)) {
		print("cmdline=");
		print_quoted(info->cmdline);
		print("\n");
	}
	if (info->flags & (1u << 3)) {
		const struct mb1_module *mods = (const struct mb1_module *)(uintptr_t)info->mods_addr;
		print("modules");
		print_field("mods_count", info->mods_count);
		print("\n");
		for (uint32_t i = 0; i < info->mods_count; i++) {
			print("module");
			print_field("size", mods[i].mod_end - mods[i].mod_start);
			print_field("page_aligned", (mods[i].mod_start & 0xfff) == 0);
			print_field("after_kernel", mods[i].mod_start >= (uintptr_t)_end);
			print(" string=");
			print_quoted(mods[i].string);
			print(" data=");
			print_data(mods[i].mod_start, mods[i].mod_end - mods[i].mod_start);
			print("\n");
		}
	}
	if (info->flags & (1u << 9)) {
		print("boot_loader_name=");
		print_quoted(info->boot_loader_name);
		print("\n");
	}
}
