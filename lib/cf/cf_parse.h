/*
 * cf_parse: the postmaster.cf language, parsed into an in-memory model.
 *
 * Pure: bytes in, model and diagnostics out; no file I/O (route-file
 * includes are expanded by cf_load, which calls back into this parser).
 *
 * Grammar (the seed's, see postmaster.cf(5)):
 *   file       = ( header | assignment | scoped | blank )*
 *   header     = '[' atom [quoted_string | atom] ']'
 *   assignment = atom ['='] word+
 *   scoped     = atom '.' quoted_string '.' key ['='] word+   (the --dump form)
 *   word       = atom | quoted_string ; quoted pairs '\' c stand for c
 *   comment    = '#' to end of line, anywhere a word may end
 * Lines end in LF or CRLF. Text before the first header belongs to an
 * implicit [route]. In value position an atom may contain '[' and ']' so
 * that `listen-port = [::1]:587` needs no quotes.
 *
 * Ownership: a struct cf owns every string in it; cf_free() releases all.
 */
#ifndef PM_CF_PARSE_H
#define PM_CF_PARSE_H

#include <stddef.h>

#include "cf/cf_diag.h"

#define CF_MAX_WORD 4096
#define CF_MAX_WORDS 256
#define CF_MAX_TEXT (64u << 20)

enum cf_origin {
	CF_ORIGIN_FILE,    /* written in the main file */
	CF_ORIGIN_INCLUDE, /* came from a route `file "PATH"` include */
	CF_ORIGIN_FLAG     /* set on the command line */
};

struct cf_word {
	char *s;
	size_t len;
	int quoted;
	unsigned col;
};

struct cf_assign {
	char *key;
	struct cf_word *w;
	size_t nw;
	struct cf_pos pos;
	enum cf_origin origin;
	unsigned depth; /* include nesting, 0 in the main file */
};

struct cf_section {
	char *kind;
	char *name; /* "" for an unnamed section */
	struct cf_pos pos;
	int implicit;
	struct cf_assign *a;
	size_t na, cap;
};

struct cf {
	struct cf_section *s;
	size_t ns, cap;
	char **files; /* file names that cf_pos.file points into */
	size_t nfiles;
};

void cf_init(struct cf *cf);
void cf_free(struct cf *cf);

/* Interns a file name so positions can point at it for cf's lifetime. */
const char *cf_file_name(struct cf *cf, const char *name);

/*
 * Parses a whole configuration text. Sections and assignments are
 * appended to cf. Returns the number of errors added to d.
 */
unsigned cf_parse_text(struct cf *cf, const char *file, const char *text,
    size_t len, struct cf_diag *d);

/*
 * Parses a routes file (assignments only, no headers) into the assignments
 * of section sec at index at, marking them CF_ORIGIN_INCLUDE. Sets *added.
 */
unsigned cf_parse_routes(struct cf *cf, size_t sec, size_t at,
    const char *file, const char *text, size_t len, struct cf_diag *d,
    size_t *added);

/* Parses one value string (a flag's right side) into words. */
int cf_parse_words(const char *text, size_t len, struct cf_word **w,
    size_t *nw);

struct cf_section *cf_section_find(struct cf *cf, const char *kind,
    const char *name);
struct cf_section *cf_section_add(struct cf *cf, const char *kind,
    const char *name, struct cf_pos pos);
struct cf_assign *cf_assign_insert(struct cf_section *sec, size_t at);
void cf_assign_clear(struct cf_assign *a);
void cf_words_free(struct cf_word *w, size_t nw);

/* Lexical classes, shared with the dumper. */
int cf_is_atom_char(unsigned char c, int in_value);
int cf_word_needs_quotes(const char *s, size_t len);

#endif
