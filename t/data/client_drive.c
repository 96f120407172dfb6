/*
 * client_drive: drives client_deliver() from t/client.t, which compiles
 * it against the built libpostmaster.a. Not installed.
 *
 *   client_drive [-lmuF] [-p port] [-d dns] [-s sender] [-b body]
 *       [-x maxrcpt] [-t scale_ms] [-H helo] [-n times] HOST FILE RCPT...
 *
 * -l LMTP, -m MX lookup, -u SMTPUTF8, -F connect to the unix socket HOST
 * ourselves and hand over the fd, -n deliver that many times through one
 * connection cache. Prints "ret=R relay=X reply=Y", then one line
 * "rcpt ADDR STATUS REPLY" per recipient, per delivery; with -n, a final
 * "cached=N".
 */
#define _DEFAULT_SOURCE
#include <sys/socket.h>
#include <sys/un.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client_cache.h"
#include "client/client_conn.h"
#include "client/client_deliver.h"
#include "client/client_tls.h"

static int
unix_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		perror("client_drive: connect");
		exit(1);
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct client_dest d;
	struct client_msg m;
	struct client_result res;
	struct client_rcpt *r;
	struct client_cache cache;
	int c, own_fd = 0, times = 1, k, ret;
	size_t i, n;

	client_conn_tls_install(&client_tls_io);
	memset(&d, 0, sizeof d);
	memset(&m, 0, sizeof m);
	d.fd = -1;
	d.helo = "client.test";
	m.sender = "sender@example.test";
	while ((c = getopt(argc, argv, "lmuFp:d:s:b:x:t:H:n:")) != -1) {
		switch (c) {
		case 'l':
			d.proto = CLIENT_LMTP;
			break;
		case 'm':
			d.use_mx = 1;
			break;
		case 'u':
			m.smtputf8 = 1;
			break;
		case 'F':
			own_fd = 1;
			break;
		case 'p':
			d.port = (unsigned)atoi(optarg);
			break;
		case 'd':
			d.dns_server = optarg;
			break;
		case 's':
			m.sender = optarg;
			break;
		case 'b':
			m.body = atoi(optarg);
			break;
		case 'x':
			d.max_rcpt = (unsigned)atoi(optarg);
			break;
		case 't':
			d.timeout_scale_ms = (unsigned)atoi(optarg);
			break;
		case 'H':
			d.helo = optarg;
			break;
		case 'n':
			times = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 3) {
		fprintf(stderr,
		    "usage: client_drive [opts] HOST FILE RCPT...\n");
		return 2;
	}
	d.host = argv[optind];
	if ((m.fd = open(argv[optind + 1], O_RDONLY)) < 0) {
		perror("client_drive: open");
		return 1;
	}
	m.len = (uint64_t)lseek(m.fd, 0, SEEK_END);
	n = (size_t)(argc - optind - 2);
	if ((r = calloc(n, sizeof *r)) == NULL)
		return 1;
	for (i = 0; i < n; i++)
		r[i].addr = argv[optind + 2 + (int)i];
	if (own_fd)
		d.fd = unix_connect(d.host);
	if (client_cache_init(&cache, 4, 0, 0) < 0)
		return 1;
	for (k = 0; k < times; k++) {
		if (times > 1)
			ret = client_deliver_cached(&cache, &d, &m, r, n, &res);
		else
			ret = client_deliver(&d, &m, r, n, &res);
		printf("ret=%d relay=%s reply=%s\n", ret, res.relay, res.reply);
		for (i = 0; i < n; i++)
			printf("rcpt %s %s %s\n", r[i].addr,
			    client_status_name(r[i].status), r[i].reply);
	}
	if (times > 1)
		printf("cached=%zu\n", client_cache_count(&cache));
	client_cache_close(&cache);
	if (own_fd) {
		/* the client must not have closed our fd */
		printf("fd_open=%d\n", fcntl(d.fd, F_GETFD) >= 0);
		close(d.fd);
	}
	free(r);
	close(m.fd);
	return 0;
}
