/* stub/exit_status.h — kvmstub's exit statuses (documented in the README).
 *
 * The exit device owns every odd status ((v << 1) | 1), so kvmstub's own
 * statuses are even. */
#ifndef KVMSTUB_EXIT_STATUS_H
#define KVMSTUB_EXIT_STATUS_H

enum exit_status {
	EXIT_GUEST_HALTED = 0,   /* the guest executed hlt */
	EXIT_USAGE = 2,          /* bad command line */
	EXIT_BAD_IMAGE = 4,      /* the image cannot be loaded */
	EXIT_HOST_FAILURE = 6,   /* KVM missing or failed, socket or stdout trouble */
	EXIT_GUEST_CRASHED = 8,  /* triple fault, internal error, failed entry */
	EXIT_SIGNALLED = 10,     /* SIGINT or SIGTERM */
	EXIT_KILLED_BY_GDB = 12, /* gdb's kill */
};

#endif
