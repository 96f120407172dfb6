/*
 * deliver_path: turn a `[lmtpd] maildir` template into the path of one
 * recipient's Maildir. Pure: no I/O, no allocation.
 *
 * Template language:
 *   %u   the recipient's local part, as given (local parts are
 *        case-sensitive, RFC 5321 2.4; folding is the router's choice:
 *        the queue hands lmtpd one spelling per mailbox, route_resolve.h)
 *   %d   the recipient's domain, lowercased (ASCII)
 *   %%   a literal percent sign
 *   %x   any other escape, or a lone trailing %, is an error
 *   ~/   (only as the very first characters, or "~" alone) the home
 *        directory given by the caller, i.e. the passwd entry's pw_dir
 *
 * The result must be absolute: a relative template would depend on the
 * daemon's working directory. Values substituted for %u and %d come from
 * the network, so each one is refused (DELIVER_PATH_E_LOCAL/_DOMAIN) if it
 * could step outside the tree: empty, starting with a dot (which covers "."
 * and ".."), containing '/', NUL, or an ASCII control character; and if it
 * is not UTF-8 or holds a C1 control (U+0080-U+009F), U+2028/U+2029 or a
 * bidirectional control (U+061C, U+200E/F, U+202A-U+202E,
 * U+2066-U+2069), which would make a listing lie. A value is
 * only checked when the template uses it, so "~/Maildir" works for a bare
 * local name with no domain. Every path component of the result is at most
 * NAME_MAX bytes and the whole result, with its NUL, fits in outsize
 * (callers pass a PATH_MAX buffer); otherwise DELIVER_PATH_E_TOOLONG.
 *
 * On any error out[] holds an empty string.
 */
#ifndef PM_DELIVER_PATH_H
#define PM_DELIVER_PATH_H

#include <stddef.h>

enum deliver_path_err {
	DELIVER_PATH_OK = 0,
	DELIVER_PATH_E_LOCAL = -1,	/* unsafe or missing local part */
	DELIVER_PATH_E_DOMAIN = -2,	/* unsafe or missing domain */
	DELIVER_PATH_E_ESCAPE = -3,	/* %x other than %u %d %%, or lone % */
	DELIVER_PATH_E_HOME = -4,	/* ~ used without an absolute home */
	DELIVER_PATH_E_RELATIVE = -5,	/* result would not be absolute */
	DELIVER_PATH_E_TOOLONG = -6,	/* component > NAME_MAX or > outsize */
	DELIVER_PATH_E_TEMPLATE = -7	/* NULL/empty template, or ~user */
};

/*
 * Expands tmpl into out[0..outsize). local/domain are ptr+len (NULL with
 * length 0 means absent); home is a NUL-terminated path or NULL. Returns
 * DELIVER_PATH_OK or one of the negative codes above.
 */
int deliver_path_expand(char *out, size_t outsize, const char *tmpl,
    const char *local, size_t locallen, const char *domain, size_t domainlen,
    const char *home);

/* 0 if p[0..n) is safe as (part of) one path component, else -1. */
int deliver_path_check_part(const char *p, size_t n);

/* A short English text for a deliver_path_err, for logs. */
const char *deliver_path_strerror(int err);

#endif
