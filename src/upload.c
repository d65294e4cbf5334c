/*
 * The upload engine: requests through the HTTP helper (httpc.c), a
 * queue with a cap on uploads at once, retries with backoff and jitter up
 * to the account's max_age_s, and the per-job state machine the backends
 * step through.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "compat.h"
#include "httpc.h"
#include "log.h"
#include "metrics.h"
#include "pcapfile.h"
#include "upload-int.h"
#include "util.h"

#define UP_MAX_RESPONSE		(1024 * 1024)
#define UP_RETRY_MAX_S		300
#define UP_BUFFER		(256L * 1024)	/* curl reads the file in these */
#define UP_CONNECT_S		10
#define UP_LOW_SPEED_S		60	/* under 1 byte/s this long: stalled */

static struct event_base	*up_base;
static int			 up_http;	/* 0: no account */
static struct event		*up_kick_ev;
static struct upaccount		*up_accounts;
static size_t			 up_naccounts;
static long long		 up_concurrency;
static int			 up_running;
static TAILQ_HEAD(, upjob)	 up_queue = TAILQ_HEAD_INITIALIZER(up_queue);
static TAILQ_HEAD(, upjob)	 up_active = TAILQ_HEAD_INITIALIZER(up_active);
/* Backing off until their next attempt (so shut-down finds them too). */
static TAILQ_HEAD(, upjob)	 up_waiting = TAILQ_HEAD_INITIALIZER(up_waiting);

static struct {
	uint64_t	submitted;
	uint64_t	uploaded;
	uint64_t	failed;
	uint64_t	retries;
	uint64_t	requests;
	uint64_t	bytes;
} up_stats;

static void
metric_uploads(struct metric_out *o, void *arg)
{
	metric_u64(o, up_stats.submitted, "state", "submitted", (char *)NULL);
	metric_u64(o, up_stats.uploaded, "state", "Uploaded", (char *)NULL);
	metric_u64(o, up_stats.failed, "state", "Failed", (char *)NULL);
}

static void
metric_running(struct metric_out *o, void *arg)
{
	metric_u64(o, (uint64_t)up_running, (char *)NULL);
}

static const struct metric up_metrics[] = {
	METRIC_READ("alertcap_uploads_total", COUNTER,
	    "Uploads by outcome.", metric_uploads, NULL),
	METRIC_VALUE("alertcap_upload_retries_total", COUNTER,
	    "Attempts that failed and were retried.", &up_stats.retries),
	METRIC_VALUE("alertcap_upload_requests_total", COUNTER,
	    "HTTP requests made.", &up_stats.requests),
	METRIC_VALUE("alertcap_upload_bytes_total", COUNTER,
	    "File bytes sent.", &up_stats.bytes),
	METRIC_READ("alertcap_uploads_running", GAUGE,
	    "Uploads in progress.", metric_running, NULL),
	METRIC_END
};

static void	job_step(struct upjob *);
static void	up_submit(const struct upload_spec *, upload_cb, void *, int);

static struct upaccount *
up_account(const char *name)
{
	size_t	i;

	for (i = 0; i < up_naccounts; i++)
		if (strcmp(up_accounts[i].conf->name, name) == 0)
			return (&up_accounts[i]);
	return (NULL);
}

int
upload_account_exists(const char *name, void *unused)
{
	return (name != NULL && up_account(name) != NULL);
}

static const char *up_state_names[] = {
	[UPLOAD_PENDING] = "Pending",
	[UPLOAD_UPLOADING] = "Uploading",
	[UPLOAD_UPLOADED] = "Uploaded",
	[UPLOAD_FAILED] = "Failed",
};

const char *
upload_state_name(enum upload_state st)
{
	return (up_state_names[st]);
}

enum upload_state
upload_entry_state(json_t *entry)
{
	const char	*s = json_string_value(json_object_get(entry, "state"));
	size_t		 i;

	for (i = 0; s != NULL && i < sizeof up_state_names /
	    sizeof *up_state_names; i++)
		if (strcmp(up_state_names[i], s) == 0)
			return ((enum upload_state)i);
	return (UPLOAD_PENDING);
}

json_t *
upload_entry_new(const char *account)
{
	return (json_pack("{s:s, s:n, s:s, s:i, s:n}", "account", account,
	    "uri", "state", upload_state_name(UPLOAD_PENDING), "attempts", 0,
	    "last_error"));
}

/*
 * Writes a state into an entry: last_error becomes cause when one is
 * given, and is cleared on Uploaded; otherwise it stays.
 */
static void
entry_set_state(json_t *entry, enum upload_state st, const char *cause)
{
	json_object_set_new(entry, "state", json_string(upload_state_name(st)));
	if (cause != NULL)
		json_object_set_new(entry, "last_error", json_string(cause));
	else if (st == UPLOAD_UPLOADED)
		json_object_set_new(entry, "last_error", json_null());
}

/* Tells the owner of the job what changed. */
static void
job_report(struct upjob *j, int final)
{
	j->cb(j->capture, j->acct->conf->name, j->entry, final, j->arg);
}

/*
 * The one place an upload changes state: logs old -> new, writes the
 * entry and reports it to the owner (final once Uploaded or Failed).
 */
static void
job_set_state(struct upjob *j, enum upload_state st, const char *cause)
{
	enum upload_state	old = upload_entry_state(j->entry);

	log_debug("upload %s -> %s: %s -> %s", j->capture,
	    j->acct->conf->name, upload_state_name(old),
	    upload_state_name(st));
	entry_set_state(j->entry, st, cause);
	job_report(j, st == UPLOAD_UPLOADED || st == UPLOAD_FAILED);
}

static void
req_clear(struct upreq *r)
{
	httpc_free(r->req);
	r->req = NULL;
	dynbuf_reset(&r->body);
	free(r->etag);
	r->etag = NULL;
	r->sent = 0;
	r->part = -1;
}

/*
 * Takes every request of the job out of flight; the parts they carried
 * are to be sent again.
 */
static void
job_cancel(struct upjob *j)
{
	struct upreq	*r;
	int		 i;

	for (i = 0; i < j->nreqs; i++) {
		r = &j->reqs[i];
		if (r->busy) {
			httpc_cancel(r->req);
			r->req = NULL;
			r->busy = 0;
			j->busy--;
		}
		if (r->part >= 0 && j->parts[r->part] == UP_PART_SENDING)
			j->parts[r->part] = UP_PART_TODO;
		r->part = -1;
	}
}

/* Frees a job and everything it holds (its slots, file, timer). */
static void
job_free(struct upjob *j)
{
	int	i;

	job_cancel(j);
	for (i = 0; i < j->nreqs; i++) {
		req_clear(&j->reqs[i]);
		dynbuf_free(&j->reqs[i].body);
	}
	free(j->reqs);
	free(j->parts);
	if (j->fd != -1)
		close(j->fd);
	if (j->retry_ev != NULL)
		event_free(j->retry_ev);
	json_decref(j->entry);
	free(j->capture);
	free(j->path);
	free(j->object);
	free(j->node);
	free(j->uri);
	free(j);
}

static void
up_kick(void)
{
	event_active(up_kick_ev, 0, 0);
}

/* Uploaded or Failed: report, free, and let the next one start. */
static void
job_finish(struct upjob *j, int ok, const char *cause)
{
	double	secs;

	job_cancel(j);
	TAILQ_REMOVE(&up_active, j, entry_q);
	up_running--;
	if (ok && j->probe) {
		json_object_set_new(j->entry, "uri", json_string(j->uri));
		json_object_del(j->entry, "progress");
	} else if (j->probe)
		log_warn("storage %s: not ready: %s", j->acct->conf->name,
		    cause);
	else if (ok) {
		json_object_set_new(j->entry, "uri", json_string(j->uri));
		json_object_del(j->entry, "progress");
		up_stats.uploaded++;
		secs = (double)(now_us() - j->attempt_us) / 1e6;
		log_info("upload %s -> %s: uploaded as %s (%llu bytes in "
		    "%.3f s, %.1f MiB/s)", j->capture, j->acct->conf->name,
		    j->uri, (unsigned long long)j->size, secs, secs > 0 ?
		    (double)j->size / 1048576 / secs : 0.0);
	} else {
		up_stats.failed++;
		log_error("upload %s -> %s: failed: %s", j->capture,
		    j->acct->conf->name, cause);
	}
	job_set_state(j, ok ? UPLOAD_UPLOADED : UPLOAD_FAILED, ok ? NULL :
	    cause);
	job_free(j);
	up_kick();
}

static void
job_retry_now(evutil_socket_t fd, short events, void *arg)
{
	struct upjob	*j = arg;

	TAILQ_REMOVE(&up_waiting, j, entry_q);
	TAILQ_INSERT_HEAD(&up_queue, j, entry_q);
	up_kick();
}

/* A transient failure: back off (1 s doubling, jittered) and try again. */
static void
job_retry(struct upjob *j, const char *cause)
{
	struct timeval	 tv;
	json_int_t	 attempts;
	double		 delay;

	if (j->probe || now_us() - j->first_try_us >
	    j->acct->conf->max_age_s * 1000000) {
		job_finish(j, 0, cause);	/* too old, or a probe: done */
		return;
	}
	job_cancel(j);
	TAILQ_REMOVE(&up_active, j, entry_q);
	up_running--;
	up_stats.retries++;
	attempts = json_integer_value(json_object_get(j->entry, "attempts"));
	job_set_state(j, UPLOAD_PENDING, cause);
	backoff_delay((unsigned int)attempts, UP_RETRY_MAX_S, &tv);
	delay = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
	log_warn("upload %s -> %s: attempt %lld failed (%s); again in %.1fs",
	    j->capture, j->acct->conf->name, (long long)attempts,
	    cause, delay);
	if (j->retry_ev == NULL)
		j->retry_ev = evtimer_new(up_base, job_retry_now, j);
	TAILQ_INSERT_TAIL(&up_waiting, j, entry_q);
	evtimer_add(j->retry_ev, &tv);
	up_kick();
}

/*
 * The response to one request has arrived (or the request failed): what
 * the backend reads of it is copied to the slot before it is judged.
 */
static void
job_response(struct httpc_req *req, const struct httpc_result *res,
    void *arg)
{
	struct upreq	*r = arg;
	struct upjob	*j = r->job;
	enum up_verdict	 v;
	char		*cause = NULL;

	r->req = NULL;		/* httpc frees it */
	r->busy = 0;
	j->busy--;
	if (res->error != NULL) {
		job_retry(j, res->error);
		return;
	}
	dynbuf_reset(&r->body);
	(void)dynbuf_add(&r->body, res->body, res->body_len);
	free(r->etag);
	r->etag = res->etag != NULL ? xstrdup(res->etag) : NULL;
	r->sent = res->sent;
	v = j->acct->ops->done(j, r, res->status, &cause);
	switch (v) {
	case UP_NEXT:
		up_stats.bytes += r->sent;
		r->part = -1;
		job_report(j, 0);
		job_step(j);
		break;
	case UP_RETRY:
		job_retry(j, cause != NULL ? cause : "retry");
		break;
	case UP_FAIL:
		job_finish(j, 0, cause != NULL ? cause : "failed");
		break;
	}
	free(cause);
}

/* Asks the backend for requests on the idle slots, or finishes. */
static void
job_step(struct upjob *j)
{
	struct upreq	*r;
	enum up_step	 st = UP_WAIT;
	char		*cause = NULL;
	int		 i;

	for (i = 0; i < j->nreqs; i++) {
		r = &j->reqs[i];
		if (r->busy)
			continue;
		req_clear(r);
		st = j->acct->ops->next(j, r, &cause);
		if (st != UP_STARTED)
			break;
		httpc_header(r->req, "Expect:");
		up_stats.requests++;
		r->busy = 1;
		j->busy++;
		httpc_send(r->req, job_response, r);
	}
	if (st == UP_COMMITTED && j->busy == 0)
		job_finish(j, 1, NULL);
	else if (st == UP_ERROR) {
		job_finish(j, 0, cause);
		free(cause);
	} else if (j->busy == 0)
		job_finish(j, 0, "the uploader found nothing to send");
}

static void	up_drop_idle(void);

/* Starts queued jobs while there is room. */
static void
up_start_queued(evutil_socket_t fd, short events, void *arg)
{
	struct upjob	*j;
	json_int_t	 attempts;

	while (up_running < up_concurrency &&
	    (j = TAILQ_FIRST(&up_queue)) != NULL) {
		TAILQ_REMOVE(&up_queue, j, entry_q);
		TAILQ_INSERT_TAIL(&up_active, j, entry_q);
		up_running++;
		j->attempt_us = now_us();
		if (j->first_try_us == 0)
			j->first_try_us = j->attempt_us;
		attempts = json_integer_value(json_object_get(j->entry,
		    "attempts"));
		json_object_set_new(j->entry, "attempts",
		    json_integer(attempts + 1));
		job_set_state(j, UPLOAD_UPLOADING, NULL);
		job_step(j);
	}
	up_drop_idle();
}

void
up_request(struct upreq *r, const char *method, const char *url)
{
	httpc_free(r->req);
	r->req = httpc_new(method, url);
	httpc_opt_num(r->req, "connect_timeout", UP_CONNECT_S);
	httpc_opt_num(r->req, "low_speed_limit", 1);
	httpc_opt_num(r->req, "low_speed_time", UP_LOW_SPEED_S);
	httpc_opt_num(r->req, "upload_buffersize", UP_BUFFER);
	if (log_get_level() >= LOG_LVL_DEBUG)
		httpc_opt_num(r->req, "verbose", 1);
	if (strcmp(method, "POST") == 0)
		httpc_body_text(r->req, "", 0);
}

void
up_header(struct upreq *r, const char *fmt, ...)
{
	va_list	 ap;
	char	*h;

	va_start(ap, fmt);
	h = xvasprintf(fmt, ap);
	va_end(ap);
	httpc_header(r->req, h);
	free(h);
}

void
up_body_file(struct upreq *r, uint64_t off, uint64_t len)
{
	httpc_body_file(r->req, r->job->fd, off, len);
}

void
up_body_text(struct upreq *r, const char *text)
{
	httpc_body_text(r->req, text, strlen(text));
}

char *
up_xml_tag(const struct upreq *r, const char *tag)
{
	const char	*b, *e;
	char		 open[64], close[64];

	if (r->body.buf == NULL)
		return (NULL);
	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if ((b = strstr(r->body.buf, open)) == NULL)
		return (NULL);
	b += strlen(open);
	if ((e = strstr(b, close)) == NULL)
		return (NULL);
	return (xstrndup(b, (size_t)(e - b)));
}

char *
up_service_error(const struct upreq *r, long status)
{
	char	*code, *msg, *s;

	code = up_xml_tag(r, "Code");
	msg = up_xml_tag(r, "Message");
	if (code != NULL || msg != NULL)
	{
		if (msg != NULL)
			msg[strcspn(msg, "\r\n")] = '\0';
		s = xasprintf("HTTP %ld: %s%s%s", status, code != NULL ? code :
		    "", code != NULL && msg != NULL ? ": " : "", msg != NULL ?
		    msg : "");
	}
	else
		s = xasprintf("HTTP %ld%s%.200s", status, r->body.len > 0 ?
		    ": " : "", r->body.len > 0 ? r->body.buf : "");
	free(code);
	free(msg);
	return (s);
}

char *
up_escape_path(const char *p)
{
	static const char	hex[] = "0123456789ABCDEF";
	struct dynbuf		d;
	unsigned char		c;
	char			e[3];

	dynbuf_init(&d, 64 * 1024);
	for (; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.~/", c) != NULL)
			dynbuf_add(&d, p, 1);
		else {
			e[0] = '%';
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			dynbuf_add(&d, e, 3);
		}
	}
	return (dynbuf_take(&d));
}

void
up_part_range(const struct upjob *j, uint64_t i, uint64_t *off,
    uint64_t *len)
{
	uint64_t	bs = (uint64_t)j->acct->conf->block_size;

	*off = i * bs;
	*len = i == j->nparts - 1 ? j->size - *off : bs;
}

int64_t
up_part_take(struct upjob *j)
{
	uint64_t	i;

	for (i = 0; i < j->nparts; i++) {
		if (j->parts[i] == UP_PART_TODO) {
			j->parts[i] = UP_PART_SENDING;
			return ((int64_t)i);
		}
	}
	return (-1);
}

void
up_part_set(struct upjob *j, uint64_t i, enum up_part st)
{
	if (i < j->nparts)
		j->parts[i] = (uint8_t)st;
}

uint64_t
up_parts_prefix(const struct upjob *j)
{
	uint64_t	i;

	for (i = 0; i < j->nparts && j->parts[i] == UP_PART_DONE; i++)
		continue;
	return (i);
}

void
up_parts_reset(struct upjob *j)
{
	memset(j->parts, UP_PART_TODO, j->nparts);
}

/*
 * A continuous capture's files each need their own name: a template
 * without {seq} gets _SEQ before the extension of its last component
 * (or at the end), as the files on the node are named.
 */
static void
up_insert_seq(struct dynbuf *d, uint32_t seq)
{
	char	*name, *slash, *dot, *q;

	name = dynbuf_take(d);
	dynbuf_init(d, 4096);
	slash = strrchr(name, '/');
	dot = strrchr(slash != NULL ? slash : name, '.');
	q = strchr(slash != NULL ? slash : name, '?');
	if (dot == NULL || (q != NULL && q < dot))
		dot = q;
	if (dot == NULL)
		dynbuf_addf(d, "%s_%06u", name, seq);
	else
		dynbuf_addf(d, "%.*s_%06u%s", (int)(dot - name), name, seq, dot);
	free(name);
}

/* The extension {ext} stands for: a capture file's, or a context file's. */
static const char *
up_file_ext(const char *path)
{
	size_t	n = strlen(path);

	if (n > 13 && strcmp(path + n - 13, ".context.json") == 0)
		return ("context.json");
	return (pcapfmt_ext(pcapfile_format(path)));
}

const char *
up_content_type(const char *path)
{
	size_t	n = strlen(path);

	if (n > 5 && strcmp(path + n - 5, ".json") == 0)
		return ("application/json");
	return (pcapfile_content_type(path));
}

/* Renders a template of the account (object name, URL). */
char *
up_render(const struct upjob *j, const char *tmpl)
{
	struct dynbuf	 d;
	struct tm	 tm;
	time_t		 t = (time_t)(j->created_us / 1000000);
	const char	*p, *e;
	char		 v[40], key[16];
	size_t		 n;

	gmtime_r(&t, &tm);
	dynbuf_init(&d, 4096);
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '{' || (e = strchr(p, '}')) == NULL ||
		    (n = (size_t)(e - p - 1)) >= sizeof key) {
			dynbuf_add(&d, p, 1);
			continue;
		}
		memcpy(key, p + 1, n);
		key[n] = '\0';
		if (strcmp(key, "node") == 0)
			dynbuf_addf(&d, "%s", j->node);
		else if (strcmp(key, "name") == 0)
			dynbuf_addf(&d, "%s", j->capture);
		else if (strcmp(key, "path") == 0 && j->object != NULL)
			dynbuf_addf(&d, "%s", j->object);
		else if (strcmp(key, "created") == 0)
			dynbuf_addf(&d, "%s", time_compact(v, sizeof v,
			    j->created_us));
		else if (strcmp(key, "yyyy") == 0)
			dynbuf_addf(&d, "%04d", tm.tm_year + 1900);
		else if (strcmp(key, "mm") == 0)
			dynbuf_addf(&d, "%02d", tm.tm_mon + 1);
		else if (strcmp(key, "dd") == 0)
			dynbuf_addf(&d, "%02d", tm.tm_mday);
		else if (strcmp(key, "hh") == 0)
			dynbuf_addf(&d, "%02d", tm.tm_hour);
		else if (strcmp(key, "ext") == 0)
			dynbuf_addf(&d, "%s", up_file_ext(j->path));
		else if (strcmp(key, "seq") == 0)
			dynbuf_addf(&d, "%06u", j->seq);
		else {
			dynbuf_add(&d, p, 1);
			continue;
		}
		p = e;
	}
	if (j->seq != 0 && strstr(tmpl, "{seq}") == NULL &&
	    strstr(tmpl, "{path}") == NULL)
		up_insert_seq(&d, j->seq);
	return (dynbuf_take(&d));
}


void
upload_submit(const struct upload_spec *s, upload_cb cb, void *arg)
{
	up_submit(s, cb, arg, 0);
}

void
upload_probe(const char *account, const char *node, upload_cb cb, void *arg)
{
	struct upload_spec	s;
	json_t			*e = upload_entry_new(account);

	memset(&s, 0, sizeof s);
	s.capture = "alertcap-readyz";
	s.account = account;
	s.path = "/dev/null";	/* an empty body */
	s.node = node;
	s.entry = e;
	up_submit(&s, cb, arg, 1);
	json_decref(e);
}

/* upload_submit, or (probe) upload_probe's one uncounted attempt. */
static void
up_submit(const struct upload_spec *s, upload_cb cb, void *arg, int probe)
{
	struct upjob	*j;
	struct stat	 st;
	char		*cause;
	uint64_t	 bs;
	int		 i;

	j = xcalloc(1, sizeof *j);
	j->capture = xstrdup(s->capture);
	j->path = xstrdup(s->path);
	j->entry = json_deep_copy(s->entry);
	j->cb = cb;
	j->arg = arg;
	j->fd = -1;
	if (!(j->probe = probe))
		up_stats.submitted++;
	if ((j->acct = up_account(s->account)) == NULL) {
		entry_set_state(j->entry, UPLOAD_FAILED, "no such storage "
		    "account in the configuration");
		cb(s->capture, s->account, j->entry, 1, arg);
		j->acct = NULL;
		json_decref(j->entry);
		j->entry = NULL;
		job_free(j);
		return;
	}
	if ((j->progress = json_object_get(j->entry, "progress")) == NULL) {
		j->progress = json_object();
		json_object_set_new(j->entry, "progress", j->progress);
	}
	j->node = xstrdup(s->node);
	j->created_us = s->created_us;
	j->seq = s->seq;
	j->object = probe ? xstrdup(s->capture) : up_render(j,
	    j->acct->conf->path);
	if ((j->fd = open(j->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(j->fd, &st) == -1) {
		cause = xasprintf("%s: %s", j->path, strerror(errno));
		TAILQ_INSERT_TAIL(&up_active, j, entry_q);	/* as finish wants */
		up_running++;
		job_finish(j, 0, cause);
		free(cause);
		return;
	}
	j->size = (uint64_t)st.st_size;
	bs = (uint64_t)j->acct->conf->block_size;
	j->nparts = j->size == 0 ? 1 : (j->size + bs - 1) / bs;
	j->parts = xcalloc(j->nparts, 1);
	j->nreqs = j->nparts > 1 ? (int)j->acct->conf->parallel : 1;
	j->reqs = xcalloc((size_t)j->nreqs, sizeof *j->reqs);
	for (i = 0; i < j->nreqs; i++) {
		j->reqs[i].job = j;
		j->reqs[i].part = -1;
		dynbuf_init(&j->reqs[i].body, UP_MAX_RESPONSE);
	}
	if (j->acct->ops->resume != NULL)
		j->acct->ops->resume(j);
	TAILQ_INSERT_TAIL(&up_queue, j, entry_q);
	up_kick();
}

/*
 * Nothing left to send: close the idle connections, so no server that
 * closed its side waits on ours (CLOSE-WAIT) until the next upload.
 */
static void
up_drop_idle(void)
{
	if (!up_http || up_running > 0 || !TAILQ_EMPTY(&up_queue))
		return;
	log_debug("uploads: queue drained; closing idle connections");
	httpc_drop_idle();
}

static const struct upload_ops *
up_ops(const char *type)
{
	static const struct upload_ops *all[] = { &upload_azure_ops,
	    &upload_s3_ops, &upload_http_ops, NULL };
	int	i;

	for (i = 0; all[i] != NULL; i++)
		if (strcmp(all[i]->type, type) == 0)
			return (all[i]);
	return (NULL);
}

/* Reads an account's secret file, if it names one, into *secret (new). */
static int
up_read_secret(const struct conf_account *a, char **secret, char **cause)
{
	const char	*sf;
	char		 field[128];

	sf = a->key_file != NULL ? a->key_file : a->sas_token_file != NULL ?
	    a->sas_token_file : a->secret_access_key_file;
	snprintf(field, sizeof field, "storage.%s", a->name);
	return (secret_read(sf, field, secret, cause));
}

int
upload_check(const struct conf *conf, char **cause)
{
	char	*secret;
	size_t	 i;

	for (i = 0; i < conf->accounts.n; i++) {
		if (up_read_secret((const struct conf_account *)
		    conf->accounts.v + i, &secret, cause) == -1)
			return (-1);
		secret_free(secret);
	}
	return (0);
}

int
upload_init(struct event_base *base, const struct conf *conf, char **cause)
{
	const struct conf_account	*a;
	size_t				 i;

	up_base = base;
	up_concurrency = conf->upload_concurrency;
	up_naccounts = conf->accounts.n;
	up_accounts = xcalloc(up_naccounts, sizeof *up_accounts);
	for (i = 0; i < up_naccounts; i++) {
		a = (const struct conf_account *)conf->accounts.v + i;
		up_accounts[i].conf = a;
		up_accounts[i].ops = up_ops(a->type);
		if (up_read_secret(a, &up_accounts[i].secret, cause) == -1)
			return (-1);
	}
	up_kick_ev = event_new(base, -1, 0, up_start_queued, NULL);
	metrics_register(up_metrics, NULL);
	if (up_naccounts == 0)
		return (0);	/* no helper needed */
	if (httpc_open(base, cause) == -1)
		return (-1);
	up_http = 1;
	log_info("uploads: %zu storage account(s), %lld at once",
	    up_naccounts, up_concurrency);
	return (0);
}

void
upload_shutdown(void)
{
	struct upjob	*j;
	size_t		 i;

	metrics_unregister(up_metrics);
	/* Unfinished uploads stay Pending/Uploading in their records. */
	while ((j = TAILQ_FIRST(&up_active)) != NULL) {
		TAILQ_REMOVE(&up_active, j, entry_q);
		job_free(j);
	}
	while ((j = TAILQ_FIRST(&up_queue)) != NULL) {
		TAILQ_REMOVE(&up_queue, j, entry_q);
		job_free(j);
	}
	while ((j = TAILQ_FIRST(&up_waiting)) != NULL) {
		TAILQ_REMOVE(&up_waiting, j, entry_q);
		job_free(j);
	}
	if (up_http)
		httpc_close();
	up_http = 0;
	if (up_kick_ev != NULL)
		event_free(up_kick_ev);
	up_kick_ev = NULL;
	for (i = 0; i < up_naccounts; i++)
		secret_free(up_accounts[i].secret);
	free(up_accounts);
	up_accounts = NULL;
	up_naccounts = 0;
}

