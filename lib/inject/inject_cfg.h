/*
 * inject_cfg: what one postmaster-inject run works with: the compiled
 * configuration (routing as a local caller, the host name, the spool, the
 * size limit, all read from the CDB, whose unset keys give the schema's
 * defaults) and who is calling (login, full name, envelope sender).
 *
 * inject_cfg_open() opens path and reads the configuration; it returns 0,
 * or -1 with *why (static text) when the CDB cannot be opened or read.
 * inject_cfg_caller() sets the caller from a passwd entry: the login, the
 * full name from fullname or else the entry's gecos (BSD '&' and ','
 * rules), and the sender from sender or else login@hostname. A sender is
 * "<a@b>", "a@b", "<>" or "" (the null sender) or a local name, which
 * gets @hostname. It returns 0, or -1 when sender is not an address.
 * inject_cfg_from() writes the value of a From: field for the caller
 * ("Full Name <sender>", RFC 5322 3.2.5 quoting) to out; sender is the
 * envelope sender of the message (the caller's, or -bs's MAIL FROM).
 */
#ifndef PM_INJECT_CFG_H
#define PM_INJECT_CFG_H

#include <pwd.h>
#include <stdint.h>

#include "base/buf.h"
#include "cf/cf_db.h"
#include "route/route_db.h"
#include "route/route_resolve.h"
#include "smtp/smtp_addr.h"

struct inject_cfg {
	struct cf_db db;
	struct route_ops ops;
	struct route_instance inst;
	char hostname[256];
	char spooldir[1024];
	uint64_t max_size; /* [core] max-message-size */
	char login[64];
	char fullname[256];
	char sender[SMTP_PATH_MAX + 1];
};

int inject_cfg_open(struct inject_cfg *c, const char *path, const char **why);
void inject_cfg_close(struct inject_cfg *c);

int inject_cfg_caller(struct inject_cfg *c, const struct passwd *pw,
    const char *fullname, const char *sender);

void inject_cfg_from(const struct inject_cfg *c, const char *sender,
    struct buf *out);

#endif
