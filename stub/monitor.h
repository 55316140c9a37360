/* stub/monitor.h — gdb's `monitor` commands (qRcmd): one command line in,
 * text out, against the target interface only. Named like QEMU's HMP
 * where one exists. Formatting lives in stub/sysfmt.c. */
#ifndef KVMSTUB_MONITOR_H
#define KVMSTUB_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

#include "stub/target.h"
#include "stub/textbuf.h"

/* The most page tables `info tlb` / `info mem` read in one walk. */
#define MONITOR_MAX_TABLES 20000

/* Runs one command line (already decoded from hex). Output, including the
 * one-line message for an unknown command or a bad argument, goes to out.
 * *restarted is set when the guest was started again (registers, memory
 * and the stop gdb knows are then stale). */
void monitor_run(struct target target, const char *line, struct textbuf *out,
		 bool *restarted);

#endif
