#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"
#include "client/client_cache.h"
#include "queue/queue_lmtpd.h"
#include "queue/queue_priv.h"
#include "queue/queue_worker.h"
#include "spool/spool_id.h"

unsigned
queue_worker_serve(struct queue_cfg *c, int fd, unsigned max_msgs)
{
	struct client_cache cache;
	unsigned done = 0;
	int kids = 0;	/* a closed connection's mailer still exiting */

	if (client_cache_init(&cache, 0, QUEUE_WORKER_CONN_IDLE_MS,
	    QUEUE_WORKER_CONN_AGE_MS) == 0)
		c->cache = &cache;
	while (!*c->stop && (max_msgs == 0 || done < max_msgs)) {
		struct pollfd p = { fd, POLLIN, 0 };
		char id[SPOOL_ID_SIZE + 1];
		ssize_t n;
		int r;

		/* Wake up now and then only to close idle connections and
		 * to reap the mailers of closed ones. */
		r = poll(&p, 1, kids || (c->cache &&
		    client_cache_count(c->cache)) ? 1000 : -1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			if (c->cache)
				client_cache_expire(c->cache);
			kids = queue_lmtpd_reap(0);
			continue;
		}
		n = recv(fd, id, sizeof id, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n > SPOOL_ID_LEN || !spool_id_valid(id, (size_t)n)) {
			log_err("worker: bad request from the runner");
			break;
		}
		id[n] = '\0';
		r = queue_run_message(c, id, (int64_t)time(NULL));
		done++;
		id[n] = r == QUEUE_RUN_NEEDS_ROOT ? QUEUE_WORKER_NEEDS_ROOT :
		    queue_priv_held(c) ? QUEUE_WORKER_DONE :
		    QUEUE_WORKER_DONE_DROPPED;
		if (send(fd, id, (size_t)n + 1, MSG_NOSIGNAL) < 0)
			break;
		/* After the reply: a slow QUIT must not hold it back. */
		if (c->cache)
			client_cache_expire(c->cache);
		kids = queue_lmtpd_reap(0);
	}
	if (c->cache) {
		client_cache_close(c->cache);
		c->cache = NULL;
	}
	/* Each mailer had its QUIT and end of file. */
	queue_lmtpd_reap(2000);
	return done;
}
