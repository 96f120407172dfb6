#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/array.h"
#include "queue/queue_due.h"
#include "queue/queue_table.h"
#include "queue/queue_window.h"

int
queue_table_init(struct queue_table *t, size_t window, size_t max_running,
    size_t max_per_dest)
{
	memset(t, 0, sizeof *t);
	t->window = window;
	t->rest_due = INT64_MAX;
	/* The global limit bites first. */
	t->max_per_dest = max_per_dest >= max_running ? 0 : max_per_dest;
	/* At most max_running * QUEUE_DEST_MAX live keys. */
	if (t->max_per_dest &&
	    queue_dcount_init(&t->dc, max_running * QUEUE_DEST_MAX) < 0)
		return -1;
	return 0;
}

static void
msg_forget(struct queue_msg *m)
{
	if (m->ndk > 1)
		free(m->dk.v);
	m->dk.v = NULL;
	m->ndk = 0;
	m->dk_known = 0;
}

void
queue_table_free(struct queue_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		msg_forget(&t->m[i]);
	free(t->m);
	if (t->max_per_dest)
		queue_dcount_free(&t->dc);
	memset(t, 0, sizeof *t);
}

const uint64_t *
queue_msg_dk(const struct queue_msg *m)
{
	return m->ndk > 1 ? m->dk.v : &m->dk.one;
}

uint64_t
queue_msg_key(const struct queue_msg *m)
{
	return m->ndk ? queue_msg_dk(m)[0] : 0;
}

static int
cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct queue_msg *)a)->id,
	    ((const struct queue_msg *)b)->id);
}

struct queue_msg *
queue_table_find(struct queue_table *t, const char *id)
{
	struct queue_msg key;

	snprintf(key.id, sizeof key.id, "%s", id);
	return t->nsorted ?
	    bsearch(&key, t->m, t->nsorted, sizeof *t->m, cmp_msg) :
	    NULL;
}

struct queue_msg *
queue_table_find_held(struct queue_table *t, const char *id, int held)
{
	struct queue_msg *m = queue_table_find(t, id);
	size_t i;

	if (m && (!held || m->pid))
		return m;
	/* Ids nudged since the last merge are not sorted in yet. */
	for (i = 0; i < t->n; i++)
		if ((!held || t->m[i].pid) && strcmp(t->m[i].id, id) == 0)
			return &t->m[i];
	return NULL;
}

void
queue_table_set_dests(struct queue_table *t, struct queue_msg *m,
    const uint64_t *dk, size_t n)
{
	msg_forget(m);
	m->dk_known = 1;
	if (n > 1 && t->max_per_dest == 0)
		n = 1;
	if (n == 1)
		m->dk.one = dk[0];
	else if (n > 1) {
		if ((m->dk.v = array_resize(NULL, n, sizeof *dk)) == NULL) {
			m->dk_known = 0; /* none; tried again later */
			return;
		}
		memcpy(m->dk.v, dk, n * sizeof *dk);
	}
	m->ndk = (unsigned char)n;
}

/* Counts m's destinations as running (delta 1) or no longer (-1). A
 * table full of stale keys keeps only the live ones: the workers running
 * now, m not yet among them. */
static void
count(struct queue_table *t, const struct queue_msg *m, int delta)
{
	size_t i;

	if (t->max_per_dest == 0)
		return;
	if (delta > 0 && queue_dcount_full(&t->dc, m->ndk)) {
		queue_dcount_clear(&t->dc);
		for (i = 0; i < t->n; i++)
			if (t->m[i].pid)
				queue_dcount_add(&t->dc,
				    queue_msg_dk(&t->m[i]), t->m[i].ndk, 1);
	}
	queue_dcount_add(&t->dc, queue_msg_dk(m), m->ndk, delta);
}

struct queue_msg *
queue_table_new(struct queue_table *t, const char *id)
{
	struct queue_msg *m, *v;
	size_t cap = t->cap;

	if (t->n == t->cap) {
		/* Twice as large, from QUEUE_TABLE_FIRST_CAP. */
		if (cap < QUEUE_TABLE_FIRST_CAP / 2)
			cap = QUEUE_TABLE_FIRST_CAP / 2;
		if ((v = array_grow(t->m, &cap, 2 * cap, sizeof *v)) == NULL)
			return NULL;
		t->m = v;
		t->cap = cap;
	}
	m = &t->m[t->n];
	memset(m, 0, sizeof *m);
	snprintf(m->id, sizeof m->id, "%s", id);
	m->seen = 1;
	return m;
}

/* Drops what left (unless a worker still holds it), then sorts. */
static void
drop_unseen(struct queue_table *t)
{
	size_t i, o;

	for (i = o = 0; i < t->n; i++) {
		if (t->m[i].seen || t->m[i].pid)
			t->m[o++] = t->m[i];
		else
			msg_forget(&t->m[i]);
	}
	t->n = o;
	if (t->n > 1)
		qsort(t->m, t->n, sizeof *t->m, cmp_msg);
	t->nsorted = t->n;
}

/* Gives back what a larger queue once needed. */
static void
shrink(struct queue_table *t)
{
	struct queue_msg *v;
	size_t ncap;

	if (t->window == 0 || t->cap <= QUEUE_TABLE_FIRST_CAP ||
	    t->cap <= 2 * t->n)
		return;
	ncap = t->n * 5 / 4 > QUEUE_TABLE_FIRST_CAP ? t->n * 5 / 4 :
	                                              QUEUE_TABLE_FIRST_CAP;
	if ((v = array_resize(t->m, ncap, sizeof *v)) != NULL) {
		t->m = v;
		t->cap = ncap;
	}
}

void
queue_table_scan_begin(struct queue_table *t, struct queue_table_scan *s,
    int fresh)
{
	size_t i;

	s->fresh = fresh;
	s->page = t->overflow;
	s->from = t->n;
	for (i = 0; i < t->n; i++)
		t->m[i].seen = 0;
	/* A full pass: what stays outside is counted again. */
	t->overflow = 0;
	t->nrest = 0;
	t->rest_due = INT64_MAX;
	/* New ids are appended after the sorted part, which is all find
	 * searches; one readdir names each file once. */
	t->nsorted = t->n;
}

int
queue_table_scan_seen(struct queue_table *t, const char *id)
{
	struct queue_msg *m = queue_table_find(t, id);

	if (m == NULL)
		return 0;
	m->seen = 1;
	return 1;
}

int
queue_table_scan_wants_due(const struct queue_table *t,
    const struct queue_table_scan *s)
{
	/* Unknown ids are new arrivals unless part of the queue is outside
	 * the window (or this scan already pushed some out). */
	return s->fresh || s->page || t->overflow;
}

void
queue_table_scan_add(struct queue_table *t, struct queue_table_scan *s)
{
	t->n++;
	/* Memory stays bounded during the scan too. */
	if (t->window &&
	    t->n - s->from >= t->window + QUEUE_TABLE_SLACK(t->window))
		queue_table_trim(t, s->from, s->from + t->window);
}

void
queue_table_scan_end(struct queue_table *t)
{
	drop_unseen(t);
	/* Messages in delivery are on top of the window. */
	queue_table_trim(t, 0, t->window + t->running);
	shrink(t);
}

struct queue_msg *
queue_table_nudge(struct queue_table *t, const char *id)
{
	struct queue_msg *m;

	if (queue_table_find(t, id) || (m = queue_table_new(t, id)) == NULL)
		return NULL;
	t->n++;
	return m;
}

/* Merges the sorted v[0..k) (at m[nsorted..n)) into m[0..nsorted). */
static void
merge_in(struct queue_table *t, const struct queue_msg *v, size_t k)
{
	struct queue_msg *tmp = array_resize(NULL, k, sizeof *tmp);
	ptrdiff_t a = (ptrdiff_t)t->nsorted - 1, b = (ptrdiff_t)k - 1;
	ptrdiff_t w = (ptrdiff_t)t->n - 1;

	if (tmp == NULL) {
		qsort(t->m, t->n, sizeof *t->m, cmp_msg);
		return;
	}
	memcpy(tmp, v, k * sizeof *tmp);
	/* From the back: each entry moves at most once. */
	while (b >= 0) {
		if (a >= 0 && strcmp(t->m[a].id, tmp[b].id) > 0)
			t->m[w--] = t->m[a--];
		else
			t->m[w--] = tmp[b--];
	}
	free(tmp);
}

/*
 * Sorts m[nsorted..n) (the ids just nudged) into the sorted table: new
 * ids are the newest, so this is mostly a check and an append; otherwise
 * one merge from the back, O(n), never a sort of the whole table. Then
 * the window is trimmed when the nudges took it past its slack.
 */
void
queue_table_merge(struct queue_table *t)
{
	size_t k = t->n - t->nsorted, i, o;
	struct queue_msg *v = &t->m[t->nsorted];

	if (k > 1)
		qsort(v, k, sizeof *v, cmp_msg);
	/* The same id twice in one drain: keep one. */
	for (i = o = 1; i < k; i++)
		if (strcmp(v[i].id, v[o - 1].id) != 0)
			v[o++] = v[i];
	if (k) {
		t->n = t->nsorted + o;
		if (t->nsorted &&
		    strcmp(t->m[t->nsorted - 1].id, v[0].id) >= 0)
			merge_in(t, v, o);
		t->nsorted = t->n;
	}
	if (t->window &&
	    t->n > t->window + QUEUE_TABLE_SLACK(t->window) + t->running)
		queue_table_trim(t, 0, t->window + t->running);
}

void
queue_table_prune(struct queue_table *t)
{
	size_t i, o, sorted = t->nsorted;

	for (i = o = 0; i < t->n; i++) {
		if (t->m[i].gone && !t->m[i].pid) {
			msg_forget(&t->m[i]);
			if (i < t->nsorted)
				sorted--;
			continue;
		}
		if (o != i)
			t->m[o] = t->m[i];
		o++;
	}
	t->n = o;
	t->nsorted = sorted;
}

void
queue_table_trim(struct queue_table *t, size_t from, size_t keep)
{
	struct queue_window_ent *v;
	size_t i, nv = 0, drop;

	if (t->window == 0 || t->n <= keep)
		return;
	drop = t->n - keep;
	if ((v = array_resize(NULL, t->n - from, sizeof *v)) == NULL)
		return;
	for (i = from; i < t->n; i++)
		if (!t->m[i].pid && !t->m[i].gone) {
			v[nv].due = t->m[i].due;
			v[nv++].i = i;
		}
	drop = queue_window_leave(v, nv, drop);
	for (i = 0; i < drop; i++) {
		struct queue_msg *m = &t->m[v[i].i];

		if (m->due < t->rest_due)
			t->rest_due = m->due;
		m->gone = 1;
		t->nrest++;
	}
	if (drop)
		t->overflow = 1;
	free(v);
	queue_table_prune(t);
}

/* May m start now? Not when one of its destinations already has
 * max-per-destination workers. */
static int
dest_room(struct queue_table *t, struct queue_msg *m,
    int (*dests)(void *, struct queue_msg *), void *arg)
{
	/* Known even when nothing runs: this delivery must be counted,
	 * and the first destination picks the worker. */
	if (!m->dk_known && dests(arg, m) < 0)
		return 1;
	if (t->running == 0)
		return 1;
	return queue_dcount_room(&t->dc, queue_msg_dk(m), m->ndk,
	    t->max_per_dest);
}

void
queue_table_pass(struct queue_table *t, int64_t now, int once,
    size_t max_running, int (*dests)(void *, struct queue_msg *),
    int (*start)(void *, struct queue_msg *), void *arg,
    struct queue_table_pass *out)
{
	int full = 0, rc;
	size_t i;

	out->next = INT64_MAX;
	out->idle_due = 0;
	/* Oldest first: ids sort by arrival. */
	for (i = 0; i < t->n; i++) {
		struct queue_msg *m = &t->m[i];

		if (m->pid || (once && m->tried))
			continue;
		if (m->due > now) {
			if (m->due < out->next)
				out->next = m->due;
		} else if (full || t->running >= max_running ||
		    !dest_room(t, m, dests, arg)) {
			out->idle_due++;
		} else if ((rc = start(arg, m)) < 0) {
			full = rc == -1; /* none idle */
			out->idle_due++;
		}
	}
}

int
queue_table_page_in(struct queue_table *t, int64_t now, size_t idle_due,
    int64_t *next)
{
	if (!t->overflow)
		return 0;
	if (t->rest_due <= now) {
		if (idle_due == 0 && now >= t->next_page) {
			t->next_page = now + 1;
			return 1;
		}
		if (now + 1 < *next)
			*next = now + 1;
	} else if (t->rest_due < *next) {
		*next = t->rest_due;
	}
	return 0;
}

void
queue_table_start(struct queue_table *t, struct queue_msg *m, pid_t pid)
{
	count(t, m, 1); /* before pid is set: see count */
	m->pid = pid;
	m->tried = 1;
	t->running++;
}

void
queue_table_finish(struct queue_table *t, struct queue_msg *m)
{
	m->pid = 0;
	t->running--;
	count(t, m, -1);
	msg_forget(m);
}

void
queue_table_settle(struct queue_table *t, struct queue_msg *m, int gone,
    const uint64_t *dk, size_t ndk, int64_t now)
{
	/* What is left may go elsewhere. */
	if (!gone && dk)
		queue_table_set_dests(t, m, dk, ndk);
	if (gone) {
		m->due = INT64_MAX;
		m->seen = 0;
		m->gone = 1;
	} else if (m->due <= now) {
		/* Still due right after a run (a bounce could not be
		 * queued): not in a tight loop. */
		m->due = now + 1;
	}
}

void
queue_table_needs_root(struct queue_table *t, const char *id, int64_t now)
{
	struct queue_msg *m = queue_table_find_held(t, id, 0);

	if (m == NULL || m->gone)
		return;
	m->privileged = 1;
	m->due = now;
	m->tried = 0; /* --once: it was not attempted */
}

size_t
queue_table_untried(const struct queue_table *t, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		if (!t->m[i].tried && t->m[i].due <= now)
			n++;
	return n;
}
