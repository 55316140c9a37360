/* stub/regs.h — register layouts gdb sees, their target descriptions, and
 * the byte images of g/G/p/P packets. Pure: no I/O. */
#ifndef KVMSTUB_REGS_H
#define KVMSTUB_REGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub/target.h"

/* Bytes in the largest g packet image of any layout. */
#define REGS_MAX_BYTES 1024

/* How many registers the layout of `arch` has. */
unsigned regs_count(enum target_arch arch);

/* gdb numbers of the registers a stop reply expedites. */
unsigned regs_pc_number(enum target_arch arch);
unsigned regs_sp_number(enum target_arch arch);
unsigned regs_fp_number(enum target_arch arch);

/* Whether register n lives in the x87/SSE state (needs get_fpu). */
bool regs_is_fpu(enum target_arch arch, unsigned n);

/* Wire size of register n in bytes, 0 if there is no such register. */
unsigned regs_size(enum target_arch arch, unsigned n);

/* Writes register n's wire bytes (target byte order) to out; returns the
 * size, 0 for no such register. fpu may be NULL for non-FPU registers. */
unsigned regs_get(enum target_arch arch, unsigned n, const struct target_regs *regs,
		  const struct target_fpu *fpu, uint8_t *out);

/* Sets register n from len wire bytes; returns 0, or -EINVAL for no
 * such register or a wrong length. */
int regs_set(enum target_arch arch, unsigned n, struct target_regs *regs,
	     struct target_fpu *fpu, const uint8_t *in, size_t len);

/* The whole g image; returns its length. */
size_t regs_get_all(enum target_arch arch, const struct target_regs *regs,
		    const struct target_fpu *fpu, uint8_t *out);
/* The length of the whole g image. */
size_t regs_all_size(enum target_arch arch);

/* The target description (target.xml) for arch, NUL-terminated in buf.
 * Returns its length, or 0 if buf is too small. */
size_t regs_target_xml(enum target_arch arch, char *buf, size_t size);

#endif
