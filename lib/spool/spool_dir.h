/*
 * spool_dir: the spool root and its layout (doc/spool.5).
 *
 *   ROOT/            [core] spool-directory; not group/other writable
 *   ROOT/tmp/        0700  messages being written by smtpd; invisible to
 *                          the runner; garbage after SPOOL_TMP_MAX_AGE
 *   ROOT/queue/      0700  committed messages, immutable, named by id
 *   ROOT/state/      0700  per-delivery state of queued messages; written
 *                          only by the runner
 *   ROOT/nudge       0600  FIFO: a byte written here wakes the runner
 *
 * Everything is owned by the postmaster user (the one smtpd and the queue
 * run as). All later access is relative to the directory fds held here
 * (openat/renameat), so a moved or replaced path cannot redirect a write.
 *
 * Functions return 0, or -1 with errno: ENOTDIR (a layout entry of the
 * wrong type), EPERM (wrong owner or too open a mode), ENOSPC (below the
 * reserve), or what the system call said.
 */
#ifndef PM_SPOOL_DIR_H
#define PM_SPOOL_DIR_H

#include <stdint.h>

/*
 * The tmp-garbage age must exceed the longest time a writer can hold a tmp
 * file, or the runner could delete a message while smtpd is still writing
 * it (qmail: DEATH < OSSIFIED). smtpd's whole-session deadline bounds that
 * time: SPOOL_SMTPD_DEADLINE (smtpd's alarm) < SPOOL_TMP_MAX_AGE (the
 * runner's cleanup threshold), with a wide margin for clock steps and a
 * stopped (SIGSTOP, suspended VM) writer. Change one only with the other;
 * the static assertion below enforces the inequality.
 */
#define SPOOL_SMTPD_DEADLINE (30 * 60)		/* seconds: session deadline */
#define SPOOL_TMP_MAX_AGE (36 * 60 * 60)	/* seconds: tmp/ garbage age */
_Static_assert(SPOOL_SMTPD_DEADLINE < SPOOL_TMP_MAX_AGE,
    "a tmp file must outlive the writer that can still be writing it");

/* Free space kept for the runner (bounces, state) when smtpd refuses. */
#define SPOOL_RESERVE_BYTES (64ULL << 20)
#define SPOOL_RESERVE_INODES 1000ULL

struct spool_dir {
	int root;
	int tmp;
	int queue;
	int state;
};

#define SPOOL_DIR_CREATE 0x1	/* create missing entries, mode 0700/0600 */

int spool_dir_open(struct spool_dir *sp, const char *path, int flags);
void spool_dir_close(struct spool_dir *sp);

/*
 * 0 when the spool's file system has `need` bytes plus `reserve_bytes`
 * free and more than `reserve_inodes` inodes (OpenSMTPD
 * fsqueue_check_space); else -1/ENOSPC so smtpd can answer 452 4.3.1
 * before reading a message it could not store.
 */
int spool_dir_space(const struct spool_dir *sp, uint64_t need,
    uint64_t reserve_bytes, uint64_t reserve_inodes);

/* 1 when err means "the disk or quota is full" (SMTP 452 4.3.1). */
int spool_err_full(int err);

#endif
