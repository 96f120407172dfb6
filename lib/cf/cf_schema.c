#include <stddef.h>
#include <string.h>

#include "cf/cf_schema.h"

static const struct cf_key_def core_keys[] = {
	{ "hostname", CF_T_STRING, 0, "", NULL, NULL,
	    "name in the greeting and Received fields (default: the host name)" },
	{ "logger", CF_T_REF, 0, "stderr", "syslog|logfile", "stderr|syslog",
	    "where programs log: stderr, syslog or a [logfile] section" },
	{ "user-id", CF_T_STRING, 0, "postmaster", NULL, NULL,
	    "user the programs drop to when started as root" },
	{ "group-id", CF_T_STRING, 0, "postmaster", NULL, NULL,
	    "group the programs drop to when started as root" },
	{ "pid-file", CF_T_PATH, 0, "", NULL, NULL,
	    "pid file of postmaster-queue (default: none)" },
	{ "spool-directory", CF_T_PATH, 0, "/var/spool/postmaster", NULL, NULL,
	    "the queue" },
	{ "local-mailer", CF_T_REF, 0, "lmtpd", "pipe|relay", "lmtpd",
	    "delivers to local names: lmtpd (built in) or a [pipe] or [relay]" },
	{ "max-message-size", CF_T_SIZE, 0, "35M", NULL, NULL,
	    "largest message accepted (SIZE, RFC 1870)" },
	{ "max-hops", CF_T_UINT, 0, "50", "1-1000", NULL,
	    "Received/Delivered-To fields before a message is refused as a loop" },
	{ "bounce-to", CF_T_ENUM, 0, "sender", "sender|postmaster|both", NULL,
	    "who gets delivery status notifications" },
	{ "queue-lifetime", CF_T_DURATION, 0, "5d", NULL, NULL,
	    "how long a temporary failure is retried before it bounces" },
	{ "dns-server", CF_T_ADDRESS, 0, "", NULL, NULL,
	    "resolver address (default: /etc/resolv.conf)" },
	{ "spf-socket", CF_T_PATH, 0, "/run/postmaster/spf", NULL, NULL,
	    "postmaster-spf service smtpd asks first (empty: always spawn)" },
	{ "retry-interval", CF_T_DURATION, 0, "1m", NULL, NULL,
	    "first retry after a temporary failure; doubles per attempt" },
	{ "retry-max-interval", CF_T_DURATION, 0, "1h", NULL, NULL,
	    "longest wait between two retries" },
	{ "queue-concurrency", CF_T_UINT, 0, "10", "1-1000", NULL,
	    "messages postmaster-queue delivers at once (worker processes)" },
	{ "max-per-destination", CF_T_UINT, 0, "20", "1-1000", NULL,
	    "workers postmaster-queue runs at once for one destination "
	    "(relay, host, MX domain, pipe, local mailer)" },
	{ "first-valid-uid", CF_T_UINT, 0, "1000", "0-2147483647", NULL,
	    "lowest uid that gets mail as a system user (~/Maildir, [pipe] "
	    "local mailer); 65534 never does" },
	{ "smtp-port", CF_T_UINT, 0, "25", "1-65535", NULL,
	    "TCP port of SMTP deliveries that name none (MX hosts, host "
	    "targets, relay addresses without :port)" },
	{ "tls-client", CF_T_ENUM, 0, "may", "none|may", NULL,
	    "STARTTLS to MX hosts and host targets: may (when offered, "
	    "unverified) or none; the default of [relay] tls" },
	{ "tls-socket", CF_T_PATH, 0, "/run/postmaster/tlsd.socket", NULL,
	    NULL,
	    "unix socket of the postmaster-tlsd service; smtpd starts a "
	    "postmaster-tlsd per session when none listens there" },
	{ "tls-max-sessions", CF_T_UINT, 0, "100", "1-100000", NULL,
	    "TLS sessions the postmaster-tlsd service serves at once" },
	{ "tls-max-use", CF_T_UINT, 0, "100", "1-100000", NULL,
	    "TLS sessions one worker of the postmaster-tlsd service serves, "
	    "one after the other, before it exits" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def syslog_keys[] = {
	{ "ident", CF_T_STRING, 0, "postmaster", NULL, NULL, "syslog tag" },
	{ "facility", CF_T_ENUM, 0, "mail",
	    "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7",
	    NULL, "syslog facility" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def logfile_keys[] = {
	{ "file", CF_T_PATH, CF_REQUIRED, "", NULL, NULL,
	    "log file path; strftime(3) conversions such as %Y-%m-%d rotate it" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def pipe_keys[] = {
	{ "exec", CF_T_WORDS, CF_REQUIRED, "", NULL, NULL,
	    "program and arguments, no shell; ${MAIL_FROM}, ${RCPT_TO} substituted" },
	{ "max_rcpt_to", CF_T_UINT, 0, "1", "1-10000", NULL,
	    "recipients per invocation" },
	{ "user", CF_T_STRING, 0, "", NULL, NULL,
	    "run as this user (default: the recipient for local names, else user-id)" },
	{ "timeout", CF_T_DURATION, 0, "1h", NULL, NULL,
	    "kill the program after this long (temporary failure)" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def relay_keys[] = {
	{ "name", CF_T_STRING, 0, "", NULL, NULL,
	    "the relay's name (default: the section name)" },
	{ "address", CF_T_ADDRESS, CF_MULTI, "", NULL, NULL,
	    "host, host:port, [ipv6]:port or /unix/socket; tried in order "
	    "(default: the section name, by MX)" },
	{ "protocol", CF_T_ENUM, 0, "smtp", "smtp|lmtp", NULL,
	    "protocol spoken to the relay" },
	{ "tls", CF_T_ENUM, 0, "", "none|may|encrypt|verify", NULL,
	    "STARTTLS: none, may, encrypt (required, unverified), verify "
	    "(required, certificate and name checked) (default: [core] "
	    "tls-client)" },
	{ "tls-ca-file", CF_T_PATH, 0, "", NULL, NULL,
	    "PEM trust anchors for tls = verify (default: the system store)" },
	{ "auth-user", CF_T_STRING, 0, "", NULL, NULL,
	    "AUTH PLAIN/LOGIN as this user, only inside TLS" },
	{ "auth-password-file", CF_T_PATH, 0, "", NULL, NULL,
	    "file whose first line is auth-user's password, read at each "
	    "attempt" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def reject_keys[] = {
	{ "code", CF_T_UINT, 0, "550", "400-599", NULL,
	    "SMTP reply code (521: the host accepts no mail, RFC 7504)" },
	{ "status", CF_T_STATUS, 0, "", NULL, NULL,
	    "enhanced status code (default: 5.1.1 for 550, 5.7.1 for 554, "
	    "5.1.2 for 521, 4.3.2 for 4xx)" },
	{ "text", CF_T_STRING, 0, "", NULL, NULL, "reply text" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def smtpd_keys[] = {
	{ "name", CF_T_STRING, 0, "", NULL, NULL,
	    "host name of this instance (default: the section name)" },
	{ "listen-port", CF_T_LISTEN, 0, "", NULL, NULL,
	    "port, service, host:port or [ipv6]:port (default: NAME:25)" },
	{ "routing-table", CF_T_REF, CF_MULTI, "", "route", NULL,
	    "route sections consulted in order before [route]" },
	{ "logger", CF_T_REF, 0, "", "syslog|logfile", "stderr|syslog",
	    "overrides [core] logger" },
	{ "local-rcpt-to", CF_T_BOOL, 0, "no", NULL, NULL,
	    "accept bare local names in RCPT TO" },
	{ "accept-mail", CF_T_BOOL, 0, "yes", NULL, NULL,
	    "no: greet with 521 and close (RFC 7504)" },
	{ "max-recipients", CF_T_UINT, 0, "100", "1-100000", NULL,
	    "recipients per transaction, then 452 4.5.3" },
	{ "max-message-size", CF_T_SIZE, 0, "", NULL, NULL,
	    "overrides [core] max-message-size" },
	{ "max-errors", CF_T_UINT, 0, "20", "1-1000", NULL,
	    "errors before 421 and close" },
	{ "max-line-length", CF_T_UINT, 0, "2048", "512-65536", NULL,
	    "command line limit including CRLF, then 500 5.5.2" },
	{ "idle-timeout", CF_T_DURATION, 0, "5m", NULL, NULL,
	    "wait for the next command or data chunk" },
	{ "session-timeout", CF_T_DURATION, 0, "30m", NULL, NULL,
	    "whole session deadline" },
	{ "proxy-protocol", CF_T_BOOL, 0, "no", NULL, NULL,
	    "read a HAProxy PROXY v1/v2 header before the greeting" },
	{ "tls", CF_T_ENUM, 0, "off", "off|optional|required|implicit", NULL,
	    "STARTTLS offered, required before MAIL, or TLS from the first "
	    "octet (RFC 8314)" },
	{ "tls-certificate", CF_T_PATH, CF_MULTI, "", NULL, NULL,
	    "PEM certificate chain; one per tls-key, in the same order" },
	{ "tls-key", CF_T_PATH, CF_MULTI, "", NULL, NULL,
	    "PEM private key of the tls-certificate of the same rank" },
	{ "tls-priority", CF_T_STRING, 0,
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", NULL, NULL,
	    "GnuTLS priority string (protocol versions, ciphers)" },
	{ "tls-ticket-key-file", CF_T_PATH, 0, "", NULL, NULL,
	    "64-octet session ticket key shared by all connections "
	    "(resumption); none: no tickets" },
	{ "auth", CF_T_REF, 0, "", "auth", NULL,
	    "offer AUTH PLAIN LOGIN under TLS, checked by this [auth]" },
	{ "auth-required", CF_T_BOOL, 0, "no", NULL, NULL,
	    "refuse MAIL before AUTH (530 5.7.0)" },
	{ "spf", CF_T_ENUM, 0, "off", "off|tag|reject", NULL,
	    "SPF check of MAIL FROM (RFC 7208): tag records the result, "
	    "reject also refuses fail (550) and temperror (451)" },
	{ "spf-exempt", CF_T_WORDS, CF_MULTI, "", NULL, NULL,
	    "client networks (ADDRESS or ADDRESS/LENGTH) not checked" },
	{ "spf-permerror", CF_T_ENUM, 0, "accept", "accept|reject", NULL,
	    "with spf = reject: accept (tagged) or refuse (550 5.7.24) a "
	    "permerror" },
	{ "spf-timeout", CF_T_DURATION, 0, "20s", NULL, NULL,
	    "time budget of one SPF check, then temperror" },
	{ "pipelining", CF_T_ENUM, 0, "spool", "spool|full|ultra", NULL,
	    "spool: store and forward; full: proxy a transaction to its "
	    "target; ultra: full, keeping the target connection" },
	{ "proxy-timeout", CF_T_DURATION, 0, "100s", NULL, NULL,
	    "full/ultra: each wait for the target (connect, reply, write)" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def auth_keys[] = {
	{ "passwd-file", CF_T_PATH, 0, "", NULL, NULL,
	    "user:crypt-hash lines, compiled into the passwd CDB" },
	{ "dovecot", CF_T_PATH, 0, "", NULL, NULL,
	    "a Dovecot auth-client socket that checks passwords" },
	{ "sender-login", CF_T_ENUM, 0, "own", "own|any", NULL,
	    "own: MAIL FROM must be the login's address (553 5.7.1)" },
	{ "failure-delay", CF_T_DURATION, 0, "1s", NULL, NULL,
	    "wait before each 535 5.7.8" },
	{ "timeout", CF_T_DURATION, 0, "10s", NULL, NULL,
	    "deadline of one question to the dovecot socket" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_key_def lmtpd_keys[] = {
	{ "maildir", CF_T_STRING, 0, "~/Maildir", NULL, NULL,
	    "~/Maildir (system users) or a template with %u, %d, %%" },
	{ "logger", CF_T_REF, 0, "", "syslog|logfile", "stderr|syslog",
	    "overrides [core] logger" },
	{ "idle-timeout", CF_T_DURATION, 0, "5m", NULL, NULL,
	    "wait for the next command, data chunk or reply write" },
	{ "session-timeout", CF_T_DURATION, 0, "30m", NULL, NULL,
	    "whole session deadline" },
	{ NULL, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct cf_kind_def kinds[] = {
	{ "core", CF_UNNAMED, 0, core_keys, "global settings" },
	{ "syslog", CF_EITHER, 0, syslog_keys, "a syslog logger" },
	{ "logfile", CF_NAMED, 0, logfile_keys, "a file logger" },
	{ "pipe", CF_NAMED, 1, pipe_keys, "a program that takes messages" },
	{ "relay", CF_NAMED, 1, relay_keys, "an SMTP or LMTP server" },
	{ "reject", CF_NAMED, 1, reject_keys, "a refusal with a chosen reply" },
	{ "smtpd", CF_NAMED, 0, smtpd_keys, "a postmaster-smtpd instance" },
	{ "lmtpd", CF_UNNAMED, 0, lmtpd_keys, "the local Maildir mailer" },
	{ "auth", CF_NAMED, 0, auth_keys, "how smtpd checks AUTH passwords" },
	{ "route", CF_EITHER, 0, NULL, "a routing table" },
	{ NULL, 0, 0, NULL, NULL }
};

const struct cf_kind_def *
cf_schema_kinds(void)
{
	return kinds;
}

const struct cf_kind_def *
cf_schema_kind(const char *kind)
{
	const struct cf_kind_def *k;

	for (k = kinds; k->kind; k++)
		if (strcmp(k->kind, kind) == 0)
			return k;
	return NULL;
}

const struct cf_key_def *
cf_schema_key(const struct cf_kind_def *k, const char *key)
{
	const struct cf_key_def *d;

	if (k == NULL || k->keys == NULL)
		return NULL;
	for (d = k->keys; d->key; d++)
		if (strcmp(d->key, key) == 0)
			return d;
	return NULL;
}

const char *const *
cf_schema_kind_names(void)
{
	static const char *names[sizeof kinds / sizeof kinds[0]];
	size_t i;

	for (i = 0; kinds[i].kind; i++)
		names[i] = kinds[i].kind;
	names[i] = NULL;
	return names;
}

const char *const *
cf_schema_key_names(const struct cf_kind_def *k)
{
	static const char *names[32];
	size_t i = 0;

	if (k && k->keys)
		for (; k->keys[i].key && i < 31; i++)
			names[i] = k->keys[i].key;
	names[i] = NULL;
	return names;
}
