/* kvm/machine.c — /dev/kvm, the VM, guest RAM and its memory slots, the
 * irqchip and the coalesced output ring; creates the vCPUs (kvm/cpu.c)
 * and forwards the one-vCPU calls to the current one. Returns errors,
 * never prints. */
#include "kvm/machine.h"

#include "kvm/fwtables.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int machine_fail(struct machine *m, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int machine_fail(struct machine *m, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->error, sizeof(m->error), fmt, ap);
	va_end(ap);
	return -err;
}

/* An ioctl failure named by its request, with errno. */
#define IOCTL_FAIL(m, name) \
	machine_fail((m), errno, "%s failed: %s", (name), strerror(errno))

static int open_kvm(struct machine *m)
{
	m->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (m->kvm_fd >= 0)
		return 0;
	if (errno == ENOENT)
		return machine_fail(m, ENOENT,
			"/dev/kvm does not exist: load the kvm module (kvm_intel or kvm_amd) or enable virtualization");
	if (errno == EACCES || errno == EPERM)
		return machine_fail(m, errno,
			"/dev/kvm is not accessible: add yourself to the 'kvm' group or run as root");
	return machine_fail(m, errno, "cannot open /dev/kvm: %s", strerror(errno));
}

static bool coalesce_port(struct machine *m, uint16_t port)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = port, .size = 1, .pio = 1 };
	return ioctl(m->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) == 0;
}

/* Where the coalesced ring sits in the kvm_run mapping (in pages), or 0
 * when the host cannot queue port output. */
static int coalesced_ring_offset(struct machine *m)
{
	long page = sysconf(_SC_PAGESIZE);
	int offset = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);

	if (offset <= 0 || ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) <= 0 ||
	    (size_t)(offset + 1) * (size_t)page > m->run_size)
		return 0;
	return offset;
}

bool machine_start_tick(timer_t *timer)
{
	struct sigevent ev;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = MACHINE_FLUSH_SIGNAL;
	ev._sigev_un._tid = gettid();
	if (timer_create(CLOCK_MONOTONIC, &ev, timer))
		return false;
	struct itimerspec every = {
		.it_interval = { 0, MACHINE_FLUSH_INTERVAL_NS },
		.it_value = { 0, MACHINE_FLUSH_INTERVAL_NS },
	};
	if (timer_settime(*timer, 0, &every, NULL)) {
		timer_delete(*timer);
		return false;
	}
	return true;
}

/* A periodic signal that ends KVM_RUN every 10 ms: queued output is
 * written, new input noticed (and its interrupt raised), a live screen
 * redrawn. */
static void setup_tick(struct machine *m)
{
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, MACHINE_FLUSH_SIGNAL);
	if (sigprocmask(SIG_BLOCK, &block, NULL))
		return;
	m->has_flush_timer = machine_start_tick(&m->flush_timer);
}

/* Output-only ports go through KVM's coalesced PIO ring where the host
 * has it (and the tick runs, so output is never held back); --trace-io
 * keeps every access an exit so it can be shown. The UART's data port is
 * safe to queue: a DLAB change is an LCR write, which exits, and the ring
 * is drained before any exit is handled. */
static void setup_coalesced_output(struct machine *m, const struct machine_config *config,
				   int offset)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!offset || !m->has_flush_timer)
		return;
	if (!coalesce_port(m, 0x3f8) || !coalesce_port(m, 0xe9))
		return;
	m->com1_coalesced = true;
	for (unsigned i = 0; i < config->nconsole_ports; i++)
		if (config->console_ports[i] != 0xf4 && !coalesce_port(m, config->console_ports[i]))
			return;
	/* The ring is VM-wide; any vCPU's mapping shows it. vCPU 0's lives
	 * as long as the machine. */
	m->ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)m->cpus[0].run + offset * page);
	m->ring_max = (unsigned)((page - sizeof(struct kvm_coalesced_mmio_ring)) /
				 sizeof(struct kvm_coalesced_mmio));
}

/* A guest driving COM1 with THR-empty interrupts waits for one after each
 * byte: its writes must exit, not wait in the ring for the next exit.
 * Called before each run, when the ring is empty. */
void machine_sync_com1_coalescing(struct machine *m)
{
	struct kvm_coalesced_mmio_zone zone = { .addr = 0x3f8, .size = 1, .pio = 1 };
	/* `monitor trace-io on` needs every access to exit, too. */
	bool want = !m->devices.trace_io && !devices_uart_tx_interrupts(&m->devices);

	if (!m->ring || want == m->com1_coalesced)
		return;
	if (ioctl(m->vm_fd, want ? KVM_REGISTER_COALESCED_MMIO : KVM_UNREGISTER_COALESCED_MMIO,
		  &zone) == 0)
		m->com1_coalesced = want;
}

/* The routing of a PC, as QEMU sets it up: ISA IRQ n reaches 8259 input
 * n (master 0-7, slave 8-15) and IOAPIC pin n, except that the PIT's IRQ0
 * is wired to IOAPIC pin 2 (the MADT says so with an interrupt source
 * override) and IRQ2, the cascade, has no route of its own. GSIs 16-23 are
 * IOAPIC pins only. */
static int set_pc_routing(struct machine *m)
{
	enum { MAX_ROUTES = 40 };
	/* struct kvm_irq_routing with room for its entries (the kernel's
	 * ends in a flexible array, which may not sit inside a struct). */
	struct {
		uint32_t nr, flags;
		struct kvm_irq_routing_entry e[MAX_ROUTES];
	} table;
	_Static_assert(offsetof(__typeof__(table), e) == sizeof(struct kvm_irq_routing),
		       "the table must lay out as struct kvm_irq_routing");
	unsigned n = 0;

	memset(&table, 0, sizeof(table));
	for (unsigned gsi = 0; gsi < 24; gsi++) {
		if (gsi == 2)
			continue;
		if (gsi < 16) {
			struct kvm_irq_routing_entry *e = &table.e[n++];
			e->gsi = gsi;
			e->type = KVM_IRQ_ROUTING_IRQCHIP;
			e->u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
			e->u.irqchip.pin = gsi % 8;
		}
		struct kvm_irq_routing_entry *e = &table.e[n++];
		e->gsi = gsi;
		e->type = KVM_IRQ_ROUTING_IRQCHIP;
		e->u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		e->u.irqchip.pin = gsi == 0 ? 2 : gsi;
	}
	table.nr = n;
	if (ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, &table) < 0)
		return IOCTL_FAIL(m, "KVM_SET_GSI_ROUTING");
	return 0;
}

/* The devices' interrupt lines (COM1's IRQ4, the keyboard's IRQ1). */
static void devices_irq_set(void *ctx, unsigned irq, bool level)
{
	(void)machine_irq_line(ctx, irq, level);
}

/* KVM's in-kernel PICs, IOAPIC and LAPIC, and its PIT, created before the
 * vCPU as KVM requires. Port 0x61 stays with the devices (kvm/pc_control.c,
 * as QEMU keeps it in userspace): KVM's own speaker port
 * (KVM_PIT_SPEAKER_DUMMY) toggles its refresh bit every 16 us of host
 * time, too slowly for a guest emulated at ~1M instructions/s to see. */
static int create_pc(struct machine *m)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(m->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return IOCTL_FAIL(m, "KVM_CREATE_IRQCHIP");
	if (ioctl(m->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return IOCTL_FAIL(m, "KVM_CREATE_PIT2");
	m->has_irqchip = true;
	devices_set_irq_line(&m->devices, (struct irq_line){ devices_irq_set, m });
	return set_pc_routing(m);
}

int machine_irq_line(struct machine *m, unsigned irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level ? 1 : 0 };

	if (!m->has_irqchip)
		return -ENODEV;
	if (irq >= 24)
		return -EINVAL;
	if (ioctl(m->vm_fd, KVM_IRQ_LINE, &line) < 0)
		return IOCTL_FAIL(m, "KVM_IRQ_LINE");
	return 0;
}

int machine_drain_output(struct machine *m)
{
	struct kvm_coalesced_mmio_ring *ring = m->ring;

	if (!ring)
		return 0;
	while (ring->first != ring->last) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first % m->ring_max];
		uint8_t data[8];
		uint32_t len = e->len > 4 ? 4 : e->len;
		memcpy(data, e->data, sizeof(data));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		ring->first = (ring->first + 1) % m->ring_max;
		if (m->discard_output)
			continue; /* replay: the output went out when it was recorded */
		int err = devices_port_io(&m->devices, (uint16_t)e->phys_addr, true,
					  len ? len : 1, 1, data);
		if (err)
			return err;
	}
	return 0;
}

/* vCPU 0 is the BSP; with the in-kernel LAPIC the others start waiting
 * for INIT/SIPI, as on a PC. */
static int create_cpus(struct machine *m, unsigned ncpus)
{
	int max = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
	if (max <= 0)
		max = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
	if (max <= 0)
		max = 1;
	if (max > MACHINE_MAX_CPUS)
		max = MACHINE_MAX_CPUS;
	if (ncpus > (unsigned)max)
		return machine_fail(m, EINVAL, "--smp %u: this host's KVM allows at most %d vCPUs",
				    ncpus, max);
	if (ncpus > 1 && !m->has_irqchip)
		return machine_fail(m, EINVAL,
			"--smp %u needs the pc machine: application processors start through the local APIC",
			ncpus);
	m->cpus = calloc(ncpus, sizeof(*m->cpus));
	if (!m->cpus)
		return machine_fail(m, ENOMEM, "out of memory for %u vCPUs", ncpus);
	for (unsigned i = 0; i < ncpus; i++)
		m->cpus[i].fd = -1;
	m->ncpus = ncpus;
	for (unsigned i = 0; i < ncpus; i++) {
		int err = cpu_create(&m->cpus[i], m, i);
		if (err)
			return err;
	}
	if (ncpus > 1) {
		int err = pthread_mutex_init(&m->lock, NULL);
		if (err)
			return machine_fail(m, err, "cannot create the VM lock");
		m->smp = true;
	}
	machine_select_cpu(m, 0);
	return 0;
}

void machine_select_cpu(struct machine *m, unsigned index)
{
	if (index >= m->ncpus)
		return;
	m->cur = &m->cpus[index];
}

struct kvm_regs *machine_regs(struct machine *m)
{
	return cpu_regs(m->cur);
}

struct kvm_sregs *machine_sregs(struct machine *m)
{
	return cpu_sregs(m->cur);
}

void machine_regs_changed(struct machine *m)
{
	cpu_regs_changed(m->cur);
}

void machine_sregs_changed(struct machine *m)
{
	cpu_sregs_changed(m->cur);
}

int machine_set_run_sigmask(struct machine *m, const sigset_t *mask)
{
	sigset_t during_run = *mask;

	if (m->has_flush_timer)
		sigdelset(&during_run, MACHINE_FLUSH_SIGNAL);
	sigdelset(&during_run, MACHINE_KICK_SIGNAL);
	m->run_sigmask = during_run;
	return cpu_set_run_sigmask(&m->cpus[0], &during_run);
}

int machine_enter(struct machine *m, bool immediate)
{
	return cpu_enter(m->cur, immediate);
}

int machine_create(struct machine *m, const struct machine_config *config)
{
	int version;

	memset(m, 0, sizeof(*m));
	m->kvm_fd = m->vm_fd = -1;
	sigemptyset(&m->run_sigmask);
	struct devices_config devices = {
		.out_fd = config->out_fd,
		.in_fd = config->in_fd,
		.trace_io = config->trace_io,
		.console_ports = config->console_ports,
		.nconsole_ports = config->nconsole_ports,
		.pc = config->pc_devices,
		.keyboard = config->keyboard,
		.vga = config->vga,
		.no_reboot = config->no_reboot,
		.ram_size = config->ram_size,
		.ncpus = config->ncpus,
	};
	devices_init(&m->devices, &devices);

	if (config->ram_size == 0 || config->ram_size % MACHINE_PAGE_SIZE)
		return machine_fail(m, EINVAL, "guest RAM must be a non-zero multiple of 4 KiB");
	if (config->ram_size > MACHINE_MAX_RAM)
		return machine_fail(m, EINVAL, "guest RAM is limited to 3 GiB");

	int err = open_kvm(m);
	if (err)
		return err;
	version = ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0);
	if (version < 0)
		return machine_fail(m, ENOTTY, "/dev/kvm does not answer as KVM (KVM_GET_API_VERSION: %s)",
				    strerror(errno));
	if (version != KVM_API_VERSION)
		return machine_fail(m, ENOTSUP, "/dev/kvm speaks KVM API version %d, kvmstub needs %d",
				    version, KVM_API_VERSION);

	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0)
		return IOCTL_FAIL(m, "KVM_CREATE_VM");
	if (config->pc_devices) {
		err = create_pc(m);
		if (err)
			return err;
	}

	m->has_sync_regs = (ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) &
			    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) ==
			   (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
	m->has_readonly_mem = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
	int debug_flags = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	m->has_blockirq = debug_flags > 0 && (debug_flags & KVM_GUESTDBG_BLOCKIRQ);
	int slots = ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	m->max_slots = slots > 0 ? (unsigned)slots : 32;
	if (m->max_slots > MACHINE_MAX_SLOTS)
		m->max_slots = MACHINE_MAX_SLOTS;

	/* VMX without unrestricted guest runs real mode through a TSS that
	 * KVM keeps in guest-physical space: put it above RAM. Other hosts
	 * refuse or ignore it, which is fine. */
	(void)ioctl(m->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);

	m->ram_size = config->ram_size;
	m->npages = m->ram_size / MACHINE_PAGE_SIZE;
	m->ram = mmap(NULL, m->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->ram == MAP_FAILED) {
		m->ram = NULL;
		return machine_fail(m, errno, "cannot map %llu bytes of guest RAM: %s",
				    (unsigned long long)m->ram_size, strerror(errno));
	}
	devices_set_ram(&m->devices, m->ram, m->ram_size);
	if (config->pc_devices && m->ram_size >= FWTABLES_BIOS_END) {
		/* The MP and ACPI tables in the BIOS area, where kernels scan
		 * for them; an image loaded over them later wins. */
		struct fwtables tables;
		err = fwtables_build(m->ram + MACHINE_FWTABLES_ADDR, FWTABLES_MAX_SIZE,
				     MACHINE_FWTABLES_ADDR, config->ncpus ? config->ncpus : 1, &tables);
		if (err)
			return machine_fail(m, -err, "cannot build the MP and ACPI tables for %u CPUs",
					    config->ncpus);
		m->rsdp_addr = tables.rsdp;
	}
	m->page_want = calloc(m->npages, 3);
	if (!m->page_want)
		return machine_fail(m, ENOMEM, "out of memory for the page map");
	m->touched = calloc(2 * ((m->npages + 63) / 64), sizeof(uint64_t));
	if (m->touched)
		m->dirty_scratch = m->touched + (m->npages + 63) / 64;
	if (!m->touched)
		return machine_fail(m, ENOMEM, "out of memory for the page map");
	m->dirty_logging = true;
	m->page_now = m->page_want + m->npages;
	m->page_release = m->page_now + m->npages;
	m->layout_dirty = true;
	err = machine_apply_layout(m);
	if (err)
		return err;

	int run_size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < (int)sizeof(struct kvm_run))
		return IOCTL_FAIL(m, "KVM_GET_VCPU_MMAP_SIZE");
	m->run_size = (size_t)run_size;
	err = create_cpus(m, config->ncpus ? config->ncpus : 1);
	if (err)
		return err;
	int ring_offset = config->trace_io ? 0 : coalesced_ring_offset(m);
	/* The PC devices and --vga need the tick even without the ring. */
	if (ring_offset || config->pc_devices || config->vga || m->has_irqchip)
		setup_tick(m);
	setup_coalesced_output(m, config, ring_offset);
	return machine_save_reset_state(m);
}

void machine_destroy(struct machine *m)
{
	if (m->has_flush_timer)
		timer_delete(m->flush_timer);
	m->has_flush_timer = false;
	m->ring = NULL;
	for (unsigned i = 0; m->cpus && i < m->ncpus; i++)
		cpu_destroy(&m->cpus[i]);
	free(m->cpus);
	m->cpus = m->cur = NULL;
	if (m->smp)
		pthread_mutex_destroy(&m->lock);
	m->smp = false;
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	if (m->ram)
		munmap(m->ram, m->ram_size);
	free(m->page_want);
	free(m->logged_pages);
	m->logged_pages = NULL;
	free(m->touched);
	free(m->reset_state);
	m->touched = m->dirty_scratch = NULL;
	m->reset_state = NULL;
	m->ncpus = 0;
	m->ram = NULL;
	m->page_want = NULL;
	m->vm_fd = m->kvm_fd = -1;
}

/* A page whose want or release changed since the layout was applied. */
static void note_changed_page(struct machine *m, uint64_t page)
{
	if (m->nchanged < MACHINE_MAX_CHANGED_PAGES)
		m->changed_pages[m->nchanged++] = page;
	else
		m->changes_overflowed = true;
	m->layout_dirty = true;
}

void machine_set_page_want(struct machine *m, uint64_t page, enum page_access access)
{
	if (page >= m->npages || m->page_want[page] == access)
		return;
	m->page_want[page] = (uint8_t)access;
	note_changed_page(m, page);
}

void machine_release_page(struct machine *m, uint64_t page)
{
	if (page >= m->npages || m->page_release[page])
		return;
	m->page_release[page] = 1;
	note_changed_page(m, page);
}

/* What a page will be: what is wanted, except that a write trap nobody
 * needs any more stays until the guest writes through it. Removing a
 * breakpoint and putting it back (gdb does this at every stop) then costs
 * no slot changes. */
static uint8_t effective_access(const struct machine *m, uint64_t page)
{
	uint8_t want = m->page_want[page];
	if (want == PAGE_RW && m->page_now[page] == PAGE_WRITE_TRAP &&
	    !m->page_release[page])
		return PAGE_WRITE_TRAP;
	return want;
}

static int set_slot(struct machine *m, const struct machine_slot *s)
{
	struct kvm_userspace_memory_region region = {
		.slot = s->id,
		.flags = s->flags,
		.guest_phys_addr = s->start,
		.memory_size = s->size,
		.userspace_addr = s->size ? (uint64_t)(uintptr_t)(m->ram + s->start) : 0,
	};
	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return IOCTL_FAIL(m, "KVM_SET_USER_MEMORY_REGION");
	return 0;
}

int machine_collect_dirty_pages(struct machine *m)
{
	for (unsigned i = 0; i < m->nslots; i++) {
		int err = machine_collect_dirty(m, &m->slots[i]);
		if (err)
			return err;
	}
	return 0;
}

void machine_note_written(struct machine *m, uint64_t phys, uint64_t len)
{
	machine_note_host_write(m, phys, len);
}

int machine_set_dirty_logging(struct machine *m, bool on)
{
	/* KVM logs the RAM slots' writes all along (kvm/reset.c); recording
	 * keeps its own copy of them. */
	if (!on) {
		free(m->logged_pages);
		m->logged_pages = NULL;
		return 0;
	}
	if (!m->logged_pages) {
		m->logged_pages = calloc((m->npages + 63) / 64, sizeof(uint64_t));
		if (!m->logged_pages)
			return machine_fail(m, ENOMEM, "out of memory for the dirty log");
	}
	return 0;
}

int machine_set_tick_interval(struct machine *m, long ns)
{
	if (!m->has_flush_timer)
		return -ENOTSUP;
	struct itimerspec every = { .it_interval = { 0, ns }, .it_value = { 0, ns } };
	if (timer_settime(m->flush_timer, 0, &every, NULL))
		return machine_fail(m, errno, "timer_settime failed: %s", strerror(errno));
	return 0;
}

static bool slot_in(const struct machine_slot *s, const struct machine_slot *list,
		    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (list[i].start == s->start && list[i].size == s->size &&
		    list[i].flags == s->flags)
			return true;
	return false;
}

/* Whether the pages that changed still look to the guest as they do now
 * (a breakpoint removed and put back: gdb's every stop): then the slots
 * stay as they are, without a walk over every page. */
static bool layout_unchanged(struct machine *m)
{
	if (m->changes_overflowed)
		return false;
	for (unsigned i = 0; i < m->nchanged; i++) {
		uint64_t page = m->changed_pages[i];
		if (effective_access(m, page) != m->page_now[page])
			return false;
	}
	return true;
}

int machine_apply_layout(struct machine *m)
{
	if (m->nslots && layout_unchanged(m)) {
		m->nchanged = 0;
		m->layout_dirty = false;
		return 0;
	}
	m->nchanged = 0;
	m->changes_overflowed = false;

	/* RAM slots log the guest's writes for restarts (read-only ones
	 * cannot be written by the guest). */
	const uint32_t flags_of[] = { m->dirty_logging ? KVM_MEM_LOG_DIRTY_PAGES : 0,
				      KVM_MEM_READONLY };
	struct machine_slot want[MACHINE_MAX_SLOTS];
	unsigned nwant = 0;
	uint64_t page = 0;

	while (page < m->npages) {
		uint8_t access = effective_access(m, page);
		uint64_t end = page + 1;
		while (end < m->npages && effective_access(m, end) == access)
			end++;
		if (access == PAGE_WRITE_TRAP && !m->has_readonly_mem)
			access = PAGE_ACCESS_TRAP; /* trap reads too rather than miss writes */
		/* Lifted traps keep their own slots, plain RAM now, so their
		 * neighbours' slots (and what KVM has mapped in them) stay. */
		if (m->traps_lifted)
			access = PAGE_RW;
		if (access != PAGE_ACCESS_TRAP) {
			if (nwant == m->max_slots)
				return machine_fail(m, ENOSPC,
					"too many trapped pages for KVM's %u memory slots", m->max_slots);
			want[nwant++] = (struct machine_slot){
				.start = page * MACHINE_PAGE_SIZE,
				.size = (end - page) * MACHINE_PAGE_SIZE,
				.flags = flags_of[access],
			};
		}
		page = end;
	}

	/* Delete what goes away before creating what overlaps it. */
	unsigned kept = 0;
	uint8_t used[MACHINE_MAX_SLOTS] = { 0 };
	for (unsigned i = 0; i < m->nslots; i++) {
		if (slot_in(&m->slots[i], want, nwant)) {
			m->slots[kept++] = m->slots[i];
			continue;
		}
		struct machine_slot gone = m->slots[i];
		int err = machine_collect_dirty(m, &gone);
		if (err)
			return err;
		gone.size = 0;
		gone.flags = 0;
		err = set_slot(m, &gone);
		if (err)
			return err;
	}
	m->nslots = kept;
	for (unsigned i = 0; i < m->nslots; i++)
		used[m->slots[i].id] = 1;
	for (unsigned i = 0; i < nwant; i++) {
		if (slot_in(&want[i], m->slots, m->nslots))
			continue;
		uint32_t id = 0;
		while (used[id])
			id++;
		used[id] = 1;
		want[i].id = id;
		int err = set_slot(m, &want[i]);
		if (err)
			return err;
		m->slots[m->nslots++] = want[i];
	}
	m->ntrapped = 0;
	for (page = 0; page < m->npages; page++) {
		m->page_now[page] = m->traps_lifted ? PAGE_RW : effective_access(m, page);
		m->page_release[page] = 0;
		m->ntrapped += m->page_now[page] != PAGE_RW;
	}
	m->layout_dirty = false;
	return 0;
}

int machine_lift_traps(struct machine *m, bool lifted)
{
	if (m->traps_lifted == lifted)
		return 0;
	m->traps_lifted = lifted;
	m->changes_overflowed = true; /* every trapped page changes */
	m->layout_dirty = true;
	return machine_apply_layout(m);
}
