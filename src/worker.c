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

/*
 * The lanes: the worker's own, in order; and one for spare files, which
 * wait on nothing and which the loop wants ready even while the worker
 * sits in a long fsync.
 */
enum { WK_MAIN, WK_SPARE, WK_LANES };

static const char *const wk_names[WK_LANES] = {
	"alertcapd-work", "alertcapd-spare"
};

struct lane {
	pthread_t	 thread;
	pthread_cond_t	 more;		/* todo */
	struct jobq	 todo;
	int		 busy;		/* a job is on the thread */
};

static struct lane	 wk_lanes[WK_LANES];
static pthread_mutex_t	 wk_lock = PTHREAD_MUTEX_INITIALIZER;	/* all */
static pthread_cond_t	 wk_idle = PTHREAD_COND_INITIALIZER;	/* none */
static struct jobq	 wk_done = TAILQ_HEAD_INITIALIZER(wk_done);
static int		 wk_stop;
static int		 wk_started;
static int		 wk_pipe[2] = { -1, -1 };
static struct event	*wk_ev;

/* Nothing queued or running on any lane; under wk_lock. */
static int
wk_is_idle(void)
{
	int	i;

	for (i = 0; i < WK_LANES; i++)
		if (!TAILQ_EMPTY(&wk_lanes[i].todo) || wk_lanes[i].busy)
			return (0);
	return (1);
}

/* A lane's thread: takes its jobs in order, runs them, queues them done. */
static void *
wk_main(void *arg)
{
	struct lane	*l = arg;
	struct job	*j;
	char		 c = 0;

	(void)pthread_setname_np(pthread_self(), wk_names[l - wk_lanes]);
	pthread_mutex_lock(&wk_lock);
	for (;;) {
		while (TAILQ_EMPTY(&l->todo) && !wk_stop)
			pthread_cond_wait(&l->more, &wk_lock);
		if ((j = TAILQ_FIRST(&l->todo)) == NULL)
			break;
		TAILQ_REMOVE(&l->todo, j, entry);
		l->busy = 1;
		pthread_mutex_unlock(&wk_lock);
		j->work(j->arg);
		pthread_mutex_lock(&wk_lock);
		l->busy = 0;
		TAILQ_INSERT_TAIL(&wk_done, j, entry);
		/* A full pipe already wakes the loop: nothing lost. */
		if (write(wk_pipe[1], &c, 1) == -1 && errno != EAGAIN)
			log_error("worker: waking the loop: %s",
			    strerror(errno));
		if (wk_is_idle())
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
	int	i, rc;

	if (pipe2(wk_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		*cause = xasprintf("worker: pipe: %s", strerror(errno));
		return (-1);
	}
	wk_ev = event_new(base, wk_pipe[0], EV_READ | EV_PERSIST, wk_readable,
	    NULL);
	event_add(wk_ev, NULL);
	wk_stop = 0;
	for (i = 0; i < WK_LANES; i++) {
		TAILQ_INIT(&wk_lanes[i].todo);
		pthread_cond_init(&wk_lanes[i].more, NULL);
		if ((rc = pthread_create(&wk_lanes[i].thread, NULL, wk_main,
		    &wk_lanes[i])) != 0) {
			*cause = xasprintf("worker: cannot start a thread: %s",
			    strerror(rc));
			return (-1);
		}
		wk_started = i + 1;
	}
	return (0);
}

static void
wk_submit(int lane, worker_fn work, worker_fn done, void *arg, int first)
{
	struct lane	*l = &wk_lanes[lane];
	struct job	*j;

	if (wk_started != WK_LANES) {	/* no threads (tests): do it here */
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
		TAILQ_INSERT_HEAD(&l->todo, j, entry);
	else
		TAILQ_INSERT_TAIL(&l->todo, j, entry);
	pthread_cond_signal(&l->more);
	pthread_mutex_unlock(&wk_lock);
}

void
worker_submit(worker_fn work, worker_fn done, void *arg)
{
	wk_submit(WK_MAIN, work, done, arg, 0);
}

void
worker_submit_first(worker_fn work, worker_fn done, void *arg)
{
	wk_submit(WK_MAIN, work, done, arg, 1);
}

void
worker_submit_spare(worker_fn work, worker_fn done, void *arg)
{
	wk_submit(WK_SPARE, work, done, arg, 0);
}

void
worker_drain(void)
{
	if (wk_started != WK_LANES)
		return;
	pthread_mutex_lock(&wk_lock);
	while (!wk_is_idle())
		pthread_cond_wait(&wk_idle, &wk_lock);
	pthread_mutex_unlock(&wk_lock);
	wk_finish();
}

void
worker_shutdown(void)
{
	int	i, n = wk_started;

	if (n == 0)
		return;
	worker_drain();
	pthread_mutex_lock(&wk_lock);
	wk_stop = 1;
	for (i = 0; i < n; i++)
		pthread_cond_signal(&wk_lanes[i].more);
	pthread_mutex_unlock(&wk_lock);
	for (i = 0; i < n; i++) {
		pthread_join(wk_lanes[i].thread, NULL);
		pthread_cond_destroy(&wk_lanes[i].more);
	}
	wk_started = 0;
	event_free(wk_ev);
	wk_ev = NULL;
	close(wk_pipe[0]);
	close(wk_pipe[1]);
	wk_pipe[0] = wk_pipe[1] = -1;
}
