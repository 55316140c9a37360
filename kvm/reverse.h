/* kvm/reverse.h — reverse execution on the KVM vCPU: recording (snapshots
 * and the input log, kept in kvm/history.c) and replay to an exact
 * instruction position, behind the target's resume.
 *
 * A position is KVM's per-vCPU `insn_emulation` statistic minus an
 * offset: on PVM it counts every ring-0 guest instruction exactly at every
 * exit and at every signal (measured; a `rep` string instruction counts
 * once per 1024 iterations plus once when it ends, identically whether
 * stepped or run). Hosts without that counter cannot record (for now).
 * Only the half of kvm/ that already issues ioctls calls these. */
#ifndef KVMSTUB_REVERSE_H
#define KVMSTUB_REVERSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvm/vcpu.h"

#define REVERSE_DEFAULT_LIMIT (256ULL << 20)

struct reverse_config {
	uint64_t limit;      /* bytes of history (base RAM copy not counted) */
	bool perturb_replay; /* test only: replay changes a register, to be caught */
	bool by_steps;       /* single-step everything even where the counter exists */
};

/* Attaches reverse execution to kt (kt->rev). Recording starts with
 * reverse_start. Returns 0 or a negative errno with kt->m->error set. */
int reverse_attach(struct kvm_target *kt, const struct reverse_config *config);
void reverse_detach(struct kvm_target *kt);

/* The seam's record op: does what `monitor record` asked (stub/monitor.c
 * parsed it) and puts the reply for gdb in out. Returns 0, or a negative
 * errno with the reason in out. */
int reverse_command(void *target, enum target_record_request request, char *out,
		    size_t outlen);
/* Starts recording now (--record). */
int reverse_start(struct reverse *r);
/* Stops recording and drops the history (back to the present first). */
int reverse_command_off(struct reverse *r);
bool reverse_is_recording(const struct reverse *r);

/* ---- hooks for kvm/run_loop.c and kvm/vcpu_state.c ---- */

/* Takes a resume while recording or in the past. *handled false: the
 * caller runs the guest as usual. */
int reverse_resume(struct reverse *r, const struct target_resume *how,
		   struct target_stop *stop, bool *handled);
/* A port I/O exit: in the past the input comes from the log and output is
 * dropped (*handled set); while recording an IN is logged after the
 * devices answered (call with after = true). -ECANCELED: replay cannot go
 * on here (end of the log, or a divergence). */
int reverse_io(struct reverse *r, bool after, uint16_t port, bool out, uint8_t *data,
	       uint32_t len, bool *handled);
/* A `hlt` breakpoint exit: the counter counted the hlt, which the stop
 * takes back. */
void reverse_uncount_instruction(struct reverse *r);
/* A single step ran (stop says how it ended): counted when recording
 * without the counter. */
void reverse_stepped(struct reverse *r, const struct target_stop *stop);
/* A step split a `rep` instruction to run one iteration. */
void reverse_split_step(struct reverse *r);
/* The host changed guest state (a gdb write, a step split into one
 * iteration): recorded as a snapshot before the guest runs again. */
void reverse_note_host_change(struct reverse *r, uint64_t phys, uint64_t len);
/* Whether gdb may change state now: -EROFS in the past. */
int reverse_may_write(const struct reverse *r);
/* After KVM_RUN ended on a signal: if it was the recording tick on a
 * machine with interrupts, lets a pending one in (one step without
 * KVM_GUESTDBG_BLOCKIRQ) and snapshots the result, which replay restores
 * rather than reproduces. Returns 0 (not a window: the signal is the
 * caller's), 2 (done: run on), 1 (the step stopped: *stop says why) or a
 * negative errno. */
int reverse_window(struct reverse *r, struct target_stop *stop);
/* In the past: a single step must be one KVM step (the counter's unit). */
bool reverse_replaying(const struct reverse *r);

#endif
