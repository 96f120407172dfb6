#include <stdio.h>
#include <string.h>

#include "inject/inject_cfg.h"
#include "inject/inject_msg.h"

int
inject_cfg_open(struct inject_cfg *c, const char *path, const char **why)
{
	memset(c, 0, sizeof *c);
	if (cf_db_open(&c->db, path, why) < 0)
		return -1;
	route_db_ops(&c->ops, &c->db);
	if (route_db_instance(&c->db, NULL, &c->inst) < 0 ||
	    cf_db_str(&c->db, "core", "", "spool-directory", c->spooldir,
	        sizeof c->spooldir) < 0 ||
	    cf_db_uint(&c->db, "core", "", "max-message-size", &c->max_size) <
	        0) {
		*why = "unreadable configuration";
		cf_db_close(&c->db);
		return -1;
	}
	c->inst.q.local_names_ok = 1; /* a local caller */
	snprintf(c->hostname, sizeof c->hostname, "%s",
	    c->inst.hostname[0] ? c->inst.hostname : "localhost");
	return 0;
}

void
inject_cfg_close(struct inject_cfg *c)
{
	cf_db_close(&c->db);
}

/* "Joe Bloggs,room,phone" with '&' as the capitalised login (BSD gecos). */
static void
gecos_name(const char *gecos, const char *login, char *out, size_t cap)
{
	size_t o = 0;
	const char *p;

	for (p = gecos; *p && *p != ',' && o + 1 < cap; p++) {
		if (*p == '&') {
			const char *l;

			for (l = login; *l && o + 1 < cap; l++) {
				int up = l == login && *l >= 'a' && *l <= 'z';

				out[o++] = (char)(up ? *l - 'a' + 'A' : *l);
			}
		} else if ((unsigned char)*p >= 0x20 && *p != 0x7f) {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* -f value: "<a@b>", "a@b", "<>", "" or a local name (gets @hostname). */
static int
set_sender(struct inject_cfg *c, const char *arg)
{
	char tmp[SMTP_PATH_MAX + 1], canon[SMTP_PATH_MAX + 1];
	size_t n = strlen(arg);

	if (n >= 2 && arg[0] == '<' && arg[n - 1] == '>') {
		arg++;
		n -= 2;
	}
	if (n == 0) {
		c->sender[0] = '\0'; /* the null sender, for bounces */
		return 0;
	}
	if (n >= sizeof tmp)
		return -1;
	memcpy(tmp, arg, n);
	tmp[n] = '\0';
	if (inject_addr_check(tmp, n, canon) < 0)
		return -1;
	if (strchr(canon, '@') == NULL) {
		if ((size_t)snprintf(c->sender, sizeof c->sender, "%s@%s",
		        canon, c->hostname) >= sizeof c->sender)
			return -1;
	} else {
		snprintf(c->sender, sizeof c->sender, "%s", canon);
	}
	return 0;
}

int
inject_cfg_caller(struct inject_cfg *c, const struct passwd *pw,
    const char *fullname, const char *sender)
{
	snprintf(c->login, sizeof c->login, "%s", pw->pw_name);
	if (fullname)
		snprintf(c->fullname, sizeof c->fullname, "%s", fullname);
	else if (pw->pw_gecos)
		gecos_name(pw->pw_gecos, pw->pw_name, c->fullname,
		    sizeof c->fullname);
	if (sender)
		return set_sender(c, sender);
	if ((size_t)snprintf(c->sender, sizeof c->sender, "%s@%s", c->login,
	        c->hostname) >= sizeof c->sender)
		return -1;
	return 0;
}

/* RFC 5322 3.2.5 display-name: quoted-string when it is not all atoms. */
static void
display_name(struct buf *b, const char *name)
{
	const char *p;
	int plain = 1;

	for (p = name; *p; p++)
		if (strchr("()<>[]:;@\\,.\"", *p))
			plain = 0;
	if (plain) {
		buf_append_str(b, name);
		return;
	}
	buf_append_byte(b, '"');
	for (p = name; *p; p++) {
		if (*p == '"' || *p == '\\')
			buf_append_byte(b, '\\');
		buf_append_byte(b, *p);
	}
	buf_append_byte(b, '"');
}

void
inject_cfg_from(const struct inject_cfg *c, const char *sender,
    struct buf *out)
{
	buf_reset(out);
	if (c->fullname[0]) {
		display_name(out, c->fullname);
		buf_append_str(out, " <");
	}
	if (sender[0])
		buf_append_str(out, sender);
	else
		buf_printf(out, "%s@%s", c->login, c->hostname);
	if (c->fullname[0])
		buf_append_byte(out, '>');
}
