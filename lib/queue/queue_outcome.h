/*
 * queue_outcome: how one delivery attempt ended, for every kind of
 * target (programs, SMTP/LMTP, reject and error targets).
 *
 * QUEUE_OK: delivered (the delivery becomes SENT). QUEUE_TEMP: try again
 * later, until [core] queue-lifetime. QUEUE_PERM: failed for good, the
 * sender hears of it. QUEUE_ABANDONED: cut short by SIGTERM to the
 * runner (a program killed at shutdown): not an attempt, the delivery
 * stays due as it was and nothing is recorded.
 */
#ifndef PM_QUEUE_OUTCOME_H
#define PM_QUEUE_OUTCOME_H

enum queue_outcome {
	QUEUE_OK = 0,
	QUEUE_TEMP = 1,
	QUEUE_PERM = 2,
	QUEUE_ABANDONED = 3
};

#endif
