/* libFuzzer: route resolution of arbitrary addresses against a fixed
 * configuration with lists, rewrites and loops, through a real CDB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf/cf_check.h"
#include "cf/cf_db.h"
#include "route/route_db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char config[] =
    "[smtpd \"mx\"]\nrouting-table = t\n"
    "[relay \"r\"]\naddress = 127.0.0.1\n"
    "[route \"t\"]\n@a.test @b.test\n@b.test r, x@, y, \"|/bin/cat\"\n"
    "x@ @a.test\ny z\nz y\n@c.test host.test\nq@ q@d.test\n"
    "[route]\npostmaster joe\nl1 l2, l3\nl2 l1\n";

static struct cf_db db;
static struct route_ops ops;
static struct route_instance inst;

static void
setup(void)
{
	struct cf cf;
	struct cf_diag d;
	char path[] = "/tmp/fuzz-route.XXXXXX";
	const char *why;
	int fd;

	cf_init(&cf);
	cf_diag_init(&d);
	cf_parse_text(&cf, "f", config, sizeof config - 1, &d);
	if (cf_check(&cf, &d) || (fd = mkstemp(path)) < 0)
		abort();
	unlink(path);
	if (cf_emit(&cf, fd) < 0 || cf_db_open_fd(&db, fd, &why) < 0)
		abort();
	route_db_ops(&ops, &db);
	route_db_instance(&db, "mx", &inst);
	cf_diag_free(&d);
	cf_free(&cf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct route_result r;
	struct buf trace = BUF_INIT(0);

	if (!ready) {
		setup();
		ready = 1;
	}
	route_result_init(&r, &trace);
	inst.q.local_names_ok = size & 1;
	route_resolve(&ops, &inst.q, (const char *)data, size, &r);
	if (r.status == ROUTE_OK && r.n == 0)
		abort(); /* success always names a target */
	route_result_free(&r);
	buf_free(&trace);
	return 0;
}
