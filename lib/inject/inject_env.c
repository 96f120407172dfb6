#include <stdio.h>
#include <string.h>

#include "inject/inject_env.h"

#define INJECT_ENV_INSTANCE "inject"
#define INJECT_ENV_PROTO "local"

void
inject_env_local(struct spool_env *env, char helo[INJECT_ENV_HELO_SIZE],
    unsigned long uid, struct spool_str sender, int eightbit, int smtputf8)
{
	memset(env, 0, sizeof *env);
	snprintf(helo, INJECT_ENV_HELO_SIZE, "uid=%lu", uid);
	env->helo = spool_str_c(helo);
	env->client = spool_str_c("local");
	env->proto = spool_str_c(INJECT_ENV_PROTO);
	env->instance = spool_str_c(INJECT_ENV_INSTANCE);
	env->auth = spool_str_c("");
	env->sender = sender;
	env->body = eightbit ? SPOOL_BODY_8BITMIME : SPOOL_BODY_7BIT;
	env->smtputf8 = smtputf8;
}

int
inject_env_is_local(const struct spool_env *env)
{
	return env->instance.p != NULL && env->proto.p != NULL &&
	    strcmp(env->instance.p, INJECT_ENV_INSTANCE) == 0 &&
	    strcmp(env->proto.p, INJECT_ENV_PROTO) == 0;
}
