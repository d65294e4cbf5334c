/*
 * The worker thread: a queue in, a queue out, a pipe that wakes the loop
 * when a job is done. The thread touches nothing but the job it runs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "worker.h"
#include "xmalloc.h"

struct job {
	worker_fn		 work;
	worker_fn		 done;
	void			*arg;
	TAILQ_ENTRY(job)	 entry;
};
TAILQ_HEAD(jobq, job);

static pthread_t	 wk_thread;
static pthread_mutex_t	 wk_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 wk_more = PTHREAD_COND_INITIALIZER;	/* todo */
static pthread_cond_t	 wk_idle = PTHREAD_COND_INITIALIZER;	/* none */
static struct jobq	 wk_todo = TAILQ_HEAD_INITIALIZER(wk_todo);
static struct jobq	 wk_done = TAILQ_HEAD_INITIALIZER(wk_done);
static int		 wk_busy;	/* a job is on the thread */
static int		 wk_stop;
static int		 wk_started;
static int		 wk_pipe[2] = { -1, -1 };
static struct event	*wk_ev;

/* The thread: takes jobs in order, runs them, queues them back done. */
static void *
wk_main(void *unused)
{
	struct job	*j;
	char		 c = 0;

	(void)pthread_setname_np(pthread_self(), "alertcapd-work");
	pthread_mutex_lock(&wk_lock);
	for (;;) {
		while (TAILQ_EMPTY(&wk_todo) && !wk_stop)
			pthread_cond_wait(&wk_more, &wk_lock);
		if ((j = TAILQ_FIRST(&wk_todo)) == NULL)
			break;
		TAILQ_REMOVE(&wk_todo, j, entry);
		wk_busy = 1;
		pthread_mutex_unlock(&wk_lock);
		j->work(j->arg);
		pthread_mutex_lock(&wk_lock);
		wk_busy = 0;
		TAILQ_INSERT_TAIL(&wk_done, j, entry);
		/* A full pipe already wakes the loop: nothing lost. */
		if (write(wk_pipe[1], &c, 1) == -1 && errno != EAGAIN)
			log_error("worker: waking the loop: %s",
			    strerror(errno));
		if (TAILQ_EMPTY(&wk_todo))
			pthread_cond_broadcast(&wk_idle);
	}
	pthread_mutex_unlock(&wk_lock);
	return (NULL);
}

/* Runs the done of every finished job, on the calling (loop) thread. */
static void
wk_finish(void)
{
	struct jobq	 q = TAILQ_HEAD_INITIALIZER(q);
	struct job	*j;

	pthread_mutex_lock(&wk_lock);
	TAILQ_CONCAT(&q, &wk_done, entry);
	pthread_mutex_unlock(&wk_lock);
	while ((j = TAILQ_FIRST(&q)) != NULL) {
		TAILQ_REMOVE(&q, j, entry);
		j->done(j->arg);
		free(j);
	}
}

static void
wk_readable(evutil_socket_t fd, short events, void *arg)
{
	char	buf[256];

	while (read(fd, buf, sizeof buf) > 0)
		;
	wk_finish();
}

int
worker_init(struct event_base *base, char **cause)
{
	int	rc;

	if (pipe2(wk_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		*cause = xasprintf("worker: pipe: %s", strerror(errno));
		return (-1);
	}
	wk_ev = event_new(base, wk_pipe[0], EV_READ | EV_PERSIST, wk_readable,
	    NULL);
	event_add(wk_ev, NULL);
	wk_stop = 0;
	if ((rc = pthread_create(&wk_thread, NULL, wk_main, NULL)) != 0) {
		*cause = xasprintf("worker: cannot start a thread: %s",
		    strerror(rc));
		return (-1);
	}
	wk_started = 1;
	return (0);
}

static void
wk_submit(worker_fn work, worker_fn done, void *arg, int first)
{
	struct job	*j;

	if (!wk_started) {	/* no thread (tests, shutdown): do it here */
		work(arg);
		done(arg);
		return;
	}
	j = xcalloc(1, sizeof *j);
	j->work = work;
	j->done = done;
	j->arg = arg;
	pthread_mutex_lock(&wk_lock);
	if (first)
		TAILQ_INSERT_HEAD(&wk_todo, j, entry);
	else
		TAILQ_INSERT_TAIL(&wk_todo, j, entry);
	pthread_cond_signal(&wk_more);
	pthread_mutex_unlock(&wk_lock);
}

void
worker_submit(worker_fn work, worker_fn done, void *arg)
{
	wk_submit(work, done, arg, 0);
}

void
worker_submit_first(worker_fn work, worker_fn done, void *arg)
{
	wk_submit(work, done, arg, 1);
}

void
worker_drain(void)
{
	if (!wk_started)
		return;
	pthread_mutex_lock(&wk_lock);
	while (!TAILQ_EMPTY(&wk_todo) || wk_busy)
		pthread_cond_wait(&wk_idle, &wk_lock);
	pthread_mutex_unlock(&wk_lock);
	wk_finish();
}

void
worker_shutdown(void)
{
	if (!wk_started)
		return;
	worker_drain();
	pthread_mutex_lock(&wk_lock);
	wk_stop = 1;
	pthread_cond_signal(&wk_more);
	pthread_mutex_unlock(&wk_lock);
	pthread_join(wk_thread, NULL);
	wk_started = 0;
	event_free(wk_ev);
	wk_ev = NULL;
	close(wk_pipe[0]);
	close(wk_pipe[1]);
	wk_pipe[0] = wk_pipe[1] = -1;
}
