/*
 * buf: a length-counted, growable byte buffer with a hard cap.
 *
 * Every growth path checks for overflow and for the buffer's own maximum
 * (the `max` field, 0 = SIZE_MAX), failing with -1 and errno ERANGE or
 * ENOMEM; nothing is ever silently truncated. A NUL is kept after the last
 * byte for convenience, but the data may itself contain NULs: use len.
 */
#ifndef PM_BUF_H
#define PM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT(maxbytes) { NULL, 0, 0, (maxbytes) }

void buf_init(struct buf *b, size_t max);
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_append_byte(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);
void buf_free(struct buf *b);

#endif
