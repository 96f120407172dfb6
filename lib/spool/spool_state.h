/*
 * spool_state: per-delivery state of one queued message; a pure codec.
 *
 * The message file never changes after commit; what changes (status,
 * attempts, next try, last reply) lives in state/ID, rewritten whole and
 * atomically by the runner (spool_queue_state_save). Format (doc/spool.5):
 *
 *   POSTMASTER-STATE 1
 *   dlv INDEX STATUS ATTEMPTS NEXT    one group per delivery, INDEX
 *   relay TEXT                        0..n-1 in order, n = the envelope's
 *   reply TEXT                        delivery count
 *   end
 *
 * No state file means every delivery is as the envelope says (PENDING, or
 * SENT by the proxy): spool_state_from_env() builds exactly that.
 *
 * relay and reply are owned (malloc) copies. spool_state_note() takes raw
 * remote text and replaces CR, LF, NUL by spaces and cuts it to
 * SPOOL_STATE_TEXT_MAX, so the encoder's refusal of those bytes is never
 * hit by runner data. Decoding errors are SPOOL_ENV_E_* codes.
 */
#ifndef PM_SPOOL_STATE_H
#define PM_SPOOL_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "spool/spool_env.h"

#define SPOOL_STATE_VERSION 1
#define SPOOL_STATE_TEXT_MAX 1000	/* RFC 5321 4.5.3.1.5 reply line */

struct spool_dstate {
	enum spool_status status;
	uint32_t attempts;
	int64_t next;		/* earliest next attempt, epoch seconds */
	char *relay;		/* last host/relay tried, "" if none */
	char *reply;		/* last reply or diagnostic, "" if none */
};

struct spool_state {
	size_t n;
	struct spool_dstate *d;
};

int spool_state_from_env(struct spool_state *st, const struct spool_env *env);
/* Records one attempt: status, next try, relay and reply (copied). */
int spool_state_note(struct spool_state *st, size_t i, enum spool_status s,
    int64_t next, const char *relay, size_t rlen, const char *reply,
    size_t plen);
/* 1 when no delivery is PENDING or FAILED: the message can go. */
int spool_state_done(const struct spool_state *st);
int spool_state_encode(struct buf *out, const struct spool_state *st);
/* ndlv: the envelope's delivery count, which the file must match. */
int spool_state_decode(struct spool_state *st, const void *p, size_t n,
    size_t ndlv);
void spool_state_free(struct spool_state *st);

#endif
