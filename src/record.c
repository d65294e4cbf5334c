/* Capture records: name tables, and to and from JSON. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "record.h"
#include "util.h"
#include "xmalloc.h"

static const char *status_names[] = { "NotStarted", "Running", "Stopped",
    "Error" };
static const char *reason_names[] = { NULL, "TimeExceeded", "BytesExceeded",
    "PacketsExceeded", "ManualStop", "AlertResolved", "Shutdown",
    "Interrupted" };
static const char *error_names[] = { "CaptureFailed", "LocalFileFailed",
    "StorageFailed", "InternalError", "AgentStopped" };

const char *
cap_status_name(enum cap_status s)
{
	return (status_names[s]);
}

const char *
stop_reason_name(enum stop_reason r)
{
	return (reason_names[r]);
}

const char *
cap_error_name(enum cap_error e)
{
	return (error_names[e]);
}

static int
status_index(const char *s, int (*cmp)(const char *, const char *))
{
	int	i;

	for (i = 0; i < (int)(sizeof status_names / sizeof *status_names); i++)
		if (cmp(status_names[i], s) == 0)
			return (i);
	return (-1);
}

int
cap_status_from_name(const char *s)
{
	return (status_index(s, strcmp));
}

int
cap_status_from_name_nocase(const char *s)
{
	return (status_index(s, strcasecmp));
}

static int
reason_from_name(const char *s)
{
	int	i;

	for (i = 1; i < (int)(sizeof reason_names / sizeof *reason_names); i++)
		if (strcmp(reason_names[i], s) == 0)
			return (i);
	return (-1);
}

struct record *
record_new(const char *name, const char *node, json_t *params,
    json_t *trigger)
{
	struct record	*r;

	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	r->node = xstrdup(node);
	r->params = json_deep_copy(params);
	r->trigger = trigger != NULL ? json_deep_copy(trigger) :
	    json_pack("{s:s}", "kind", "manual");
	r->errors = json_array();
	r->events = json_array();
	r->uploads = json_array();
	r->created_at = now_us();
	return (r);
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	free(r->name);
	free(r->node);
	json_decref(r->params);
	json_decref(r->trigger);
	json_decref(r->errors);
	json_decref(r->events);
	json_decref(r->uploads);
	free(r->file);
	free(r->file_uri);
	free(r->file_deleted_why);
	json_decref(r->files);
	free(r->expression);
	json_decref(r->resolved);
	json_decref(r->snapshots);
	free(r);
}

static json_t *
time_json(int64_t us)
{
	char	buf[40];

	if (us == 0)
		return (json_null());
	return (json_string(time_rfc3339(buf, sizeof buf, us)));
}

void
record_event(struct record *r, const char *message)
{
	json_t	*e;

	e = json_pack("{s:o, s:s}", "at", time_json(now_us()), "status",
	    cap_status_name(r->status));
	if (r->stop_reason != STOP_NONE)
		json_object_set_new(e, "stop_reason",
		    json_string(stop_reason_name(r->stop_reason)));
	if (message != NULL)
		json_object_set_new(e, "message", json_string(message));
	json_array_append_new(r->events, e);
}

void
record_error(struct record *r, enum cap_error code, const char *msg)
{
	json_array_append_new(r->errors, json_pack("{s:s, s:s}", "code",
	    cap_error_name(code), "message", msg));
}

double
record_gap_s(const struct record *r)
{
	if (!r->has_lookback || r->lb_gap_us <= 0)
		return (0);
	return ((double)(r->lb_gap_us / 1000) / 1000.0);
}

/* The record's lookback object, or null. */
static json_t *
lookback_json(const struct record *r)
{
	if (!r->has_lookback)
		return (json_null());
	return (json_pack("{s:o, s:o, s:f, s:I, s:I}",
	    "requested_from", time_json(r->lb_requested),
	    "covered_from", time_json(r->lb_covered),
	    "gap_s", record_gap_s(r),
	    "packets", (json_int_t)r->lb_packets,
	    "bytes", (json_int_t)r->lb_bytes));
}

/* Where the capture's local file stands: writing, local, deleted, none. */
static json_t *
file_state_json(const struct record *r)
{
	const char	*st;
	json_t		*e;
	size_t		 i;

	if (r->files != NULL) {		/* continuous: local while any is */
		json_array_foreach(r->files, i, e) {
			st = json_string_value(json_object_get(e, "state"));
			if (st != NULL && strcmp(st, "Deleted") != 0)
				return (json_string(r->status == CAP_RUNNING ?
				    "writing" : "local"));
		}
		return (json_array_size(r->files) > 0 ?
		    json_string("deleted") : json_null());
	}
	if (r->file_deleted_at != 0)
		return (json_string("deleted"));
	if (r->file_uri != NULL)
		return (json_string("local"));
	if (r->status == CAP_RUNNING)
		return (json_string("writing"));
	return (json_null());
}

uint64_t
record_files_complete(const struct record *r)
{
	const char	*st;
	json_t		*e;
	size_t		 i, n = 0;

	json_array_foreach(r->files, i, e) {
		st = json_string_value(json_object_get(e, "state"));
		if (st != NULL && strcmp(st, "Complete") == 0)
			n++;
	}
	return (n);
}

uint64_t
record_files_held(const struct record *r)
{
	json_int_t	count;
	size_t		complete = record_files_complete(r);

	count = json_integer_value(json_object_get(json_object_get(r->params,
	    "continuous"), "file_count"));
	return ((json_int_t)complete > count ? (uint64_t)((json_int_t)complete -
	    count) : 0);
}

void
record_file_deleted(struct record *r, const char *why)
{
	free(r->file_uri);
	r->file_uri = NULL;
	free(r->file_deleted_why);
	r->file_deleted_why = xstrdup(why);
	r->file_deleted_at = now_us();
}

json_t *
record_to_json(const struct record *r)
{
	json_t	*o, *life;

	o = json_deep_copy(r->params);
	life = json_pack("{s:s, s:s, s:s, s:o, s:O, s:I, s:I, "
	    "s:I, s:I, s:o, s:o, s:o, s:o, s:O, s:o, s:O, s:O}",
	    "name", r->name,
	    "node", r->node,
	    "status", cap_status_name(r->status),
	    "stop_reason", r->stop_reason == STOP_NONE ? json_null() :
	    json_string(stop_reason_name(r->stop_reason)),
	    "errors", r->errors,
	    "packets", (json_int_t)r->packets,
	    "bytes", (json_int_t)r->bytes,
	    "kernel_drops", (json_int_t)r->kernel_drops,
	    "if_drops", (json_int_t)r->if_drops,
	    "sha256", r->sha256[0] == '\0' ? json_null() :
	    json_string(r->sha256),
	    "created_at", time_json(r->created_at),
	    "started_at", time_json(r->started_at),
	    "stopped_at", time_json(r->stopped_at),
	    "trigger", r->trigger,
	    "file", r->file_uri != NULL ? json_string(r->file_uri) :
	    json_null(),
	    "uploads", r->uploads,
	    "events", r->events);
	json_object_set_new(life, "lookback", lookback_json(r));
	json_object_set_new(life, "file_state", file_state_json(r));
	json_object_set_new(life, "expression", r->expression != NULL ?
	    json_string(r->expression) : json_null());
	json_object_set_new(life, "resolved", r->resolved != NULL ?
	    json_incref(r->resolved) : json_null());
	json_object_set_new(life, "snapshots", r->snapshots != NULL ?
	    json_incref(r->snapshots) : json_null());
	if (r->files != NULL) {
		json_object_set(life, "files", r->files);
		json_object_set_new(life, "files_held", json_integer(
		    (json_int_t)record_files_held(r)));
	}
	json_object_set_new(life, "file_deleted", r->file_deleted_at == 0 ?
	    json_null() : json_pack("{s:o, s:s}", "at",
	    time_json(r->file_deleted_at), "reason", r->file_deleted_why != NULL ?
	    r->file_deleted_why : ""));
	json_object_update(o, life);
	json_decref(life);
	return (o);
}

static int64_t
time_from(json_t *o, const char *key)
{
	int64_t		 us;
	const char	*s = json_string_value(json_object_get(o, key));

	if (s == NULL || time_parse_rfc3339(s, &us) == -1)
		return (0);
	return (us);
}

static uint64_t
uint_from(json_t *o, const char *key)
{
	json_int_t	v = json_integer_value(json_object_get(o, key));

	return (v < 0 ? 0 : (uint64_t)v);
}

/* Copies a member or, if absent, uses a new default. */
static json_t *
member_or(json_t *o, const char *key, json_t *def)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return (def);
	json_decref(def);
	return (json_deep_copy(v));
}

struct record *
record_from_json(json_t *o, char **cause)
{
	static const char *lifecycle[] = { "node", "status", "stop_reason",
	    "errors", "packets", "bytes", "kernel_drops", "if_drops", "sha256",
	    "created_at", "started_at", "stopped_at", "trigger", "file",
	    "uploads", "events", "local_file", "lookback", "file_state",
	    "file_deleted", "files", "files_held", "expression", "resolved",
	    "snapshots", NULL };
	struct record	*r;
	json_t		*lb, *fd;
	const char	*name, *status, *s;
	int		 i;

	name = json_string_value(json_object_get(o, "name"));
	status = json_string_value(json_object_get(o, "status"));
	if (name == NULL || status == NULL || cap_status_from_name(status) < 0) {
		*cause = xstrdup("record lacks a name or a valid status");
		return (NULL);
	}
	r = xcalloc(1, sizeof *r);
	r->name = xstrdup(name);
	s = json_string_value(json_object_get(o, "node"));
	r->node = xstrdup(s != NULL ? s : "");
	r->status = cap_status_from_name(status);
	s = json_string_value(json_object_get(o, "stop_reason"));
	r->stop_reason = s != NULL && reason_from_name(s) > 0 ?
	    reason_from_name(s) : STOP_NONE;
	r->params = json_deep_copy(o);
	for (i = 0; lifecycle[i] != NULL; i++)
		json_object_del(r->params, lifecycle[i]);
	r->trigger = member_or(o, "trigger", json_pack("{s:s}", "kind",
	    "manual"));
	r->errors = member_or(o, "errors", json_array());
	r->events = member_or(o, "events", json_array());
	r->uploads = member_or(o, "uploads", json_array());
	r->packets = uint_from(o, "packets");
	r->bytes = uint_from(o, "bytes");
	r->kernel_drops = uint_from(o, "kernel_drops");
	r->if_drops = uint_from(o, "if_drops");
	s = json_string_value(json_object_get(o, "sha256"));
	if (s != NULL && strlen(s) == 64)
		memcpy(r->sha256, s, 65);
	r->created_at = time_from(o, "created_at");
	r->started_at = time_from(o, "started_at");
	r->stopped_at = time_from(o, "stopped_at");
	s = json_string_value(json_object_get(o, "file"));
	r->file_uri = s != NULL ? xstrdup(s) : NULL;
	s = json_string_value(json_object_get(o, "local_file"));
	r->file = s != NULL ? xstrdup(s) : NULL;
	if (json_is_object(json_object_get(o, "snapshots")))
		r->snapshots = json_deep_copy(json_object_get(o, "snapshots"));
	if (json_is_object(json_object_get(o, "resolved")))
		r->resolved = json_deep_copy(json_object_get(o, "resolved"));
	s = json_string_value(json_object_get(o, "expression"));
	r->expression = s != NULL ? xstrdup(s) : NULL;
	if (json_is_array(json_object_get(o, "files")))
		r->files = json_deep_copy(json_object_get(o, "files"));
	if ((fd = json_object_get(o, "file_deleted")) != NULL &&
	    json_is_object(fd)) {
		r->file_deleted_at = time_from(fd, "at");
		s = json_string_value(json_object_get(fd, "reason"));
		r->file_deleted_why = xstrdup(s != NULL ? s : "");
	}
	lb = json_object_get(o, "lookback");
	if (json_is_object(lb)) {
		r->has_lookback = 1;
		r->lb_requested = time_from(lb, "requested_from");
		r->lb_covered = time_from(lb, "covered_from");
		r->lb_gap_us = (int64_t)(json_number_value(json_object_get(lb,
		    "gap_s")) * 1e6);
		r->lb_packets = uint_from(lb, "packets");
		r->lb_bytes = uint_from(lb, "bytes");
	}
	return (r);
}

const char *
record_rule(const struct record *r)
{
	return (json_string_value(json_object_get(r->trigger, "rule")));
}
