/*
 * putsink: a small HTTP server for the http-put upload tests. PUT stores
 * the body under DIR (by the last path segment), GET returns it. With
 * -H "Name: value" a PUT without that header gets 401. With -r, the second
 * request on a kept-alive connection is dropped unanswered, as by a server
 * whose idle timeout closed the connection while the client reused it.
 *
 * usage: putsink PORT DIR [-H "Name: value"] [-r]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

static const char	*dir;
static char		 want_name[128];
static const char	*want_value;
static int		 drop_reused;
static struct evhttp_connection	*seen[256];
static int		 nseen;

/* Has this connection carried a request before? Remembers it if not. */
static int
reused(struct evhttp_connection *evcon)
{
	int	i;

	for (i = 0; i < nseen; i++)
		if (seen[i] == evcon)
			return (1);
	seen[nseen++ % 256] = evcon;
	return (0);
}

static void
handle(struct evhttp_request *req, void *arg)
{
	const char	*uri = evhttp_request_get_uri(req), *base, *h;
	struct evbuffer	*in = evhttp_request_get_input_buffer(req), *out;
	char		 path[1024];
	int		 fd;

	if (drop_reused && reused(evhttp_request_get_connection(req))) {
		shutdown(bufferevent_getfd(evhttp_connection_get_bufferevent(
		    evhttp_request_get_connection(req))), SHUT_RDWR);
		return;
	}
	base = strrchr(uri, '/');
	base = base != NULL ? base + 1 : uri;
	if (*base == '\0' || strstr(base, "..") != NULL) {
		evhttp_send_error(req, 400, "bad name");
		return;
	}
	snprintf(path, sizeof path, "%s/%.*s", dir, (int)strcspn(base, "?"),
	    base);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_PUT) {
		h = evhttp_find_header(evhttp_request_get_input_headers(req),
		    want_name);
		if (want_value != NULL && (h == NULL ||
		    strcmp(h, want_value) != 0)) {
			evhttp_send_error(req, 401, "missing header");
			return;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd == -1 || (evbuffer_get_length(in) > 0 &&
		    evbuffer_write(in, fd) < 0)) {
			evhttp_send_error(req, 500, strerror(errno));
			if (fd != -1)
				close(fd);
			return;
		}
		while (evbuffer_get_length(in) > 0 && evbuffer_write(in, fd) > 0)
			;
		close(fd);
		evhttp_send_reply(req, 201, "Created", NULL);
		return;
	}
	if ((fd = open(path, O_RDONLY)) == -1) {
		evhttp_send_error(req, 404, "no such object");
		return;
	}
	out = evbuffer_new();
	evbuffer_add_file(out, fd, 0, lseek(fd, 0, SEEK_END));
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct evhttp		*http;
	const char		*colon;

	if (argc >= 4 && strcmp(argv[argc - 1], "-r") == 0) {
		drop_reused = 1;
		argc--;
	}
	if (argc != 3 && !(argc == 5 && strcmp(argv[3], "-H") == 0)) {
		fprintf(stderr, "usage: putsink PORT DIR [-H 'Name: value'] "
		    "[-r]\n");
		return (2);
	}
	dir = argv[2];
	if (argc == 5 && (colon = strchr(argv[4], ':')) != NULL) {
		snprintf(want_name, sizeof want_name, "%.*s",
		    (int)(colon - argv[4]), argv[4]);
		want_value = colon + 1 + strspn(colon + 1, " ");
	}
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT);
	evhttp_set_max_body_size(http, 1024 * 1024 * 1024);
	evhttp_set_gencb(http, handle, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1",
	    (ev_uint16_t)strtol(argv[1], NULL, 10)) == -1) {
		perror("bind");
		return (1);
	}
	event_base_dispatch(base);
	return (0);
}
