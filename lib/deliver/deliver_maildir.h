/*
 * deliver_maildir: deliver one message into one Maildir, durably.
 *
 * Protocol (https://cr.yp.to/proto/maildir.html): create tmp/NAME with
 * O_EXCL and mode 0600, write the caller's header lines then the message,
 * fsync and close it, hard-link it to new/NAME (rename(2) only where the
 * file system has no hard links), fsync new/, unlink tmp/NAME. Only when
 * all of that succeeded is the result DELIVER_OK, so the LMTP 250 follows
 * the data to stable storage (DESIGN.md "Durability"). On any failure no
 * file is left in tmp/ or new/ (cleanup is best effort after a crash: a
 * stale tmp/ file is what the Maildir spec lets readers delete after 36 h).
 *
 * NAME is <sec>.M<usec>P<pid>Q<count>R<random>.<host>, the host with '/'
 * as \057 and ':' as \072. The counter lives in the caller's struct
 * deliver_maildir, so a process delivers many messages per microsecond
 * without collisions and lib/ keeps no mutable global.
 *
 * The Maildir and its tmp/ new/ cur/ are created (mode 0700, owned by the
 * calling process's uid) when missing, and so are missing parents of the
 * path; each created directory's parent is fsync'ed so the mailbox exists
 * after a crash as surely as the message does. Parents may be symlinks
 * (/home -> /data/home is common), but the Maildir itself, its
 * subdirectories and the message file are opened with O_NOFOLLOW: a
 * symlink there fails with errno ELOOP, so a user who owns the
 * directory cannot point the delivery at someone else's file.
 *
 * Line ends: with DELIVER_MSG_CRLF the message (not the header lines) is
 * converted from the wire's CRLF to the LF that Maildir readers expect;
 * a bare CR is kept. The header helpers append LF-terminated lines.
 *
 * Results are enum deliver_result: DELIVER_OK (0) or a negative code, with
 * errno preserved from the failing call for the log. deliver_maildir_reply()
 * gives the LMTP reply text for each.
 */
#ifndef PM_DELIVER_MAILDIR_H
#define PM_DELIVER_MAILDIR_H

#include <stddef.h>
#include <sys/types.h>

#include "base/buf.h"

enum deliver_result {
	DELIVER_OK = 0,
	DELIVER_E_TEMP = -1,	/* 451 4.3.0: I/O, permissions, symlink */
	DELIVER_E_QUOTA = -2,	/* 452 4.2.2: EDQUOT */
	DELIVER_E_NOSPACE = -3,	/* 452 4.3.1: ENOSPC */
	DELIVER_E_MAILBOX = -4,	/* 550 5.1.3: unusable mailbox name */
	DELIVER_E_ROOT = -5,	/* 550 5.7.1: would deliver as uid 0 */
	DELIVER_E_LOOP = -6	/* 554 5.4.6: Delivered-To loop, hops */
};

/* Room for the escaped, possibly shortened host name in a file name. */
#define DELIVER_MAILDIR_HOSTMAX 128
/* Bytes of a new/ file name, with NUL: always below NAME_MAX. */
#define DELIVER_MAILDIR_NAMEMAX 256

struct deliver_maildir {
	char host[DELIVER_MAILDIR_HOSTMAX + 1];
	unsigned long long count;
};

/* The message: from fd (read with pread from off to EOF) or from memory. */
struct deliver_msg {
	const char *hdr;	/* lines to prepend, verbatim; may be NULL */
	size_t hdrlen;
	int fd;			/* >= 0: read the message from here */
	off_t off;		/* where the message starts in fd */
	const char *data;	/* fd < 0: the message in memory */
	size_t datalen;
	int flags;		/* DELIVER_MSG_* */
};

#define DELIVER_MSG_CRLF 0x1	/* message is CRLF: write it with LF */

/*
 * Sets up dm. hostname NULL or "" means gethostname(); '/' and ':' are
 * escaped and a very long name is shortened (it only disambiguates
 * writers on shared storage). Returns 0, or -1 with errno.
 */
int deliver_maildir_init(struct deliver_maildir *dm, const char *hostname);

/*
 * Delivers msg into the Maildir at path (absolute, NUL-terminated, e.g.
 * from deliver_path_expand). When name is not NULL it receives the new/
 * file's base name (namesize >= DELIVER_MAILDIR_NAMEMAX is always enough).
 * Reading from msg->fd uses pread, so the fd's offset is neither used nor
 * changed (a pipe falls back to read). Returns an enum deliver_result.
 */
int deliver_maildir_put(struct deliver_maildir *dm, const char *path,
    const struct deliver_msg *msg, char *name, size_t namesize);

/*
 * Appends "Return-Path: <sender>\n" (RFC 5321 4.4; "<>" for the null
 * sender) or "Delivered-To: rcpt\n" to b. The address must not contain
 * CR, LF or NUL (header injection): -1 with errno EINVAL; else 0, or -1
 * with the errno of buf_append.
 */
int deliver_maildir_hdr_return_path(struct buf *b, const char *sender,
    size_t len);
int deliver_maildir_hdr_delivered_to(struct buf *b, const char *rcpt,
    size_t len);

/* The result for a failed call's errno: quota, no space, or temporary. */
int deliver_maildir_errno_result(int err);

/* "250 2.0.0 ..." / "452 4.2.2 ..." etc. for an enum deliver_result. */
const char *deliver_maildir_reply(int res);

#endif
