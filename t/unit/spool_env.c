/* Envelope codec: golden bytes, round trips, every refusal, every limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "spool/spool_env.h"
#include "spool/spool_id.h"
#include "tap.h"

#define ID "0655A1B2C0001F0123456789ABCDEF01"
#define ID30 "0655A1B2C0001F0123456789ABCDEF"

static const char golden[] =
    "POSTMASTER-SPOOL 1\n"
    "id " ID30 "\n"
    "arrival 1700000000\n"
    "helo client.example.com\n"
    "client 192.0.2.1\n"
    "proto ESMTP\n"
    "instance mx\n"
    "auth \n"
    "sender joe@example.org\n"
    "body 8BITMIME\n"
    "smtputf8 0\n"
    "size 1234\n"
    "wire 0\n"
    "rcpt list@example.net\n"
    "deliver joe@example.net\n"
    "target local:joe\n"
    "deliver jane@example.net\n"
    "target relay:relay.example.org\n"
    "proxied 250 2.0.0 ok queued as 42\n"
    "rcpt bob@example.com\n"
    "deliver bob@example.com\n"
    "target cmd:|/usr/bin/x y\n"
    "end\n";

static struct spool_dlv dlv[3];

static void
sample(struct spool_env *e)
{
	memset(e, 0, sizeof *e);
	memcpy(e->id, ID30, SPOOL_ID_SIZE);
	e->arrival = 1700000000;
	e->helo = spool_str_c("client.example.com");
	e->client = spool_str_c("192.0.2.1");
	e->proto = spool_str_c("ESMTP");
	e->instance = spool_str_c("mx");
	e->auth = spool_str_c("");
	e->sender = spool_str_c("joe@example.org");
	e->body = SPOOL_BODY_8BITMIME;
	e->size = 1234;
	memset(dlv, 0, sizeof dlv);
	dlv[0].rcpt = 0;
	dlv[0].orig = spool_str_c("list@example.net");
	dlv[0].addr = spool_str_c("joe@example.net");
	dlv[0].target = spool_str_c("local:joe");
	dlv[1].rcpt = 0;
	dlv[1].orig = spool_str_c("list@example.net");
	dlv[1].addr = spool_str_c("jane@example.net");
	dlv[1].target = spool_str_c("relay:relay.example.org");
	dlv[1].status = SPOOL_ST_SENT;
	dlv[1].reply = spool_str_c("250 2.0.0 ok queued as 42");
	dlv[2].rcpt = 1;
	dlv[2].orig = spool_str_c("bob@example.com");
	dlv[2].addr = spool_str_c("bob@example.com");
	dlv[2].target = spool_str_c("cmd:|/usr/bin/x y");
	e->dlv = dlv;
	e->ndlv = 3;
}

static const struct spool_env_limits deflim = SPOOL_ENV_LIMITS_DEFAULT;

static int
enc(const struct spool_env *e, const struct spool_env_limits *lim)
{
	struct buf b = BUF_INIT(0);
	int r = spool_env_encode(&b, e, lim);

	buf_free(&b);
	return r;
}

static int
dec(const char *p, size_t n, const struct spool_env_limits *lim)
{
	struct spool_env e;
	size_t used;
	int r = spool_env_decode(&e, p, n, lim, &used);

	spool_env_free(&e);
	return r;
}

static int
streq(struct spool_str s, const char *c)
{
	return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

/* Golden text with one line replaced: the decoder's refusal table. */
static int
dec_edit(const char *from, const char *to)
{
	struct buf b = BUF_INIT(0);
	const char *at = strstr(golden, from);
	int r;

	if (at == NULL)
		return 1000;
	buf_append(&b, golden, (size_t)(at - golden));
	buf_append(&b, to, strlen(to));
	buf_append_str(&b, at + strlen(from));
	r = dec(b.p, b.len, &deflim);
	buf_free(&b);
	return r;
}

static void
test_golden(void)
{
	struct buf b = BUF_INIT(0);
	struct spool_env e, d;
	size_t used = 0;
	char *withbody;

	sample(&e);
	is_int(spool_env_encode(&b, &e, &deflim), SPOOL_ENV_OK, "encode");
	is_mem(b.p, b.len, golden, strlen(golden), "golden bytes");

	withbody = malloc(b.len + 8);
	memcpy(withbody, b.p, b.len);
	memcpy(withbody + b.len, "Body\r\n.\n", 8);
	is_int(spool_env_decode(&d, withbody, b.len + 8, &deflim, &used),
	    SPOOL_ENV_OK, "decode with body");
	is_int((long long)used, (long long)b.len, "body offset");
	is_str(d.id, ID30, "id");
	is_int(d.arrival, 1700000000, "arrival");
	ok(streq(d.helo, "client.example.com"), "helo");
	ok(streq(d.client, "192.0.2.1"), "client");
	ok(streq(d.proto, "ESMTP") && streq(d.instance, "mx"), "proto instance");
	ok(d.auth.len == 0 && streq(d.sender, "joe@example.org"), "auth sender");
	is_int(d.body, SPOOL_BODY_8BITMIME, "body");
	is_int(d.smtputf8, 0, "smtputf8");
	is_int((long long)d.size, 1234, "size");
	is_int((long long)d.ndlv, 3, "ndlv");
	is_int((long long)d.nrcpt, 2, "nrcpt");
	ok(d.dlv[0].rcpt == 0 && d.dlv[1].rcpt == 0 && d.dlv[2].rcpt == 1,
	    "rcpt grouping");
	ok(streq(d.dlv[1].orig, "list@example.net") &&
	    streq(d.dlv[1].addr, "jane@example.net") &&
	    streq(d.dlv[1].target, "relay:relay.example.org"), "delivery 1");
	ok(d.dlv[1].status == SPOOL_ST_SENT &&
	    streq(d.dlv[1].reply, "250 2.0.0 ok queued as 42"), "proxied");
	ok(d.dlv[0].status == SPOOL_ST_PENDING &&
	    d.dlv[2].status == SPOOL_ST_PENDING, "others pending");
	ok(streq(d.dlv[2].target, "cmd:|/usr/bin/x y"), "target verbatim");

	/* Round trip: decode(encode(x)) encodes to the same bytes. */
	buf_reset(&b);
	is_int(spool_env_encode(&b, &d, &deflim), SPOOL_ENV_OK, "re-encode");
	is_mem(b.p, b.len, golden, strlen(golden), "round trip bytes");
	spool_env_free(&d);
	free(withbody);

	/* Empty sender (<>), SMTPUTF8 and 8-bit bytes survive. */
	sample(&e);
	e.sender = spool_str_c("");
	e.smtputf8 = 1;
	e.body = SPOOL_BODY_BINARYMIME;
	dlv[2].addr = spool_str_c("j\xc3\xb6rg@example.com");
	buf_reset(&b);
	is_int(spool_env_encode(&b, &e, &deflim), SPOOL_ENV_OK, "encode <>");
	is_int(spool_env_decode(&d, b.p, b.len, &deflim, &used), SPOOL_ENV_OK,
	    "decode <>");
	ok(d.sender.len == 0 && d.smtputf8 == 1 &&
	    d.body == SPOOL_BODY_BINARYMIME, "null sender, utf8, binary");
	ok(streq(d.dlv[2].addr, "j\xc3\xb6rg@example.com"), "utf-8 address");
	spool_env_free(&d);

	/* Failed encode leaves the buffer untouched. */
	buf_reset(&b);
	buf_append_str(&b, "keep");
	e.helo = spool_str_c("bad\nline");
	spool_env_encode(&b, &e, &deflim);
	is_mem(b.p, b.len, "keep", 4, "buffer restored on error");
	buf_free(&b);
}

static void
test_encode_refusals(void)
{
	struct spool_env e;
	struct spool_env_limits lim = deflim;
	struct spool_dlv many[6];
	char big[64];
	size_t i;

	sample(&e);
	e.helo = (struct spool_str){ "a\rb", 3 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "CR in helo");
	sample(&e);
	e.sender = (struct spool_str){ "a\nrcpt x@y", 10 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "LF in sender (injection)");
	sample(&e);
	dlv[0].target = (struct spool_str){ "local:j\0oe", 10 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "NUL in target");
	sample(&e);
	dlv[1].reply = (struct spool_str){ "250\r\nend", 8 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "CRLF in proxied reply");
	sample(&e);
	e.client = (struct spool_str){ "x\n", 2 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "LF in client");
	sample(&e);
	e.instance = (struct spool_str){ "\n", 1 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "LF in instance");
	sample(&e);
	e.auth = (struct spool_str){ "u\r", 2 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "CR in auth");
	sample(&e);
	dlv[2].orig = (struct spool_str){ "b\n", 2 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "LF in rcpt");
	sample(&e);
	dlv[2].addr = (struct spool_str){ "b\n", 2 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_CHAR, "LF in deliver");
	sample(&e);
	e.proto = spool_str_c("");
	is_int(enc(&e, &lim), SPOOL_ENV_E_EMPTY, "empty proto");
	sample(&e);
	dlv[0].addr = spool_str_c("");
	is_int(enc(&e, &lim), SPOOL_ENV_E_EMPTY, "empty deliver");
	sample(&e);
	dlv[0].target = spool_str_c("");
	is_int(enc(&e, &lim), SPOOL_ENV_E_EMPTY, "empty target");
	sample(&e);
	dlv[2].orig = spool_str_c("");
	is_int(enc(&e, &lim), SPOOL_ENV_E_EMPTY, "empty rcpt");
	sample(&e);
	e.id[3] = 'g';
	is_int(enc(&e, &lim), SPOOL_ENV_E_ID, "bad id");
	sample(&e);
	e.arrival = -1;
	is_int(enc(&e, &lim), SPOOL_ENV_E_NUMBER, "negative arrival");
	sample(&e);
	e.body = (enum spool_body)7;
	is_int(enc(&e, &lim), SPOOL_ENV_E_BODY, "bad body");
	sample(&e);
	e.smtputf8 = 2;
	is_int(enc(&e, &lim), SPOOL_ENV_E_FLAG, "bad flag");
	sample(&e);
	e.ndlv = 0;
	is_int(enc(&e, &lim), SPOOL_ENV_E_NODLV, "no deliveries");
	sample(&e);
	dlv[0].rcpt = 1;
	dlv[1].rcpt = 1;
	dlv[2].rcpt = 2;
	is_int(enc(&e, &lim), SPOOL_ENV_E_GROUP, "first rcpt not 0");
	sample(&e);
	dlv[2].rcpt = 2;
	is_int(enc(&e, &lim), SPOOL_ENV_E_GROUP, "rcpt index skips");
	sample(&e);
	dlv[1].orig = spool_str_c("other@example.net");
	is_int(enc(&e, &lim), SPOOL_ENV_E_GROUP, "orig differs in group");
	sample(&e);
	dlv[0].status = SPOOL_ST_FAILED;
	is_int(enc(&e, &lim), SPOOL_ENV_E_STATUS, "initial status failed");

	/* max_field: at max ok, max+1 refused. */
	memset(big, 'a', sizeof big);
	lim.max_field = 40;
	sample(&e);
	e.helo = (struct spool_str){ big, 40 };
	is_int(enc(&e, &lim), SPOOL_ENV_OK, "field at max_field");
	e.helo = (struct spool_str){ big, 41 };
	is_int(enc(&e, &lim), SPOOL_ENV_E_LONG, "field at max_field+1");

	/* max_dlv */
	lim = deflim;
	sample(&e);
	for (i = 0; i < 6; i++) {
		many[i] = dlv[0];
		many[i].rcpt = i;
		many[i].status = SPOOL_ST_PENDING;
	}
	e.dlv = many;
	e.ndlv = 6;
	lim.max_dlv = 6;
	is_int(enc(&e, &lim), SPOOL_ENV_OK, "deliveries at max_dlv");
	lim.max_dlv = 5;
	is_int(enc(&e, &lim), SPOOL_ENV_E_TOOMANY, "deliveries at max_dlv+1");

	/* max_env: exact size ok, one byte less refused. */
	lim = deflim;
	sample(&e);
	lim.max_env = strlen(golden);
	is_int(enc(&e, &lim), SPOOL_ENV_OK, "envelope at max_env");
	lim.max_env = strlen(golden) - 1;
	is_int(enc(&e, &lim), SPOOL_ENV_E_TOOBIG, "envelope at max_env+1");
}

static void
test_decode_refusals(void)
{
	struct spool_env_limits lim = deflim;
	size_t n = strlen(golden), i;
	int bad = 0;

	is_int(dec(golden, n, &lim), SPOOL_ENV_OK, "golden decodes");
	/* Every strict prefix asks for more, none is accepted. */
	for (i = 0; i < n; i++)
		if (dec(golden, i, &lim) != SPOOL_ENV_E_TRUNC)
			bad++;
	is_int(bad, 0, "every prefix is TRUNC");

	is_int(dec("From joe\n", 9, &lim), SPOOL_ENV_E_MAGIC, "bad magic");
	is_int(dec("X", 1, &lim), SPOOL_ENV_E_MAGIC, "bad magic, 1 byte");
	is_int(dec_edit("SPOOL 1\n", "SPOOL 2\n"), SPOOL_ENV_E_VERSION,
	    "version 2");
	is_int(dec_edit("SPOOL 1\n", "SPOOL 01\n"), SPOOL_ENV_E_VERSION,
	    "version 01");
	is_int(dec_edit("SPOOL 1\n", "SPOOL\n"), SPOOL_ENV_E_MAGIC,
	    "magic without version");
	is_int(dec_edit("id ", "id 0"), SPOOL_ENV_E_ID, "long id");
	is_int(dec_edit("id 0", "id a"), SPOOL_ENV_E_ID, "lowercase id");
	is_int(dec_edit("id " ID30 "\n", "id \n"), SPOOL_ENV_E_ID, "empty id");
	is_int(dec_edit("arrival 1", "arrival 01"), SPOOL_ENV_E_NUMBER,
	    "leading zero");
	is_int(dec_edit("arrival 1700000000", "arrival -1"), SPOOL_ENV_E_NUMBER,
	    "negative number");
	is_int(dec_edit("arrival 1700000000", "arrival 18446744073709551616"),
	    SPOOL_ENV_E_NUMBER, "2^64 overflows");
	is_int(dec_edit("arrival 1700000000", "arrival 9223372036854775808"),
	    SPOOL_ENV_E_NUMBER, "arrival over INT64_MAX");
	is_int(dec_edit("size 1234", "size 18446744073709551615"),
	    SPOOL_ENV_OK, "size at UINT64_MAX");
	is_int(dec_edit("size 1234", "size 12a"), SPOOL_ENV_E_NUMBER,
	    "size not digits");
	is_int(dec_edit("size 1234", "size "), SPOOL_ENV_E_NUMBER, "size empty");
	is_int(dec_edit("proto ESMTP", "proto "), SPOOL_ENV_E_EMPTY,
	    "empty proto");
	is_int(dec_edit("body 8BITMIME", "body 8bitmime"), SPOOL_ENV_E_BODY,
	    "body case");
	is_int(dec_edit("smtputf8 0", "smtputf8 2"), SPOOL_ENV_E_FLAG, "flag 2");
	is_int(dec_edit("smtputf8 0", "smtputf8 x"), SPOOL_ENV_E_FLAG, "flag x");
	is_int(dec_edit("helo client", "helo cl\rient"), SPOOL_ENV_E_CHAR,
	    "CR in value");
	{
		char g[sizeof golden];

		memcpy(g, golden, sizeof golden);
		g[strstr(golden, "client.") - golden + 2] = '\0';
		is_int(dec(g, n, &lim), SPOOL_ENV_E_CHAR, "NUL in value");
	}
	is_int(dec_edit("helo client.example.com\nclient",
	    "client 192.0.2.1\nhelo"), SPOOL_ENV_E_RECORD, "order swapped");
	is_int(dec_edit("auth \n", ""), SPOOL_ENV_E_RECORD, "record missing");
	is_int(dec_edit("auth \n", "auth\n"), SPOOL_ENV_E_RECORD,
	    "record without space");
	is_int(dec_edit("auth \n", "auth \nauth \n"), SPOOL_ENV_E_RECORD,
	    "record twice");
	is_int(dec_edit("auth ", "AUTH "), SPOOL_ENV_E_RECORD, "keyword case");
	is_int(dec_edit("rcpt list@example.net\n", ""), SPOOL_ENV_E_RECORD,
	    "deliver before rcpt");
	is_int(dec_edit("target local:joe\n", ""), SPOOL_ENV_E_RECORD,
	    "target missing");
	is_int(dec_edit("target local:joe\n", "target \n"), SPOOL_ENV_E_EMPTY,
	    "target empty");
	is_int(dec_edit("deliver joe@example.net\n", "deliver \n"),
	    SPOOL_ENV_E_EMPTY, "deliver empty");
	is_int(dec_edit("rcpt bob@example.com\n", "rcpt \n"), SPOOL_ENV_E_EMPTY,
	    "rcpt empty");
	is_int(dec_edit("rcpt bob@example.com\ndeliver bob@example.com\n",
	    "rcpt bob@example.com\n"), SPOOL_ENV_E_RECORD, "rcpt without deliver");
	is_int(dec_edit("queued as 42\n", "queued as 42\nproxied x\n"),
	    SPOOL_ENV_E_RECORD, "proxied twice");
	is_int(dec_edit("target local:joe\n", "target local:joe\nbogus x\n"),
	    SPOOL_ENV_E_RECORD, "unknown record");
	is_int(dec_edit("end\n", "end \n"), SPOOL_ENV_E_RECORD, "end with value");
	is_int(dec_edit("end\n", "end\r\n"), SPOOL_ENV_E_CHAR, "end with CR");
	is_int(dec_edit("end\n", "end"), SPOOL_ENV_E_TRUNC, "end without LF");
	is_int(dec_edit("rcpt list@example.net\ndeliver joe@example.net\n"
	    "target local:joe\ndeliver jane@example.net\n"
	    "target relay:relay.example.org\nproxied 250 2.0.0 ok queued as 42\n"
	    "rcpt bob@example.com\ndeliver bob@example.com\n"
	    "target cmd:|/usr/bin/x y\n", ""), SPOOL_ENV_E_NODLV,
	    "no deliveries");

	/* Limits at max and max+1. */
	lim.max_env = n;
	is_int(dec(golden, n, &lim), SPOOL_ENV_OK, "decode at max_env");
	lim.max_env = n - 1;
	is_int(dec(golden, n, &lim), SPOOL_ENV_E_TOOBIG, "decode at max_env+1");
	lim = deflim;
	lim.max_field = SPOOL_ID_LEN;	/* the id is the longest value here */
	is_int(dec(golden, n, &lim), SPOOL_ENV_OK, "decode at max_field");
	lim.max_field = SPOOL_ID_LEN - 1;
	is_int(dec(golden, n, &lim), SPOOL_ENV_E_LONG, "decode at max_field+1");
	lim = deflim;
	lim.max_dlv = 3;
	is_int(dec(golden, n, &lim), SPOOL_ENV_OK, "decode at max_dlv");
	lim.max_dlv = 2;
	is_int(dec(golden, n, &lim), SPOOL_ENV_E_TOOMANY, "decode at max_dlv+1");
}

static void
test_id(void)
{
	char a[SPOOL_ID_SIZE], b[SPOOL_ID_SIZE], c[SPOOL_ID_SIZE];
	struct timespec t1 = { 1700000000, 5000 }, t2 = { 1700000000, 6000 },
	    t3 = { 1700000001, 0 };

	ok(spool_id_new(a, &t1) == 0 && spool_id_new(b, &t2) == 0 &&
	    spool_id_new(c, &t3) == 0, "ids made");
	ok(spool_id_valid(a, strlen(a)), "id valid: %s", a);
	ok(strcmp(a, b) < 0 && strcmp(b, c) < 0, "ids sort by arrival");
	is_int(spool_id_time(c), 1700000001, "id time");
	ok(!spool_id_valid("../etc/passwd", 13), "path refused");
	ok(!spool_id_valid(ID, strlen(ID)), "32 chars refused");
	ok(strcmp(a, (spool_id_new(b, &t1), b)) != 0, "same instant differs");
	is_str(spool_env_strerror(SPOOL_ENV_E_CHAR), "CR, LF or NUL in a field",
	    "strerror");
}

/* Golden text edited, decoded: the wire flag as read. -1: refused. */
static int
wire_of(const char *from, const char *to)
{
	struct buf b = BUF_INIT(0);
	struct spool_env d;
	const char *at = strstr(golden, from);
	size_t used;
	int r = -1;

	if (at == NULL)
		return -2;
	buf_append(&b, golden, (size_t)(at - golden));
	buf_append(&b, to, strlen(to));
	buf_append_str(&b, at + strlen(from));
	if (spool_env_decode(&d, b.p, b.len, &deflim, &used) == SPOOL_ENV_OK) {
		r = d.wire;
		spool_env_free(&d);
	}
	buf_free(&b);
	return r;
}

static void
test_wire(void)
{
	struct buf b = BUF_INIT(0);
	struct spool_env e;
	size_t off = spool_env_wire_offset(golden, strlen(golden));

	ok(off > 5 && golden[off] == '0' &&
	    strncmp(golden + off - 6, "\nwire 0\n", 8) == 0,
	    "wire offset points at the value");
	is_int((long long)spool_env_wire_offset("rcpt wire x\n", 12), 0,
	    "no wire record, offset 0");
	is_int(wire_of("wire 0\n", "wire 0\n"), 0, "wire 0");
	is_int(wire_of("wire 0\n", "wire 1\n"), 1, "wire 1");
	is_int(wire_of("wire 0\n", ""), 0, "older file without wire: 0");
	is_int(wire_of("wire 0\n", "wire 2\n"), -1, "wire 2 refused");
	is_int(dec_edit("wire 0\n", "wire 2\n"), SPOOL_ENV_E_FLAG,
	    "wire 2 is a bad flag");
	is_int(dec_edit("wire 0\nrcpt list@example.net\n",
	    "rcpt list@example.net\nwire 0\n"), SPOOL_ENV_E_RECORD,
	    "wire after rcpt refused");
	sample(&e);
	e.wire = 1;
	is_int(spool_env_encode(&b, &e, &deflim), SPOOL_ENV_OK, "encode wire");
	ok(strstr(b.p, "\nsize 1234\nwire 1\nrcpt ") != NULL,
	    "wire 1 encoded after size");
	buf_free(&b);
}

int
main(void)
{
	test_golden();
	test_encode_refusals();
	test_decode_refusals();
	test_id();
	test_wire();
	return done_testing();
}
