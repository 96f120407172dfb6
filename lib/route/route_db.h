/*
 * route_db: the route_ops backed by the compiled CDB, and the query for
 * one [smtpd] instance (its routing-table list, local-rcpt-to, and its own
 * names as domains we accept postmaster@ for).
 */
#ifndef PM_ROUTE_DB_H
#define PM_ROUTE_DB_H

#include "cf/cf_db.h"
#include "route/route_resolve.h"

struct route_instance {
	struct route_query q;
	char tables[ROUTE_MAX_TABLES][256];
	char name[256];
	char hostname[256];
};

void route_db_ops(struct route_ops *ops, struct cf_db *db);
/* Builds the query for [smtpd "name"]; name NULL = [route] only. */
int route_db_instance(struct cf_db *db, const char *name,
    struct route_instance *inst);

#endif
