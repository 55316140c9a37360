/* kvm/sysops.c — the optional target ops on the KVM machine, for the
 * monitor, PhyMemMode and restarts: the vCPU's whole system state,
 * guest-physical memory (breakpoint bytes shadowed), translation through
 * the guest's page tables, the in-kernel interrupt controllers, exit
 * counts and stop latencies, trace-io, and starting the guest again from
 * its image. */
#include "kvm/sysops.h"
#include "kvm/reverse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/machine.h"
#include "kvm/mmu.h"
#include "kvm/smp.h"
#include "kvm/vga.h"
#include "kvm/vcpu_internal.h"

static struct kvm_target *impl(void *t)
{
	return kvm_target_of(t);
}

static void segment_cache(struct target_segment_cache *out, const struct kvm_segment *s)
{
	out->selector = s->selector;
	out->base = s->base;
	out->limit = s->limit;
	out->type = s->type;
	out->s = s->s;
	out->dpl = s->dpl;
	out->present = s->present;
	out->avl = s->avl;
	out->l = s->l;
	out->db = s->db;
	out->g = s->g;
	out->unusable = s->unusable;
}

int sysops_system_state(void *t, struct target_system_state *st)
{
	struct kvm_target *kt = impl(t);
	struct machine *m = kt->m;
	struct target target = kvm_target_as_target(kt);

	memset(st, 0, sizeof(*st));
	int err = target.ops->get_regs(kt, &st->regs);
	if (err)
		return err;
	const struct kvm_sregs *s = machine_sregs(m);
	segment_cache(&st->cs, &s->cs);
	segment_cache(&st->ds, &s->ds);
	segment_cache(&st->es, &s->es);
	segment_cache(&st->fs, &s->fs);
	segment_cache(&st->gs, &s->gs);
	segment_cache(&st->ss, &s->ss);
	segment_cache(&st->tr, &s->tr);
	segment_cache(&st->ldt, &s->ldt);
	st->gdt.base = s->gdt.base;
	st->gdt.limit = s->gdt.limit;
	st->idt.base = s->idt.base;
	st->idt.limit = s->idt.limit;
	st->apic_base = s->apic_base;
	st->regs.cr8 = s->cr8;

	struct kvm_debugregs dbg;
	if (ioctl(m->cur->fd, KVM_GET_DEBUGREGS, &dbg) == 0) {
		for (int i = 0; i < 4; i++)
			st->dr[i] = dbg.db[i];
		st->dr[4] = st->dr[6] = dbg.dr6;
		st->dr[5] = st->dr[7] = dbg.dr7;
	}
	struct kvm_vcpu_events ev;
	if (ioctl(m->cur->fd, KVM_GET_VCPU_EVENTS, &ev) == 0) {
		st->has_events = true;
		st->exception.injected = ev.exception.injected;
		st->exception.pending = (ev.flags & KVM_VCPUEVENT_VALID_PAYLOAD) &&
					ev.exception.pending;
		st->exception.nr = ev.exception.nr;
		st->exception.has_error_code = ev.exception.has_error_code;
		st->exception.error_code = ev.exception.error_code;
		st->interrupt.injected = ev.interrupt.injected;
		st->interrupt.soft = ev.interrupt.soft;
		st->interrupt.nr = ev.interrupt.nr;
		st->interrupt.shadow = ev.interrupt.shadow;
		st->nmi.injected = ev.nmi.injected;
		st->nmi.pending = ev.nmi.pending;
		st->nmi.masked = ev.nmi.masked;
		st->smi_pending = (ev.flags & KVM_VCPUEVENT_VALID_SMM) && ev.smi.pending;
		st->in_smm = (ev.flags & KVM_VCPUEVENT_VALID_SMM) && ev.smi.smm;
	}
	return 0;
}

long sysops_read_phys(void *t, uint64_t addr, void *buf, size_t len)
{
	struct kvm_target *kt = impl(t);
	struct machine *m = kt->m;

	if (len == 0)
		return 0;
	if (addr >= m->ram_size)
		return -EFAULT;
	if (len > m->ram_size - addr)
		len = (size_t)(m->ram_size - addr);
	memcpy(buf, m->ram + addr, len);
	points_unshadow(kt, addr, buf, len); /* breakpoint bytes read as the guest's */
	return (long)len;
}

int sysops_write_phys(void *t, uint64_t addr, const void *buf, size_t len)
{
	struct kvm_target *kt = impl(t);
	struct machine *m = kt->m;

	if (len == 0)
		return 0;
	if (!machine_ram_contains(m, addr, len))
		return -EFAULT;
	points_write_around(kt, addr, buf, len); /* keeps breakpoints in place */
	return 0;
}

int sysops_translate(void *t, uint64_t linear, uint64_t *phys)
{
	struct machine *m = impl(t)->m;
	const struct kvm_sregs *s = machine_sregs(m);
	struct mmu_state state = { .cr0 = s->cr0, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer };
	struct mmu_mapping map;

	if (m->mode == MACHINE_MODE_REAL && !(s->cr0 & 1)) {
		*phys = linear; /* real mode: linear is physical (the A20 line is on) */
		return 0;
	}
	if (mmu_translate(&state, m->ram, m->ram_size, linear, &map) < 0)
		return -EFAULT;
	*phys = map.phys;
	return 0;
}

int sysops_lapic(void *t, struct target_lapic *lapic)
{
	struct machine *m = impl(t)->m;
	struct kvm_lapic_state state;

	if (!m->has_irqchip)
		return -ENODEV;
	if (ioctl(m->cur->fd, KVM_GET_LAPIC, &state) < 0)
		return -errno;
	memcpy(lapic->regs, state.regs, sizeof(lapic->regs));
	return 0;
}

static void pic_state(struct target_pic8259 *out, const struct kvm_pic_state *p)
{
	out->irr = p->irr;
	out->imr = p->imr;
	out->isr = p->isr;
	out->irq_base = p->irq_base;
	out->priority_add = p->priority_add;
	out->elcr = p->elcr;
	out->read_reg_select = p->read_reg_select;
	out->poll = p->poll;
	out->special_mask = p->special_mask;
	out->init_state = p->init_state;
	out->auto_eoi = p->auto_eoi;
	out->init4 = p->init4;
	out->special_fully_nested = p->special_fully_nested_mode;
	out->rotate_on_auto_eoi = p->rotate_on_auto_eoi;
}

int sysops_irqchip(void *t, struct target_irqchip *out)
{
	struct machine *m = impl(t)->m;
	struct kvm_irqchip chip;

	if (!m->has_irqchip)
		return -ENODEV;
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < 2; i++) {
		memset(&chip, 0, sizeof(chip));
		chip.chip_id = i;
		if (ioctl(m->vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
			return -errno;
		pic_state(&out->pic[i], &chip.chip.pic);
	}
	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	if (ioctl(m->vm_fd, KVM_GET_IRQCHIP, &chip) == 0) {
		out->has_ioapic = true;
		out->ioapic_base = chip.chip.ioapic.base_address;
		out->ioapic_id = chip.chip.ioapic.id;
		out->ioapic_irr = chip.chip.ioapic.irr;
		for (unsigned pin = 0; pin < TARGET_IOAPIC_PINS && pin < KVM_IOAPIC_NUM_PINS; pin++)
			out->redirection[pin] = chip.chip.ioapic.redirtbl[pin].bits;
	}
	return 0;
}

int sysops_exit_counts(void *t, struct target_exit_counts *counts)
{
	exit_stats_report(&impl(t)->m->exits, counts);
	return 0;
}

/* Timed: what the guest did (Ctrl-C and the guest's end are not events of
 * a vCPU; kept and replayed stops come with no event time). One clock read
 * per stop. */
void sysops_stop_reported(void *t, const struct target_stop *stop)
{
	switch (stop->reason) {
	case TARGET_STOP_STEP:
	case TARGET_STOP_SWBREAK:
	case TARGET_STOP_HWBREAK:
	case TARGET_STOP_WATCH:
	case TARGET_STOP_RWATCH:
	case TARGET_STOP_AWATCH:
	case TARGET_STOP_CRASH:
		break;
	default:
		return;
	}
	if (!stop->event_ns)
		return;
	uint64_t now = now_ns();
	if (now >= stop->event_ns)
		exit_stats_stop_latency(&impl(t)->m->exits, now - stop->event_ns);
}

/* Output ports are queued in KVM's coalesced ring without exits; tracing
 * needs every access to exit, so the zones go while it is on. COM1's data
 * port is the machine's to switch before each run (it looks at trace_io). */
static void set_port_coalescing(struct machine *m, bool on)
{
	uint16_t ports[1 + DEVICES_MAX_CONSOLE_PORTS];
	unsigned n = 0;

	ports[n++] = 0xe9;
	for (unsigned i = 0; i < m->devices.nconsole_ports && n < 1 + DEVICES_MAX_CONSOLE_PORTS; i++)
		if (m->devices.console_ports[i] != 0xf4)
			ports[n++] = m->devices.console_ports[i];
	for (unsigned i = 0; i < n; i++) {
		struct kvm_coalesced_mmio_zone zone = { .addr = ports[i], .size = 1, .pio = 1 };
		(void)ioctl(m->vm_fd, on ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
			    &zone);
	}
}

int sysops_set_trace_io(void *t, bool on)
{
	struct machine *m = impl(t)->m;

	if (m->devices.trace_io == on)
		return 0;
	if (m->ring) {
		int err = machine_drain_output(m);
		if (err)
			return err;
		set_port_coalescing(m, !on);
	}
	m->devices.trace_io = on;
	return 0;
}

int sysops_screen_text(void *t, char *out, size_t cap)
{
	struct machine *m = impl(t)->m;

	if (cap < VGA_TEXT_MAX)
		return -EINVAL;
	if (VGA_TEXT_BASE + VGA_TEXT_BYTES > m->ram_size)
		return -ENODEV;
	devices_screen_text(&m->devices, out, cap);
	return 0;
}

void kvm_target_set_boot(struct kvm_target *kt, kvm_target_boot_fn boot, void *ctx)
{
	kt->boot = boot;
	kt->boot_ctx = ctx;
}

int sysops_restart(void *t, const char *file, const char *cmdline)
{
	struct kvm_target *kt = impl(t);
	struct machine *m = kt->m;
	struct target target = kvm_target_as_target(kt);
	int err;

	if (!kt->boot)
		return -ENOSYS;
	/* Every vCPU is parked (the target is stopped): vCPU 0 boots, the
	 * others wait for INIT/SIPI again, as at power-on. The boot writes
	 * the registers of the current vCPU. */
	machine_select_cpu(m, 0);
	/* A new run is a new history: recording starts again with it. */
	bool recording = kt->rev && reverse_is_recording(kt->rev);
	if (recording) {
		err = reverse_command_off(kt->rev);
		if (err)
			return err;
	}
	/* Software breakpoints come out of RAM before it is cleared and go
	 * back into the new image: gdb still believes they are inserted. */
	size_t nsw = kt->nsw;
	uint64_t *addrs = NULL;
	if (nsw) {
		addrs = malloc(nsw * sizeof(*addrs));
		if (!addrs)
			return -ENOMEM;
		for (size_t i = 0; i < nsw; i++)
			addrs[i] = kt->sw[i].addr;
		for (size_t i = 0; i < nsw; i++)
			target.ops->remove_point(kt, TARGET_POINT_SW, addrs[i], 1);
	}
	err = machine_drain_output(m);
	if (!err)
		err = devices_flush(&m->devices);
	if (!err)
		err = machine_reset(m);
	if (!err)
		err = kt->boot(kt->boot_ctx, file ? file : "", cmdline);
	for (unsigned i = 0; i < m->ncpus; i++) {
		struct vcpu *c = &m->cpus[i];
		c->interrupted = false;
		c->watch_hit = false;
		c->tick_valid = false; /* a new run: no progress seen yet */
		c->lift_streak = 0;
	}
	if (kt->smp)
		smp_forget_stops(kt->smp); /* of the old run */
	for (size_t i = 0; !err && i < nsw; i++)
		(void)target.ops->insert_point(kt, TARGET_POINT_SW, addrs[i], 1);
	free(addrs);
	if (!err && recording)
		err = reverse_start(kt->rev);
	return err;
}
