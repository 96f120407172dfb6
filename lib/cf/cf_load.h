/*
 * cf_load: the I/O around the pure parser: reads postmaster.cf, expands
 * route `file "PATH"` includes in place (relative paths are relative to the
 * including file; nesting is capped), and applies command-line flags:
 *
 *   --KIND="NAME"                 declares [KIND "NAME"]
 *   --KIND-"NAME"-KEY=VALUE       sets a key (flags win over the file)
 *   --KIND-NAME-KEY=VALUE         the same after the shell ate the quotes
 *   --KIND-KEY=VALUE              a key of an unnamed section ([core])
 */
#ifndef PM_CF_LOAD_H
#define PM_CF_LOAD_H

#include "cf/cf_parse.h"

#define CF_MAX_INCLUDE_DEPTH 8

/* Returns the number of errors added to d. */
unsigned cf_load_file(struct cf *cf, const char *path, struct cf_diag *d);
unsigned cf_load_includes(struct cf *cf, struct cf_diag *d);

/*
 * Applies one `--...` argument (argn is its index, for diagnostics).
 * Returns 1 if arg is a configuration flag (applied or diagnosed),
 * 0 if it does not look like one (the caller decides).
 */
int cf_load_flag(struct cf *cf, const char *arg, unsigned argn,
    struct cf_diag *d);

/* Reads a whole file into b, refusing more than max bytes. */
int cf_load_read(const char *path, struct buf *b, size_t max);

#endif
