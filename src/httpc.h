/*
 * Outgoing HTTP requests, carried out by the HTTP helper process
 * (alertcap-http, httpmsg.h): the uploader, the notifier and the
 * readiness probes describe a request here and get its answer through
 * a callback on the loop; libcurl and its TLS stack live in the helper
 * only. The helper is started by the first httpc_open(), holds no
 * capability, and is started again by the next request if it died (the
 * requests it had in flight end with an error, which their users retry).
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct httpc_req;

/* The outcome of a request: error NULL when an HTTP answer came. */
struct httpc_result {
	const char	*error;
	long		 status;
	const char	*etag;		/* the answer's ETag, or NULL */
	const char	*body;		/* NUL-terminated, at most 1 MiB */
	size_t		 body_len;
	uint64_t	 sent;		/* bytes of the file body sent */
};

/* A request ended; req is freed when this returns. */
typedef void (*httpc_cb)(struct httpc_req *, const struct httpc_result *,
	    void *arg);

/*
 * A user of requests begins (the helper is started if it is not running:
 * -1 with *cause (new) if it cannot be) or ends (the last one stops it).
 * The helper is looked for beside the running program first (a build
 * tree), then where it is installed.
 */
int	 httpc_open(struct event_base *, char **cause);
void	 httpc_close(void);

/* A request to build (new); sent by httpc_send, or freed by httpc_free. */
struct httpc_req *httpc_new(const char *method, const char *url);
void	 httpc_free(struct httpc_req *);
void	 httpc_header(struct httpc_req *, const char *line);
/* The body: text (copied; a PUT or POST of len bytes), or a file range. */
void	 httpc_body_text(struct httpc_req *, const char *text, size_t len);
void	 httpc_body_file(struct httpc_req *, int fd, uint64_t off,
	    uint64_t len);
/*
 * libcurl options by name: connect_timeout, timeout, low_speed_limit,
 * low_speed_time, upload_buffersize, nobody, verbose (numbers);
 * aws_sigv4, userpwd, useragent, protocols (strings).
 */
void	 httpc_opt_num(struct httpc_req *, const char *name, long value);
void	 httpc_opt_str(struct httpc_req *, const char *name,
	    const char *value);
/* Sends the request (steals it); cb gets its outcome, on a later turn. */
void	 httpc_send(struct httpc_req *, httpc_cb, void *arg);
/* A request sent and not yet answered is dropped, with no callback. */
void	 httpc_cancel(struct httpc_req *);
/* Closes the helper's idle connections. */
void	 httpc_drop_idle(void);

#endif
