/* kvm/report.c — the one place kvm/ writes to stderr. */
#include "kvm/report.h"

#include <stdarg.h>
#include <stdio.h>

void kvm_report(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One fprintf so a line is never split by other output. */
	fprintf(stderr, "kvmstub: %s\n", line);
}
