/* kvm/probe.c — what this host's KVM does with int3 (real and protected
 * mode) and with debug-register data watchpoints, found at start-up by
 * running two instructions at a time on a throwaway VM.
 *
 * On VMX and SVM, int3 with KVM_GUESTDBG_USE_SW_BP ends KVM_RUN with
 * KVM_EXIT_DEBUG (exception 3), and a DR7 write watchpoint fires after the
 * write. Software backends may deliver int3 to the guest, fail to emulate
 * it, or never fire data watchpoints. Each probe guest is real mode at
 * 0x1000 and every outcome ends at the `hlt` right after the probed
 * instruction (int3's IVT vector points there too), so a probe cannot run
 * away. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/machine.h"

#define PROBE_RAM 0x3000
#define PROBE_CODE 0x1000
#define PROBE_DATA 0x2000

struct probe_vm {
	int vm_fd, vcpu_fd;
	uint8_t *ram;
	struct kvm_run *run;
	size_t run_size;
};

static void probe_close(struct probe_vm *p)
{
	if (p->run && p->run != MAP_FAILED)
		munmap(p->run, p->run_size);
	if (p->vcpu_fd >= 0)
		close(p->vcpu_fd);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	if (p->ram && p->ram != MAP_FAILED)
		munmap(p->ram, PROBE_RAM);
}

static bool probe_open(const struct machine *m, struct probe_vm *p)
{
	memset(p, 0, sizeof(*p));
	p->vcpu_fd = -1;
	p->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	p->ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int run_size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (p->vm_fd < 0 || p->ram == MAP_FAILED || run_size <= 0)
		return false;
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = PROBE_RAM,
		.userspace_addr = (uint64_t)(uintptr_t)p->ram,
	};
	if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return false;
	p->vcpu_fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, 0);
	if (p->vcpu_fd < 0)
		return false;
	p->run_size = (size_t)run_size;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu_fd, 0);
	return p->run != MAP_FAILED;
}

/* Runs `code` (followed by hlt) at 0x1000 in real mode with `debug`; true
 * if KVM_RUN ended with KVM_EXIT_DEBUG, the exception in *exception. */
static bool probe_run(struct probe_vm *p, const uint8_t *code, size_t len,
		      const struct kvm_guest_debug *debug, uint32_t *exception)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	memset(p->ram, 0, PROBE_RAM);
	/* IVT vector 3 (offset 0x0c) -> 0000:(the hlt after the code). */
	uint16_t after = (uint16_t)(PROBE_CODE + len);
	memcpy(p->ram + 0x0c, &after, sizeof(after));
	memcpy(p->ram + PROBE_CODE, code, len);
	p->ram[PROBE_CODE + len] = 0xf4;
	if (ioctl(p->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(p->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return false;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_CODE;
	regs.rflags = 0x2;
	regs.rsp = 0x800;
	if (ioctl(p->vcpu_fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(p->vcpu_fd, KVM_SET_GUEST_DEBUG, debug) < 0 ||
	    ioctl(p->vcpu_fd, KVM_RUN, 0) < 0)
		return false;
	*exception = p->run->debug.arch.exception;
	return p->run->exit_reason == KVM_EXIT_DEBUG;
}

static bool probe_int3(struct probe_vm *p)
{
	static const uint8_t int3[] = { 0xcc };
	struct kvm_guest_debug debug = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP,
	};
	uint32_t exception = 0;
	return probe_run(p, int3, sizeof(int3), &debug, &exception) && exception == 3;
}

/* int3 in flat 32-bit protected mode with no IDT: VMX/SVM would triple
 * fault; PVM's emulator refuses it with an internal error, rip still at
 * the int3, and the vCPU runs on once the state is put right: usable as a
 * breakpoint in protected and long mode when the in-kernel irqchip takes
 * `hlt` from us. */
static bool probe_int3_internal_error(struct probe_vm *p)
{
	struct kvm_guest_debug debug = { .control = 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_segment code = { .base = 0, .limit = 0xffffffff, .selector = 0x08,
				    .type = 0xb, .present = 1, .s = 1, .db = 1, .g = 1 };
	struct kvm_segment data = code;

	data.selector = 0x10;
	data.type = 0x3;
	memset(p->ram, 0, PROBE_RAM);
	p->ram[PROBE_CODE] = 0xcc;
	p->ram[PROBE_CODE + 1] = 0xf4;
	if (ioctl(p->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	sregs.cr0 |= 1;
	sregs.cs = code;
	sregs.ds = sregs.es = sregs.ss = sregs.fs = sregs.gs = data;
	memset(&regs, 0, sizeof(regs));
	regs.rip = PROBE_CODE;
	regs.rflags = 0x2;
	regs.rsp = 0x800;
	if (ioctl(p->vcpu_fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(p->vcpu_fd, KVM_SET_REGS, &regs) < 0 ||
	    ioctl(p->vcpu_fd, KVM_SET_GUEST_DEBUG, &debug) < 0 ||
	    ioctl(p->vcpu_fd, KVM_RUN, 0) < 0 ||
	    p->run->exit_reason != KVM_EXIT_INTERNAL_ERROR ||
	    ioctl(p->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return false;
	return regs.rip == PROBE_CODE;
}

static bool probe_dr_write_watch(struct probe_vm *p)
{
	/* mov %al, (0x2000) */
	static const uint8_t store[] = { 0xa2, PROBE_DATA & 0xff, PROBE_DATA >> 8 };
	struct kvm_guest_debug debug = {
		.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
	};
	uint32_t exception = 0;

	debug.arch.debugreg[0] = PROBE_DATA;
	/* DR7: G0, R/W0 = 01 (write), LEN0 = 00 (one byte). */
	debug.arch.debugreg[7] = (1ULL << 1) | (1ULL << 16);
	return probe_run(p, store, sizeof(store), &debug, &exception) && exception == 1 &&
	       (p->run->debug.arch.dr6 & 1);
}

void machine_probe_host(const struct machine *m, struct host_caps *caps)
{
	struct probe_vm p;

	memset(caps, 0, sizeof(*caps));
	if (probe_open(m, &p)) {
		caps->int3_traps = probe_int3(&p);
		caps->dr_watch_fires = probe_dr_write_watch(&p);
		if (!caps->int3_traps)
			caps->int3_internal_error = probe_int3_internal_error(&p);
	}

	probe_close(&p);
}
