/* fuzz/fuzz_sysfmt.c — libFuzzer harness for the monitor's decoders and
 * formatters (stub/sysfmt.c) and its dispatcher (stub/monitor.c) on
 * hostile guest data: page tables that loop, point outside RAM or map
 * everything; descriptor tables of any bytes; any command line. It may not
 * touch KVM; every broken promise aborts, and guest RAM is allocated at
 * its exact size so AddressSanitizer catches a read outside it.
 *
 * Input (little-endian):
 *   byte 0      mode: bit 0 CR0.PG, 1 CR4.PAE, 2 CR4.PSE, 3 EFER.LMA,
 *               4 CR4.LA57, 5 CS.L, 6 real mode (CR0.PE off)
 *   byte 1      RAM pages, (value % 16) + 1
 *   bytes 2-3   CR3 (page-aligned within 64 KiB, low bits as given)
 *   bytes 4-5   GDT/IDT limit
 *   bytes 6..   guest RAM (the rest of it is zero); also the descriptor
 *               tables, and, up to the first NUL, a monitor command line
 *               run against the fake target of the unit tests
 * Checks: the output stays under its cap (plus the closing note), is one
 * C string, and no walk reads more tables than its budget.
 */
#include "stub/monitor.h"
#include "stub/sysfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/fake_target.h"

#define HEADER_SIZE 6
#define OUTPUT_CAP 16384
#define MAX_TABLES 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int promise)
{
	if (!promise)
		abort();
}

struct guest_ram {
	const uint8_t *bytes;
	size_t size;
	unsigned reads;
};

static int read_ram(void *ctx, uint64_t phys, void *buf, size_t len)
{
	struct guest_ram *r = ctx;
	r->reads++;
	if (phys > r->size || len > r->size - phys)
		return -EFAULT;
	memcpy(buf, r->bytes + phys, len);
	return 0;
}

static void check_output(const struct textbuf *out)
{
	require(!out->failed);
	require(out->len <= OUTPUT_CAP + 256);
	require(!out->data || strlen(out->data) == out->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HEADER_SIZE)
		return 0;
	uint8_t mode = data[0];
	size_t ram_size = ((size_t)(data[1] % 16) + 1) * 4096;
	uint16_t cr3 = (uint16_t)(data[2] | data[3] << 8);
	uint16_t limit = (uint16_t)(data[4] | data[5] << 8);
	const uint8_t *body = data + HEADER_SIZE;
	size_t body_size = size - HEADER_SIZE;

	uint8_t *ram = calloc(1, ram_size);
	if (!ram)
		return 0;
	memcpy(ram, body, body_size < ram_size ? body_size : ram_size);
	struct guest_ram r = { ram, ram_size, 0 };

	struct sysfmt_paging p = {
		.cr0 = ((mode & 64) ? 0 : 1) | ((mode & 1) ? 0x80000000ULL : 0),
		.cr3 = cr3,
		.cr4 = ((mode & 2) ? 0x20 : 0) | ((mode & 4) ? 0x10 : 0) | ((mode & 16) ? 0x1000 : 0),
		.efer = (mode & 8) ? 0x500 : 0,
	};
	for (int view = 0; view < 2; view++) {
		struct textbuf out;
		textbuf_init(&out, OUTPUT_CAP);
		r.reads = 0;
		sysfmt_page_tables(&out, &p, view ? SYSFMT_MEM : SYSFMT_TLB, read_ram, &r, MAX_TABLES);
		require(r.reads <= MAX_TABLES);
		check_output(&out);
		textbuf_free(&out);
	}

	/* The same bytes as a GDT and an IDT, cut short where the input ends. */
	struct textbuf out;
	textbuf_init(&out, OUTPUT_CAP);
	sysfmt_gdt(&out, body, body_size, 0x1000, limit, mode & 8);
	sysfmt_idt(&out, body, body_size, 0x2000, limit, mode & 8, mode & 64);
	check_output(&out);
	textbuf_clear(&out);
	if (body_size >= sizeof(struct target_lapic)) {
		struct target_lapic l;
		memcpy(&l, body, sizeof(l));
		sysfmt_lapic(&out, &l);
	}
	if (body_size >= sizeof(struct target_irqchip)) {
		struct target_irqchip c;
		uint8_t flag;
		memcpy(&c, body, sizeof(c));
		memcpy(&flag, &c.has_ioapic, 1); /* any byte: not a valid bool */
		c.has_ioapic = flag & 1;
		sysfmt_irqchip(&out, &c);
	}
	check_output(&out);
	textbuf_free(&out);

	/* The body up to its first NUL as a monitor command, against a fake
	 * machine whose memory is the input. */
	char line[256];
	size_t n = strnlen((const char *)body, body_size);
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, body, n);
	line[n] = 0;
	/* Page-table walks were fuzzed above with a small budget; through the
	 * monitor they get its full one, which is seconds per input here. */
	bool walks = strncmp(line, "info tlb", 8) == 0 || strncmp(line, "info mem", 8) == 0;
	struct fake_target *t = walks ? NULL : calloc(1, sizeof(*t));
	if (t) {
		bool restarted;
		fake_target_init(t, (mode & 64) ? TARGET_ARCH_I8086 : TARGET_ARCH_X86_64);
		memcpy(t->mem, body, body_size < FAKE_MEMORY_MAX ? body_size : FAKE_MEMORY_MAX);
		t->mem_size = FAKE_MEMORY_MAX;
		t->regs.cr0 = p.cr0;
		t->regs.cr3 = FAKE_PHYS_BASE + (cr3 & 0xfff0);
		t->regs.cr4 = p.cr4;
		t->regs.efer = p.efer;
		t->system.gdt.base = FAKE_MEMORY_BASE;
		t->system.gdt.limit = limit;
		t->system.idt.base = FAKE_MEMORY_BASE + (limit & 0xff);
		t->system.idt.limit = limit;
		textbuf_init(&out, OUTPUT_CAP);
		monitor_run(fake_target_as_target(t), line, &out, &restarted);
		check_output(&out);
		textbuf_free(&out);
		free(t);
	}
	free(ram);
	return 0;
}
