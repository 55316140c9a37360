/* kvm/reset.c — putting the machine back as it was created, fast, for
 * `run` and `monitor system_reset`: the vCPU state KVM gave the new vCPU,
 * devices reset, and only the guest RAM pages that were written since
 * (the guest's writes from KVM's dirty log, the host's from our own
 * notes) cleared. Returns errors; never prints. */
#include "kvm/machine.h"

#include "kvm/fwtables.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Model-specific registers a kernel sets up and a reset must undo. */
static const uint32_t reset_msrs[] = {
	0x00000174, 0x00000175, 0x00000176, /* SYSENTER_CS/ESP/EIP */
	0x00000277,                         /* PAT */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR LSTAR CSTAR SFMASK */
	0xc0000100, 0xc0000101, 0xc0000102, /* FS/GS/KERNEL_GS base */
	0xc0000103,                         /* TSC_AUX */
};
#define RESET_MSRS (sizeof(reset_msrs) / sizeof(reset_msrs[0]))

/* One vCPU as KVM created it: vCPU 0 ready to boot, the others waiting
 * for INIT/SIPI with their local APIC as at power-on. */
struct vcpu_reset_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_debugregs debugregs;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp_state;
	bool has_xcrs, has_xsave, has_events, has_debugregs;
	struct kvm_xcrs xcrs;
	/* struct kvm_xsave and struct kvm_msrs end in flexible arrays: kept
	 * as aligned bytes (KVM_GET_XSAVE fills the legacy 4 KiB region). */
	_Alignas(8) uint8_t xsave[sizeof(struct kvm_xsave)];
	_Alignas(8) uint8_t msrs[sizeof(struct kvm_msrs) + RESET_MSRS * sizeof(struct kvm_msr_entry)];
	struct kvm_lapic_state lapic; /* pc machine only */
};

struct machine_reset_state {
	/* The in-kernel irqchip's state as created (pc machine only). */
	struct kvm_irqchip chips[3];
	struct kvm_pit_state2 pit;
	bool has_pit;
	/* What the host put in RAM at power-on (the pc machine's MP and ACPI
	 * tables): restored when a restart cleared it. */
	bool has_firmware;
	uint8_t firmware[FWTABLES_MAX_SIZE];
	unsigned ncpus;
	struct vcpu_reset_state cpu[];
};

static int reset_fail(struct machine *m, const char *what)
{
	int err = errno;
	snprintf(m->error, sizeof(m->error), "%s failed: %s", what, strerror(err));
	return -err;
}

void machine_note_host_write(struct machine *m, uint64_t phys, uint64_t len)
{
	if (!m->touched || !len || phys >= m->ram_size)
		return;
	if (len > m->ram_size - phys)
		len = m->ram_size - phys;
	uint64_t first = phys / MACHINE_PAGE_SIZE;
	uint64_t last = (phys + len - 1) / MACHINE_PAGE_SIZE;
	for (uint64_t page = first; page <= last; page++) {
		m->touched[page / 64] |= 1ULL << (page % 64);
		if (m->logged_pages) /* reverse execution's own copy */
			m->logged_pages[page / 64] |= 1ULL << (page % 64);
	}
}

int machine_collect_dirty(struct machine *m, const struct machine_slot *slot)
{
	if (!(slot->flags & KVM_MEM_LOG_DIRTY_PAGES) || !slot->size || !m->dirty_scratch)
		return 0;
	uint64_t pages = slot->size / MACHINE_PAGE_SIZE;
	uint64_t words = (pages + 63) / 64;
	uint64_t *bitmap = m->dirty_scratch; /* sized for all of RAM: no slot is larger */
	struct kvm_dirty_log log = { .slot = slot->id, .dirty_bitmap = bitmap };
	if (ioctl(m->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return reset_fail(m, "KVM_GET_DIRTY_LOG");
	uint64_t base = slot->start / MACHINE_PAGE_SIZE;
	for (uint64_t w = 0; w < words; w++) {
		uint64_t bits = bitmap[w];
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			uint64_t page = base + w * 64 + b;
			if (page >= m->npages)
				continue;
			m->touched[page / 64] |= 1ULL << (page % 64);
			if (m->logged_pages) /* reverse execution's own copy */
				m->logged_pages[page / 64] |= 1ULL << (page % 64);
		}
	}
	return 0;
}

static int save_vcpu(struct machine *m, const struct vcpu *c, struct vcpu_reset_state *r)
{
	int fd = c->fd;

	if (ioctl(fd, KVM_GET_REGS, &r->regs) < 0)
		return reset_fail(m, "KVM_GET_REGS");
	if (ioctl(fd, KVM_GET_SREGS, &r->sregs) < 0)
		return reset_fail(m, "KVM_GET_SREGS");
	if (ioctl(fd, KVM_GET_FPU, &r->fpu) < 0)
		return reset_fail(m, "KVM_GET_FPU");
	if (ioctl(fd, KVM_GET_MP_STATE, &r->mp_state) < 0)
		return reset_fail(m, "KVM_GET_MP_STATE");
	r->has_debugregs = ioctl(fd, KVM_GET_DEBUGREGS, &r->debugregs) == 0;
	r->has_events = ioctl(fd, KVM_GET_VCPU_EVENTS, &r->events) == 0;
	r->has_xcrs = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
		      ioctl(fd, KVM_GET_XCRS, &r->xcrs) == 0;
	r->has_xsave = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 &&
		       ioctl(fd, KVM_GET_XSAVE, r->xsave) == 0;
	/* One by one: KVM_GET_MSRS stops at the first MSR it cannot read,
	 * and the ones a host lacks are simply not restored. */
	struct kvm_msrs *msrs = (struct kvm_msrs *)r->msrs;
	unsigned n = 0;
	for (unsigned i = 0; i < RESET_MSRS; i++) {
		_Alignas(8) uint8_t one[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
		struct kvm_msrs *head = (struct kvm_msrs *)one;
		memset(one, 0, sizeof(one));
		head->nmsrs = 1;
		head->entries[0].index = reset_msrs[i];
		if (ioctl(fd, KVM_GET_MSRS, head) == 1)
			msrs->entries[n++] = head->entries[0];
	}
	msrs->nmsrs = n;
	if (m->has_irqchip && ioctl(fd, KVM_GET_LAPIC, &r->lapic) < 0)
		return reset_fail(m, "KVM_GET_LAPIC");
	return 0;
}

int machine_save_reset_state(struct machine *m)
{
	struct machine_reset_state *r =
		calloc(1, sizeof(*r) + m->ncpus * sizeof(struct vcpu_reset_state));
	if (!r)
		return -ENOMEM;
	free(m->reset_state);
	m->reset_state = r;
	r->ncpus = m->ncpus;
	for (unsigned i = 0; i < m->ncpus; i++) {
		int err = save_vcpu(m, &m->cpus[i], &r->cpu[i]);
		if (err)
			return err;
	}
	if (m->rsdp_addr && MACHINE_FWTABLES_ADDR + FWTABLES_MAX_SIZE <= m->ram_size) {
		r->has_firmware = true;
		memcpy(r->firmware, m->ram + MACHINE_FWTABLES_ADDR, FWTABLES_MAX_SIZE);
	}
	if (m->has_irqchip) {
		for (unsigned i = 0; i < 3; i++) {
			r->chips[i].chip_id = i;
			if (ioctl(m->vm_fd, KVM_GET_IRQCHIP, &r->chips[i]) < 0)
				return reset_fail(m, "KVM_GET_IRQCHIP");
		}
		r->has_pit = ioctl(m->vm_fd, KVM_GET_PIT2, &r->pit) == 0;
	}
	return 0;
}

static int restore_vcpu(struct machine *m, struct vcpu *c, const struct vcpu_reset_state *r)
{
	int fd = c->fd;

	if (ioctl(fd, KVM_SET_SREGS, &r->sregs) < 0)
		return reset_fail(m, "KVM_SET_SREGS");
	if (ioctl(fd, KVM_SET_REGS, &r->regs) < 0)
		return reset_fail(m, "KVM_SET_REGS");
	if (r->has_xsave) {
		if (ioctl(fd, KVM_SET_XSAVE, r->xsave) < 0)
			return reset_fail(m, "KVM_SET_XSAVE");
	} else if (ioctl(fd, KVM_SET_FPU, &r->fpu) < 0) {
		return reset_fail(m, "KVM_SET_FPU");
	}
	if (r->has_xcrs && ioctl(fd, KVM_SET_XCRS, &r->xcrs) < 0)
		return reset_fail(m, "KVM_SET_XCRS");
	const struct kvm_msrs *msrs = (const struct kvm_msrs *)r->msrs;
	if (msrs->nmsrs && ioctl(fd, KVM_SET_MSRS, msrs) != (int)msrs->nmsrs)
		return reset_fail(m, "KVM_SET_MSRS");
	if (r->has_debugregs && ioctl(fd, KVM_SET_DEBUGREGS, &r->debugregs) < 0)
		return reset_fail(m, "KVM_SET_DEBUGREGS");
	if (m->has_irqchip && ioctl(fd, KVM_SET_LAPIC, &r->lapic) < 0)
		return reset_fail(m, "KVM_SET_LAPIC");
	/* Events last: nothing pending or injected from the old run. */
	if (r->has_events && ioctl(fd, KVM_SET_VCPU_EVENTS, &r->events) < 0)
		return reset_fail(m, "KVM_SET_VCPU_EVENTS");
	if (ioctl(fd, KVM_SET_MP_STATE, &r->mp_state) < 0)
		return reset_fail(m, "KVM_SET_MP_STATE");
	c->regs_valid = c->sregs_valid = false;
	c->regs_dirty = c->sregs_dirty = false;
	if (m->has_sync_regs)
		c->run->kvm_dirty_regs = 0;
	c->run->immediate_exit = 0;
	c->failed = 0;
	return 0;
}

static int restore_irqchip(struct machine *m, const struct machine_reset_state *r)
{
	if (!m->has_irqchip)
		return 0;
	for (unsigned i = 0; i < 3; i++)
		if (ioctl(m->vm_fd, KVM_SET_IRQCHIP, &r->chips[i]) < 0)
			return reset_fail(m, "KVM_SET_IRQCHIP");
	if (r->has_pit && ioctl(m->vm_fd, KVM_SET_PIT2, &r->pit) < 0)
		return reset_fail(m, "KVM_SET_PIT2");
	return 0;
}

/* Zeroes the touched pages and forgets them. */
static void clear_touched(struct machine *m)
{
	uint64_t words = (m->npages + 63) / 64;
	uint64_t page = 0;

	while (page < m->npages) {
		uint64_t w = page / 64;
		uint64_t bits = m->touched[w] >> (page % 64);
		if (!bits) {
			page = (w + 1) * 64;
			continue;
		}
		page += (uint64_t)__builtin_ctzll(bits);
		uint64_t end = page;
		while (end < m->npages && (m->touched[end / 64] >> (end % 64)) & 1)
			end++;
		/* memset, not MADV_DONTNEED: measured here, giving 16 MiB back
		 * costs more (0.5 ms) and the guest then faults every page in
		 * again; written pages stay mapped in KVM this way. */
		memset(m->ram + page * MACHINE_PAGE_SIZE, 0,
		       (size_t)((end - page) * MACHINE_PAGE_SIZE));
		page = end;
	}
	memset(m->touched, 0, words * sizeof(uint64_t));
}

int machine_reset(struct machine *m)
{
	int err;

	if (!m->reset_state)
		return -ENOSYS;
	if (m->layout_dirty) {
		err = machine_apply_layout(m);
		if (err)
			return err;
	}
	for (unsigned i = 0; i < m->nslots; i++) {
		err = machine_collect_dirty(m, &m->slots[i]);
		if (err)
			return err;
	}
	clear_touched(m);
	if (m->reset_state->has_firmware)
		memcpy(m->ram + MACHINE_FWTABLES_ADDR, m->reset_state->firmware, FWTABLES_MAX_SIZE);
	/* The IOAPIC and PICs before the local APICs, as at power-on; each
	 * vCPU's events and MP state after its APIC. */
	err = restore_irqchip(m, m->reset_state);
	for (unsigned i = 0; !err && i < m->ncpus && i < m->reset_state->ncpus; i++)
		err = restore_vcpu(m, &m->cpus[i], &m->reset_state->cpu[i]);
	if (err)
		return err;
	memset(&m->exits, 0, sizeof(m->exits));

	devices_reset(&m->devices);
	return 0;
}
