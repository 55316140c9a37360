/* stub/textbuf.c — a growing text buffer with a hard cap. Pure. */
#include "stub/textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void textbuf_init(struct textbuf *t, size_t cap)
{
	memset(t, 0, sizeof(*t));
	t->cap = cap ? cap : TEXTBUF_DEFAULT_CAP;
}

void textbuf_free(struct textbuf *t)
{
	free(t->data);
	t->data = NULL;
	t->len = t->size = 0;
}

void textbuf_clear(struct textbuf *t)
{
	t->len = 0;
	t->truncated = t->failed = false;
	if (t->data)
		t->data[0] = 0;
}

bool textbuf_full(const struct textbuf *t)
{
	return t->truncated || t->failed || t->len >= t->cap;
}

void textbuf_put(struct textbuf *t, const char *s, size_t n)
{
	if (t->failed)
		return;
	if (n > t->cap - t->len) {
		n = t->cap - t->len;
		t->truncated = true;
	}
	if (t->len + n + 1 > t->size) {
		size_t want = t->size ? t->size : 256;
		while (want < t->len + n + 1)
			want *= 2;
		if (want > t->cap + 1)
			want = t->cap + 1;
		char *grown = realloc(t->data, want);
		if (!grown) {
			t->failed = true;
			return;
		}
		t->data = grown;
		t->size = want;
	}
	memcpy(t->data + t->len, s, n);
	t->len += n;
	t->data[t->len] = 0;
}

void textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	textbuf_put(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void textbuf_note(struct textbuf *t, const char *line)
{
	size_t n = strlen(line);
	bool truncated = t->truncated;

	if (n > t->cap - t->len)
		t->cap = t->len + n; /* the one place the cap grows: by a line */
	textbuf_put(t, line, n);
	t->truncated = truncated;
}
