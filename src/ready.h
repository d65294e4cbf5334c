/*
 * Readiness, as the seed's page opens with it: may this node capture, do
 * its lookback interfaces exist, is the broker there, can each storage
 * account be written (an empty object put there), does each notify
 * endpoint answer, is there disk left in the budget — each with a reason.
 * GET /readyz in the daemon; alertcapd -t --online before it starts.
 */
#ifndef READY_H
#define READY_H

#include <jansson.h>

struct event_base;
struct conf;
struct ready_run;

/*
 * The checks' outcome: ok (every check passed) and the report {status,
 * checks: [{check, ok, reason}]} (borrowed, for the call only).
 */
typedef void (*ready_cb)(int ok, json_t *report, void *arg);

/*
 * daemon: the daemon's own state answers (the broker connection, the
 * disk budget, uploads through its engine); else (-t --online) a broker
 * is reached by a TCP connect and the budget is the file system's.
 */
void		 ready_init(struct event_base *, const struct conf *,
		    int daemon);
void		 ready_shutdown(void);
/* Runs every check, at most 10 s; cb is called once, on the loop. */
struct ready_run *ready_start(ready_cb, void *arg);
/* The asker went away: cb is never called. */
void		 ready_cancel(struct ready_run *);

#endif
