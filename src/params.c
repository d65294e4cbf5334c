/* Parsing and checking capture parameters. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "filter.h"
#include "conf.h"
#include "params.h"
#include "pcapfile.h"
#include "util.h"
#include "xmalloc.h"

static const char *target_keys[] = { "interface", "node", "netns", "pid",
    "container", NULL };
static const char *storage_keys[] = { "file", "accounts", NULL };
static const char *params_keys[] = { "name", "target", "max_bytes_per_packet",
    "max_bytes_per_session", "time_limit_s", "max_packets", "filters", "bpf",
    "storage", "lookback_s", "from", "format", "continuous", "context",
    "notify", NULL };

/* Fails if obj holds a key not in keys; prefix names obj in the message. */
static int
check_keys(json_t *obj, const char **keys, const char *prefix, char **cause)
{
	const char	*key;
	json_t		*v;
	int		 k;

	json_object_foreach(obj, key, v) {
		for (k = 0; keys[k] != NULL; k++)
			if (strcmp(keys[k], key) == 0)
				break;
		if (keys[k] == NULL) {
			*cause = xasprintf("%s%s: unknown key", prefix, key);
			return (-1);
		}
	}
	return (0);
}

/* Reads an optional integer member within bounds; def when absent. */
static int
get_int(json_t *obj, const char *key, long long min, long long max,
    long long def, long long *out, char **cause)
{
	json_t	*v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v)) {
		*out = def;
		return (0);
	}
	if (!json_is_integer(v)) {
		*cause = xasprintf("%s: must be an integer", key);
		return (-1);
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		*cause = xasprintf("%s: %lld is out of range %lld..%lld", key,
		    (long long)json_integer_value(v), min, max);
		return (-1);
	}
	*out = json_integer_value(v);
	return (0);
}

/* A copy of v if it is a string of 1..max bytes, else NULL. */
static char *
string_of(json_t *v, size_t max)
{
	const char	*s = json_string_value(v);

	if (s == NULL || *s == '\0' || strlen(s) > max)
		return (NULL);
	return (xstrdup(s));
}

/*
 * target.netns, target.pid, target.container: at most one, each a string
 * (pid also a number, or the decimal string a template makes).
 */
static int
parse_namespace(json_t *t, struct capture_params *p, char **cause)
{
	json_t		*ns = json_object_get(t, "netns");
	json_t		*pid = json_object_get(t, "pid");
	json_t		*ctr = json_object_get(t, "container");
	const char	*s;
	char		*end;

	if ((ns != NULL) + (pid != NULL) + (ctr != NULL) > 1) {
		*cause = xstrdup("target: name one of netns, pid and container");
		return (-1);
	}
	if (ns != NULL && (p->netns = string_of(ns, 255)) == NULL) {
		*cause = xstrdup("target.netns: must be a name under /run/netns "
		    "or a path");
		return (-1);
	}
	if (ctr != NULL && (p->container = string_of(ctr, 4096)) == NULL) {
		*cause = xstrdup("target.container: must be a container id or a "
		    "cgroup path");
		return (-1);
	}
	if (pid != NULL) {
		if (json_is_integer(pid))
			p->pid = json_integer_value(pid);
		else if ((s = json_string_value(pid)) != NULL && *s != '\0') {
			errno = 0;
			p->pid = strtoll(s, &end, 10);
			if (*end != '\0' || errno != 0)
				p->pid = 0;
		}
		if (p->pid < 1 || p->pid > 4194304) {
			*cause = xstrdup("target.pid: must be a process id, "
			    "1..4194304");
			p->pid = 0;
			return (-1);
		}
	}
	return (0);
}

/*
 * target: the interface (required, but eth0 inside a namespace), an
 * optional node, and the namespace to capture in.
 */
static int
parse_target(json_t *params, struct capture_params *p, char **cause)
{
	json_t			*t, *v;
	const char		*s;

	t = json_object_get(params, "target");
	if (!json_is_object(t)) {
		*cause = xstrdup(t == NULL ? "target.interface: required" :
		    "target: must be an object");
		return (-1);
	}
	if (check_keys(t, target_keys, "target.", cause) == -1 ||
	    parse_namespace(t, p, cause) == -1)
		return (-1);
	v = json_object_get(t, "interface");
	if (v == NULL && (p->netns != NULL || p->pid != 0 ||
	    p->container != NULL))
		v = json_string("eth0");	/* a container's usual one */
	else
		json_incref(v);
	if (v == NULL || (s = json_string_value(v)) == NULL || *s == '\0') {
		json_decref(v);
		*cause = xstrdup("target.interface: required, a string");
		return (-1);
	}
	if (strlen(s) >= 64 || strchr(s, '/') != NULL) {
		*cause = xasprintf("target.interface: '%.64s' is not an "
		    "interface name", s);
		json_decref(v);
		return (-1);
	}
	p->interface = xstrdup(s);
	json_decref(v);
	if ((v = json_object_get(t, "node")) != NULL && !json_is_null(v)) {
		if ((s = json_string_value(v)) == NULL || !name_valid(s)) {
			*cause = xstrdup("target.node: must be a node name");
			return (-1);
		}
		p->node = xstrdup(s);
	}
	return (0);
}

/*
 * lookback_s (seconds before now) or from (an RFC 3339 instant): where the
 * capture begins in the past. lookback_s beyond lookback.max_s is refused;
 * an older from (an alert's start long ago) begins at the bound, and the
 * record's gap says so.
 */
static int
parse_lookback(json_t *params, const struct params_limits *lim,
    struct capture_params *p, char **cause)
{
	json_t		*from = json_object_get(params, "from");
	long long	 n;

	if (get_int(params, "lookback_s", 0, lim->max_lookback_s, 0, &n,
	    cause) == -1)
		return (-1);
	p->lookback_s = (uint32_t)n;
	if (from == NULL || json_is_null(from))
		return (0);
	if (p->lookback_s != 0) {
		*cause = xstrdup("from: give lookback_s or from, not both");
		return (-1);
	}
	if (!json_is_string(from) ||
	    time_parse_rfc3339(json_string_value(from), &p->from_us) == -1 ||
	    p->from_us <= 0) {
		*cause = xstrdup("from: must be an RFC 3339 time, as "
		    "2026-12-01T10:00:00Z");
		return (-1);
	}
	return (0);
}

/*
 * continuous: a ring of file_count files of file_size_bytes each
 * (Network Watcher's defaults and bounds), instead of one file.
 */
static int
parse_continuous(json_t *params, struct capture_params *p, char **cause)
{
	json_t		*v = json_object_get(params, "continuous");
	long long	 n;
	char		*why = NULL;

	p->file_count = 0;
	if (v == NULL || json_is_null(v))
		return (0);
	if (!json_is_object(v)) {
		*cause = xstrdup("continuous: must be an object "
		    "{file_count, file_size_bytes}");
		return (-1);
	}
	if (check_keys(v, (const char *[]){ "file_count", "file_size_bytes",
	    NULL }, "continuous.", cause) == -1)
		return (-1);
	if (get_int(v, "file_count", 1, PARAMS_MAX_FILES, 10, &n, &why) == 0) {
		p->file_count = (uint32_t)n;
		if (get_int(v, "file_size_bytes", 1024, PARAMS_MAX_FILE_BYTES,
		    104857600, &n, &why) == 0) {
			p->file_size = (uint64_t)n;
			return (0);
		}
	}
	*cause = xasprintf("continuous.%s", why);
	free(why);
	p->file_count = 0;
	return (-1);
}

/* format: the file's, or the node's captures.format. */
static int
parse_format(json_t *params, const struct params_limits *lim,
    struct capture_params *p, char **cause)
{
	json_t	*v = json_object_get(params, "format");

	p->format = lim->def_format;
	if (v == NULL)
		return (0);
	if (!json_is_string(v) || pcapfmt_find(json_string_value(v),
	    &p->format) == -1) {
		*cause = xstrdup("format: must be one of " PCAPFMT_NAMES);
		return (-1);
	}
	return (0);
}

/*
 * An array (field) of at most 16 names of things (what) this node has:
 * *out (new; NULL when there are none), or -1 with *cause.
 */
static int
parse_names(json_t *a, const char *field, const char *what,
    int (*exists)(const char *, void *), void *arg, json_t **out,
    char **cause)
{
	json_t		*e;
	const char	*n;
	size_t		 i;

	*out = NULL;
	if (a == NULL || json_is_null(a))
		return (0);
	if (!json_is_array(a) || json_array_size(a) > 16) {
		*cause = xasprintf("%s: must be an array of at most 16 %s "
		    "names", field, what);
		return (-1);
	}
	json_array_foreach(a, i, e) {
		n = json_string_value(e);
		if (n == NULL || exists == NULL || !exists(n, arg)) {
			*cause = xasprintf("%s[%zu]: no %s named '%s' on this "
			    "node", field, i, what, n != NULL ? n : "?");
			return (-1);
		}
	}
	if (json_array_size(a) > 0)
		*out = json_incref(a);
	return (0);
}

/* storage: accounts that exist on this node, and where the file goes. */
static int
parse_storage(json_t *params, const struct params_limits *lim,
    struct capture_params *p, char **cause)
{
	json_t			*st, *f, *a;

	p->keep_file = 1;
	if ((st = json_object_get(params, "storage")) == NULL ||
	    json_is_null(st))
		return (0);
	if (!json_is_object(st)) {
		*cause = xstrdup("storage: must be an object");
		return (-1);
	}
	if (check_keys(st, storage_keys, "storage.", cause) == -1)
		return (-1);
	a = json_object_get(st, "accounts");
	if (parse_names(a, "storage.accounts", "storage account",
	    lim->account_exists, lim->account_arg, &p->accounts, cause) == -1)
		return (-1);
	f = json_object_get(st, "file");
	if (f == NULL || json_is_null(f)) {
		/* Kept when nothing else keeps it. */
		p->keep_file = p->accounts == NULL;
		return (0);
	}
	if (json_is_true(f))
		return (0);
	if (json_is_false(f)) {
		if (p->accounts == NULL) {
			*cause = xstrdup("storage.file: false needs "
			    "storage.accounts to keep the capture somewhere");
			return (-1);
		}
		p->keep_file = 0;
		return (0);
	}
	if (!json_is_string(f) || !relpath_safe(json_string_value(f)) ||
	    strlen(json_string_value(f)) > 1024) {
		*cause = xstrdup("storage.file: must be true or a relative "
		    "path inside captures.root, without '..' or '.'");
		return (-1);
	}
	if (strlen(json_string_value(f)) >= 5 && strcmp(json_string_value(f) +
	    strlen(json_string_value(f)) - 5, ".part") == 0) {
		*cause = xstrdup("storage.file: names ending '.part' are "
		    "reserved for captures in progress");
		return (-1);
	}
	p->file = xstrdup(json_string_value(f));
	return (0);
}

/* filters and bpf: translated, compiled once to check, then ANDed. */
static int
parse_filters(json_t *params, struct capture_params *p, char **cause)
{
	json_t	*v;
	char	*fexpr;

	v = json_object_get(params, "filters");
	if (v != NULL && !json_is_null(v))
		p->filters = json_incref(v);
	if ((fexpr = filter_translate(v, "filters", cause)) == NULL)
		return (-1);
	if (*fexpr != '\0' &&
	    filter_check(fexpr, DLT_EN10MB, "filters", cause) == -1) {
		free(fexpr);
		return (-1);
	}
	v = json_object_get(params, "bpf");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_string(v) || strlen(json_string_value(v)) > 65536) {
			free(fexpr);
			*cause = xstrdup("bpf: must be a string (a tcpdump "
			    "expression)");
			return (-1);
		}
		p->bpf = xstrdup(json_string_value(v));
		if (filter_check(p->bpf, DLT_EN10MB, "bpf", cause) == -1) {
			free(fexpr);
			return (-1);
		}
	}
	p->expr = filter_and(fexpr, p->bpf != NULL ? p->bpf : "");
	free(fexpr);
	return (0);
}

int
params_check_keys(json_t *params, char **cause)
{
	json_t	*sub;

	if (check_keys(params, params_keys, "", cause) == -1)
		return (-1);
	if (json_is_object(sub = json_object_get(params, "target")) &&
	    check_keys(sub, target_keys, "target.", cause) == -1)
		return (-1);
	if (json_is_object(sub = json_object_get(params, "storage")) &&
	    check_keys(sub, storage_keys, "storage.", cause) == -1)
		return (-1);
	return (0);
}

int
params_parse(json_t *params, const char *name,
    const struct params_limits *lim, struct capture_params *p, char **cause)
{
	json_t		*v;
	long long	 n;

	memset(p, 0, sizeof *p);
	if (!json_is_object(params)) {
		*cause = xstrdup("body: must be a JSON object of capture "
		    "parameters");
		return (-1);
	}
	if (check_keys(params, params_keys, "", cause) == -1)
		goto fail;
	v = json_object_get(params, "name");
	if (v != NULL && !json_is_string(v)) {
		*cause = xstrdup("name: must be a string");
		goto fail;
	}
	if (name != NULL && v != NULL &&
	    strcmp(name, json_string_value(v)) != 0) {
		*cause = xasprintf("name: '%s' differs from the name in the "
		    "path", json_string_value(v));
		goto fail;
	}
	if (name == NULL && v == NULL) {
		*cause = xstrdup("name: required");
		goto fail;
	}
	p->name = xstrdup(name != NULL ? name : json_string_value(v));
	if (!name_valid(p->name)) {
		*cause = xasprintf("name: '%.100s' must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,79}", p->name);
		goto fail;
	}
	if (parse_target(params, p, cause) == -1)
		goto fail;
	if (get_int(params, "max_bytes_per_packet", 0, 262144, 0, &n,
	    cause) == -1)
		goto fail;
	p->snaplen = (uint32_t)n;
	if (get_int(params, "max_bytes_per_session", 1024, lim->max_max_bytes,
	    lim->def_max_bytes, &n, cause) == -1)
		goto fail;
	p->max_bytes = (uint64_t)n;
	if (parse_lookback(params, lim, p, cause) == -1 ||
	    parse_continuous(params, p, cause) == -1)
		goto fail;
	/* A lookback with no live part is a snapshot of the past. */
	if (get_int(params, "time_limit_s", p->lookback_s != 0 ||
	    p->from_us != 0 ? 0 : 1, p->file_count != 0 ?
	    lim->max_continuous_time_limit_s : lim->max_time_limit_s,
	    lim->def_time_limit_s, &n, cause) == -1)
		goto fail;
	p->time_limit_s = (uint32_t)n;
	if (get_int(params, "max_packets", 0, INT64_MAX, 0, &n, cause) == -1)
		goto fail;
	p->max_packets = (uint64_t)n;
	v = json_object_get(params, "context");
	if (v != NULL && !json_is_boolean(v) && !json_is_null(v)) {
		*cause = xstrdup("context: must be true or false");
		goto fail;
	}
	p->context = json_is_true(v);
	if (parse_format(params, lim, p, cause) == -1 ||
	    parse_filters(params, p, cause) == -1 ||
	    parse_storage(params, lim, p, cause) == -1 ||
	    parse_names(json_object_get(params, "notify"), "notify",
	    "notify endpoint", lim->notify_exists, lim->notify_arg,
	    &p->notify, cause) == -1)
		goto fail;
	/* notify: [] is "none", not "every endpoint". */
	if (p->notify == NULL && json_is_array(json_object_get(params,
	    "notify")))
		p->notify = json_array();
	return (0);
fail:
	params_clear(p);
	return (-1);
}

const struct params_limits params_embedded = {
	.def_time_limit_s = 18000,
	.max_time_limit_s = 18000,
	.max_continuous_time_limit_s = 604800,
	.def_max_bytes = 1073741824,
	.max_max_bytes = 4294967295LL,
	.max_lookback_s = 3600,
	.def_format = PCAPFMT_PCAPNG,
};

/* What a templated account name stands for while checking a rule. */
static const char params_tmpl_account[] = "\001templated";

/* The value a ${...} string stands for, by its key, while checking. */
static const char *
params_neutral(const char *key)
{
	static const struct {
		const char	*key;
		const char	*value;
	} t[] = {
		{ "protocol", "Any" }, { "local_ip", "127.0.0.1" },
		{ "remote_ip", "127.0.0.1" }, { "local_port", "1" },
		{ "remote_port", "1" }, { "bpf", "ip" }, { "file", "x.pcap" },
		{ "from", "2026-01-01T00:00:00Z" }, { "format", "pcapng" },
		{ "pid", "1" }, { "container", "0123456789ab" },
		{ "accounts", params_tmpl_account },
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof *t; i++)
		if (strcmp(t[i].key, key) == 0)
			return (t[i].value);
	return ("x");	/* a valid name, node or interface name */
}

/* What stands in for e while checking, if it is a templated string. */
static json_t *
params_standin(json_t *e, const char *key)
{
	if (!json_is_string(e) || strstr(json_string_value(e), "${") == NULL)
		return (NULL);
	return (json_string(params_neutral(key)));
}

/* Replaces, in place, every string holding "${" by its neutral value. */
static void
params_untemplate(json_t *v, const char *key)
{
	const char	*k;
	json_t		*e, *x;
	size_t		 i;

	if (json_is_object(v)) {
		json_object_foreach(v, k, e) {
			if ((x = params_standin(e, k)) != NULL)
				json_object_set_new(v, k, x);
			else
				params_untemplate(e, k);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if ((x = params_standin(e, key)) != NULL)
				json_array_set_new(v, i, x);
			else
				params_untemplate(e, key);
		}
	}
}

/* Accounts while checking a rule: templated ones, then the node's. */
static int
params_check_account(const char *name, void *arg)
{
	const struct params_limits	*lim = arg;

	if (strcmp(name, params_tmpl_account) == 0)
		return (1);
	return (lim == NULL || lim->account_exists == NULL ||
	    lim->account_exists(name, lim->account_arg));
}

/* Notify endpoints while checking a rule: the node's, if it says. */
static int
params_check_notify(const char *name, void *arg)
{
	const struct params_limits	*lim = arg;

	return (lim == NULL || lim->notify_exists == NULL ||
	    lim->notify_exists(name, lim->notify_arg));
}

void
params_limits_conf(struct params_limits *l, const struct conf *c)
{
	l->def_time_limit_s = c->def_time_limit_s;
	l->max_time_limit_s = c->max_time_limit_s;
	l->max_continuous_time_limit_s = c->max_continuous_time_limit_s;
	l->def_max_bytes = c->def_max_bytes;
	l->max_max_bytes = c->max_max_bytes;
	l->max_lookback_s = c->lookback_max_s;
	if (pcapfmt_find(c->captures_format, &l->def_format) == -1)
		l->def_format = PCAPFMT_PCAPNG;	/* conf_check refused it */
}

int
params_check_literal(json_t *params, const struct params_limits *lim,
    char **cause)
{
	struct params_limits	 l = lim != NULL ? *lim : params_embedded;
	struct capture_params	 p;
	json_t			*copy;
	int			 rc;

	l.account_exists = params_check_account;
	l.account_arg = (void *)lim;
	l.notify_exists = params_check_notify;
	l.notify_arg = (void *)lim;
	copy = json_deep_copy(params);
	params_untemplate(copy, "");
	rc = params_parse(copy, NULL, &l, &p, cause);
	json_decref(copy);
	if (rc == 0)
		params_clear(&p);
	return (rc);
}

json_t *
params_to_json(const struct capture_params *p)
{
	json_t	*o, *target, *storage;
	char	 ts[40];

	target = json_pack("{s:s}", "interface", p->interface);
	if (p->node != NULL)
		json_object_set_new(target, "node", json_string(p->node));
	if (p->netns != NULL)
		json_object_set_new(target, "netns", json_string(p->netns));
	if (p->pid != 0)
		json_object_set_new(target, "pid", json_integer(p->pid));
	if (p->container != NULL)
		json_object_set_new(target, "container",
		    json_string(p->container));
	storage = json_object();
	if (p->file != NULL)
		json_object_set_new(storage, "file", json_string(p->file));
	else
		json_object_set_new(storage, "file",
		    json_boolean(p->keep_file));
	json_object_set_new(storage, "accounts", p->accounts != NULL ?
	    json_incref(p->accounts) : json_array());
	o = json_pack("{s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
	    "name", p->name,
	    "target", target,
	    "max_bytes_per_packet", (json_int_t)p->snaplen,
	    "max_bytes_per_session", (json_int_t)p->max_bytes,
	    "time_limit_s", (json_int_t)p->time_limit_s,
	    "max_packets", (json_int_t)p->max_packets,
	    "filters", p->filters != NULL ? json_incref(p->filters) :
	    json_array(),
	    "bpf", p->bpf != NULL ? json_string(p->bpf) : json_null(),
	    "storage", storage);
	json_object_set_new(o, "format", json_string(pcapfmt_name(p->format)));
	json_object_set_new(o, "context", json_boolean(p->context));
	if (p->file_count != 0)
		json_object_set_new(o, "continuous", json_pack("{s:I, s:I}",
		    "file_count", (json_int_t)p->file_count,
		    "file_size_bytes", (json_int_t)p->file_size));
	if (p->lookback_s != 0)
		json_object_set_new(o, "lookback_s",
		    json_integer((json_int_t)p->lookback_s));
	if (p->from_us != 0)
		json_object_set_new(o, "from", json_string(time_rfc3339(ts,
		    sizeof ts, p->from_us)));
	if (p->notify != NULL)
		json_object_set_new(o, "notify", json_incref(p->notify));
	return (o);
}

void
params_clear(struct capture_params *p)
{
	free(p->name);
	free(p->interface);
	free(p->node);
	free(p->netns);
	free(p->container);
	json_decref(p->filters);
	free(p->bpf);
	free(p->expr);
	free(p->file);
	json_decref(p->accounts);
	json_decref(p->notify);
	memset(p, 0, sizeof *p);
}
