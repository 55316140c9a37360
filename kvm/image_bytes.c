/* kvm/image_bytes.c — one-line error messages for the image parsers.
 * Pure: formats into the caller's buffer, prints nothing. */
#include "kvm/image_bytes.h"

#include <stdarg.h>
#include <stdio.h>

void image_error(char *err, size_t err_size, const char *fmt, ...)
{
	va_list args;

	if (!err || err_size == 0)
		return;
	va_start(args, fmt);
	vsnprintf(err, err_size, fmt, args);
	va_end(args);
	/* Messages quote file names and arguments: keep them one line. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}
