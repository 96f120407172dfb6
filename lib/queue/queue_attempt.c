#include <stdio.h>
#include <string.h>

#include "queue/queue_attempt.h"
#include "queue/queue_attempt_pipe.h"
#include "queue/queue_attempt_smtp.h"
#include "route/route_reject.h"

/* A [reject] target: its code, status and text (as smtpd answers). */
static void
attempt_reject(struct queue_job *j, const struct queue_target *d,
    struct queue_result *o)
{
	struct route_reject rj;

	snprintf(o->relay, sizeof o->relay, "reject:%.280s", d->name);
	if (route_reject_reply(j->c->db, d->name, d->rcpt, &rj) < 0) {
		snprintf(o->diag, sizeof o->diag,
		    "smtp; 451 4.3.0 [reject \"%.200s\"] unreadable", d->name);
		o->o = QUEUE_TEMP;
		return;
	}
	snprintf(o->diag, sizeof o->diag, "smtp; %u %s %s", rj.code, rj.status,
	    rj.text);
	o->o = rj.code >= 500 ? QUEUE_PERM : QUEUE_TEMP;
}

void
queue_attempt(struct queue_job *j, const struct queue_target *d,
    const size_t *idx, size_t n, struct queue_result *o)
{
	const char *txt;

	memset(o, 0, n * sizeof *o);
	switch (d->k) {
	case QUEUE_T_PIPE:
	case QUEUE_T_CMD:
		queue_attempt_pipe(j, d, idx, n, o);
		break;
	case QUEUE_T_REJECT:
		attempt_reject(j, d, o);
		break;
	case QUEUE_T_ERROR:
		/* error:CODE X.Y.Z TEXT from the pickup of injected mail. */
		txt = d->name;
		snprintf(o->diag, sizeof o->diag, "smtp; %.980s", txt);
		snprintf(o->relay, sizeof o->relay, "none");
		o->o = txt[0] == '4' ? QUEUE_TEMP : QUEUE_PERM;
		break;
	case QUEUE_T_BAD:
		queue_result_set_all(o, n, QUEUE_TEMP, "none",
		    "smtp; 451 4.3.5 target "
		    "unknown to this configuration");
		break;
	default:
		queue_attempt_smtp(j, d, idx, n, o);
		break;
	}
}
