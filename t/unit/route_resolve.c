/* Route resolution tables: every left- and right-hand form, ordering,
 * import order, loops and local-rcpt-to, through a real compiled CDB. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf/cf_check.h"
#include "cf/cf_db.h"
#include "route/route_db.h"
#include "tap.h"

static const char config[] =
    "[smtpd \"mx\"]\nrouting-table = first second\n"
    "[smtpd \"local\"]\nlocal-rcpt-to = yes\n"
    "[smtpd \"plain\"]\n"
    "[relay \"smarthost\"]\naddress = 127.0.0.1:2525\n"
    "[pipe \"procmail\"]\nexec = /usr/bin/procmail -d ${RCPT_TO}\n"
    "[reject \"gone\"]\ncode = 521\ntext = \"old.test accepts no mail\"\n"
    "[route \"first\"]\n"
    "@wild.test catchall\n"           /* order 1 beats the exact below */
    "joe@wild.test joe-exact\n"
    "alias@list.test joe, jane, archive@, @mirror.test, \"|/bin/cat -u\"\n"
    "archive@list.test procmail\n"
    "ping@ pong@\n"                    /* user@ on both sides */
    "a@loop.test b@loop.test\n"
    "b@loop.test a@loop.test\n"
    "@old.test gone\n"
    "@relay.test smarthost\n"
    "@host.test mx1.host.test\n"
    "@lit.test [192.0.2.1]\n"
    "self@self.test selfuser\n"
    "selfuser selfuser\n"
    "virt@self.test virt@SELF.test\n"
    "Alice.Smith@self.test Alice.Smith@Self.Test\n"
    "@catch.test @CATCH.test\n"       /* a catch-all of virtual mailboxes */
    "@alias.test @catch.test\n"
    "both@list.test virt@self.test, VIRT@self.test, Bob@catch.test, bob@Catch.test\n"
    "z@z.test z@z.test, Z@z.test\n"   /* self-routed in two spellings */
    "[route \"second\"]\n"
    "joe@order.test second-table\n"
    "x@mirror.test mirrored\n"
    "[route]\n"
    "joe@order.test global\n"
    "postmaster joe\n"
    "hostmaster joe\n"
    "mixed@Case.TEST joe\n"
    "out@ours.test far@remote.test\n"
    "deep1 deep2\ndeep2 deep3\ndeep3 deep4\ndeep4 deep5\ndeep5 deep6\n"
    "deep6 deep7\ndeep7 deep8\ndeep8 deep9\ndeep9 deep10\ndeep10 deep11\n"
    "deep11 deep12\ndeep12 deep13\ndeep13 deep14\ndeep14 deep15\n"
    "deep15 deep16\ndeep16 deep17\ndeep17 deep18\n";

struct rcase {
	const char *smtpd; /* NULL: [route] only, local names allowed */
	const char *addr;
	enum route_status status;
	const char *targets; /* "rcpt=kind:value;" ... */
};

static const struct rcase cases[] = {
	{ "mx", "joe@wild.test", ROUTE_OK, "catchall=local:catchall;" },
	{ "mx", "JOE@WILD.TEST", ROUTE_OK, "catchall=local:catchall;" },
	{ "mx", "alias@list.test", ROUTE_OK,
	    "joe=local:joe;jane=local:jane;archive@list.test=pipe:procmail;"
	    "alias@mirror.test=mx:mirror.test;alias@list.test=cmd:|/bin/cat -u;" },
	{ "mx", "ping@anything.test", ROUTE_OK,
	    "pong@anything.test=mx:anything.test;" },
	{ "mx", "a@loop.test", ROUTE_LOOP, "" },
	{ "mx", "x@old.test", ROUTE_OK, "x@old.test=reject:gone;" },
	{ "mx", "x@relay.test", ROUTE_OK, "x@relay.test=relay:smarthost;" },
	{ "mx", "x@host.test", ROUTE_OK, "x@host.test=host:mx1.host.test;" },
	{ "mx", "x@lit.test", ROUTE_OK, "x@lit.test=host:[192.0.2.1];" },
	{ "mx", "self@self.test", ROUTE_OK, "selfuser=local:selfuser;" },
	/* One mailbox whatever the case: the route line's spelling. */
	{ "mx", "Virt@self.test", ROUTE_OK, "Virt@self.test=local:virt@self.test;" },
	{ "mx", "VIRT@SELF.TEST", ROUTE_OK, "VIRT@SELF.TEST=local:virt@self.test;" },
	{ "mx", "alice.smith@self.test", ROUTE_OK,
	    "alice.smith@self.test=local:Alice.Smith@self.test;" },
	{ "mx", "ALICE.SMITH@SELF.TEST", ROUTE_OK,
	    "ALICE.SMITH@SELF.TEST=local:Alice.Smith@self.test;" },
	/* No line spells it: lower case, ASCII only (UTF-8 kept). */
	{ "mx", "Bob@catch.test", ROUTE_OK, "Bob@catch.test=local:bob@catch.test;" },
	{ "mx", "BOB@Catch.Test", ROUTE_OK, "BOB@Catch.Test=local:bob@catch.test;" },
	{ "mx", "X@alias.test", ROUTE_OK, "X@catch.test=local:x@catch.test;" },
	/* Two spellings in one list: one delivery per mailbox. */
	{ "mx", "both@list.test", ROUTE_OK,
	    "virt@self.test=local:virt@self.test;"
	    "Bob@catch.test=local:bob@catch.test;" },
	/* Routed to itself in two spellings on one line: one mailbox, the
	 * first spelling (case-insensitive in ASCII, as the lookup). */
	{ "mx", "Z@Z.test", ROUTE_OK, "Z@Z.test=local:z@z.test;" },
	{ "mx", "\xc3\x96STEN@catch.test", ROUTE_OK,
	    "\xc3\x96STEN@catch.test=local:\xc3\x96sten@catch.test;" },
	{ "mx", "J\xc3\xb6@catch.test", ROUTE_OK,
	    "J\xc3\xb6@catch.test=local:j\xc3\xb6@catch.test;" },
	{ "mx", "joe@order.test", ROUTE_OK, "second-table=local:second-table;" },
	{ "plain", "joe@order.test", ROUTE_OK, "global=local:global;" },
	{ "mx", "mixed@case.test", ROUTE_OK, "joe=local:joe;" },
	{ "mx", "out@ours.test", ROUTE_OK, "far@remote.test=mx:remote.test;" },
	{ "mx", "nobody@ours.test", ROUTE_NO_ROUTE, "" },
	{ "mx", "x@elsewhere.test", ROUTE_NO_ROUTE, "" },
	{ "mx", "postmaster", ROUTE_OK, "joe=local:joe;" },
	{ "mx", "PostMaster", ROUTE_OK, "joe=local:joe;" },
	{ "mx", "postmaster@ours.test", ROUTE_OK, "joe=local:joe;" },
	{ "mx", "hostmaster", ROUTE_LOCAL_DENIED, "" },
	{ "local", "hostmaster", ROUTE_OK, "joe=local:joe;" },
	{ "local", "root", ROUTE_OK, "root=local:root;" },
	{ "local", "Root", ROUTE_OK, "Root=local:root;" },
	{ NULL, "deep1", ROUTE_LOOP, "" },
	{ NULL, "deep10", ROUTE_OK, "deep18=local:deep18;" },
	{ "mx", "", ROUTE_BAD_ADDRESS, "" },
};

int
main(void)
{
	struct cf cf;
	struct cf_diag d;
	struct cf_db db;
	struct route_ops ops;
	char path[] = "/tmp/route-test.XXXXXX", t[1200];
	const char *why;
	int fd;
	size_t i, j;

	cf_init(&cf);
	cf_diag_init(&d);
	cf_parse_text(&cf, "t.cf", config, sizeof config - 1, &d);
	cf_check(&cf, &d);
	is_str(d.out.p ? d.out.p : "", "", "test configuration is valid");
	fd = mkstemp(path);
	unlink(path);
	ok(fd >= 0 && cf_emit(&cf, fd) == 0, "compiled");
	ok(cf_db_open_fd(&db, fd, &why) == 0, "opened");
	route_db_ops(&ops, &db);

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rcase *c = &cases[i];
		struct route_instance inst;
		struct route_result r;
		struct buf got = BUF_INIT(0);
		char name[256];

		route_db_instance(&db, c->smtpd, &inst);
		if (c->smtpd == NULL)
			inst.q.local_names_ok = 1;
		route_result_init(&r, NULL);
		route_resolve(&ops, &inst.q, c->addr, strlen(c->addr), &r);
		for (j = 0; j < r.n; j++) {
			route_target_format(&r.t[j], t, sizeof t);
			buf_printf(&got, "%s=%s;", r.t[j].rcpt, t);
		}
		snprintf(name, sizeof name, "%s via %s: status", c->addr,
		    c->smtpd ? c->smtpd : "[route]");
		is_int(r.status, c->status, name);
		snprintf(name, sizeof name, "%s via %s: targets", c->addr,
		    c->smtpd ? c->smtpd : "[route]");
		is_str(got.p ? got.p : "", c->targets, name);
		buf_free(&got);
		route_result_free(&r);
	}
	{
		struct route_instance inst;

		route_db_instance(&db, "mx", &inst);
		ok(route_is_our_domain(&ops, &inst.q, "OURS.test", 9),
		    "a domain on a left side is ours");
		ok(!route_is_our_domain(&ops, &inst.q, "remote.test", 11),
		    "a domain only on a right side is not");
		ok(route_is_our_domain(&ops, &inst.q, "mx", 2),
		    "the instance name is ours");
	}
	cf_db_close(&db);
	cf_diag_free(&d);
	cf_free(&cf);
	return done_testing();
}
