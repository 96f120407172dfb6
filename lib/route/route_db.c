#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "route/route_db.h"

static int
db_find(void *ctx, const char *table, const char *key, size_t len,
    uint32_t *order, struct cf_words *rhs)
{
	return cf_db_route(ctx, table, key, len, order, rhs);
}

static int
db_target_kind(void *ctx, const char *name, char *out, size_t cap)
{
	return cf_db_target_kind(ctx, name, out, cap);
}

static int
db_routes_domain(void *ctx, const char *table, const char *d, size_t len)
{
	return cf_db_routes_domain(ctx, table, d, len);
}

void
route_db_ops(struct route_ops *ops, struct cf_db *db)
{
	ops->find = db_find;
	ops->target_kind = db_target_kind;
	ops->routes_domain = db_routes_domain;
	ops->ctx = db;
}

int
route_db_instance(struct cf_db *db, const char *name,
    struct route_instance *inst)
{
	struct cf_words w;
	size_t i;
	int b = 0;

	memset(inst, 0, sizeof *inst);
	if (cf_db_str(db, "core", "", "hostname", inst->hostname,
	    sizeof inst->hostname) < 0)
		return -1;
	if (inst->hostname[0] == '\0' &&
	    gethostname(inst->hostname, sizeof inst->hostname - 1) < 0)
		inst->hostname[0] = '\0';
	inst->q.domains[0] = inst->hostname;
	inst->q.forms[0] = (unsigned char)cf_db_table_forms(db, "");
	if (name == NULL)
		return 0;
	if (cf_db_has_section(db, "smtpd", name) <= 0)
		return -1;
	snprintf(inst->name, sizeof inst->name, "%s", name);
	if (cf_db_str(db, "smtpd", name, "name", inst->name,
	    sizeof inst->name) == 0 || inst->name[0] == '\0')
		snprintf(inst->name, sizeof inst->name, "%s", name);
	inst->q.domains[1] = inst->name;
	if (cf_db_words(db, "smtpd", name, "routing-table", &w) < 0)
		return -1;
	for (i = 0; i < w.n && i < ROUTE_MAX_TABLES; i++) {
		if (w.len[i] >= sizeof inst->tables[i])
			return -1;
		memcpy(inst->tables[i], w.w[i], w.len[i]);
		inst->tables[i][w.len[i]] = '\0';
		inst->q.tables[i] = inst->tables[i];
		inst->q.forms[i] = (unsigned char)cf_db_table_forms(db,
		    inst->tables[i]);
	}
	inst->q.ntables = i;
	inst->q.forms[i] = (unsigned char)cf_db_table_forms(db, "");
	if (cf_db_bool(db, "smtpd", name, "local-rcpt-to", &b) < 0)
		return -1;
	inst->q.local_names_ok = b;
	return 0;
}
