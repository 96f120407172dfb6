/*
 * cf_db: the compiled configuration. cf_emit writes it (only
 * postmaster-cfcompile does), the cf_db reader serves every program. These
 * two files are the only ones that include <cdb.h>.
 *
 * Record layout (all keys are bytes; "\0" separates fields):
 *   "\0version"              CF_DB_VERSION
 *   "L" kind                 one record per section name, in file order
 *   "K" kind \0 name \0 key  one record per assignment; value = words
 *   "R" table \0 lhs         route (lhs lowercased); value = u32 order + words
 *   "D" table \0 domain      the table routes this domain (for 550 vs 554)
 *   "T" name                 kind of a target section (relay, pipe, reject)
 *   "F" table                one byte: CF_DB_LHS_* forms the table uses
 *   "P" auth \0 user         crypt(3) hash of [auth] passwd-file's user;
 *                            only in the passwd CDB (CF_DB_PASSWD_SUFFIX
 *                            beside the CDB, mode 0600: hashes are secret)
 *   "Q" auth                 the hash of that file's first account, which
 *                            an unknown user's check hashes against (so
 *                            it costs the file's scheme and cost); only
 *                            in the passwd CDB
 * Words are encoded as 'a' (atom) or 'q' (quoted), the bytes, then NUL.
 * A reader that finds another version refuses the file.
 */
#ifndef PM_CF_DB_H
#define PM_CF_DB_H

#include <stddef.h>
#include <stdint.h>

#include <cdb.h>

#include "cf/cf_parse.h"
#include "cf/cf_words.h"

#define CF_DB_VERSION "postmaster-cdb 1"

/*
 * The compiled configuration every program reads without -C (and
 * postmaster-cfcompile writes without -o). A build setting, not a test
 * knob: a setgid postmaster-inject lets only root and the postmaster user
 * choose another, so it must not come from the environment. A packager
 * may set it: make CPPFLAGS='-DPM_DEFAULT_CDB=\"/etc/pm/postmaster.cdb\"'.
 */
#ifndef PM_DEFAULT_CDB
#define PM_DEFAULT_CDB "/etc/postmaster.cdb"
#endif

#define CF_DB_LHS_EXACT 0x01u  /* user@domain */
#define CF_DB_LHS_LOCAL 0x02u  /* user@ */
#define CF_DB_LHS_DOMAIN 0x04u /* @domain */
#define CF_DB_LHS_NAME 0x08u   /* local name */
#define CF_DB_LHS_ALL 0x0fu

struct cf_db {
	struct cdb cdb;
	int fd;
};

/* Writes cf as a CDB to fd (already open, empty). */
int cf_emit(const struct cf *cf, int fd);

#define CF_DB_PASSWD_SUFFIX ".passwd"

/* One [auth] passwd-file account for cf_emit_passwd. */
struct cf_db_pw {
	const char *auth, *user, *hash;
	size_t ulen, hlen;
};
/* Writes the passwd CDB: the version record and one "P" per account. */
int cf_emit_passwd(const struct cf_db_pw *pw, size_t n, int fd);

/* Opens path; on failure returns -1 and sets *why (static text or errno). */
int cf_db_open(struct cf_db *db, const char *path, const char **why);
int cf_db_open_fd(struct cf_db *db, int fd, const char **why);
void cf_db_close(struct cf_db *db);

int cf_db_has_section(struct cf_db *db, const char *kind, const char *name);
/* Calls fn for each section name of a kind, in file order. */
int cf_db_each_section(struct cf_db *db, const char *kind,
    int (*fn)(void *arg, const char *name), void *arg);
/* Kind of target section `name` into out ("relay", "pipe", "reject"), or 0. */
int cf_db_target_kind(struct cf_db *db, const char *name, char *out,
    size_t cap);

/*
 * All words of every assignment of key, in order. Returns 1 if set in the
 * file, 0 if not (words then hold the schema default, possibly none).
 */
int cf_db_words(struct cf_db *db, const char *kind, const char *name,
    const char *key, struct cf_words *out);
/* First word as a NUL-terminated copy, or the schema default. */
int cf_db_str(struct cf_db *db, const char *kind, const char *name,
    const char *key, char *out, size_t cap);
/* Typed getters: parse the value (or default) per the schema type. */
int cf_db_uint(struct cf_db *db, const char *kind, const char *name,
    const char *key, uint64_t *out);
int cf_db_bool(struct cf_db *db, const char *kind, const char *name,
    const char *key, int *out);

/*
 * Looks key (already lowercased) up in route table `table` ("" = [route]).
 * Returns 1 and the rhs words and order index, 0 if absent, -1 on error.
 */
int cf_db_route(struct cf_db *db, const char *table, const char *key,
    size_t keylen, uint32_t *order, struct cf_words *rhs);
/* The CF_DB_LHS_* forms table uses (CF_DB_LHS_ALL if unknown). */
unsigned cf_db_table_forms(struct cf_db *db, const char *table);
int cf_db_routes_domain(struct cf_db *db, const char *table,
    const char *domain, size_t len);
/* 1 and out set when every line of the table has the same one-word
 * right side (e.g. a [relay] name), written by postmaster-cfcompile;
 * else 0. */
int cf_db_table_sole(struct cf_db *db, const char *table, char *out,
    size_t cap);

/*
 * The hash of user in [auth "auth"]'s passwd-file (a passwd CDB): 1 and
 * the NUL-terminated hash in out, 0 no such user, -1 error (or too long).
 */
int cf_db_passwd(struct cf_db *db, const char *auth, const char *user,
    size_t ulen, char *out, size_t cap);
/* The "Q" hash of [auth "auth"] the same way (0: an older passwd CDB). */
int cf_db_passwd_dummy(struct cf_db *db, const char *auth, char *out,
    size_t cap);

/* Decodes an encoded word list (also used by cf_emit's tests). */
int cf_db_decode_words(const char *p, size_t n, struct cf_words *out);

#endif
