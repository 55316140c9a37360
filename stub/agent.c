/* stub/agent.c — gdb's agent-expression bytecode interpreter, for the
 * conditions gdb attaches to Z0/Z1 packets (GDB manual, appendix "Agent
 * Expressions"). Pure: registers come in as a struct, memory through the
 * target's read_mem. It may not allocate, loop without bound, or trust a
 * byte of the bytecode; whatever it cannot do exactly is AGENT_UNKNOWN, so
 * the stub reports the stop and gdb evaluates the condition itself. */
#include "stub/agent.h"

#include <errno.h>
#include <stdbool.h>

#include "stub/regs.h"
#include "stub/hex.h"

/* Opcode numbers as gdb's ax.def assigns them. Only the ones this
 * interpreter executes are named; every other byte (float, ref_float and
 * the other floating-point ops, trace*, getv/setv/tracev, printf, gaps)
 * ends the evaluation as AGENT_UNKNOWN. gdb never emits the trace family
 * or trace state variables for a breakpoint condition. */
enum agent_opcode {
	AGENT_OP_ADD = 0x02,
	AGENT_OP_SUB = 0x03,
	AGENT_OP_MUL = 0x04,
	AGENT_OP_DIV_SIGNED = 0x05,
	AGENT_OP_DIV_UNSIGNED = 0x06,
	AGENT_OP_REM_SIGNED = 0x07,
	AGENT_OP_REM_UNSIGNED = 0x08,
	AGENT_OP_LSH = 0x09,
	AGENT_OP_RSH_SIGNED = 0x0a,
	AGENT_OP_RSH_UNSIGNED = 0x0b,
	AGENT_OP_LOG_NOT = 0x0e,
	AGENT_OP_BIT_AND = 0x0f,
	AGENT_OP_BIT_OR = 0x10,
	AGENT_OP_BIT_XOR = 0x11,
	AGENT_OP_BIT_NOT = 0x12,
	AGENT_OP_EQUAL = 0x13,
	AGENT_OP_LESS_SIGNED = 0x14,
	AGENT_OP_LESS_UNSIGNED = 0x15,
	AGENT_OP_EXT = 0x16,
	AGENT_OP_REF8 = 0x17,
	AGENT_OP_REF16 = 0x18,
	AGENT_OP_REF32 = 0x19,
	AGENT_OP_REF64 = 0x1a,
	AGENT_OP_IF_GOTO = 0x20,
	AGENT_OP_GOTO = 0x21,
	AGENT_OP_CONST8 = 0x22,
	AGENT_OP_CONST16 = 0x23,
	AGENT_OP_CONST32 = 0x24,
	AGENT_OP_CONST64 = 0x25,
	AGENT_OP_REG = 0x26,
	AGENT_OP_END = 0x27,
	AGENT_OP_DUP = 0x28,
	AGENT_OP_POP = 0x29,
	AGENT_OP_ZERO_EXT = 0x2a,
	AGENT_OP_SWAP = 0x2b,
	AGENT_OP_PICK = 0x32,
	AGENT_OP_ROT = 0x33,
};

/* Stack values are 64-bit integers, the widest x86 register: the manual
 * lets an agent use any width as long as it is at least the target's. */
struct agent_machine {
	const struct agent_expr *expr;
	const struct target *target;
	enum target_arch arch;
	const struct target_regs *regs;
	size_t pc;
	unsigned depth;
	uint64_t stack[AGENT_STACK_DEPTH];
};

static bool agent_push(struct agent_machine *m, uint64_t value)
{
	if (m->depth >= AGENT_STACK_DEPTH)
		return false;
	m->stack[m->depth++] = value;
	return true;
}

static bool agent_pop(struct agent_machine *m, uint64_t *value)
{
	if (m->depth == 0)
		return false;
	*value = m->stack[--m->depth];
	return true;
}

/* Pops b (the top) and then a, the order the manual writes "a b => ...". */
static bool agent_pop_pair(struct agent_machine *m, uint64_t *a, uint64_t *b)
{
	return agent_pop(m, b) && agent_pop(m, a);
}

/* Reads an immediate of `width` bytes after the opcode, most significant
 * byte first whatever the target's byte order (the manual's rule for every
 * operand), and moves pc past it. */
static bool agent_fetch_immediate(struct agent_machine *m, unsigned width, uint64_t *value)
{
	uint64_t v = 0;

	if (width > m->expr->len - m->pc)
		return false;
	for (unsigned i = 0; i < width; i++)
		v = (v << 8) | m->expr->code[m->pc + i];
	m->pc += width;
	*value = v;
	return true;
}

/* Two's-complement reinterpretation without the implementation-defined
 * conversion of an out-of-range unsigned value to a signed type. */
static int64_t agent_as_signed(uint64_t v)
{
	if (v <= (uint64_t)INT64_MAX)
		return (int64_t)v;
	return -(int64_t)(~v) - 1;
}

/* C leaves shifts by 64 or more undefined and >> of a negative value
 * implementation-defined; the bytecode's b is any 64-bit value. */
static uint64_t agent_shift_left(uint64_t a, uint64_t count)
{
	return count >= 64 ? 0 : a << count;
}

static uint64_t agent_shift_right_unsigned(uint64_t a, uint64_t count)
{
	return count >= 64 ? 0 : a >> count;
}

static uint64_t agent_shift_right_signed(uint64_t a, uint64_t count)
{
	uint64_t sign_fill = (a >> 63) ? ~(uint64_t)0 : 0;

	if (count >= 64)
		return sign_fill;
	if (count == 0)
		return a;
	return (a >> count) | (sign_fill << (64 - count));
}

/* Signed quotient and remainder, truncating toward zero as C does. The
 * one overflowing case, INT64_MIN / -1, traps on x86 in C; its two's-
 * complement result wraps to INT64_MIN with remainder 0. */
static bool agent_divide_signed(uint64_t a, uint64_t b, bool want_remainder,
				uint64_t *result)
{
	int64_t dividend = agent_as_signed(a);
	int64_t divisor = agent_as_signed(b);

	if (divisor == 0)
		return false;
	if (dividend == INT64_MIN && divisor == -1) {
		*result = want_remainder ? 0 : a;
		return true;
	}
	*result = (uint64_t)(want_remainder ? dividend % divisor : dividend / divisor);
	return true;
}

/* ext n: bits n-1 and up take bit n-1's value. The manual says n at or
 * beyond the stack width changes nothing; n = 0 names no sign bit at all,
 * so it is no expression gdb would send. */
static bool agent_sign_extend(uint64_t a, uint64_t bits, uint64_t *result)
{
	uint64_t sign_bit;

	if (bits == 0)
		return false;
	if (bits >= 64) {
		*result = a;
		return true;
	}
	sign_bit = (uint64_t)1 << (bits - 1);
	a &= ((uint64_t)1 << bits) - 1;
	*result = (a ^ sign_bit) - sign_bit;
	return true;
}

static uint64_t agent_zero_extend(uint64_t a, uint64_t bits)
{
	if (bits >= 64)
		return a;
	return a & (((uint64_t)1 << bits) - 1);
}

/* refN: N/8 bytes at a linear address, in x86's little-endian order. A
 * read that stops short (the rest unmapped) is a fault like the manual's
 * "processor exception": gdb must see the stop and judge it itself. */
static bool agent_read_memory(const struct agent_machine *m, uint64_t addr, unsigned size,
			      uint64_t *value)
{
	uint8_t bytes[8];
	uint64_t v = 0;
	long got;

	if (!m->target || !m->target->ops || !m->target->ops->read_mem)
		return false;
	got = m->target->ops->read_mem(m->target->impl, addr, bytes, size);
	if (got != (long)size)
		return false;
	for (unsigned i = size; i > 0; i--)
		v = (v << 8) | bytes[i - 1];
	*value = v;
	return true;
}

/* reg n: gdb's register numbering of the connection's layout, the value
 * zero-extended. x87/SSE registers would need get_fpu at every stop and do
 * not fit a 64-bit stack slot, so a condition on them is left to gdb. */
static bool agent_read_register(const struct agent_machine *m, uint64_t number,
				uint64_t *value)
{
	uint8_t bytes[16];
	unsigned size;
	uint64_t v = 0;

	if (!m->regs || number >= regs_count(m->arch))
		return false;
	if (regs_is_fpu(m->arch, (unsigned)number))
		return false;
	size = regs_size(m->arch, (unsigned)number);
	if (size == 0 || size > sizeof(uint64_t))
		return false;
	if (regs_get(m->arch, (unsigned)number, m->regs, NULL, bytes) != size)
		return false;
	for (unsigned i = size; i > 0; i--)
		v = (v << 8) | bytes[i - 1];
	*value = v;
	return true;
}

/* Both branch forms take an offset from the start of the bytecode. One
 * that lands outside it cannot be a well-formed expression. */
static bool agent_jump(struct agent_machine *m, uint64_t offset)
{
	if (offset >= m->expr->len)
		return false;
	m->pc = (size_t)offset;
	return true;
}

/* Arithmetic, logic and comparisons: pop a and b, push one result. */
static bool agent_binary(struct agent_machine *m, uint8_t opcode)
{
	uint64_t a, b, r;

	if (!agent_pop_pair(m, &a, &b))
		return false;
	switch (opcode) {
	case AGENT_OP_ADD: r = a + b; break;
	case AGENT_OP_SUB: r = a - b; break;
	case AGENT_OP_MUL: r = a * b; break;
	case AGENT_OP_DIV_SIGNED:
		if (!agent_divide_signed(a, b, false, &r))
			return false;
		break;
	case AGENT_OP_REM_SIGNED:
		if (!agent_divide_signed(a, b, true, &r))
			return false;
		break;
	case AGENT_OP_DIV_UNSIGNED:
		if (b == 0)
			return false;
		r = a / b;
		break;
	case AGENT_OP_REM_UNSIGNED:
		if (b == 0)
			return false;
		r = a % b;
		break;
	case AGENT_OP_LSH: r = agent_shift_left(a, b); break;
	case AGENT_OP_RSH_SIGNED: r = agent_shift_right_signed(a, b); break;
	case AGENT_OP_RSH_UNSIGNED: r = agent_shift_right_unsigned(a, b); break;
	case AGENT_OP_BIT_AND: r = a & b; break;
	case AGENT_OP_BIT_OR: r = a | b; break;
	case AGENT_OP_BIT_XOR: r = a ^ b; break;
	case AGENT_OP_EQUAL: r = a == b; break;
	case AGENT_OP_LESS_SIGNED: r = agent_as_signed(a) < agent_as_signed(b); break;
	case AGENT_OP_LESS_UNSIGNED: r = a < b; break;
	default: return false;
	}
	return agent_push(m, r);
}

/* Everything but the binary operators and end. Returns false for anything
 * that makes the value unknowable: a bad operand, a fault, an opcode this
 * interpreter does not run. */
static bool agent_step(struct agent_machine *m, uint8_t opcode)
{
	uint64_t a, b, c, operand;

	switch (opcode) {
	case AGENT_OP_LOG_NOT:
		return agent_pop(m, &a) && agent_push(m, a == 0);
	case AGENT_OP_BIT_NOT:
		return agent_pop(m, &a) && agent_push(m, ~a);
	case AGENT_OP_EXT:
		return agent_fetch_immediate(m, 1, &operand) && agent_pop(m, &a) &&
		       agent_sign_extend(a, operand, &a) && agent_push(m, a);
	case AGENT_OP_ZERO_EXT:
		return agent_fetch_immediate(m, 1, &operand) && agent_pop(m, &a) &&
		       agent_push(m, agent_zero_extend(a, operand));
	case AGENT_OP_REF8:
	case AGENT_OP_REF16:
	case AGENT_OP_REF32:
	case AGENT_OP_REF64:
		return agent_pop(m, &a) &&
		       agent_read_memory(m, a, 1u << (opcode - AGENT_OP_REF8), &a) &&
		       agent_push(m, a);
	case AGENT_OP_IF_GOTO:
		if (!agent_fetch_immediate(m, 2, &operand) || !agent_pop(m, &a))
			return false;
		return a == 0 || agent_jump(m, operand);
	case AGENT_OP_GOTO:
		return agent_fetch_immediate(m, 2, &operand) && agent_jump(m, operand);
	case AGENT_OP_CONST8:
	case AGENT_OP_CONST16:
	case AGENT_OP_CONST32:
	case AGENT_OP_CONST64:
		return agent_fetch_immediate(m, 1u << (opcode - AGENT_OP_CONST8), &operand) &&
		       agent_push(m, operand);
	case AGENT_OP_REG:
		return agent_fetch_immediate(m, 2, &operand) &&
		       agent_read_register(m, operand, &a) && agent_push(m, a);
	case AGENT_OP_DUP:
		return agent_pop(m, &a) && agent_push(m, a) && agent_push(m, a);
	case AGENT_OP_POP:
		return agent_pop(m, &a);
	case AGENT_OP_SWAP:
		return agent_pop_pair(m, &a, &b) && agent_push(m, b) && agent_push(m, a);
	case AGENT_OP_PICK:
		/* pick 0 is dup; n must name an item that is there. */
		if (!agent_fetch_immediate(m, 1, &operand) || operand >= m->depth)
			return false;
		return agent_push(m, m->stack[m->depth - 1 - operand]);
	case AGENT_OP_ROT:
		/* a b c => c a b: the top sinks to third place. */
		if (!agent_pop(m, &c) || !agent_pop_pair(m, &a, &b))
			return false;
		return agent_push(m, c) && agent_push(m, a) && agent_push(m, b);
	case AGENT_OP_ADD:
	case AGENT_OP_SUB:
	case AGENT_OP_MUL:
	case AGENT_OP_DIV_SIGNED:
	case AGENT_OP_DIV_UNSIGNED:
	case AGENT_OP_REM_SIGNED:
	case AGENT_OP_REM_UNSIGNED:
	case AGENT_OP_LSH:
	case AGENT_OP_RSH_SIGNED:
	case AGENT_OP_RSH_UNSIGNED:
	case AGENT_OP_BIT_AND:
	case AGENT_OP_BIT_OR:
	case AGENT_OP_BIT_XOR:
	case AGENT_OP_EQUAL:
	case AGENT_OP_LESS_SIGNED:
	case AGENT_OP_LESS_UNSIGNED:
		return agent_binary(m, opcode);
	default:
		return false;
	}
}

enum agent_result agent_eval(const struct agent_expr *expr, const struct target *target,
			     enum target_arch arch, const struct target_regs *regs)
{
	struct agent_machine m = {
		.expr = expr, .target = target, .arch = arch, .regs = regs,
	};

	if (!expr || expr->len > AGENT_MAX_BYTECODE)
		return AGENT_UNKNOWN;
	/* The step budget bounds backward gotos; running off the end means
	 * gdb's expression lost its `end`. */
	for (unsigned long steps = 0; steps < AGENT_MAX_STEPS && m.pc < expr->len; steps++) {
		uint8_t opcode = expr->code[m.pc++];
		uint64_t value;

		if (opcode == AGENT_OP_END) {
			if (!agent_pop(&m, &value))
				return AGENT_UNKNOWN;
			return value ? AGENT_TRUE : AGENT_FALSE;
		}
		if (!agent_step(&m, opcode))
			return AGENT_UNKNOWN;
	}
	return AGENT_UNKNOWN;
}

int agent_parse_hex(struct agent_expr *expr, const char *hex, size_t hex_len,
		    size_t byte_len)
{
	/* byte_len is bounded first, so 2 * byte_len cannot overflow. */
	if (!expr || byte_len > AGENT_MAX_BYTECODE || hex_len != 2 * byte_len)
		return -EINVAL;
	if (hex_len && !hex)
		return -EINVAL;
	/* Validate before writing, so a rejected condition leaves *expr as
	 * it was. */
	for (size_t i = 0; i < hex_len; i++)
		if (hex_digit_value(hex[i]) < 0)
			return -EINVAL;
	for (size_t i = 0; i < byte_len; i++)
		expr->code[i] = (uint8_t)(hex_digit_value(hex[2 * i]) << 4 |
					  hex_digit_value(hex[2 * i + 1]));
	expr->len = byte_len;
	return 0;
}
