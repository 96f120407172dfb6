#include <string.h>

#include "cf/cf_dump.h"

int
cf_dump_word(struct buf *out, const char *s, size_t len, int quoted)
{
	size_t i;

	if (!quoted && !cf_word_needs_quotes(s, len))
		return buf_append(out, s, len);
	if (buf_append_byte(out, '"') < 0)
		return -1;
	for (i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append_byte(out, '\\') < 0)
			return -1;
		if (buf_append_byte(out, s[i]) < 0)
			return -1;
	}
	return buf_append_byte(out, '"');
}

static int
dump_assign(struct buf *out, const struct cf_section *s,
    const struct cf_assign *a)
{
	size_t i;

	if (a->origin == CF_ORIGIN_INCLUDE && buf_append_str(out, "# ") < 0)
		return -1;
	if (buf_printf(out, "%s.", s->kind) < 0 ||
	    cf_dump_word(out, s->name, strlen(s->name), 1) < 0 ||
	    buf_printf(out, ".%s =", a->key) < 0)
		return -1;
	for (i = 0; i < a->nw; i++)
		if (buf_append_byte(out, ' ') < 0 ||
		    cf_dump_word(out, a->w[i].s, a->w[i].len, a->w[i].quoted) < 0)
			return -1;
	if (a->origin == CF_ORIGIN_INCLUDE &&
	    buf_printf(out, "  (%s:%u)", a->pos.file, a->pos.line) < 0)
		return -1;
	return buf_append_byte(out, '\n');
}

int
cf_dump(const struct cf *cf, struct buf *out)
{
	size_t i, j;

	for (i = 0; i < cf->ns; i++) {
		const struct cf_section *s = &cf->s[i];

		if (s->na == 0) {
			if (buf_printf(out, "[%s", s->kind) < 0)
				return -1;
			if (s->name[0] && (buf_append_byte(out, ' ') < 0 ||
			    cf_dump_word(out, s->name, strlen(s->name), 1) < 0))
				return -1;
			if (buf_append_str(out, "]\n") < 0)
				return -1;
		}
		for (j = 0; j < s->na; j++)
			if (dump_assign(out, s, &s->a[j]) < 0)
				return -1;
	}
	return 0;
}
