/*
 * inject_pickup: the queue runner's side of the maildrop (inject_drop.h).
 *
 * Every file in maildrop/ was written by a local user through the setgid
 * postmaster-inject, so it is untrusted input: inject_pickup_run() opens
 * each m.ID with O_NOFOLLOW, insists on a regular file with one link,
 * bounds its size ([core] max-message-size plus the envelope limit),
 * decodes the envelope with spool_env_decode() under tight limits, checks
 * it claims to come from inject, routes every recipient afresh as a local
 * caller (local names allowed), and commits a new envelope through
 * spool_write: instance "inject", proto "local", client "local", helo
 * "uid=N" where N is the file's owner (set by the kernel, not by the
 * file's content), with a Received: field. Only then is the file removed.
 *
 * Exactly once across a crash: before the commit the file is renamed to
 * c.QID (QID = the queue id the spool writer chose) and maildrop/ is
 * fsync'ed. At the next run a c.QID whose queue/QID exists is already
 * queued and is only removed; one without it is picked up again. The one
 * remaining duplicate: a crash between commit and unlink, after which the
 * runner delivers and removes queue/QID before the next pickup. A runner
 * that calls inject_pickup_run() at the start of each pass, before it
 * delivers, never gets there.
 *
 * Recipients that do not route: a foreign domain goes to its MX (a local
 * user may send anywhere); anything else gets the target
 * "error:CODE X.Y.Z text" for the runner to bounce (postmaster-inject
 * refuses such recipients up front; this covers a configuration change
 * between drop and pickup). A failed route lookup is temporary: the file
 * stays. A file that fails validation or that pickup may not read, and
 * any entry that is not a maildrop name, is moved to ROOT/corrupt/ with
 * one log line ("moved to corrupt/NAME"): it is never looked at again,
 * and the administrator can read it. t.ID files older than
 * INJECT_PICKUP_TMP_AGE (an inject that died) are removed.
 *
 * Fairness: the directory is read in batches of at most 10,000 names,
 * each sorted and handled before the next is read from the same stream,
 * so every entry is visited once per run whatever precedes it.
 *
 * Logging: one line per file through lib/base/log (the runner's log).
 * Returns 0, or -1 with errno when something temporary (disk full, I/O,
 * route lookup) left files for the next run; *moved counts the messages
 * committed to the queue.
 */
#ifndef PM_INJECT_PICKUP_H
#define PM_INJECT_PICKUP_H

#include "cf/cf_db.h"
#include "spool/spool_dir.h"

#define INJECT_PICKUP_TMP_AGE (24 * 60 * 60)
#define INJECT_PICKUP_CORRUPT "corrupt"	/* ROOT/corrupt/, 0700 */
/* Envelope limits for maildrop files: far below the spool's own. */
#define INJECT_PICKUP_MAX_RCPT 1000
#define INJECT_PICKUP_MAX_ENV (1u << 20)

int inject_pickup_run(struct cf_db *db, struct spool_dir *sp,
    unsigned *moved);

#endif
