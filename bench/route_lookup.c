/* Lookups per second through the routing engine over a compiled CDB:
 * bench/route_lookup CDB N resolves userK@example.org for K in [0, N). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "route/route_db.h"

int
main(int argc, char **argv)
{
	struct cf_db db;
	struct route_ops ops;
	struct route_instance inst;
	struct route_result r;
	struct timespec a, b;
	const char *why;
	long n, i, okc = 0;
	char addr[64];
	double s;

	if (argc != 3 || cf_db_open(&db, argv[1], &why) < 0) {
		fprintf(stderr, "usage: route_lookup CDB N\n");
		return 64;
	}
	n = atol(argv[2]);
	route_db_ops(&ops, &db);
	route_db_instance(&db, NULL, &inst);
	route_result_init(&r, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < n; i++) {
		int len = snprintf(addr, sizeof addr, "user%ld@example.org",
		    (i * 7919) % n);

		if (route_resolve(&ops, &inst.q, addr, (size_t)len, &r) == ROUTE_OK)
			okc++;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%ld lookups (%ld routed) in %.3f s: %.0f lookups/s\n", n, okc, s,
	    (double)n / s);
	route_result_free(&r);
	cf_db_close(&db);
	return okc == n ? 0 : 1;
}
