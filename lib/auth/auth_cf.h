/*
 * auth_cf: postmaster-cfcompile's side of [auth] sections. Checks that
 * each has exactly one of passwd-file and dovecot, reads every
 * passwd-file (auth_pwfile: a bad line is a FILE:LINE:COL error like any
 * other, so --check reports it and a bad file leaves the old CDB), and
 * collects the accounts for cf_emit_passwd. An [smtpd] with auth but no
 * tls gets a warning: AUTH is offered only under TLS.
 */
#ifndef PM_AUTH_CF_H
#define PM_AUTH_CF_H

#include <stddef.h>

#include "cf/cf_db.h"
#include "cf/cf_diag.h"
#include "cf/cf_parse.h"

#define AUTH_CF_FILE_MAX (64u << 20)

struct auth_cf {
	struct cf_db_pw *pw; /* strings owned here */
	size_t n, cap;
	int any_passwd_file; /* some [auth] has a passwd-file */
};

/* Returns the number of errors added to d. */
unsigned auth_cf_load(struct cf *cf, struct cf_diag *d, struct auth_cf *a);
void auth_cf_free(struct auth_cf *a);

#endif
