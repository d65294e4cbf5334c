/*
 * Outgoing HTTP through the helper process (httpc.h): requests become
 * frames on a socket pair, a file body's descriptor rides beside its
 * frame, and answers come back as frames the loop reads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "httpc.h"
#include "httpmsg.h"
#include "log.h"
#include "xmalloc.h"

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR	"/usr/libexec/alertcap"
#endif
#define HC_HELPER	"alertcap-http"
#define HC_STOP_MS	2000	/* a helper told to stop gets this long */

extern char	**environ;

struct httpc_req {
	uint64_t		 id;
	json_t			*head;
	char			*text;
	size_t			 textlen;
	int			 fd;		/* the file body's, until sent */
	char			*error;		/* failed before an answer */
	uint64_t		 round;		/* of hc_fail_now that calls it */
	httpc_cb		 cb;
	void			*arg;
	TAILQ_ENTRY(httpc_req)	 entry;
};
TAILQ_HEAD(hc_reqs, httpc_req);

/* A descriptor to attach to the byte at stream offset 'at'. */
struct hc_mark {
	uint64_t		 at;
	int			 fd;
	TAILQ_ENTRY(hc_mark)	 entry;
};

static struct event_base	*hc_base;
static int			 hc_users;
static pid_t			 hc_pid = -1;
static int			 hc_fd = -1;
static uint64_t			 hc_gen;	/* one more at each start, stop */
static struct event		*hc_rd, *hc_wr, *hc_fail_ev;
static struct evbuffer		*hc_in, *hc_out;
static uint64_t			 hc_written;	/* bytes sent on this pair */
static uint64_t			 hc_next_id;
static uint64_t			 hc_fail_round;
static TAILQ_HEAD(, hc_mark)	 hc_marks = TAILQ_HEAD_INITIALIZER(hc_marks);
static struct hc_reqs		 hc_flight = TAILQ_HEAD_INITIALIZER(hc_flight);
static struct hc_reqs		 hc_failed = TAILQ_HEAD_INITIALIZER(hc_failed);

static void	hc_read(evutil_socket_t, short, void *);
static void	hc_write(evutil_socket_t, short, void *);

/* Beside the running program (a build tree), else where it is installed. */
static char *
hc_helper_path(void)
{
	char	 self[PATH_MAX], *slash, *p;
	ssize_t	 n;

	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			p = xasprintf("%s/%s", self, HC_HELPER);
			if (access(p, X_OK) == 0)
				return (p);
			free(p);
		}
	}
	return (xstrdup(PKGLIBEXECDIR "/" HC_HELPER));
}

static void
hc_req_free(struct httpc_req *r)
{
	json_decref(r->head);
	free(r->text);
	free(r->error);
	if (r->fd != -1)
		close(r->fd);
	free(r);
}

/*
 * Waits up to ms for the helper to exit (0: not at all, as when the loop
 * must go on), then kills it; logs how it went.
 */
static void
hc_reap(int ms, int expected)
{
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };
	int		 st = 0, i;
	pid_t		 got = 0;

	for (i = 0; i <= ms / 10; i++) {
		if ((got = waitpid(hc_pid, &st, WNOHANG)) != 0)
			break;
		if (i < ms / 10)
			nanosleep(&ts, NULL);
	}
	if (got == 0) {
		kill(hc_pid, SIGKILL);
		got = waitpid(hc_pid, &st, 0);
	}
	if (got == hc_pid && WIFSIGNALED(st))
		log_warn("the HTTP helper (pid %ld) was ended by signal %d",
		    (long)hc_pid, WTERMSIG(st));
	else if (got == hc_pid && !expected)
		log_warn("the HTTP helper (pid %ld) exited with status %d",
		    (long)hc_pid, WEXITSTATUS(st));
	hc_pid = -1;
}

/* Closes the pair and forgets what was on its way (not the requests). */
static void
hc_disconnect(void)
{
	struct hc_mark	*m;

	if (hc_fd == -1)
		return;
	hc_gen++;
	event_free(hc_rd);
	event_free(hc_wr);
	hc_rd = hc_wr = NULL;
	evbuffer_free(hc_in);
	evbuffer_free(hc_out);
	hc_in = hc_out = NULL;
	while ((m = TAILQ_FIRST(&hc_marks)) != NULL) {
		TAILQ_REMOVE(&hc_marks, m, entry);
		close(m->fd);
		free(m);
	}
	close(hc_fd);
	hc_fd = -1;
}

/* A request failed before an answer: its callback on a later turn. */
static void
hc_fail(struct httpc_req *r)
{
	r->round = hc_fail_round;
	TAILQ_INSERT_TAIL(&hc_failed, r, entry);
	if (hc_fail_ev != NULL)
		event_active(hc_fail_ev, 0, 0);
}

/*
 * The helper is gone or broke the protocol: every request in flight
 * ends with why, on the next loop turn; the next request starts a new
 * helper.
 */
static void
hc_lost(const char *why)
{
	struct httpc_req	*r;

	log_warn("the HTTP helper (pid %ld): %s; %s", (long)hc_pid, why,
	    TAILQ_EMPTY(&hc_flight) ? "no request was in flight" :
	    "the requests in flight fail");
	hc_disconnect();
	if (hc_pid != -1)
		hc_reap(0, 0);	/* exited, or broken: killed */
	while ((r = TAILQ_FIRST(&hc_flight)) != NULL) {
		TAILQ_REMOVE(&hc_flight, r, entry);
		r->error = xasprintf("the HTTP helper: %s", why);
		hc_fail(r);
	}
}

/*
 * The failed requests' callbacks, in order, each taken off the list
 * before it is called: a callback may cancel others still on it (an
 * upload cancels its job's other requests), and those it fails anew
 * wait for the next round.
 */
static void
hc_fail_now(evutil_socket_t fd, short events, void *arg)
{
	struct httpc_req	*r;
	struct httpc_result	 res;
	uint64_t		 round = hc_fail_round++;

	while ((r = TAILQ_FIRST(&hc_failed)) != NULL && r->round <= round) {
		TAILQ_REMOVE(&hc_failed, r, entry);
		memset(&res, 0, sizeof res);
		res.error = r->error;
		res.body = "";
		r->cb(r, &res, r->arg);
		hc_req_free(r);
	}
	if (!TAILQ_EMPTY(&hc_failed))
		event_active(hc_fail_ev, 0, 0);
}

static int
hc_spawn(char **cause)
{
	posix_spawn_file_actions_t	 fa;
	posix_spawnattr_t		 sa;
	sigset_t			 none, dfl;
	char				*path, ppid[24];
	char				*argv[] = { (char *)HC_HELPER, ppid,
					    NULL };
	int				 sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0, sv) == -1) {
		*cause = xasprintf("the HTTP helper's socket pair: %s",
		    strerror(errno));
		return (-1);
	}
	path = hc_helper_path();
	snprintf(ppid, sizeof ppid, "%ld", (long)getpid());
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], HTTPMSG_FD);
	posix_spawn_file_actions_addclosefrom_np(&fa, HTTPMSG_FD + 1);
	posix_spawnattr_init(&sa);
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&sa, &none);
	posix_spawnattr_setsigdefault(&sa, &dfl);
	posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&hc_pid, path, &fa, &sa, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&sa);
	close(sv[1]);
	if (rc != 0) {
		*cause = xasprintf("cannot start the HTTP helper %s: %s", path,
		    strerror(rc));
		free(path);
		close(sv[0]);
		hc_pid = -1;
		return (-1);
	}
	log_debug("the HTTP helper %s started (pid %ld)", path, (long)hc_pid);
	free(path);
	hc_gen++;
	hc_fd = sv[0];
	hc_written = 0;
	hc_in = evbuffer_new();
	hc_out = evbuffer_new();
	hc_rd = event_new(hc_base, hc_fd, EV_READ | EV_PERSIST, hc_read, NULL);
	hc_wr = event_new(hc_base, hc_fd, EV_WRITE, hc_write, NULL);
	event_add(hc_rd, NULL);
	return (0);
}

/*
 * Sends what is queued, as far as the socket takes it: a descriptor goes
 * with the first byte of its frame, so a send stops short of the next
 * frame that carries one.
 */
static void
hc_flush(void)
{
	struct iovec	 iov[16];
	union {
		char		buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr	align;
	}		 ctl;
	struct msghdr	 msg;
	struct cmsghdr	*cm;
	struct hc_mark	*m, *next;
	size_t		 want;
	ssize_t		 got;
	int		 k, i;

	while (hc_fd != -1 && evbuffer_get_length(hc_out) > 0) {
		want = evbuffer_get_length(hc_out);
		memset(&msg, 0, sizeof msg);
		m = TAILQ_FIRST(&hc_marks);
		if (m != NULL && m->at == hc_written) {
			if ((next = TAILQ_NEXT(m, entry)) != NULL)
				want = (size_t)(next->at - hc_written);
			memset(&ctl, 0, sizeof ctl);
			msg.msg_control = ctl.buf;
			msg.msg_controllen = sizeof ctl.buf;
			cm = CMSG_FIRSTHDR(&msg);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &m->fd, sizeof(int));
		} else if (m != NULL)
			want = (size_t)(m->at - hc_written);
		k = evbuffer_peek(hc_out, (ev_ssize_t)want, NULL, iov, 16);
		if (k > 16)
			k = 16;
		/* The last vector may reach past what is wanted: trim it. */
		for (i = 0; i < k; i++) {
			if (iov[i].iov_len >= want) {
				iov[i].iov_len = want;
				k = i + 1;
				break;
			}
			want -= iov[i].iov_len;
		}
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)k;
		got = sendmsg(hc_fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (got == -1 && (errno == EAGAIN || errno == EINTR)) {
			event_add(hc_wr, NULL);
			return;
		}
		if (got == -1) {
			hc_lost(strerror(errno));
			return;
		}
		if (msg.msg_control != NULL) {	/* the descriptor went */
			TAILQ_REMOVE(&hc_marks, m, entry);
			close(m->fd);
			free(m);
		}
		evbuffer_drain(hc_out, (size_t)got);
		hc_written += (uint64_t)got;
	}
}

static void
hc_write(evutil_socket_t fd, short events, void *arg)
{
	hc_flush();
}

static struct httpc_req *
hc_find(uint64_t id)
{
	struct httpc_req	*r;

	TAILQ_FOREACH(r, &hc_flight, entry)
		if (r->id == id)
			return (r);
	return (NULL);
}

/* One frame from the helper. */
static void
hc_frame(json_t *head, const char *body, size_t len)
{
	struct httpc_req	*r;
	struct httpc_result	 res;
	const char		*t = json_string_value(json_object_get(head,
				    "t"));

	if (t != NULL && strcmp(t, "log") == 0) {
		log_debug("libcurl: %s", json_string_value(json_object_get(
		    head, "line")));
		return;
	}
	if (t == NULL || strcmp(t, "done") != 0)
		return;
	r = hc_find((uint64_t)json_integer_value(json_object_get(head, "id")));
	if (r == NULL)
		return;		/* cancelled */
	TAILQ_REMOVE(&hc_flight, r, entry);
	memset(&res, 0, sizeof res);
	res.error = json_string_value(json_object_get(head, "error"));
	res.status = (long)json_integer_value(json_object_get(head, "status"));
	res.etag = json_string_value(json_object_get(head, "etag"));
	res.sent = (uint64_t)json_integer_value(json_object_get(head, "sent"));
	res.body = body;
	res.body_len = len;
	r->cb(r, &res, r->arg);
	hc_req_free(r);
}

static void
hc_read(evutil_socket_t fd, short events, void *arg)
{
	json_t		*head;
	char		*body, *cause = NULL;
	size_t		 len;
	uint64_t	 gen = hc_gen;
	int		 n, rc;

	for (;;) {
		n = evbuffer_read(hc_in, hc_fd, 256 * 1024);
		if (n == 0) {
			hc_lost("it exited");
			return;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			hc_lost(strerror(errno));
			return;
		}
	}
	while ((rc = httpmsg_get(hc_in, &head, &body, &len, &cause)) == 1) {
		hc_frame(head, body, len);
		json_decref(head);
		free(body);
		if (gen != hc_gen)
			return;	/* a callback stopped the helper */
	}
	if (rc == -1) {
		hc_lost(cause);
		free(cause);
	}
}

int
httpc_open(struct event_base *base, char **cause)
{
	hc_base = base;
	if (hc_fail_ev == NULL)
		hc_fail_ev = event_new(base, -1, 0, hc_fail_now, NULL);
	hc_users++;
	if (hc_fd == -1 && hc_spawn(cause) == -1) {
		httpc_close();
		return (-1);
	}
	return (0);
}

void
httpc_close(void)
{
	struct httpc_req	*r;

	if (hc_users == 0 || --hc_users > 0)
		return;
	/* Their users are gone: nobody to call. */
	TAILQ_CONCAT(&hc_failed, &hc_flight, entry);
	while ((r = TAILQ_FIRST(&hc_failed)) != NULL) {
		TAILQ_REMOVE(&hc_failed, r, entry);
		hc_req_free(r);
	}
	hc_disconnect();	/* the helper ends at the end of its input */
	if (hc_pid != -1)
		hc_reap(HC_STOP_MS, 1);
	if (hc_fail_ev != NULL)
		event_free(hc_fail_ev);
	hc_fail_ev = NULL;
}

struct httpc_req *
httpc_new(const char *method, const char *url)
{
	struct httpc_req	*r;

	r = xcalloc(1, sizeof *r);
	r->fd = -1;
	r->head = json_pack("{s:s, s:s, s:s, s:[], s:{}, s:s}", "t", "req",
	    "method", method, "url", url, "headers", "opts", "body", "none");
	if (r->head == NULL)
		abort();	/* method and url are UTF-8 of our making */
	return (r);
}

void
httpc_free(struct httpc_req *r)
{
	if (r != NULL)
		hc_req_free(r);
}

void
httpc_header(struct httpc_req *r, const char *line)
{
	json_array_append_new(json_object_get(r->head, "headers"),
	    json_string(line));
}

void
httpc_body_text(struct httpc_req *r, const char *text, size_t len)
{
	free(r->text);
	r->text = xmalloc(len + 1);
	memcpy(r->text, text, len);
	r->text[len] = '\0';
	r->textlen = len;
	json_object_set_new(r->head, "body", json_string("text"));
}

void
httpc_body_file(struct httpc_req *r, int fd, uint64_t off, uint64_t len)
{
	if (r->fd != -1)
		close(r->fd);
	r->fd = len > 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	json_object_set_new(r->head, "body", json_string("file"));
	json_object_set_new(r->head, "off", json_integer((json_int_t)off));
	json_object_set_new(r->head, "len", json_integer((json_int_t)len));
}

void
httpc_opt_num(struct httpc_req *r, const char *name, long value)
{
	json_object_set_new(json_object_get(r->head, "opts"), name,
	    json_integer(value));
}

void
httpc_opt_str(struct httpc_req *r, const char *name, const char *value)
{
	json_object_set_new(json_object_get(r->head, "opts"), name,
	    json_string(value));
}

void
httpc_send(struct httpc_req *r, httpc_cb cb, void *arg)
{
	struct hc_mark	*m;
	char		*cause = NULL;

	r->cb = cb;
	r->arg = arg;
	r->id = ++hc_next_id;
	if (hc_fd == -1 && (hc_users == 0 || hc_spawn(&cause) == -1)) {
		r->error = cause != NULL ? cause :
		    xstrdup("no HTTP helper is open");
		hc_fail(r);
		return;
	}
	json_object_set_new(r->head, "id", json_integer((json_int_t)r->id));
	if (r->fd != -1) {
		m = xcalloc(1, sizeof *m);
		m->at = hc_written + evbuffer_get_length(hc_out);
		m->fd = r->fd;
		r->fd = -1;
		TAILQ_INSERT_TAIL(&hc_marks, m, entry);
	}
	httpmsg_put(hc_out, r->head, r->text, r->textlen);
	free(r->text);
	r->text = NULL;
	r->textlen = 0;
	TAILQ_INSERT_TAIL(&hc_flight, r, entry);
	hc_flush();
}

/* Sends a head-only frame, when the helper is there. */
static void
hc_notice(json_t *head)
{
	if (hc_fd != -1) {
		httpmsg_put(hc_out, head, NULL, 0);
		hc_flush();
	}
	json_decref(head);
}

void
httpc_cancel(struct httpc_req *r)
{
	struct httpc_req	*f;

	if (r == NULL)
		return;
	TAILQ_FOREACH(f, &hc_failed, entry)
		if (f == r)
			break;
	if (f != NULL)
		TAILQ_REMOVE(&hc_failed, r, entry);
	else if (hc_find(r->id) == r) {
		TAILQ_REMOVE(&hc_flight, r, entry);
		hc_notice(json_pack("{s:s, s:I}", "t", "cancel", "id",
		    (json_int_t)r->id));
	}
	hc_req_free(r);
}

void
httpc_drop_idle(void)
{
	hc_notice(json_pack("{s:s}", "t", "idle"));
}
