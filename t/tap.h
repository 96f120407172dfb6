/*
 * tap: the Test Anything Protocol for C unit tests, so prove runs them
 * beside the shell end-to-end scripts. No framework dependency.
 */
#ifndef PM_TAP_H
#define PM_TAP_H

#include <stddef.h>

void tap_plan(int n);
int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_is_int(long long got, long long want, const char *file, int line,
    const char *name);
int tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name);
int tap_is_mem(const void *got, size_t gotlen, const void *want,
    size_t wantlen, const char *file, int line, const char *name);
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tap_skip(int n, const char *why);
int tap_done(void);

#define plan(n) tap_plan(n)
#define ok(c, ...) tap_ok(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(g, w, name) tap_is_int((g), (w), __FILE__, __LINE__, (name))
#define is_str(g, w, name) tap_is_str((g), (w), __FILE__, __LINE__, (name))
#define is_mem(g, gl, w, wl, name) \
	tap_is_mem((g), (gl), (w), (wl), __FILE__, __LINE__, (name))
#define diag(...) tap_diag(__VA_ARGS__)
#define skip(n, why) tap_skip((n), (why))
#define done_testing() tap_done()

#endif
