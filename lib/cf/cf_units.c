#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/io.h"
#include "base/str.h"
#include "cf/cf_load.h"
#include "cf/cf_units.h"
#include "cf/cf_value.h"

void
cf_units_escape(const char *name, struct buf *out)
{
	const unsigned char *p;

	for (p = (const unsigned char *)name; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' ||
		    (*p == '.' && p != (const unsigned char *)name))
			buf_append_byte(out, (char)*p);
		else
			buf_printf(out, "\\x%02x", *p);
	}
}

/* /etc/hosts only: compiling a config must never need DNS. */
static int
hosts_lookup(const char *host, struct buf *out)
{
	struct buf text = BUF_INIT(0);
	char *line, *save = NULL;
	int found = 0;

	if (cf_load_read("/etc/hosts", &text, 1 << 20) < 0 || text.len == 0) {
		buf_free(&text);
		return 0;
	}
	for (line = strtok_r(text.p, "\n", &save); line && !found;
	    line = strtok_r(NULL, "\n", &save)) {
		char *hash = strchr(line, '#'), *tok, *s2 = NULL, *addr;

		if (hash)
			*hash = '\0';
		addr = strtok_r(line, " \t", &s2);
		if (addr == NULL)
			continue;
		while ((tok = strtok_r(NULL, " \t", &s2)) != NULL)
			if (str_casecmp(tok, host) == 0) {
				buf_append_str(out, addr);
				found = 1;
				break;
			}
	}
	buf_free(&text);
	return found;
}

static int
numeric_port(const char *port, struct buf *err)
{
	struct servent *se;
	unsigned n = cf_value_port_number(port);

	if (n)
		return (int)n;
	se = getservbyname(port, "tcp");
	if (se == NULL) {
		buf_printf(err, "unknown service '%s'", port);
		return -1;
	}
	return ntohs((unsigned short)se->s_port);
}

int
cf_units_listen(const char *value, const char *name, struct buf *out,
    struct buf *err)
{
	struct cf_hostport hp;
	struct buf addr = BUF_INIT(0);
	char def[300];
	const char *why;
	int port;

	if (value[0] == '\0') {
		snprintf(def, sizeof def, "%s:25", name);
		value = def;
	}
	if (cf_value_listen(value, &hp, &why) < 0) {
		buf_printf(err, "listen-port '%s': %s", value, why);
		return -1;
	}
	if ((port = numeric_port(hp.port, err)) < 0)
		return -1;
	if (hp.host[0] == '\0') {
		buf_printf(out, "%d", port);
		return 0;
	}
	if (hp.is_v6) {
		buf_printf(out, "[%s]:%d", hp.host, port);
		return 0;
	}
	if (str_casecmp(hp.host, "ipv6-localhost") == 0 ||
	    str_casecmp(hp.host, "ip6-localhost") == 0 ||
	    str_casecmp(hp.host, "ip6-loopback") == 0) {
		buf_printf(out, "[::1]:%d", port);
		return 0;
	}
	if (str_casecmp(hp.host, "localhost") == 0) {
		buf_printf(out, "127.0.0.1:%d", port);
		return 0;
	}
	if (strspn(hp.host, "0123456789.") == strlen(hp.host)) {
		buf_printf(out, "%s:%d", hp.host, port);
		return 0;
	}
	if (!hosts_lookup(hp.host, &addr)) {
		buf_printf(err,
		    "listen-port '%s': host '%s' is not in /etc/hosts "
		    "(systemd needs an address; no DNS is used)", value, hp.host);
		buf_free(&addr);
		return -1;
	}
	if (strchr(addr.p, ':'))
		buf_printf(out, "[%s]:%d", addr.p, port);
	else
		buf_printf(out, "%s:%d", addr.p, port);
	buf_free(&addr);
	return 0;
}

static int
write_file(const char *dir, const char *name, const struct buf *b,
    struct buf *err)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || io_write_all(fd, b->p, b->len) < 0 ||
	    fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		buf_printf(err, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			unlink(tmp);
		return -1;
	}
	return 0;
}

/* The template with its ExecStart pointed at this instance. */
static int
service_text(const struct buf *tmpl, const char *name,
    const struct cf_units_opts *o, struct buf *out)
{
	const char *p = tmpl->p, *end = tmpl->p + tmpl->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len >= 10 && strncmp(p, "ExecStart=", 10) == 0) {
			buf_printf(out, "ExecStart=%s/postmaster-smtpd -C %s ",
			    o->sbindir, o->cdb);
			/* systemd unquotes "..." words; keep names intact */
			buf_append_byte(out, '"');
			for (const char *c = name; *c; c++) {
				if (*c == '"' || *c == '\\' || *c == '%' || *c == '$')
					buf_append_byte(out, *c == '%' ? '%' :
					    *c == '$' ? '$' : '\\');
				buf_append_byte(out, *c);
			}
			buf_append_str(out, "\"\n");
		} else if (len >= 12 && strncmp(p, "Description=", 12) == 0) {
			buf_printf(out, "Description=Postmaster SMTP server %s, "
			    "one process per connection\n", name);
		} else {
			buf_append(out, p, len);
			buf_append_byte(out, '\n');
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}

struct units_walk {
	struct cf_db *db;
	const struct cf_units_opts *o;
	struct buf *err;
	struct buf tmpl;
	int failed;
};

static int
one_instance(void *arg, const char *name)
{
	struct units_walk *u = arg;
	struct buf esc = BUF_INIT(0), listen = BUF_INIT(0), text = BUF_INIT(0);
	struct buf fname = BUF_INIT(0);
	char value[512];
	int r = -1, proxied;

	cf_units_escape(name, &esc);
	if (cf_db_str(u->db, "smtpd", name, "listen-port", value,
	    sizeof value) < 0) {
		buf_printf(u->err, "[smtpd \"%s\"]: cannot read listen-port\n", name);
		goto out;
	}
	if (cf_units_listen(value, name, &listen, u->err) < 0) {
		buf_printf(u->err, " ([smtpd \"%s\"])\n", name);
		goto out;
	}
	/* Behind a load balancer every connection's source is the balancer:
	 * a per-source limit would cap all clients together (per-client
	 * limits belong on the balancer, postmaster-smtpd(8)). */
	if (cf_db_bool(u->db, "smtpd", name, "proxy-protocol", &proxied) < 0)
		proxied = 0;
	buf_printf(&text,
	    "# Generated by postmaster-cfcompile --units from %s; do not edit.\n"
	    "[Unit]\n"
	    "Description=Postmaster SMTP listener %s\n"
	    "Documentation=man:postmaster-smtpd(8)\n\n"
	    "[Socket]\n"
	    "ListenStream=%s\n"
	    "Accept=yes\n"
	    "MaxConnections=256\n"
	    "%s\n"
	    "[Install]\n"
	    "WantedBy=sockets.target\n", u->o->cdb, name, listen.p,
	    proxied ? "" : "MaxConnectionsPerSource=32\n");
	buf_printf(&fname, "postmaster-smtpd-%s.socket", esc.p);
	if (write_file(u->o->dir, fname.p, &text, u->err) < 0)
		goto out;
	buf_reset(&text);
	buf_reset(&fname);
	service_text(&u->tmpl, name, u->o, &text);
	buf_printf(&fname, "postmaster-smtpd-%s@.service", esc.p);
	if (write_file(u->o->dir, fname.p, &text, u->err) < 0)
		goto out;
	r = 0;
out:
	if (r < 0)
		u->failed = 1;
	buf_free(&esc);
	buf_free(&listen);
	buf_free(&text);
	buf_free(&fname);
	return 0;
}

int
cf_units_write(struct cf_db *db, const struct cf_units_opts *o,
    struct buf *err)
{
	struct units_walk u = { db, o, err, BUF_INIT(1 << 20), 0 };

	if (cf_load_read(o->tmpl, &u.tmpl, 1 << 20) < 0) {
		buf_printf(err, "%s: %s", o->tmpl, strerror(errno));
		return -1;
	}
	if (cf_db_each_section(db, "smtpd", one_instance, &u) < 0)
		u.failed = 1;
	buf_free(&u.tmpl);
	return u.failed ? -1 : 0;
}
