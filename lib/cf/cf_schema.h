/*
 * cf_schema: every section kind and key postmaster.cf knows, with its type,
 * default and one-line description. The checker validates against it, the
 * CDB reader falls back to its defaults, and postmaster.cf(5) documents it;
 * a key exists in exactly one place: here.
 */
#ifndef PM_CF_SCHEMA_H
#define PM_CF_SCHEMA_H

enum cf_type {
	CF_T_STRING,   /* one word */
	CF_T_WORDS,    /* one or more words (argv) */
	CF_T_BOOL,     /* yes|no|true|false|on|off|1|0 */
	CF_T_UINT,     /* decimal, range in arg "MIN-MAX" */
	CF_T_SIZE,     /* bytes with optional k, M, G suffix (powers of 1024) */
	CF_T_DURATION, /* seconds with optional s, m, h, d, w suffix */
	CF_T_ENUM,     /* one of arg "a|b|c" */
	CF_T_REF,      /* a section name of a kind in arg "k1|k2", or builtin */
	CF_T_LISTEN,   /* port | service | host:port | [v6]:port */
	CF_T_PATH,     /* absolute path */
	CF_T_ADDRESS,  /* host | host:port | [v6]:port | /unix/socket */
	CF_T_STATUS    /* RFC 3463 class.subject.detail */
};

#define CF_MULTI 1u    /* may be given on several lines; values accumulate */
#define CF_REQUIRED 2u

enum cf_naming { CF_NAMED, CF_UNNAMED, CF_EITHER };

struct cf_key_def {
	const char *key;
	enum cf_type type;
	unsigned flags;
	const char *def;     /* default as text; "" = none/derived */
	const char *arg;     /* enum values, ref kinds or numeric range */
	const char *builtin; /* ref: names valid without a section */
	const char *doc;
};

struct cf_kind_def {
	const char *kind;
	enum cf_naming naming;
	int is_target; /* a route right-hand side may name it */
	const struct cf_key_def *keys;
	const char *doc;
};

const struct cf_kind_def *cf_schema_kinds(void);
const struct cf_kind_def *cf_schema_kind(const char *kind);
const struct cf_key_def *cf_schema_key(const struct cf_kind_def *k,
    const char *key);
/* NULL-terminated list of kind names or of one kind's keys (static). */
const char *const *cf_schema_kind_names(void);
const char *const *cf_schema_key_names(const struct cf_kind_def *k);

#endif
