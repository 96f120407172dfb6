/*
 * queue_table: the queue runner's scheduler, its decisions without I/O.
 *
 * The table holds the queued messages the runner knows, sorted by id
 * (ids sort by arrival, so "oldest first" is table order). It is a
 * window of at most `window` messages (0: no bound), the earliest due;
 * the others stay on disk only (nrest of them, the earliest due at
 * rest_due) until a page-in scan reads them again. A message may start
 * when fewer than max-per-destination deliveries run to each of its
 * destinations (queue_dcount.h); its first destination picks the
 * worker (queue_pick.h: a worker whose last message went there).
 *
 * The caller does the I/O: it reads due times and destinations
 * (queue_due.h) when the table asks, and starts a worker when the pass
 * offers it a message; see queue_dispatch.h.
 *
 * Functions that grow the table return NULL or -1 with errno ENOMEM and
 * leave it as it was: the periodic rescan finds what was missed.
 */
#ifndef PM_QUEUE_TABLE_H
#define PM_QUEUE_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue/queue_dcount.h"
#include "spool/spool_id.h"

#define QUEUE_TABLE_SLACK(w) ((w) / 8) /* over the window before a trim */
#define QUEUE_TABLE_FIRST_CAP 256      /* and never shrunk below */

/* 56 bytes: the window holds up to QUEUE_CFG_WINDOW of them. */
struct queue_msg {
	char id[SPOOL_ID_SIZE];
	unsigned char tried : 1;      /* --once: attempted in this run */
	unsigned char flush : 1;      /* flush when the worker is done */
	unsigned char seen : 1;       /* present in the last scan */
	unsigned char gone : 1;       /* queue/ID removed: drop it */
	unsigned char dk_known : 1;   /* destinations read */
	unsigned char privileged : 1; /* only for a worker that kept root */
	/* Destinations of its pending deliveries, known once dk_known:
	 * queue_msg_dk(m)[0..ndk), counted while pid != 0
	 * (max-per-destination); the first also picks the worker. Without
	 * the limit only the first is kept. One is held inline. */
	unsigned char ndk;
	pid_t pid; /* the worker delivering it, or 0 */
	int64_t due;
	union {
		uint64_t *v;  /* ndk > 1 */
		uint64_t one; /* ndk == 1 */
	} dk;
};
_Static_assert(sizeof(struct queue_msg) <= 56, "struct queue_msg grew");

struct queue_table {
	struct queue_msg *m;
	size_t n, cap;
	size_t nsorted; /* m[0..nsorted) is sorted; find sees it */
	size_t window;  /* 0: no bound */
	size_t nrest;   /* messages outside the window */
	int64_t rest_due, next_page;
	int overflow; /* some messages are outside */
	size_t running;
	size_t max_per_dest; /* 0: no limit */
	struct queue_dcount dc;
};

/* One pass over the table: what it left for later. */
struct queue_table_pass {
	int64_t next;    /* earliest future due time, or INT64_MAX */
	size_t idle_due; /* due but not started */
};

/* A scan of queue/ in progress. */
struct queue_table_scan {
	int fresh;   /* compute due times (start) or 0 = due now */
	int page;    /* a page-in: compute them for unknown ids */
	size_t from; /* m[0..from): the table before this scan */
};

/* The limit is dropped when max_running workers reach it first. */
int queue_table_init(struct queue_table *t, size_t window, size_t max_running,
    size_t max_per_dest);
void queue_table_free(struct queue_table *t);

const uint64_t *queue_msg_dk(const struct queue_msg *m);
/* The destination that picks m's worker (0: none known). */
uint64_t queue_msg_key(const struct queue_msg *m);

/* In the sorted part only. */
struct queue_msg *queue_table_find(struct queue_table *t, const char *id);
/* Anywhere; held: only an entry a worker holds. */
struct queue_msg *queue_table_find_held(struct queue_table *t, const char *id,
    int held);
/* Records m's destinations (dk[0..n), queue_due_dests order). */
void queue_table_set_dests(struct queue_table *t, struct queue_msg *m,
    const uint64_t *dk, size_t n);

/*
 * A scan: begin, then for each id found, queue_table_scan_seen(); when
 * it is new, queue_table_new() gives its entry, queue_table_scan_wants_due()
 * says whether its due time and destinations must be read (else it is
 * due now, a new arrival), and queue_table_scan_add() counts it in (not
 * called for one found gone). end drops what left and trims the window.
 */
void queue_table_scan_begin(struct queue_table *t, struct queue_table_scan *s,
    int fresh);
int queue_table_scan_seen(struct queue_table *t, const char *id);
int queue_table_scan_wants_due(const struct queue_table *t,
    const struct queue_table_scan *s);
void queue_table_scan_add(struct queue_table *t, struct queue_table_scan *s);
void queue_table_scan_end(struct queue_table *t);

/* An entry for id after the last one, zeroed, not yet counted in. */
struct queue_msg *queue_table_new(struct queue_table *t, const char *id);

/* A nudged id (a commit): appended, due now; NULL when known already or
 * out of memory. queue_table_merge() sorts the appended ones in. */
struct queue_msg *queue_table_nudge(struct queue_table *t, const char *id);
void queue_table_merge(struct queue_table *t);

/*
 * Keeps the table at `keep` messages: of m[from..n) the latest due ones
 * without a worker leave it (queue_window.h).
 */
void queue_table_trim(struct queue_table *t, size_t from, size_t keep);
/* Drops the entries marked gone that no worker holds. */
void queue_table_prune(struct queue_table *t);

/*
 * One pass, oldest first, over the messages due at now: each whose
 * destinations have room is offered to start(arg, m), which returns 0
 * when a worker took it (and called queue_table_start), -1 when no
 * worker is free (the pass starts no more), -2 when only this one cannot
 * start now. Destinations not yet known are read first by dests(arg, m)
 * (0, or -1: unreadable, it starts and its worker logs why). once: a
 * message tried in this run is not offered again.
 */
void queue_table_pass(struct queue_table *t, int64_t now, int once,
    size_t max_running, int (*dests)(void *, struct queue_msg *),
    int (*start)(void *, struct queue_msg *), void *arg,
    struct queue_table_pass *out);

/*
 * Page-in: something outside the window is due and nothing due inside
 * waits for a worker: returns 1 (a full scan reads the due times of the
 * others and keeps the earliest), at most once a second; else lowers
 * *next to when to look again.
 */
int queue_table_page_in(struct queue_table *t, int64_t now, size_t idle_due,
    int64_t *next);

/* m goes to worker pid: counted as running to its destinations. */
void queue_table_start(struct queue_table *t, struct queue_msg *m, pid_t pid);
/* m's worker is done with it: no longer running, destinations forgotten. */
void queue_table_finish(struct queue_table *t, struct queue_msg *m);
/*
 * What is left of a finished m, read again: gone (queue/ID removed), or
 * its destinations (dk NULL: unknown) and m->due as read. A message
 * still due at now is not tried again before now + 1.
 */
void queue_table_settle(struct queue_table *t, struct queue_msg *m, int gone,
    const uint64_t *dk, size_t ndk, int64_t now);
/* id was not attempted: only a worker with root may; due now. */
void queue_table_needs_root(struct queue_table *t, const char *id,
    int64_t now);

/* Messages untried in this run and due at now (--once ends at 0). */
size_t queue_table_untried(const struct queue_table *t, int64_t now);

#endif
