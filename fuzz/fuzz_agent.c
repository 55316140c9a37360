/* fuzz/fuzz_agent.c — libFuzzer harness for the agent-expression
 * interpreter (stub/agent.c), the one piece of the stub that runs code gdb
 * sends. It may not touch KVM; every broken promise aborts.
 *
 * Input: the raw bytecode (cut to AGENT_MAX_BYTECODE), evaluated under each
 * register layout against a fake target whose memory is 64 bytes at 0x1000
 * and which gives back short reads at its end. The same input is also
 * offered to agent_parse_hex as hex text, and evaluated when it parses.
 * Checks: the result is one of the three answers; evaluation is a pure
 * function of its inputs (twice gives the same answer); a parse succeeds
 * only for exactly 2 * byte_len hex digits and decodes them.
 */
#include "stub/agent.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MEMORY_BASE 0x1000u
#define MEMORY_SIZE 64u

struct fuzz_memory {
	uint8_t bytes[MEMORY_SIZE];
};

static void require(int promise)
{
	if (!promise)
		abort();
}

/* The target's contract: the readable prefix, or -EFAULT when the first
 * byte is unmapped. */
static long fuzz_read_mem(void *impl, uint64_t addr, void *buf, size_t len)
{
	const struct fuzz_memory *mem = impl;
	size_t offset, n;

	if (addr < MEMORY_BASE || addr - MEMORY_BASE >= MEMORY_SIZE)
		return -EFAULT;
	offset = (size_t)(addr - MEMORY_BASE);
	n = MEMORY_SIZE - offset < len ? MEMORY_SIZE - offset : len;
	memcpy(buf, mem->bytes + offset, n);
	return (long)n;
}

static const struct target_ops fuzz_ops = { .read_mem = fuzz_read_mem };

static void fuzz_regs(struct target_regs *regs)
{
	memset(regs, 0, sizeof(*regs));
	regs->rax = 0x8000000000000000ull;
	regs->rbx = 20000;
	regs->rcx = UINT64_MAX;
	regs->rbp = MEMORY_BASE + 16;
	regs->rsp = MEMORY_BASE + 8;
	regs->rip = 0x7c00;
	regs->cs.base = 0xffff0;
}

static void fuzz_eval_everywhere(const struct agent_expr *expr, const struct target *target,
				 const struct target_regs *regs)
{
	static const enum target_arch arches[] = {
		TARGET_ARCH_I8086, TARGET_ARCH_I386, TARGET_ARCH_X86_64,
	};

	for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
		enum agent_result first = agent_eval(expr, target, arches[i], regs);
		enum agent_result again = agent_eval(expr, target, arches[i], regs);

		require(first == AGENT_FALSE || first == AGENT_TRUE || first == AGENT_UNKNOWN);
		require(first == again);
	}
}

static int fuzz_hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

static void fuzz_parse_hex(const uint8_t *data, size_t size, const struct target *target,
			   const struct target_regs *regs)
{
	struct agent_expr expr;
	size_t byte_len = size / 2;
	int all_hex = 1;
	int rc;

	for (size_t i = 0; i < size; i++)
		all_hex &= fuzz_hex_value(data[i]) >= 0;
	memset(&expr, 0x5a, sizeof(expr));
	rc = agent_parse_hex(&expr, (const char *)data, size, byte_len);
	require(rc == 0 || rc == -EINVAL);
	require((rc == 0) == (all_hex && size % 2 == 0 && byte_len <= AGENT_MAX_BYTECODE));
	if (rc != 0)
		return;
	require(expr.len == byte_len);
	for (size_t i = 0; i < byte_len; i++)
		require(expr.code[i] == (fuzz_hex_value(data[2 * i]) << 4 |
					 fuzz_hex_value(data[2 * i + 1])));
	fuzz_eval_everywhere(&expr, target, regs);
	/* A byte_len that disagrees with the text is always refused. */
	require(agent_parse_hex(&expr, (const char *)data, size, byte_len + 1) == -EINVAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_memory memory;
	struct target target = { &fuzz_ops, &memory };
	struct target_regs regs;
	struct agent_expr expr;

	for (unsigned i = 0; i < MEMORY_SIZE; i++)
		memory.bytes[i] = (uint8_t)(i * 37 + 11);
	fuzz_regs(&regs);

	expr.len = size < AGENT_MAX_BYTECODE ? size : AGENT_MAX_BYTECODE;
	if (expr.len)
		memcpy(expr.code, data, expr.len);
	fuzz_eval_everywhere(&expr, &target, &regs);
	/* Without memory or registers, every answer is still one of three. */
	require(agent_eval(&expr, NULL, TARGET_ARCH_X86_64, NULL) <= AGENT_UNKNOWN);

	fuzz_parse_hex(data, size, &target, &regs);
	return 0;
}
