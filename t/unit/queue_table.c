/* The scheduler's decisions (queue_table.h): window trimming during a
 * scan and after nudges, page-in, max-per-destination in a pass, the
 * worker-picking destination, oldest first, settling a finished one. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "queue/queue_table.h"
#include "tap.h"

/* What the pass did: the ids offered, in order, and with which key. */
struct offers {
	char id[16][SPOOL_ID_SIZE];
	uint64_t key[16];
	size_t n, dests_read;
	int refuse_from; /* start returns -1 from this offer on (-1: never) */
	struct queue_table *t;
	pid_t next_pid;
};

/* Every message "m<k>" goes to destination k % 3 + 1 (and 9 when k is
 * even: two destinations). */
static int
dests(void *arg, struct queue_msg *m)
{
	struct offers *o = arg;
	uint64_t dk[2];
	int k = m->id[1] - '0';

	o->dests_read++;
	dk[0] = (uint64_t)(k % 3 + 1);
	dk[1] = 9;
	queue_table_set_dests(o->t, m, dk, k % 2 == 0 ? 2 : 1);
	return 0;
}

static int
start(void *arg, struct queue_msg *m)
{
	struct offers *o = arg;

	if (o->refuse_from >= 0 && (int)o->n >= o->refuse_from)
		return -1;
	snprintf(o->id[o->n], sizeof o->id[o->n], "%s", m->id);
	o->key[o->n++] = queue_msg_key(m);
	queue_table_start(o->t, m, o->next_pid++);
	return 0;
}

/* A scan of ids[0..n) with their due times (wanted or not). */
static void
scan(struct queue_table *t, const char *const *ids, const int64_t *due,
    size_t n, int fresh)
{
	struct queue_table_scan s;
	size_t i;

	queue_table_scan_begin(t, &s, fresh);
	for (i = 0; i < n; i++) {
		struct queue_msg *m;

		if (queue_table_scan_seen(t, ids[i]))
			continue;
		m = queue_table_new(t, ids[i]);
		if (queue_table_scan_wants_due(t, &s))
			m->due = due[i];
		queue_table_scan_add(t, &s);
	}
	queue_table_scan_end(t);
}

/* A table and a fresh record of what its passes offer. */
static void
setup(struct queue_table *t, struct offers *o, size_t window,
    size_t max_running, size_t max_per_dest, pid_t first_pid)
{
	memset(o, 0, sizeof *o);
	o->t = t;
	o->refuse_from = -1;
	o->next_pid = first_pid;
	queue_table_init(t, window, max_running, max_per_dest);
}

static int
has(struct queue_table *t, const char *id)
{
	return queue_table_find_held(t, id, 0) != NULL;
}

static void
test_window(void)
{
	/* 12 messages, window 8 (slack 1): the latest due leave. */
	static const char *const ids[] = { "a00", "a01", "a02", "a03", "a04",
		"a05", "a06", "a07", "a08", "a09", "a10", "a11" };
	static const int64_t due[] = { 50, 10, 90, 20, 30, 95, 40, 60, 70, 5,
		80, 15 };
	struct queue_table t;
	struct queue_table_pass p;
	struct offers o;
	int64_t next = INT64_MAX;

	setup(&t, &o, 8, 4, 0, 100);
	scan(&t, ids, due, 12, 1);
	is_int((long long)t.n, 8, "window: 8 of 12 stay");
	is_int((long long)t.nrest, 4, "4 on disk only");
	is_int(t.overflow, 1, "overflow noted");
	is_int(has(&t, "a05") || has(&t, "a02") || has(&t, "a10") ||
	        has(&t, "a08"),
	    0, "the four latest due (95, 90, 80, 70) left");
	is_int(has(&t, "a09") && has(&t, "a07"), 1, "earliest and 60 stay");
	is_int(t.rest_due, 70, "the earliest due outside: 70");

	/* Page-in: not before the rest is due; then only once a second,
	 * and not while due ones inside wait for a worker. */
	is_int(queue_table_page_in(&t, 69, 0, &next), 0, "69: no page-in");
	is_int(next, 70, "look again at 70");
	next = INT64_MAX;
	is_int(queue_table_page_in(&t, 70, 1, &next), 0,
	    "70 but one due inside waits: no page-in");
	is_int(next, 71, "look again in a second");
	is_int(queue_table_page_in(&t, 70, 0, &next), 1, "70: page-in");
	is_int(queue_table_page_in(&t, 70, 0, &next), 0,
	    "not twice in one second");

	/* A pass at 30: due ones oldest first, until no worker is free. */
	o.refuse_from = 3;
	queue_table_pass(&t, 30, 0, 4, dests, start, &o, &p);
	is_int((long long)o.n, 3, "three start");
	is_str(o.id[0], "a01", "oldest due first: a01");
	is_str(o.id[1], "a03", "then a03");
	is_str(o.id[2], "a04", "then a04");
	is_int((long long)p.idle_due, 2, "a09, a11 wait for a worker");
	is_int(p.next, 40, "next due: 40");
	is_int((long long)t.running, 3, "three running");

	/* A scan with workers busy: running ones are above the window. */
	scan(&t, ids, due, 12, 0);
	is_int((long long)t.n, 11, "window 8 + 3 in delivery");
	is_int(has(&t, "a02") && has(&t, "a08") && has(&t, "a10"), 1,
	    "paged in: due 70, 80, 90 are back");
	is_int(has(&t, "a05"), 0, "the latest due (95) stays out");
	is_int((long long)t.nrest, 1, "one on disk only");
	is_int(t.rest_due, 95, "due at 95");
	queue_table_free(&t);
}

static void
test_dest_limit(void)
{
	static const char *const ids[] = { "m1", "m4", "m7", "m2", "m5" };
	static const int64_t due[] = { 0, 0, 0, 0, 0 };
	struct queue_table t;
	struct queue_table_pass p;
	struct offers o;
	struct queue_msg *m;

	/* m1, m4, m7 go to destination 2 (m4 also to 9); m2 to 3 and 9,
	 * m5 to 3. At most 2 per destination, 10 workers. */
	setup(&t, &o, 0, 10, 2, 200);
	scan(&t, ids, due, 5, 1);
	queue_table_pass(&t, 0, 0, 10, dests, start, &o, &p);
	is_int((long long)o.dests_read, 5, "destinations read on first need");
	is_int((long long)o.n, 4, "four start");
	is_str(o.id[0], "m1", "m1 (dest 2)");
	is_str(o.id[1], "m2", "m2 (dest 3, 9): ids sort, m2 before m4");
	is_str(o.id[2], "m4", "m4 (dest 2, 9)");
	is_str(o.id[3], "m5", "m5 (dest 3)");
	is_int((long long)p.idle_due, 1, "m7: two already run to dest 2");
	is_int((long long)o.key[0], 2, "m1's worker is picked for dest 2");
	is_int((long long)o.key[1], 3, "m2's by its first destination, 3");

	/* m1 done and still pending (due 50): dest 2 has room for m7. */
	m = queue_table_find_held(&t, "m1", 1);
	queue_table_finish(&t, m);
	m->due = 50;
	queue_table_settle(&t, m, 0, NULL, 0, 10);
	is_int(m->due, 50, "settled: due 50 as read");
	is_int(m->dk_known, 0, "destinations unknown: read again later");
	o.n = 0;
	queue_table_pass(&t, 10, 0, 10, dests, start, &o, &p);
	is_int((long long)o.n, 1, "one more starts");
	is_str(o.id[0], "m7", "m7, now that dest 2 has room");
	is_int(p.next, 50, "next due: m1 at 50");

	/* A finished message still due is not tried in the same second;
	 * one that is gone leaves. */
	m = queue_table_find_held(&t, "m2", 1);
	queue_table_finish(&t, m);
	m->due = 0;
	queue_table_settle(&t, m, 0, NULL, 0, 10);
	is_int(m->due, 11, "still due: not before now + 1");
	m = queue_table_find_held(&t, "m5", 1);
	queue_table_finish(&t, m);
	queue_table_settle(&t, m, 1, NULL, 0, 10);
	queue_table_prune(&t);
	is_int(has(&t, "m5"), 0, "gone: dropped");
	is_int((long long)t.running, 2, "m4 and m7 still running");
	queue_table_free(&t);

	/* The limit at or above the workers is no limit. */
	queue_table_init(&t, 0, 4, 4);
	is_int((long long)t.max_per_dest, 0, "limit >= workers: none");
	queue_table_free(&t);
}

static void
test_nudge(void)
{
	static const char *const ids[] = { "b2", "b4" };
	static const int64_t due[] = { 100, 100 };
	struct queue_table t;
	struct queue_table_pass p;
	struct offers o;

	setup(&t, &o, 0, 4, 0, 300);
	scan(&t, ids, due, 2, 1);
	is_int(queue_table_nudge(&t, "b5") != NULL, 1, "new id appended");
	is_int(queue_table_nudge(&t, "b1") != NULL, 1, "an older one too");
	is_int(queue_table_nudge(&t, "b2") == NULL, 1, "a known one is not");
	queue_table_nudge(&t, "b5");
	queue_table_merge(&t);
	is_int((long long)t.n, 4, "merged: the twice-nudged one once");
	is_int((long long)t.nsorted, 4, "all sorted");
	is_str(t.m[0].id, "b1", "in id order: b1");
	is_str(t.m[3].id, "b5", "... b5");
	queue_table_pass(&t, 10, 0, 4, dests, start, &o, &p);
	is_int((long long)o.n, 2, "the nudged ones are due now");
	is_str(o.id[0], "b1", "b1 first");

	/* --once: a message that needed root is offered again. */
	queue_table_finish(&t, queue_table_find_held(&t, "b1", 1));
	queue_table_needs_root(&t, "b1", 10);
	is_int(queue_table_find(&t, "b1")->privileged, 1, "needs root");
	is_int((long long)queue_table_untried(&t, 10), 1, "b1 untried");
	queue_table_free(&t);
}

int
main(void)
{
	test_window();
	test_dest_limit();
	test_nudge();
	return tap_done();
}
