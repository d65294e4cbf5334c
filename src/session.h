/*
 * The session manager: every capture on this node, from request to record.
 * It owns the records, drives the capture engine and the pcap writers, and
 * writes each transition to the state store before it answers.
 */
#ifndef SESSION_H
#define SESSION_H

#include <stdint.h>

#include <jansson.h>

#include "record.h"

struct event_base;
struct conf;

/* The outcome of a request, mapped to HTTP by the API. */
enum sess_result {
	SESS_OK,
	SESS_INVALID,		/* 400 */
	SESS_NOT_FOUND,		/* 404 */
	SESS_CONFLICT,		/* 409 */
	SESS_LIMITED,		/* 429 */
	SESS_FAILED,		/* 500: the capture could not run */
	SESS_UNAVAILABLE,	/* 503: the state store failed; retry */
	SESS_PENDING,		/* done once the record changes (a stop
				   whose file is being made durable) */
};

/* What counts against the node's limits. */
struct sess_usage {
	long long	running;
	uint64_t	kept_bytes;	/* files of finished captures */
	uint64_t	reserved_bytes;	/* byte limits of running ones */
};

struct sess_limits {
	long long	max_concurrent;
	uint64_t	max_total_bytes;
};

/*
 * Loads the records, turns captures that were running when the daemon
 * died into Stopped/Interrupted with repaired files. -1 with *cause.
 */
int	session_init(struct event_base *, const struct conf *, char **cause);
/* What session_init checks of captures.root, making nothing; for -t. */
int	session_check(const struct conf *, char **cause);
/* Takes the limits and defaults that may change on reload. */
void	session_reconf(const struct conf *);
/* Stops every running capture with Shutdown and frees everything. */
void	session_shutdown(void);
/*
 * On each tick: stores the records that wait for it (the store could not
 * take them, or what changed was not a transition), then flushes the
 * files written to a second ago or more (and refreshes their counters),
 * the oldest first, for a millisecond at most each.
 */
void	session_flush(void);
/* Once a second: weighs retention. */
void	session_tick(void);

/*
 * Creates and starts a capture. params and trigger are borrowed; name is
 * the name from the URL or NULL. On SESS_OK *out is the record (new);
 * otherwise *cause (new) says why, naming the field.
 */
enum sess_result session_create(json_t *params, const char *name,
	    json_t *trigger, json_t **out, char **cause);
/*
 * Stops a running capture. SESS_OK with *out (new, if out is not NULL)
 * when its record says Stopped already; SESS_PENDING when the record will
 * say so once its file is durable (observers hear it then).
 */
enum sess_result session_stop(const char *name, enum stop_reason,
	    json_t **out, char **cause);
/*
 * Forgets a capture (stopping it if it runs). Its file stays, counted
 * against captures.max_total_bytes until retention deletes it, or, with
 * with_file, goes too.
 */
enum sess_result session_delete(const char *name, int with_file,
		    char **cause);
/* The disk budget: {max_total_bytes, kept_bytes, reserved_bytes...}. */
json_t		*session_budget(void);
/*
 * Stops a running capture with why once delay_s have passed (its alert
 * resolved, the recovery is evidence too); msg goes to its events.
 * session_keep cancels that (the alert fired again): 1 if a stop was
 * pending.
 */
enum sess_result session_stop_after(const char *name, enum stop_reason why,
	    int delay_s, const char *msg, char **cause);
int	 session_keep(const char *name, const char *msg);
/* A capture's status and stop time; -1 if there is no such capture. */
int	 session_state(const char *name, enum cap_status *, int64_t *stopped);
/*
 * The latest capture an alert started under dedup key (its trigger's
 * dedup_key): its name (borrowed, valid until the next change of
 * captures), status and stop time; NULL if there is none.
 */
const char *session_find_dedup(const char *key, enum cap_status *,
	    int64_t *stopped);
/* Captures of a rule that are running or starting. */
long long session_running_for_rule(const char *rule);
/* One record (new), or NULL. */
json_t	*session_get(const char *name);
/*
 * The records, optionally only a status and/or a rule, a part at a time
 * (a long list must not hold the loop): begun (new), then up to max
 * records at a time (a new array; empty at the end), each as it is then
 * (those deleted meanwhile left out, those made meanwhile at the end),
 * then ended. session_list_most: how many it could hold, at most.
 */
struct sess_listing;
struct sess_listing	*session_list_begin(const char *status,
			    const char *rule);
size_t			 session_list_most(const struct sess_listing *);
json_t			*session_list_next(struct sess_listing *, size_t max);
void			 session_list_end(struct sess_listing *);
/*
 * Opens the finished file of a capture for reading, or of a continuous
 * capture the complete file seq (0 for others): *fd (new), *size and
 * *file, its path below captures.root (borrowed from the record).
 */
enum sess_result session_open_file(const char *name, uint32_t seq, int *fd,
		    int64_t *size, const char **file, char **cause);

/*
 * Who hears of every transition (MQTT publishes them): fn gets the name
 * and the record (borrowed), or NULL when the record was deleted.
 */
typedef void (*session_observer_fn)(const char *name, const struct record *,
    void *arg);
void	session_add_observer(session_observer_fn, void *arg);
void	session_remove_observer(session_observer_fn, void *arg);
/* Calls fn for every record, e.g. to republish them all. */
void	session_foreach(session_observer_fn, void *arg);

/* Would one more capture of max_bytes fit? SESS_OK or SESS_LIMITED. */
enum sess_result session_admit(const struct sess_usage *,
	    const struct sess_limits *, uint64_t max_bytes, char **cause);

#endif
