/* stub/server.h — where gdb connects: the listening socket, one session at
 * a time, and running the guest between sessions.
 *
 * Single-threaded by design: the step and breakpoint path never crosses a
 * thread. The sockets raise SIGIO, which interrupts KVM_RUN, so Ctrl-C and
 * new connections are seen while the guest runs without polling. */
#ifndef KVMSTUB_SERVER_H
#define KVMSTUB_SERVER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "stub/exit_status.h"
#include "stub/target.h"

struct server_config {
	bool unix_socket;
	const char *host;  /* TCP */
	uint16_t port;     /* TCP */
	const char *path;  /* unix */
	bool wait_for_gdb; /* the guest waits before its first instruction */
};

/* How a run of kvmstub ended: the exit status and, for failures, the
 * line to print. */
struct run_outcome {
	int status;
	char message[256];
};

/* Signals that interrupt the vCPU and waits: block them, install the
 * handlers. *run_mask receives the mask to use while the guest runs
 * (and while waiting for I/O). also_blocked (0 for none) is blocked
 * everywhere, for the machine to take itself. Called first thing, so a
 * SIGTERM during start-up is not fatal but ends the run cleanly. */
int signals_setup(sigset_t *run_mask, int also_blocked);
/* The SIGINT/SIGTERM that asked us to stop, or 0. */
int signals_stop_requested(void);

/* Runs the guest with no debugger until it ends. */
void run_without_gdb(struct target target, struct run_outcome *outcome);

/* Listens, serves gdb sessions and runs the guest until it ends or
 * kvmstub is told to stop. Returns -errno (message in outcome) if the
 * listener cannot be set up. */
int server_run(const struct server_config *config, struct target target,
	       const sigset_t *run_mask, struct run_outcome *outcome);

#endif
