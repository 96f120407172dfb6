/*
 * spool_write: the only code that creates spool files (STYLE 3.1/3.8).
 *
 *   spool_write_open      create tmp/ID, O_EXCL, 0600 (new id on EEXIST)
 *   spool_write_envelope  encode and buffer the envelope (spool_env.h)
 *   spool_write_body      buffer body bytes (caller prepends Received:)
 *   spool_write_commit    flush; fsync(file); rename tmp/ID -> queue/ID
 *                         (THE commit point); fsync(queue/); nudge
 *   spool_write_abort     unlink tmp/ID; safe to call in any state
 *   spool_write_open_lazy create tmp/ID only when octets must go out
 *
 * Only after commit returns SPOOL_WR_OK may smtpd answer 250. On any error
 * the transaction is aborted (tmp file removed) and nothing is in queue/,
 * with one documented exception: if fsync(queue/) fails after the rename,
 * the queue file is unlinked again, best effort, and the error returned
 * (see doc/INTERNALS.md for the duplicate that can leave).
 *
 * Returns SPOOL_WR_OK (0) or a negative enum spool_wr; tx->step names the
 * step that failed and errno is preserved for FULL and IO:
 *   SPOOL_WR_FULL   ENOSPC/EDQUOT: answer 452 4.3.1
 *   SPOOL_WR_IO     any other system error: answer 451 4.3.0
 *   SPOOL_WR_ENV    the envelope was refused, tx->env_err says why
 *   SPOOL_WR_STATE  calls out of order (a bug in the caller), EINVAL
 *
 * Fault injection for tests: with PM_SPOOL_CRASH_AT set to one of
 * after-create, after-write, after-fsync, after-rename, after-dirsync the
 * process calls _exit(99) right after that step, so an end-to-end test can
 * reproduce a crash at every point of doc/INTERNALS.md. It is read once in
 * spool_write_open(), and only in a test build (PM_TEST_KNOBS, see
 * doc/HACKING.md): other programs never read it.
 */
#ifndef PM_SPOOL_WRITE_H
#define PM_SPOOL_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_id.h"

#define SPOOL_WRITE_BUFSIZE 65536
#define SPOOL_CRASH_ENV "PM_SPOOL_CRASH_AT"
#define SPOOL_CRASH_EXIT 99

enum spool_wr {
	SPOOL_WR_OK = 0,
	SPOOL_WR_FULL = -1,
	SPOOL_WR_IO = -2,
	SPOOL_WR_ENV = -3,
	SPOOL_WR_STATE = -4
};

enum spool_write_step {
	SPOOL_STEP_NONE = 0,
	SPOOL_STEP_CREATE,
	SPOOL_STEP_WRITE,
	SPOOL_STEP_FSYNC,
	SPOOL_STEP_RENAME,
	SPOOL_STEP_DIRSYNC
};

struct spool_tx {
	const struct spool_dir *dir;
	int fd;
	int phase;			/* private: where the tx stands */
	enum spool_write_step step;	/* the step that failed */
	int env_err;			/* SPOOL_ENV_E_* when SPOOL_WR_ENV */
	char id[SPOOL_ID_SIZE];
	int64_t arrival;
	uint64_t size;			/* bytes written: envelope + body */
	char *wbuf;
	size_t wlen;
	uint64_t wire_off;		/* the envelope's "wire" value octet */
	const char *crash_at;
	int made;			/* tmp/ID exists (lazy: not yet) */
};

/* now may be NULL (the clock is read). */
int spool_write_open(struct spool_tx *tx, const struct spool_dir *sp,
    const struct timespec *now);
/*
 * The same, but tmp/ID is created only when its first octets must go
 * out: when the buffer (SPOOL_WRITE_BUFSIZE) fills, or at flush, copy or
 * commit. A transaction aborted before that never touches the disk (a
 * proxied message its target took, postmaster-smtpd(8)). The id is
 * chosen at once (it goes into the envelope and Received:), so an
 * EEXIST at the late create fails the transaction instead of picking
 * another.
 */
int spool_write_open_lazy(struct spool_tx *tx, const struct spool_dir *sp,
    const struct timespec *now);
/*
 * Sets env->id and env->arrival from tx (so file name and content can never
 * disagree), then encodes. Must come before any body byte.
 */
int spool_write_envelope(struct spool_tx *tx, struct spool_env *env,
    const struct spool_env_limits *lim);
int spool_write_body(struct spool_tx *tx, const void *p, size_t n);
/*
 * Appends src's bytes from offset off (envelope included in the count) to
 * dst's body: how smtpd rewrites a message it must change after its end
 * (the RFC 1428 upgrade) without holding it in memory. src stays open.
 */
int spool_write_copy(struct spool_tx *dst, struct spool_tx *src,
    uint64_t off);
/*
 * The body as written is canonical text (spool_env.h "wire"): sets the
 * envelope's flag, which spool_write_envelope wrote as 0. Before commit.
 */
int spool_write_mark_wire(struct spool_tx *tx);
/* Writes out what is buffered, so the file can be read (the proxy sends
 * the uncommitted copy to its target). Not a commit: nothing is synced. */
int spool_write_flush(struct spool_tx *tx);
int spool_write_commit(struct spool_tx *tx);
void spool_write_abort(struct spool_tx *tx);

const char *spool_write_step_name(enum spool_write_step s);

#endif
