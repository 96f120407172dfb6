#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/array.h"
#include "base/buf.h"
#include "base/io.h"
#include "spool/spool_queue.h"

#define STATE_FILE_MAX (64u << 20)

/* readdir over a dup so the spool_dir fd keeps its own offset. */
static DIR *
open_dir(int dirfd)
{
	DIR *d;
	int fd;

	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		int save = errno;

		close(fd);
		errno = save;
	}
	return d;
}

int
spool_queue_scan(const struct spool_dir *sp,
    int (*fn)(const char *id, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d;
	int r = 0, save;

	if ((d = open_dir(sp->queue)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL)
			break;
		/* Anything else in queue/ was not put there by us. */
		if (!spool_id_valid(de->d_name, strlen(de->d_name)))
			continue;
		if ((r = fn(de->d_name, arg)) != 0)
			break;
	}
	save = errno;
	closedir(d);
	if (de == NULL && save != 0) {
		errno = save;
		return -1;
	}
	return r;
}

static int
add_id(const char *id, void *arg)
{
	struct spool_ids *s = arg;
	char **v;

	if ((v = array_grow(s->v, &s->cap, s->n + 1, sizeof *v)) == NULL)
		return -1;
	s->v = v;
	if ((s->v[s->n] = strdup(id)) == NULL)
		return -1;
	s->n++;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
spool_queue_ids(const struct spool_dir *sp, struct spool_ids *ids)
{
	int save;

	memset(ids, 0, sizeof *ids);
	if (spool_queue_scan(sp, add_id, ids) != 0) {
		save = errno;
		spool_queue_ids_free(ids);
		errno = save;
		return -1;
	}
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof *ids->v, cmp_id);
	return 0;
}

void
spool_queue_ids_free(struct spool_ids *ids)
{
	size_t i;

	for (i = 0; i < ids->n; i++)
		free(ids->v[i]);
	free(ids->v);
	memset(ids, 0, sizeof *ids);
}

static ssize_t
pread_all(int fd, char *p, size_t n, off_t off)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = pread(fd, p + got, n - got, off + (off_t)got);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
spool_queue_open(const struct spool_dir *sp, const char *id,
    const struct spool_env_limits *lim, struct spool_msg *m, int *env_err)
{
	struct stat st;
	char *b = NULL;
	size_t want, used = 0;
	ssize_t got;
	int e = SPOOL_ENV_E_TRUNC, save;

	memset(m, 0, sizeof *m);
	*env_err = SPOOL_ENV_OK;
	if (!spool_id_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	m->fd = openat(sp->queue, id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (m->fd < 0)
		return -1;
	if (fstat(m->fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EBADMSG;
		goto fail;
	}
	m->file_size = st.st_size;
	/* Read a little, then double: most envelopes are under 1 KiB. */
	for (want = 4096;; want *= 2) {
		if (want > lim->max_env)
			want = lim->max_env;
		if ((off_t)want > st.st_size)
			want = (size_t)st.st_size;
		free(b);
		if ((b = malloc(want ? want : 1)) == NULL)
			goto fail;
		if ((got = pread_all(m->fd, b, want, 0)) < 0)
			goto fail;
		spool_env_free(&m->env);
		e = spool_env_decode(&m->env, b, (size_t)got, lim, &used);
		if (e != SPOOL_ENV_E_TRUNC || (size_t)got < want ||
		    want == lim->max_env || (off_t)want == st.st_size)
			break;
	}
	free(b);
	b = NULL;
	if (e != SPOOL_ENV_OK) {
		*env_err = e;
		errno = e == SPOOL_ENV_E_NOMEM ? ENOMEM : EBADMSG;
		goto fail;
	}
	/* The name is the id: a file moved under another name is not ours. */
	if (strcmp(m->env.id, id) != 0) {
		*env_err = SPOOL_ENV_E_ID;
		errno = EBADMSG;
		goto fail;
	}
	m->body_off = (off_t)used;
	return 0;
fail:
	save = errno;
	free(b);
	spool_queue_close(m);
	errno = save;
	return -1;
}

void
spool_queue_close(struct spool_msg *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	spool_env_free(&m->env);
}

int
spool_queue_state_load(const struct spool_dir *sp, const struct spool_msg *m,
    struct spool_state *st, int *env_err)
{
	int exists;

	return spool_queue_state_load_ex(sp, m, st, env_err, &exists);
}

int
spool_queue_state_load_ex(const struct spool_dir *sp,
    const struct spool_msg *m, struct spool_state *st, int *env_err,
    int *exists)
{
	struct stat sb;
	char *b = NULL;
	ssize_t got;
	int fd, e, save;

	*env_err = SPOOL_ENV_OK;
	*exists = 0;
	st->n = 0;
	st->d = NULL;
	fd = openat(sp->state, m->env.id, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			return -1;
		/* Never attempted: the envelope's own initial state. */
		e = spool_state_from_env(st, &m->env);
		if (e != SPOOL_ENV_OK) {
			spool_state_free(st);
			errno = ENOMEM;
			return -1;
		}
		return 0;
	}
	*exists = 1;
	if (fstat(fd, &sb) < 0)
		goto fail;
	if (!S_ISREG(sb.st_mode) || sb.st_size > (off_t)STATE_FILE_MAX) {
		errno = EBADMSG;
		goto fail;
	}
	if ((b = malloc((size_t)sb.st_size + 1)) == NULL)
		goto fail;
	if ((got = pread_all(fd, b, (size_t)sb.st_size, 0)) < 0)
		goto fail;
	close(fd);
	fd = -1;
	e = spool_state_decode(st, b, (size_t)got, m->env.ndlv);
	free(b);
	b = NULL;
	if (e != SPOOL_ENV_OK) {
		*env_err = e;
		spool_state_free(st);
		errno = e == SPOOL_ENV_E_NOMEM ? ENOMEM : EBADMSG;
		return -1;
	}
	return 0;
fail:
	save = errno;
	free(b);
	if (fd >= 0)
		close(fd);
	errno = save;
	return -1;
}

int
spool_queue_state_save(const struct spool_dir *sp, const char *id,
    const struct spool_state *st)
{
	struct buf b = BUF_INIT(STATE_FILE_MAX);
	char tmp[SPOOL_ID_SIZE + 4];
	int fd = -1, e, save;

	if (!spool_id_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	if ((e = spool_state_encode(&b, st)) != SPOOL_ENV_OK) {
		errno = e == SPOOL_ENV_E_NOMEM ? ENOMEM :
		    e == SPOOL_ENV_E_TOOBIG ? EFBIG : EINVAL;
		goto fail;
	}
	memcpy(tmp, id, SPOOL_ID_LEN);
	memcpy(tmp + SPOOL_ID_LEN, ".tmp", 5);
	/* O_TRUNC: a leftover .tmp of a crashed save is simply rewritten. */
	fd = openat(sp->state, tmp,
	    O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	if (io_write_all(fd, b.p, b.len) < 0 || fsync(fd) < 0)
		goto fail_unlink;
	e = close(fd);
	fd = -1;
	if (e < 0)
		goto fail_unlink;
	/* The whole new state replaces the old one or none of it does. */
	if (renameat(sp->state, tmp, sp->state, id) < 0)
		goto fail_unlink;
	if (fsync(sp->state) < 0)
		goto fail;
	buf_free(&b);
	return 0;
fail_unlink:
	save = errno;
	if (fd >= 0)
		close(fd);
	fd = -1;
	(void)unlinkat(sp->state, tmp, 0);
	errno = save;
fail:
	save = errno;
	if (fd >= 0)
		close(fd);
	buf_free(&b);
	errno = save;
	return -1;
}

int
spool_queue_finish(const struct spool_dir *sp, const char *id)
{
	return spool_queue_finish_ex(sp, id, 0);
}

int
spool_queue_finish_ex(const struct spool_dir *sp, const char *id, int flags)
{
	if (!spool_id_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	/* Message first: see the header for why this order. */
	if (unlinkat(sp->queue, id, 0) < 0 && errno != ENOENT)
		return -1;
	if (fsync(sp->queue) < 0)
		return -1;
	/* Never saved: nothing in state/ to remove (a leftover ID.tmp of a
	 * crashed save is clean's). */
	if (flags & SPOOL_FINISH_NO_STATE)
		return 0;
	if (unlinkat(sp->state, id, 0) < 0 && errno != ENOENT)
		return -1;
	/* Not synced: a state file that comes back is an orphan for clean. */
	return 0;
}

static int
clean_tmp(const struct spool_dir *sp, int64_t now, int64_t max_age,
    unsigned long *removed)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int save;

	if ((d = open_dir(sp->tmp)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(sp->tmp, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;	/* gone meanwhile: committed or aborted */
		/*
		 * mtime, not ctime: a writer touches it with every flush, so
		 * only a writer silent for max_age (> the smtpd deadline)
		 * loses its file.
		 */
		if ((int64_t)st.st_mtime > now - max_age)
			continue;
		if (unlinkat(sp->tmp, de->d_name, 0) == 0)
			(*removed)++;
	}
	save = errno;
	closedir(d);
	errno = save;
	return save ? -1 : 0;
}

static int
clean_state(const struct spool_dir *sp, unsigned long *removed)
{
	struct dirent *de;
	struct stat st;
	size_t len;
	DIR *d;
	int save, orphan;

	if ((d = open_dir(sp->state)) == NULL)
		return -1;
	while ((errno = 0, de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		orphan = 0;
		if (len == SPOOL_ID_LEN + 4 && spool_id_valid(de->d_name,
		    SPOOL_ID_LEN) && strcmp(de->d_name + SPOOL_ID_LEN,
		    ".tmp") == 0)
			orphan = 1;	/* a save that crashed before rename */
		else if (spool_id_valid(de->d_name, len) &&
		    fstatat(sp->queue, de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			orphan = 1;	/* finish crashed between its unlinks */
		if (orphan && unlinkat(sp->state, de->d_name, 0) == 0)
			(*removed)++;
	}
	save = errno;
	closedir(d);
	errno = save;
	return save ? -1 : 0;
}

int
spool_queue_clean(const struct spool_dir *sp, int64_t now,
    int64_t tmp_max_age, struct spool_clean_stats *stats)
{
	struct spool_clean_stats dummy;

	if (stats == NULL)
		stats = &dummy;
	memset(stats, 0, sizeof *stats);
	if (clean_tmp(sp, now, tmp_max_age, &stats->tmp_removed) < 0)
		return -1;
	return clean_state(sp, &stats->state_removed);
}
