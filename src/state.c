/* SQLite storage of capture records. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "state.h"
#include "worker.h"
#include "xmalloc.h"

#define STATE_CORRUPT	(-2)
/*
 * WAL frames (pages) after which the worker checkpoints, about 8 MiB: a
 * checkpoint goes before the worker's queued jobs, so that the log does
 * not grow behind a storm's fsyncs.
 */
#define STATE_CKPT_PAGES 2000
/*
 * SQLite's VFS that takes the file for this process alone at the first
 * read, yet lets our two connections share it (the WAL index in memory).
 */
#define STATE_VFS	"unix-excl"

static sqlite3		*state_db;
static sqlite3		*state_ckpt_db;	/* the worker thread's connection */
static int		 state_ckpt_queued;
static int		 state_ckpt_log;	/* WAL frames at the last one */
static int		 state_ckpt_done_log;	/* set on the worker */
static char		 state_ckpt_err[256];	/* set on the worker */
static sqlite3_stmt	*state_put_stmt;
static sqlite3_stmt	*state_del_stmt;
static sqlite3_stmt	*state_orphan_put_stmt;
static sqlite3_stmt	*state_orphan_del_stmt;
static sqlite3_stmt	*state_notice_put_stmt;

static const char state_schema[] =
    "CREATE TABLE IF NOT EXISTS captures ("
    " name TEXT PRIMARY KEY,"
    " status TEXT NOT NULL,"
    " rule TEXT,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS captures_status ON captures(status);"
    /* Files of forgotten captures: still on disk, still counted. */
    "CREATE TABLE IF NOT EXISTS orphans ("
    " path TEXT PRIMARY KEY,"
    " bytes INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    /* Notifications, kept until sent or given up, and then as made. */
    "CREATE TABLE IF NOT EXISTS notices ("
    " id TEXT PRIMARY KEY,"
    " endpoint TEXT NOT NULL,"
    " event TEXT NOT NULL,"
    " capture TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS meta ("
    " key TEXT PRIMARY KEY,"
    " value TEXT NOT NULL);"
    "PRAGMA user_version = 1;";

static int
state_exec(const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(state_db, sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xasprintf("%s", err != NULL ? err :
		    sqlite3_errmsg(state_db));
		sqlite3_free(err);
		return (-1);
	}
	return (0);
}

/*
 * Makes the database file 0600 before SQLite opens it: SQLite gives its
 * WAL and SHM files the database's own mode, and records name who
 * triggered what.
 */
static int
state_create_private(const char *path, char **cause)
{
	struct stat	st;
	int		fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600)) == -1) {
		/* The caller names the path: say what is wrong with it. */
		*cause = errno == EACCES || errno == ENOENT || errno == EROFS ?
		    xasprintf("%s; the state directory must exist and be "
		    "writable by the daemon's user (uid %ld); the systemd "
		    "unit's StateDirectory makes it", strerror(errno),
		    (long)geteuid()) : xasprintf("%s", strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0) {
		log_warn("state.path: %s was readable by others; made 0600",
		    path);
		fchmod(fd, 0600);
	}
	close(fd);
	return (0);
}

/*
 * On the worker thread: copies the WAL's frames into the database. The
 * fsyncs of WAL and database, 20 ms and more on a busy disk, are here and
 * never on the loop. PASSIVE: writers on the loop go on meanwhile.
 */
static void
state_ckpt_work(void *unused)
{
	int	nlog = 0, nckpt = 0;

	state_ckpt_err[0] = '\0';
	if (sqlite3_wal_checkpoint_v2(state_ckpt_db, NULL,
	    SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt) != SQLITE_OK)
		snprintf(state_ckpt_err, sizeof state_ckpt_err, "%s",
		    sqlite3_errmsg(state_ckpt_db));
	state_ckpt_done_log = nlog;
}

static void
state_ckpt_done(void *unused)
{
	state_ckpt_queued = 0;
	state_ckpt_log = state_ckpt_done_log;
	if (state_ckpt_err[0] != '\0')
		log_warn("state store: checkpoint: %s", state_ckpt_err);
}

/*
 * SQLite's hook after each commit, in place of its autocheckpoint (which
 * would checkpoint inside the commit, on the loop): STATE_CKPT_PAGES
 * frames after the last checkpoint's, one is queued for the worker. (A
 * WAL that writes go on appending to while it is copied is not started
 * over, so frames counts them all; it starts over from the first write
 * after a checkpoint that caught up.)
 */
static int
state_wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	if (frames < state_ckpt_log)
		state_ckpt_log = 0;	/* started over */
	if (frames - state_ckpt_log >= STATE_CKPT_PAGES &&
	    !state_ckpt_queued && state_ckpt_db != NULL) {
		state_ckpt_queued = 1;
		worker_submit_first(state_ckpt_work, state_ckpt_done, NULL);
	}
	return (SQLITE_OK);
}

/* PRAGMA quick_check: 0 if SQLite finds the file sound, else *cause. */
static int
state_quick_check(char **cause)
{
	sqlite3_stmt	*stmt;
	const char	*res;
	int		 rc;

	if (sqlite3_prepare_v2(state_db, "PRAGMA quick_check(1)", -1, &stmt,
	    NULL) != SQLITE_OK) {
		*cause = xasprintf("%s", sqlite3_errmsg(state_db));
		return (-1);
	}
	rc = sqlite3_step(stmt);
	res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(stmt, 0) :
	    NULL;
	if (res != NULL && strcmp(res, "ok") == 0) {
		sqlite3_finalize(stmt);
		return (0);
	}
	*cause = xasprintf("%s", res != NULL ? res : sqlite3_errmsg(state_db));
	sqlite3_finalize(stmt);
	return (-1);
}

/*
 * Opens the database, takes it for this process alone and checks it:
 * -1 with *cause (new). The lock is held from here to state_shutdown, so
 * no other process can make a write of ours wait.
 */
static int
state_open(const char *path, int sync_full, char **cause)
{
	if (state_create_private(path, cause) == -1)
		return (-1);
	if (sqlite3_open_v2(path, &state_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, STATE_VFS) != SQLITE_OK) {
		*cause = xasprintf("%s", state_db != NULL ?
		    sqlite3_errmsg(state_db) : "cannot open");
		return (-1);
	}
	/*
	 * Never wait for a lock on the loop: busy is an error at once. No
	 * other process can hold one (STATE_VFS), and the worker's passive
	 * checkpoint never blocks a writer.
	 */
	sqlite3_busy_timeout(state_db, 0);
	if (state_exec("BEGIN IMMEDIATE; COMMIT;", cause) == -1) {
		free(*cause);
		*cause = xasprintf("another process holds the database (a "
		    "second alertcapd on the same state.path?)");
		return (-1);
	}
	if (state_quick_check(cause) == -1) {
		char	*c = *cause;

		*cause = xasprintf("the database is corrupt (quick_check: %s)",
		    c);
		free(c);
		return (STATE_CORRUPT);
	}
	if (state_exec("PRAGMA journal_mode = WAL;", cause) == -1 ||
	    /*
	     * The WAL is never cut back while the daemon runs: SQLite would
	     * do it on the loop, as a write starts the log over, and freeing
	     * the blocks and pages of a log grown through a storm took the
	     * loop 157 ms. It keeps the size the busiest moment gave it
	     * (writes into it then need no new blocks) and goes at a clean
	     * exit.
	     */
	    state_exec("PRAGMA journal_size_limit = -1;", cause) == -1 ||
	    /*
	     * NORMAL's one sync outside a checkpoint is the WAL's header
	     * when a write starts the log over (after the worker's
	     * checkpoint caught up): off on the loop's connection, as the
	     * worker's checkpoint syncs the log before it copies a frame
	     * of it, and closing puts NORMAL back for the last one.
	     */
	    state_exec(sync_full ? "PRAGMA synchronous = FULL;" :
	    "PRAGMA synchronous = OFF;", cause) == -1 ||
	    state_exec(state_schema, cause) == -1)
		return (-1);
	if (sqlite3_open_v2(path, &state_ckpt_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, STATE_VFS) != SQLITE_OK) {
		*cause = xasprintf("%s (a second connection, for "
		    "checkpoints)", state_ckpt_db != NULL ?
		    sqlite3_errmsg(state_ckpt_db) : "cannot open");
		return (-1);
	}
	sqlite3_busy_timeout(state_ckpt_db, 1000);	/* off the loop */
	if (sqlite3_exec(state_ckpt_db, sync_full ? "PRAGMA synchronous = "
	    "FULL;" : "PRAGMA synchronous = NORMAL;", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		*cause = xasprintf("%s (a second connection, for "
		    "checkpoints)", sqlite3_errmsg(state_ckpt_db));
		return (-1);
	}
	/*
	 * A connection finds the WAL at its first read; a checkpoint before
	 * that would do nothing.
	 */
	if (sqlite3_exec(state_ckpt_db, "SELECT 1 FROM sqlite_master LIMIT 1;",
	    NULL, NULL, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s (a second connection, for "
		    "checkpoints)", sqlite3_errmsg(state_ckpt_db));
		return (-1);
	}
	/* Replaces SQLite's autocheckpoint, which ran inside a commit. */
	sqlite3_wal_hook(state_db, state_wal_hook, NULL);
	if (sqlite3_prepare_v2(state_db, "INSERT OR REPLACE INTO captures "
	    "(name, status, rule, record) VALUES (?, ?, ?, ?)", -1,
	    &state_put_stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(state_db, "DELETE FROM captures WHERE name = ?",
	    -1, &state_del_stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(state_db, "INSERT OR REPLACE INTO notices "
	    "(id, endpoint, event, capture, body, state, attempts, at) VALUES "
	    "(?, ?, ?, ?, ?, ?, ?, ?)", -1, &state_notice_put_stmt, NULL) !=
	    SQLITE_OK ||
	    sqlite3_prepare_v2(state_db, "INSERT OR REPLACE INTO orphans "
	    "(path, bytes, at) VALUES (?, ?, ?)", -1, &state_orphan_put_stmt,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(state_db, "DELETE FROM orphans WHERE path = ?",
	    -1, &state_orphan_del_stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s", sqlite3_errmsg(state_db));
		return (-1);
	}
	return (0);
}

/* Moves a corrupt database and its WAL and SHM aside as NAME.corrupt. */
static int
state_move_aside(const char *path, char **cause)
{
	static const char	*sfx[] = { "", "-wal", "-shm" };
	char			*from, *to;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < sizeof sfx / sizeof *sfx && rc == 0; i++) {
		from = xasprintf("%s%s", path, sfx[i]);
		to = xasprintf("%s.corrupt%s", path, sfx[i]);
		if (rename(from, to) == -1 && errno != ENOENT) {
			*cause = xasprintf("cannot move %s aside: %s", from,
			    strerror(errno));
			rc = -1;
		}
		free(from);
		free(to);
	}
	return (rc);
}

int
state_init(const char *path, int sync_full, int move_corrupt, char **cause)
{
	char	*c;
	int	 rc;

	rc = state_open(path, sync_full, cause);
	if (rc == STATE_CORRUPT && move_corrupt) {
		state_shutdown();
		log_error("state.path: %s: %s; moved aside as %s.corrupt, "
		    "starting with an empty store", path, *cause, path);
		free(*cause);
		*cause = NULL;
		if (state_move_aside(path, cause) == 0)
			rc = state_open(path, sync_full, cause);
		else
			rc = -1;
	} else if (rc == STATE_CORRUPT) {
		c = *cause;
		*cause = xasprintf("%s; refusing to start (move it aside, or "
		    "set state.on_corrupt to \"move-aside\")", c);
		free(c);
	}
	if (rc == 0)
		return (0);
	c = *cause;
	*cause = xasprintf("%s: %s", path, c);
	free(c);
	state_shutdown();
	return (-1);
}

/*
 * Can this process make path's directory (start makes the missing ones)
 * and files in it? 0, or -1 with *cause naming the directory at fault.
 */
static int
state_dir_writable(const char *path, char **cause)
{
	const char	*slash;
	char		*dir = xstrdup(path), *up;
	int		 rc;

	do {		/* the nearest directory that exists */
		slash = strrchr(dir, '/');
		up = slash == NULL ? xstrdup(".") : slash == dir ?
		    xstrdup("/") : xstrndup(dir, (size_t)(slash - dir));
		free(dir);
		dir = up;
	} while (access(dir, F_OK) == -1 && errno == ENOENT &&
	    strcmp(dir, "/") != 0 && strcmp(dir, ".") != 0);
	if ((rc = access(dir, W_OK | X_OK)) == -1)
		*cause = xasprintf("state.path: %s: cannot make it in %s "
		    "(%s): the daemon's user (uid %ld) must be able to write "
		    "there; the systemd unit's StateDirectory sees to it", path,
		    dir, strerror(errno), (long)geteuid());
	free(dir);
	return (rc);
}

int
state_check(const char *path, char **cause)
{
	sqlite3	*db = NULL;
	char	*c = NULL;
	int	 rc = 0;

	if (access(path, F_OK) == -1) {
		/* Made at start, in a directory the daemon must write. */
		if (errno == ENOENT && state_dir_writable(path, cause) == 0)
			return (0);
		if (*cause == NULL)
			*cause = xasprintf("state.path: %s: %s", path,
			    strerror(errno));
		return (-1);
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		*cause = xasprintf("state.path: %s: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return (-1);
	}
	sqlite3_busy_timeout(db, 0);
	state_db = db;
	/* Held by the running daemon (a -t before SIGHUP): that one checked. */
	if (state_quick_check(&c) == -1 && sqlite3_errcode(db) != SQLITE_BUSY &&
	    sqlite3_errcode(db) != SQLITE_LOCKED) {
		*cause = xasprintf("state.path: %s: the database is corrupt "
		    "(quick_check: %s)", path, c);
		rc = -1;
	}
	free(c);
	state_db = NULL;
	sqlite3_close(db);
	return (rc);
}

void
state_shutdown(void)
{
	sqlite3_finalize(state_put_stmt);
	sqlite3_finalize(state_del_stmt);
	sqlite3_finalize(state_orphan_put_stmt);
	sqlite3_finalize(state_orphan_del_stmt);
	sqlite3_finalize(state_notice_put_stmt);
	state_notice_put_stmt = NULL;
	state_put_stmt = state_del_stmt = NULL;
	state_orphan_put_stmt = state_orphan_del_stmt = NULL;
	/* The worker is drained: its connection goes first. */
	if (state_ckpt_db != NULL)
		sqlite3_close(state_ckpt_db);
	state_ckpt_db = NULL;
	state_ckpt_queued = state_ckpt_log = 0;
	if (state_db != NULL) {
		/* Its close checkpoints what is left: with the syncs. */
		sqlite3_exec(state_db, "PRAGMA synchronous = NORMAL;", NULL,
		    NULL, NULL);
		sqlite3_close(state_db);
	}
	state_db = NULL;
}

/* Runs a prepared statement to completion and resets it. */
static int
state_step(sqlite3_stmt *stmt, char **cause)
{
	int	rc;

	rc = sqlite3_step(stmt);
	sqlite3_reset(stmt);
	sqlite3_clear_bindings(stmt);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		log_error("%s", *cause);
		return (-1);
	}
	return (0);
}

int
state_begin(char **cause)
{
	return (state_exec("BEGIN IMMEDIATE;", cause));
}

int
state_commit(char **cause)
{
	if (state_exec("COMMIT;", cause) == 0)
		return (0);
	log_error("state store: %s", *cause);
	sqlite3_exec(state_db, "ROLLBACK;", NULL, NULL, NULL);
	return (-1);
}

int
state_put(const struct record *r, char **cause)
{
	json_t		*o;
	char		*text;
	int		 rc;

	o = record_to_json(r);
	if (r->file != NULL)
		json_object_set_new(o, "local_file", json_string(r->file));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	sqlite3_bind_text(state_put_stmt, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(state_put_stmt, 2, cap_status_name(r->status), -1,
	    SQLITE_STATIC);
	if (record_rule(r) != NULL)
		sqlite3_bind_text(state_put_stmt, 3, record_rule(r), -1,
		    SQLITE_STATIC);
	sqlite3_bind_text(state_put_stmt, 4, text, -1, SQLITE_STATIC);
	rc = state_step(state_put_stmt, cause);
	free(text);
	return (rc);
}

int
state_delete(const char *name, const struct state_orphan *keep,
    char **cause)
{
	if (keep == NULL) {
		sqlite3_bind_text(state_del_stmt, 1, name, -1, SQLITE_STATIC);
		return (state_step(state_del_stmt, cause));
	}
	/* The record goes and its file stays counted, or neither. */
	if (state_exec("BEGIN IMMEDIATE;", cause) == -1)
		return (-1);
	sqlite3_bind_text(state_del_stmt, 1, name, -1, SQLITE_STATIC);
	if (state_step(state_del_stmt, cause) == -1 ||
	    state_orphan_put(keep, cause) == -1 ||
	    state_exec("COMMIT;", cause) == -1) {
		sqlite3_exec(state_db, "ROLLBACK;", NULL, NULL, NULL);
		return (-1);
	}
	return (0);
}

int
state_orphan_put(const struct state_orphan *o, char **cause)
{
	sqlite3_bind_text(state_orphan_put_stmt, 1, o->path, -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(state_orphan_put_stmt, 2, (sqlite3_int64)o->bytes);
	sqlite3_bind_int64(state_orphan_put_stmt, 3, o->at);
	return (state_step(state_orphan_put_stmt, cause));
}

int
state_orphan_delete(const char *path, char **cause)
{
	sqlite3_bind_text(state_orphan_del_stmt, 1, path, -1, SQLITE_STATIC);
	return (state_step(state_orphan_del_stmt, cause));
}

int
state_orphan_load(void (*cb)(const struct state_orphan *, void *),
    void *arg, char **cause)
{
	struct state_orphan	 o;
	sqlite3_stmt		*stmt;
	int			 rc;

	if (sqlite3_prepare_v2(state_db, "SELECT path, bytes, at FROM orphans "
	    "ORDER BY at", -1, &stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		o.path = (const char *)sqlite3_column_text(stmt, 0);
		o.bytes = (uint64_t)sqlite3_column_int64(stmt, 1);
		o.at = sqlite3_column_int64(stmt, 2);
		if (o.path != NULL)
			cb(&o, arg);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	return (0);
}

int
state_notice_put(const struct state_notice *n, char **cause)
{
	sqlite3_stmt	*st = state_notice_put_stmt;

	sqlite3_bind_text(st, 1, n->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, n->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, n->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, n->capture, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, n->body, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, n->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, n->attempts);
	sqlite3_bind_int64(st, 8, n->at);
	return (state_step(st, cause));
}

int
state_notice_prune(int64_t before, char **cause)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if (sqlite3_prepare_v2(state_db, "DELETE FROM notices WHERE state != "
	    "'Pending' AND at < ?", -1, &stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	sqlite3_bind_int64(stmt, 1, before);
	rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	return (0);
}

int
state_notice_load(void (*cb)(const struct state_notice *, void *),
    void *arg, char **cause)
{
	struct state_notice	 n;
	sqlite3_stmt		*stmt;
	int			 rc, i;
	const char		**col[] = { &n.id, &n.endpoint, &n.event,
				    &n.capture, &n.body, &n.state };

	if (sqlite3_prepare_v2(state_db, "SELECT id, endpoint, event, "
	    "capture, body, state, attempts, at FROM notices ORDER BY at", -1,
	    &stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		for (i = 0; i < 6; i++)
			if ((*col[i] = (const char *)sqlite3_column_text(stmt,
			    i)) == NULL)
				break;
		n.attempts = sqlite3_column_int64(stmt, 6);
		n.at = sqlite3_column_int64(stmt, 7);
		if (i == 6)
			cb(&n, arg);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	return (0);
}

int
state_meta_get(const char *key, char **value)
{
	sqlite3_stmt	*stmt;
	const char	*v;

	*value = NULL;
	if (sqlite3_prepare_v2(state_db, "SELECT value FROM meta WHERE key "
	    "= ?", -1, &stmt, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) == SQLITE_ROW && (v = (const char *)
	    sqlite3_column_text(stmt, 0)) != NULL)
		*value = xstrdup(v);
	sqlite3_finalize(stmt);
	return (0);
}

int
state_meta_put(const char *key, const char *value, char **cause)
{
	sqlite3_stmt	*stmt;

	if (sqlite3_prepare_v2(state_db, "INSERT OR REPLACE INTO meta (key, "
	    "value) VALUES (?, ?)", -1, &stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	sqlite3_bind_text(stmt, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(stmt, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(stmt) != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		sqlite3_finalize(stmt);
		return (-1);
	}
	sqlite3_finalize(stmt);
	return (0);
}

int
state_load(void (*cb)(struct record *, void *), void *arg, char **cause)
{
	sqlite3_stmt	*stmt;
	struct record	*r;
	json_t		*o;
	json_error_t	 jerr;
	char		*why;
	const char	*text;
	int		 rc;

	if (sqlite3_prepare_v2(state_db, "SELECT name, record FROM captures "
	    "ORDER BY rowid", -1, &stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		text = (const char *)sqlite3_column_text(stmt, 1);
		o = json_loads(text != NULL ? text : "", 0, &jerr);
		r = o != NULL ? record_from_json(o, &why) : NULL;
		if (r == NULL) {
			/* Keep the row: a later version may read it. */
			log_error("state store: record '%s' unreadable; left "
			    "as it is", sqlite3_column_text(stmt, 0));
			if (o != NULL)
				free(why);
		} else
			cb(r, arg);
		json_decref(o);
	}
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE) {
		*cause = xasprintf("state store: %s", sqlite3_errmsg(state_db));
		return (-1);
	}
	return (0);
}
