/*
 * queue_job: one queued message open for delivery, its delivery state,
 * and the record of each attempt.
 *
 * queue_job_open() opens queue/ID and loads state/ID (all PENDING when
 * there is none yet); 0, or -1 with errno (ENOENT: the message is gone;
 * an unreadable file is logged). queue_job_close() frees it.
 *
 * queue_job_record() notes one attempt's result in the state, in memory:
 * OK makes the delivery SENT, PERM FAILED, TEMP schedules the next try
 * (queue_retry.h) or, once the message has outlived [core]
 * queue-lifetime, FAILED "(delivery time expired)". It logs the attempt
 * as one line: to=<> orig_to=<> relay= delay= attempts= dsn= status=.
 * queue_job_save() writes the state when it changed
 * (spool_queue_state_save: write, fsync, rename, fsync dir); 0 or -1,
 * logged.
 */
#ifndef PM_QUEUE_JOB_H
#define PM_QUEUE_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "queue/queue_cfg.h"
#include "queue/queue_outcome.h"
#include "spool/spool_queue.h"

#define QUEUE_DIAG_MAX 1000

/* One delivery's attempt, as the attempt modules report it. */
struct queue_result {
	enum queue_outcome o;
	char diag[QUEUE_DIAG_MAX]; /* RFC 3464 "type; text" */
	char relay[300];
	unsigned conn_use; /* > 1: a cached connection's Nth message */
};

struct queue_job {
	const struct queue_cfg *c;
	struct spool_msg m;
	struct spool_state st;
	int64_t now;
	int dirty;
	int has_state; /* state/ID exists (loaded or saved by us) */
};

int queue_job_open(struct queue_job *j, const struct queue_cfg *c,
    const char *id);
void queue_job_close(struct queue_job *j);

/* 1 when delivery i is PENDING and its time has come (or flushing). */
int queue_job_due_now(const struct queue_job *j, size_t i);

/* 1 when every delivery is SENT; 1 when some delivery is FAILED. */
int queue_job_all_sent(const struct queue_job *j);
int queue_job_any_failed(const struct queue_job *j);

void queue_job_record(struct queue_job *j, size_t i,
    const struct queue_result *r);
int queue_job_save(struct queue_job *j);

/* Sets r[0..n) to outcome o with that relay and diagnostic. */
void queue_result_set_all(struct queue_result *r, size_t n,
    enum queue_outcome o, const char *relay, const char *diag);

#endif
