/* SQLite storage of capture records. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "state.h"
#include "xmalloc.h"

static sqlite3		*state_db;
static sqlite3_stmt	*state_put_stmt;
static sqlite3_stmt	*state_del_stmt;

static const char state_schema[] =
    "CREATE TABLE IF NOT EXISTS captures ("
    " name TEXT PRIMARY KEY,"
    " status TEXT NOT NULL,"
    " rule TEXT,"
    " record TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS captures_status ON captures(status);"
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

int
state_init(const char *path, int sync_full, char **cause)
{
	if (sqlite3_open_v2(path, &state_db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s: %s", path, state_db != NULL ?
		    sqlite3_errmsg(state_db) : "cannot open");
		goto fail;
	}
	sqlite3_busy_timeout(state_db, 2000);
	if (state_exec("PRAGMA journal_mode = WAL;", cause) == -1 ||
	    /* Fewer, larger checkpoints: each one fsyncs on the loop. */
	    state_exec("PRAGMA wal_autocheckpoint = 10000;", cause) == -1 ||
	    state_exec(sync_full ? "PRAGMA synchronous = FULL;" :
	    "PRAGMA synchronous = NORMAL;", cause) == -1 ||
	    state_exec(state_schema, cause) == -1)
		goto fail_msg;
	if (sqlite3_prepare_v2(state_db, "INSERT OR REPLACE INTO captures "
	    "(name, status, rule, record) VALUES (?, ?, ?, ?)", -1,
	    &state_put_stmt, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(state_db, "DELETE FROM captures WHERE name = ?",
	    -1, &state_del_stmt, NULL) != SQLITE_OK) {
		*cause = xasprintf("%s", sqlite3_errmsg(state_db));
		goto fail_msg;
	}
	return (0);
fail_msg:
	{
		char	*c = *cause;

		*cause = xasprintf("%s: %s", path, c);
		free(c);
	}
fail:
	state_shutdown();
	return (-1);
}

void
state_shutdown(void)
{
	sqlite3_finalize(state_put_stmt);
	sqlite3_finalize(state_del_stmt);
	state_put_stmt = state_del_stmt = NULL;
	if (state_db != NULL)
		sqlite3_close(state_db);
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
state_delete(const char *name, char **cause)
{
	sqlite3_bind_text(state_del_stmt, 1, name, -1, SQLITE_STATIC);
	return (state_step(state_del_stmt, cause));
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
