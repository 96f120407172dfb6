/*
 * dns_mx / dns_addr: parsing canned DNS answers built here, MX sorting and
 * the shuffle among equal preferences, IP literals.
 */
#define _DEFAULT_SOURCE
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <stdint.h>
#include <string.h>

#include "dns/dns_addr.h"
#include "dns/dns_mx.h"
#include "tap.h"

struct pkt {
	unsigned char b[1024];
	size_t len;
	size_t qname;		/* offset of the question name */
};

static void
put16(struct pkt *p, unsigned v)
{
	p->b[p->len++] = (unsigned char)(v >> 8);
	p->b[p->len++] = (unsigned char)v;
}

static void
put_name(struct pkt *p, const char *name)
{
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		p->b[p->len++] = (unsigned char)l;
		memcpy(p->b + p->len, name, l);
		p->len += l;
		name += l + (dot != NULL);
	}
	p->b[p->len++] = 0;
}

/* Header and question; ancount fixed up by add_rr(). */
static void
start(struct pkt *p, const char *qname, unsigned qtype, unsigned rcode)
{
	p->len = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | rcode);	/* response, RD, RA */
	put16(p, 1);
	put16(p, 0);
	put16(p, 0);
	put16(p, 0);
	p->qname = p->len;
	put_name(p, qname);
	put16(p, qtype);
	put16(p, ns_c_in);
}

static void
add_rr(struct pkt *p, unsigned type, const void *rdata, size_t rdlen)
{
	unsigned an = (unsigned)p->b[6] << 8 | p->b[7];

	an++;
	p->b[6] = (unsigned char)(an >> 8);
	p->b[7] = (unsigned char)an;
	/* owner: a compression pointer to the question name */
	put16(p, 0xc000 | (unsigned)p->qname);
	put16(p, type);
	put16(p, ns_c_in);
	put16(p, 0);
	put16(p, 300);
	put16(p, (unsigned)rdlen);
	memcpy(p->b + p->len, rdata, rdlen);
	p->len += rdlen;
}

static void
add_mx(struct pkt *p, unsigned pref, const char *host)
{
	struct pkt rd;

	rd.len = 0;
	put16(&rd, pref);
	put_name(&rd, host);
	add_rr(p, ns_t_mx, rd.b, rd.len);
}

/* MX whose exchange is a compression pointer into the question name. */
static void
add_mx_ptr(struct pkt *p, unsigned pref)
{
	unsigned char rd[4];

	rd[0] = (unsigned char)(pref >> 8);
	rd[1] = (unsigned char)pref;
	rd[2] = (unsigned char)(0xc0 | p->qname >> 8);
	rd[3] = (unsigned char)p->qname;
	add_rr(p, ns_t_mx, rd, 4);
}

/* A fixed sequence, so the test knows what the shuffle does. */
static uint32_t
seq_rand(void *arg)
{
	uint32_t *s = arg;

	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static uint32_t
zero_rand(void *arg)
{
	(void)arg;
	return 0;
}

int
main(void)
{
	struct pkt p;
	struct dns_mx_list l;
	struct dns_addr_list al;
	struct dns_addr a;
	char s[DNS_ADDR_STRLEN];
	uint32_t seed = 1;
	int seen_first[3] = { 0, 0, 0 };
	size_t i;
	int run;

	/* MX parsing */
	start(&p, "example.test", ns_t_mx, 0);
	add_mx(&p, 20, "mx2.example.test");
	add_mx(&p, 10, "mx1.example.test.");
	add_mx_ptr(&p, 30);
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_OK, "MX answer parses");
	is_int((long long)l.n, 3, "three MX records");
	is_str(l.mx[0].host, "mx2.example.test", "first exchange");
	is_int(l.mx[0].pref, 20, "first preference");
	is_str(l.mx[2].host, "example.test", "compressed exchange expanded");
	dns_mx_sort(&l, zero_rand, NULL);
	is_str(l.mx[0].host, "mx1.example.test", "sorted: pref 10 first");
	is_str(l.mx[1].host, "mx2.example.test", "sorted: pref 20 second");
	is_str(l.mx[2].host, "example.test", "sorted: pref 30 last");
	ok(!l.implicit, "not implicit");

	/* Null MX: a single "." (RFC 7505) */
	start(&p, "nomail.test", ns_t_mx, 0);
	add_mx(&p, 0, "");
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_NULLMX, "null MX detected");
	/* "." beside real MX records is ignored */
	start(&p, "mixed.test", ns_t_mx, 0);
	add_mx(&p, 0, "");
	add_mx(&p, 5, "mx.mixed.test");
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_OK, "null MX among others");
	is_int((long long)l.n, 1, "only the real MX kept");

	/* Answers without MX records: a CNAME only */
	start(&p, "alias.test", ns_t_mx, 0);
	{
		struct pkt rd;

		rd.len = 0;
		put_name(&rd, "target.test");
		add_rr(&p, ns_t_cname, rd.b, rd.len);
	}
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_NODATA, "no MX: NODATA");

	/* Malformed: truncated packet, bad rdata */
	start(&p, "example.test", ns_t_mx, 0);
	add_mx(&p, 10, "mx1.example.test");
	is_int(dns_mx_parse(p.b, p.len - 3, &l), DNS_TEMP, "truncated: TEMP");
	start(&p, "example.test", ns_t_mx, 0);
	add_rr(&p, ns_t_mx, "\0", 1);
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_TEMP, "short rdata: TEMP");
	/* fuzz_dns_mx: a good record before a bad one left n = 1 with
	 * TEMP; a malformed answer yields nothing. */
	start(&p, "example.test", ns_t_mx, 0);
	add_mx(&p, 10, "mx1.example.test");
	add_rr(&p, ns_t_mx, "\0", 1);
	is_int(dns_mx_parse(p.b, p.len, &l), DNS_TEMP,
	    "good then short rdata: TEMP");
	is_int((long long)l.n, 0, "and no host kept");
	is_int(dns_mx_parse((const unsigned char *)"", 0, &l), DNS_TEMP,
	    "empty packet: TEMP");

	/* Sorting keeps preference order and shuffles equals. */
	for (run = 0; run < 60; run++) {
		l.n = 5;
		l.mx[0].pref = 10;
		strcpy(l.mx[0].host, "b0");
		l.mx[1].pref = 5;
		strcpy(l.mx[1].host, "a");
		l.mx[2].pref = 10;
		strcpy(l.mx[2].host, "b1");
		l.mx[3].pref = 10;
		strcpy(l.mx[3].host, "b2");
		l.mx[4].pref = 99;
		strcpy(l.mx[4].host, "c");
		dns_mx_sort(&l, seq_rand, &seed);
		if (strcmp(l.mx[0].host, "a") != 0 ||
		    strcmp(l.mx[4].host, "c") != 0 || l.mx[1].host[0] != 'b' ||
		    l.mx[2].host[0] != 'b' || l.mx[3].host[0] != 'b' ||
		    strcmp(l.mx[1].host, l.mx[2].host) == 0 ||
		    strcmp(l.mx[2].host, l.mx[3].host) == 0 ||
		    strcmp(l.mx[1].host, l.mx[3].host) == 0)
			break;
		seen_first[l.mx[1].host[1] - '0']++;
	}
	is_int(run, 60, "60 sorts keep preference order and all hosts");
	ok(seen_first[0] > 0 && seen_first[1] > 0 && seen_first[2] > 0,
	    "each equal-preference host came first at least once (%d %d %d)",
	    seen_first[0], seen_first[1], seen_first[2]);
	/* the default random source works too */
	dns_mx_sort(&l, NULL, NULL);
	is_str(l.mx[0].host, "a", "default random source sorts");

	/* A and AAAA answers */
	start(&p, "host.test", ns_t_a, 0);
	add_rr(&p, ns_t_a, "\x7f\x00\x00\x01", 4);
	add_rr(&p, ns_t_a, "\xc0\x00\x02\x07", 4);
	al.n = 0;
	is_int(dns_addr_parse(p.b, p.len, ns_t_a, &al), DNS_OK, "A parses");
	is_int((long long)al.n, 2, "two A records");
	dns_addr_format(&al.a[1], s, sizeof s);
	is_str(s, "192.0.2.7", "second A");
	start(&p, "host.test", ns_t_aaaa, 0);
	add_rr(&p, ns_t_aaaa,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	is_int(dns_addr_parse(p.b, p.len, ns_t_aaaa, &al), DNS_OK,
	    "AAAA appends");
	dns_addr_format(&al.a[2], s, sizeof s);
	is_str(s, "2001:db8::1", "AAAA formatted");
	start(&p, "host.test", ns_t_a, 0);
	add_rr(&p, ns_t_a, "\x7f\x00\x00", 3);
	is_int(dns_addr_parse(p.b, p.len, ns_t_a, &al), DNS_TEMP,
	    "A with 3 bytes: TEMP");
	{
		size_t before = al.n;

		start(&p, "host.test", ns_t_a, 0);
		add_rr(&p, ns_t_a, "\x7f\x00\x00\x09", 4);
		add_rr(&p, ns_t_a, "\x7f\x00\x00", 3);
		is_int(dns_addr_parse(p.b, p.len, ns_t_a, &al), DNS_TEMP,
		    "good A then a 3-byte one: TEMP");
		is_int((long long)al.n, (long long)before,
		    "and nothing appended");
	}
	al.n = DNS_ADDR_MAX;
	start(&p, "host.test", ns_t_a, 0);
	add_rr(&p, ns_t_a, "\x7f\x00\x00\x02", 4);
	is_int(dns_addr_parse(p.b, p.len, ns_t_a, &al), DNS_OK, "full list");
	is_int((long long)al.n, DNS_ADDR_MAX, "list stays bounded");

	/* literals */
	ok(dns_addr_literal("127.0.0.1", &a) && a.family == AF_INET, "v4 lit");
	ok(dns_addr_literal("::1", &a) && a.family == AF_INET6, "v6 literal");
	ok(!dns_addr_literal("[::1]", &a), "bracketed is not a literal");
	ok(!dns_addr_literal("mx.example", &a), "a name is not a literal");

	for (i = 0; i < 1; i++)
		is_str(dns_status_name(DNS_NULLMX),
		    "domain does not accept mail (null MX, RFC 7505)",
		    "status names");
	return done_testing();
}
