/* cf_words: a decoded word list whose strings point into a mapped CDB. */
#ifndef PM_CF_WORDS_H
#define PM_CF_WORDS_H

#include <stddef.h>

#include "cf/cf_parse.h"

struct cf_words {
	const char *w[CF_MAX_WORDS];
	size_t len[CF_MAX_WORDS];
	int quoted[CF_MAX_WORDS];
	size_t n;
};

#endif
