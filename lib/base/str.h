/* str: locale-independent ASCII helpers (strcasecmp depends on LC_CTYPE). */
#ifndef PM_STR_H
#define PM_STR_H

#include <stddef.h>

int str_casecmp(const char *a, const char *b);
int str_ncasecmp(const char *a, const char *b, size_t n);
void str_lower(char *s, size_t n);
/* Replaces each '|' of src with sep into dst (lists in schema text). */
void str_list_join(char *dst, size_t cap, const char *src, const char *sep);

#endif
