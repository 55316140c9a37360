/* stub/rsp.h — the GDB remote protocol commands: one packet in, one reply
 * (or a resume request) out, against the target interface only.
 *
 * No sockets and no KVM: server.c moves the bytes, kvm/ is reached through
 * struct target. That makes this module testable on a fake target. */
#ifndef KVMSTUB_RSP_H
#define KVMSTUB_RSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub/agent.h"
#include "stub/packet.h"
#include "stub/target.h"
#include "stub/textbuf.h"

/* The most threads (vCPUs) a session serves: APIC ids 0..254. */
#define RSP_MAX_THREADS 255

enum rsp_action {
	RSP_ACTION_REPLY,   /* send s->reply */
	RSP_ACTION_RESUME,  /* run the target as *resume says, then report */
	RSP_ACTION_DETACH,  /* send s->reply, drop every point, let the guest run */
	RSP_ACTION_KILL,    /* end kvmstub (send s->reply first if non-empty) */
	RSP_ACTION_CONSOLE, /* send s->reply, then rsp_console_next until false */
	RSP_ACTION_NONE,    /* no reply (k in extended mode): only the ack */
};

/* Conditions gdb attached to one breakpoint (Z0/Z1 cond_list). */
struct rsp_condition_set {
	enum target_point kind;
	uint64_t addr;
	unsigned count;
	struct agent_expr exprs[AGENT_MAX_CONDITIONS];
};

struct rsp_session {
	struct target target;
	enum target_arch arch;
	bool noack;
	bool noack_requested; /* switch once the OK reply has gone out */

	/* Threads (vCPUs) 1..nthreads. Hg picks the one registers and memory
	 * are read for, Hc the one a step is for; every stop makes the thread
	 * that stopped both. */
	unsigned nthreads;
	unsigned g_thread, c_thread;

	/* What the current stop looks like (for g_thread); refetched after
	 * every resume and thread switch. */
	struct target_regs regs;
	struct target_fpu fpu;
	bool regs_valid, fpu_valid;
	struct target_stop last_stop;

	/* m/M/X/x address guest-physical memory (Qqemu.PhyMemMode:1). */
	bool phys_mode;
	/* Extended mode ('!'): the guest can be killed and run again. */
	bool extended;
	bool guest_dead;      /* killed (vKill) or ended, waiting for vRun */
	bool guest_killed;    /* dead because gdb killed it */
	int dead_status;      /* the exit status when it ended by itself */

	/* Monitor output not yet sent as O packets. */
	struct textbuf console;
	size_t console_sent;
	bool console_done;

	/* One line for kvmstub's stderr that the last packet left (a refused
	 * breakpoint says why: gdb 13 shows no text for a Z error); the
	 * server prints it and clears it. */
	char notice[256];

	/* Breakpoints with target-side conditions. */
	struct rsp_condition_set *conds;
	size_t nconds, conds_cap;

	/* The reply is built two bytes into reply_frame, so one that needs
	 * no escaping (hex: every m and g reply) is framed where it lies:
	 * "+$" before it, "#xx" after, one send, no copy. */
	uint8_t *reply;
	size_t reply_len;
	bool reply_plain; /* no byte needs escaping */
	uint8_t reply_frame[2 + RSP_MAX_PAYLOAD + 4];
	size_t xml_len;
	char xml[12288];
	/* qXfer:threads:read, built when gdb asks for offset 0. */
	size_t threads_xml_len;
	char threads_xml[32768];
};

/* Sets up a session for a newly connected gdb. The first stop gdb asks
 * about is SIGTRAP, or SIGINT when connecting stopped a running guest. */
void rsp_session_init(struct rsp_session *s, struct target target, bool stopped_running_guest);
void rsp_session_destroy(struct rsp_session *s);

/* Handles one packet payload. On RSP_ACTION_RESUME *resume says how. */
enum rsp_action rsp_handle_packet(struct rsp_session *s, const uint8_t *payload,
				  size_t len, struct target_resume *resume);

/* After RSP_ACTION_CONSOLE: builds the next reply (an O packet, then the
 * final OK) into s->reply; false when everything has been sent. */
bool rsp_console_next(struct rsp_session *s);

/* The guest ended (W reply sent): in extended mode the session goes on,
 * waiting for vRun; returns true then. */
bool rsp_guest_ended(struct rsp_session *s, int status);

/* After a resume: true if this stop must reach gdb, false if it was a
 * breakpoint whose target-side condition is false (resume again). */
bool rsp_stop_is_reported(struct rsp_session *s, const struct target_stop *stop);

/* Builds the stop reply (T or W packet) for stop into s->reply and
 * remembers it for '?'. TARGET_STOP_INTERRUPTED is a stop gdb asked for
 * (Ctrl-C): SIGINT. */
void rsp_stop_reply(struct rsp_session *s, const struct target_stop *stop);

/* The reply telling gdb kvmstub itself was ended by host signal signo
 * (X packet: terminated by SIGINT or SIGTERM). */
void rsp_terminated_reply(struct rsp_session *s, int signo);

/* A console output packet (O and hex) carrying text. */
void rsp_output_reply(struct rsp_session *s, const char *text);

/* An error reply (E and two hex digits) for a negative errno. */
void rsp_error_reply(struct rsp_session *s, int err);

#endif
