/*
 * Readiness checks (ready.h). The quick ones are answered at once; a
 * storage account is probed through the upload engine (an empty object
 * put, so "writable" is what is tested, with the account's own
 * credentials), a notify endpoint by a request on a multi handle of our
 * own, all in the loop and within one deadline.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "capture-pcap.h"
#include "conf.h"
#include "httpc.h"
#include "input-mqtt.h"
#include "log.h"
#include "ready.h"
#include "session.h"
#include "upload.h"
#include "util.h"
#include "xmalloc.h"

#define READY_DEADLINE_S	10
#define READY_PROBE_S		5

/* One check that answers later: a storage account or a notify endpoint. */
struct probe {
	struct ready_run	*run;	/* NULL once the run is over */
	json_t			*check;	/* its entry; NULL once answered */
	int			 storage;	/* through the upload engine */
	int			 grafana;	/* a Grafana endpoint */
	struct httpc_req	*req;	/* an endpoint's request in flight */
	struct probe		*next;
};

struct ready_run {
	ready_cb		 cb;
	void			*arg;
	json_t			*report;
	json_t			*checks;
	int			 pending;
	struct probe		*probes;
	struct event		*deadline;
};

static struct event_base	*rd_base;
static const struct conf	*rd_conf;
static int			 rd_daemon;
static int			 rd_http;	/* holds the HTTP helper open */

/* Adds a check's entry (new, borrowed back) to the report. */
static json_t *
rd_check(struct ready_run *r, const char *name, int ok, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
static json_t *
rd_check(struct ready_run *r, const char *name, int ok, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*reason;
	json_t	*c;

	va_start(ap, fmt);
	reason = xvasprintf(fmt, ap);
	va_end(ap);
	c = json_pack("{s:s, s:b, s:s}", "check", name, "ok", ok, "reason",
	    reason);
	free(reason);
	json_array_append_new(r->checks, c);
	return (c);
}

static void
rd_set(json_t *check, int ok, const char *reason)
{
	json_object_set_new(check, "ok", json_boolean(ok));
	json_object_set_new(check, "reason", json_string(reason));
}

/* Every check is in (or the deadline came): the report, once. */
static void
rd_finish(struct ready_run *r)
{
	struct probe	*p, *next;
	json_t		*c;
	size_t		 i;
	int		 ok = 1;

	for (p = r->probes; p != NULL; p = next) {
		next = p->next;
		httpc_cancel(p->req);
		if (p->storage && p->check != NULL)
			p->run = NULL;	/* the engine's callback frees it */
		else
			free(p);
	}
	json_array_foreach(r->checks, i, c)
		if (!json_is_true(json_object_get(c, "ok")))
			ok = 0;
	json_object_set_new(r->report, "status", json_string(ok ? "ready" :
	    "not ready"));
	if (r->deadline != NULL)
		event_free(r->deadline);
	if (r->cb != NULL)	/* else the asker went away */
		r->cb(ok, r->report, r->arg);
	json_decref(r->report);
	free(r);
}

static void
rd_deadline(evutil_socket_t fd, short events, void *arg)
{
	struct ready_run	*r = arg;
	struct probe		*p;

	for (p = r->probes; p != NULL; p = p->next)
		if (p->check != NULL)
			rd_set(p->check, 0, "no answer within the deadline");
	rd_finish(r);
}

/* A probe answered: the run is over when it was the last. */
static void
rd_answered(struct ready_run *r)
{
	if (--r->pending == 0) {
		event_del(r->deadline);
		rd_finish(r);
	}
}

/* The upload engine's word on a storage probe. */
static void
rd_upload_cb(const char *capture, const char *account, json_t *entry,
    int final, void *arg)
{
	struct probe	*p = arg;
	const char	*err;
	char		*why;

	if (!final)
		return;
	if (p->run != NULL) {
		err = json_string_value(json_object_get(entry, "last_error"));
		if (upload_entry_state(entry) == UPLOAD_UPLOADED) {
			why = xasprintf("writable: put %s",
			    json_string_value(json_object_get(entry, "uri")));
			rd_set(p->check, 1, why);
			free(why);
		} else
			rd_set(p->check, 0, err != NULL ? err : "failed");
		p->check = NULL;
		rd_answered(p->run);
		return;
	}
	free(p);	/* its run is over */
}

/* A notify endpoint answered, or did not. */
static void
rd_http_done(struct httpc_req *req, const struct httpc_result *res,
    void *arg)
{
	struct probe	*p = arg;
	long		 status = res->status;
	char		*why;
	int		 ok;

	p->req = NULL;		/* httpc frees it */
	/* A webhook answers whatever it answers a HEAD; Grafana, healthy. */
	ok = res->error == NULL && (p->grafana ? status / 100 == 2 :
	    status > 0);
	why = res->error != NULL ? xstrdup(res->error) :
	    xasprintf("answers (HTTP %ld)", status);
	rd_set(p->check, ok, why);
	free(why);
	p->check = NULL;
	rd_answered(p->run);
}

static void
rd_probe_endpoint(struct ready_run *r, const struct conf_notify *n)
{
	struct probe	*p;
	char		 name[128];
	char		*url;
	int		 grafana = strcmp(n->type, "grafana-annotation") == 0;

	snprintf(name, sizeof name, "notify.%s", n->name);
	p = xcalloc(1, sizeof *p);
	p->run = r;
	p->check = rd_check(r, name, 0, "asked");
	p->grafana = grafana;
	url = grafana ? xasprintf("%s/api/health", n->url) : xstrdup(n->url);
	p->req = httpc_new(grafana ? "GET" : "HEAD", url);
	free(url);
	if (!grafana)
		httpc_opt_num(p->req, "nobody", 1);
	httpc_opt_num(p->req, "timeout", READY_PROBE_S);
	httpc_opt_str(p->req, "useragent", "alertcap/" VERSION);
	httpc_opt_str(p->req, "protocols", "http,https");
	p->next = r->probes;
	r->probes = p;
	r->pending++;
	httpc_send(p->req, rd_http_done, p);
}

static void
rd_probe_account(struct ready_run *r, const struct conf_account *a)
{
	struct probe	*p;
	char		 name[128];

	snprintf(name, sizeof name, "storage.%s", a->name);
	p = xcalloc(1, sizeof *p);
	p->run = r;
	p->check = rd_check(r, name, 0, "asked");
	p->storage = 1;
	p->next = r->probes;
	r->probes = p;
	r->pending++;
	upload_probe(a->name, rd_conf->node != NULL ? rd_conf->node :
	    "readyz", rd_upload_cb, p);
}

/* -t --online: can a TCP connection to host:port be made within 3 s? */
static int
rd_connect(const char *host, long long port, char **why)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct pollfd	 pfd;
	char		 svc[16];
	socklen_t	 len;
	int		 fd, err = 0, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(svc, sizeof svc, "%lld", port);
	if ((rc = getaddrinfo(host, svc, &hints, &res)) != 0) {
		*why = xasprintf("%s: %s", host, gai_strerror(rc));
		return (-1);
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0)) == -1)
			continue;
		err = 0;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			err = errno;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (err == EINPROGRESS && poll(&pfd, 1, 3000) == 1) {
				len = sizeof err;
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			} else if (err == EINPROGRESS)
				err = ETIMEDOUT;
		}
		close(fd);
		if (err == 0)
			break;
	}
	freeaddrinfo(res);
	if (err != 0 || ai == NULL) {
		*why = xasprintf("%s:%lld: %s", host, port, strerror(err != 0 ?
		    err : EHOSTUNREACH));
		return (-1);
	}
	return (0);
}

/* The capture permission, the rings' interfaces, the broker, the disk. */
static void
rd_quick(struct ready_run *r)
{
	const struct conf_lookback	*l;
	struct statvfs			 vfs;
	json_t				*b;
	char				*why = NULL, name[96];
	size_t				 i, k;
	int				 replayed;

	if (capture_permitted(rd_conf->replays.n > 0, &why) == 0)
		rd_check(r, "capture", 1, "capture sockets can be opened");
	else
		rd_check(r, "capture", 0, "%s", why);
	free(why);
	why = NULL;
	for (i = 0; i < rd_conf->lookbacks.n; i++) {
		l = (const struct conf_lookback *)rd_conf->lookbacks.v + i;
		snprintf(name, sizeof name, "lookback.%.64s", l->name);
		for (k = 0, replayed = 0; k < rd_conf->replays.n; k++)
			if (strcmp(((const struct conf_replay *)
			    rd_conf->replays.v)[k].name, l->name) == 0)
				replayed = 1;
		if (strcmp(l->name, "any") == 0 || replayed ||
		    if_nametoindex(l->name) != 0)
			rd_check(r, name, 1, "interface %s is there", l->name);
		else
			rd_check(r, name, 0, "no interface %s", l->name);
	}
	if (rd_conf->has_mqtt) {
		if (rd_daemon && mqtt_connected())
			rd_check(r, "broker", 1, "connected to %s:%lld",
			    rd_conf->mqtt_host, rd_conf->mqtt_port);
		else if (rd_daemon)
			rd_check(r, "broker", 0, "not connected to %s:%lld",
			    rd_conf->mqtt_host, rd_conf->mqtt_port);
		else if (rd_connect(rd_conf->mqtt_host, rd_conf->mqtt_port,
		    &why) == 0)
			rd_check(r, "broker", 1, "%s:%lld takes connections",
			    rd_conf->mqtt_host, rd_conf->mqtt_port);
		else
			rd_check(r, "broker", 0, "%s", why);
		free(why);
	}
	if (rd_daemon) {
		b = session_budget();
		rd_check(r, "disk", json_integer_value(json_object_get(b,
		    "free_bytes")) > 0, "%lld of captures.max_total_bytes "
		    "%lld free (%lld kept, %lld reserved by %lld running)",
		    (long long)json_integer_value(json_object_get(b,
		    "free_bytes")), (long long)json_integer_value(
		    json_object_get(b, "max_total_bytes")), (long long)
		    json_integer_value(json_object_get(b, "kept_bytes")),
		    (long long)json_integer_value(json_object_get(b,
		    "reserved_bytes")), (long long)json_integer_value(
		    json_object_get(b, "running")));
		json_decref(b);
	}
	if (statvfs(rd_conf->captures_root, &vfs) == 0)
		rd_check(r, "filesystem", vfs.f_bavail > 0, "%llu bytes free "
		    "on captures.root", (unsigned long long)vfs.f_bavail *
		    vfs.f_frsize);
	else if (errno == ENOENT)
		rd_check(r, "filesystem", 1, "captures.root %s is made at "
		    "start", rd_conf->captures_root);
	else
		rd_check(r, "filesystem", 0, "captures.root %s: %s",
		    rd_conf->captures_root, strerror(errno));
}

void
ready_init(struct event_base *base, const struct conf *conf, int daemon)
{
	char	*cause = NULL;

	rd_base = base;
	rd_conf = conf;
	rd_daemon = daemon;
	rd_http = 0;
	if (conf->notifies.n > 0) {
		/* A helper that cannot start fails the endpoints' checks. */
		if (httpc_open(base, &cause) == -1) {
			log_error("%s", cause);
			free(cause);
		} else
			rd_http = 1;
	}
}

void
ready_shutdown(void)
{
	if (rd_http)
		httpc_close();
	rd_http = 0;
	rd_conf = NULL;
}

struct ready_run *
ready_start(ready_cb cb, void *arg)
{
	struct ready_run	*r;
	struct timeval		 tv = { READY_DEADLINE_S, 0 };
	size_t			 i;

	r = xcalloc(1, sizeof *r);
	r->cb = cb;
	r->arg = arg;
	r->checks = json_array();
	r->report = json_pack("{s:s, s:o}", "status", "checking", "checks",
	    r->checks);
	r->deadline = evtimer_new(rd_base, rd_deadline, r);
	/* Held while probes start: one may answer before the rest exist. */
	r->pending = 1;
	rd_quick(r);
	for (i = 0; i < rd_conf->accounts.n; i++)
		rd_probe_account(r, (const struct conf_account *)
		    rd_conf->accounts.v + i);
	for (i = 0; i < rd_conf->notifies.n; i++)
		rd_probe_endpoint(r, (const struct conf_notify *)
		    rd_conf->notifies.v + i);
	if (--r->pending == 0)
		tv.tv_sec = 0;	/* nothing to wait for: the next loop turn */
	evtimer_add(r->deadline, &tv);
	return (r);
}

void
ready_cancel(struct ready_run *r)
{
	r->cb = NULL;
}
