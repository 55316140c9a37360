/* kvm/insn_complete.h — finishing, in userspace, the few instructions a
 * host's emulator refuses (on PVM: 32-bit `iret`, `int n`, `int3`, `into`
 * in protected and long mode), exactly as the Intel SDM describes them:
 * IDT gates, privilege changes with the stack from the TSS, IST stacks,
 * iret to the same or an outer privilege level.
 *
 * Pure: registers and a memory-access callback in, new registers out. No
 * ioctls, no allocation. A case it does not handle (a task gate, a return
 * to virtual-8086 mode, a check that would fault) is refused with a reason
 * naming the instruction: the caller reports a crash rather than run the
 * guest wrongly. */
#ifndef KVMSTUB_INSN_COMPLETE_H
#define KVMSTUB_INSN_COMPLETE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Guest memory by linear address, as the guest sees it. Both return 0, or
 * -EFAULT when any byte is unmapped or outside RAM (then nothing is
 * written). */
struct insn_memory {
	void *ctx;
	int (*read)(void *ctx, uint64_t linear, void *buf, size_t len);
	int (*write)(void *ctx, uint64_t linear, const void *buf, size_t len);
};

enum insn_kind {
	INSN_OTHER,
	INSN_INT,   /* int imm8 (CD ib); int3 (CC) and into (CE) as vector 3, 4 */
	INSN_IRET,  /* iret / iretd / iretq (CF) */
};

enum insn_cpu_mode { INSN_MODE_REAL, INSN_MODE_PROTECTED, INSN_MODE_COMPAT, INSN_MODE_LONG64 };

struct insn_decoded {
	enum insn_kind kind;
	unsigned length;       /* bytes, prefixes included */
	unsigned operand_size; /* 2, 4 or 8 */
	uint8_t vector;        /* INSN_INT */
	uint8_t opcode;
	bool lock;             /* a lock prefix: #UD, never completed */
	const char *name;      /* "int", "int3", "into", "iret", "iretd", "iretq" */
};

/* The mode the CPU is in, from its segment and control registers. */
enum insn_cpu_mode insn_cpu_mode(const struct kvm_sregs *sregs);

/* Decodes the instruction in bytes[0..len) for mode; cs_db is the code
 * segment's D bit (32-bit default operand size outside 64-bit mode).
 * Returns 0 with *out filled (kind INSN_OTHER for anything this module
 * does not complete), or -EINVAL when the bytes end before the
 * instruction does. */
int insn_decode(const uint8_t *bytes, size_t len, enum insn_cpu_mode mode, bool cs_db,
		struct insn_decoded *out);

/* Completes the instruction at cs:rip. Returns 0 with *regs and *sregs
 * set to the state after it (and guest memory written: the frame pushed,
 * accessed bits set); otherwise -ENOTSUP (not an instruction or a case we
 * complete) or -EFAULT (its memory is not reachable), *regs and *sregs
 * untouched, guest memory untouched, and why[] naming the instruction and
 * the reason. */
int insn_complete(struct kvm_regs *regs, struct kvm_sregs *sregs,
		  const struct insn_memory *mem, char *why, size_t why_size);

#endif
