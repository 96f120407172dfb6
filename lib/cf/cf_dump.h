/*
 * cf_dump: prints a configuration in the seed's scoped-assignment form,
 * `kind."name".key = words`, one assignment per line in file order. The
 * output is itself valid postmaster.cf input and compiles to the same CDB:
 * routes that came from a `file` include are shown as comments after the
 * file line (recompiling reads the file again), and a section without
 * assignments is kept as a `[kind "name"]` header.
 */
#ifndef PM_CF_DUMP_H
#define PM_CF_DUMP_H

#include "base/buf.h"
#include "cf/cf_parse.h"

int cf_dump(const struct cf *cf, struct buf *out);
int cf_dump_word(struct buf *out, const char *s, size_t len, int quoted);

#endif
