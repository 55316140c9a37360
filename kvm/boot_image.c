/* kvm/boot_image.c — a kernel image into a machine, the vCPU at its first
 * instruction, and the register layout gdb keeps for the run.
 *
 * The boot protocols fix the entry state (Multiboot v1/2: eax magic, ebx
 * information, flat 32-bit protected mode, paging off; PVH: ebx
 * hvm_start_info, CR0 = PE, CR4 = 0, TR based at 0 with limit 0x67), and
 * every path enters with IF = 0. No ioctls here: the registers go through
 * the machine's cache. */
#include "kvm/boot_image.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CR0_PE (1ULL << 0)
#define CR0_ET (1ULL << 4)

static enum machine_mode default_mode(const struct boot_layout *l)
{
	switch (l->protocol) {
	case BOOT_MULTIBOOT:
	case BOOT_MULTIBOOT2:
	case BOOT_PVH:
		return MACHINE_MODE_PROTECTED;
	default:
		return l->kind == IMAGE_ELF64 ? MACHINE_MODE_LONG
		       : l->kind == IMAGE_ELF32 ? MACHINE_MODE_PROTECTED
						: MACHINE_MODE_REAL;
	}
}

/* ELF64 is 64-bit code even where its first instructions are 32-bit (a
 * Multiboot2 or PVH entry, a trampoline): gdb gets x86-64 from the first
 * stop, with rip and friends zero-extended while the CPU is in 32-bit
 * mode, so the layout never changes under it. */
static enum target_arch arch_for(const struct boot_layout *l, enum machine_mode mode)
{
	if (l->kind == IMAGE_ELF64)
		return TARGET_ARCH_X86_64;
	if (l->kind == IMAGE_ELF32)
		return TARGET_ARCH_I386;
	return mode == MACHINE_MODE_LONG ? TARGET_ARCH_X86_64
	       : mode == MACHINE_MODE_PROTECTED ? TARGET_ARCH_I386 : TARGET_ARCH_I8086;
}

static const char *mode_name(enum machine_mode mode)
{
	return mode == MACHINE_MODE_REAL ? "real" : mode == MACHINE_MODE_PROTECTED ? "protected"
										  : "long";
}

int boot_image(struct machine *m, const struct boot_request *req, struct boot_outcome *out)
{
	struct boot_params params = {
		.protocol = req->protocol,
		.image_name = req->image_name,
		.args = req->args,
		.modules = req->modules,
		.nmodules = req->nmodules,
		.flat_load_addr = req->load_addr,
		/* The pc machine's ACPI tables, unless the caller names others. */
		.rsdp = req->rsdp ? req->rsdp : m->rsdp_addr,
	};
	struct boot_layout *l = &out->layout;
	int rc;

	m->error[0] = '\0';
	rc = boot_load(req->image, req->image_size, m->ram, m->ram_size, &params, l,
		       m->error, sizeof(m->error));
	if (rc)
		return rc;
	out->mode = default_mode(l);
	if (req->mode_set) {
		if (l->protocol_regs && req->mode != MACHINE_MODE_PROTECTED) {
			snprintf(m->error, sizeof(m->error),
				 "--mode %s: a %s kernel starts in protected mode, as its "
				 "boot protocol says", mode_name(req->mode),
				 boot_protocol_name(l->protocol));
			return -EINVAL;
		}
		out->mode = req->mode;
	}
	out->arch = req->arch_set ? req->arch : arch_for(l, out->mode);

	rc = machine_boot(m, out->mode, req->entry_set ? req->entry : l->entry,
			  (const uint64_t(*)[2])l->ranges, l->nranges);
	if (rc)
		return rc;
	if (!l->protocol_regs)
		return 0;

	struct kvm_regs *regs = machine_regs(m);
	regs->rax = l->eax;
	regs->rbx = l->ebx;
	machine_regs_changed(m);
	if (l->protocol == BOOT_PVH) {
		struct kvm_sregs *s = machine_sregs(m);
		s->cr0 = CR0_PE | CR0_ET;
		s->cr4 = 0;
		s->tr.base = 0;
		machine_sregs_changed(m);
	}
	return 0;
}
