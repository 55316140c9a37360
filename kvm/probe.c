/* kvm/probe.c — what this host's KVM does with int3, found at start-up by
 * running two instructions on a throwaway VM.
 *
 * On VMX and SVM, int3 with KVM_GUESTDBG_USE_SW_BP ends KVM_RUN with
 * KVM_EXIT_DEBUG (exception 3). Software backends may instead deliver it
 * to the guest or fail to emulate it. The probe guest is real mode:
 * `int3` at 0x1000 whose IVT vector leads to the `hlt` at 0x1001, so every
 * outcome ends at once. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/machine.h"

#define PROBE_RAM 0x2000

static bool run_probe(int vm_fd, int vcpu_fd, struct kvm_run *run)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	struct kvm_guest_debug debug;

	if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return false;
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return false;
	memset(&regs, 0, sizeof(regs));
	regs.rip = 0x1000;
	regs.rflags = 0x2;
	regs.rsp = 0x800;
	if (ioctl(vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return false;
	memset(&debug, 0, sizeof(debug));
	debug.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (ioctl(vcpu_fd, KVM_SET_GUEST_DEBUG, &debug) < 0)
		return false;
	(void)vm_fd;
	if (ioctl(vcpu_fd, KVM_RUN, 0) < 0)
		return false;
	return run->exit_reason == KVM_EXIT_DEBUG && run->debug.arch.exception == 3;
}

bool machine_probe_int3_traps(const struct machine *m)
{
	bool traps = false;
	int vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (vm_fd < 0)
		return false;
	uint8_t *ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED) {
		close(vm_fd);
		return false;
	}
	/* IVT entry 3 (offset 0x0c): 0000:1001, the hlt after the int3. */
	ram[0x0c] = 0x01;
	ram[0x0d] = 0x10;
	ram[0x1000] = 0xcc;
	ram[0x1001] = 0xf4;
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = PROBE_RAM,
		.userspace_addr = (uint64_t)(uintptr_t)ram,
	};
	int vcpu_fd = -1;
	struct kvm_run *run = MAP_FAILED;
	int run_size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) == 0 &&
	    (vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0)) >= 0 && run_size > 0 &&
	    (run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd,
			0)) != MAP_FAILED)
		traps = run_probe(vm_fd, vcpu_fd, run);
	if (run != MAP_FAILED)
		munmap(run, (size_t)run_size);
	if (vcpu_fd >= 0)
		close(vcpu_fd);
	close(vm_fd);
	munmap(ram, PROBE_RAM);
	return traps;
}
