/*
 * spool_queue: the runner's side of the spool.
 *
 *   spool_queue_scan        call fn for each committed message id
 *   spool_queue_ids         all of them, sorted
 *   spool_queue_open        open queue/ID, decode its envelope, give the
 *                           body's offset (read it with pread on m->fd)
 *   spool_queue_state_load  state/ID, or the envelope's initial state
 *   spool_queue_state_save  state/ID.tmp, fsync, rename, fsync(state/)
 *   spool_queue_finish      unlink queue/ID, fsync(queue/), unlink state/ID
 *                           (_ex with SPOOL_FINISH_NO_STATE: the caller
 *                           knows there is no state/ID, e.g. it loaded
 *                           none and saved none: the unlink is skipped)
 *   spool_queue_clean       tmp/ files older than max_age, state/ID.tmp,
 *                           state/ID without queue/ID
 *
 * The order in finish is deliberate: the message goes first. A crash
 * between the two unlinks leaves an orphan state file, which clean
 * removes; the other order would leave a message without state, i.e.
 * every delivery pending again, and send them all twice.
 *
 * Only one runner may work on a spool (the systemd unit or supervisor
 * guarantees it); state/ is written by nobody else.
 *
 * Returns 0, or -1 with errno. A message whose envelope does not decode
 * gives -1/EBADMSG with *env_err = SPOOL_ENV_E_*; the runner should log
 * and leave it (postmaster-queue --delete removes it).
 */
#ifndef PM_SPOOL_QUEUE_H
#define PM_SPOOL_QUEUE_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "spool/spool_dir.h"
#include "spool/spool_env.h"
#include "spool/spool_state.h"

struct spool_msg {
	struct spool_env env;
	int fd;			/* read-only, O_CLOEXEC; body at body_off */
	off_t body_off;
	off_t file_size;	/* body bytes = file_size - body_off */
};

/* fn returns 0 to go on, nonzero to stop (returned by scan). */
int spool_queue_scan(const struct spool_dir *sp,
    int (*fn)(const char *id, void *arg), void *arg);

/* Every committed id, sorted (ids sort by time: oldest first). */
struct spool_ids {
	char **v;
	size_t n, cap;
};
int spool_queue_ids(const struct spool_dir *sp, struct spool_ids *ids);
void spool_queue_ids_free(struct spool_ids *ids);

int spool_queue_open(const struct spool_dir *sp, const char *id,
    const struct spool_env_limits *lim, struct spool_msg *m, int *env_err);
void spool_queue_close(struct spool_msg *m);

int spool_queue_state_load(const struct spool_dir *sp,
    const struct spool_msg *m, struct spool_state *st, int *env_err);
/* The same; *exists = 1 when state/ID was there (0: from the envelope). */
int spool_queue_state_load_ex(const struct spool_dir *sp,
    const struct spool_msg *m, struct spool_state *st, int *env_err,
    int *exists);
int spool_queue_state_save(const struct spool_dir *sp, const char *id,
    const struct spool_state *st);

int spool_queue_finish(const struct spool_dir *sp, const char *id);
#define SPOOL_FINISH_NO_STATE 1
int spool_queue_finish_ex(const struct spool_dir *sp, const char *id,
    int flags);

struct spool_clean_stats {
	unsigned long tmp_removed;	/* stale writer files */
	unsigned long state_removed;	/* orphan or half-written state */
};

int spool_queue_clean(const struct spool_dir *sp, int64_t now,
    int64_t tmp_max_age, struct spool_clean_stats *stats);

#endif
