/* libcurl's multi interface driven by libevent (curlev.h). */
#include "config.h"

#include <stdlib.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "curlev.h"
#include "xmalloc.h"

/* A socket libcurl asked us to watch. */
struct cvsock {
	struct event		*ev;
	TAILQ_ENTRY(cvsock)	 entry;
};

struct curlev {
	struct event_base		*base;
	CURLM				*multi;
	struct event			*timer;
	TAILQ_HEAD(, cvsock)		 socks;
	int				 closing;	/* in curl_multi_cleanup */
	int				 used;		/* a transfer since made */
	curlev_done_cb			 done;
	void				*arg;
};

static void
cvsock_free(struct curlev *cv, struct cvsock *s)
{
	TAILQ_REMOVE(&cv->socks, s, entry);
	event_free(s->ev);
	free(s);
}

/* Hands every finished transfer to the user. */
static void
cv_check_done(struct curlev *cv)
{
	CURLMsg	*msg;
	CURL	*easy;
	int	 left;

	while ((msg = curl_multi_info_read(cv->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		easy = msg->easy_handle;
		curl_multi_remove_handle(cv->multi, easy);
		cv->done(easy, msg->data.result, cv->arg);
	}
}

static void
cv_event(evutil_socket_t fd, short kind, void *arg)
{
	struct curlev	*cv = arg;
	int		 action = 0, running;

	if (kind & EV_READ)
		action |= CURL_CSELECT_IN;
	if (kind & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(cv->multi, fd, action, &running);
	/* New transfers may start in here; curl's timer callback keeps the
	 * timer right. */
	cv_check_done(cv);
}

static void
cv_timeout(evutil_socket_t fd, short kind, void *arg)
{
	struct curlev	*cv = arg;
	int		 running;

	curl_multi_socket_action(cv->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	cv_check_done(cv);
}

/* libcurl's socket callback: watch, rewatch or forget a socket. */
static int
cv_sock_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct curlev	*cv = arg;
	struct cvsock	*s = sockp;
	short		 kind;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL)
			cvsock_free(cv, s);
		if (!cv->closing)
			curl_multi_assign(cv->multi, fd, NULL);
		return (0);
	}
	kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		TAILQ_INSERT_TAIL(&cv->socks, s, entry);
		curl_multi_assign(cv->multi, fd, s);
	} else
		event_free(s->ev);
	s->ev = event_new(cv->base, fd, kind, cv_event, cv);
	event_add(s->ev, NULL);
	return (0);
}

/* libcurl's timer callback: when to call it back, or never. */
static int
cv_timer_cb(CURLM *m, long timeout_ms, void *arg)
{
	struct curlev	*cv = arg;
	struct timeval	 tv;

	if (timeout_ms < 0) {
		evtimer_del(cv->timer);
		return (0);
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(cv->timer, &tv);
	return (0);
}

static void
cv_multi_new(struct curlev *cv)
{
	cv->used = 0;
	cv->multi = curl_multi_init();
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETFUNCTION, cv_sock_cb);
	curl_multi_setopt(cv->multi, CURLMOPT_SOCKETDATA, cv);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERFUNCTION, cv_timer_cb);
	curl_multi_setopt(cv->multi, CURLMOPT_TIMERDATA, cv);
}

/* Closes the multi handle and what it holds: connections, their events. */
static void
cv_multi_free(struct curlev *cv)
{
	struct cvsock	*s;

	cv->closing = 1;
	curl_multi_cleanup(cv->multi);
	cv->closing = 0;
	cv->multi = NULL;
	while ((s = TAILQ_FIRST(&cv->socks)) != NULL)
		cvsock_free(cv, s);
}

struct curlev *
curlev_new(struct event_base *base, curlev_done_cb done, void *arg)
{
	struct curlev	*cv;

	cv = xcalloc(1, sizeof *cv);
	cv->base = base;
	cv->done = done;
	cv->arg = arg;
	TAILQ_INIT(&cv->socks);
	cv_multi_new(cv);
	cv->timer = evtimer_new(base, cv_timeout, cv);
	return (cv);
}

void
curlev_free(struct curlev *cv)
{
	if (cv == NULL)
		return;
	cv_multi_free(cv);
	event_free(cv->timer);
	free(cv);
}

void
curlev_add(struct curlev *cv, CURL *easy)
{
	cv->used = 1;
	curl_multi_add_handle(cv->multi, easy);
}

void
curlev_remove(struct curlev *cv, CURL *easy)
{
	curl_multi_remove_handle(cv->multi, easy);
}

void
curlev_drop_idle(struct curlev *cv)
{
	if (!cv->used)
		return;
	cv_multi_free(cv);
	cv_multi_new(cv);
}
