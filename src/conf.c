/* Loading and checking alertcap.json against the option table. */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "jsonpos.h"
#include "util.h"
#include "xmalloc.h"

#define CONF_MAX_FILE	(1024 * 1024)
#define CONF_MAX_ERRORS	(64 * 1024)

struct conf_ctx {
	const char	*file;
	const char	*text;
	size_t		 len;
	struct dynbuf	 errors;
	int		 nerrors;
};

static void conf_walk(struct conf_ctx *, const struct conf_opt *, void *,
    json_t *, const char *);
static void conf_defaults(struct conf_ctx *, const struct conf_opt *, void *);
static void conf_free_table(const struct conf_opt *, void *);

/* Frees a list of strings, leaving it empty. */
static void
strlist_free(struct conf_array *a)
{
	size_t	i;

	for (i = 0; i < a->n; i++)
		free(((char **)a->v)[i]);
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Records an error at the position of the key path. */
static void __attribute__((format(printf, 3, 4)))
conf_error(struct conf_ctx *ctx, const char *path, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jsonpos_vreport(&ctx->errors, ctx->file, ctx->text,
	    *path == '\0' ? "(top)" : path, fmt, ap);
	va_end(ap);
	ctx->nerrors++;
}

static int
choice_valid(const char *choices, const char *s)
{
	size_t		 n = strlen(s);
	const char	*c = choices;

	while (c != NULL && *c != '\0') {
		if (strncmp(c, s, n) == 0 && (c[n] == '|' || c[n] == '\0'))
			return (1);
		c = strchr(c, '|');
		c = c == NULL ? NULL : c + 1;
	}
	return (0);
}

static const char *
type_name(enum conf_type t)
{
	static const char *names[] = { "a string", "an integer", "true or false",
	    "an object", "an array", "an object of named objects",
	    "an array of strings" };

	return (names[t]);
}

/* Is v of the JSON type an option of type t takes? */
static int
type_ok(enum conf_type t, json_t *v)
{
	switch (t) {
	case CT_STRING:
		return (json_is_string(v));
	case CT_INT:
		return (json_is_integer(v));
	case CT_BOOL:
		return (json_is_boolean(v));
	case CT_OBJECT:
	case CT_MAP:
		return (json_is_object(v));
	case CT_ARRAY:
	case CT_STRLIST:
		return (json_is_array(v));
	}
	return (0);
}

/* Sets one option from a JSON value, checking type and bounds. */
static void
conf_set(struct conf_ctx *ctx, const struct conf_opt *o, void *base,
    json_t *v, const char *path)
{
	char			*p = (char *)base + o->offset;
	struct conf_array	*a;
	json_t			*e;
	const char		*k;
	size_t			 i;
	char			*epath;

	if (!type_ok(o->type, v)) {
		conf_error(ctx, path, "must be %s", type_name(o->type));
		return;
	}
	switch (o->type) {
	case CT_STRING:
		if (o->choices != NULL &&
		    !choice_valid(o->choices, json_string_value(v))) {
			conf_error(ctx, path, "'%s' is not one of %s",
			    json_string_value(v), o->choices);
			return;
		}
		free(*(char **)p);
		*(char **)p = xstrdup(json_string_value(v));
		break;
	case CT_INT:
		if (json_integer_value(v) < o->min ||
		    json_integer_value(v) > o->max) {
			conf_error(ctx, path, "%lld is out of range %lld..%lld",
			    (long long)json_integer_value(v), o->min, o->max);
			return;
		}
		*(long long *)p = json_integer_value(v);
		break;
	case CT_BOOL:
		*(int *)p = json_is_true(v);
		break;
	case CT_OBJECT:
		if (o->present != 0)
			*(int *)((char *)base + o->present) = 1;
		conf_walk(ctx, o->children, p, v, path);
		break;
	case CT_MAP:
		a = (struct conf_array *)p;
		a->n = json_object_size(v);
		a->v = xcalloc(a->n, o->elem_size);
		i = 0;
		json_object_foreach(v, k, e) {
			char	*elem = (char *)a->v + i * o->elem_size;

			epath = xasprintf("%s.%s", path, k);
			conf_defaults(ctx, o->children, elem);
			*(char **)elem = xstrdup(k);
			if (!name_valid(k))
				conf_error(ctx, epath, "not a valid name "
				    "([A-Za-z0-9][A-Za-z0-9._-]{0,79})");
			if (!json_is_object(e))
				conf_error(ctx, epath, "must be an object");
			else
				conf_walk(ctx, o->children, elem, e, epath);
			free(epath);
			i++;
		}
		break;
	case CT_STRLIST:
		a = (struct conf_array *)p;
		strlist_free(a);	/* a given list replaces the default */
		a->n = json_array_size(v);
		a->v = xcalloc(a->n, sizeof(char *));
		json_array_foreach(v, i, e) {
			if (!json_is_string(e)) {
				epath = xasprintf("%s[%zu]", path, i);
				conf_error(ctx, epath, "must be a string");
				free(epath);
				continue;
			}
			((char **)a->v)[i] = xstrdup(json_string_value(e));
		}
		break;
	case CT_ARRAY:
		if ((long long)json_array_size(v) < o->min ||
		    (long long)json_array_size(v) > o->max) {
			conf_error(ctx, path, "must have %lld to %lld entries",
			    o->min, o->max);
			return;
		}
		/* A given array replaces the default one whole. */
		a = (struct conf_array *)p;
		for (i = 0; i < a->n; i++)
			conf_free_table(o->children,
			    (char *)a->v + i * o->elem_size);
		free(a->v);
		a->n = json_array_size(v);
		a->v = xcalloc(a->n, o->elem_size);
		json_array_foreach(v, i, e) {
			epath = xasprintf("%s[%zu]", path, i);
			conf_defaults(ctx, o->children,
			    (char *)a->v + i * o->elem_size);
			if (!json_is_object(e))
				conf_error(ctx, epath, "must be an object");
			else
				conf_walk(ctx, o->children,
				    (char *)a->v + i * o->elem_size, e, epath);
			free(epath);
		}
		break;
	}
}

/* Applies the defaults of a table (recursively) to base. */
static void
conf_defaults(struct conf_ctx *ctx, const struct conf_opt *t, void *base)
{
	const struct conf_opt	*o;
	json_t			*v;

	for (o = t; o->key != NULL; o++) {
		if (o->type == CT_OBJECT)
			conf_defaults(ctx, o->children, (char *)base +
			    o->offset);
		if (o->def == NULL)
			continue;
		v = json_loads(o->def, JSON_DECODE_ANY, NULL);
		if (v == NULL)
			abort();	/* a broken table is a bug */
		conf_set(ctx, o, base, v, o->key);
		json_decref(v);
	}
}

/* Applies an object's members to the options of one table level. */
static void
conf_walk(struct conf_ctx *ctx, const struct conf_opt *t, void *base,
    json_t *obj, const char *prefix)
{
	const struct conf_opt	*o;
	const char		*key;
	json_t			*v;
	char			*path;

	if (t == NULL)
		return;
	json_object_foreach(obj, key, v) {
		path = *prefix == '\0' ? xstrdup(key) :
		    xasprintf("%s.%s", prefix, key);
		for (o = t; o->key != NULL; o++) {
			if (strcmp(o->key, key) == 0)
				break;
		}
		if (o->key == NULL)
			conf_error(ctx, path, "unknown key");
		else
			conf_set(ctx, o, base, v, path);
		free(path);
	}
}

/* What each kind of storage account needs. */
static void
conf_check_account(struct conf_ctx *ctx, struct conf_account *a)
{
	char	path[128];

	snprintf(path, sizeof path, "storage.%s", a->name);
	if (a->type == NULL) {
		conf_error(ctx, path, "type is required (azure-blob, s3 or "
		    "http-put)");
		return;
	}
	if (strcmp(a->type, "azure-blob") == 0) {
		if (a->container_url != NULL || a->sas_token_file != NULL) {
			if (a->container_url == NULL ||
			    a->sas_token_file == NULL)
				conf_error(ctx, path, "a SAS account needs "
				    "container_url and sas_token_file");
		} else if (a->endpoint == NULL || a->account == NULL ||
		    a->key_file == NULL || a->container == NULL)
			conf_error(ctx, path, "needs endpoint, account, "
			    "key_file and container (or container_url and "
			    "sas_token_file)");
	} else if (strcmp(a->type, "s3") == 0) {
		if (a->bucket == NULL || a->access_key_id == NULL ||
		    a->secret_access_key_file == NULL)
			conf_error(ctx, path, "needs bucket, access_key_id and "
			    "secret_access_key_file");
	} else if (a->url == NULL)
		conf_error(ctx, path, "needs url");
}

/* A notify endpoint: a URL, known events, the type's credentials. */
static void
conf_check_notify(struct conf_ctx *ctx, struct conf_notify *n)
{
	static const char	*events[] = { "Started", "Stopped", "Uploaded",
				    "Failed", NULL };
	char			 path[128];
	const char		*e;
	size_t			 i, k;

	snprintf(path, sizeof path, "notify.%.64s", n->name);
	if (n->type == NULL)
		conf_error(ctx, path, "type is required (webhook or "
		    "grafana-annotation)");
	if (n->url == NULL || (strncmp(n->url, "http://", 7) != 0 &&
	    strncmp(n->url, "https://", 8) != 0))
		conf_error(ctx, path, "needs url, http:// or https://");
	if (n->type != NULL && strcmp(n->type, "grafana-annotation") == 0 &&
	    n->token_file == NULL)
		conf_error(ctx, path, "grafana-annotation needs token_file");
	for (i = 0; i < n->events.n; i++) {
		e = ((char **)n->events.v)[i];
		for (k = 0; events[k] != NULL && strcmp(events[k], e) != 0; k++)
			;
		if (events[k] == NULL) {
			snprintf(path, sizeof path, "notify.%.64s.events[%zu]",
			    n->name, i);
			conf_error(ctx, path, "'%s' is not Started, Stopped, "
			    "Uploaded or Failed", e);
		}
	}
}

/* An interface the daemon opens at start exists (or is replayed, "any"). */
static void
conf_check_interface(struct conf_ctx *ctx, const struct conf *c,
    const char *path, const char *name)
{
	size_t	i;

	for (i = 0; i < c->replays.n; i++)
		if (strcmp(((const struct conf_replay *)c->replays.v)[i].name,
		    name) == 0)
			return;
	if (strcmp(name, "any") != 0 && if_nametoindex(name) == 0)
		conf_error(ctx, path, "no such interface");
}

static void
conf_check_lookback(struct conf_ctx *ctx, const struct conf *c,
    const struct conf_lookback *l)
{
	char	path[128];

	if (l->disk_bytes != 0 && l->disk_file_bytes > l->disk_bytes) {
		snprintf(path, sizeof path,
		    "lookback.interfaces.%.64s.disk_file_bytes", l->name);
		conf_error(ctx, path, "%lld is above disk_bytes (%lld)",
		    l->disk_file_bytes, l->disk_bytes);
	}
	snprintf(path, sizeof path, "lookback.interfaces.%.64s", l->name);
	conf_check_interface(ctx, c, path, l->name);
}

/* Checks what the table cannot: addresses, dependent bounds. */
static void
conf_check(struct conf_ctx *ctx, struct conf *c)
{
	struct conf_listen	*l;
	unsigned char		 addr[16];
	size_t			 i;
	char			 path[64];

	for (i = 0; i < c->listen.n; i++) {
		l = (struct conf_listen *)c->listen.v + i;
		snprintf(path, sizeof path, "listen[%zu].address", i);
		if (inet_pton(AF_INET, l->address, addr) != 1 &&
		    inet_pton(AF_INET6, l->address, addr) != 1)
			conf_error(ctx, path, "'%s' is not an IP address",
			    l->address);
		snprintf(path, sizeof path, "listen[%zu].tls", i);
		if (l->has_tls && (l->tls.cert_file == NULL ||
		    l->tls.key_file == NULL))
			conf_error(ctx, path, "needs cert_file and key_file");
	}
	if (c->def_time_limit_s > c->max_time_limit_s)
		conf_error(ctx, "captures.defaults.time_limit_s",
		    "%lld is above captures.maximums.time_limit_s (%lld)",
		    c->def_time_limit_s, c->max_time_limit_s);
	if (c->def_max_bytes > c->max_max_bytes)
		conf_error(ctx, "captures.defaults.max_bytes_per_session",
		    "%lld is above captures.maximums.max_bytes_per_session "
		    "(%lld)", c->def_max_bytes, c->max_max_bytes);
	for (i = 0; i < c->mqtt_subs.n; i++) {
		const struct conf_mqtt_sub *sub =
		    (const struct conf_mqtt_sub *)c->mqtt_subs.v + i;

		snprintf(path, sizeof path, "mqtt.subscriptions[%zu].topic", i);
		if (sub->topic == NULL || *sub->topic == '\0')
			conf_error(ctx, path, "required");
	}
	for (i = 0; i < c->replays.n; i++) {
		const struct conf_replay *r =
		    (const struct conf_replay *)c->replays.v + i;

		snprintf(path, sizeof path, "captures.replay.%.32s.dir",
		    r->name);
		if (r->dir == NULL || *r->dir == '\0')
			conf_error(ctx, path, "required");
	}
	for (i = 0; i < c->lookbacks.n; i++)
		conf_check_lookback(ctx, c, (const struct conf_lookback *)
		    c->lookbacks.v + i);
	for (i = 0; i < c->preopen.n; i++) {
		snprintf(path, sizeof path, "captures.preopen[%zu]", i);
		conf_check_interface(ctx, c, path,
		    ((char **)c->preopen.v)[i]);
	}
	for (i = 0; i < c->accounts.n; i++)
		conf_check_account(ctx, (struct conf_account *)c->accounts.v +
		    i);
	for (i = 0; i < c->notifies.n; i++)
		conf_check_notify(ctx, (struct conf_notify *)c->notifies.v + i);
	if (c->mqtt_has_tls && c->mqtt_ca_file == NULL)
		conf_error(ctx, "mqtt.tls", "needs ca_file");
	if ((c->mqtt_cert_file == NULL) != (c->mqtt_key_file == NULL))
		conf_error(ctx, "mqtt.tls", "cert_file and key_file go together");
	if (c->mqtt_topic_prefix != NULL && (*c->mqtt_topic_prefix == '\0' ||
	    strpbrk(c->mqtt_topic_prefix, "+#") != NULL))
		conf_error(ctx, "mqtt.topic_prefix", "must be a non-empty topic "
		    "without wildcards");
	if (c->node != NULL && !name_valid(c->node))
		conf_error(ctx, "node", "'%s' is not a valid node name "
		    "([A-Za-z0-9][A-Za-z0-9._-]{0,79})", c->node);
}

struct conf *
conf_load(const char *path, char **cause)
{
	struct conf_ctx	 ctx;
	struct conf	*c;
	json_t		*root = NULL;
	json_error_t	 jerr;
	char		*text = NULL, host[256];

	memset(&ctx, 0, sizeof ctx);
	dynbuf_init(&ctx.errors, CONF_MAX_ERRORS);
	ctx.file = path != NULL ? path : "(default)";
	c = xcalloc(1, sizeof *c);
	c->file = xstrdup(ctx.file);
	conf_defaults(&ctx, conf_table, c);
	if (path != NULL) {
		if ((text = file_read_small(path, CONF_MAX_FILE, cause)) ==
		    NULL)
			goto fail;
		ctx.text = text;
		ctx.len = strlen(text);
		root = json_loadb(text, ctx.len, JSON_REJECT_DUPLICATES, &jerr);
		if (root == NULL) {
			*cause = xasprintf("%s:%d:%d: %s", path, jerr.line,
			    jerr.column, jerr.text);
			goto fail;
		}
		if (!json_is_object(root))
			conf_error(&ctx, "", "must be a JSON object");
		else {
			conf_walk(&ctx, conf_table, c, root, "");
		}
	}
	conf_check(&ctx, c);
	if (ctx.nerrors > 0) {
		*cause = dynbuf_take(&ctx.errors);
		goto fail;
	}
	if (c->node == NULL) {
		if (gethostname(host, sizeof host) == -1 || !name_valid(host))
			snprintf(host, sizeof host, "localhost");
		c->node = xstrdup(host);
	}
	json_decref(root);
	free(text);
	dynbuf_free(&ctx.errors);
	return (c);
fail:
	json_decref(root);
	free(text);
	dynbuf_free(&ctx.errors);
	conf_free(c);
	return (NULL);
}

/* Frees the strings and arrays a table describes. */
static void
conf_free_table(const struct conf_opt *t, void *base)
{
	const struct conf_opt	*o;
	struct conf_array	*a;
	size_t			 i;

	for (o = t; o->key != NULL; o++) {
		switch (o->type) {
		case CT_STRING:
			free(*(char **)((char *)base + o->offset));
			break;
		case CT_OBJECT:
			conf_free_table(o->children, (char *)base +
			    o->offset);
			break;
		case CT_ARRAY:
		case CT_MAP:
			a = (struct conf_array *)((char *)base + o->offset);
			for (i = 0; i < a->n; i++) {
				if (o->type == CT_MAP)
					free(*(char **)((char *)a->v +
					    i * o->elem_size));
				conf_free_table(o->children,
				    (char *)a->v + i * o->elem_size);
			}
			free(a->v);
			break;
		case CT_STRLIST:
			strlist_free((struct conf_array *)((char *)base +
			    o->offset));
			break;
		default:
			break;
		}
	}
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	conf_free_table(conf_table, c);
	free(c->file);
	free(c);
}

/* Compares the non-reloadable options of a table; returns the first. */
static const char *
conf_diff(const struct conf_opt *t, const void *a, const void *b)
{
	const struct conf_opt	*o;
	const char		*sa, *sb, *r;
	const struct conf_array	*aa, *ab;
	size_t			 i;

	for (o = t; o->key != NULL; o++) {
		const char *pa = (const char *)a + o->offset;
		const char *pb = (const char *)b + o->offset;

		switch (o->type) {
		case CT_STRING:
			sa = *(char *const *)pa;
			sb = *(char *const *)pb;
			if (!o->reload && (sa == NULL) != (sb == NULL))
				return (o->key);
			if (!o->reload && sa != NULL && strcmp(sa, sb) != 0)
				return (o->key);
			break;
		case CT_INT:
			if (!o->reload && *(const long long *)pa !=
			    *(const long long *)pb)
				return (o->key);
			break;
		case CT_BOOL:
			if (!o->reload && *(const int *)pa != *(const int *)pb)
				return (o->key);
			break;
		case CT_OBJECT:
			if ((r = conf_diff(o->children, pa, pb)) != NULL)
				return (r);
			break;
		case CT_STRLIST:
			if (!o->reload && ((const struct conf_array *)pa)->n !=
			    ((const struct conf_array *)pb)->n)
				return (o->key);
			break;
		case CT_ARRAY:
		case CT_MAP:
			if (o->reload)
				break;	/* SIGHUP takes it whole */
			aa = (const struct conf_array *)pa;
			ab = (const struct conf_array *)pb;
			if (aa->n != ab->n)
				return (o->key);
			for (i = 0; i < aa->n; i++) {
				r = conf_diff(o->children,
				    (char *)aa->v + i * o->elem_size,
				    (char *)ab->v + i * o->elem_size);
				if (r != NULL)
					return (o->key);
			}
			break;
		}
	}
	return (NULL);
}

const char *
conf_restart_needed(const struct conf *a, const struct conf *b)
{
	return (conf_diff(conf_table, a, b));
}

/* One table level of the option reference, as Markdown rows. */
static void
conf_print_table(const struct conf_opt *t, const char *prefix)
{
	const struct conf_opt	*o;
	char			*path;

	for (o = t; o->key != NULL; o++) {
		path = *prefix == '\0' ? xstrdup(o->key) :
		    xasprintf("%s.%s", prefix, o->key);
		if (o->type == CT_OBJECT) {
			conf_print_table(o->children, path);
		} else if (o->type == CT_MAP) {
			printf("| `%s` | object of named objects | | %s | %s |\n",
			    path, o->reload ? "yes" : "no", o->help);
			free(path);
			path = *prefix == '\0' ? xasprintf("%s.NAME", o->key) :
			    xasprintf("%s.%s.NAME", prefix, o->key);
			conf_print_table(o->children, path);
		} else if (o->type == CT_ARRAY) {
			printf("| `%s` | array | %s | %s | %s |\n", path,
			    o->def != NULL ? o->def : "", o->reload ? "yes" :
			    "no", o->help);
			free(path);
			path = *prefix == '\0' ? xasprintf("%s[]", o->key) :
			    xasprintf("%s.%s[]", prefix, o->key);
			conf_print_table(o->children, path);
		} else {
			printf("| `%s` | %s", path, o->type == CT_INT ?
			    "integer" : o->type == CT_BOOL ? "boolean" :
			    o->type == CT_STRLIST ? "array of strings" :
			    "string");
			if (o->type == CT_INT)
				printf(" %lld..%lld", o->min, o->max);
			if (o->choices != NULL)
				printf(" (%s)", o->choices);
			printf(" | %s | %s | %s |\n", o->def != NULL ? o->def :
			    "", o->reload ? "yes" : "no", o->help);
		}
		free(path);
	}
}

void
conf_print_reference(void)
{
	printf("| option | type | default | reloadable | meaning |\n");
	printf("| --- | --- | --- | --- | --- |\n");
	conf_print_table(conf_table, "");
}
