/* stub/agent.h — gdb agent-expression bytecode, as gdb sends it in the
 * cond_list of Z0/Z1 packets, evaluated in the stub so a conditional
 * breakpoint never leaves kvmstub until its condition holds.
 *
 * Bounded: a step budget and a fixed stack; anything the interpreter
 * cannot do (an unknown opcode, a memory fault, a trace opcode) yields
 * AGENT_UNKNOWN and the stop is reported so gdb evaluates it itself. */
#ifndef KVMSTUB_AGENT_H
#define KVMSTUB_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "stub/target.h"

#define AGENT_MAX_BYTECODE 1024
#define AGENT_MAX_CONDITIONS 4
#define AGENT_STACK_DEPTH 64
#define AGENT_MAX_STEPS 100000

struct agent_expr {
	size_t len;
	uint8_t code[AGENT_MAX_BYTECODE];
};

enum agent_result { AGENT_FALSE = 0, AGENT_TRUE = 1, AGENT_UNKNOWN = 2 };

/* Evaluates one expression at a stop: registers come from regs (gdb
 * numbering of arch's layout, see stub/regs.h), memory through target.
 * The expression's value (top of stack at `end`) non-zero is TRUE. */
enum agent_result agent_eval(const struct agent_expr *expr, const struct target *target,
			     enum target_arch arch, const struct target_regs *regs);

/* Parses gdb's hex-encoded bytecode (the part after "X<len>,"), returning 0
 * or -EINVAL when the hex is malformed or longer than AGENT_MAX_BYTECODE. */
int agent_parse_hex(struct agent_expr *expr, const char *hex, size_t hex_len,
		    size_t byte_len);

#endif
