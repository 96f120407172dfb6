/*
 * cf_units: systemd units for every [smtpd] instance. For instance NAME it
 * writes postmaster-smtpd-ESC.socket (Accept=yes, ListenStream from
 * listen-port) and postmaster-smtpd-ESC@.service, derived from the shipped
 * template postmaster-smtpd@.service with ExecStart pointing at NAME
 * (systemd forbids Service= with Accept=yes, so each socket needs a
 * template of its own name). ESC is NAME with characters outside
 * [A-Za-z0-9_.] written \xNN, as systemd-escape does.
 *
 * Host names in listen-port are mapped without DNS: IP literals as they
 * are, localhost/ip6-localhost/ipv6-localhost to loopback, others through
 * /etc/hosts only; a name found nowhere is an error (systemd listens on
 * addresses, not names).
 */
#ifndef PM_CF_UNITS_H
#define PM_CF_UNITS_H

#include "base/buf.h"
#include "cf/cf_db.h"

struct cf_units_opts {
	const char *dir;      /* output directory */
	const char *tmpl;     /* path of postmaster-smtpd@.service */
	const char *sbindir;  /* where postmaster-smtpd lives */
	const char *cdb;      /* the CDB the instances read */
};

/* Returns 0, or -1 with a message in err. */
int cf_units_write(struct cf_db *db, const struct cf_units_opts *o,
    struct buf *err);
/* The ListenStream= value(s) for a listen-port value and instance name. */
int cf_units_listen(const char *value, const char *name, struct buf *out,
    struct buf *err);
void cf_units_escape(const char *name, struct buf *out);

#endif
