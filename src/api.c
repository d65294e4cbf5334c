/* REST API: routing, authentication, JSON answers; evhttp in the loop. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "input-mqtt.h"
#include "log.h"
#include "rule.h"
#include "session.h"
#include "trigger.h"
#include "upload.h"
#include "util.h"
#include "xmalloc.h"

#define API_MAX_TOKENS_FILE	(1024 * 1024)
#define API_MAX_PATH_PARTS	8

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

/* Webhook credentials by format, read from their files. */
struct api_webhook {
	char		*bearer;
	char		*basic_user;
	char		*basic_pass;
	char		*hmac;
	char		*ts_header;
	long long	 max_skew_s;
	char		*query_token;
};
static struct api_webhook	 api_webhooks[WH_MAX];
static uint64_t			 api_auth_failures;


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
	case 501: return ("Not Implemented");
	case 502: return ("Bad Gateway");
	case 504: return ("Gateway Timeout");
	case 503: return ("Service Unavailable");
	default: return ("Internal Server Error");
	}
}

/* Sends a JSON body (stolen) with status. */
static void
api_reply_json(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer	*buf;
	char		*text;

	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	buf = evbuffer_new();
	evbuffer_add(buf, text, strlen(text));
	evbuffer_add(buf, "\n", 1);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_send_reply(req, status, status_text(status), buf);
	evbuffer_free(buf);
}

static void __attribute__((format(printf, 4, 5)))
api_error(struct evhttp_request *req, int status, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	api_reply_json(req, status, json_pack("{s:{s:s, s:s}}", "error",
	    "code", code, "message", msg));
	free(msg);
}


/* Checks the bearer token when tokens are configured. */
static int
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

static void
api_capture_file(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(req);
	struct evbuffer		*buf;
	enum sess_result	 rc;
	int64_t			 size;
	json_t			*err;
	char			*cause = NULL, disp[160];
	int			 fd, status;

	if ((rc = session_open_file(name, &fd, &size, &cause)) != SESS_OK) {
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
	snprintf(disp, sizeof disp, "attachment; filename=\"%s.pcap\"", name);
	evhttp_add_header(h, "Content-Type", "application/vnd.tcpdump.pcap");
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
 * Maps a capture request to a command: method and path parts after
 * "captures" (name, verb) to op. NULL if the method does not fit.
 */
static const char *
api_capture_op(enum evhttp_cmd_type m, const char *name, const char *verb)
{
	if (name == NULL)
		return (m == EVHTTP_REQ_GET ? "list" : NULL);
	if (verb == NULL) {
		switch (m) {
		case EVHTTP_REQ_PUT:
			return ("create");
		case EVHTTP_REQ_GET:
			return ("get");
		case EVHTTP_REQ_DELETE:
			return ("delete");
		default:
			return (NULL);
		}
	}
	if (strcmp(verb, "stop") == 0 && m == EVHTTP_REQ_POST)
		return ("stop");
	return (NULL);
}

/*
 * Parses what a capture request carries into a command object (new):
 * {"op", "name", "capture", "status", "rule"}. Answers errors itself and
 * returns NULL.
 */
static json_t *
api_capture_cmd(struct evhttp_request *req, const char *name,
    const char *verb)
{
	enum evhttp_cmd_type	 m = evhttp_request_get_command(req);
	struct evkeyvalq	 q;
	const char		*op, *query, *v;
	json_t			*cmd, *body;

	if (verb != NULL && strcmp(verb, "stop") != 0 &&
	    strcmp(verb, "file") != 0) {
		api_error(req, 404, "NotFound", "no such resource");
		return (NULL);
	}
	if ((op = api_capture_op(m, name, verb)) == NULL) {
		api_error(req, 405, "MethodNotAllowed", "method not allowed "
		    "here");
		return (NULL);
	}
	cmd = json_pack("{s:s}", "op", op);
	if (name != NULL)
		json_object_set_new(cmd, "name", json_string(name));
	if (strcmp(op, "create") == 0) {
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
		json_object_set_new(cmd, "status", json_string(v));
	if ((v = evhttp_find_header(&q, "rule")) != NULL)
		json_object_set_new(cmd, "rule", json_string(v));
	evhttp_clear_headers(&q);
	return (cmd);
}

/* /v1/captures[/{name}[/stop|/file]] on this node. */
static void
api_captures(struct evhttp_request *req, const char *name, const char *verb)
{
	json_t	*cmd, *body;
	int	 status;

	if (verb != NULL && strcmp(verb, "file") == 0 &&
	    evhttp_request_get_command(req) == EVHTTP_REQ_GET) {
		api_capture_file(req, name);
		return;
	}
	if ((cmd = api_capture_cmd(req, name, verb)) == NULL)
		return;
	status = cmd_run_json(cmd, &body);
	json_decref(cmd);
	api_reply_cmd(req, status, body);
}

static void
api_metrics(struct evhttp_request *req)
{
	struct evbuffer	*buf;
	struct dynbuf	 d;

	dynbuf_init(&d, 16 * 1024 * 1024);
	session_metrics(&d);
	trigger_metrics(&d);
	mqtt_metrics(&d);
	upload_metrics(&d);
	dynbuf_addf(&d, "# HELP alertcap_webhook_auth_failures_total Webhook "
	    "requests refused for their credentials.\n# TYPE "
	    "alertcap_webhook_auth_failures_total counter\n"
	    "alertcap_webhook_auth_failures_total %" PRIu64 "\n",
	    api_auth_failures);
	buf = evbuffer_new();
	evbuffer_add(buf, d.buf != NULL ? d.buf : "", d.len);
	dynbuf_free(&d);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

static int
wh_index(const char *format)
{
	int	i;

	for (i = 0; alert_formats[i] != NULL; i++)
		if (strcmp(alert_formats[i], format) == 0)
			return (i);
	return (-1);
}

/* Checks "Authorization: Basic base64(user:pass)". */
static int
basic_ok(const char *h, const struct api_webhook *w)
{
	unsigned char	 out[1024];
	char		*colon;
	size_t		 len;
	int		 n, ok;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return (0);
	h += 6;
	len = strlen(h);
	if (len == 0 || len > 1300 || len % 4 != 0)
		return (0);
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)h, (int)len)) < 0)
		return (0);
	while (n > 0 && len > 0 && h[--len] == '=')
		n--;
	out[n] = '\0';
	if ((colon = strchr((char *)out, ':')) == NULL)
		return (0);
	*colon = '\0';
	ok = secret_equal((char *)out, w->basic_user) &
	    secret_equal(colon + 1, w->basic_pass);
	explicit_bzero(out, sizeof out);
	return (ok);
}

/* Checks Grafana's X-Grafana-Alerting-Signature (and timestamp). */
static int
hmac_ok(struct evhttp_request *req, const struct api_webhook *w,
    const unsigned char *body, size_t len)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	const char		*sig, *ts = NULL;
	char			 hex[2 * EVP_MAX_MD_SIZE + 1], low[160];
	char			*cause = NULL;
	const unsigned char	*msg;
	unsigned char		*signed_buf = NULL;
	size_t			 i;
	long long		 t;

	if ((sig = evhttp_find_header(h, "X-Grafana-Alerting-Signature")) ==
	    NULL)
		return (0);
	msg = body;
	if (w->ts_header != NULL) {
		if ((ts = evhttp_find_header(h, w->ts_header)) == NULL ||
		    parse_ll(ts, 0, INT64_MAX, &t, &cause) == -1 ||
		    llabs(t - now_us() / 1000000) > w->max_skew_s) {
			free(cause);
			return (0);
		}
		/* The signature covers "timestamp:body". */
		signed_buf = xmalloc(strlen(ts) + 1 + len);
		memcpy(signed_buf, ts, strlen(ts));
		signed_buf[strlen(ts)] = ':';
		memcpy(signed_buf + strlen(ts) + 1, body, len);
		msg = signed_buf;
		len += strlen(ts) + 1;
	}
	HMAC(EVP_sha256(), w->hmac, (int)strlen(w->hmac), msg, len, md,
	    &mdlen);
	free(signed_buf);
	hex_encode(md, mdlen, hex);
	for (i = 0; sig[i] != '\0' && i < sizeof low - 1; i++)
		low[i] = (char)tolower((unsigned char)sig[i]);
	low[i] = '\0';
	return (secret_equal(low, hex));
}

/* The "token" query parameter equals the configured one. */
static int
query_ok(struct evhttp_request *req, const struct api_webhook *w)
{
	struct evkeyvalq	 q;
	const char		*query, *tok;
	int			 ok = 0;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1)
		return (0);
	if ((tok = evhttp_find_header(&q, "token")) != NULL)
		ok = secret_equal(tok, w->query_token);
	evhttp_clear_headers(&q);
	return (ok);
}

/*
 * Authenticates a webhook of one format: any of the format's configured
 * methods; a format with none takes the API tokens.
 */
static int
api_webhook_authorized(struct evhttp_request *req, int fmt,
    const unsigned char *body, size_t len)
{
	const struct api_webhook *w = &api_webhooks[fmt];
	const char		*auth;

	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (w->bearer == NULL && w->basic_user == NULL && w->hmac == NULL &&
	    w->query_token == NULL)
		return (api_authorized(req));
	if (w->bearer != NULL && auth != NULL &&
	    strncasecmp(auth, "Bearer ", 7) == 0 &&
	    secret_equal(auth + 7, w->bearer))
		return (1);
	if (w->basic_user != NULL && basic_ok(auth, w))
		return (1);
	if (w->hmac != NULL && hmac_ok(req, w, body, len))
		return (1);
	if (w->query_token != NULL && query_ok(req, w))
		return (1);
	return (0);
}

/* POST /v1/alerts[/{format}] and POST /v1/rules/test. */
static void
api_alerts(struct evhttp_request *req, const char *format, int dry_run)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct alert_list	 l = { NULL, 0 };
	json_error_t		 jerr;
	json_t			*body, *res, *norm;
	const unsigned char	*data;
	size_t			 len, i;
	char			*cause = NULL, via[] = "webhook";
	int			 retry, fmt;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		api_error(req, 405, "MethodNotAllowed", "use POST");
		return;
	}
	if (format != NULL && strcmp(format, "auto") != 0 &&
	    wh_index(format) < 0) {
		api_error(req, 404, "NotFound", "format: '%s' is not one of "
		    "alertmanager, grafana, azure-monitor, generic", format);
		return;
	}
	len = evbuffer_get_length(in);
	data = len > 0 ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
	body = json_loadb((const char *)data, len, 0, &jerr);
	fmt = wh_index(format != NULL && strcmp(format, "auto") != 0 ? format :
	    body != NULL ? alert_detect(body) : "generic");
	if (!(dry_run ? api_authorized(req) :
	    api_webhook_authorized(req, fmt, data, len))) {
		api_auth_failures++;
		json_decref(body);
		api_error(req, 401, "Unauthorized", "the %s webhook's "
		    "credentials are missing or wrong", alert_formats[fmt]);
		return;
	}
	if (body == NULL) {
		api_error(req, 400, "InvalidRequest", "body:%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
		return;
	}
	if (alert_parse(body, alert_formats[fmt], via, &l, &cause) == -1) {
		api_error(req, 400, "InvalidRequest", "%s: %s",
		    alert_formats[fmt], cause);
		free(cause);
		json_decref(body);
		return;
	}
	json_decref(body);
	res = trigger_alerts(&l, dry_run, &retry);
	if (dry_run) {
		norm = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(norm, alert_to_json(l.v[i]));
		json_object_set_new(res, "normalized", norm);
	}
	alert_list_clear(&l);
	if (retry) {
		json_decref(res);
		api_error(req, 503, "StoreUnavailable", "the state store "
		    "failed; retry");
		return;
	}
	api_reply_json(req, dry_run ? 200 : 202, res);
}

/* A request waiting for another node's answer. */
struct api_remote {
	struct evhttp_request	*req;		/* NULL once the client left */
	unsigned long		 id;
};

static void
api_remote_reply(int status, json_t *body, void *arg)
{
	struct api_remote	*r = arg;

	if (r->req != NULL) {
		evhttp_connection_set_closecb(evhttp_request_get_connection(
		    r->req), NULL, NULL);
		api_reply_cmd(r->req, status, body != NULL && !json_is_null(
		    body) ? json_incref(body) : NULL);
	}
	free(r);
}

/* The client went away: answer nobody, and forget the request. */
static void
api_remote_closed(struct evhttp_connection *conn, void *arg)
{
	struct api_remote	*r = arg;

	mqtt_cancel(r->id);
	free(r);
}

/* /v1/nodes/{node}/captures[/...]: here, or over the broker. */
static void
api_node_captures(struct evhttp_request *req, const char *node,
    const char *name, const char *verb)
{
	struct api_remote	*r;
	json_t			*cmd;
	char			*cause = NULL;

	if (strcmp(node, api_node) == 0) {
		api_captures(req, name, verb);
		return;
	}
	if (!name_valid(node)) {
		api_error(req, 400, "InvalidRequest", "node: not a node name");
		return;
	}
	if (verb != NULL && strcmp(verb, "file") == 0) {
		api_error(req, 501, "NotImplemented", "files are not carried "
		    "over the broker; download from node %s's own API", node);
		return;
	}
	if ((cmd = api_capture_cmd(req, name, verb)) == NULL)
		return;
	r = xcalloc(1, sizeof *r);
	r->req = req;
	r->id = mqtt_request(node, cmd, api_remote_reply, r, &cause);
	json_decref(cmd);
	if (r->id == 0) {
		free(r);
		api_error(req, 503, "Unavailable", "%s", cause);
		free(cause);
		return;
	}
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    api_remote_closed, r);
}

/* Splits a decoded path into at most max parts; returns the count. */
static int
api_split(char *path, char **parts, int max)
{
	int	n = 0;
	char	*p = path, *e;

	while (*p == '/')
		p++;
	while (*p != '\0' && n < max) {
		parts[n++] = p;
		if ((e = strchr(p, '/')) == NULL)
			break;
		*e = '\0';
		p = e + 1;
	}
	return (*p != '\0' && n == max ? max + 1 : n);
}

static void
api_route(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	char			*path, *parts[API_MAX_PATH_PARTS], esc[256];
	int			 n;

	path = evhttp_uridecode(evhttp_uri_get_path(uri) != NULL ?
	    evhttp_uri_get_path(uri) : "/", 0, NULL);
	n = api_split(path, parts, API_MAX_PATH_PARTS);
	log_debug("%s %s", evhttp_request_get_command(req) == EVHTTP_REQ_GET ?
	    "GET" : "request", log_escape(esc, sizeof esc,
	    evhttp_request_get_uri(req)));
	if (n == 1 && strcmp(parts[0], "healthz") == 0) {
		api_reply_json(req, 200, json_pack("{s:s, s:s}", "status",
		    "ok", "node", api_node));
		goto out;
	}
	if (n >= 2 && n <= 3 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "alerts") == 0) {
		api_alerts(req, n == 3 ? parts[2] : NULL, 0);
		goto out;
	}
	if (!api_authorized(req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		api_error(req, 401, "Unauthorized", "a valid bearer token is "
		    "required");
		goto out;
	}
	if (n == 1 && strcmp(parts[0], "metrics") == 0)
		api_metrics(req);
	else if (n >= 2 && n <= 4 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "captures") == 0)
		api_captures(req, n >= 3 ? parts[2] : NULL, n == 4 ? parts[3] :
		    NULL);
	else if (n == 2 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "nodes") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET)
			api_error(req, 405, "MethodNotAllowed", "use GET");
		else
			api_reply_json(req, 200, mqtt_nodes());
	} else if (n >= 4 && n <= 6 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "nodes") == 0 && strcmp(parts[3], "captures") == 0)
		api_node_captures(req, parts[2], n >= 5 ? parts[4] : NULL,
		    n == 6 ? parts[5] : NULL);
	else if (n == 3 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "rules") == 0 && strcmp(parts[2], "test") == 0)
		api_alerts(req, NULL, 1);
	else if (n == 2 && strcmp(parts[0], "v1") == 0 &&
	    strcmp(parts[1], "rules") == 0) {
		if (evhttp_request_get_command(req) != EVHTTP_REQ_GET)
			api_error(req, 405, "MethodNotAllowed", "use GET");
		else
			api_reply_json(req, 200,
			    ruleset_to_json(trigger_rules()));
	} else
		api_error(req, 404, "NotFound", "no such resource");
out:
	free(path);
}

/* Creates the TLS bufferevent for each new connection on a listener. */
static struct bufferevent *
api_bevcb(struct event_base *base, void *arg)
{
	SSL_CTX	*ctx = arg;

	return (bufferevent_openssl_socket_new(base, -1, SSL_new(ctx),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}

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

static void
api_webhook_clear(struct api_webhook *w)
{
	char	**s[] = { &w->bearer, &w->basic_user, &w->basic_pass,
	    &w->hmac, &w->ts_header, &w->query_token };
	size_t	  i;

	for (i = 0; i < sizeof s / sizeof *s; i++) {
		if (*s[i] != NULL)
			explicit_bzero(*s[i], strlen(*s[i]));
		free(*s[i]);
		*s[i] = NULL;
	}
}

/* Reads one secret file, if named; names the option on error. */
static int
read_secret(const char *file, const char *opt, char **out, char **cause)
{
	char	*why;

	*out = NULL;
	if (file == NULL)
		return (0);
	if ((*out = file_read_small(file, 4096, &why)) == NULL) {
		*cause = xasprintf("%s: %s", opt, why);
		free(why);
		return (-1);
	}
	return (0);
}

static int
api_load_webhooks(const struct conf *conf, struct api_webhook *ws,
    char **cause)
{
	const struct conf_webhook	*c;
	struct api_webhook		*w;
	char				 opt[96];
	int				 i;

	for (i = 0; i < WH_MAX; i++) {
		c = &conf->webhooks[i];
		w = &ws[i];
		memset(w, 0, sizeof *w);
		snprintf(opt, sizeof opt, "auth.webhooks.%s", alert_formats[i]);
		if (read_secret(c->bearer_token_file, opt, &w->bearer,
		    cause) == -1 || read_secret(c->basic_password_file, opt,
		    &w->basic_pass, cause) == -1 ||
		    read_secret(c->hmac_secret_file, opt, &w->hmac,
		    cause) == -1 || read_secret(c->query_token_file, opt,
		    &w->query_token, cause) == -1)
			return (-1);
		if ((c->basic_username != NULL) != (w->basic_pass != NULL)) {
			*cause = xasprintf("%s: basic_username and "
			    "basic_password_file go together", opt);
			return (-1);
		}
		if (c->basic_username != NULL)
			w->basic_user = xstrdup(c->basic_username);
		if (c->timestamp_header != NULL)
			w->ts_header = xstrdup(c->timestamp_header);
		w->max_skew_s = c->max_skew_s;
	}
	return (0);
}

int
api_reconf(const struct conf *conf, char **cause)
{
	struct api_webhook	  ws[WH_MAX];
	char			**tokens;
	size_t			  n;
	int			  i;

	if (api_load_webhooks(conf, ws, cause) == -1) {
		for (i = 0; i < WH_MAX; i++)
			api_webhook_clear(&ws[i]);
		return (-1);
	}
	if (api_load_tokens(conf->api_tokens_file, &tokens, &n, cause) == -1) {
		for (i = 0; i < WH_MAX; i++)
			api_webhook_clear(&ws[i]);
		return (-1);
	}
	for (i = 0; i < WH_MAX; i++) {
		api_webhook_clear(&api_webhooks[i]);
		api_webhooks[i] = ws[i];
	}
	api_free_tokens(api_tokens, api_ntokens);
	api_tokens = tokens;
	api_ntokens = n;
	return (0);
}

int
api_init(struct event_base *base, const struct conf *conf, char **cause)
{
	const struct conf_listen	*l;
	struct api_listener		*al;
	char				 field[32];
	size_t				 i;

	api_base = base;
	api_node = xstrdup(conf->node);
	if (api_reconf(conf, cause) == -1)
		return (-1);
	api_listeners = xcalloc(conf->listen.n, sizeof *api_listeners);
	for (i = 0; i < conf->listen.n; i++) {
		l = (const struct conf_listen *)conf->listen.v + i;
		al = &api_listeners[api_nlisteners];
		snprintf(field, sizeof field, "listen[%zu]", i);
		if (!api_addr_loopback(l->address) && api_ntokens == 0) {
			*cause = xasprintf("%s.address: %s is not loopback, so "
			    "auth.api_tokens_file is required", field,
			    l->address);
			return (-1);
		}
		al->http = evhttp_new(base);
		api_nlisteners++;
		evhttp_set_gencb(al->http, api_route, NULL);
		evhttp_set_max_body_size(al->http, conf->max_body_bytes);
		evhttp_set_timeout(al->http, (int)conf->request_timeout_s);
		evhttp_set_allowed_methods(al->http, EVHTTP_REQ_GET |
		    EVHTTP_REQ_PUT | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
		if (l->has_tls) {
			char	tf[48];

			snprintf(tf, sizeof tf, "%s.tls", field);
			if ((al->ssl = api_ssl_ctx(&l->tls, tf, cause)) == NULL)
				return (-1);
			evhttp_set_bevcb(al->http, api_bevcb, al->ssl);
		}
		if (evhttp_bind_socket(al->http, l->address,
		    (ev_uint16_t)l->port) == -1) {
			*cause = xasprintf("%s: cannot listen on %s port %lld: "
			    "%s", field, l->address, l->port, strerror(errno));
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
	int	j;

	for (i = 0; i < api_nlisteners; i++) {
		evhttp_free(api_listeners[i].http);
		if (api_listeners[i].ssl != NULL)
			SSL_CTX_free(api_listeners[i].ssl);
	}
	free(api_listeners);
	api_listeners = NULL;
	api_nlisteners = 0;
	api_free_tokens(api_tokens, api_ntokens);
	api_tokens = NULL;
	api_ntokens = 0;
	for (j = 0; j < WH_MAX; j++)
		api_webhook_clear(&api_webhooks[j]);
	free(api_node);
	api_node = NULL;
}
