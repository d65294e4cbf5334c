/*
 * alertcap-http: alertcapd's HTTP helper. It carries out the requests
 * the daemon sends on descriptor 3 (httpmsg.h) with libcurl's multi
 * interface in a libevent loop (curlev.c), and answers each one. It
 * holds no capability and gains none: the process that talks TLS to
 * storage services and webhooks is not the one that may capture. It
 * ends with its input, or with the daemon.
 *
 * Kept apart from the daemon so that libcurl and what it loads (GnuTLS,
 * Kerberos, LDAP, libssh2: about 4 MiB resident) are not in the
 * capturing process at all, whose memory is its rings (docs/lookback.md).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "curlev.h"
#include "httpmsg.h"
#include "xmalloc.h"

#define HH_MAX_FDS	64	/* received and not yet claimed */

struct hreq {
	json_int_t		 id;
	CURL			*easy;
	struct curl_slist	*headers;
	char			*text;
	int			 fd;
	uint64_t		 off;
	uint64_t		 len;
	uint64_t		 sent;
	struct dynbuf		 body;
	char			*etag;
	int			 verbose;
	TAILQ_ENTRY(hreq)	 entry;
};

static struct event_base	*hh_base;
static struct curlev		*hh_cv;
static struct event		*hh_rd, *hh_wr, *hh_idle_ev;
static int			 hh_idle_wanted;
static struct evbuffer		*hh_in, *hh_out;
static int			 hh_fds[HH_MAX_FDS];
static int			 hh_nfds;
static TAILQ_HEAD(, hreq)	 hh_reqs = TAILQ_HEAD_INITIALIZER(hh_reqs);

/* The options a request may set, by the names httpc.h gives them. */
static const struct {
	const char	*name;
	CURLoption	 opt;
	int		 string;
} hh_opts[] = {
	{ "connect_timeout",	CURLOPT_CONNECTTIMEOUT,		0 },
	{ "timeout",		CURLOPT_TIMEOUT,		0 },
	{ "low_speed_limit",	CURLOPT_LOW_SPEED_LIMIT,	0 },
	{ "low_speed_time",	CURLOPT_LOW_SPEED_TIME,		0 },
	{ "upload_buffersize",	CURLOPT_UPLOAD_BUFFERSIZE,	0 },
	{ "nobody",		CURLOPT_NOBODY,			0 },
	{ "aws_sigv4",		CURLOPT_AWS_SIGV4,		1 },
	{ "userpwd",		CURLOPT_USERPWD,		1 },
	{ "useragent",		CURLOPT_USERAGENT,		1 },
	{ "protocols",		CURLOPT_PROTOCOLS_STR,		1 },
};

static void
die(const char *what)
{
	fprintf(stderr, "alertcap-http: %s\n", what);
	exit(1);
}

/* No capability kept, none to gain: the daemon's are for capturing. */
static void
drop_privileges(void)
{
	struct __user_cap_header_struct	hdr = { _LINUX_CAPABILITY_VERSION_3,
					    0 };
	struct __user_cap_data_struct	data[2];

	memset(data, 0, sizeof data);
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &hdr, data) == -1)
		die("cannot drop capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		die("cannot set no_new_privs");
}

static void
hh_flush(void)
{
	if (evbuffer_write(hh_out, HTTPMSG_FD) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		exit(0);	/* the daemon is gone */
	if (evbuffer_get_length(hh_out) > 0)
		event_add(hh_wr, NULL);
}

static void
hh_write(evutil_socket_t fd, short events, void *arg)
{
	hh_flush();
}

static void
hh_send(json_t *head, const void *body, size_t len)
{
	httpmsg_put(hh_out, head, body, len);
	json_decref(head);
	hh_flush();
}

static void
hh_free(struct hreq *r)
{
	TAILQ_REMOVE(&hh_reqs, r, entry);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	free(r->text);
	if (r->fd != -1)
		close(r->fd);
	dynbuf_free(&r->body);
	free(r->etag);
	free(r);
}

static size_t
hh_read_body(char *buf, size_t size, size_t n, void *arg)
{
	struct hreq	*r = arg;
	size_t		 want = size * n;
	ssize_t		 got;

	if (want > r->len - r->sent)
		want = (size_t)(r->len - r->sent);
	if (want == 0)
		return (0);
	got = pread(r->fd, buf, want, (off_t)(r->off + r->sent));
	if (got <= 0)
		return (CURL_READFUNC_ABORT);
	r->sent += (uint64_t)got;
	return ((size_t)got);
}

/*
 * libcurl rewinds a body it must send again (a redirect, a reused
 * connection the server had closed): it is read by offset, so any
 * point of it is a seek away.
 */
static int
hh_seek(void *arg, curl_off_t offset, int origin)
{
	struct hreq	*r = arg;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > r->len)
		return (CURL_SEEKFUNC_CANTSEEK);
	r->sent = (uint64_t)offset;
	return (CURL_SEEKFUNC_OK);
}

static size_t
hh_write_body(char *p, size_t size, size_t n, void *arg)
{
	struct hreq	*r = arg;

	/* A body past the cap is cut; only its start is ever read. */
	(void)dynbuf_add(&r->body, p, size * n);
	return (size * n);
}

static size_t
hh_header(char *p, size_t size, size_t n, void *arg)
{
	struct hreq	*r = arg;
	size_t		 len = size * n, skip;

	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		skip = 5 + strspn(p + 5, " \t");
		free(r->etag);
		r->etag = xstrndup(p + skip, len - skip);
		r->etag[strcspn(r->etag, "\r\n")] = '\0';
	}
	return (len);
}

/* libcurl's own messages, back to the daemon's log. */
static int
hh_debug(CURL *e, curl_infotype type, char *data, size_t size, void *arg)
{
	char	line[512];
	size_t	n;

	if (type != CURLINFO_TEXT && type != CURLINFO_HEADER_IN &&
	    type != CURLINFO_HEADER_OUT)
		return (0);
	n = size < sizeof line - 3 ? size : sizeof line - 3;
	line[0] = type == CURLINFO_TEXT ? '*' : type == CURLINFO_HEADER_IN ?
	    '<' : '>';
	line[1] = ' ';
	memcpy(line + 2, data, n);
	line[n + 2] = '\0';
	line[strcspn(line, "\r\n")] = '\0';
	hh_send(json_pack("{s:s, s:s%}", "t", "log", "line", line,
	    strlen(line)), NULL, 0);
	return (0);
}

/* A request is over: its answer (error NULL: an HTTP one) to the daemon. */
static void
hh_answer(struct hreq *r, const char *error, long status)
{
	hh_send(json_pack("{s:s, s:I, s:s?, s:i, s:s?, s:I}", "t", "done",
	    "id", r->id, "error", error, "status", (int)status, "etag",
	    r->etag, "sent", (json_int_t)r->sent), r->body.buf, r->body.len);
	hh_free(r);
	if (hh_idle_wanted && TAILQ_EMPTY(&hh_reqs))
		event_active(hh_idle_ev, 0, 0);
}

/* A transfer ended. */
static void
hh_done(CURL *easy, CURLcode rc, void *arg)
{
	struct hreq	*r = NULL;
	long		 status = 0;

	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&r);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	hh_answer(r, rc == CURLE_OK ? NULL : curl_easy_strerror(rc), status);
}

/*
 * The daemon has nothing more to send for a while: the idle connections
 * are closed once no transfer is left (the multi handle goes with them),
 * so no server waits on a half-closed one until the next request.
 */
static void
hh_idle(evutil_socket_t fd, short events, void *arg)
{
	if (!hh_idle_wanted || !TAILQ_EMPTY(&hh_reqs))
		return;
	hh_idle_wanted = 0;
	curlev_drop_idle(hh_cv);
}

static int
hh_take_fd(void)
{
	int	fd;

	if (hh_nfds == 0)
		die("a file request came without its descriptor");
	fd = hh_fds[0];
	memmove(hh_fds, hh_fds + 1, (size_t)--hh_nfds * sizeof *hh_fds);
	return (fd);
}

/* Sets the request's options: NULL, or the name of one it does not know. */
static const char *
hh_options(struct hreq *r, json_t *opts)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	json_object_foreach(opts, key, v) {
		if (strcmp(key, "verbose") == 0) {
			r->verbose = json_integer_value(v) != 0;
			continue;
		}
		for (i = 0; i < sizeof hh_opts / sizeof *hh_opts; i++)
			if (strcmp(hh_opts[i].name, key) == 0)
				break;
		if (i == sizeof hh_opts / sizeof *hh_opts)
			return (key);
		if (hh_opts[i].string)
			curl_easy_setopt(r->easy, hh_opts[i].opt,
			    json_string_value(v));
		else
			curl_easy_setopt(r->easy, hh_opts[i].opt,
			    (long)json_integer_value(v));
	}
	return (NULL);
}

static void
hh_request(json_t *head, char *text, size_t textlen)
{
	struct hreq	*r;
	const char	*method, *url, *kind, *bad;
	json_t		*h;
	size_t		 i;
	char		 why[128];

	hh_idle_wanted = 0;	/* more to send after all */
	r = xcalloc(1, sizeof *r);
	r->fd = -1;
	r->id = json_integer_value(json_object_get(head, "id"));
	dynbuf_init(&r->body, HTTPMSG_MAX_RESPONSE);
	TAILQ_INSERT_TAIL(&hh_reqs, r, entry);
	method = json_string_value(json_object_get(head, "method"));
	url = json_string_value(json_object_get(head, "url"));
	kind = json_string_value(json_object_get(head, "body"));
	if (method == NULL || url == NULL || kind == NULL)
		die("a request without its method, url or body");
	if ((r->easy = curl_easy_init()) == NULL)
		die("curl_easy_init failed");
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, hh_write_body);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_HEADERFUNCTION, hh_header);
	curl_easy_setopt(r->easy, CURLOPT_HEADERDATA, r);
	json_array_foreach(json_object_get(head, "headers"), i, h)
		r->headers = curl_slist_append(r->headers,
		    json_string_value(h));
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->headers);
	bad = hh_options(r, json_object_get(head, "opts"));
	if (r->verbose) {
		curl_easy_setopt(r->easy, CURLOPT_DEBUGFUNCTION, hh_debug);
		curl_easy_setopt(r->easy, CURLOPT_VERBOSE, 1L);
	}
	if (strcmp(kind, "text") == 0) {
		r->text = text;		/* stolen */
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)textlen);
		curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, r->text);
	} else {
		free(text);
		if (strcmp(kind, "file") == 0) {
			r->off = (uint64_t)json_integer_value(json_object_get(
			    head, "off"));
			r->len = (uint64_t)json_integer_value(json_object_get(
			    head, "len"));
			if (r->len > 0)
				r->fd = hh_take_fd();
			curl_easy_setopt(r->easy, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(r->easy, CURLOPT_READFUNCTION,
			    hh_read_body);
			curl_easy_setopt(r->easy, CURLOPT_READDATA, r);
			curl_easy_setopt(r->easy, CURLOPT_SEEKFUNCTION,
			    hh_seek);
			curl_easy_setopt(r->easy, CURLOPT_SEEKDATA, r);
			curl_easy_setopt(r->easy, CURLOPT_INFILESIZE_LARGE,
			    (curl_off_t)r->len);
		}
	}
	if (bad != NULL) {	/* its descriptor taken: the next one's is next */
		snprintf(why, sizeof why, "alertcap-http: no option '%.64s'",
		    bad);
		hh_answer(r, why, 0);
		return;
	}
	curlev_add(hh_cv, r->easy);
}

static void
hh_cancel(json_int_t id)
{
	struct hreq	*r;

	TAILQ_FOREACH(r, &hh_reqs, entry)
		if (r->id == id) {
			curlev_remove(hh_cv, r->easy);
			hh_free(r);
			return;
		}
}

/* Reads what the daemon sent, with the descriptors that came along. */
static void
hh_read(evutil_socket_t fd, short events, void *arg)
{
	struct evbuffer_iovec	 v;
	union {
		char		buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr	align;
	}			 ctl;
	struct msghdr		 msg;
	struct cmsghdr		*cm;
	struct iovec		 iov;
	json_t			*head;
	const char		*t;
	char			*body, *cause = NULL;
	size_t			 len, i, n;
	ssize_t			 got;
	int			 rc, *fds;

	evbuffer_reserve_space(hh_in, 64 * 1024, &v, 1);
	iov.iov_base = v.iov_base;
	iov.iov_len = v.iov_len;
	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	got = recvmsg(HTTPMSG_FD, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (got == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (got <= 0) {
		event_base_loopbreak(hh_base);	/* the daemon is done */
		return;
	}
	if (msg.msg_flags & MSG_CTRUNC)
		die("descriptors were cut off");
	v.iov_len = (size_t)got;
	evbuffer_commit_space(hh_in, &v, 1);
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(cm);
		for (i = 0; i < n; i++) {
			if (hh_nfds == HH_MAX_FDS)
				die("too many descriptors unclaimed");
			hh_fds[hh_nfds++] = fds[i];
		}
	}
	while ((rc = httpmsg_get(hh_in, &head, &body, &len, &cause)) == 1) {
		t = json_string_value(json_object_get(head, "t"));
		if (t != NULL && strcmp(t, "req") == 0) {
			hh_request(head, body, len);
			body = NULL;
		} else if (t != NULL && strcmp(t, "cancel") == 0)
			hh_cancel(json_integer_value(json_object_get(head,
			    "id")));
		else if (t != NULL && strcmp(t, "idle") == 0) {
			hh_idle_wanted = 1;
			event_active(hh_idle_ev, 0, 0);
		}
		free(body);
		json_decref(head);
	}
	if (rc == -1)
		die(cause);
}

int
main(int argc, char **argv)
{
	struct hreq	*r;

	if (argc != 2 || fcntl(HTTPMSG_FD, F_GETFD) == -1)
		die("this is alertcapd's helper, started by alertcapd only");
	/* Ends with the daemon, even one that could not say goodbye. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1 ||
	    (long)getppid() != strtol(argv[1], NULL, 10))
		die("the daemon that started it is gone");
	drop_privileges();
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		die("curl_global_init failed");
	if ((hh_base = event_base_new()) == NULL)
		die("event_base_new failed");
	evutil_make_socket_nonblocking(HTTPMSG_FD);
	hh_in = evbuffer_new();
	hh_out = evbuffer_new();
	hh_cv = curlev_new(hh_base, hh_done, NULL);
	hh_rd = event_new(hh_base, HTTPMSG_FD, EV_READ | EV_PERSIST, hh_read,
	    NULL);
	hh_wr = event_new(hh_base, HTTPMSG_FD, EV_WRITE, hh_write, NULL);
	hh_idle_ev = event_new(hh_base, -1, 0, hh_idle, NULL);
	event_add(hh_rd, NULL);
	event_base_dispatch(hh_base);
	while ((r = TAILQ_FIRST(&hh_reqs)) != NULL) {
		curlev_remove(hh_cv, r->easy);
		hh_free(r);
	}
	curlev_free(hh_cv);
	event_free(hh_rd);
	event_free(hh_wr);
	event_free(hh_idle_ev);
	evbuffer_free(hh_in);
	evbuffer_free(hh_out);
	event_base_free(hh_base);
	curl_global_cleanup();
	while (hh_nfds > 0)
		close(hh_fds[--hh_nfds]);
	return (0);
}
