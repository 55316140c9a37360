/* stub/textbuf.h — a growing text buffer with a hard cap, for monitor
 * output. Pure: memory in, text out. Past the cap, text is dropped and
 * `truncated` says so (a hostile page table must not make us allocate
 * without bound). */
#ifndef KVMSTUB_TEXTBUF_H
#define KVMSTUB_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

#define TEXTBUF_DEFAULT_CAP (1u << 20)

struct textbuf {
	char *data;     /* NUL-terminated when non-NULL */
	size_t len, size;
	size_t cap;     /* the most text kept */
	bool truncated; /* something was dropped at the cap */
	bool failed;    /* out of memory */
};

void textbuf_init(struct textbuf *t, size_t cap);
void textbuf_free(struct textbuf *t);
void textbuf_clear(struct textbuf *t);
void textbuf_printf(struct textbuf *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void textbuf_put(struct textbuf *t, const char *s, size_t n);
/* A closing remark ("output truncated") that gets in even at the cap. */
void textbuf_note(struct textbuf *t, const char *line);
/* True once the cap is reached: long walks stop early. */
bool textbuf_full(const struct textbuf *t);

#endif
