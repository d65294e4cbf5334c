/*
 * Fuzz target: one raw HTTP request (method, path, headers, body) sent to
 * the REST API over a real loopback connection: libevent's parser, the
 * header and connection limits, the route table, name checks and every
 * handler behind them.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "fuzz.h"
#include "log.h"

/* Runs the loop until the server closed the connection, or a deadline. */
static void
exchange(struct event_base *base, int fd)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	char		buf[65536];
	ssize_t		n;
	int		i;

	for (i = 0; i < 2000; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) == 1) {
			n = read(fd, buf, sizeof buf);
			if (n == 0 || (n == -1 && errno != EAGAIN &&
			    errno != EINTR))
				return;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_base	*base;
	struct sockaddr_in	 sin;
	size_t			 off = 0;
	ssize_t			 n;
	int			 port, fd;

	static uint32_t		 nconn;
	struct sockaddr_in	 src;

	base = fuzz_daemon(1, &port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	/*
	 * Each connection from another source in 127/8: the server closes
	 * first, and its TIME_WAITs would use up one source's ports.
	 */
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001 + (nconn++ % 0xfff000));
	bind(fd, (struct sockaddr *)&src, sizeof src);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof sin) == -1) {
		log_warn("connect: %s", strerror(errno));
		close(fd);
		return (0);
	}
	/* The server reads while we write: let the loop run between. */
	while (off < size) {
		n = send(fd, data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN)
			break;
		if (n > 0)
			off += (size_t)n;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	shutdown(fd, SHUT_WR);
	exchange(base, fd);
	close(fd);
	event_base_loop(base, EVLOOP_NONBLOCK);
	fuzz_daemon_reset();
	return (0);
}
