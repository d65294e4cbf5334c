/* REST API: routing, authentication, JSON answers; evhttp in the loop. */
#include "config.h"

#include <sys/random.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "alert.h"
#include "api.h"
#include "compat.h"
#include "cmd.h"
#include "conf.h"
#include "input-webhook.h"
#include "log.h"
#include "lookback.h"
#include "metrics.h"
#include "netns.h"
#include "pcapfile.h"
#include "rule.h"
#include "session.h"
#include "ready.h"
#include "torture.h"
#include "ui.h"
#include "trigger.h"
#include "upload.h"
#include "util.h"
#include "xmalloc.h"

#define API_MAX_TOKENS_FILE	(1024 * 1024)
#define API_TOKEN_FILE		"api.token"
#define API_MAX_SEGMENTS	8

struct api_listener {
	struct evhttp	*http;
	SSL_CTX		*ssl;
};

static struct event_base	*api_base;
static struct api_listener	*api_listeners;
static size_t			 api_nlisteners;
static char			**api_tokens;
static size_t			 api_ntokens;
static char			*api_node;
static const struct api_fleet	*api_fleet;



/* The reason phrase of a status code. */
static const char *
status_text(int status)
{
	switch (status) {
	case 200: return ("OK");
	case 201: return ("Created");
	case 202: return ("Accepted");
	case 204: return ("No Content");
	case 400: return ("Bad Request");
	case 401: return ("Unauthorized");
	case 404: return ("Not Found");
	case 405: return ("Method Not Allowed");
	case 409: return ("Conflict");
	case 413: return ("Payload Too Large");
	case 429: return ("Too Many Requests");
	case 431: return ("Request Header Fields Too Large");
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 504: return ("Gateway Timeout");
	case 503: return ("Service Unavailable");
	default: return ("Internal Server Error");
	}
}

static const char *
api_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return ("GET");
	case EVHTTP_REQ_PUT: return ("PUT");
	case EVHTTP_REQ_POST: return ("POST");
	case EVHTTP_REQ_DELETE: return ("DELETE");
	case EVHTTP_REQ_HEAD: return ("HEAD");
	case EVHTTP_REQ_PATCH: return ("PATCH");
	case EVHTTP_REQ_OPTIONS: return ("OPTIONS");
	default: return ("request");
	}
}

/* A JSON string of input (new): bytes that are not UTF-8 escaped. */
static json_t *
api_json_str(const char *s)
{
	json_t	*o;
	char	*text;

	text = utf8_fix(s);
	o = json_string(text);
	free(text);
	return (o);
}

/*
 * Tags a GET's answer with an ETag of its bytes; answers 304 (and 1) when
 * If-None-Match holds it: a page polling a list costs no body.
 */
static int
api_not_modified(struct evhttp_request *req, const char *text)
{
	const char	*inm;
	char		 tag[24];

	snprintf(tag, sizeof tag, "\"%016llx\"", (unsigned long long)
	    fnv1a_str(FNV1A_INIT, text));
	evhttp_add_header(evhttp_request_get_output_headers(req), "ETag",
	    tag);
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm == NULL || strstr(inm, tag) == NULL)
		return (0);
	evhttp_send_reply(req, 304, "Not Modified", NULL);
	return (1);
}

/*
 * Sends a JSON body (stolen) with status. A body that could not be made
 * (NULL: memory ran out) or encoded is a 500 with a plain body, logged.
 */
void
api_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer	*buf;
	char		*text;

	text = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	if ((buf = evbuffer_new()) == NULL) {
		free(text);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	if (text == NULL) {
		log_error("cannot make the answer of a %d reply; sent 500",
		    status);
		status = 500;
		evbuffer_add_printf(buf, "internal error: out of memory\n");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "text/plain");
	} else {
		if (status == 200 && evhttp_request_get_command(req) ==
		    EVHTTP_REQ_GET && api_not_modified(req, text)) {
			free(text);
			evbuffer_free(buf);
			return;
		}
		evbuffer_add(buf, text, strlen(text));
		evbuffer_add(buf, "\n", 1);
		free(text);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", "application/json");
	}
	evhttp_send_reply(req, status, status_text(status), buf);
	evbuffer_free(buf);
}

void
api_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	api_reply_json(req, status, cmd_error(code, msg));
	free(msg);
}

int
api_authorized(struct evhttp_request *req)
{
	const char	*h;
	size_t		 i;
	int		 ok = 0;

	if (api_ntokens == 0)
		return (1);
	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return (0);
	h += 7;
	for (i = 0; i < api_ntokens; i++)
		ok |= secret_equal(h, api_tokens[i]);
	return (ok);
}

/* Parses the request body as JSON; answers 400 itself on failure. */
static json_t *
api_body(struct evhttp_request *req)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	json_error_t	 jerr;
	json_t		*o;
	size_t		 len = evbuffer_get_length(in);

	if (len == 0) {
		api_error(req, 400, "InvalidRequest", "body: empty; expected a "
		    "JSON object");
		return (NULL);
	}
	o = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		api_error(req, 400, "InvalidRequest", "body:%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
	return (o);
}

/* Sends a finished capture's file (from the fd, not through memory). */
static void
api_capture_file(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evkeyvalq	 q;
	struct evbuffer		*buf;
	enum sess_result	 rc;
	int64_t			 size;
	json_t			*err;
	const char		*path, *query, *v;
	char			*cause = NULL, disp[200], *end;
	unsigned long		 seq = 0;
	int			 fd, status;

	/* ?seq=N: one file of a continuous capture. */
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		api_error(req, 400, "InvalidRequest", "query: malformed");
		return;
	}
	if ((v = evhttp_find_header(&q, "seq")) != NULL) {
		errno = 0;
		seq = strtoul(v, &end, 10);
		if (*v < '1' || *v > '9' || *end != '\0' || errno != 0 ||
		    seq > UINT32_MAX) {
			evhttp_clear_headers(&q);
			api_error(req, 400, "InvalidRequest", "seq: must be a "
			    "file number, 1 or more");
			return;
		}
	}
	evhttp_clear_headers(&q);

	if ((rc = session_open_file(name, (uint32_t)seq, &fd, &size, &path,
	    &cause)) != SESS_OK) {
		status = cmd_fail(rc, cause, &err);
		api_reply_json(req, status, err);
		return;
	}
	buf = evbuffer_new();
	if (evbuffer_add_file(buf, fd, 0, size) == -1) {
		evbuffer_free(buf);
		api_error(req, 500, "InternalError", "cannot send the file");
		return;
	}
	if (seq != 0)
		snprintf(disp, sizeof disp, "attachment; filename=\"%s_%06lu.%s"
		    "\"", name, seq, pcapfmt_ext(pcapfile_format(path)));
	else
		snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"",
		    name, pcapfmt_ext(pcapfile_format(path)));
	evhttp_add_header(h, "Content-Type", pcapfile_content_type(path));
	evhttp_add_header(h, "Content-Disposition", disp);
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/* Sends what a capture command answered (body stolen; NULL for 204). */
static void
api_reply_cmd(struct evhttp_request *req, int status, json_t *body)
{
	if (body == NULL)
		evhttp_send_reply(req, status, status_text(status), NULL);
	else
		api_reply_json(req, status, body);
}

/*
 * The parameters a route's path holds: each is checked against its rule
 * in one place (api_route) before any handler sees it.
 */
struct api_args {
	const char	*name;		/* :name, a valid capture name */
	const char	*node;		/* :node, a valid node name */
	const char	*format;	/* :format, checked by the handler */
	const char	*op;		/* the route's capture command */
};

/* The capture command a request carries (new), or NULL, answered. */
static json_t *
api_capture_cmd(struct evhttp_request *req, const struct api_args *a)
{
	struct evkeyvalq	 q;
	const char		*query, *v;
	json_t			*cmd, *body;

	cmd = json_object();
	json_object_set_new(cmd, "op", json_string(a->op));
	if (a->name != NULL)
		json_object_set_new(cmd, "name", json_string(a->name));
	if (strcmp(a->op, "create") == 0) {
		if ((body = api_body(req)) == NULL) {
			json_decref(cmd);
			return (NULL);
		}
		json_object_set_new(cmd, "capture", body);
	}
	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) == -1) {
		json_decref(cmd);
		api_error(req, 400, "InvalidRequest", "query: malformed");
		return (NULL);
	}
	if ((v = evhttp_find_header(&q, "status")) != NULL)
		json_object_set_new(cmd, "status", api_json_str(v));
	if ((v = evhttp_find_header(&q, "rule")) != NULL)
		json_object_set_new(cmd, "rule", api_json_str(v));
	if ((v = evhttp_find_header(&q, "file")) != NULL)
		json_object_set_new(cmd, "file", strcmp(v, "true") == 0 ||
		    strcmp(v, "1") == 0 ? json_true() : strcmp(v, "false") ==
		    0 || strcmp(v, "0") == 0 ? json_false() : api_json_str(v));
	evhttp_clear_headers(&q);
	return (cmd);
}

/* GET /metrics: every module's counters, in Prometheus text format. */
static void
api_metrics(struct evhttp_request *req)
{
	struct evbuffer	*buf;
	struct dynbuf	 d;

	dynbuf_init(&d, 16 * 1024 * 1024);
	metrics_write(&d);
	buf = evbuffer_new();
	evbuffer_add(buf, d.buf != NULL ? d.buf : "", d.len);
	dynbuf_free(&d);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/*
 * A request waiting: for another node's answer (id, from the fleet),
 * or for a capture's stop to reach its record (stop).
 */
struct api_wait {
	struct evhttp_request	*req;
	unsigned long		 id;
	struct cmd_wait		*stop;
	struct ready_run	*ready;	/* or for the readiness checks */
	struct sess_listing	*list;	/* or a list sent a part at a time */
	size_t			 sent;	/* records of it sent */
	int			 fd;		/* its connection's slot */
};

static void	api_wait_free(struct api_wait *, int);

/*
 * The open connections, by socket: counted against http.max_connections
 * from their first request, and where a request waiting for another node
 * is found when its client goes away.
 */
struct api_conn {
	struct evhttp_connection	*evcon;
	struct api_wait			*wait;
};
static struct api_conn	*api_conns;
static size_t		 api_conns_size;
static long long	 api_nconns;
static long long	 api_max_conns;
static long long	 api_max_headers;
static uint64_t		 api_refused_conns;

static int
api_conn_fd(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;

	if ((evcon = evhttp_request_get_connection(req)) == NULL)
		return (-1);
	return ((int)bufferevent_getfd(evhttp_connection_get_bufferevent(
	    evcon)));
}

/* The connection's slot (borrowed), or NULL if it is not tracked. */
static struct api_conn *
api_conn_of(struct evhttp_request *req)
{
	int	fd = api_conn_fd(req);

	if (fd < 0 || (size_t)fd >= api_conns_size ||
	    api_conns[fd].evcon != evhttp_request_get_connection(req))
		return (NULL);
	return (&api_conns[fd]);
}

/* The client went away: a request waiting for a node answers nobody. */
static void
api_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct api_conn	*c;
	size_t		 fd = (size_t)(intptr_t)arg;

	if (fd >= api_conns_size || api_conns[fd].evcon != evcon)
		return;
	c = &api_conns[fd];
	if (c->wait != NULL)
		api_wait_free(c->wait, 1);
	memset(c, 0, sizeof *c);
	api_nconns--;
}

/*
 * Counts a connection at its first request; past http.max_connections
 * the request is answered 503 and the connection closed.
 */
static int
api_conn_admit(struct evhttp_request *req)
{
	struct evhttp_connection	*evcon;
	size_t				 n;
	int				 fd;

	if (api_conn_of(req) != NULL || (fd = api_conn_fd(req)) < 0)
		return (1);
	evcon = evhttp_request_get_connection(req);
	if (api_nconns >= api_max_conns) {
		api_refused_conns++;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		api_error(req, 503, "Unavailable", "http.max_connections: "
		    "%lld connections are open already", api_nconns);
		return (0);
	}
	if ((size_t)fd >= api_conns_size) {
		n = (size_t)fd + 64;
		api_conns = xrealloc(api_conns, n * sizeof *api_conns);
		memset(api_conns + api_conns_size, 0, (n - api_conns_size) *
		    sizeof *api_conns);
		api_conns_size = n;
	}
	/* A slot still held was a connection whose close went unseen. */
	if (api_conns[fd].evcon == NULL)
		api_nconns++;
	api_conns[fd].evcon = evcon;
	api_conns[fd].wait = NULL;
	evhttp_connection_set_closecb(evcon, api_conn_closed,
	    (void *)(intptr_t)fd);
	return (1);
}

/* Forgets a wait; gone: its client went away, so cancel what it awaits. */
static void
api_wait_free(struct api_wait *w, int gone)
{
	if ((size_t)w->fd < api_conns_size && api_conns[w->fd].wait == w)
		api_conns[w->fd].wait = NULL;
	if (gone && w->ready != NULL)
		ready_cancel(w->ready);
	else if (gone && w->stop != NULL)
		cmd_wait_cancel(w->stop);
	else if (gone && w->id != 0)
		api_fleet->cancel(w->id);
	session_list_end(w->list);
	free(w);
}

static void	api_remote_reply(int, json_t *, void *);
static void	api_stop_reply(int, json_t *, void *);

/*
 * Makes a request wait on its connection: for another node's answer
 * (name NULL) or for the stop of capture name. NULL, answered 500, if
 * the connection is not tracked.
 */
static struct api_wait *
api_wait_new(struct evhttp_request *req, const char *name)
{
	struct api_conn	*conn;
	struct api_wait	*w;

	if ((conn = api_conn_of(req)) == NULL) {
		api_error(req, 500, "InternalError", "connection not tracked");
		return (NULL);
	}
	w = xcalloc(1, sizeof *w);
	w->req = req;
	w->fd = (int)(conn - api_conns);
	if (name != NULL)
		w->stop = cmd_wait_stop(name, api_stop_reply, w);
	conn->wait = w;
	return (w);
}

static void
api_remote_reply(int status, json_t *body, void *arg)
{
	struct api_wait	*w = arg;

	api_reply_cmd(w->req, status, body != NULL && !json_is_null(body) ?
	    json_incref(body) : NULL);
	api_wait_free(w, 0);
}

/* A stop that waited: answered with the record that says it stopped. */
static void
api_stop_reply(int status, json_t *body, void *arg)
{
	struct api_wait	*w = arg;

	api_reply_cmd(w->req, status, body);
	api_wait_free(w, 0);
}

/* The readiness checks are in: 200 if all passed, else 503. */
static void
api_ready_reply(int ok, json_t *report, void *arg)
{
	struct api_wait	*w = arg;

	api_reply_json(w->req, ok ? 200 : 503, json_incref(report));
	api_wait_free(w, 0);
}

/* GET /readyz: answered once every check is in (ready.c). */
static void
api_readyz(struct evhttp_request *req, const struct api_args *a)
{
	struct api_wait	*w;

	if ((w = api_wait_new(req, NULL)) != NULL)
		w->ready = ready_start(api_ready_reply, w);
}

/* A request waiting for another node's answer sends it there. */
static void
api_remote_cmd(struct evhttp_request *req, const struct api_args *a)
{
	struct api_wait	*w;
	json_t		*cmd;
	char		*cause = NULL;

	if ((cmd = api_capture_cmd(req, a)) == NULL)
		return;
	if ((w = api_wait_new(req, NULL)) == NULL) {
		json_decref(cmd);
		return;
	}
	if (api_fleet != NULL)
		w->id = api_fleet->request(a->node, cmd, api_remote_reply, w,
		    &cause);
	else
		cause = xstrdup("other nodes are reached through MQTT v5, "
		    "which this node does not use");
	json_decref(cmd);
	if (w->id == 0) {
		api_wait_free(w, 0);
		api_error(req, 503, "Unavailable", "%s", cause);
		free(cause);
	}
}

#define API_LIST_WHOLE	250	/* records of a list sent in one piece */
#define API_LIST_PART	50	/* records in each part of a longer one */

/*
 * Sends the next part of a long list, when the last has gone out to the
 * client (so that the loop turns between parts, and the list is not held
 * in memory whole); the end when there is no more.
 */
static void
api_list_part(struct evhttp_connection *evcon, void *arg)
{
	struct api_wait	*w = arg;
	struct evbuffer	*buf;
	json_t		*part, *r;
	size_t		 i;
	char		*text;

	if ((buf = evbuffer_new()) == NULL) {
		/* Ends the answer short: the client sees it cut. */
		evhttp_send_reply_end(w->req);
		api_wait_free(w, 0);
		return;
	}
	part = session_list_next(w->list, API_LIST_PART);
	json_array_foreach(part, i, r) {
		if ((text = json_dumps(r, JSON_COMPACT)) == NULL)
			continue;
		evbuffer_add_printf(buf, "%s%s", w->sent++ > 0 ? "," : "",
		    text);
		free(text);
	}
	if (json_array_size(part) == 0) {
		evbuffer_add_printf(buf, "]}\n");
		evhttp_send_reply_chunk(w->req, buf);
		evhttp_send_reply_end(w->req);
		api_wait_free(w, 0);
	} else
		evhttp_send_reply_chunk_with_cb(w->req, buf, api_list_part, w);
	json_decref(part);
	evbuffer_free(buf);
}

/*
 * GET /v1/captures: a list that can hold up to API_LIST_WHOLE records
 * (there are no more on file, or running) is made and sent whole (with
 * its ETag); a longer one a part at a time, each part
 * after the last has gone out, so that 100,000 records do not hold the
 * loop (and the captures it serves) for seconds.
 */
static void
api_list(struct evhttp_request *req, json_t *cmd)
{
	struct sess_listing	*l;
	struct api_wait		*w;
	struct evbuffer		*head;
	json_t			*body;

	l = cmd_list_begin(json_string_value(json_object_get(cmd, "status")),
	    json_string_value(json_object_get(cmd, "rule")), &body);
	if (l == NULL) {
		api_reply_cmd(req, 400, body);
		return;
	}
	if (session_list_most(l) <= API_LIST_WHOLE) {
		body = json_pack("{s:o}", "captures", session_list_next(l,
		    SIZE_MAX));
		session_list_end(l);
		api_reply_cmd(req, 200, body);
		return;
	}
	if ((w = api_wait_new(req, NULL)) == NULL) {
		session_list_end(l);
		return;
	}
	w->list = l;
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply_start(req, 200, "OK");
	if ((head = evbuffer_new()) != NULL) {
		evbuffer_add_printf(head, "{\"captures\":[");
		evhttp_send_reply_chunk(req, head);
		evbuffer_free(head);
	}
	api_list_part(NULL, w);
}

/* /v1[/nodes/{node}]/captures[/{name}[/stop]]: here, or over the broker. */
static void
api_captures(struct evhttp_request *req, const struct api_args *a)
{
	json_t	*cmd, *body;
	int	 status;

	if (a->node != NULL && strcmp(a->node, api_node) != 0) {
		api_remote_cmd(req, a);
		return;
	}
	if ((cmd = api_capture_cmd(req, a)) == NULL)
		return;
	if (strcmp(a->op, "list") == 0) {
		api_list(req, cmd);
		json_decref(cmd);
		return;
	}
	status = cmd_run_json(cmd, &body);
	json_decref(cmd);
	if (status == CMD_PENDING)	/* answered by api_stop_reply */
		api_wait_new(req, a->name);
	else
		api_reply_cmd(req, status, body);
}

/* GET .../captures/{name}/file. */
static void
api_file(struct evhttp_request *req, const struct api_args *a)
{
	if (a->node != NULL && strcmp(a->node, api_node) != 0) {
		api_error(req, 501, "NotImplemented", "files are not carried "
		    "over the broker; download from node %s's own API",
		    a->node);
		return;
	}
	api_capture_file(req, a->name);
}

static void
api_healthz(struct evhttp_request *req, const struct api_args *a)
{
	api_reply_json(req, 200, json_pack("{s:s, s:s, s:o}", "status", "ok",
	    "node", api_node, "disk", session_budget()));
}

/*
 * GET /v1/interfaces: this node's interfaces and their lookback rings;
 * with ?netns=, ?pid= or ?container=, that namespace's interfaces.
 */
static void
api_interfaces(struct evhttp_request *req, const struct api_args *a)
{
	struct evkeyvalq	 q;
	struct nstarget		 t;
	const char		*query, *netns, *pid, *ctr;
	json_t			*out;
	char			*cause = NULL, *end;
	long long		 n = 0;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1) {
		evhttp_clear_headers(&q);
		api_reply_json(req, 200, lookback_interfaces());
		return;
	}
	netns = evhttp_find_header(&q, "netns");
	pid = evhttp_find_header(&q, "pid");
	ctr = evhttp_find_header(&q, "container");
	if (netns == NULL && pid == NULL && ctr == NULL) {
		evhttp_clear_headers(&q);
		api_reply_json(req, 200, lookback_interfaces());
		return;
	}
	if (pid != NULL && ((n = strtoll(pid, &end, 10)) < 1 || *end != '\0'))
		cause = xstrdup("pid: must be a process id");
	else if ((netns != NULL) + (pid != NULL) + (ctr != NULL) > 1)
		cause = xstrdup("query: name one of netns, pid and container");
	else if (netns_resolve(netns, n, ctr, &t, &cause) == 0) {
		out = netns_interfaces(&t, &cause);
		netns_clear(&t);
		if (out != NULL) {
			evhttp_clear_headers(&q);
			api_reply_json(req, 200, out);
			return;
		}
	}
	evhttp_clear_headers(&q);
	api_error(req, 400, "InvalidRequest", "%s", cause);
	free(cause);
}

static void
api_nodes(struct evhttp_request *req, const struct api_args *a)
{
	if (api_fleet != NULL)
		api_reply_json(req, 200, api_fleet->nodes());
	else
		api_reply_json(req, 200, json_pack("{s:[{s:s, s:s}]}", "nodes",
		    "node", api_node, "status", "online"));
}

static void
api_rules(struct evhttp_request *req, const struct api_args *a)
{
	api_reply_json(req, 200, ruleset_to_json(trigger_rules()));
}

static void
api_webhook(struct evhttp_request *req, const struct api_args *a)
{
	webhook_alerts(req, a->format, 0);
}

static void
api_rules_test(struct evhttp_request *req, const struct api_args *a)
{
	webhook_alerts(req, NULL, 1);
}

static void
api_metrics_route(struct evhttp_request *req, const struct api_args *a)
{
	api_metrics(req);
}

enum api_auth {
	AUTH_NONE,
	AUTH_API,	/* a bearer token from the tokens file */
	AUTH_WEBHOOK,	/* the format's own credentials, in the handler */
};

/*
 * Every route: one row per method and path. A path segment ":x" is a
 * parameter, checked by api_param() before the handler runs.
 */
static const struct api_route {
	enum evhttp_cmd_type	 method;
	const char		*path;
	enum api_auth		 auth;
	void		       (*fn)(struct evhttp_request *,
				    const struct api_args *);
	const char		*op;
} api_routes[] = {
	{ EVHTTP_REQ_GET, "/healthz", AUTH_NONE, api_healthz, NULL },
	{ EVHTTP_REQ_GET, "/readyz", AUTH_NONE, api_readyz, NULL },
	{ EVHTTP_REQ_POST, "/v1/alerts", AUTH_WEBHOOK, api_webhook, NULL },
	{ EVHTTP_REQ_POST, "/v1/alerts/:format", AUTH_WEBHOOK, api_webhook,
	  NULL },
	{ EVHTTP_REQ_GET, "/metrics", AUTH_API, api_metrics_route, NULL },
	{ EVHTTP_REQ_GET, "/v1/captures", AUTH_API, api_captures, "list" },
	{ EVHTTP_REQ_PUT, "/v1/captures/:name", AUTH_API, api_captures,
	  "create" },
	{ EVHTTP_REQ_GET, "/v1/captures/:name", AUTH_API, api_captures,
	  "get" },
	{ EVHTTP_REQ_DELETE, "/v1/captures/:name", AUTH_API, api_captures,
	  "delete" },
	{ EVHTTP_REQ_POST, "/v1/captures/:name/stop", AUTH_API, api_captures,
	  "stop" },
	{ EVHTTP_REQ_GET, "/v1/captures/:name/file", AUTH_API, api_file,
	  NULL },
	{ EVHTTP_REQ_GET, "/v1/interfaces", AUTH_API, api_interfaces, NULL },
	{ EVHTTP_REQ_GET, "/v1/nodes", AUTH_API, api_nodes, NULL },
	{ EVHTTP_REQ_GET, "/v1/nodes/:node/captures", AUTH_API, api_captures,
	  "list" },
	{ EVHTTP_REQ_PUT, "/v1/nodes/:node/captures/:name", AUTH_API,
	  api_captures, "create" },
	{ EVHTTP_REQ_GET, "/v1/nodes/:node/captures/:name", AUTH_API,
	  api_captures, "get" },
	{ EVHTTP_REQ_DELETE, "/v1/nodes/:node/captures/:name", AUTH_API,
	  api_captures, "delete" },
	{ EVHTTP_REQ_POST, "/v1/nodes/:node/captures/:name/stop", AUTH_API,
	  api_captures, "stop" },
	{ EVHTTP_REQ_GET, "/v1/nodes/:node/captures/:name/file", AUTH_API,
	  api_file, NULL },
	{ EVHTTP_REQ_GET, "/v1/rules", AUTH_API, api_rules, NULL },
	{ EVHTTP_REQ_POST, "/v1/rules/test", AUTH_API, api_rules_test, NULL },
};

/*
 * A request's path, cut at each '/' and then each segment decoded, so a
 * %2F stays inside its segment (and makes no valid name).
 */
struct api_path {
	char	*seg[API_MAX_SEGMENTS];
	int	 n;		/* API_MAX_SEGMENTS + 1: too many */
	int	 nul;		/* a segment decoded to a NUL byte */
};

/* Cuts a raw path at '/' and decodes each segment on its own (new). */
static void
api_path_split(const char *raw, struct api_path *p)
{
	const char	*s = raw, *e;
	char		*enc;
	size_t		 len;

	memset(p, 0, sizeof *p);
	while (*s == '/' && *s != '\0') {
		s++;
		e = strchrnul(s, '/');
		if (p->n == API_MAX_SEGMENTS) {
			p->n++;
			return;
		}
		enc = xstrndup(s, (size_t)(e - s));
		p->seg[p->n] = evhttp_uridecode(enc, 0, &len);
		free(enc);
		if (p->seg[p->n] == NULL)
			fatal("evhttp_uridecode: out of memory");
		if (len != strlen(p->seg[p->n]))
			p->nul = 1;
		p->n++;
		s = e;
	}
	if (*s != '\0')	/* a relative path: no route */
		p->n = API_MAX_SEGMENTS + 1;
}

static void
api_path_free(struct api_path *p)
{
	int	i;

	for (i = 0; i < p->n && i < API_MAX_SEGMENTS; i++)
		free(p->seg[i]);
}

/* Does the path fit a route's pattern? Fills the parameters it names. */
static int
api_match(const char *pattern, const struct api_path *p, struct api_args *a)
{
	const char	*e;
	size_t		 n;
	int		 i = 0;

	memset(a, 0, sizeof *a);
	if (p->n > API_MAX_SEGMENTS)	/* too long, or not from the root */
		return (0);
	while (*pattern == '/') {
		pattern++;
		e = strchrnul(pattern, '/');
		n = (size_t)(e - pattern);
		if (i >= p->n || *p->seg[i] == '\0')
			return (0);
		if (*pattern == ':') {
			if (strncmp(pattern, ":name", n) == 0)
				a->name = p->seg[i];
			else if (strncmp(pattern, ":node", n) == 0)
				a->node = p->seg[i];
			else
				a->format = p->seg[i];
		} else if (strlen(p->seg[i]) != n ||
		    strncmp(pattern, p->seg[i], n) != 0)
			return (0);
		pattern = e;
		i++;
	}
	return (i == p->n);
}

/* Checks each parameter of a matched route; answers 400 itself. */
static int
api_params_ok(struct evhttp_request *req, const struct api_args *a)
{
	if (a->name != NULL && !name_valid(a->name)) {
		api_error(req, 400, "InvalidRequest", "name: '%s' must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,79}", a->name);
		return (0);
	}
	if (a->node != NULL && !name_valid(a->node)) {
		api_error(req, 400, "InvalidRequest", "node: '%s' is not a "
		    "node name ([A-Za-z0-9][A-Za-z0-9._-]{0,79})", a->node);
		return (0);
	}
	return (1);
}

/* Finds the route of a request; 404 or 405 (with Allow) when none. */
static const struct api_route *
api_find(struct evhttp_request *req, const struct api_path *path,
    struct api_args *a)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	struct api_args		 tmp;
	char			 allow[64] = "";
	size_t			 i, len;

	for (i = 0; i < sizeof api_routes / sizeof *api_routes; i++) {
		if (!api_match(api_routes[i].path, path, &tmp))
			continue;
		if (api_routes[i].method == m) {
			*a = tmp;
			a->op = api_routes[i].op;
			return (&api_routes[i]);
		}
		len = strlen(allow);
		snprintf(allow + len, sizeof allow - len, "%s%s",
		    len > 0 ? ", " : "", api_method_name(api_routes[i].method));
	}
	if (allow[0] == '\0') {
		api_error(req, 404, "NotFound", "no such resource");
		return (NULL);
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    allow);
	api_error(req, 405, "MethodNotAllowed", "method not allowed here; "
	    "use %s", allow);
	return (NULL);
}

/* The request's headers: more than http.max_headers is a 431. */
static int
api_headers_ok(struct evhttp_request *req)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	struct evkeyval		*kv;
	long long		 n = 0;

	TAILQ_FOREACH(kv, h, next)
		n++;
	if (n <= api_max_headers)
		return (1);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Connection", "close");
	api_error(req, 431, "HeadersTooLarge", "http.max_headers: %lld "
	    "headers sent, at most %lld taken", n, api_max_headers);
	return (0);
}

/* Every request: limits, path, route, token, parameters, then the handler. */
static void
api_route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const struct api_route	*route;
	const struct ui_file	*ui;
	struct api_path		 path;
	struct api_args		 a;
	const char		*raw;

	raw = evhttp_uri_get_path(uri);
	log_debug("%s %s", api_method_name(evhttp_request_get_command(req)),
	    evhttp_request_get_uri(req));
	torture_request();
	if (!api_conn_admit(req) || !api_headers_ok(req))
		return;
	if (raw != NULL && (ui = ui_find(raw)) != NULL) {
		/* The console's files: for anyone, the API asks the token. */
		if (evhttp_request_get_command(req) == EVHTTP_REQ_GET ||
		    evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
			ui_serve(req, ui);
		else {
			evhttp_add_header(evhttp_request_get_output_headers(
			    req), "Allow", "GET, HEAD");
			api_error(req, 405, "MethodNotAllowed", "method not "
			    "allowed here; use GET");
		}
		return;
	}
	api_path_split(raw != NULL && *raw != '\0' ? raw : "/", &path);
	if (path.nul) {
		api_error(req, 400, "InvalidRequest", "path: holds a NUL byte "
		    "(%%00)");
		goto out;
	}
	if ((route = api_find(req, &path, &a)) == NULL)
		goto out;
	if (route->auth == AUTH_API && !api_authorized(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		api_error(req, 401, "Unauthorized", "a valid bearer token is "
		    "required");
		goto out;
	}
	if (api_params_ok(req, &a))
		route->fn(req, &a);
out:
	api_path_free(&path);
}

/* Creates the TLS bufferevent for each new connection on a listener. */
static struct bufferevent *
api_bevcb(struct event_base *base, void *arg)
{
	SSL_CTX	*ctx = arg;

	return (bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}

/* A listener's TLS context from its files (new); NULL with *cause. */
static SSL_CTX *
api_ssl_ctx(const struct conf_tls *tls, const char *field, char **cause)
{
	SSL_CTX		*ctx;
	char		 err[256];

	ctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
		*cause = xasprintf("%s.cert_file: %s: %s", field, tls->cert_file,
		    ERR_error_string(ERR_get_error(), err));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		*cause = xasprintf("%s.key_file: %s: %s", field, tls->key_file,
		    ERR_error_string(ERR_get_error(), err));
		goto fail;
	}
	if (tls->client_ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, tls->client_ca_file,
		    NULL) != 1) {
			*cause = xasprintf("%s.client_ca_file: %s: %s", field,
			    tls->client_ca_file,
			    ERR_error_string(ERR_get_error(), err));
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return (ctx);
fail:
	SSL_CTX_free(ctx);
	return (NULL);
}

int
api_addr_loopback(const char *addr)
{
	struct in_addr	a4;
	struct in6_addr	a6;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		return ((ntohl(a4.s_addr) >> 24) == 127);
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return (IN6_IS_ADDR_LOOPBACK(&a6));
	return (0);
}

/* Reads the token file: one token a line, '#' comments. */
static int
api_load_tokens(const char *path, char ***tokens, size_t *n, char **cause)
{
	char	*text, *line, *next;

	*tokens = NULL;
	*n = 0;
	if (path == NULL)
		return (0);
	if ((text = file_read_small(path, API_MAX_TOKENS_FILE, cause)) == NULL)
		return (-1);
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		*tokens = xrealloc(*tokens, (*n + 1) * sizeof **tokens);
		(*tokens)[(*n)++] = xstrdup(line);
	}
	free(text);
	if (*n == 0) {
		*cause = xasprintf("auth.api_tokens_file: %s holds no token",
		    path);
		return (-1);
	}
	return (0);
}

static void
api_free_tokens(char **tokens, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		explicit_bzero(tokens[i], strlen(tokens[i]));
		free(tokens[i]);
	}
	free(tokens);
}

/*
 * The file the API's tokens come from (new), or NULL for none:
 * auth.api_tokens_file; else, unless auth.anonymous_loopback, api.token in
 * the directory of state.path.
 */
static char *
api_token_path(const struct conf *conf)
{
	const char	*slash;

	if (conf->api_tokens_file != NULL)
		return (xstrdup(conf->api_tokens_file));
	if (conf->anonymous_loopback)
		return (NULL);
	if ((slash = strrchr(conf->state_path, '/')) == NULL)
		return (xstrdup(API_TOKEN_FILE));
	return (xasprintf("%.*s/%s", (int)(slash - conf->state_path),
	    conf->state_path, API_TOKEN_FILE));
}

/* Makes the default token file (0600) if it is missing. */
static int
api_token_create(const char *path, char **cause)
{
	unsigned char	 raw[24];
	char		 hex[2 * sizeof raw + 2];
	int		 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1) {
		if (errno == EEXIST)
			return (0);
		*cause = xasprintf("auth: cannot create the API token %s: %s",
		    path, strerror(errno));
		return (-1);
	}
	/*
	 * The kernel's generator, not RAND_bytes: OpenSSL's would set up its
	 * providers and DRBG for 24 bytes, 2.5 MiB of pages the daemon keeps.
	 */
	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
		close(fd);
		unlink(path);
		*cause = xasprintf("auth: no randomness for the API token");
		return (-1);
	}
	hex_encode(raw, sizeof raw, hex);
	hex[2 * sizeof raw] = '\n';
	hex[2 * sizeof raw + 1] = '\0';
	if (write_all(fd, hex, strlen(hex)) == -1 ||
	    fsync(fd) == -1) {
		*cause = xasprintf("auth: writing %s: %s", path,
		    strerror(errno));
		close(fd);
		unlink(path);
		return (-1);
	}
	close(fd);
	hex[strlen(hex) - 1] = '\0';
	log_info("auth: made an API token in %s (mode 0600; no "
	    "auth.api_tokens_file); clients send it as 'Authorization: "
	    "Bearer'", path);
	explicit_bzero(hex, sizeof hex);
	return (0);
}

/*
 * Reads every credential the API checks: the webhooks' into *creds and
 * the tokens (both new); with create, makes the default token file first.
 * -1 with *cause.
 */
static int
api_load_auth(const struct conf *conf, int create,
    struct webhook_creds **creds, char ***tokens, size_t *n, char **cause)
{
	char	*path;
	int	 rc = -1;

	*tokens = NULL;
	*n = 0;
	path = api_token_path(conf);
	if ((*creds = webhook_creds_load(conf, cause)) == NULL)
		goto out;
	if (create && path != NULL && conf->api_tokens_file == NULL &&
	    api_token_create(path, cause) == -1)
		goto out;
	if (path != NULL && (create || conf->api_tokens_file != NULL ||
	    access(path, F_OK) == 0) &&
	    api_load_tokens(path, tokens, n, cause) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1) {
		webhook_creds_free(*creds);
		*creds = NULL;
	}
	free(path);
	return (rc);
}

int
api_reconf(const struct conf *conf, char **cause)
{
	struct webhook_creds	 *creds;
	char			**tokens;
	size_t			  n;

	if (api_load_auth(conf, 1, &creds, &tokens, &n, cause) == -1)
		return (-1);
	webhook_set_creds(creds);
	api_free_tokens(api_tokens, api_ntokens);
	api_tokens = tokens;
	api_ntokens = n;
	return (0);
}

/*
 * Checks one listener as start-up would, without binding it: a listener
 * that is not loopback needs tokens; its TLS files must load. The TLS
 * context (new) goes to *ssl, or is freed when ssl is NULL.
 */
static int
api_listener_check(const struct conf_listen *l, size_t i, int anonymous,
    SSL_CTX **ssl, char **cause)
{
	char	field[32], tf[48];
	SSL_CTX	*ctx = NULL;

	snprintf(field, sizeof field, "listen[%zu]", i);
	if (!api_addr_loopback(l->address) && anonymous) {
		*cause = xasprintf("%s.address: %s is not loopback, so "
		    "auth.api_tokens_file is required (auth.anonymous_loopback "
		    "covers loopback only)", field, l->address);
		return (-1);
	}
	if (l->has_tls) {
		snprintf(tf, sizeof tf, "%s.tls", field);
		if ((ctx = api_ssl_ctx(&l->tls, tf, cause)) == NULL)
			return (-1);
	}
	if (ssl != NULL)
		*ssl = ctx;
	else if (ctx != NULL)
		SSL_CTX_free(ctx);
	return (0);
}

int
api_check(const struct conf *conf, char **cause)
{
	struct webhook_creds	 *creds;
	char			**tokens;
	size_t			  n, i;

	if (api_load_auth(conf, 0, &creds, &tokens, &n, cause) == -1)
		return (-1);
	webhook_creds_free(creds);
	api_free_tokens(tokens, n);
	for (i = 0; i < conf->listen.n; i++)
		if (api_listener_check((const struct conf_listen *)
		    conf->listen.v + i, i, conf->api_tokens_file == NULL &&
		    conf->anonymous_loopback, NULL, cause) == -1)
			return (-1);
	return (0);
}

void
api_set_fleet(const struct api_fleet *f)
{
	api_fleet = f;
}

int
api_init(struct event_base *base, const struct conf *conf, char **cause)
{
	const struct conf_listen	*l;
	struct api_listener		*al;
	size_t				 i;

	api_base = base;
	api_node = xstrdup(conf->node);
	api_max_conns = conf->max_connections;
	api_max_headers = conf->max_headers;
	if (api_reconf(conf, cause) == -1)
		return (-1);
	if (api_ntokens == 0)
		log_warn("auth.anonymous_loopback: the API takes requests "
		    "without a token on loopback; every local user may start "
		    "captures and download them");
	api_listeners = xcalloc(conf->listen.n, sizeof *api_listeners);
	for (i = 0; i < conf->listen.n; i++) {
		l = (const struct conf_listen *)conf->listen.v + i;
		al = &api_listeners[api_nlisteners];
		if (api_listener_check(l, i, api_ntokens == 0, &al->ssl,
		    cause) == -1)
			return (-1);
		al->http = evhttp_new(base);
		api_nlisteners++;
		evhttp_set_gencb(al->http, api_route, NULL);
		evhttp_set_max_body_size(al->http, conf->max_body_bytes);
		evhttp_set_max_headers_size(al->http, conf->max_header_bytes);
		evhttp_set_timeout(al->http, (int)conf->request_timeout_s);
		evhttp_set_allowed_methods(al->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_PUT | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
		if (al->ssl != NULL)
			evhttp_set_bevcb(al->http, api_bevcb, al->ssl);
		if (evhttp_bind_socket(al->http, l->address,
		    (ev_uint16_t)l->port) == -1) {
			*cause = xasprintf("listen[%zu]: cannot listen on %s "
			    "port %lld: %s", i, l->address, l->port,
			    strerror(errno));
			return (-1);
		}
		log_info("listening on %s%s%s:%lld%s",
		    strchr(l->address, ':') != NULL ? "[" : "", l->address,
		    strchr(l->address, ':') != NULL ? "]" : "", l->port,
		    l->has_tls ? " (TLS)" : "");
	}
	return (0);
}

void
api_shutdown(void)
{
	size_t	i;

	for (i = 0; i < api_nlisteners; i++) {
		evhttp_free(api_listeners[i].http);
		if (api_listeners[i].ssl != NULL)
			SSL_CTX_free(api_listeners[i].ssl);
	}
	free(api_listeners);
	api_listeners = NULL;
	free(api_conns);
	api_conns = NULL;
	api_conns_size = 0;
	api_nconns = 0;
	api_nlisteners = 0;
	api_free_tokens(api_tokens, api_ntokens);
	api_tokens = NULL;
	api_ntokens = 0;
	webhook_shutdown();
	api_fleet = NULL;
	free(api_node);
	api_node = NULL;
}
