/*
 * Alert parsers: one function per format, each mapping its payload to
 * normalised alerts, and the detection /v1/alerts and MQTT "auto" use.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "util.h"
#include "xmalloc.h"

#define ALERT_MAX_PER_PAYLOAD	10000

static const char *
str(json_t *o, const char *key)
{
	return (json_string_value(json_object_get(o, key)));
}

const char *
alert_status_name(enum alert_status s)
{
	return (s == ALERT_FIRING ? "firing" : "resolved");
}

void
alert_list_clear(struct alert_list *l)
{
	size_t	i;

	for (i = 0; i < l->n; i++) {
		json_decref(l->v[i]->labels);
		json_decref(l->v[i]->annotations);
	}
	arena_reset(&l->arena);
	l->v = NULL;
	l->n = l->cap = 0;
}

/* A new alert at the end of the list, its fields empty. */
static struct alert *
alert_new(struct alert_list *l, const char *format, const char *via)
{
	struct alert	*a, **v;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : 2 * l->cap;
		v = arena_alloc(&l->arena, l->cap * sizeof *v);
		if (l->n > 0)
			memcpy(v, l->v, l->n * sizeof *v);
		l->v = v;
	}
	a = arena_alloc(&l->arena, sizeof *a);
	memset(a, 0, sizeof *a);
	a->format = format;
	a->via = via;
	l->v[l->n++] = a;
	return (a);
}

/* A map of the alert's, made when its first member is set. */
static json_t *
map(json_t **m)
{
	if (*m == NULL)
		*m = json_object();
	return (*m);
}

/*
 * Reads a {str: str} map into *dst (NULL until then): the payload's own
 * object when every value is a string, else a copy where numbers and
 * booleans become strings and nulls are dropped. Anything else is an
 * error naming path.member.KEY.
 */
static int
read_map(json_t **dst, json_t *src, const char *path, const char *member,
    char **cause)
{
	const char	*k, *dot = *path != '\0' ? "." : "";
	json_t		*v;
	char		*s;

	if (src == NULL || json_is_null(src))
		return (0);
	if (!json_is_object(src)) {
		*cause = xasprintf("%s%s%s: must be an object", path, dot,
		    member);
		return (-1);
	}
	json_object_foreach(src, k, v) {
		if (!json_is_string(v))
			break;
	}
	if (k == NULL) {
		*dst = json_incref(src);
		return (0);
	}
	*dst = json_object();
	json_object_foreach(src, k, v) {
		if (json_is_string(v))
			json_object_set(*dst, k, v);
		else if (json_is_number(v) || json_is_boolean(v)) {
			s = json_dumps(v, JSON_ENCODE_ANY);
			json_object_set_new(*dst, k, json_string(s));
			free(s);
		} else if (!json_is_null(v)) {
			*cause = xasprintf("%s%s%s.%s: must be a string", path,
			    dot, member, k);
			return (-1);
		}
	}
	return (0);
}

/* Reads an optional time; the zero time and "" mean none. */
static int
get_time(json_t *o, const char *key, const char *path, int64_t *us,
    char **cause)
{
	const char	*s;

	*us = 0;
	s = str(o, key);
	if (s == NULL || *s == '\0' || strncmp(s, "0001-01-01T", 11) == 0)
		return (0);
	if (time_parse_rfc3339(s, us) == -1) {
		*cause = xasprintf("%s.%s: '%.64s' is not an RFC 3339 time",
		    path, key, s);
		return (-1);
	}
	return (0);
}

static int
cmp_str(const void *a, const void *b)
{
	return (strcmp(*(const char * const *)a, *(const char * const *)b));
}

/* A field of a label set's fingerprint: the string, then a 0xff. */
static uint64_t
fnv_field(uint64_t h, const char *s)
{
	return (fnv1a_byte(fnv1a_str(h, s), 0xff));
}

/*
 * A stable fingerprint, the one Prometheus and Alertmanager give the same
 * label set: FNV-1a 64 over the label names in order, each followed by
 * 0xff, its value and 0xff; alertname is the alert's name unless the
 * labels have their own. No allocation but for more than 64 labels, or a
 * label whose value is not a string (written as compact JSON).
 */
static const char *
fingerprint_of(struct arena *ar, const char *name, json_t *labels)
{
	const char	*keys[64], **k = keys, *key;
	char		 hex[17], *v;
	json_t		*val;
	uint64_t	 h = FNV1A_INIT;
	size_t		 n = 0, i;

	if (json_object_size(labels) + 1 > sizeof keys / sizeof keys[0])
		k = xcalloc(json_object_size(labels) + 1, sizeof *k);
	json_object_foreach(labels, key, val)
		k[n++] = key;
	if (json_object_get(labels, "alertname") == NULL)
		k[n++] = "alertname";
	qsort(k, n, sizeof *k, cmp_str);
	for (i = 0; i < n; i++) {
		h = fnv_field(h, k[i]);
		val = json_object_get(labels, k[i]);
		if (val == NULL)
			h = fnv_field(h, name);
		else if (json_is_string(val))
			h = fnv_field(h, json_string_value(val));
		else if ((v = json_dumps(val, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_SORT_KEYS)) != NULL) {
			h = fnv_field(h, v);
			free(v);
		}
	}
	if (k != keys)
		free(k);
	snprintf(hex, sizeof hex, "%016" PRIx64, h);
	return (arena_strdup(ar, hex));
}

/* Fills the fields every format ends with. */
static void
finish(struct alert_list *l, struct alert *a, const char *source,
    const char *fp)
{
	if (a->severity == NULL) {
		const char *s = str(a->labels, "severity");

		a->severity = s != NULL ? s : "";
	}
	a->source = source != NULL && *source != '\0' ? source : a->format;
	a->fingerprint = fp != NULL && *fp != '\0' ? fp :
	    fingerprint_of(&l->arena, a->name, a->labels);
}

static int
parse_status(const char *s, const char *path, enum alert_status *st,
    char **cause)
{
	if (s != NULL && strcmp(s, "firing") == 0)
		*st = ALERT_FIRING;
	else if (s != NULL && strcmp(s, "resolved") == 0)
		*st = ALERT_RESOLVED;
	else {
		*cause = xasprintf("%s.status: must be \"firing\" or "
		    "\"resolved\"", path);
		return (-1);
	}
	return (0);
}

/* Alertmanager webhook v4 and Grafana share the alerts[] shape. */
static int
parse_am_alert(json_t *e, const char *format, const char *via,
    const char *path, struct alert_list *l, char **cause)
{
	struct alert	*a;
	const char	*name, *k;
	json_t		*vals, *v;

	if (!json_is_object(e)) {
		*cause = xasprintf("%s: must be an object", path);
		return (-1);
	}
	a = alert_new(l, format, via);
	if (parse_status(str(e, "status"), path, &a->status, cause) == -1)
		return (-1);
	if (read_map(&a->labels, json_object_get(e, "labels"), path, "labels",
	    cause) == -1 || read_map(&a->annotations, json_object_get(e,
	    "annotations"), path, "annotations", cause) == -1)
		return (-1);
	name = str(a->labels, "alertname");
	a->name = name != NULL ? name : "";
	if (get_time(e, "startsAt", path, &a->starts_at, cause) == -1 ||
	    get_time(e, "endsAt", path, &a->ends_at, cause) == -1)
		return (-1);
	/* Grafana: the first numeric value, by name (B before C). */
	vals = json_object_get(e, "values");
	if (json_is_object(vals)) {
		const char	*best = NULL;

		json_object_foreach(vals, k, v) {
			if (json_is_number(v) && (best == NULL ||
			    strcmp(k, best) < 0)) {
				best = k;
				a->value = json_number_value(v);
				a->has_value = 1;
			}
		}
	}
	finish(l, a, NULL, str(e, "fingerprint"));
	if (*a->name == '\0') {
		*cause = xasprintf("%s.labels.alertname: required", path);
		return (-1);
	}
	return (0);
}

/*
 * Alertmanager's and Grafana's grouped payload: one alert per item of
 * alerts[].
 */
static int
parse_grouped(json_t *p, const char *format, const char *via,
    struct alert_list *l, char **cause)
{
	json_t	*alerts, *e;
	size_t	 i;
	char	 path[48];

	alerts = json_object_get(p, "alerts");
	if (!json_is_array(alerts)) {
		*cause = xstrdup("alerts: must be an array");
		return (-1);
	}
	if (json_array_size(alerts) > ALERT_MAX_PER_PAYLOAD) {
		*cause = xasprintf("alerts: more than %d", ALERT_MAX_PER_PAYLOAD);
		return (-1);
	}
	json_array_foreach(alerts, i, e) {
		snprintf(path, sizeof path, "alerts[%zu]", i);
		if (parse_am_alert(e, format, via, path, l, cause) == -1)
			return (-1);
	}
	return (0);
}

/* The last segment of an Azure resource ID. */
static const char *
resource_name(const char *id)
{
	const char	*s;

	if (id == NULL)
		return (NULL);
	s = strrchr(id, '/');
	return (s != NULL ? s + 1 : id);
}

/* Metric condition: name, namespace, dimensions as labels; the value. */
static void
azure_condition(struct alert *a, json_t *cond)
{
	json_t		*c, *d;
	size_t		 i;
	const char	*n, *v;

	c = json_array_get(json_object_get(cond, "allOf"), 0);
	if (!json_is_object(c))
		return;
	if ((n = str(c, "metricName")) != NULL)
		json_object_set_new(map(&a->labels), "metricName",
		    json_string(n));
	if ((n = str(c, "metricNamespace")) != NULL)
		json_object_set_new(map(&a->labels), "metricNamespace",
		    json_string(n));
	if ((n = str(c, "operator")) != NULL)
		json_object_set_new(map(&a->labels), "operator",
		    json_string(n));
	if ((n = str(c, "threshold")) != NULL)
		json_object_set_new(map(&a->labels), "threshold",
		    json_string(n));
	json_array_foreach(json_object_get(c, "dimensions"), i, d) {
		n = str(d, "name");
		v = str(d, "value");
		if (n != NULL && v != NULL)
			json_object_set_new(map(&a->labels), n, json_string(v));
	}
	if (json_is_number(json_object_get(c, "metricValue"))) {
		a->value = json_number_value(json_object_get(c,
		    "metricValue"));
		a->has_value = 1;
	}
}

static void
set_label(struct alert *a, const char *k, const char *v)
{
	if (v != NULL && *v != '\0')
		json_object_set_new(map(&a->labels), k, json_string(v));
}

/* The common alert schema (azureMonitorCommonAlertSchema). */
static int
parse_azure_common(json_t *p, const char *via, struct alert_list *l,
    char **cause)
{
	struct alert	*a;
	json_t		*ess, *ctx;
	const char	*cond, *target;

	ess = json_object_get(json_object_get(p, "data"), "essentials");
	if (!json_is_object(ess)) {
		*cause = xstrdup("data.essentials: must be an object");
		return (-1);
	}
	a = alert_new(l, alert_format_name(AFMT_AZURE_MONITOR), via);
	cond = str(ess, "monitorCondition");
	if (cond != NULL && strcmp(cond, "Fired") == 0)
		a->status = ALERT_FIRING;
	else if (cond != NULL && strcmp(cond, "Resolved") == 0)
		a->status = ALERT_RESOLVED;
	else {
		*cause = xstrdup("data.essentials.monitorCondition: must be "
		    "\"Fired\" or \"Resolved\"");
		return (-1);
	}
	if (str(ess, "alertRule") == NULL) {
		*cause = xstrdup("data.essentials.alertRule: required");
		return (-1);
	}
	a->name = str(ess, "alertRule");
	a->severity = str(ess, "severity") != NULL ? str(ess, "severity") : "";
	target = json_string_value(json_array_get(json_object_get(ess,
	    "alertTargetIDs"), 0));
	set_label(a, "alertTargetID", target);
	set_label(a, "resourceName", resource_name(target));
	set_label(a, "configurationItem", json_string_value(json_array_get(
	    json_object_get(ess, "configurationItems"), 0)));
	set_label(a, "signalType", str(ess, "signalType"));
	set_label(a, "monitoringService", str(ess, "monitoringService"));
	if (str(ess, "description") != NULL)
		json_object_set_new(map(&a->annotations), "description",
		    json_string(str(ess, "description")));
	ctx = json_object_get(json_object_get(p, "data"), "alertContext");
	azure_condition(a, json_object_get(ctx, "condition"));
	if (get_time(ess, "firedDateTime", "data.essentials", &a->starts_at,
	    cause) == -1 || get_time(ess, "resolvedDateTime",
	    "data.essentials", &a->ends_at, cause) == -1)
		return (-1);
	finish(l, a, NULL, str(ess, "alertId"));
	return (0);
}

/* The older metric alert schema (AzureMonitorMetricAlert). */
static int
parse_azure_metric(json_t *p, const char *via, struct alert_list *l,
    char **cause)
{
	struct alert	*a;
	json_t		*data, *ctx;
	const char	*st, *sev, *fp = NULL;
	char		*id;
	json_t		*lab;

	data = json_object_get(p, "data");
	ctx = json_object_get(data, "context");
	if (!json_is_object(ctx)) {
		*cause = xstrdup("data.context: must be an object");
		return (-1);
	}
	a = alert_new(l, alert_format_name(AFMT_AZURE_MONITOR), via);
	st = str(data, "status");
	if (st != NULL && strcmp(st, "Activated") == 0)
		a->status = ALERT_FIRING;
	else if (st != NULL && (strcmp(st, "Resolved") == 0 ||
	    strcmp(st, "Deactivated") == 0))
		a->status = ALERT_RESOLVED;
	else {
		*cause = xstrdup("data.status: must be \"Activated\" or "
		    "\"Resolved\"");
		return (-1);
	}
	if (str(ctx, "name") == NULL) {
		*cause = xstrdup("data.context.name: required");
		return (-1);
	}
	a->name = str(ctx, "name");
	sev = str(ctx, "severity");
	a->severity = sev == NULL ? "" : strncmp(sev, "Sev", 3) == 0 ? sev :
	    arena_printf(&l->arena, "Sev%s", sev);
	set_label(a, "resourceName", str(ctx, "resourceName"));
	set_label(a, "resourceGroupName", str(ctx, "resourceGroupName"));
	set_label(a, "resourceId", str(ctx, "resourceId"));
	set_label(a, "resourceType", str(ctx, "resourceType"));
	set_label(a, "subscriptionId", str(ctx, "subscriptionId"));
	if (str(ctx, "description") != NULL)
		json_object_set_new(map(&a->annotations), "description",
		    json_string(str(ctx, "description")));
	azure_condition(a, json_object_get(ctx, "condition"));
	if (get_time(ctx, "timestamp", "data.context", &a->starts_at,
	    cause) == -1)
		return (-1);
	/* One rule on one resource is one alert, firing or resolved. */
	if (str(ctx, "id") != NULL) {
		id = xasprintf("%s|%s", str(ctx, "id"), str(ctx, "resourceId") !=
		    NULL ? str(ctx, "resourceId") : "");
		lab = json_pack("{s:s}", "id", id);
		fp = fingerprint_of(&l->arena, a->name, lab);
		json_decref(lab);
		free(id);
	}
	finish(l, a, NULL, fp);
	return (0);
}

/*
 * One generic alert object at path; name and status required, unknown keys
 * ignored.
 */
static int
parse_generic_one(json_t *e, const char *via, const char *path,
    struct alert_list *l, char **cause)
{
	struct alert	*a;
	json_t		*v;

	if (!json_is_object(e)) {
		*cause = xasprintf("%s: must be an object", path);
		return (-1);
	}
	a = alert_new(l, alert_format_name(AFMT_GENERIC), via);
	if (!json_is_string(json_object_get(e, "name")) ||
	    *str(e, "name") == '\0') {
		*cause = xasprintf("%s%sname: required, a string", path,
		    *path != '\0' ? "." : "");
		return (-1);
	}
	a->name = str(e, "name");
	if (parse_status(str(e, "status"), *path != '\0' ? path : "(alert)",
	    &a->status, cause) == -1)
		return (-1);
	if ((v = json_object_get(e, "severity")) != NULL && !json_is_null(v)) {
		if (!json_is_string(v)) {
			*cause = xasprintf("%s%sseverity: must be a string",
			    path, *path != '\0' ? "." : "");
			return (-1);
		}
		a->severity = json_string_value(v);
	}
	if (read_map(&a->labels, json_object_get(e, "labels"), path, "labels",
	    cause) == -1 || read_map(&a->annotations, json_object_get(e,
	    "annotations"), path, "annotations", cause) == -1)
		return (-1);
	v = json_object_get(e, "value");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_number(v)) {
			*cause = xasprintf("%s%svalue: must be a number or "
			    "null", path, *path != '\0' ? "." : "");
			return (-1);
		}
		a->value = json_number_value(v);
		a->has_value = 1;
	}
	if (get_time(e, "starts_at", *path != '\0' ? path : "(alert)",
	    &a->starts_at, cause) == -1 || get_time(e, "ends_at",
	    *path != '\0' ? path : "(alert)", &a->ends_at, cause) == -1)
		return (-1);
	finish(l, a, str(e, "source"), str(e, "fingerprint"));
	return (0);
}

typedef int (*alert_one_fn)(json_t *, const char *via, const char *path,
    struct alert_list *, char **cause);

/*
 * A batch: each element of array (named member, "" at the top) through
 * one, its path "member[i]"; at most ALERT_MAX_PER_PAYLOAD of them.
 */
static int
parse_batch(json_t *array, const char *member, alert_one_fn one,
    const char *via, struct alert_list *l, char **cause)
{
	json_t	*e;
	size_t	 i;
	char	 path[48];

	if (json_array_size(array) > ALERT_MAX_PER_PAYLOAD) {
		*cause = *member != '\0' ? xasprintf("%s: more than %d",
		    member, ALERT_MAX_PER_PAYLOAD) : xasprintf("more than %d "
		    "alerts", ALERT_MAX_PER_PAYLOAD);
		return (-1);
	}
	json_array_foreach(array, i, e) {
		snprintf(path, sizeof path, "%s[%zu]", member, i);
		if (one(e, via, path, l, cause) == -1)
			return (-1);
	}
	return (0);
}

/* A generic payload: one alert object or an array of them. */
static int
parse_generic(json_t *p, const char *format, const char *via,
    struct alert_list *l, char **cause)
{
	if (!json_is_array(p))
		return (parse_generic_one(p, via, "", l, cause));
	return (parse_batch(p, "", parse_generic_one, via, l, cause));
}

/*
 * A Telegraf timestamp in microseconds: its JSON serializer writes s, ms,
 * us or ns (json_timestamp_units), told apart here by magnitude.
 */
static int64_t
telegraf_time(json_int_t t)
{
	if (t <= 0)
		return (0);
	if (t < 100000000000LL)			/* seconds until year 5138 */
		return ((int64_t)t * 1000000);
	if (t < 100000000000000LL)		/* milliseconds */
		return ((int64_t)t * 1000);
	if (t < 100000000000000000LL)		/* microseconds */
		return ((int64_t)t);
	return ((int64_t)(t / 1000));		/* nanoseconds */
}

/*
 * One Telegraf metric {"name", "tags", "fields", "timestamp"}: each
 * numeric field is a sample named measurement.field with the tags as
 * labels. Rules' value conditions decide firing and resolution.
 */
static int
parse_telegraf_metric(json_t *m, const char *via, const char *path,
    struct alert_list *l, char **cause)
{
	struct alert	*a;
	json_t		*fields, *v, *ts;
	const char	*name, *k;

	if (!json_is_object(m) || (name = str(m, "name")) == NULL ||
	    !json_is_object(fields = json_object_get(m, "fields"))) {
		*cause = xasprintf("%s: a Telegraf metric needs name and fields",
		    *path != '\0' ? path : "(metric)");
		return (-1);
	}
	json_object_foreach(fields, k, v) {
		if (!json_is_number(v))
			continue;
		a = alert_new(l, alert_format_name(AFMT_TELEGRAF), via);
		a->sample = 1;
		a->status = ALERT_FIRING;
		a->name = arena_printf(&l->arena, "%s.%s", name, k);
		if (read_map(&a->labels, json_object_get(m, "tags"), path,
		    "tags", cause) == -1)
			return (-1);
		a->value = json_number_value(v);
		a->has_value = 1;
		ts = json_object_get(m, "timestamp");
		if (json_is_integer(ts))
			a->starts_at = telegraf_time(json_integer_value(ts));
		finish(l, a, "telegraf", NULL);
	}
	return (0);
}

/* A Telegraf JSON payload: one metric, or a batch under "metrics". */
static int
parse_telegraf(json_t *p, const char *format, const char *via,
    struct alert_list *l, char **cause)
{
	json_t	*batch = json_object_get(p, "metrics");

	if (!json_is_array(batch))
		return (parse_telegraf_metric(p, via, "", l, cause));
	return (parse_batch(batch, "metrics", parse_telegraf_metric, via, l,
	    cause));
}

/*
 * Grafana's MQTT contact point sends the template data without orgId,
 * state or title: a groupKey and alerts whose items carry Grafana's own
 * fingerprint or values.
 */
static int
grafana_grouped(json_t *p)
{
	json_t	*a;

	if (json_object_get(p, "groupKey") == NULL)
		return (0);
	a = json_array_get(json_object_get(p, "alerts"), 0);
	return (json_object_get(a, "fingerprint") != NULL ||
	    json_object_get(a, "values") != NULL);
}

/* An Azure Monitor payload, by its schemaId. */
static int
parse_azure(json_t *p, const char *format, const char *via,
    struct alert_list *l, char **cause)
{
	const char	*schema = str(p, "schemaId");

	if (schema != NULL && strcmp(schema,
	    "azureMonitorCommonAlertSchema") == 0)
		return (parse_azure_common(p, via, l, cause));
	if (schema != NULL && strcmp(schema, "AzureMonitorMetricAlert") == 0)
		return (parse_azure_metric(p, via, l, cause));
	*cause = xstrdup("schemaId: must be azureMonitorCommonAlertSchema or "
	    "AzureMonitorMetricAlert");
	return (-1);
}

typedef int (*alert_parse_fn)(json_t *, const char *format, const char *via,
    struct alert_list *, char **cause);

static const struct alert_format_def {
	const char	*name;
	alert_parse_fn	 parse;
} alert_format_defs[AFMT_MAX] = {
#define AFMT_NAME(id, nm, senders) [id].name = nm,
	ALERT_WEBHOOK_FORMATS(AFMT_NAME)
#undef AFMT_NAME
	[AFMT_TELEGRAF].name = ALERT_FORMAT_TELEGRAF,

	[AFMT_ALERTMANAGER].parse = parse_grouped,
	[AFMT_GRAFANA].parse = parse_grouped,
	[AFMT_AZURE_MONITOR].parse = parse_azure,
	[AFMT_GENERIC].parse = parse_generic,
	[AFMT_TELEGRAF].parse = parse_telegraf,
};

const char *
alert_format_name(int f)
{
	return (f >= 0 && f < AFMT_MAX ? alert_format_defs[f].name : NULL);
}

int
alert_format_find(const char *name)
{
	int	f;

	for (f = 0; name != NULL && f < AFMT_MAX; f++)
		if (strcmp(alert_format_defs[f].name, name) == 0)
			return (f);
	return (-1);
}

const char *
alert_format_list(int webhook_only)
{
	static char	 lists[2][160];
	char		*s = lists[webhook_only != 0];
	int		 f, n = webhook_only ? AFMT_WEBHOOK_MAX : AFMT_MAX;

	if (*s != '\0')
		return (s);
	for (f = 0; f < n; f++)
		snprintf(s + strlen(s), sizeof lists[0] - strlen(s), "%s%s",
		    f == 0 ? "" : f == n - 1 && !webhook_only ? " or " : ", ",
		    alert_format_defs[f].name);
	return (s);
}

const char *
alert_detect(json_t *p)
{
	const char	*v;
	int		 f = AFMT_GENERIC;

	if (!json_is_object(p))
		f = AFMT_GENERIC;
	else if (json_is_string(json_object_get(p, "schemaId")))
		f = AFMT_AZURE_MONITOR;
	else if ((v = str(p, "version")) != NULL && strcmp(v, "1") == 0 &&
	    (json_object_get(p, "orgId") != NULL ||
	    json_object_get(p, "state") != NULL || grafana_grouped(p)))
		f = AFMT_GRAFANA;
	else if (v != NULL && strcmp(v, "4") == 0 &&
	    json_object_get(p, "groupKey") != NULL &&
	    json_object_get(p, "alerts") != NULL)
		f = AFMT_ALERTMANAGER;
	return (alert_format_name(f));
}

int
alert_parse(json_t *p, const char *format, const char *via,
    struct alert_list *l, char **cause)
{
	int	f, rc;

	if (format == NULL || strcmp(format, "auto") == 0)
		format = alert_detect(p);
	if ((f = alert_format_find(format)) == -1) {
		*cause = xasprintf("format: '%s' is not one of %s", format,
		    alert_format_list(1));
		return (-1);
	}
	if (f != AFMT_GENERIC && !json_is_object(p)) {
		*cause = xasprintf("body: a %s payload is a JSON object",
		    format);
		return (-1);
	}
	rc = alert_format_defs[f].parse(p, alert_format_defs[f].name, via, l,
	    cause);
	if (rc == -1)
		alert_list_clear(l);
	return (rc);
}

json_t *
alert_to_json(const struct alert *a)
{
	char	 s[40], e[40];

	return (json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, "
	    "s:o, s:o, s:s}",
	    "format", a->format, "via", a->via, "source", a->source,
	    "status", alert_status_name(a->status), "name", a->name,
	    "severity", a->severity,
	    "labels", a->labels != NULL ? json_incref(a->labels) : json_object(),
	    "annotations", a->annotations != NULL ?
	    json_incref(a->annotations) : json_object(),
	    "value", a->has_value ? json_real(a->value) : json_null(),
	    "starts_at", a->starts_at != 0 ? json_string(time_rfc3339(s,
	    sizeof s, a->starts_at)) : json_null(),
	    "ends_at", a->ends_at != 0 ? json_string(time_rfc3339(e,
	    sizeof e, a->ends_at)) : json_null(),
	    "fingerprint", a->fingerprint));
}
