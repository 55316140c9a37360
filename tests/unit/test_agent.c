/* tests/unit/test_agent.c — gdb's agent-expression bytecode as a breakpoint
 * condition: what each opcode computes, where the interpreter must give up
 * (AGENT_UNKNOWN) instead of guessing, and the bytecode gdb really sends.
 * Memory comes from a fake target serving one small buffer; no KVM.
 */
#include "stub/agent.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tests/unit/check.h"

/* Opcode bytes spelled as the manual names them, so each test reads like
 * gdb's own disassembly of the expression. */
#define ADD 0x02
#define SUB 0x03
#define MUL 0x04
#define DIV_SIGNED 0x05
#define DIV_UNSIGNED 0x06
#define REM_SIGNED 0x07
#define REM_UNSIGNED 0x08
#define LSH 0x09
#define RSH_SIGNED 0x0a
#define RSH_UNSIGNED 0x0b
#define LOG_NOT 0x0e
#define BIT_AND 0x0f
#define BIT_OR 0x10
#define BIT_XOR 0x11
#define BIT_NOT 0x12
#define EQUAL 0x13
#define LESS_SIGNED 0x14
#define LESS_UNSIGNED 0x15
#define EXT 0x16
#define REF8 0x17
#define REF16 0x18
#define REF32 0x19
#define REF64 0x1a
#define IF_GOTO 0x20
#define GOTO 0x21
#define CONST8 0x22
#define CONST16 0x23
#define CONST32 0x24
#define CONST64 0x25
#define REG 0x26
#define END 0x27
#define DUP 0x28
#define POP 0x29
#define ZERO_EXT 0x2a
#define SWAP 0x2b
#define PICK 0x32
#define ROT 0x33

/* Pushes of full 64-bit values, most significant byte first. */
#define BYTES64(v) (uint8_t)((uint64_t)(v) >> 56), (uint8_t)((uint64_t)(v) >> 48), \
	(uint8_t)((uint64_t)(v) >> 40), (uint8_t)((uint64_t)(v) >> 32), \
	(uint8_t)((uint64_t)(v) >> 24), (uint8_t)((uint64_t)(v) >> 16), \
	(uint8_t)((uint64_t)(v) >> 8), (uint8_t)(v)
#define PUSH64(v) CONST64, BYTES64(v)

/* The fake guest: MEMORY_SIZE bytes at MEMORY_BASE, nothing else mapped. */
#define MEMORY_BASE 0x1000u
#define MEMORY_SIZE 32u

struct fake_memory {
	uint8_t bytes[MEMORY_SIZE];
};

/* Like kvm/vcpu_state.c: the readable prefix, or -EFAULT if none. */
static long fake_read_mem(void *impl, uint64_t addr, void *buf, size_t len)
{
	struct fake_memory *mem = impl;
	size_t offset, n;

	if (addr < MEMORY_BASE || addr - MEMORY_BASE >= MEMORY_SIZE)
		return -EFAULT;
	offset = (size_t)(addr - MEMORY_BASE);
	n = MEMORY_SIZE - offset < len ? MEMORY_SIZE - offset : len;
	memcpy(buf, mem->bytes + offset, n);
	return (long)n;
}

static const struct target_ops fake_ops = { .read_mem = fake_read_mem };

static struct fake_memory memory;
static struct target fake_target = { &fake_ops, &memory };

static void reset_memory(void)
{
	memset(&memory, 0, sizeof(memory));
	for (unsigned i = 0; i < MEMORY_SIZE; i++)
		memory.bytes[i] = (uint8_t)(0xa0 + i);
}

static struct target_regs sample_regs(void)
{
	struct target_regs regs;

	memset(&regs, 0, sizeof(regs));
	regs.rax = 0xdeadbeef00000005ull;
	regs.rbx = 0x1122334455667788ull;
	regs.rcx = 0xffffffffffffffffull;
	regs.rbp = MEMORY_BASE + 16;
	regs.rip = 0x7c00;
	regs.cs.base = 0x10000;
	return regs;
}

static enum agent_result eval_on(enum target_arch arch, const struct target_regs *regs,
				 const uint8_t *code, size_t len)
{
	struct agent_expr expr;

	memset(&expr, 0, sizeof(expr));
	if (len > sizeof(expr.code))
		return (enum agent_result)-1;
	if (len)
		memcpy(expr.code, code, len);
	expr.len = len;
	return agent_eval(&expr, &fake_target, arch, regs);
}

static enum agent_result eval_bytes(const uint8_t *code, size_t len)
{
	struct target_regs regs = sample_regs();

	return eval_on(TARGET_ARCH_X86_64, &regs, code, len);
}

#define CODE(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define EVAL(...) eval_bytes(CODE(__VA_ARGS__))

/* Whether code leaves exactly `expected` on the stack: the expression
 * followed by `const64 expected; equal; end` must hold, and must not hold
 * against any other value, so an interpreter that says TRUE to everything
 * fails. */
static bool computes_on(enum target_arch arch, const uint8_t *code, size_t len,
			uint64_t expected)
{
	uint8_t buf[AGENT_MAX_BYTECODE];
	const uint8_t tail[] = { PUSH64(expected), EQUAL, END };
	const uint8_t other_tail[] = { PUSH64(expected ^ 1), EQUAL, END };
	struct target_regs regs = sample_regs();

	if (len + sizeof(tail) > sizeof(buf))
		return false;
	memcpy(buf, code, len);
	memcpy(buf + len, tail, sizeof(tail));
	if (eval_on(arch, &regs, buf, len + sizeof(tail)) != AGENT_TRUE)
		return false;
	memcpy(buf + len, other_tail, sizeof(other_tail));
	return eval_on(arch, &regs, buf, len + sizeof(other_tail)) == AGENT_FALSE;
}

#define COMPUTES(expected, ...) computes_on(TARGET_ARCH_X86_64, CODE(__VA_ARGS__), expected)

static void test_end_reports_nonzero_as_true_and_zero_as_false(void)
{
	CHECK_EQ(EVAL(CONST8, 1, END), AGENT_TRUE);
	CHECK_EQ(EVAL(CONST8, 0, END), AGENT_FALSE);
	CHECK_EQ(EVAL(PUSH64(0x8000000000000000ull), END), AGENT_TRUE);
	/* Only the top counts, whatever lies beneath it. */
	CHECK_EQ(EVAL(CONST8, 1, CONST8, 0, END), AGENT_FALSE);
	CHECK_EQ(EVAL(CONST8, 0, CONST8, 7, END), AGENT_TRUE);
}

static void test_add_sub_mul_wrap_modulo_2_to_the_64(void)
{
	CHECK(COMPUTES(5, CONST8, 2, CONST8, 3, ADD));
	CHECK(COMPUTES(0, PUSH64(UINT64_MAX), CONST8, 1, ADD));
	CHECK(COMPUTES(7, CONST8, 10, CONST8, 3, SUB)); /* next-to-top minus top */
	CHECK(COMPUTES(UINT64_MAX, CONST8, 0, CONST8, 1, SUB));
	CHECK(COMPUTES(42, CONST8, 6, CONST8, 7, MUL));
	CHECK(COMPUTES(0xfffffffe00000001ull, PUSH64(0xffffffffull), PUSH64(0xffffffffull), MUL));
	CHECK(COMPUTES(0, PUSH64(1ull << 32), PUSH64(1ull << 32), MUL));
}

static void test_signed_division_truncates_toward_zero(void)
{
	CHECK(COMPUTES((uint64_t)-3, PUSH64(-7), CONST8, 2, DIV_SIGNED));
	CHECK(COMPUTES((uint64_t)-1, PUSH64(-7), CONST8, 2, REM_SIGNED));
	CHECK(COMPUTES((uint64_t)-3, CONST8, 7, PUSH64(-2), DIV_SIGNED));
	CHECK(COMPUTES(1, CONST8, 7, PUSH64(-2), REM_SIGNED));
	CHECK(COMPUTES(3, PUSH64(-7), PUSH64(-2), DIV_SIGNED));
}

static void test_unsigned_division_treats_every_bit_as_magnitude(void)
{
	CHECK(COMPUTES(0x7fffffffffffffffull, PUSH64(-1), CONST8, 2, DIV_UNSIGNED));
	CHECK(COMPUTES(1, PUSH64(-1), CONST8, 2, REM_UNSIGNED));
	CHECK(COMPUTES(0, CONST8, 7, PUSH64(-2), DIV_UNSIGNED));
	CHECK(COMPUTES(7, CONST8, 7, PUSH64(-2), REM_UNSIGNED));
}

static void test_division_by_zero_is_unknown(void)
{
	CHECK_EQ(EVAL(CONST8, 7, CONST8, 0, DIV_SIGNED, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 7, CONST8, 0, DIV_UNSIGNED, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 7, CONST8, 0, REM_SIGNED, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 7, CONST8, 0, REM_UNSIGNED, END), AGENT_UNKNOWN);
}

static void test_int64_min_divided_by_minus_one_wraps_without_trapping(void)
{
	CHECK(COMPUTES(0x8000000000000000ull, PUSH64(0x8000000000000000ull), PUSH64(-1),
		       DIV_SIGNED));
	CHECK(COMPUTES(0, PUSH64(0x8000000000000000ull), PUSH64(-1), REM_SIGNED));
	CHECK(COMPUTES(1, PUSH64(0x8000000000000000ull), PUSH64(0x8000000000000000ull),
		       DIV_SIGNED));
}

static void test_shifts_by_64_or_more_are_defined(void)
{
	CHECK(COMPUTES(0x100, CONST8, 1, CONST8, 8, LSH));
	CHECK(COMPUTES(0x8000000000000000ull, CONST8, 1, CONST8, 63, LSH));
	CHECK(COMPUTES(0, CONST8, 1, CONST8, 64, LSH));
	CHECK(COMPUTES(0, CONST8, 1, PUSH64(-1), LSH));
	CHECK(COMPUTES(0, PUSH64(-1), CONST8, 64, RSH_UNSIGNED));
	CHECK(COMPUTES(1, PUSH64(-1), CONST8, 63, RSH_UNSIGNED));
	CHECK(COMPUTES(UINT64_MAX, PUSH64(0x8000000000000000ull), CONST8, 200, RSH_SIGNED));
	CHECK(COMPUTES(0, PUSH64(0x7fffffffffffffffull), CONST8, 64, RSH_SIGNED));
	CHECK(COMPUTES(0x1234, CONST16, 0x12, 0x34, CONST8, 0, RSH_SIGNED));
}

static void test_signed_right_shift_copies_the_sign_bit(void)
{
	CHECK(COMPUTES((uint64_t)-4, PUSH64(-16), CONST8, 2, RSH_SIGNED));
	CHECK(COMPUTES(0xc000000000000000ull, PUSH64(0x8000000000000000ull), CONST8, 1,
		       RSH_SIGNED));
	CHECK(COMPUTES(0x4000000000000000ull, PUSH64(0x8000000000000000ull), CONST8, 1,
		       RSH_UNSIGNED));
	CHECK(COMPUTES(4, CONST8, 16, CONST8, 2, RSH_SIGNED));
}

static void test_less_signed_and_unsigned_disagree_on_negative_values(void)
{
	CHECK_EQ(EVAL(PUSH64(-1), CONST8, 0, LESS_SIGNED, END), AGENT_TRUE);
	CHECK_EQ(EVAL(PUSH64(-1), CONST8, 0, LESS_UNSIGNED, END), AGENT_FALSE);
	CHECK_EQ(EVAL(CONST8, 0, PUSH64(-1), LESS_UNSIGNED, END), AGENT_TRUE);
	CHECK_EQ(EVAL(PUSH64(0x8000000000000000ull), PUSH64(0x7fffffffffffffffull),
		      LESS_SIGNED, END), AGENT_TRUE);
	/* Strict: a value is not less than itself. */
	CHECK_EQ(EVAL(CONST8, 3, CONST8, 3, LESS_SIGNED, END), AGENT_FALSE);
	CHECK_EQ(EVAL(CONST8, 3, CONST8, 3, LESS_UNSIGNED, END), AGENT_FALSE);
	CHECK(COMPUTES(1, CONST8, 3, CONST8, 3, EQUAL));
	CHECK(COMPUTES(0, CONST8, 3, CONST8, 4, EQUAL));
}

static void test_log_not_and_bitwise_operators(void)
{
	CHECK(COMPUTES(1, CONST8, 0, LOG_NOT));
	CHECK(COMPUTES(0, PUSH64(0x8000000000000000ull), LOG_NOT));
	CHECK(COMPUTES(0x0f00, CONST16, 0x0f, 0xf0, CONST16, 0xff, 0x00, BIT_AND));
	CHECK(COMPUTES(0xfff0, CONST16, 0x0f, 0xf0, CONST16, 0xff, 0x00, BIT_OR));
	CHECK(COMPUTES(0xf0f0, CONST16, 0x0f, 0xf0, CONST16, 0xff, 0x00, BIT_XOR));
	CHECK(COMPUTES(0xfffffffffffffffeull, CONST8, 1, BIT_NOT));
}

static void test_ext_sign_extends_from_n_bits(void)
{
	CHECK(COMPUTES(0xffffffffffffff80ull, CONST8, 0x80, EXT, 8));
	CHECK(COMPUTES(0x7f, CONST8, 0x7f, EXT, 8));
	/* Bits above n are garbage to be replaced, not kept. */
	CHECK(COMPUTES(0x7f, CONST16, 0xab, 0x7f, EXT, 8));
	CHECK(COMPUTES(0xffffffff80000000ull, CONST32, 0x80, 0, 0, 0, EXT, 32));
	CHECK(COMPUTES(UINT64_MAX, CONST8, 1, EXT, 1));
	/* At or past the stack width ext changes nothing (the manual). */
	CHECK(COMPUTES(0x8000000000000000ull, PUSH64(0x8000000000000000ull), EXT, 64));
	CHECK(COMPUTES(0x1234, CONST16, 0x12, 0x34, EXT, 255));
	/* ext 0 has no sign bit to copy: no expression gdb builds. */
	CHECK_EQ(EVAL(CONST8, 1, EXT, 0, END), AGENT_UNKNOWN);
}

static void test_zero_ext_keeps_only_the_low_n_bits(void)
{
	CHECK(COMPUTES(0x88, PUSH64(0x1122334455667788ull), ZERO_EXT, 8));
	CHECK(COMPUTES(0x55667788, PUSH64(0x1122334455667788ull), ZERO_EXT, 32));
	CHECK(COMPUTES(0x1122334455667788ull, PUSH64(0x1122334455667788ull), ZERO_EXT, 64));
	CHECK(COMPUTES(0x1122334455667788ull, PUSH64(0x1122334455667788ull), ZERO_EXT, 100));
	CHECK(COMPUTES(0, PUSH64(-1), ZERO_EXT, 0));
}

static void test_constants_are_big_endian_and_not_sign_extended(void)
{
	CHECK(COMPUTES(0xff, CONST8, 0xff));
	CHECK(COMPUTES(0x1234, CONST16, 0x12, 0x34));
	CHECK(COMPUTES(0xff00, CONST16, 0xff, 0x00));
	CHECK(COMPUTES(0x12345678, CONST32, 0x12, 0x34, 0x56, 0x78));
	CHECK(COMPUTES(0x80000000, CONST32, 0x80, 0x00, 0x00, 0x00));
	CHECK(COMPUTES(0x0123456789abcdefull, CONST64, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
		       0xcd, 0xef));
}

static void test_truncated_immediates_are_unknown(void)
{
	CHECK_EQ(EVAL(CONST8), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST16, 0x12), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST32, 0x12, 0x34, 0x56), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST64, 1, 2, 3, 4, 5, 6, 7), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(REG, 0), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, GOTO, 0), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, IF_GOTO, 0), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, EXT), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, ZERO_EXT), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, PICK), AGENT_UNKNOWN);
	/* An immediate that swallows the `end` meant to follow it. */
	CHECK_EQ(EVAL(CONST16, END), AGENT_UNKNOWN);
}

static void test_if_goto_branches_only_on_nonzero(void)
{
	/* 0: const8 c; 2: if_goto 8; 5: const8 0; 7: end; 8: const8 1; 10: end */
	CHECK_EQ(EVAL(CONST8, 1, IF_GOTO, 0, 8, CONST8, 0, END, CONST8, 1, END), AGENT_TRUE);
	CHECK_EQ(EVAL(CONST8, 0, IF_GOTO, 0, 8, CONST8, 0, END, CONST8, 1, END), AGENT_FALSE);
	/* The condition is popped: nothing is left for `end` on the taken side. */
	CHECK_EQ(EVAL(CONST8, 1, IF_GOTO, 0, 5, END), AGENT_UNKNOWN);
}

static void test_goto_jumps_to_an_offset_from_the_start(void)
{
	/* 0: goto 5; 3: const8 0; 5: const8 1; 7: end — the const8 0 is skipped
	 * only if the offset counts from the start, not from the goto. */
	CHECK_EQ(EVAL(GOTO, 0, 5, CONST8, 0, CONST8, 1, END), AGENT_TRUE);
	CHECK_EQ(EVAL(GOTO, 0, 5, CONST8, 0, CONST8, 1, POP, END), AGENT_UNKNOWN);
}

static void test_branch_outside_the_bytecode_is_unknown(void)
{
	CHECK_EQ(EVAL(GOTO, 0, 4, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(GOTO, 0xff, 0xff, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, IF_GOTO, 0x01, 0x00, CONST8, 1, END), AGENT_UNKNOWN);
	/* Not taken, an out-of-range target is never followed. */
	CHECK_EQ(EVAL(CONST8, 0, IF_GOTO, 0x01, 0x00, CONST8, 1, END), AGENT_TRUE);
}

static void test_infinite_loop_ends_as_unknown_within_the_step_budget(void)
{
	CHECK_EQ(EVAL(GOTO, 0, 0), AGENT_UNKNOWN);
	/* A loop that keeps its stack balanced and never ends. */
	CHECK_EQ(EVAL(CONST8, 1, DUP, IF_GOTO, 0, 2, END), AGENT_UNKNOWN);
}

static void test_bounded_loop_runs_to_completion(void)
{
	/* Count 1000 down to 0 (5 opcodes an iteration, well inside the
	 * budget), then report that the counter hit zero:
	 * 0: const16 1000; 3: dup; 4: if_goto 8; 7: end;
	 * 8: const8 1; 10: sub; 11: goto 3 */
	CHECK_EQ(EVAL(CONST16, 0x03, 0xe8, DUP, IF_GOTO, 0, 8, END, CONST8, 1, SUB, GOTO,
		      0, 3), AGENT_FALSE);
	CHECK_EQ(EVAL(CONST16, 0x03, 0xe8, DUP, IF_GOTO, 0, 9, LOG_NOT, END, CONST8, 1, SUB,
		      GOTO, 0, 3), AGENT_TRUE);
}

static void test_stack_holds_exactly_its_depth(void)
{
	uint8_t code[2 * (AGENT_STACK_DEPTH + 1) + 1];
	size_t len = 0;

	for (unsigned i = 0; i < AGENT_STACK_DEPTH; i++) {
		code[len++] = CONST8;
		code[len++] = 1;
	}
	code[len] = END;
	CHECK_EQ(eval_bytes(code, len + 1), AGENT_TRUE);
	code[len++] = CONST8;
	code[len++] = 1;
	code[len++] = END;
	CHECK_EQ(eval_bytes(code, len), AGENT_UNKNOWN);
}

static void test_stack_overflow_from_dup_and_pick_is_unknown(void)
{
	uint8_t code[2 + AGENT_STACK_DEPTH + 1];
	size_t len = 0;

	code[len++] = CONST8;
	code[len++] = 1;
	for (unsigned i = 0; i < AGENT_STACK_DEPTH; i++)
		code[len++] = DUP;
	code[len++] = END;
	CHECK_EQ(eval_bytes(code, len), AGENT_UNKNOWN);
	code[len - 2] = END; /* one dup fewer: exactly full */
	CHECK_EQ(eval_bytes(code, len - 1), AGENT_TRUE);
}

static void test_stack_underflow_is_unknown(void)
{
	CHECK_EQ(EVAL(END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, ADD, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(POP, CONST8, 1, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(DUP, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, SWAP, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, CONST8, 1, ROT, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(LOG_NOT, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(IF_GOTO, 0, 0, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(REF8, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(EXT, 8, END), AGENT_UNKNOWN);
}

static void test_dup_swap_pop_pick_and_rot_reorder_the_stack(void)
{
	CHECK(COMPUTES(14, CONST8, 7, DUP, ADD));
	CHECK(COMPUTES(7, CONST8, 10, CONST8, 3, SWAP, SUB, CONST8, 0, SWAP, SUB));
	CHECK(COMPUTES(10, CONST8, 10, CONST8, 3, POP));
	/* pick 0 is dup; pick 2 reaches two below the top. */
	CHECK(COMPUTES(3, CONST8, 3, PICK, 0, POP));
	CHECK(COMPUTES(1, CONST8, 1, CONST8, 2, CONST8, 3, PICK, 2));
	CHECK(COMPUTES(3, CONST8, 1, CONST8, 2, CONST8, 3, PICK, 2, POP));
	/* rot: a b c => c a b. Read back top-down as b, a, c by folding the
	 * three into b*100 + a*10 + c with a=1, b=2, c=3. */
	CHECK(COMPUTES(213, CONST8, 1, CONST8, 2, CONST8, 3, ROT,
		       CONST8, 100, MUL, SWAP, CONST8, 10, MUL, ADD, ADD));
}

static void test_pick_beyond_the_stack_is_unknown(void)
{
	CHECK_EQ(EVAL(CONST8, 1, CONST8, 2, PICK, 2, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(PICK, 0, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, PICK, 255, END), AGENT_UNKNOWN);
}

static void test_reg_reads_i386_eax_as_its_low_32_bits(void)
{
	CHECK(computes_on(TARGET_ARCH_I386, CODE(REG, 0, 0), 5));
	CHECK(computes_on(TARGET_ARCH_I386, CODE(REG, 0, 1), 0xffffffff)); /* ecx */
	CHECK(computes_on(TARGET_ARCH_I386, CODE(REG, 0, 3), 0x55667788)); /* ebx */
	CHECK(computes_on(TARGET_ARCH_I386, CODE(REG, 0, 8), 0x7c00));     /* eip */
}

static void test_reg_reads_x86_64_registers_whole(void)
{
	CHECK(computes_on(TARGET_ARCH_X86_64, CODE(REG, 0, 0), 0xdeadbeef00000005ull));
	CHECK(computes_on(TARGET_ARCH_X86_64, CODE(REG, 0, 1), 0x1122334455667788ull));
	CHECK(computes_on(TARGET_ARCH_X86_64, CODE(REG, 0, 16), 0x7c00)); /* rip */
}

static void test_reg_pc_in_real_mode_is_linear(void)
{
	CHECK(computes_on(TARGET_ARCH_I8086, CODE(REG, 0, 8), 0x17c00));
}

static void test_reg_of_fpu_or_unknown_number_is_unknown(void)
{
	struct target_regs regs = sample_regs();

	CHECK_EQ(eval_on(TARGET_ARCH_I386, &regs, CODE(REG, 0, 16, END)), AGENT_UNKNOWN);
	CHECK_EQ(eval_on(TARGET_ARCH_X86_64, &regs, CODE(REG, 0, 24, END)), AGENT_UNKNOWN);
	CHECK_EQ(eval_on(TARGET_ARCH_X86_64, &regs, CODE(REG, 0, 40, END)), AGENT_UNKNOWN);
	CHECK_EQ(eval_on(TARGET_ARCH_X86_64, &regs, CODE(REG, 0x27, 0x0f, END)), AGENT_UNKNOWN);
	CHECK_EQ(eval_on(TARGET_ARCH_X86_64, &regs, CODE(REG, 0xff, 0xff, END)), AGENT_UNKNOWN);
	CHECK_EQ(eval_on(TARGET_ARCH_X86_64, NULL, CODE(REG, 0, 0, END)), AGENT_UNKNOWN);
}

static void test_ref8_to_ref64_read_little_endian_memory(void)
{
	reset_memory();
	CHECK(COMPUTES(0xa0, CONST16, 0x10, 0x00, REF8));
	CHECK(COMPUTES(0xa1a0, CONST16, 0x10, 0x00, REF16));
	CHECK(COMPUTES(0xa3a2a1a0, CONST16, 0x10, 0x00, REF32));
	CHECK(COMPUTES(0xa7a6a5a4a3a2a1a0ull, CONST16, 0x10, 0x00, REF64));
	/* Unaligned, and right up to the last byte. */
	CHECK(COMPUTES(0xa4a3a2a1, CONST16, 0x10, 0x01, REF32));
	CHECK(COMPUTES(0xbfbebdbcbbbab9b8ull, CONST16, 0x10, 0x18, REF64));
	CHECK(COMPUTES(0xbf, CONST16, 0x10, 0x1f, REF8));
}

static void test_ref_outside_memory_is_unknown(void)
{
	reset_memory();
	CHECK_EQ(EVAL(CONST16, 0x0f, 0xff, REF8, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST16, 0x10, 0x20, REF8, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(PUSH64(-1), REF64, END), AGENT_UNKNOWN);
}

static void test_ref_cut_short_by_the_end_of_memory_is_unknown(void)
{
	reset_memory();
	CHECK_EQ(EVAL(CONST16, 0x10, 0x1f, REF16, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST16, 0x10, 0x1d, REF32, END), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST16, 0x10, 0x19, REF64, END), AGENT_UNKNOWN);
}

static void test_ref_without_a_memory_reader_is_unknown(void)
{
	static const struct target_ops no_ops = { 0 };
	struct target no_memory = { &no_ops, NULL };
	struct target_regs regs = sample_regs();
	struct agent_expr expr = { 4, { CONST8, 0, REF8, END } };

	CHECK_EQ(agent_eval(&expr, &no_memory, TARGET_ARCH_X86_64, &regs), AGENT_UNKNOWN);
	CHECK_EQ(agent_eval(&expr, NULL, TARGET_ARCH_X86_64, &regs), AGENT_UNKNOWN);
}

static void test_unsupported_opcodes_are_unknown(void)
{
	/* float, trace, trace_quick, ref_float..d_to_l, getv, setv, tracev,
	 * tracenz, trace16, the 0x31 gap, printf, and bytes gdb never
	 * assigned. Each has three items beneath it and `end`s after it, so
	 * an interpreter that skipped it, or took it with its operands and
	 * popped up to two items, would answer TRUE. */
	static const uint8_t unsupported[] = {
		0x00, 0x01, 0x0c, 0x0d, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x2c, 0x2d, 0x2e,
		0x2f, 0x30, 0x31, 0x34, 0x35, 0x80, 0xff,
	};

	for (size_t i = 0; i < sizeof(unsupported); i++) {
		uint8_t code[] = { CONST8, 1, CONST8, 1, CONST8, 1, unsupported[i],
				   END, END, END, END, END };
		enum agent_result r = eval_bytes(code, sizeof(code));

		if (r != AGENT_UNKNOWN)
			printf("  opcode 0x%02x gave %d\n", unsupported[i], (int)r);
		CHECK_EQ(r, AGENT_UNKNOWN);
	}
}

static void test_bytecode_without_end_is_unknown(void)
{
	CHECK_EQ(EVAL(CONST8, 1), AGENT_UNKNOWN);
	CHECK_EQ(EVAL(CONST8, 1, CONST8, 2, ADD), AGENT_UNKNOWN);
	CHECK_EQ(eval_bytes(NULL, 0), AGENT_UNKNOWN);
}

static void test_length_beyond_the_buffer_is_unknown(void)
{
	struct agent_expr expr;
	struct target_regs regs = sample_regs();

	memset(&expr, END, sizeof(expr.code));
	expr.code[0] = CONST8;
	expr.code[1] = 1;
	expr.len = AGENT_MAX_BYTECODE + 1;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_X86_64, &regs), AGENT_UNKNOWN);
	expr.len = AGENT_MAX_BYTECODE;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_X86_64, &regs), AGENT_TRUE);
	CHECK_EQ(agent_eval(NULL, &fake_target, TARGET_ARCH_X86_64, &regs), AGENT_UNKNOWN);
}

/* What gdb 13 sends for `break f if $ebx == 20000` on i386:
 * reg 3; const16 20000; equal; end. */
static void test_gdb_condition_on_ebx_holds_only_at_20000(void)
{
	struct target_regs regs = sample_regs();
	struct agent_expr expr;
	const char hex[] = "260003234e201327";

	CHECK_EQ(agent_parse_hex(&expr, hex, strlen(hex), 8), 0);
	regs.rbx = 20000;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_TRUE);
	regs.rbx = 20001;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_FALSE);
	/* The high half of rbx is not part of ebx. */
	regs.rbx = 0xffffffff00000000ull | 20000;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_TRUE);
}

/* `break f if n == 5000` with int n at [ebp-8]: reg 5 (ebp); const8 8;
 * sub; ref32; ext 32; const16 5000; equal; end. */
static void test_gdb_condition_on_a_local_reads_it_through_ebp(void)
{
	static const uint8_t code[] = { REG, 0, 5, CONST8, 8, SUB, REF32, EXT, 32,
					CONST16, 0x13, 0x88, EQUAL, END };
	struct target_regs regs = sample_regs();
	struct agent_expr expr;

	reset_memory();
	expr.len = sizeof(code);
	memcpy(expr.code, code, sizeof(code));
	memcpy(memory.bytes + 8, (const uint8_t[]){ 0x88, 0x13, 0, 0 }, 4);
	regs.rbp = MEMORY_BASE + 16;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_TRUE);
	memcpy(memory.bytes + 8, (const uint8_t[]){ 0x89, 0x13, 0, 0 }, 4);
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_FALSE);
	/* ebp pointing where the local is unmapped: gdb decides. */
	regs.rbp = 0x100;
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_UNKNOWN);
}

/* `n == -1` for the same local: gdb sign-extends the constant with ext. */
static void test_gdb_condition_on_a_negative_local_compares_sign_extended(void)
{
	static const uint8_t code[] = { REG, 0, 5, CONST8, 8, SUB, REF32, EXT, 32,
					CONST8, 0xff, EXT, 8, EQUAL, END };
	struct target_regs regs = sample_regs();
	struct agent_expr expr;

	reset_memory();
	expr.len = sizeof(code);
	memcpy(expr.code, code, sizeof(code));
	memset(memory.bytes + 8, 0xff, 4);
	CHECK_EQ(agent_eval(&expr, &fake_target, TARGET_ARCH_I386, &regs), AGENT_TRUE);
}

static void test_parse_hex_decodes_either_case(void)
{
	struct agent_expr expr;

	CHECK_EQ(agent_parse_hex(&expr, "22fFaB27", 8, 4), 0);
	CHECK_EQ(expr.len, 4);
	CHECK_EQ(expr.code[0], 0x22);
	CHECK_EQ(expr.code[1], 0xff);
	CHECK_EQ(expr.code[2], 0xab);
	CHECK_EQ(expr.code[3], 0x27);
}

static void test_parse_hex_rejects_malformed_input_and_keeps_the_old_expression(void)
{
	struct agent_expr expr = { 2, { CONST8, 1 } };
	static char long_hex[2 * (AGENT_MAX_BYTECODE + 1)];

	CHECK_EQ(agent_parse_hex(&expr, "2227", 3, 2), -EINVAL);  /* odd length */
	CHECK_EQ(agent_parse_hex(&expr, "2227", 4, 1), -EINVAL);  /* X1 but 2 bytes */
	CHECK_EQ(agent_parse_hex(&expr, "2227", 4, 3), -EINVAL);  /* X3 but 2 bytes */
	CHECK_EQ(agent_parse_hex(&expr, "22g7", 4, 2), -EINVAL);
	CHECK_EQ(agent_parse_hex(&expr, "22 7", 4, 2), -EINVAL);
	CHECK_EQ(agent_parse_hex(&expr, "-227", 4, 2), -EINVAL);
	CHECK_EQ(agent_parse_hex(&expr, "22\0" "7", 4, 2), -EINVAL);
	/* byte_len whose double would wrap size_t. */
	CHECK_EQ(agent_parse_hex(&expr, "2227", 4, SIZE_MAX / 2 + 3), -EINVAL);
	memset(long_hex, '0', sizeof(long_hex));
	CHECK_EQ(agent_parse_hex(&expr, long_hex, sizeof(long_hex), AGENT_MAX_BYTECODE + 1),
		 -EINVAL);
	CHECK_EQ(expr.len, 2);
	CHECK_EQ(expr.code[0], CONST8);
	CHECK_EQ(expr.code[1], 1);
	/* The longest expression fits. */
	CHECK_EQ(agent_parse_hex(&expr, long_hex, 2 * AGENT_MAX_BYTECODE, AGENT_MAX_BYTECODE),
		 0);
	CHECK_EQ(expr.len, AGENT_MAX_BYTECODE);
}

int main(void)
{
	RUN(test_end_reports_nonzero_as_true_and_zero_as_false);
	RUN(test_add_sub_mul_wrap_modulo_2_to_the_64);
	RUN(test_signed_division_truncates_toward_zero);
	RUN(test_unsigned_division_treats_every_bit_as_magnitude);
	RUN(test_division_by_zero_is_unknown);
	RUN(test_int64_min_divided_by_minus_one_wraps_without_trapping);
	RUN(test_shifts_by_64_or_more_are_defined);
	RUN(test_signed_right_shift_copies_the_sign_bit);
	RUN(test_less_signed_and_unsigned_disagree_on_negative_values);
	RUN(test_log_not_and_bitwise_operators);
	RUN(test_ext_sign_extends_from_n_bits);
	RUN(test_zero_ext_keeps_only_the_low_n_bits);
	RUN(test_constants_are_big_endian_and_not_sign_extended);
	RUN(test_truncated_immediates_are_unknown);
	RUN(test_if_goto_branches_only_on_nonzero);
	RUN(test_goto_jumps_to_an_offset_from_the_start);
	RUN(test_branch_outside_the_bytecode_is_unknown);
	RUN(test_infinite_loop_ends_as_unknown_within_the_step_budget);
	RUN(test_bounded_loop_runs_to_completion);
	RUN(test_stack_holds_exactly_its_depth);
	RUN(test_stack_overflow_from_dup_and_pick_is_unknown);
	RUN(test_stack_underflow_is_unknown);
	RUN(test_dup_swap_pop_pick_and_rot_reorder_the_stack);
	RUN(test_pick_beyond_the_stack_is_unknown);
	RUN(test_reg_reads_i386_eax_as_its_low_32_bits);
	RUN(test_reg_reads_x86_64_registers_whole);
	RUN(test_reg_pc_in_real_mode_is_linear);
	RUN(test_reg_of_fpu_or_unknown_number_is_unknown);
	RUN(test_ref8_to_ref64_read_little_endian_memory);
	RUN(test_ref_outside_memory_is_unknown);
	RUN(test_ref_cut_short_by_the_end_of_memory_is_unknown);
	RUN(test_ref_without_a_memory_reader_is_unknown);
	RUN(test_unsupported_opcodes_are_unknown);
	RUN(test_bytecode_without_end_is_unknown);
	RUN(test_length_beyond_the_buffer_is_unknown);
	RUN(test_gdb_condition_on_ebx_holds_only_at_20000);
	RUN(test_gdb_condition_on_a_local_reads_it_through_ebp);
	RUN(test_gdb_condition_on_a_negative_local_compares_sign_extended);
	RUN(test_parse_hex_decodes_either_case);
	RUN(test_parse_hex_rejects_malformed_input_and_keeps_the_old_expression);
	return check_summary();
}
