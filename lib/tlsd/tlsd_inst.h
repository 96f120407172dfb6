/*
 * tlsd_inst: the TLS settings of [smtpd] instances for postmaster-tlsd:
 * tlsd_inst_read() takes one instance's keys from the compiled
 * configuration; tlsd_inst_get() keeps them and their loaded
 * credentials for the service (postmaster-tlsd -s), so a session pays
 * neither for the configuration nor for the certificates and keys.
 *
 * "Certificates are read per connection" still holds in effect: before
 * every session the service stat()s the configuration and every file an
 * instance names (certificates, keys, ticket key, through symlinks) and
 * reads again what changed (device, inode, size, mtime or ctime), so a
 * certificate replaced by rename serves the next client. Credentials
 * that failed to load are tried again on the next session.
 */
#ifndef PM_TLSD_INST_H
#define PM_TLSD_INST_H

#include <stdint.h>
#include <sys/stat.h>

#include "cf/cf_db.h"
#include "tlsd/tlsd_cred.h"

#define TLSD_MAX_PAIRS 8
#define TLSD_MAX_INSTANCES 64

struct tlsd_cfg {
	char cert[TLSD_MAX_PAIRS][4096];
	char key[TLSD_MAX_PAIRS][4096];
	const char *certp[TLSD_MAX_PAIRS], *keyp[TLSD_MAX_PAIRS];
	char priority[1024];
	char ticket[4096];
	uint64_t idle, deadline;
	struct tlsd_files files;
};

/* What a file looked like when it was read; all zero: missing. */
struct tlsd_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};

struct tlsd_inst {
	char name[256];
	struct tlsd_cfg cfg;
	int loaded;            /* cred holds credentials */
	struct tlsd_cred cred; /* when loaded */
	uint64_t gen;          /* tlsd_insts gen of that load */
	char why[512];         /* when not */
	struct tlsd_stamp
	    stamp[2 * TLSD_MAX_PAIRS + 1]; /* certs, keys, ticket */
};

struct tlsd_insts {
	const char *cdb;
	struct tlsd_stamp cdb_stamp;
	struct tlsd_inst *inst[TLSD_MAX_INSTANCES];
	size_t n;
	/* Generations for the service's workers (base/wpool.h): gen counts
	 * successful loads and table resets; a worker forked before an
	 * instance's load (its gen) lacks those credentials, one forked
	 * before the last reset has another table. */
	uint64_t gen, reset_gen;
};

/* The instance's settings (pairs in order; more words of one key than of
 * the other are cut: cfcompile --check refuses them). */
void tlsd_inst_read(struct cf_db *db, const char *name, struct tlsd_cfg *c);

void tlsd_insts_init(struct tlsd_insts *s, const char *cdb);
void tlsd_insts_free(struct tlsd_insts *s);

/* The instance, its credentials loaded afresh where a file changed; or
 * NULL with why (no such [smtpd] section, the configuration unreadable,
 * too many instances). An instance whose credentials do not load is
 * returned with loaded 0 and the reason in its why. */
struct tlsd_inst *tlsd_insts_get(struct tlsd_insts *s, const char *name,
    char *why, size_t cap);

#endif
