/* Capture commands shared by the REST API and MQTT. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "cmd.h"
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

int
cmd_run(const char *op, const char *name, json_t *params, json_t *trigger,
    const char *status, const char *rule, json_t **body)
{
	enum sess_result	 rc;
	char			*cause = NULL;
	int			 st = 0;

	*body = NULL;
	if (strcmp(op, "list") == 0) {
		/* Any case, as filter protocols are taken. */
		if (status != NULL && (st = cap_status_from_name_nocase(
		    status)) < 0) {
			*body = cmd_error("InvalidRequest", "status: must be "
			    "NotStarted, Running, Stopped or Error");
			return (400);
		}
		*body = session_list(status != NULL ? cap_status_name(st) :
		    NULL, rule);
		return (200);
	}
	if (name == NULL || !name_valid(name)) {
		*body = cmd_error("InvalidRequest", "name: must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,79}");
		return (400);
	}
	if (strcmp(op, "create") == 0) {
		if (trigger != NULL && !json_is_object(trigger)) {
			*body = cmd_error("InvalidRequest", "trigger: must be "
			    "an object");
			return (400);
		}
		if ((rc = cmd_duplicate(trigger, &cause)) != SESS_OK)
			return (cmd_fail(rc, cause, body));
		rc = session_create(params, name, trigger, body, &cause);
		return (rc == SESS_OK ? 201 : cmd_fail(rc, cause, body));
	}
	if (strcmp(op, "get") == 0) {
		if ((*body = session_get(name)) != NULL)
			return (200);
		return (cmd_fail(SESS_NOT_FOUND, xasprintf("no capture named "
		    "'%s'", name), body));
	}
	if (strcmp(op, "stop") == 0) {
		rc = session_stop(name, STOP_MANUAL, body, &cause);
		if (rc == SESS_PENDING)
			return (CMD_PENDING);
		return (rc == SESS_OK ? 200 : cmd_fail(rc, cause, body));
	}
	if (strcmp(op, "delete") == 0) {
		rc = session_delete(name, &cause);
		return (rc == SESS_OK ? 204 : cmd_fail(rc, cause, body));
	}
	*body = cmd_error("InvalidRequest", "op: must be create, get, list, "
	    "stop or delete");
	return (400);
}

int
cmd_run_json(json_t *cmd, json_t **body)
{
	const char	*op;
	json_t		*cap;

	if (!json_is_object(cmd) ||
	    (op = json_string_value(json_object_get(cmd, "op"))) == NULL) {
		*body = cmd_error("InvalidRequest", "op: required, one of "
		    "create, get, list, stop, delete");
		return (400);
	}
	cap = json_object_get(cmd, "capture");
	if (strcmp(op, "create") == 0 && cap == NULL) {
		*body = cmd_error("InvalidRequest", "capture: required for "
		    "create");
		return (400);
	}
	return (cmd_run(op, json_string_value(json_object_get(cmd, "name")),
	    cap, json_object_get(cmd, "trigger"), json_string_value(json_object_get(cmd, "status")),
	    json_string_value(json_object_get(cmd, "rule")), body));
}
