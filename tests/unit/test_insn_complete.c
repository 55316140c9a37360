/* tests/unit/test_insn_complete.c — decoding of int n/int3/into/iret and
 * the frames the completer builds, on a synthetic GDT, IDT and TSS in a
 * flat buffer standing in for guest memory (linear = offset). No KVM. */
#include "kvm/insn_complete.h"

#include <errno.h>
#include <string.h>

#include "tests/unit/check.h"

#define MEM_SIZE 0x20000
#define GDT 0x1000
#define IDT 0x2000
#define TSS 0x3000
#define CODE 0x4000
#define STACK0 0x9000  /* ring-0 stack top */
#define STACK3 0x7000  /* ring-3 stack top */
#define IST1 0xb008    /* deliberately not 16-byte aligned */

#define IF_FLAG 0x200ULL
#define TF_FLAG 0x100ULL
#define NT_FLAG 0x4000ULL
#define VM_FLAG 0x20000ULL

struct fake_mem {
	uint8_t bytes[MEM_SIZE];
	int writes;
};

static struct fake_mem mem;

static int fake_read(void *ctx, uint64_t linear, void *buf, size_t len)
{
	struct fake_mem *f = ctx;
	if (linear > MEM_SIZE || len > MEM_SIZE - linear)
		return -EFAULT;
	memcpy(buf, f->bytes + linear, len);
	return 0;
}

static int fake_write(void *ctx, uint64_t linear, const void *buf, size_t len)
{
	struct fake_mem *f = ctx;
	if (linear > MEM_SIZE || len > MEM_SIZE - linear)
		return -EFAULT;
	memcpy(f->bytes + linear, buf, len);
	f->writes++;
	return 0;
}

static const struct insn_memory memory = { &mem, fake_read, fake_write };

static void put64(uint64_t at, uint64_t v) { memcpy(mem.bytes + at, &v, 8); }
static void put32(uint64_t at, uint32_t v) { memcpy(mem.bytes + at, &v, 4); }
static void put16(uint64_t at, uint16_t v) { memcpy(mem.bytes + at, &v, 2); }
static uint64_t get64(uint64_t at) { uint64_t v; memcpy(&v, mem.bytes + at, 8); return v; }
static uint32_t get32(uint64_t at) { uint32_t v; memcpy(&v, mem.bytes + at, 4); return v; }

/* access: P|DPL|S|type byte; flags: G D L AVL nibble. Limit 0xfffff. */
static uint64_t descriptor(uint8_t access, uint8_t flags)
{
	return 0xffffULL | (uint64_t)access << 40 | (uint64_t)(0xf | flags << 4) << 48;
}

enum { SEL_CODE32 = 0x08, SEL_DATA = 0x10, SEL_CODE64 = 0x18, SEL_CODE32_U = 0x23,
       SEL_DATA_U = 0x2b, SEL_CODE64_U = 0x33 };

static void build_tables(void)
{
	memset(&mem, 0, sizeof(mem));
	put64(GDT + 0x08, descriptor(0x9a, 0xc)); /* accessed bits left clear */
	put64(GDT + 0x10, descriptor(0x92, 0xc));
	put64(GDT + 0x18, descriptor(0x9a, 0xa));
	put64(GDT + 0x20, descriptor(0xfa, 0xc));
	put64(GDT + 0x28, descriptor(0xf2, 0xc));
	put64(GDT + 0x30, descriptor(0xfa, 0xa));
}

static void gate32(unsigned vector, uint32_t offset, uint16_t sel, uint8_t type_attr)
{
	put64(IDT + 8 * vector, (offset & 0xffff) | (uint64_t)sel << 16 |
				(uint64_t)type_attr << 40 | (uint64_t)(offset >> 16) << 48);
}

static void gate64(unsigned vector, uint64_t offset, uint16_t sel, uint8_t type_attr,
		   unsigned ist)
{
	put64(IDT + 16 * vector, (offset & 0xffff) | (uint64_t)sel << 16 | (uint64_t)ist << 32 |
				 (uint64_t)type_attr << 40 | ((offset >> 16) & 0xffff) << 48);
	put64(IDT + 16 * vector + 8, offset >> 32);
}

static struct kvm_segment seg(uint16_t sel, uint8_t type, bool code64, bool db)
{
	struct kvm_segment s = { .selector = sel, .limit = 0xffffffff, .type = type,
				 .present = 1, .dpl = sel & 3, .s = 1, .l = code64,
				 .db = db, .g = 1 };
	return s;
}

static void cpu_protected(struct kvm_regs *r, struct kvm_sregs *s, unsigned cpl)
{
	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	s->cr0 = 1;
	s->cs = seg(cpl ? SEL_CODE32_U : SEL_CODE32, 0xb, false, true);
	s->ss = seg(cpl ? SEL_DATA_U : SEL_DATA, 0x3, false, true);
	s->ds = s->es = s->fs = s->gs = s->ss;
	s->gdt.base = GDT;
	s->gdt.limit = 0x37;
	s->idt.base = IDT;
	s->idt.limit = 0x7ff;
	s->tr.base = TSS;
	s->tr.limit = 0x67;
	s->tr.type = 11;
	s->tr.present = 1;
	put32(TSS + 4, STACK0);  /* esp0 */
	put16(TSS + 8, SEL_DATA); /* ss0 */
	r->rip = CODE;
	r->rsp = cpl ? STACK3 : STACK0 - 0x100;
	r->rflags = 0x202;
}

static void cpu_long(struct kvm_regs *r, struct kvm_sregs *s, unsigned cpl)
{
	cpu_protected(r, s, cpl);
	s->efer = (1ULL << 8) | (1ULL << 10);
	s->cr0 |= 1ULL << 31;
	s->cs = seg(cpl ? SEL_CODE64_U : SEL_CODE64, 0xb, true, false);
	put64(TSS + 4, STACK0);      /* rsp0 */
	put64(TSS + 0x24, IST1);     /* ist1 */
	s->idt.limit = 0xfff;
}

static void code(const char *bytes, size_t n)
{
	memcpy(mem.bytes + CODE, bytes, n);
}

/* ---- decoding ---- */

static void test_decode_int_imm8_in_each_mode(void)
{
	static const uint8_t b[] = { 0xcd, 0x80 };
	struct insn_decoded d;
	for (int mode = INSN_MODE_PROTECTED; mode <= INSN_MODE_LONG64; mode++) {
		CHECK_EQ(insn_decode(b, sizeof(b), (enum insn_cpu_mode)mode, true, &d), 0);
		CHECK_EQ(d.kind, INSN_INT);
		CHECK_EQ(d.vector, 0x80);
		CHECK_EQ(d.length, 2);
	}
}

static void test_decode_int3_and_into(void)
{
	static const uint8_t int3[] = { 0xcc }, into[] = { 0xce };
	struct insn_decoded d;
	CHECK_EQ(insn_decode(int3, 1, INSN_MODE_LONG64, false, &d), 0);
	CHECK(d.kind == INSN_INT && d.vector == 3 && d.length == 1 && !strcmp(d.name, "int3"));
	CHECK_EQ(insn_decode(into, 1, INSN_MODE_PROTECTED, true, &d), 0);
	CHECK(d.kind == INSN_INT && d.vector == 4);
	/* into does not exist in 64-bit mode (#UD): never completed there */
	CHECK_EQ(insn_decode(into, 1, INSN_MODE_LONG64, false, &d), 0);
	CHECK_EQ(d.kind, INSN_OTHER);
}

static void test_decode_iret_operand_sizes(void)
{
	static const uint8_t iret[] = { 0xcf }, iretw[] = { 0x66, 0xcf }, iretq[] = { 0x48, 0xcf },
			     rex_then_66[] = { 0x48, 0x66, 0xcf };
	struct insn_decoded d;
	insn_decode(iret, 1, INSN_MODE_PROTECTED, true, &d);
	CHECK(d.kind == INSN_IRET && d.operand_size == 4 && d.length == 1);
	insn_decode(iretw, 2, INSN_MODE_PROTECTED, true, &d);
	CHECK(d.operand_size == 2 && d.length == 2);
	insn_decode(iret, 1, INSN_MODE_PROTECTED, false, &d);
	CHECK_EQ(d.operand_size, 2); /* 16-bit code segment */
	insn_decode(iretq, 2, INSN_MODE_LONG64, false, &d);
	CHECK(d.operand_size == 8 && !strcmp(d.name, "iretq"));
	insn_decode(iret, 1, INSN_MODE_LONG64, false, &d);
	CHECK_EQ(d.operand_size, 4);
	/* a REX before another prefix is ignored (SDM vol. 2, 2.2.1) */
	insn_decode(rex_then_66, 3, INSN_MODE_LONG64, false, &d);
	CHECK_EQ(d.operand_size, 2);
	/* outside 64-bit mode 0x48 is dec eax, not a prefix */
	insn_decode(iretq, 2, INSN_MODE_PROTECTED, true, &d);
	CHECK_EQ(d.kind, INSN_OTHER);
}

static void test_decode_truncated_and_other(void)
{
	static const uint8_t cut[] = { 0xcd }, ud2[] = { 0x0f, 0x0b }, locked[] = { 0xf0, 0xcf };
	struct insn_decoded d;
	CHECK_EQ(insn_decode(cut, 1, INSN_MODE_PROTECTED, true, &d), -EINVAL);
	CHECK_EQ(insn_decode(ud2, 2, INSN_MODE_PROTECTED, true, &d), 0);
	CHECK_EQ(d.kind, INSN_OTHER);
	CHECK_EQ(insn_decode(locked, 2, INSN_MODE_PROTECTED, true, &d), 0);
	CHECK(d.lock);
}

/* ---- protected mode ---- */

static void test_protected_int_through_interrupt_gate_pushes_three_dwords(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	r.rflags = 0x202 | TF_FLAG;
	gate32(0x30, 0x5678, SEL_CODE32, 0x8e);
	code("\xcd\x30", 2);
	uint64_t esp = r.rsp;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, 0x5678);
	CHECK_EQ(r.rsp, esp - 12);
	CHECK_EQ(get32(esp - 12), CODE + 2);  /* eip after the int */
	CHECK_EQ(get32(esp - 8), SEL_CODE32);
	CHECK_EQ(get32(esp - 4), 0x202 | TF_FLAG);
	CHECK_EQ(r.rflags & (IF_FLAG | TF_FLAG), 0); /* interrupt gate: IF and TF cleared */
	CHECK_EQ(s.cs.selector, SEL_CODE32);
	CHECK(mem.bytes[GDT + 0x08 + 5] & 1); /* accessed bit set */
}

static void test_protected_trap_gate_keeps_if(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	gate32(0x31, 0x5000, SEL_CODE32, 0x8f);
	code("\xcd\x31", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK(r.rflags & IF_FLAG);
}

static void test_protected_int_from_ring3_switches_to_tss_stack(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 3);
	gate32(0x80, 0x6000, SEL_CODE32, 0xee); /* DPL 3: callable from ring 3 */
	code("\xcd\x80", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rsp, STACK0 - 20);
	CHECK_EQ(get32(STACK0 - 20), CODE + 2);
	CHECK_EQ(get32(STACK0 - 16), SEL_CODE32_U);
	CHECK_EQ(get32(STACK0 - 12), 0x202);
	CHECK_EQ(get32(STACK0 - 8), STACK3);
	CHECK_EQ(get32(STACK0 - 4), SEL_DATA_U);
	CHECK_EQ(s.ss.selector, SEL_DATA);
	CHECK_EQ(s.cs.selector, SEL_CODE32);
	CHECK_EQ(s.cs.dpl, 0);
}

static void test_protected_int_refused_when_gate_dpl_below_cpl(void)
{
	struct kvm_regs r, r0;
	struct kvm_sregs s, s0;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 3);
	gate32(0x80, 0x6000, SEL_CODE32, 0x8e);
	code("\xcd\x80", 2);
	r0 = r;
	s0 = s;
	mem.writes = 0;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "int $0x80") != NULL);
	CHECK(strstr(why, "#GP") != NULL);
	CHECK(!memcmp(&r, &r0, sizeof(r)) && !memcmp(&s, &s0, sizeof(s)));
	CHECK_EQ(mem.writes, 0);
}

static void test_protected_task_gate_and_missing_gate_are_refused(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	put64(IDT + 8 * 0x40, (uint64_t)0x85 << 40 | (uint64_t)0x28 << 16);
	code("\xcd\x40", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "task gate") != NULL);
	code("\xcd\x41", 2); /* an empty IDT entry */
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	s.idt.limit = 8 * 0x20 - 1;
	code("\xcd\x20", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "IDT limit") != NULL);
}

static void test_protected_int3_pushes_address_after_it(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	gate32(3, 0x5300, SEL_CODE32, 0x8f);
	code("\xcc", 1);
	uint64_t esp = r.rsp;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, 0x5300);
	CHECK_EQ(get32(esp - 12), CODE + 1);
}

static void test_into_without_overflow_only_advances(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	code("\xce", 1);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, CODE + 1);
}

static void test_protected_iret_same_level_restores_frame(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	r.rflags = 0x2; /* in a handler: IF clear */
	uint64_t esp = r.rsp;
	put32(esp, 0x4321);
	put32(esp + 4, SEL_CODE32);
	put32(esp + 8, 0x202 | 0x1); /* IF and CF */
	code("\xcf", 1);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, 0x4321);
	CHECK_EQ(r.rsp, esp + 12);
	CHECK_EQ(r.rflags, 0x203);
	CHECK_EQ(s.cs.selector, SEL_CODE32);
}

static void test_protected_iret_to_ring3_pops_stack_and_drops_kernel_data(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	uint64_t esp = r.rsp;
	put32(esp, 0x4100);
	put32(esp + 4, SEL_CODE32_U);
	put32(esp + 8, 0x202);
	put32(esp + 12, STACK3 - 16);
	put32(esp + 16, SEL_DATA_U);
	code("\xcf", 1);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, 0x4100);
	CHECK_EQ(r.rsp, STACK3 - 16);
	CHECK_EQ(s.cs.selector, SEL_CODE32_U);
	CHECK_EQ(s.cs.dpl, 3);
	CHECK_EQ(s.ss.selector, SEL_DATA_U);
	CHECK(s.ds.unusable && s.ds.selector == 0); /* DPL 0 data is not for ring 3 */
}

static void test_ring3_iret_cannot_set_if_or_iopl(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 3);
	r.rflags = 0x2; /* IOPL 0, IF clear */
	uint64_t esp = r.rsp;
	put32(esp, 0x4100);
	put32(esp + 4, SEL_CODE32_U);
	put32(esp + 8, 0x3202 | 0x80); /* asks for IOPL 3, IF, SF */
	code("\xcf", 1);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rflags, 0x82);
}

static void test_iret_refuses_nested_task_vm86_and_inner_return(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	code("\xcf", 1);
	r.rflags = 0x2 | NT_FLAG;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "iret at 0x8:0x4000") && strstr(why, "task"));
	r.rflags = 0x2;
	put32(r.rsp, 0x100);
	put32(r.rsp + 4, 0x1000);
	put32(r.rsp + 8, 0x2 | VM_FLAG);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "virtual-8086") != NULL);
	cpu_protected(&r, &s, 3);
	put32(r.rsp, 0x100);
	put32(r.rsp + 4, SEL_CODE32); /* ring 3 returning to ring 0 */
	put32(r.rsp + 8, 0x2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "more privileged") != NULL);
}

/* ---- IA-32e mode ---- */

static void test_long_int_aligns_stack_and_pushes_ss_rsp(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 0);
	r.rsp = STACK0 - 0x108; /* not 16-aligned */
	gate64(0x40, 0xffffffff80001234ULL, SEL_CODE64, 0x8e, 0);
	code("\xcd\x40", 2);
	uint64_t rsp = r.rsp;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	uint64_t top = rsp & ~0xfULL;
	CHECK_EQ(r.rsp, top - 40);
	CHECK_EQ(r.rip, 0xffffffff80001234ULL);
	CHECK_EQ(get64(top - 40), CODE + 2);
	CHECK_EQ(get64(top - 32), SEL_CODE64);
	CHECK_EQ(get64(top - 24), 0x202);
	CHECK_EQ(get64(top - 16), rsp);
	CHECK_EQ(get64(top - 8), SEL_DATA);
	CHECK_EQ(r.rflags & IF_FLAG, 0);
}

static void test_long_int_uses_ist_stack(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 0);
	gate64(0x41, 0x5000, SEL_CODE64, 0x8f, 1);
	code("\xcd\x41", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rsp, (IST1 & ~0xfULL) - 40);
	CHECK(r.rflags & IF_FLAG); /* trap gate */
}

static void test_long_int_from_ring3_takes_rsp0_and_null_ss(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 3);
	gate64(0x80, 0x5000, SEL_CODE64, 0xee, 0);
	code("\xcd\x80", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rsp, STACK0 - 40);
	CHECK_EQ(get64(STACK0 - 8), SEL_DATA_U);
	CHECK_EQ(get64(STACK0 - 16), STACK3);
	CHECK_EQ(s.ss.selector, 0);
	CHECK_EQ(s.cs.selector, SEL_CODE64);
}

static void test_long_gate_to_32bit_code_is_refused(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 0);
	gate64(0x42, 0x5000, SEL_CODE32, 0x8e, 0);
	code("\xcd\x42", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "not 64-bit code") != NULL);
}

static void test_long_iretq_pops_five_qwords(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 0);
	uint64_t rsp = r.rsp;
	put64(rsp, 0x4444);
	put64(rsp + 8, SEL_CODE64);
	put64(rsp + 16, 0x246);
	put64(rsp + 24, 0x8800);
	put64(rsp + 32, SEL_DATA);
	code("\x48\xcf", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, 0x4444);
	CHECK_EQ(r.rsp, 0x8800);
	CHECK_EQ(r.rflags, 0x246);
	CHECK_EQ(s.ss.selector, SEL_DATA);
}

static void test_long_iretq_accepts_null_ss_in_ring0(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_long(&r, &s, 0);
	uint64_t rsp = r.rsp;
	put64(rsp, 0x4444);
	put64(rsp + 8, SEL_CODE64);
	put64(rsp + 16, 0x2);
	put64(rsp + 24, 0x8800);
	put64(rsp + 32, 0);
	code("\x48\xcf", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK(s.ss.unusable && s.ss.selector == 0);
	put64(r.rsp = rsp, 0x4444);
	put64(rsp + 8, 0xffff8000ULL); /* selector 0 after truncation to 16 bits */
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
}

static void test_unknown_instruction_and_unreadable_code_are_named(void)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	code("\x0f\x0b", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "0f 0b") != NULL);
	r.rip = MEM_SIZE + 0x100;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -EFAULT);
	s.cr0 = 0;
	r.rip = CODE;
	code("\xcd\x10", 2);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), -ENOTSUP);
	CHECK(strstr(why, "real mode") != NULL);
}

static void test_int_then_iret_round_trip_restores_state(void)
{
	struct kvm_regs r, before;
	struct kvm_sregs s;
	char why[200];
	build_tables();
	cpu_protected(&r, &s, 0);
	gate32(0x22, 0x5000, SEL_CODE32, 0x8e);
	code("\xcd\x22", 2);
	mem.bytes[0x5000] = 0xcf;
	before = r;
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(insn_complete(&r, &s, &memory, why, sizeof(why)), 0);
	CHECK_EQ(r.rip, before.rip + 2);
	CHECK_EQ(r.rsp, before.rsp);
	CHECK_EQ(r.rflags, before.rflags);
}

int main(void)
{
	RUN(test_decode_int_imm8_in_each_mode);
	RUN(test_decode_int3_and_into);
	RUN(test_decode_iret_operand_sizes);
	RUN(test_decode_truncated_and_other);
	RUN(test_protected_int_through_interrupt_gate_pushes_three_dwords);
	RUN(test_protected_trap_gate_keeps_if);
	RUN(test_protected_int_from_ring3_switches_to_tss_stack);
	RUN(test_protected_int_refused_when_gate_dpl_below_cpl);
	RUN(test_protected_task_gate_and_missing_gate_are_refused);
	RUN(test_protected_int3_pushes_address_after_it);
	RUN(test_into_without_overflow_only_advances);
	RUN(test_protected_iret_same_level_restores_frame);
	RUN(test_protected_iret_to_ring3_pops_stack_and_drops_kernel_data);
	RUN(test_ring3_iret_cannot_set_if_or_iopl);
	RUN(test_iret_refuses_nested_task_vm86_and_inner_return);
	RUN(test_long_int_aligns_stack_and_pushes_ss_rsp);
	RUN(test_long_int_uses_ist_stack);
	RUN(test_long_int_from_ring3_takes_rsp0_and_null_ss);
	RUN(test_long_gate_to_32bit_code_is_refused);
	RUN(test_long_iretq_pops_five_qwords);
	RUN(test_long_iretq_accepts_null_ss_in_ring0);
	RUN(test_unknown_instruction_and_unreadable_code_are_named);
	RUN(test_int_then_iret_round_trip_restores_state);
	return check_summary();
}
