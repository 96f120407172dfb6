/*
 * postmaster-cfcompile: postmaster.cf (+ route files + flags) -> CDB.
 * The only writer of the CDB; a config with any error leaves the old one
 * untouched. See postmaster-cfcompile(8).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "auth/auth_cf.h"
#include "base/buf.h"
#include "base/log.h"
#include "cf/cf_check.h"
#include "cf/cf_db.h"
#include "cf/cf_dump.h"
#include "cf/cf_load.h"
#include "cf/cf_schema.h"
#include "cf/cf_units.h"
#include "route/route_db.h"

#define MAX_FLAGS 256

static const char usage[] =
    "usage: postmaster-cfcompile [-c CF] [-o CDB] [--check | --dump |\n"
    "         --route ADDRESS [--smtpd NAME] | --units DIR]\n"
    "         [--KIND=\"NAME\"] [--KIND-\"NAME\"-KEY=VALUE ...]\n"
    "  -c CF          configuration (default /etc/postmaster.cf)\n"
    "  -o CDB         compiled output (default " PM_DEFAULT_CDB ")\n"
    "  --check        validate only\n"
    "  --dump         print the configuration as scoped assignments\n"
    "  --route ADDR   show how ADDR resolves (for instance --smtpd NAME)\n"
    "  --units DIR    write systemd units for every [smtpd] into DIR\n"
    "  --template F   the postmaster-smtpd@.service to derive units from\n";

static const char *const options[] = { "check", "dump", "route", "smtpd",
	"units", "template", "help", NULL };

/* Writes the CDB beside its final name, then renames over it: readers see
 * the old file or the new one, never a partial one. */
static int
write_cdb(const struct cf *cf, const char *out)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, e;

	if (snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", out) >= (int)sizeof tmp)
		die(EX_USAGE, "%s: path too long", out);
	if ((fd = mkstemp(tmp)) < 0)
		die_sys(EX_CANTCREAT, "unable to create %s", tmp);
	if (cf_emit(cf, fd) < 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		die_sys(EX_IOERR, "unable to write %s", tmp);
	}
	if (close(fd) < 0 || rename(tmp, out) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		die_sys(EX_IOERR, "unable to rename %s to %s", tmp, out);
	}
	snprintf(dir, sizeof dir, "%s", out);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fsync(dfd) < 0)
		die_sys(EX_IOERR, "unable to sync the directory of %s", out);
	close(dfd);
	return 0;
}

/*
 * The [auth] passwd-file accounts go to their own CDB beside the main one,
 * mode 0600: the main CDB is world-readable (postmaster-inject reads it as
 * any user) and password hashes are not. Renamed before the main CDB, so
 * a reader never finds a new [auth] without its accounts; without any
 * passwd-file the file is removed.
 */
static void
write_passwd_cdb(const struct auth_cf *a, const char *out)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, e;

	if (snprintf(path, sizeof path, "%s%s", out, CF_DB_PASSWD_SUFFIX) >=
	    (int)sizeof path || snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX",
	    path) >= (int)sizeof tmp)
		die(EX_USAGE, "%s: path too long", out);
	if (!a->any_passwd_file) {
		if (unlink(path) < 0 && errno != ENOENT)
			die_sys(EX_IOERR, "unable to remove %s", path);
		return;
	}
	if ((fd = mkstemp(tmp)) < 0)
		die_sys(EX_CANTCREAT, "unable to create %s", tmp);
	if (cf_emit_passwd(a->pw, a->n, fd) < 0 || fchmod(fd, 0600) < 0 ||
	    fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		die_sys(EX_IOERR, "unable to write %s", path);
	}
}

/* --route and --units read a compiled copy, exactly as the servers do. */
static void
open_compiled(const struct cf *cf, struct cf_db *db)
{
	const char *tmpdir = getenv("TMPDIR"), *why;
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof path, "%s/postmaster-cfcompile.XXXXXX",
	    tmpdir && *tmpdir ? tmpdir : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		die_sys(EX_CANTCREAT, "unable to create %s", path);
	unlink(path);
	if (cf_emit(cf, fd) < 0)
		die_sys(EX_IOERR, "unable to compile into %s", path);
	if (cf_db_open_fd(db, fd, &why) < 0)
		die(EX_SOFTWARE, "unable to read back the compiled config: %s", why);
}

static int
show_route(const struct cf *cf, const char *addr, const char *smtpd)
{
	struct cf_db db;
	struct route_ops ops;
	struct route_instance inst;
	struct route_result r;
	struct buf trace = BUF_INIT(0);
	char t[1200];
	const char *at;
	size_t i;
	int rc = 0;

	open_compiled(cf, &db);
	route_db_ops(&ops, &db);
	if (route_db_instance(&db, smtpd, &inst) < 0)
		die(EX_USAGE, "no [smtpd \"%s\"] in the configuration", smtpd);
	if (smtpd == NULL)
		inst.q.local_names_ok = 1; /* as a local caller would */
	route_result_init(&r, &trace);
	route_resolve(&ops, &inst.q, addr, strlen(addr), &r);
	fputs(trace.p ? trace.p : "", stdout);
	at = strchr(addr, '@');
	switch (r.status) {
	case ROUTE_OK:
		for (i = 0; i < r.n; i++) {
			route_target_format(&r.t[i], t, sizeof t);
			printf("deliver: %s to %s\n", r.t[i].rcpt, t);
		}
		break;
	case ROUTE_NO_ROUTE:
		if (at && route_is_our_domain(&ops, &inst.q, at + 1, strlen(at + 1)))
			printf("refused: 550 5.1.1 <%s>: user unknown\n", addr);
		else
			printf("refused: 554 5.7.1 <%s>: relaying denied\n", addr);
		rc = EX_NOUSER;
		break;
	case ROUTE_LOCAL_DENIED:
		printf("refused: 550 5.1.1 %s\n", r.why);
		rc = EX_NOUSER;
		break;
	default:
		printf("refused: 554 5.4.6 %s\n", r.why);
		rc = EX_DATAERR;
		break;
	}
	route_result_free(&r);
	buf_free(&trace);
	cf_db_close(&db);
	return rc;
}

static int
write_units(const struct cf *cf, const char *dir, const char *tmpl,
    const char *cdb)
{
	struct cf_db db;
	struct buf err = BUF_INIT(0);
	char self[PATH_MAX], deftmpl[PATH_MAX + 64], abscdb[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	struct cf_units_opts o;
	int up;

	if (n <= 0)
		die_sys(EX_OSERR, "unable to find my own directory");
	self[n] = '\0';
	dirname(self);
	if (tmpl == NULL) {
		/* Installed beside the units; in a source tree, units/. */
		snprintf(deftmpl, sizeof deftmpl,
		    "%s/../lib/systemd/system/postmaster-smtpd@.service", self);
		/* build/, build/test/, build/asan/test/ of a source tree */
		for (up = 1; up <= 3 && access(deftmpl, R_OK) < 0; up++)
			snprintf(deftmpl, sizeof deftmpl,
			    "%s/%.*sunits/postmaster-smtpd@.service", self,
			    3 * up, "../../../");
		tmpl = deftmpl;
	}
	if (realpath(cdb, abscdb) == NULL)
		snprintf(abscdb, sizeof abscdb, "%s", cdb);
	o.dir = dir;
	o.tmpl = tmpl;
	o.sbindir = self;
	o.cdb = abscdb;
	open_compiled(cf, &db);
	if (cf_units_write(&db, &o, &err) < 0) {
		fprintf(stderr, "postmaster-cfcompile: %s", err.p ? err.p : "");
		if (err.len && err.p[err.len - 1] != '\n')
			fputc('\n', stderr);
		return EX_DATAERR;
	}
	cf_db_close(&db);
	buf_free(&err);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *cfpath = "/etc/postmaster.cf", *out = PM_DEFAULT_CDB;
	const char *route = NULL, *smtpd = NULL, *units = NULL, *tmpl = NULL;
	const char *flags[MAX_FLAGS];
	unsigned flagn[MAX_FLAGS], nflags = 0, i;
	int check = 0, dump = 0, rc = 0;
	struct cf cf;
	struct cf_diag d;
	struct auth_cf acf;

	log_init("postmaster-cfcompile");
	for (i = 1; i < (unsigned)argc; i++) {
		const char *a = argv[i];
		int has_arg = i + 1 < (unsigned)argc;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(a, "-c") == 0 && has_arg) {
			cfpath = argv[++i];
		} else if (strcmp(a, "-o") == 0 && has_arg) {
			out = argv[++i];
		} else if (strcmp(a, "--check") == 0) {
			check = 1;
		} else if (strcmp(a, "--dump") == 0) {
			dump = 1;
		} else if (strcmp(a, "--route") == 0 && has_arg) {
			route = argv[++i];
		} else if (strcmp(a, "--smtpd") == 0 && has_arg) {
			smtpd = argv[++i];
		} else if (strcmp(a, "--units") == 0 && has_arg) {
			units = argv[++i];
		} else if (strcmp(a, "--template") == 0 && has_arg) {
			tmpl = argv[++i];
		} else if (strncmp(a, "--", 2) == 0 && strlen(a) > 2 &&
		    nflags < MAX_FLAGS) {
			flagn[nflags] = i;
			flags[nflags++] = a;
		} else {
			fprintf(stderr, "postmaster-cfcompile: %s: %s\n%s", a,
			    a[0] == '-' ? "unknown option or missing argument" :
			    "unexpected argument", usage);
			return EX_USAGE;
		}
	}

	cf_init(&cf);
	cf_diag_init(&d);
	cf_load_file(&cf, cfpath, &d);
	for (i = 0; i < nflags; i++) {
		if (cf_load_flag(&cf, flags[i], flagn[i], &d) == 0) {
			char name[64];
			const char *eq = strchr(flags[i] + 2, '=');
			size_t len = eq ? (size_t)(eq - flags[i] - 2) :
			    strlen(flags[i] + 2);
			const char *sug;

			snprintf(name, sizeof name, "%.*s", (int)len, flags[i] + 2);
			sug = cf_diag_suggest(name, options);
			if (sug == NULL)
				sug = cf_diag_suggest(name, cf_schema_kind_names());
			fprintf(stderr, "postmaster-cfcompile: %s: unknown option%s%s%s\n",
			    flags[i], sug ? " (did you mean '--" : "",
			    sug ? sug : "", sug ? "'?)" : "");
			return EX_USAGE;
		}
	}
	/* Every problem at once: the checker runs even after parse errors. */
	cf_check(&cf, &d);
	auth_cf_load(&cf, &d, &acf);
	fputs(d.out.p ? d.out.p : "", stderr);
	if (d.nerr) {
		fprintf(stderr, "postmaster-cfcompile: %s: %u error%s; %s\n",
		    cfpath, d.nerr, d.nerr == 1 ? "" : "s",
		    check || dump || route || units ? "nothing done" :
		    "the compiled configuration was not changed");
		return EX_DATAERR;
	}
	if (dump) {
		struct buf b = BUF_INIT(0);

		cf_dump(&cf, &b);
		fwrite(b.p ? b.p : "", 1, b.len, stdout);
		buf_free(&b);
	} else if (route) {
		rc = show_route(&cf, route, smtpd);
	} else if (units) {
		rc = write_units(&cf, units, tmpl, out);
	} else if (!check) {
		write_passwd_cdb(&acf, out);
		write_cdb(&cf, out);
	}
	auth_cf_free(&acf);
	cf_diag_free(&d);
	cf_free(&cf);
	if (fflush(stdout) != 0 || ferror(stdout))
		die_sys(EX_IOERR, "unable to write to standard output");
	return rc;
}
