#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlsd/tlsd_inst.h"

void
tlsd_inst_read(struct cf_db *db, const char *name, struct tlsd_cfg *c)
{
	struct cf_words cw, kw;
	size_t i;

	memset(c, 0, sizeof *c);
	cf_db_words(db, "smtpd", name, "tls-certificate", &cw);
	cf_db_words(db, "smtpd", name, "tls-key", &kw);
	for (i = 0; i < cw.n && i < kw.n && i < TLSD_MAX_PAIRS; i++) {
		snprintf(c->cert[i], sizeof c->cert[i], "%.*s", (int)cw.len[i],
		    cw.w[i]);
		snprintf(c->key[i], sizeof c->key[i], "%.*s", (int)kw.len[i],
		    kw.w[i]);
		c->certp[i] = c->cert[i];
		c->keyp[i] = c->key[i];
	}
	c->files.cert = c->certp;
	c->files.key = c->keyp;
	c->files.n = i;
	cf_db_str(db, "smtpd", name, "tls-priority", c->priority,
	    sizeof c->priority);
	cf_db_str(db, "smtpd", name, "tls-ticket-key-file", c->ticket,
	    sizeof c->ticket);
	c->files.priority = c->priority;
	c->files.ticket_key = c->ticket;
	c->idle = 300;
	c->deadline = 1800;
	cf_db_uint(db, "smtpd", name, "idle-timeout", &c->idle);
	cf_db_uint(db, "smtpd", name, "session-timeout", &c->deadline);
}

static void
stamp(const char *path, struct tlsd_stamp *t)
{
	struct stat st;

	memset(t, 0, sizeof *t);
	if (path[0] == '\0' || stat(path, &st) < 0)
		return;
	t->dev = st.st_dev;
	t->ino = st.st_ino;
	t->size = st.st_size;
	t->mtime = st.st_mtim;
	t->ctime = st.st_ctim;
}

static int
same(const struct tlsd_stamp *a, const struct tlsd_stamp *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime.tv_sec == b->mtime.tv_sec &&
	    a->mtime.tv_nsec == b->mtime.tv_nsec &&
	    a->ctime.tv_sec == b->ctime.tv_sec &&
	    a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The stamps of every file the instance names, in a fixed order. */
static void
stamps(const struct tlsd_cfg *c, struct tlsd_stamp *t)
{
	size_t i;

	for (i = 0; i < TLSD_MAX_PAIRS; i++) {
		stamp(c->cert[i], &t[i]);
		stamp(c->key[i], &t[TLSD_MAX_PAIRS + i]);
	}
	stamp(c->ticket, &t[2 * TLSD_MAX_PAIRS]);
}

static void
inst_free(struct tlsd_inst *in)
{
	if (in->loaded)
		tlsd_cred_free(&in->cred);
	free(in);
}

void
tlsd_insts_init(struct tlsd_insts *s, const char *cdb)
{
	memset(s, 0, sizeof *s);
	s->cdb = cdb;
}

void
tlsd_insts_free(struct tlsd_insts *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		inst_free(s->inst[i]);
	s->n = 0;
}

/* A new entry for name from the configuration; NULL with why. */
static struct tlsd_inst *
add(struct tlsd_insts *s, const char *name, char *why, size_t cap)
{
	struct tlsd_inst *in;
	struct cf_db db;
	const char *e;

	if (s->n == TLSD_MAX_INSTANCES) {
		snprintf(why, cap, "more than %d instances with TLS",
		    TLSD_MAX_INSTANCES);
		return NULL;
	}
	if (cf_db_open(&db, s->cdb, &e) < 0) {
		snprintf(why, cap, "unable to open %s: %s", s->cdb, e);
		return NULL;
	}
	if (!cf_db_has_section(&db, "smtpd", name)) {
		snprintf(why, cap, "no [smtpd \"%s\"] in %s", name, s->cdb);
		cf_db_close(&db);
		return NULL;
	}
	if ((in = calloc(1, sizeof *in)) == NULL) {
		snprintf(why, cap, "out of memory");
		cf_db_close(&db);
		return NULL;
	}
	snprintf(in->name, sizeof in->name, "%s", name);
	tlsd_inst_read(&db, name, &in->cfg);
	cf_db_close(&db);
	s->inst[s->n++] = in;
	return in;
}

struct tlsd_inst *
tlsd_insts_get(struct tlsd_insts *s, const char *name, char *why, size_t cap)
{
	struct tlsd_stamp now[2 * TLSD_MAX_PAIRS + 1], cdb;
	struct tlsd_inst *in = NULL;
	size_t i;

	/* a new configuration: every instance is read again */
	stamp(s->cdb, &cdb);
	if (!same(&cdb, &s->cdb_stamp)) {
		tlsd_insts_free(s);
		s->cdb_stamp = cdb;
		s->reset_gen = ++s->gen;
	}
	for (i = 0; i < s->n && in == NULL; i++)
		if (strcmp(s->inst[i]->name, name) == 0)
			in = s->inst[i];
	if (in == NULL && (in = add(s, name, why, cap)) == NULL)
		return NULL;
	stamps(&in->cfg, now);
	for (i = 0; in->loaded && i < sizeof now / sizeof now[0]; i++)
		if (!same(&now[i], &in->stamp[i])) {
			tlsd_cred_free(&in->cred);
			in->loaded = 0;
		}
	if (!in->loaded) {
		/* stamped before reading: a change while reading shows next time */
		memcpy(in->stamp, now, sizeof now);
		in->loaded = tlsd_cred_load(&in->cred, &in->cfg.files, in->why,
		                 sizeof in->why) == 0;
		/* only a loaded instance is ever served: a key that keeps
		 * failing asks nothing new of the workers */
		if (in->loaded)
			in->gen = ++s->gen;
	}
	return in;
}
