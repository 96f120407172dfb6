#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "deliver/deliver_maildir.h"
#include "queue/queue_argv.h"
#include "queue/queue_attempt_pipe.h"
#include "queue/queue_pipe.h"
#include "queue/queue_priv.h"

/* The argument words before expansion; 0, or -1 with o[] set. */
static int
pipe_words(const struct queue_cfg *c, const struct queue_target *t,
    struct queue_argv *words, uint64_t *timeout, const char *relay, size_t n,
    struct queue_result *o)
{
	char diag[QUEUE_DIAG_MAX];
	struct cf_words w;
	size_t i;
	int e;

	/* A command target has no [pipe] section: the schema's default. */
	if (cf_db_uint(c->db, "pipe", t->k == QUEUE_T_CMD ? "" : t->name,
	        "timeout", timeout) < 0) {
		queue_result_set_all(o, n, QUEUE_TEMP, relay,
		    "x-unix; 4.3.5 cannot read the [pipe] timeout");
		return -1;
	}
	if (t->k == QUEUE_T_CMD) {
		if ((e = queue_argv_split(words, t->name)) != 0) {
			snprintf(diag, sizeof diag,
			    "x-unix; 5.3.5 bad command: %s",
			    queue_argv_strerror(e));
			queue_result_set_all(o, n, QUEUE_PERM, relay, diag);
			return -1;
		}
		return 0;
	}
	if (cf_db_words(c->db, "pipe", t->name, "exec", &w) < 0 || w.n == 0) {
		queue_result_set_all(o, n, QUEUE_TEMP, relay,
		    "x-unix; 4.3.5 [pipe] has no exec");
		return -1;
	}
	for (i = 0; i < w.n; i++)
		if (queue_argv_push(words, w.w[i], w.len[i]) != 0) {
			queue_result_set_all(o, n, QUEUE_TEMP, t->name,
			    "x-unix; 4.3.0 out of memory");
			return -1;
		}
	return 0;
}

/*
 * The words with the envelope substituted; 0, or -1 with o[] set. A
 * refused value fails its owner(s); the runner retries the others in the
 * next pass as a smaller batch.
 */
static int
pipe_expand(const struct queue_job *j, const struct queue_argv *words,
    const char **rcpts, size_t n, const char *relay, struct queue_argv *argv,
    struct queue_result *o)
{
	const struct spool_env *env = &j->m.env;
	struct queue_vars vars;
	char diag[QUEUE_DIAG_MAX];
	size_t i, bad = 0;
	int e;

	vars.sender = env->sender.p;
	vars.rcpt = rcpts;
	vars.nrcpt = n;
	vars.queue_id = env->id;
	e = queue_argv_expand(argv, words->v, words->n, &vars, &bad);
	if (e == QUEUE_ARGV_E_DASH) {
		snprintf(diag, sizeof diag,
		    "x-unix; 5.1.3 %s address starts "
		    "with '-' and is refused as a program argument",
		    bad == QUEUE_ARGV_SENDER ? "sender" : "recipient");
		queue_result_set_all(o, n, QUEUE_TEMP, relay,
		    "x-unix; 4.3.0 retried without a refused recipient");
		for (i = 0; i < n; i++)
			if (bad == QUEUE_ARGV_SENDER || bad == i) {
				o[i].o = QUEUE_PERM;
				snprintf(o[i].diag, sizeof o[i].diag, "%s",
				    diag);
			}
		return -1;
	}
	if (e != 0) {
		snprintf(diag, sizeof diag, "x-unix; 4.3.5 %s",
		    queue_argv_strerror(e));
		queue_result_set_all(o, n, QUEUE_TEMP, relay, diag);
		return -1;
	}
	return 0;
}

static int
env_push(struct queue_argv *envv, const char *name, const char *value)
{
	char line[1200];

	snprintf(line, sizeof line, "%s=%s", name, value);
	return queue_argv_push(envv, line, strlen(line));
}

/* A small, fixed environment: nothing of ours leaks to programs. */
static int
pipe_env(const struct queue_job *j, const struct queue_pipe_req *req,
    const char *rcpt, struct queue_argv *envv)
{
	const struct spool_env *env = &j->m.env;

	if (env_push(envv, "PATH", "/usr/local/bin:/usr/bin:/bin") ||
	    env_push(envv, "HOME", req->dir ? req->dir : "/") ||
	    env_push(envv, "QUEUE_ID", env->id) ||
	    env_push(envv, "SENDER", env->sender.p) ||
	    env_push(envv, "RECIPIENT", rcpt))
		return -1;
	if (req->setuser &&
	    (env_push(envv, "USER", req->user) ||
	        env_push(envv, "LOGNAME", req->user)))
		return -1;
	return 0;
}

/* Runs the program; its result for every delivery. -1: out of memory
 * (o[] not set). */
static int
pipe_run(struct queue_job *j, struct queue_pipe_req *req,
    const struct queue_argv *argv, const struct queue_argv *envv,
    uint64_t timeout, const char *relay, size_t n, struct queue_result *o)
{
	const struct spool_env *env = &j->m.env;
	struct queue_pipe_res res;
	struct buf hdr = BUF_INIT(0);
	char diag[QUEUE_DIAG_MAX];
	enum queue_outcome oc;

	if (deliver_maildir_hdr_return_path(&hdr, env->sender.p,
	        env->sender.len) < 0) {
		buf_free(&hdr);
		return -1;
	}
	req->argv = argv->v;
	req->envp = envv->v;
	req->hdr = hdr.p;
	req->hdrlen = hdr.len;
	req->msgfd = j->m.fd;
	req->off = j->m.body_off;
	req->end = j->m.file_size;
	req->timeout = timeout > 86400 ? 86400 : (unsigned)timeout;
	req->stop = j->c->stop;
	if (queue_pipe_run(req, &res) < 0) {
		snprintf(diag, sizeof diag, "x-unix; 4.3.0 cannot run %s: %s",
		    argv->v[0], strerror(errno));
		queue_result_set_all(o, n, QUEUE_TEMP, relay, diag);
	} else {
		oc = queue_pipe_classify(&res, diag, sizeof diag);
		queue_result_set_all(o, n, oc, relay, diag);
	}
	buf_free(&hdr);
	return 0;
}

void
queue_attempt_pipe(struct queue_job *j, const struct queue_target *t,
    const size_t *idx, size_t n, struct queue_result *o)
{
	const struct queue_cfg *c = j->c;
	const struct spool_env *env = &j->m.env;
	struct queue_argv words, argv, envv;
	struct queue_pipe_req req;
	struct passwd pwbuf;
	const char **rcpts = NULL;
	char sbuf[4096], diag[QUEUE_DIAG_MAX], relay[300];
	uint64_t timeout = 0;
	size_t i;
	int e;

	queue_argv_init(&words);
	queue_argv_init(&argv);
	queue_argv_init(&envv);
	memset(&req, 0, sizeof req);
	if (t->k == QUEUE_T_PIPE)
		snprintf(relay, sizeof relay, "%.290s", t->name);
	else
		snprintf(relay, sizeof relay, "cmd");
	if (pipe_words(c, t, &words, &timeout, relay, n, o) < 0)
		goto out;
	if ((rcpts = calloc(n, sizeof *rcpts)) == NULL)
		goto nomem;
	for (i = 0; i < n; i++) {
		struct queue_target tt;

		queue_target_of(c, &env->dlv[idx[i]], &tt);
		rcpts[i] = tt.rcpt;
	}
	if (pipe_expand(j, &words, rcpts, n, relay, &argv, o) < 0)
		goto out;
	if ((e = queue_priv_pipe_user(c, t, &env->dlv[idx[0]], &pwbuf, sbuf,
	         sizeof sbuf, &req, diag, sizeof diag)) < 0) {
		queue_result_set_all(o, n,
		    e == QUEUE_PRIV_REFUSED ? QUEUE_PERM : QUEUE_TEMP, relay,
		    diag);
		goto out;
	}
	if (pipe_env(j, &req, rcpts[0], &envv) < 0)
		goto nomem;
	if (pipe_run(j, &req, &argv, &envv, timeout, relay, n, o) < 0)
		goto nomem;
	goto out;
nomem:
	queue_result_set_all(o, n, QUEUE_TEMP, t->name,
	    "x-unix; 4.3.0 out of memory");
out:
	free(rcpts);
	queue_argv_free(&words);
	queue_argv_free(&argv);
	queue_argv_free(&envv);
}
