/* tests/unit/test_sysfmt.c — the monitor's decoders and formatters
 * (stub/sysfmt.c) on synthetic state: descriptors, GDT and IDT dumps,
 * page-table walks of every paging mode (and hostile tables that loop or
 * point outside RAM), gdb x formats, the local APIC, the 8259s and
 * IOAPIC, exit counts and the register dump. */
#include "stub/sysfmt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"

#define RAM_SIZE 0x40000u

struct ram {
	uint8_t bytes[RAM_SIZE];
	unsigned reads;
};

static int ram_read(void *ctx, uint64_t phys, void *buf, size_t len)
{
	struct ram *r = ctx;
	r->reads++;
	if (phys > RAM_SIZE || len > RAM_SIZE - phys)
		return -EFAULT;
	memcpy(buf, r->bytes + phys, len);
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static bool has(const struct textbuf *t, const char *text)
{
	bool found = t->data && strstr(t->data, text);
	if (!found)
		printf("  output lacks \"%s\":\n%s\n", text, t->data ? t->data : "(none)");
	return found;
}

static unsigned count_lines(const struct textbuf *t)
{
	unsigned n = 0;
	for (size_t i = 0; i < t->len; i++)
		n += t->data[i] == '\n';
	return n;
}

/* ---- descriptors ---- */

static void test_flat_code64_descriptor_decodes_base_limit_and_flags(void)
{
	struct sysfmt_descriptor d;
	sysfmt_decode_descriptor(0x00af9b000000ffffULL, 0, true, &d);
	CHECK_EQ(d.base, 0);
	CHECK_EQ(d.limit, 0xffffffff);
	CHECK_EQ(d.type, 0xb);
	CHECK_EQ(d.s, 1);
	CHECK_EQ(d.dpl, 0);
	CHECK_EQ(d.present, 1);
	CHECK_EQ(d.l, 1);
	CHECK_EQ(d.db, 0);
	CHECK_EQ(d.g, 1);
	CHECK(!d.wide);
}

static void test_long_mode_tss_descriptor_takes_base_63_32_from_the_next_eight_bytes(void)
{
	struct sysfmt_descriptor d;
	/* base 0xffff8000_12345678, limit 0x67, type 9, DPL 3 */
	uint64_t lo = 0x67 | (0x5678ULL << 16) | (0x34ULL << 32) | (0xe9ULL << 40) | (0x12ULL << 56);
	sysfmt_decode_descriptor(lo, 0xffff8000ULL, true, &d);
	CHECK(d.wide);
	CHECK_EQ(d.base, 0xffff800012345678ULL);
	CHECK_EQ(d.limit, 0x67);
	CHECK_EQ(d.dpl, 3);
	CHECK_EQ(d.type, 9);
	/* The same bytes outside long mode: a 32-bit TSS, 8 bytes. */
	sysfmt_decode_descriptor(lo, 0xffff8000ULL, false, &d);
	CHECK(!d.wide);
	CHECK_EQ(d.base, 0x12345678);
}

static void test_gdt_dump_names_each_selector_and_skips_the_tss_upper_half(void)
{
	uint8_t gdt[48] = { 0 };
	struct textbuf out;
	textbuf_init(&out, 0);
	put64(gdt + 8, 0x00cf9b000000ffffULL);
	put64(gdt + 16, 0x00cf93000000ffffULL);
	put64(gdt + 24, 0x00af9b000000ffffULL);
	put64(gdt + 32, 0x00008b0088000067ULL);
	put64(gdt + 40, 0);
	sysfmt_gdt(&out, gdt, sizeof(gdt), 0x8000, 0x2f, true);
	CHECK(has(&out, "GDT at 0x8000, limit 0x2f"));
	CHECK(has(&out, "0008  00cf9b000000ffff  base=0x0 limit=0xffffffff code32 r-x accessed"));
	CHECK(has(&out, "0010  00cf93000000ffff  base=0x0 limit=0xffffffff data rw- accessed"));
	CHECK(has(&out, "0018  00af9b000000ffff  base=0x0 limit=0xffffffff code64 r-x accessed type=b DPL=0 P=1 DB=0 L=1 G=1"));
	CHECK(has(&out, "0020  00008b0088000067  base=0x8800 limit=0x67 tss64-busy"));
	CHECK(out.data && !strstr(out.data, "0028"));
	CHECK_EQ(count_lines(&out), 6);
	textbuf_free(&out);
}

static void test_gdt_dump_says_where_guest_memory_ends(void)
{
	uint8_t gdt[16] = { 0 };
	struct textbuf out;
	textbuf_init(&out, 0);
	put64(gdt + 8, 0x00cf9b000000ffffULL);
	sysfmt_gdt(&out, gdt, sizeof(gdt), 0x1000, 0xffff, false);
	CHECK(has(&out, "0010  cannot read guest memory at 0x1010"));
	textbuf_free(&out);
}

static void test_long_mode_idt_shows_present_gates_with_64_bit_offsets_and_ist(void)
{
	uint8_t idt[16 * 16] = { 0 };
	struct textbuf out;
	textbuf_init(&out, 0);
	/* vector 14: interrupt gate, selector 0x18, offset 0xffffffff80001234, IST 2 */
	uint64_t lo = 0x1234 | (0x18ULL << 16) | (2ULL << 32) | (0x8eULL << 40) | (0x8000ULL << 48);
	put64(idt + 14 * 16, lo);
	put64(idt + 14 * 16 + 8, 0xffffffffULL);
	sysfmt_idt(&out, idt, sizeof(idt), 0x5000, sizeof(idt) - 1, true, false);
	CHECK(has(&out, "vector 0x0e: int-gate64 sel=0x0018 offset=0xffffffff80001234 DPL=0 IST=2"));
	CHECK(has(&out, "1 of 16 vectors present"));
	textbuf_free(&out);
}

static void test_protected_mode_idt_uses_eight_byte_gates(void)
{
	uint8_t idt[8 * 4] = { 0 };
	struct textbuf out;
	textbuf_init(&out, 0);
	put64(idt + 3 * 8, 0x5678 | (0x08ULL << 16) | (0xefULL << 40) | (0x1234ULL << 48));
	sysfmt_idt(&out, idt, sizeof(idt), 0, sizeof(idt) - 1, false, false);
	CHECK(has(&out, "vector 0x03: trap-gate32 sel=0x0008 offset=0x12345678 DPL=3"));
	CHECK(has(&out, "1 of 4 vectors present"));
	textbuf_free(&out);
}

static void test_real_mode_ivt_prints_segment_and_offset(void)
{
	uint8_t ivt[8] = { 0x53, 0xff, 0x00, 0xf0, 0x34, 0x12, 0x00, 0x10 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_idt(&out, ivt, sizeof(ivt), 0, 7, false, true);
	CHECK(has(&out, "IVT at 0x0"));
	CHECK(has(&out, "vector 0x00: f000:ff53"));
	CHECK(has(&out, "vector 0x01: 1000:1234"));
	textbuf_free(&out);
}

/* ---- page tables ---- */

#define PML4 0x1000
#define PDPT 0x2000
#define PD 0x3000
#define PT 0x4000

static struct ram *four_level_ram(void)
{
	struct ram *r = calloc(1, sizeof(*r));
	if (!r)
		abort();
	put64(r->bytes + PML4, PDPT | 0x7);                  /* 0 .. 512 GiB, user */
	put64(r->bytes + PML4 + 511 * 8, PDPT | 0x3);        /* the top 512 GiB, supervisor */
	put64(r->bytes + PDPT + 0 * 8, PD | 0x7);            /* 0 .. 1 GiB, user */
	put64(r->bytes + PDPT + 1 * 8, 0x40000000ULL | 0x83 | (1ULL << 63)); /* 1 GiB page, NX */
	put64(r->bytes + PD + 0 * 8, PT | 0x7);              /* 0 .. 2 MiB through a PT */
	put64(r->bytes + PD + 1 * 8, 0x200000 | 0xe3 | 0x100); /* 2 MiB page, D A, global */
	put64(r->bytes + PT + 1 * 8, 0x1000 | 0x27);         /* 0x1000, user rw, accessed */
	put64(r->bytes + PT + 2 * 8, 0x5000 | 0x25);         /* 0x2000, user read-only */
	return r;
}

static void test_info_tlb_lists_4k_2m_and_1g_pages_with_qemu_flags(void)
{
	struct ram *r = four_level_ram();
	struct sysfmt_paging p = { .cr0 = 0x80000011, .cr3 = PML4, .cr4 = 0x20, .efer = 0x500 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_page_tables(&out, &p, SYSFMT_TLB, ram_read, r, 100);
	CHECK(has(&out, "0000000000001000: 0000000000001000 ----A--UW\n"));
	CHECK(has(&out, "0000000000002000: 0000000000005000 ----A--U-\n"));
	CHECK(has(&out, "0000000000200000: 0000000000200000 -GPDA---W\n"));
	CHECK(has(&out, "0000000040000000: 0000000040000000 X-P-----W\n"));
	/* The top PML4 entry maps the same PDPT at the canonical top half. */
	CHECK(has(&out, "ffffff8000001000: 0000000000001000"));
	CHECK(has(&out, "ffffff8040000000: 0000000040000000"));
	CHECK_EQ(count_lines(&out), 8);
	textbuf_free(&out);
	free(r);
}

static void test_info_mem_merges_ranges_and_ands_permissions_over_levels(void)
{
	struct ram *r = four_level_ram();
	struct sysfmt_paging p = { .cr0 = 0x80000011, .cr3 = PML4, .cr4 = 0x20, .efer = 0x500 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_page_tables(&out, &p, SYSFMT_MEM, ram_read, r, 100);
	/* 0x1000 user rw; 0x2000 user ro; then the 2 MiB page is supervisor
	 * (its PD entry lacks U/S) and runs on into the 1 GiB page. */
	CHECK(has(&out, "0000000000001000-0000000000002000 0000000000001000 urw\n"));
	CHECK(has(&out, "0000000000002000-0000000000003000 0000000000001000 ur-\n"));
	CHECK(has(&out, "0000000000200000-0000000000400000 0000000000200000 -rw\n"));
	CHECK(has(&out, "0000000040000000-0000000080000000 0000000040000000 -rw\n"));
	textbuf_free(&out);
	free(r);
}

static void test_five_level_tables_sign_extend_from_bit_56(void)
{
	struct ram *r = four_level_ram();
	put64(r->bytes + 0x6000 + 256 * 8, PML4 | 0x3); /* PML5 entry 256: the top half */
	struct sysfmt_paging p = { .cr0 = 0x80000011, .cr3 = 0x6000, .cr4 = 0x1020, .efer = 0x500 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_page_tables(&out, &p, SYSFMT_TLB, ram_read, r, 100);
	CHECK(has(&out, "ff00000000001000: 0000000000001000"));
	CHECK(has(&out, "ff00000040000000: 0000000040000000"));
	textbuf_free(&out);
	free(r);
}

static void test_pae_and_two_level_tables_walk_with_their_own_layouts(void)
{
	struct ram *r = calloc(1, sizeof(*r));
	struct textbuf out;
	if (!r)
		abort();
	textbuf_init(&out, 0);
	/* PAE: PDPT at 0x1020 (32-byte aligned), PD at 0x3000 with a 2 MiB page. */
	put64(r->bytes + 0x1020 + 1 * 8, 0x3000 | 1);
	put64(r->bytes + 0x3000 + 2 * 8, 0x600000 | 0x83);
	struct sysfmt_paging pae = { .cr0 = 0x80000011, .cr3 = 0x1020, .cr4 = 0x20 };
	sysfmt_page_tables(&out, &pae, SYSFMT_TLB, ram_read, r, 100);
	CHECK(has(&out, "40400000: 00600000 --P-----W\n"));
	textbuf_clear(&out);
	/* 32-bit: a 4 MiB page with PSE-36 bits, and a 4 KiB page. */
	memset(r->bytes, 0, sizeof(r->bytes));
	put32(r->bytes + 0x1000 + 1 * 4, 0x00c00000 | (0x3u << 13) | 0x83);
	put32(r->bytes + 0x1000 + 2 * 4, 0x2000 | 0x7);
	put32(r->bytes + 0x2000 + 5 * 4, 0x9000 | 0x5);
	struct sysfmt_paging two = { .cr0 = 0x80000011, .cr3 = 0x1000, .cr4 = 0x10 };
	sysfmt_page_tables(&out, &two, SYSFMT_TLB, ram_read, r, 100);
	CHECK(has(&out, "00400000: 300c00000 --P-----W\n"));
	CHECK(has(&out, "00805000: 00009000 -------U-\n"));
	textbuf_free(&out);
	free(r);
}

static void test_paging_off_says_so(void)
{
	struct ram *r = calloc(1, sizeof(*r));
	struct sysfmt_paging p = { .cr0 = 0x11 };
	struct textbuf out;
	if (!r)
		abort();
	textbuf_init(&out, 0);
	sysfmt_page_tables(&out, &p, SYSFMT_MEM, ram_read, r, 100);
	CHECK(has(&out, "PG disabled"));
	CHECK_EQ(r->reads, 0);
	textbuf_free(&out);
	free(r);
}

static void test_self_referencing_tables_stop_at_the_table_budget(void)
{
	struct ram *r = calloc(1, sizeof(*r));
	struct textbuf out;
	if (!r)
		abort();
	/* Every entry of the one table points at itself: 512^3 tables, 512^4
	 * pages, if nothing stopped the walk. */
	for (unsigned i = 0; i < 512; i++)
		put64(r->bytes + PML4 + i * 8, PML4 | 0x7);
	struct sysfmt_paging p = { .cr0 = 0x80000011, .cr3 = PML4, .cr4 = 0x20, .efer = 0x500 };
	textbuf_init(&out, 1 << 20);
	sysfmt_page_tables(&out, &p, SYSFMT_TLB, ram_read, r, 50);
	CHECK(r->reads <= 50);
	CHECK(has(&out, "(stopped after "));
	textbuf_free(&out);
	/* Merged ranges stay short: the table budget alone ends the walk. */
	textbuf_init(&out, 4096);
	r->reads = 0;
	sysfmt_page_tables(&out, &p, SYSFMT_MEM, ram_read, r, 1000);
	CHECK(out.len <= 4096);
	CHECK(r->reads <= 1000);
	CHECK(has(&out, "(stopped after 1000 page tables"));
	textbuf_free(&out);
	free(r);
}

static void test_tables_outside_ram_are_named_not_read(void)
{
	struct ram *r = four_level_ram();
	put64(r->bytes + PDPT + 2 * 8, 0xfffff000ULL | 0x3); /* a PD far outside RAM */
	struct sysfmt_paging p = { .cr0 = 0x80000011, .cr3 = PML4, .cr4 = 0x20, .efer = 0x500 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_page_tables(&out, &p, SYSFMT_TLB, ram_read, r, 100);
	CHECK(has(&out, "(page table at 0xfffff000 is outside guest RAM)"));
	CHECK(has(&out, "0000000000001000: 0000000000001000")); /* the rest still shown */
	textbuf_free(&out);
	free(r);
}

/* ---- xp ---- */

static void test_xp_parses_count_format_and_size_in_any_order(void)
{
	struct sysfmt_xfmt f;
	uint64_t addr;
	char why[128];

	CHECK_EQ(sysfmt_parse_xp("/8xb 0x1000", &f, &addr, why, sizeof(why)), 0);
	CHECK_EQ(f.count, 8);
	CHECK_EQ(f.format, 'x');
	CHECK_EQ(f.size, 1);
	CHECK_EQ(addr, 0x1000);
	CHECK_EQ(sysfmt_parse_xp("/gd 4096", &f, &addr, why, sizeof(why)), 0);
	CHECK_EQ(f.count, 1);
	CHECK_EQ(f.format, 'd');
	CHECK_EQ(f.size, 8);
	CHECK_EQ(addr, 4096);
	CHECK_EQ(sysfmt_parse_xp("0xb8000", &f, &addr, why, sizeof(why)), 0);
	CHECK_EQ(f.count, 1);
	CHECK_EQ(f.size, 4);
	CHECK_EQ(sysfmt_parse_xp("/3c 0x10", &f, &addr, why, sizeof(why)), 0);
	CHECK_EQ(f.size, 1);
}

static void test_xp_refuses_bad_formats_with_one_line(void)
{
	static const char *const bad[] = {
		"/8q 0x1000", "/8x", "", "/0x 0x10", "/99999999x 0", "/4x 0x10 0x20",
		"/4x zz", "/4i 0x1000", "/65536g 0", "/4x 0x10000000000000000",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sysfmt_xfmt f;
		uint64_t addr;
		char why[128] = "";
		int err = sysfmt_parse_xp(bad[i], &f, &addr, why, sizeof(why));
		if (err != -EINVAL)
			printf("  \"%s\" was accepted\n", bad[i]);
		CHECK_EQ(err, -EINVAL);
		CHECK(why[0] && !strchr(why, '\n'));
	}
}

static void test_xp_formats_hex_signed_unsigned_octal_and_chars(void)
{
	const uint8_t data[] = { 0xff, 0xff, 0x41, 0x0a, 0x10, 0x00, 0x00, 0x80 };
	struct textbuf out;
	struct sysfmt_xfmt f = { .count = 2, .format = 'x', .size = 4 };
	textbuf_init(&out, 0);
	sysfmt_memory(&out, 0x1000, data, sizeof(data), &f);
	CHECK(has(&out, "0000000000001000: 0x0a41ffff 0x80000010\n"));
	textbuf_clear(&out);
	f = (struct sysfmt_xfmt){ .count = 2, .format = 'd', .size = 2 };
	sysfmt_memory(&out, 0, data, sizeof(data), &f);
	CHECK(has(&out, ": -1 2625\n"));
	textbuf_clear(&out);
	f = (struct sysfmt_xfmt){ .count = 1, .format = 'u', .size = 8 };
	sysfmt_memory(&out, 0, data, sizeof(data), &f);
	CHECK(has(&out, ": 9223372105746350079\n"));
	textbuf_clear(&out);
	f = (struct sysfmt_xfmt){ .count = 1, .format = 'o', .size = 1 };
	sysfmt_memory(&out, 0, data + 4, 1, &f);
	CHECK(has(&out, ": 020\n"));
	textbuf_clear(&out);
	f = (struct sysfmt_xfmt){ .count = 2, .format = 'c', .size = 1 };
	sysfmt_memory(&out, 0, data + 2, 2, &f);
	CHECK(has(&out, ": 65 'A' 10 '\\012'\n"));
	textbuf_free(&out);
}

static void test_xp_says_where_memory_ends(void)
{
	const uint8_t data[4] = { 1, 2, 3, 4 };
	struct sysfmt_xfmt f = { .count = 4, .format = 'x', .size = 2 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_memory(&out, 0x7ffc, data, sizeof(data), &f);
	CHECK(has(&out, "0000000000007ffc: 0x0201 0x0403\n"));
	CHECK(has(&out, "Cannot access memory at address 0x8000\n"));
	textbuf_free(&out);
}

static void test_xp_puts_sixteen_bytes_on_a_line(void)
{
	uint8_t data[32] = { 0 };
	struct sysfmt_xfmt f = { .count = 32, .format = 'x', .size = 1 };
	struct textbuf out;
	textbuf_init(&out, 0);
	sysfmt_memory(&out, 0x100, data, sizeof(data), &f);
	CHECK_EQ(count_lines(&out), 2);
	CHECK(has(&out, "\n0000000000000110:"));
	textbuf_free(&out);
}

/* ---- interrupt controllers, exits, registers ---- */

static void put_apic(struct target_lapic *l, unsigned offset, uint32_t v)
{
	put32(l->regs + offset, v);
}

static void test_lapic_dump_decodes_lvt_timer_spiv_and_pending_vectors(void)
{
	struct target_lapic l;
	struct textbuf out;
	memset(&l, 0, sizeof(l));
	put_apic(&l, 0x20, 2u << 24);
	put_apic(&l, 0x30, 0x50014);
	put_apic(&l, 0x320, 0x200ef);      /* periodic, vector 239 */
	put_apic(&l, 0x350, 0x10700);      /* masked ExtINT */
	put_apic(&l, 0x3e0, 0xb);          /* divide by 1 */
	put_apic(&l, 0x380, 100000);
	put_apic(&l, 0xf0, 0x1ff);
	put_apic(&l, 0x200 + 0x10, 1u << 1); /* IRR vector 33 */
	textbuf_init(&out, 0);
	sysfmt_lapic(&out, &l);
	CHECK(has(&out, "id 2, version 0x14, max LVT 5"));
	CHECK(has(&out, "LVTT     0x000200ef active-hi edge  periodic vec 239"));
	CHECK(has(&out, "LVT0     0x00010700 active-hi edge  masked ExtINT vec 0"));
	CHECK(has(&out, "DCR=0xb (divide by 1) initial_count=100000"));
	CHECK(has(&out, "APIC enabled, focus=on, spurious vec 255"));
	CHECK(has(&out, "IRR      33\n"));
	CHECK(has(&out, "ISR      (none)"));
	textbuf_free(&out);
}

static void test_pic_dump_shows_both_8259s_and_each_ioapic_pin(void)
{
	struct target_irqchip c;
	struct textbuf out;
	memset(&c, 0, sizeof(c));
	c.pic[0].irr = 0x01;
	c.pic[0].imr = 0xfa;
	c.pic[0].irq_base = 0x20;
	c.pic[1].imr = 0xff;
	c.pic[1].irq_base = 0x28;
	c.has_ioapic = true;
	c.ioapic_base = 0xfec00000;
	c.redirection[2] = 0x30 | (1ULL << 16);
	c.redirection[4] = 0x24 | (1ULL << 15) | (1ULL << 56);
	textbuf_init(&out, 0);
	sysfmt_irqchip(&out, &c);
	CHECK(has(&out, "pic0: irr=01 imr=fa isr=00 hprio=0 irq_base=20"));
	CHECK(has(&out, "pic1: irr=00 imr=ff isr=00 hprio=0 irq_base=28"));
	CHECK(has(&out, "ioapic: base=0xfec00000"));
	CHECK(has(&out, "pin 2  0x0000000000010030 dest=0 vec=48  fixed  edge "));
	CHECK(has(&out, " masked"));
	CHECK(has(&out, "pin 4  0x0100000000008024 dest=1 vec=36  fixed  level"));
	CHECK_EQ(count_lines(&out), 3 + TARGET_IOAPIC_PINS);
	textbuf_free(&out);
}

static void test_exit_counts_list_reasons_and_ports(void)
{
	struct target_exit_counts c;
	struct textbuf out;
	memset(&c, 0, sizeof(c));
	c.nreasons = 2;
	strcpy(c.reasons[0].name, "IO");
	c.reasons[0].count = 30;
	strcpy(c.reasons[1].name, "HLT");
	c.reasons[1].count = 1;
	c.nports = 1;
	c.ports[0].port = 0x3f8;
	c.ports[0].out = 29;
	c.ports[0].in = 1;
	textbuf_init(&out, 0);
	sysfmt_exits(&out, &c);
	CHECK(has(&out, "exits by reason (31 in all):"));
	CHECK(has(&out, "  IO                                 30"));
	CHECK(has(&out, "  0x03f8  in            1  out           29"));
	textbuf_free(&out);
}

static void test_exit_counts_end_with_the_stop_latency_line(void)
{
	struct target_exit_counts c;
	struct textbuf out;
	memset(&c, 0, sizeof(c));
	textbuf_init(&out, 0);
	sysfmt_exits(&out, &c);
	CHECK(has(&out, "stop latency: no stops yet\n"));
	textbuf_free(&out);

	c.stops_timed = 3;
	c.stop_last_ns = 41250;
	c.stop_median_ns = 52000;
	c.stop_max_ns = 1500000;
	c.stop_median_of = 3;
	textbuf_init(&out, 0);
	sysfmt_exits(&out, &c);
	CHECK(has(&out, "stop latency: last 41.2 us, median 52.0 us, max 1500.0 us over 3 stops\n"));
	textbuf_free(&out);

	c.stops_timed = 5000;
	c.stop_median_of = 1024;
	textbuf_init(&out, 0);
	sysfmt_exits(&out, &c);
	CHECK(has(&out, "over 5000 stops (median of the last 1024)\n"));
	textbuf_free(&out);
}

static void test_register_dump_shows_descriptor_caches_tables_and_events(void)
{
	struct target_system_state st;
	struct textbuf out;
	memset(&st, 0, sizeof(st));
	st.regs.rip = 0x100000;
	st.regs.rflags = 0x246;
	st.regs.cr0 = 0x80000011;
	st.regs.cr3 = 0x9000;
	st.regs.efer = 0xd00;
	st.cs = (struct target_segment_cache){ .selector = 0x18, .limit = 0xffffffff, .type = 0xb,
					       .s = 1, .present = 1, .l = 1, .g = 1 };
	st.tr = (struct target_segment_cache){ .selector = 0x20, .base = 0x8800, .limit = 0x67,
					       .type = 0xb, .present = 1 };
	st.gdt.base = 0x8000;
	st.gdt.limit = 0x2f;
	st.dr[7] = 0x400;
	st.apic_base = 0xfee00900;
	st.has_events = true;
	st.exception.pending = true;
	st.exception.nr = 14;
	st.exception.has_error_code = true;
	st.exception.error_code = 2;
	st.nmi.masked = true;
	textbuf_init(&out, 0);
	sysfmt_registers(&out, &st);
	CHECK(has(&out, "RIP=0000000000100000 RFL=00000246 [--I--Z-P-] CPL=0"));
	CHECK(has(&out, "mode: long (64-bit)"));
	CHECK(has(&out, "CS =0018 0000000000000000 ffffffff type=b S=1 DPL=0 P=1 DB=0 L=1 G=1"));
	CHECK(has(&out, "TR =0020 0000000000008800 00000067 type=b S=0"));
	CHECK(has(&out, "GDT=     0000000000008000 0000002f"));
	CHECK(has(&out, "CR3=0000000000009000"));
	CHECK(has(&out, "DR7=0000000000000400"));
	CHECK(has(&out, "EFER=0000000000000d00 APIC_BASE=00000000fee00900"));
	CHECK(has(&out, "exception: vector 14 pending error code 0x2"));
	CHECK(has(&out, "NMI: none, masked"));
	textbuf_free(&out);
}

static void test_mode_names_follow_cr0_efer_and_cs(void)
{
	struct target_system_state st;
	memset(&st, 0, sizeof(st));
	CHECK(strcmp(sysfmt_mode_name(&st), "real") == 0);
	st.regs.cr0 = 1;
	CHECK(strcmp(sysfmt_mode_name(&st), "protected (16-bit)") == 0);
	st.cs.db = 1;
	CHECK(strcmp(sysfmt_mode_name(&st), "protected (32-bit)") == 0);
	st.regs.rflags = 1 << 17;
	CHECK(strcmp(sysfmt_mode_name(&st), "virtual-8086") == 0);
	st.regs.efer = 0x500;
	CHECK(strcmp(sysfmt_mode_name(&st), "long (compatibility)") == 0);
	st.cs.l = 1;
	CHECK(strcmp(sysfmt_mode_name(&st), "long (64-bit)") == 0);
}

static void test_text_buffer_stops_at_its_cap_and_says_so(void)
{
	struct textbuf out;
	textbuf_init(&out, 100);
	for (int i = 0; i < 50; i++)
		textbuf_printf(&out, "line %d\n", i);
	CHECK_EQ(out.len, 100);
	CHECK(out.truncated);
	CHECK(textbuf_full(&out));
	CHECK_EQ(strlen(out.data), 100);
	textbuf_free(&out);
}

int main(void)
{
	RUN(test_flat_code64_descriptor_decodes_base_limit_and_flags);
	RUN(test_long_mode_tss_descriptor_takes_base_63_32_from_the_next_eight_bytes);
	RUN(test_gdt_dump_names_each_selector_and_skips_the_tss_upper_half);
	RUN(test_gdt_dump_says_where_guest_memory_ends);
	RUN(test_long_mode_idt_shows_present_gates_with_64_bit_offsets_and_ist);
	RUN(test_protected_mode_idt_uses_eight_byte_gates);
	RUN(test_real_mode_ivt_prints_segment_and_offset);
	RUN(test_info_tlb_lists_4k_2m_and_1g_pages_with_qemu_flags);
	RUN(test_info_mem_merges_ranges_and_ands_permissions_over_levels);
	RUN(test_five_level_tables_sign_extend_from_bit_56);
	RUN(test_pae_and_two_level_tables_walk_with_their_own_layouts);
	RUN(test_paging_off_says_so);
	RUN(test_self_referencing_tables_stop_at_the_table_budget);
	RUN(test_tables_outside_ram_are_named_not_read);
	RUN(test_xp_parses_count_format_and_size_in_any_order);
	RUN(test_xp_refuses_bad_formats_with_one_line);
	RUN(test_xp_formats_hex_signed_unsigned_octal_and_chars);
	RUN(test_xp_says_where_memory_ends);
	RUN(test_xp_puts_sixteen_bytes_on_a_line);
	RUN(test_lapic_dump_decodes_lvt_timer_spiv_and_pending_vectors);
	RUN(test_pic_dump_shows_both_8259s_and_each_ioapic_pin);
	RUN(test_exit_counts_list_reasons_and_ports);
	RUN(test_exit_counts_end_with_the_stop_latency_line);
	RUN(test_register_dump_shows_descriptor_caches_tables_and_events);
	RUN(test_mode_names_follow_cr0_efer_and_cs);
	RUN(test_text_buffer_stops_at_its_cap_and_says_so);
	return check_summary();
}
