/*
 * The lifecycle store: capture records in SQLite (WAL). Every write is
 * committed before it returns, so a transition is durable before the API
 * or an alert sender hears of it.
 */
#ifndef STATE_H
#define STATE_H

#include <stdint.h>

#include "record.h"

/*
 * Opens (or makes, 0600) the database at path and holds it exclusively; a
 * database that fails SQLite's quick_check is refused, or with
 * move_corrupt moved aside as PATH.corrupt and started afresh. -1 with
 * *cause naming the file.
 */
int	state_init(const char *path, int sync_full, int move_corrupt,
	    char **cause);
/* What state_init checks, read-only, for -t: -1 with *cause. */
int	state_check(const char *path, char **cause);
void	state_shutdown(void);
/* Inserts or replaces the record. -1 with *cause if it was not stored. */
int	state_put(const struct record *, char **cause);
/*
 * One transaction for the writes between: 0, or -1 with *cause. A commit
 * that fails rolls them all back (-1 with *cause).
 */
int	state_begin(char **cause);
int	state_commit(char **cause);
/*
 * The file of a capture whose record was deleted: it stays on disk and
 * counted against the disk budget until retention or its owner removes it.
 */
struct state_orphan {
	const char	*path;		/* below captures.root */
	uint64_t	 bytes;
	int64_t		 at;		/* us: when its capture finished */
};

/* Deletes the record; with keep, stores that file, in one transaction. */
int	state_delete(const char *name, const struct state_orphan *keep,
	    char **cause);
int	state_orphan_put(const struct state_orphan *, char **cause);
int	state_orphan_delete(const char *path, char **cause);
/* Calls cb for every stored orphan file (borrowed for the call). */
/* A notification (notify.c), kept until sent or given up, then as made. */
struct state_notice {
	const char	*id;		/* unique: capture, endpoint, event */
	const char	*endpoint;
	const char	*event;
	const char	*capture;
	const char	*body;		/* what is sent */
	const char	*state;		/* Pending, Sent or Failed */
	long long	 attempts;
	int64_t		 at;		/* us: when it was made */
};
int	state_notice_put(const struct state_notice *, char **cause);
/* Forgets notices sent or given up that were made before (us). */
int	state_notice_prune(int64_t before, char **cause);
int	state_notice_load(void (*cb)(const struct state_notice *, void *),
	    void *arg, char **cause);
/* A value of the store's own (*value new, or NULL if none); -1 on error. */
int	state_meta_get(const char *key, char **value);
int	state_meta_put(const char *key, const char *value, char **cause);
int	state_orphan_load(void (*cb)(const struct state_orphan *, void *),
	    void *arg, char **cause);
/* Calls cb for every stored record (borrowed; the callback may keep it). */
int	state_load(void (*cb)(struct record *, void *), void *arg,
	    char **cause);

#endif
