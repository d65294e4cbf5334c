/*
 * One background thread for the blocking work the loop must not wait on
 * (fsync of finished capture files). A job's work runs on the thread; its
 * done runs on the loop afterwards, in the order the jobs ran: the order
 * they were submitted in, but for those submitted first. A second thread
 * makes spare files (worker_submit_spare), in an order of its own.
 */
#ifndef WORKER_H
#define WORKER_H

struct event_base;

typedef void	(*worker_fn)(void *arg);

/* Starts the thread; -1 with *cause. */
int	worker_init(struct event_base *, char **cause);
/*
 * Queues work(arg) for the thread, then done(arg) on the loop. arg is
 * the caller's until done has run.
 */
void	worker_submit(worker_fn work, worker_fn done, void *arg);
/*
 * The same for a job that waits on no other: it runs next, before those
 * queued (its done too, then).
 */
void	worker_submit_first(worker_fn work, worker_fn done, void *arg);
/*
 * The same for a spare file (a job that waits on no other and that no
 * other waits on), on the spare thread: made while the worker is busy.
 */
void	worker_submit_spare(worker_fn work, worker_fn done, void *arg);
/* Waits for every queued job and runs their done here; for shutdown. */
void	worker_drain(void);
/* Drains, then stops the thread. */
void	worker_shutdown(void);

#endif
