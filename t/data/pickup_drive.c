/*
 * pickup_drive CDB SPOOL: one pickup pass, as the queue runner makes it
 * (t/inject.t). Prints "rc=R moved=N"; exits 0, or 75 when the pass
 * failed, 64 on usage.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "base/log.h"
#include "cf/cf_db.h"
#include "inject/inject_pickup.h"
#include "spool/spool_dir.h"
int
main(int argc, char **argv)
{
	struct cf_db db;
	struct spool_dir sp;
	const char *why;
	unsigned moved = 0;
	int r;

	if (argc != 3)
		return 64;
	log_init("pickup");
	if (cf_db_open(&db, argv[1], &why) < 0)
		return 75;
	if (spool_dir_open(&sp, argv[2], SPOOL_DIR_CREATE) < 0)
		return 75;
	r = inject_pickup_run(&db, &sp, &moved);
	printf("rc=%d moved=%u\n", r, moved);
	return r ? 75 : 0;
}
