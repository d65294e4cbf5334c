/* Capture commands shared by the REST API and MQTT. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "compat.h"
#include "record.h"
#include "session.h"
#include "util.h"
#include "xmalloc.h"

static const struct {
	int		 status;
	const char	*code;
} cmd_results[] = {
	[SESS_OK] = { 200, "OK" },
	[SESS_INVALID] = { 400, "InvalidRequest" },
	[SESS_NOT_FOUND] = { 404, "NotFound" },
	[SESS_CONFLICT] = { 409, "Conflict" },
	[SESS_LIMITED] = { 429, "LimitExceeded" },
	[SESS_FAILED] = { 500, "CaptureFailed" },
	[SESS_UNAVAILABLE] = { 503, "StoreUnavailable" },
	[SESS_PENDING] = { 500, "InternalError" },	/* never a failure */
};

json_t *
cmd_error(const char *code, const char *message)
{
	json_t	*o;
	char	*text;

	/* Messages quote input, which need not be UTF-8 (a URL path). */
	text = utf8_fix(message);
	o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message",
	    text);
	free(text);
	return (o);
}

int
cmd_fail(enum sess_result rc, char *cause, json_t **body)
{
	*body = cmd_error(cmd_results[rc].code, cause != NULL ? cause : "");
	free(cause);
	return (cmd_results[rc].status);
}

/*
 * A capture forwarded by another node's rule carries its dedup key: a
 * running capture under the same key makes it a duplicate here too.
 */
static enum sess_result
cmd_duplicate(json_t *trigger, char **cause)
{
	enum cap_status	 st;
	int64_t		 stopped;
	const char	*key, *name;

	key = json_string_value(json_object_get(trigger, "dedup_key"));
	if (key == NULL)
		return (SESS_OK);
	name = session_find_dedup(key, &st, &stopped);
	if (name == NULL || (st != CAP_RUNNING && st != CAP_NOT_STARTED))
		return (SESS_OK);
	*cause = xasprintf("duplicate: %s runs for dedup key '%s'", name, key);
	return (SESS_CONFLICT);
}

/* What a command carries, borrowed. */
struct cmd_args {
	const char	*name;
	json_t		*params;
	json_t		*trigger;
	const char	*status;
	const char	*rule;
	int		 with_file;	/* delete: the files too */
};

struct sess_listing *
cmd_list_begin(const char *status, const char *rule, json_t **body)
{
	int	st = 0;

	/* Any case, as filter protocols are taken. */
	if (status != NULL && (st = cap_status_from_name_nocase(status)) < 0) {
		*body = cmd_error("InvalidRequest", "status: must be "
		    "NotStarted, Running, Stopped or Error");
		return (NULL);
	}
	return (session_list_begin(status != NULL ? cap_status_name(st) :
	    NULL, rule));
}

static int
cmd_list(const struct cmd_args *a, json_t **body)
{
	struct sess_listing	*l;

	if ((l = cmd_list_begin(a->status, a->rule, body)) == NULL)
		return (400);
	*body = json_pack("{s:o}", "captures", session_list_next(l,
	    SIZE_MAX));
	session_list_end(l);
	return (200);
}

static int
cmd_create(const struct cmd_args *a, json_t **body)
{
	enum sess_result	 rc;
	char			*cause = NULL;

	if (a->trigger != NULL && !json_is_object(a->trigger)) {
		*body = cmd_error("InvalidRequest", "trigger: must be an "
		    "object");
		return (400);
	}
	if ((rc = cmd_duplicate(a->trigger, &cause)) != SESS_OK)
		return (cmd_fail(rc, cause, body));
	rc = session_create(a->params, a->name, a->trigger, body, &cause);
	return (rc == SESS_OK ? 201 : cmd_fail(rc, cause, body));
}

static int
cmd_get(const struct cmd_args *a, json_t **body)
{
	if ((*body = session_get(a->name)) != NULL)
		return (200);
	return (cmd_fail(SESS_NOT_FOUND, xasprintf("no capture named '%s'",
	    a->name), body));
}

static int
cmd_stop(const struct cmd_args *a, json_t **body)
{
	enum sess_result	 rc;
	char			*cause = NULL;

	rc = session_stop(a->name, STOP_MANUAL, body, &cause);
	if (rc == SESS_PENDING)
		return (CMD_PENDING);
	return (rc == SESS_OK ? 200 : cmd_fail(rc, cause, body));
}

static int
cmd_delete(const struct cmd_args *a, json_t **body)
{
	enum sess_result	 rc;
	char			*cause = NULL;

	rc = session_delete(a->name, a->with_file, &cause);
	return (rc == SESS_OK ? 204 : cmd_fail(rc, cause, body));
}

/* The commands: one table that dispatch and every message walk. */
static const struct {
	const char	*op;
	int		 named;		/* takes a capture name */
	int		(*fn)(const struct cmd_args *, json_t **);
} cmd_table[] = {
	{ "create", 1, cmd_create },
	{ "get", 1, cmd_get },
	{ "list", 0, cmd_list },
	{ "stop", 1, cmd_stop },
	{ "delete", 1, cmd_delete },
};
#define CMD_COUNT	(sizeof cmd_table / sizeof *cmd_table)

/* "op: ...: create, get, list, stop, delete" as an error body (new). */
static json_t *
cmd_op_error(const char *what)
{
	char	list[128] = "";
	size_t	i, len;
	json_t	*e;
	char	*msg;

	for (i = 0; i < CMD_COUNT; i++) {
		len = strlen(list);
		snprintf(list + len, sizeof list - len, "%s%s", i > 0 ? ", " :
		    "", cmd_table[i].op);
	}
	msg = xasprintf("op: %s, one of %s", what, list);
	e = cmd_error("InvalidRequest", msg);
	free(msg);
	return (e);
}

/* Runs op with a (its name checked here). */
static int
cmd_dispatch(const char *op, const struct cmd_args *a, json_t **body)
{
	const char	*name = a->name;
	size_t		 i;

	*body = NULL;
	for (i = 0; i < CMD_COUNT; i++)
		if (strcmp(cmd_table[i].op, op) == 0)
			break;
	if (i == CMD_COUNT) {
		*body = cmd_op_error("unknown");
		return (400);
	}
	if (cmd_table[i].named && (name == NULL || !name_valid(name))) {
		*body = cmd_error("InvalidRequest", "name: must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,79}");
		return (400);
	}
	return (cmd_table[i].fn(a, body));
}

int
cmd_run_json(json_t *cmd, json_t **body)
{
	struct cmd_args	 a;
	const char	*op;
	json_t		*cap, *file;

	if (!json_is_object(cmd) ||
	    (op = json_string_value(json_object_get(cmd, "op"))) == NULL) {
		*body = cmd_op_error("required");
		return (400);
	}
	cap = json_object_get(cmd, "capture");
	if (strcmp(op, "create") == 0 && cap == NULL) {
		*body = cmd_error("InvalidRequest", "capture: required for "
		    "create");
		return (400);
	}
	file = json_object_get(cmd, "file");
	if (file != NULL && !json_is_boolean(file)) {
		*body = cmd_error("InvalidRequest", "file: must be true or "
		    "false");
		return (400);
	}
	a.name = json_string_value(json_object_get(cmd, "name"));
	a.params = cap;
	a.trigger = json_object_get(cmd, "trigger");
	a.status = json_string_value(json_object_get(cmd, "status"));
	a.rule = json_string_value(json_object_get(cmd, "rule"));
	a.with_file = json_is_true(file);
	return (cmd_dispatch(op, &a, body));
}

/* A stop answered once the capture's record leaves Running. */
struct cmd_wait {
	char			*name;
	cmd_answer_fn		 fn;
	void			*arg;
	TAILQ_ENTRY(cmd_wait)	 entry;
};
static TAILQ_HEAD(, cmd_wait)	cmd_waits = TAILQ_HEAD_INITIALIZER(cmd_waits);
static int			cmd_observing;

/* Session observer: answers every wait on a capture that stopped. */
static void
cmd_on_record(const char *name, const struct record *r, void *arg)
{
	struct cmd_wait	*w, *w1;

	if (r != NULL && r->status == CAP_RUNNING)
		return;
	TAILQ_FOREACH_SAFE(w, &cmd_waits, entry, w1) {
		if (strcmp(w->name, name) != 0)
			continue;
		TAILQ_REMOVE(&cmd_waits, w, entry);
		if (r != NULL)
			w->fn(200, record_to_json(r), w->arg);
		else
			w->fn(404, cmd_error("NotFound", "the capture was "
			    "deleted while it stopped"), w->arg);
		free(w->name);
		free(w);
	}
}

struct cmd_wait *
cmd_wait_stop(const char *name, cmd_answer_fn fn, void *arg)
{
	struct cmd_wait	*w;

	if (!cmd_observing) {
		session_add_observer(cmd_on_record, NULL);
		cmd_observing = 1;
	}
	w = xcalloc(1, sizeof *w);
	w->name = xstrdup(name);
	w->fn = fn;
	w->arg = arg;
	TAILQ_INSERT_TAIL(&cmd_waits, w, entry);
	return (w);
}

void
cmd_wait_cancel(struct cmd_wait *w)
{
	TAILQ_REMOVE(&cmd_waits, w, entry);
	free(w->name);
	free(w);
}
