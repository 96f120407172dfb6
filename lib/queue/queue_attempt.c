#include <stdio.h>
#include <string.h>

#include "queue/queue_attempt.h"
#include "queue/queue_attempt_pipe.h"
#include "queue/queue_attempt_smtp.h"

/* A [reject] target: its code, status and text (as smtpd answers). */
static void
attempt_reject(struct queue_job *j, const struct queue_target *d,
    struct queue_result *o)
{
	char status[16], text[512];
	uint64_t code;

	snprintf(o->relay, sizeof o->relay, "reject:%.280s", d->name);
	if (cf_db_uint(j->c->db, "reject", d->name, "code", &code) < 0) {
		snprintf(o->diag, sizeof o->diag,
		    "x-unix; 4.3.5 cannot read the [reject] code");
		o->o = QUEUE_TEMP;
		return;
	}
	queue_cfg_str(j->c->db, "reject", d->name, "status", status,
	    sizeof status);
	queue_cfg_str(j->c->db, "reject", d->name, "text", text, sizeof text);
	if (status[0] == '\0')
		snprintf(status, sizeof status, "%s",
		    code == 521     ? "5.1.2" :
		        code == 554 ? "5.7.1" :
		        code >= 500 ? "5.1.1" :
		                      "4.3.2");
	if (text[0] == '\0')
		snprintf(text, sizeof text, "<%s>: %s", d->rcpt,
		    code == 521 ? "does not accept mail" :
		                  "recipient rejected");
	snprintf(o->diag, sizeof o->diag, "smtp; %llu %s %s",
	    (unsigned long long)code, status, text);
	o->o = code >= 500 ? QUEUE_PERM : QUEUE_TEMP;
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
