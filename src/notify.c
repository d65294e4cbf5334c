/*
 * Notifications (notify.h): a session observer turns each record change
 * into the events it newly shows (Started, Stopped, Uploaded, Failed);
 * each (capture, endpoint, event) is made once, stored, and POSTed until
 * it is answered 2xx, refused for good (4xx), or older than the
 * endpoint's max_age_s.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conf.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "record.h"
#include "session.h"
#include "state.h"
#include "upload.h"
#include "util.h"
#include "xmalloc.h"

#define NT_RETRY_MAX_S		300
#define NT_TIMEOUT_S		30
/*
 * A notice sent or given up is remembered this long (so it is never sent
 * twice), without its body; older captures are not told of at all.
 */
#define NT_KEEP_US		(30LL * 86400 * 1000000)

/* The events, in the order a capture reaches them. */
static const char *nt_events[] = { "Started", "Stopped", "Uploaded",
    "Failed" };
#define NT_NEVENTS	(sizeof nt_events / sizeof nt_events[0])

struct endpoint {
	const struct conf_notify *conf;
	int			  grafana;	/* grafana-annotation */
	char			 *secret;	/* hmac_secret_file's */
	char			 *token;	/* token_file's */
	unsigned int		  events;	/* bit i: nt_events[i] */
};

enum notice_state { NOTICE_PENDING, NOTICE_SENT, NOTICE_FAILED };
static const char *nt_state_names[] = { "Pending", "Sent", "Failed" };

struct notice {
	char			*id;
	struct endpoint		*ep;
	char			*event;
	char			*capture;
	char			*body;
	enum notice_state	 state;
	long long		 attempts;
	int64_t			 at;
	struct httpc_req	*req;		/* in flight */
	struct event		*retry_ev;
	TAILQ_ENTRY(notice)	 entry;
};

static struct event_base	*nt_base;
static struct endpoint		*nt_eps;
static size_t			 nt_neps;
static json_t			*nt_made;	/* ids made: a set */
static int64_t			 nt_since;	/* records older: not told */
static TAILQ_HEAD(, notice)	 nt_live = TAILQ_HEAD_INITIALIZER(nt_live);
static struct {
	uint64_t	made;
	uint64_t	sent;
	uint64_t	failed;
	uint64_t	attempts;
} nt_stats;

static void
metric_notices(struct metric_out *o, void *arg)
{
	metric_u64(o, nt_stats.made, "state", "made", (char *)NULL);
	metric_u64(o, nt_stats.sent, "state", "Sent", (char *)NULL);
	metric_u64(o, nt_stats.failed, "state", "Failed", (char *)NULL);
}

static void
metric_pending(struct metric_out *o, void *arg)
{
	struct notice	*n;
	uint64_t	 k = 0;

	TAILQ_FOREACH(n, &nt_live, entry)
		k++;
	metric_u64(o, k, (char *)NULL);
}

static const struct metric nt_metrics[] = {
	METRIC_READ("alertcap_notifications_total", COUNTER,
	    "Notifications by outcome.", metric_notices, NULL),
	METRIC_VALUE("alertcap_notification_attempts_total", COUNTER,
	    "Notification requests made.", &nt_stats.attempts),
	METRIC_READ("alertcap_notifications_pending", GAUGE,
	    "Notifications not yet sent or given up.", metric_pending, NULL),
	METRIC_END
};

static struct endpoint *
nt_endpoint(const char *name)
{
	size_t	i;

	for (i = 0; i < nt_neps; i++)
		if (strcmp(nt_eps[i].conf->name, name) == 0)
			return (&nt_eps[i]);
	return (NULL);
}

int
notify_endpoint_exists(const char *name, void *unused)
{
	return (nt_endpoint(name) != NULL);
}

/* Stores a notice as it stands; a store that fails is logged by it. */
static void
nt_store(const struct notice *n)
{
	struct state_notice	 s;
	char			*cause = NULL;

	s.id = n->id;
	s.endpoint = n->ep->conf->name;
	s.event = n->event;
	s.capture = n->capture;
	s.body = n->state == NOTICE_PENDING ? n->body : "";
	s.state = nt_state_names[n->state];
	s.attempts = n->attempts;
	s.at = n->at;
	if (state_notice_put(&s, &cause) == -1)
		free(cause);
}

static void
nt_free(struct notice *n)
{
	httpc_cancel(n->req);
	if (n->retry_ev != NULL)
		event_free(n->retry_ev);
	free(n->id);
	free(n->event);
	free(n->capture);
	free(n->body);
	free(n);
}

/* Done with a notice, sent or given up: stored so, and forgotten. */
static void
nt_finish(struct notice *n, enum notice_state st, const char *why)
{
	n->state = st;
	nt_store(n);
	if (st == NOTICE_SENT) {
		nt_stats.sent++;
		log_info("notify %s: %s of %s sent", n->ep->conf->name,
		    n->event, n->capture);
	} else {
		nt_stats.failed++;
		log_warn("notify %s: %s of %s given up after %lld attempts: "
		    "%s", n->ep->conf->name, n->event, n->capture,
		    n->attempts, why);
	}
	TAILQ_REMOVE(&nt_live, n, entry);
	nt_free(n);
}

/* "sha256=HEX" of the body with the endpoint's secret (new). */
static char *
nt_signature(const struct endpoint *ep, const char *body)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0;
	char		hex[2 * EVP_MAX_MD_SIZE + 1];

	HMAC(EVP_sha256(), ep->secret, (int)strlen(ep->secret),
	    (const unsigned char *)body, strlen(body), md, &mdlen);
	hex_encode(md, mdlen, hex);
	return (xasprintf("%s: sha256=%s", ep->conf->signature_header, hex));
}

static void	nt_done(struct httpc_req *, const struct httpc_result *,
		    void *);

/* One attempt: a POST of the body, through the HTTP helper. */
static void
nt_send(struct notice *n)
{
	const struct conf_notify	*c = n->ep->conf;
	char				*h, *url;
	size_t				 i;

	n->attempts++;
	nt_stats.attempts++;
	nt_store(n);
	url = n->ep->grafana ? xasprintf("%s/api/annotations", c->url) :
	    xstrdup(c->url);
	n->req = httpc_new("POST", url);
	free(url);
	httpc_body_text(n->req, n->body, strlen(n->body));
	httpc_opt_num(n->req, "timeout", NT_TIMEOUT_S);
	httpc_opt_str(n->req, "useragent", "alertcap/" VERSION);
	httpc_opt_str(n->req, "protocols", "http,https");
	httpc_header(n->req, "Content-Type: application/json");
	httpc_header(n->req, "Expect:");
	h = xasprintf("X-Alertcap-Event: %s", n->event);
	httpc_header(n->req, h);
	free(h);
	h = xasprintf("X-Alertcap-Delivery: %s", n->id);
	httpc_header(n->req, h);
	free(h);
	if (n->ep->secret != NULL) {
		h = nt_signature(n->ep, n->body);
		httpc_header(n->req, h);
		free(h);
	}
	if (n->ep->token != NULL) {
		h = xasprintf("Authorization: Bearer %s", n->ep->token);
		httpc_header(n->req, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	for (i = 0; i < c->headers.n; i++)
		httpc_header(n->req, ((char **)c->headers.v)[i]);
	httpc_send(n->req, nt_done, n);
}

static void
nt_retry_now(evutil_socket_t fd, short events, void *arg)
{
	nt_send(arg);
}

/* An attempt failed: again after a backoff, unless it is too old. */
static void
nt_retry(struct notice *n, const char *why)
{
	struct timeval	tv;

	if (now_us() - n->at > n->ep->conf->max_age_s * 1000000) {
		nt_finish(n, NOTICE_FAILED, why);
		return;
	}
	backoff_delay((unsigned int)n->attempts, NT_RETRY_MAX_S, &tv);
	log_warn("notify %s: %s of %s: attempt %lld failed (%s); again in "
	    "%.1fs", n->ep->conf->name, n->event, n->capture, n->attempts,
	    why, (double)tv.tv_sec + (double)tv.tv_usec / 1e6);
	if (n->retry_ev == NULL)
		n->retry_ev = evtimer_new(nt_base, nt_retry_now, n);
	evtimer_add(n->retry_ev, &tv);
}

/* An answer: 2xx sent; 4xx (but 408, 429) refused for good; else again. */
static void
nt_done(struct httpc_req *req, const struct httpc_result *res, void *arg)
{
	struct notice	*n = arg;
	long		 status = res->status;
	char		*why;

	n->req = NULL;		/* httpc frees it */
	if (res->error == NULL && status >= 200 && status < 300) {
		nt_finish(n, NOTICE_SENT, NULL);
		return;
	}
	why = res->error != NULL ? xstrdup(res->error) :
	    xasprintf("HTTP %ld%s%.*s", status, res->body_len > 0 ? ": " : "",
	    res->body_len > 200 ? 200 : (int)res->body_len, res->body);
	if (res->error == NULL && status >= 400 && status < 500 &&
	    status != 408 && status != 429)
		nt_finish(n, NOTICE_FAILED, why);
	else
		nt_retry(n, why);
	free(why);
}

/* The line a person reads: what happened, where the evidence is. */
static char *
nt_text(const char *event, json_t *r)
{
	struct dynbuf	 b;
	json_t		*u, *t = json_object_get(r, "trigger");
	const char	*rule = json_string_value(json_object_get(t, "rule"));
	const char	*reason = json_string_value(json_object_get(r,
			    "stop_reason"));
	const char	*file = json_string_value(json_object_get(r, "file"));
	size_t		 i;

	dynbuf_init(&b, 16 * 1024);
	dynbuf_addf(&b, "alertcap: capture %s on %s %s",
	    json_string_value(json_object_get(r, "name")),
	    json_string_value(json_object_get(r, "node")), event);
	if (strcmp(event, "Stopped") == 0 && reason != NULL)
		dynbuf_addf(&b, " (%s)", reason);
	if (rule != NULL)
		dynbuf_addf(&b, " for alert %s (rule %s)",
		    json_string_value(json_object_get(t, "alert")), rule);
	if (strcmp(event, "Started") != 0)
		dynbuf_addf(&b, ": %lld packets, %lld bytes, %lld dropped",
		    (long long)json_integer_value(json_object_get(r,
		    "packets")), (long long)json_integer_value(json_object_get(
		    r, "bytes")), (long long)(json_integer_value(
		    json_object_get(r, "kernel_drops")) + json_integer_value(
		    json_object_get(r, "if_drops"))));
	if (file != NULL)
		dynbuf_addf(&b, "; file %s", file);
	json_array_foreach(json_object_get(r, "uploads"), i, u)
		if (json_is_string(json_object_get(u, "uri")))
			dynbuf_addf(&b, "; %s %s %s", json_string_value(
			    json_object_get(u, "account")), json_string_value(
			    json_object_get(u, "state")), json_string_value(
			    json_object_get(u, "uri")));
	json_array_foreach(json_object_get(r, "errors"), i, u)
		dynbuf_addf(&b, "; %s: %s", json_string_value(json_object_get(u,
		    "code")), json_string_value(json_object_get(u, "message")));
	return (dynbuf_take(&b));
}

/* ms since the epoch of one of the record's RFC 3339 times, or 0. */
static json_int_t
nt_ms(json_t *r, const char *key)
{
	int64_t	us;

	if (time_parse_rfc3339(json_string_value(json_object_get(r, key)),
	    &us) == -1)
		return (0);
	return ((json_int_t)(us / 1000));
}

/*
 * What an endpoint is sent (new): for a webhook {text, event, capture:
 * the record}; for Grafana an annotation over the capture's span, tagged
 * with its name and the alert's labels, on the alerting panel if Grafana
 * named it.
 */
static char *
nt_body(const struct endpoint *ep, const char *event, json_t *r)
{
	json_t		*o, *tags, *t, *panel, *v;
	const char	*k;
	char		*text, *s, *tag;
	json_int_t	 start, end;

	text = nt_text(event, r);
	if (!ep->grafana) {
		o = json_pack("{s:s, s:s, s:O}", "text", text, "event", event,
		    "capture", r);
		free(text);
		s = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		return (s);
	}
	t = json_object_get(r, "trigger");
	tags = json_pack("[s]", "alertcap");
	tag = xasprintf("capture:%s", json_string_value(json_object_get(r,
	    "name")));
	json_array_append_new(tags, json_string(tag));
	free(tag);
	tag = xasprintf("status:%s", event);
	json_array_append_new(tags, json_string(tag));
	free(tag);
	json_object_foreach(json_object_get(t, "labels"), k, v)
		if (json_is_string(v) && strncmp(k, "__", 2) != 0) {
			tag = xasprintf("%s:%s", k, json_string_value(v));
			json_array_append_new(tags, json_string(tag));
			free(tag);
		}
	start = nt_ms(r, "started_at");
	end = nt_ms(r, "stopped_at");
	o = json_pack("{s:I, s:o, s:s}", "time", start != 0 ? start :
	    nt_ms(r, "created_at"), "tags", tags, "text", text);
	if (end > start && start != 0)
		json_object_set_new(o, "timeEnd", json_integer(end));
	if ((panel = json_object_get(t, "panel")) != NULL) {
		json_object_set(o, "dashboardUID", json_object_get(panel,
		    "dashboard_uid"));
		json_object_set_new(o, "panelId", json_integer(strtoll(
		    json_string_value(json_object_get(panel, "panel_id")) ?
		    json_string_value(json_object_get(panel, "panel_id")) : "0",
		    NULL, 10)));
	}
	free(text);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return (s);
}

/* Does the record show this event (bit i of nt_events)? */
static int
nt_shows(const struct record *r, size_t i)
{
	json_t	*u;
	size_t	 k, up = 0;

	switch (i) {
	case 0:
		return (r->started_at != 0);
	case 1:
		return (r->status == CAP_STOPPED);
	case 2:
		json_array_foreach(r->uploads, k, u)
			if (upload_entry_state(u) == UPLOAD_UPLOADED)
				up++;
		return (up > 0 && up == json_array_size(r->uploads));
	default:
		if (r->status == CAP_ERROR)
			return (1);
		json_array_foreach(r->uploads, k, u)
			if (upload_entry_state(u) == UPLOAD_FAILED)
				return (1);
		return (0);
	}
}

/* Is endpoint ep one the capture's parameters let hear (all by default)? */
static int
nt_named(const struct record *r, const struct endpoint *ep)
{
	json_t	*list = json_object_get(r->params, "notify"), *e;
	size_t	 i;

	if (list == NULL)
		return (1);
	json_array_foreach(list, i, e)
		if (json_is_string(e) && strcmp(json_string_value(e),
		    ep->conf->name) == 0)
			return (1);
	return (0);
}

/* Makes, stores and sends one notice. */
static void
nt_make(struct endpoint *ep, const char *id, const char *event,
    const struct record *r, json_t *rj)
{
	struct notice	*n;

	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(id);
	n->ep = ep;
	n->event = xstrdup(event);
	n->capture = xstrdup(r->name);
	n->body = nt_body(ep, event, rj);
	n->at = now_us();
	json_object_set_new(nt_made, id, json_true());
	nt_stats.made++;
	TAILQ_INSERT_TAIL(&nt_live, n, entry);
	nt_send(n);
}

/* The session observer: each event a record newly shows, to its endpoints. */
static void
nt_observe(const char *name, const struct record *r, void *arg)
{
	json_t	*rj = NULL;
	char	 id[512];
	size_t	 e, i;

	if (r == NULL || r->created_at < nt_since ||
	    r->created_at < now_us() - NT_KEEP_US)
		return;
	for (e = 0; e < NT_NEVENTS; e++) {
		if (!nt_shows(r, e))
			continue;
		for (i = 0; i < nt_neps; i++) {
			if (!(nt_eps[i].events & (1U << e)) ||
			    !nt_named(r, &nt_eps[i]))
				continue;
			snprintf(id, sizeof id, "%s-%lld-%s-%s", r->name,
			    (long long)r->created_at, nt_eps[i].conf->name,
			    nt_events[e]);
			if (json_object_get(nt_made, id) != NULL)
				continue;
			if (rj == NULL)
				rj = record_to_json(r);
			nt_make(&nt_eps[i], id, nt_events[e], r, rj);
		}
	}
	json_decref(rj);
}

/* At start: what was made is remembered, what was pending goes again. */
static void
nt_load(const struct state_notice *s, void *arg)
{
	struct notice	*n;
	struct endpoint	*ep;

	json_object_set_new(nt_made, s->id, json_true());
	if (strcmp(s->state, "Pending") != 0 ||
	    (ep = nt_endpoint(s->endpoint)) == NULL)
		return;
	n = xcalloc(1, sizeof *n);
	n->id = xstrdup(s->id);
	n->ep = ep;
	n->event = xstrdup(s->event);
	n->capture = xstrdup(s->capture);
	n->body = xstrdup(s->body);
	n->attempts = s->attempts;
	n->at = s->at;
	TAILQ_INSERT_TAIL(&nt_live, n, entry);
	log_info("notify %s: %s of %s again after a restart", ep->conf->name,
	    n->event, n->capture);
	nt_send(n);
}

/* Reads an endpoint's secret files: 0, or -1 with *cause naming them. */
static int
nt_read_secrets(const struct conf_notify *c, char **secret, char **token,
    char **cause)
{
	char	field[128];

	snprintf(field, sizeof field, "notify.%s.hmac_secret_file", c->name);
	if (secret_read(c->hmac_secret_file, field, secret, cause) == -1)
		return (-1);
	snprintf(field, sizeof field, "notify.%s.token_file", c->name);
	if (secret_read(c->token_file, field, token, cause) == -1) {
		secret_free(*secret);
		*secret = NULL;
		return (-1);
	}
	return (0);
}

int
notify_check(const struct conf *conf, char **cause)
{
	char	*secret, *token;
	size_t	 i;

	for (i = 0; i < conf->notifies.n; i++) {
		if (nt_read_secrets((const struct conf_notify *)
		    conf->notifies.v + i, &secret, &token, cause) == -1)
			return (-1);
		secret_free(secret);
		secret_free(token);
	}
	return (0);
}

int
notify_init(struct event_base *base, const struct conf *conf, char **cause)
{
	struct endpoint	*ep;
	char		*since = NULL, buf[32];
	size_t		 i, k, e;

	nt_base = base;
	nt_neps = conf->notifies.n;
	if (nt_neps == 0)
		return (0);
	nt_eps = xcalloc(nt_neps, sizeof *nt_eps);
	for (i = 0; i < nt_neps; i++) {
		ep = &nt_eps[i];
		ep->conf = (const struct conf_notify *)conf->notifies.v + i;
		ep->grafana = strcmp(ep->conf->type, "grafana-annotation") == 0;
		for (k = 0; k < ep->conf->events.n; k++)
			for (e = 0; e < NT_NEVENTS; e++)
				if (strcmp(((char **)ep->conf->events.v)[k],
				    nt_events[e]) == 0)
					ep->events |= 1U << e;
		if (nt_read_secrets(ep->conf, &ep->secret, &ep->token,
		    cause) == -1)
			return (-1);
	}
	/* Captures from before notifications were first configured: none. */
	state_meta_get("notify_since", &since);
	if (since == NULL) {
		nt_since = now_us();
		snprintf(buf, sizeof buf, "%lld", (long long)nt_since);
		if (state_meta_put("notify_since", buf, cause) == -1)
			return (-1);
	} else
		nt_since = strtoll(since, NULL, 10);
	free(since);
	if (httpc_open(base, cause) == -1)
		return (-1);
	nt_made = json_object();
	if (state_notice_prune(now_us() - NT_KEEP_US, cause) == -1 ||
	    state_notice_load(nt_load, NULL, cause) == -1)
		return (-1);
	metrics_register(nt_metrics, NULL);
	session_add_observer(nt_observe, NULL);
	log_info("notify: %zu endpoint(s)", nt_neps);
	return (0);
}

void
notify_shutdown(void)
{
	struct notice	*n;
	size_t		 i;

	if (nt_neps == 0)
		return;
	session_remove_observer(nt_observe, NULL);
	metrics_unregister(nt_metrics);
	/* What is not sent stays Pending in the store, for the next start. */
	while ((n = TAILQ_FIRST(&nt_live)) != NULL) {
		TAILQ_REMOVE(&nt_live, n, entry);
		nt_free(n);
	}
	httpc_close();
	for (i = 0; i < nt_neps; i++) {
		secret_free(nt_eps[i].secret);
		secret_free(nt_eps[i].token);
	}
	free(nt_eps);
	nt_eps = NULL;
	nt_neps = 0;
	json_decref(nt_made);
	nt_made = NULL;
}
