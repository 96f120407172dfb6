/*
 * inject_env: the envelope of a locally submitted message, built by one
 * code path for both sides of the maildrop: postmaster-inject writes it
 * at the head of a maildrop file (inject_submit.h) and the runner's
 * pickup writes it again, re-validated, into the queue
 * (inject_pickup.h).
 *
 * inject_env_local() fills env with what marks local submission:
 * instance "inject", proto and client "local", no AUTH, helo "uid=N"
 * (N the submitting user: getuid() in inject, the maildrop file's owner
 * in pickup), the sender, the body type (8BITMIME when eightbit) and
 * SMTPUTF8. The strings point into helo (caller storage) or are static;
 * the caller sets id, arrival and the deliveries.
 *
 * inject_env_is_local() tells whether a decoded envelope claims to come
 * from postmaster-inject (instance and proto), the first test pickup
 * applies to a maildrop file.
 */
#ifndef PM_INJECT_ENV_H
#define PM_INJECT_ENV_H

#include "spool/spool_env.h"

#define INJECT_ENV_HELO_SIZE 32

void inject_env_local(struct spool_env *env, char helo[INJECT_ENV_HELO_SIZE],
    unsigned long uid, struct spool_str sender, int eightbit, int smtputf8);

int inject_env_is_local(const struct spool_env *env);

#endif
