/*
 * queue_list: the queue as an administrator reads it, one listing for
 * postmaster-queue --list and postmaster-inject -bp (mailq).
 *
 * queue_list_message() appends one message to out: its id, body size,
 * arrival (UTC, ISO 8601) and sender, then a line per delivery with its
 * address (and the original recipient when it differs), target, status,
 * attempts and, while pending, the next attempt ("now" when due), then
 * the last reply on a line of its own. Every value from the envelope and
 * the state is escaped (log_escape: a local user or a remote client
 * chose them, and they go to a terminal). A message gone meanwhile adds
 * nothing; one whose files cannot be read adds a line saying so.
 *
 * queue_list() writes every message, oldest first (ids sort by time),
 * and a last line to fd: "-- N message(s) in the queue", or "Mail queue
 * is empty" (the words of sendmail's and Postfix's mailq, which scripts
 * look for). It returns 0, QUEUE_LIST_E_SCAN (the queue could not be
 * read) or QUEUE_LIST_E_WRITE (fd could not be written), with errno.
 */
#ifndef PM_QUEUE_LIST_H
#define PM_QUEUE_LIST_H

#include "base/buf.h"
#include "spool/spool_dir.h"

enum queue_list_err {
	QUEUE_LIST_OK = 0,
	QUEUE_LIST_E_SCAN = -1,
	QUEUE_LIST_E_WRITE = -2
};

void queue_list_message(const struct spool_dir *sp, const char *id,
    struct buf *out);

int queue_list(const struct spool_dir *sp, int fd);

#endif
