/*
 * spool_env: the envelope at the head of every spool file; a pure
 * encoder/decoder over memory (no I/O, no globals), also the trust boundary
 * for files the queue runner did not write itself (postmaster-inject).
 *
 * Format (doc/spool.5): LF-terminated text records `keyword SP value` in a
 * fixed order, one field per record, so a value needs no quoting: it may
 * hold any byte except CR, LF and NUL. The encoder refuses those three, so
 * client-supplied data can never start a record of its own; the decoder
 * refuses any deviation from the grammar rather than guessing.
 *
 *   POSTMASTER-SPOOL 1          magic and format version
 *   id, arrival, helo, client, proto, instance, auth, sender, body,
 *   smtputf8, size              exactly once each, in this order
 *   [wire 0|1]                  1: the body is canonical text its client
 *                               sends unchanged (client_wire.h); absent
 *                               in files of older versions (0)
 *   rcpt ADDR                   an original RCPT TO, then one or more
 *     deliver ADDR              deliveries it expanded to, each
 *     target STRING             (opaque to the spool, from lib/route)
 *     [proxied REPLY]           delivered by the proxy before commit
 *   end                         the body follows, byte for byte
 *
 * Deliveries are one flat array in file order; dlv[i].rcpt is the index of
 * the original RCPT, so deliveries of one RCPT are adjacent and the runner
 * groups them by that index. A delivery's index in this array is its name
 * in the state file (spool_state.h).
 *
 * Ownership: spool_env_decode() copies what it needs; its strings point
 * into that copy (each NUL-terminated for convenience; lengths are
 * authoritative) and live until spool_env_free(). For encoding the caller
 * owns everything. Errors are SPOOL_ENV_E_* (negative), see
 * spool_env_strerror().
 */
#ifndef PM_SPOOL_ENV_H
#define PM_SPOOL_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "spool/spool_id.h"

#define SPOOL_ENV_VERSION 1

struct spool_str {
	const char *p;
	size_t len;
};

enum spool_body {
	SPOOL_BODY_7BIT = 0,
	SPOOL_BODY_8BITMIME,
	SPOOL_BODY_BINARYMIME
};

/* Delivery status: envelopes hold only PENDING or SENT (proxied). */
enum spool_status {
	SPOOL_ST_PENDING = 0,
	SPOOL_ST_SENT,		/* accepted by the target: never again */
	SPOOL_ST_FAILED,	/* permanent failure, bounce not yet queued */
	SPOOL_ST_BOUNCED	/* failed and its bounce is committed */
};

struct spool_dlv {
	size_t rcpt;			/* index of the original RCPT */
	struct spool_str orig;		/* RCPT TO address as given */
	struct spool_str addr;		/* address to deliver to */
	struct spool_str target;	/* e.g. "local:joe", opaque */
	enum spool_status status;	/* PENDING, or SENT by the proxy */
	struct spool_str reply;		/* proxy target's reply when SENT */
};

struct spool_env {
	char id[SPOOL_ID_SIZE];
	int64_t arrival;		/* seconds since the epoch */
	struct spool_str helo;		/* HELO/EHLO/LHLO argument */
	struct spool_str client;	/* client address, e.g. "192.0.2.1" */
	struct spool_str proto;		/* ESMTP, ESMTPS, LMTP, ... non-empty */
	struct spool_str instance;	/* [smtpd "NAME"], or e.g. "inject" */
	struct spool_str auth;		/* authenticated user, or empty */
	struct spool_str sender;	/* reverse path, empty for <> */
	enum spool_body body;
	int smtputf8;			/* 0 or 1 */
	uint64_t size;			/* SIZE= declared by the client, or 0 */
	int wire;			/* 1: canonical body (see above) */
	struct spool_dlv *dlv;
	size_t ndlv;
	size_t nrcpt;			/* set by the decoder */
	void *priv;			/* decoder storage; NULL when encoding */
};

struct spool_env_limits {
	size_t max_field;	/* bytes in one value */
	size_t max_dlv;		/* deliveries in one envelope */
	size_t max_env;		/* bytes of the whole envelope incl. "end" */
};

/* Room for 100 RCPTs expanding into lists, and long pipe commands. */
#define SPOOL_ENV_MAX_FIELD 4096
#define SPOOL_ENV_MAX_DLV 10000
#define SPOOL_ENV_MAX_ENV (4u << 20)
#define SPOOL_ENV_LIMITS_DEFAULT \
	{ SPOOL_ENV_MAX_FIELD, SPOOL_ENV_MAX_DLV, SPOOL_ENV_MAX_ENV }

enum spool_env_err {
	SPOOL_ENV_OK = 0,
	SPOOL_ENV_E_NOMEM = -1,		/* allocation failed */
	SPOOL_ENV_E_TOOBIG = -2,	/* envelope over max_env */
	SPOOL_ENV_E_TRUNC = -3,		/* input ends inside the envelope */
	SPOOL_ENV_E_MAGIC = -4,		/* not a spool file */
	SPOOL_ENV_E_VERSION = -5,	/* spool file of an unknown version */
	SPOOL_ENV_E_RECORD = -6,	/* unexpected record or order */
	SPOOL_ENV_E_CHAR = -7,		/* CR, LF or NUL in a value */
	SPOOL_ENV_E_LONG = -8,		/* value over max_field */
	SPOOL_ENV_E_EMPTY = -9,		/* required value empty */
	SPOOL_ENV_E_ID = -10,		/* malformed queue id */
	SPOOL_ENV_E_NUMBER = -11,	/* malformed or overflowing number */
	SPOOL_ENV_E_BODY = -12,		/* unknown BODY type */
	SPOOL_ENV_E_FLAG = -13,		/* flag not 0 or 1 */
	SPOOL_ENV_E_NODLV = -14,	/* no delivery at all */
	SPOOL_ENV_E_TOOMANY = -15,	/* more than max_dlv deliveries */
	SPOOL_ENV_E_GROUP = -16,	/* rcpt indexes not 0,0..,1,1..,2 */
	SPOOL_ENV_E_STATUS = -17	/* status other than PENDING/SENT */
};

/*
 * Appends the encoded envelope to out. On error out is left as it was.
 */
int spool_env_encode(struct buf *out, const struct spool_env *env,
    const struct spool_env_limits *lim);

/*
 * Decodes the envelope at the start of p[0..n). On success *used is the
 * offset of the first body byte. SPOOL_ENV_E_TRUNC means "give me more
 * bytes" when n < lim->max_env. env must be spool_env_free()d afterwards
 * (also after an error).
 */
int spool_env_decode(struct spool_env *env, const void *p, size_t n,
    const struct spool_env_limits *lim, size_t *used);
void spool_env_free(struct spool_env *env);

const char *spool_env_strerror(int err);
const char *spool_env_body_name(enum spool_body b);

/*
 * Offset of the value octet of the "wire" record in an encoded envelope
 * p[0..n), 0 if there is none: the writer learns only at the end of the
 * message what goes there (spool_write_mark_wire).
 */
size_t spool_env_wire_offset(const char *p, size_t n);
const char *spool_status_name(enum spool_status s);

/* A C string as a spool_str (NULL gives the empty string). */
struct spool_str spool_str_c(const char *s);

#endif
