/* Rules: loading with positions, matching, and ${...} templates. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "params.h"
#include "rule.h"
#include "util.h"
#include "xmalloc.h"

#define RULES_MAX_FILE		(4 * 1024 * 1024)
#define RULES_MAX_ERRORS	(256 * 1024)
#define TMPL_MAX		(64 * 1024)

/* Collects errors with the position of a key path in one file. */
struct rule_ctx {
	const char			*file;
	const char			*text;
	struct dynbuf			*errors;
	int				 nerrors;
	const struct params_limits	*lim;	/* NULL: the defaults */
};

static void __attribute__((format(printf, 3, 4)))
rule_error(struct rule_ctx *ctx, const char *path, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	jsonpos_vreport(ctx->errors, ctx->file, ctx->text, path, fmt, ap);
	va_end(ap);
	ctx->nerrors++;
}

/* path.key, or key at the top of a file (new). */
static char *
kpath(const char *path, const char *key)
{
	return (*path == '\0' ? xstrdup(key) : xasprintf("%s.%s", path, key));
}

static void
pattern_clear(struct pattern *p)
{
	if (p->kind == PAT_REGEX)
		regfree(&p->re);
	free(p->text);
}

/* Compiles "exact", "gl*b" or "~regex"; -1 with *why (new). */
static int
pattern_init(struct pattern *p, const char *s, char **why)
{
	char	buf[256];
	int	rc;

	memset(p, 0, sizeof *p);
	if (s[0] == '~') {
		p->kind = PAT_REGEX;
		if ((rc = regcomp(&p->re, s + 1, REG_EXTENDED | REG_NOSUB)) !=
		    0) {
			regerror(rc, &p->re, buf, sizeof buf);
			*why = xasprintf("bad regular expression '%s': %s",
			    s + 1, buf);
			return (-1);
		}
	} else if (strpbrk(s, "*?[") != NULL)
		p->kind = PAT_GLOB;
	else
		p->kind = PAT_EXACT;
	p->text = xstrdup(s);
	return (0);
}

int
pattern_match(const struct pattern *p, const char *s)
{
	if (s == NULL)
		return (0);
	switch (p->kind) {
	case PAT_EXACT:
		return (strcmp(p->text, s) == 0);
	case PAT_GLOB:
		return (fnmatch(p->text, s, 0) == 0);
	case PAT_REGEX:
		return (regexec(&p->re, s, 0, NULL, 0) == 0);
	}
	return (0);
}

/* Frees a rule and every pattern it compiled. */
static void
rule_free(struct rule *r)
{
	size_t	i;

	if (r == NULL)
		return;
	free(r->name);
	free(r->file);
	json_decref(r->source);
	for (i = 0; i < r->nformats; i++)
		free(r->formats[i]);
	free(r->formats);
	if (r->via != NULL) {
		pattern_clear(r->via);
		free(r->via);
	}
	if (r->alert != NULL) {
		pattern_clear(r->alert);
		free(r->alert);
	}
	if (r->severity != NULL) {
		pattern_clear(r->severity);
		free(r->severity);
	}
	for (i = 0; i < r->nlabels; i++) {
		free(r->labels[i].key);
		pattern_clear(&r->labels[i].pat);
	}
	free(r->labels);
	for (i = 0; i < r->nannotations; i++) {
		free(r->annotations[i].key);
		pattern_clear(&r->annotations[i].pat);
	}
	free(r->annotations);
	json_decref(r->capture);
	free(r->dedup_key);
	free(r);
}

void
ruleset_free(struct ruleset *rs)
{
	size_t	i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->n; i++)
		rule_free(rs->v[i]);
	free(rs->v);
	free(rs->dir);
	json_decref(rs->byname);
	free(rs->scan);
	free(rs);
}

/* Fails with an error if obj holds a key not in keys. */
static int
only_keys(struct rule_ctx *ctx, json_t *obj, const char **keys,
    const char *path)
{
	const char	*k;
	json_t		*v;
	int		 i, bad = 0;

	json_object_foreach(obj, k, v) {
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], k) == 0)
				break;
		if (keys[i] == NULL) {
			char	*p = kpath(path, k);

			rule_error(ctx, p, "unknown key");
			free(p);
			bad = 1;
		}
	}
	return (bad ? -1 : 0);
}

/* A string pattern member; NULL if absent. */
static struct pattern *
get_pattern(struct rule_ctx *ctx, json_t *obj, const char *key,
    const char *path)
{
	struct pattern	*p;
	json_t		*v = json_object_get(obj, key);
	char		*kp, *why;

	if (v == NULL || json_is_null(v))
		return (NULL);
	kp = xasprintf("%s.%s", path, key);
	p = xcalloc(1, sizeof *p);
	if (!json_is_string(v))
		rule_error(ctx, kp, "must be a string (exact, glob or ~regex)");
	else if (pattern_init(p, json_string_value(v), &why) == -1) {
		rule_error(ctx, kp, "%s", why);
		free(why);
	} else {
		free(kp);
		return (p);
	}
	free(kp);
	free(p);
	return (NULL);
}

/* A map of label (or annotation) patterns at key. */
static int
get_kv_patterns(struct rule_ctx *ctx, json_t *obj, const char *key,
    const char *path, struct kv_pattern **out, size_t *n)
{
	json_t		*m = json_object_get(obj, key), *v;
	const char	*k;
	char		*kp, *why;

	*out = NULL;
	*n = 0;
	if (m == NULL || json_is_null(m))
		return (0);
	kp = xasprintf("%s.%s", path, key);
	if (!json_is_object(m)) {
		rule_error(ctx, kp, "must be an object of patterns");
		free(kp);
		return (-1);
	}
	json_object_foreach(m, k, v) {
		char	*ep = xasprintf("%s.%s", kp, k);

		if (!json_is_string(v)) {
			rule_error(ctx, ep, "must be a string");
			free(ep);
			continue;
		}
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		if (pattern_init(&(*out)[*n].pat, json_string_value(v),
		    &why) == -1) {
			rule_error(ctx, ep, "%s", why);
			free(why);
			free(ep);
			continue;
		}
		(*out)[*n].key = xstrdup(k);
		(*n)++;
		free(ep);
	}
	free(kp);
	return (0);
}

/* match.value: an operator and a numeric threshold. */
static int
parse_value(struct rule_ctx *ctx, struct rule *r, json_t *v,
    const char *path)
{
	static const char *ops[] = { ">", ">=", "<", "<=", "==", "!=", NULL };
	static const char *keys[] = { "op", "threshold", NULL };
	const char	*op;
	char		*p;
	int		 i;

	p = kpath(path, "value");
	if (!json_is_object(v)) {
		rule_error(ctx, p, "must be {\"op\": \">\", \"threshold\": N}");
		free(p);
		return (-1);
	}
	only_keys(ctx, v, keys, p);
	op = json_string_value(json_object_get(v, "op"));
	for (i = 0; ops[i] != NULL && (op == NULL || strcmp(op, ops[i]) != 0);
	    i++)
		;
	if (ops[i] == NULL) {
		char *q = xasprintf("%s.op", p);

		rule_error(ctx, q, "must be one of > >= < <= == !=");
		free(q);
	}
	if (!json_is_number(json_object_get(v, "threshold"))) {
		char *q = xasprintf("%s.threshold", p);

		rule_error(ctx, q, "must be a number");
		free(q);
	}
	r->has_value = 1;
	r->op = (enum value_op)i;
	r->threshold = json_number_value(json_object_get(v, "threshold"));
	free(p);
	return (0);
}

/* match: every key optional; status defaults to firing. */
static void
parse_match(struct rule_ctx *ctx, struct rule *r, json_t *m,
    const char *path)
{
	static const char *keys[] = { "format", "via", "status", "alert",
	    "severity", "labels", "annotations", "value", NULL };
	json_t		*f, *e;
	const char	*s;
	char		*p;
	size_t		 i;

	r->status = ALERT_FIRING;
	if (m == NULL || json_is_null(m))
		return;
	p = kpath(path, "match");
	if (!json_is_object(m)) {
		rule_error(ctx, p, "must be an object");
		free(p);
		return;
	}
	only_keys(ctx, m, keys, p);
	f = json_object_get(m, "format");
	if (json_is_string(f))
		f = json_pack("[O]", f);
	else
		json_incref(f);
	if (f != NULL && !json_is_array(f)) {
		char *q = xasprintf("%s.format", p);

		rule_error(ctx, q, "must be a format name or a list of them");
		free(q);
	}
	json_array_foreach(f, i, e) {
		s = json_string_value(e);
		if (alert_format_find(s) == -1) {
			char *q = xasprintf("%s.format[%zu]", p, i);

			rule_error(ctx, q, "must be %s", alert_format_list(0));
			free(q);
			continue;
		}
		r->formats = xrealloc(r->formats, (r->nformats + 1) *
		    sizeof *r->formats);
		r->formats[r->nformats++] = xstrdup(s);
	}
	json_decref(f);
	r->via = get_pattern(ctx, m, "via", p);
	s = json_string_value(json_object_get(m, "status"));
	if (json_object_get(m, "status") != NULL) {
		if (s != NULL && strcmp(s, "resolved") == 0)
			r->status = ALERT_RESOLVED;
		else if (s == NULL || strcmp(s, "firing") != 0) {
			char *q = xasprintf("%s.status", p);

			rule_error(ctx, q, "must be \"firing\" or \"resolved\"");
			free(q);
		}
	}
	r->alert = get_pattern(ctx, m, "alert", p);
	r->severity = get_pattern(ctx, m, "severity", p);
	get_kv_patterns(ctx, m, "labels", p, &r->labels, &r->nlabels);
	get_kv_patterns(ctx, m, "annotations", p, &r->annotations,
	    &r->nannotations);
	if (json_object_get(m, "value") != NULL)
		parse_value(ctx, r, json_object_get(m, "value"), p);
	free(p);
}

/* policy: cooldown, dedup key, per-rule cap, resolution handling. */
static void
parse_policy(struct rule_ctx *ctx, struct rule *r, json_t *pol,
    const char *path)
{
	static const char *keys[] = { "cooldown_s", "dedup_key",
	    "max_concurrent", "stop_on_resolved", "after_resolved_s", NULL };
	json_t	*v;
	char	*p;

	r->cooldown_s = 300;
	r->dedup_key = xstrdup("${rule}/${alert.fingerprint}");
	r->max_concurrent = 0;
	r->stop_on_resolved = 1;
	r->after_resolved_s = 0;
	if (pol == NULL || json_is_null(pol))
		return;
	p = kpath(path, "policy");
	if (!json_is_object(pol)) {
		rule_error(ctx, p, "must be an object");
		free(p);
		return;
	}
	only_keys(ctx, pol, keys, p);
#define POLICY_INT(key, field, max) do {				\
	if ((v = json_object_get(pol, key)) != NULL) {			\
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||	\
		    json_integer_value(v) > (max)) {			\
			char *q = xasprintf("%s." key, p);		\
			rule_error(ctx, q, "must be an integer 0..%lld",\
			    (long long)(max));				\
			free(q);					\
		} else							\
			r->field = json_integer_value(v);		\
	}								\
} while (0)
	POLICY_INT("cooldown_s", cooldown_s, 604800);
	POLICY_INT("max_concurrent", max_concurrent, 4096);
	POLICY_INT("after_resolved_s", after_resolved_s, 86400);
#undef POLICY_INT
	if ((v = json_object_get(pol, "dedup_key")) != NULL) {
		if (!json_is_string(v) || *json_string_value(v) == '\0') {
			char *q = xasprintf("%s.dedup_key", p);

			rule_error(ctx, q, "must be a non-empty string");
			free(q);
		} else {
			free(r->dedup_key);
			r->dedup_key = xstrdup(json_string_value(v));
		}
	}
	if ((v = json_object_get(pol, "stop_on_resolved")) != NULL) {
		if (!json_is_boolean(v)) {
			char *q = xasprintf("%s.stop_on_resolved", p);

			rule_error(ctx, q, "must be true or false");
			free(q);
		} else
			r->stop_on_resolved = json_is_true(v);
	}
	free(p);
}

/*
 * Reports "field: message" (why, stolen) of the capture parameters at
 * their position below capture (path).
 */
static void
capture_error(struct rule_ctx *ctx, const char *path, char *why)
{
	const char	*colon = strstr(why, ": ");
	char		*q;

	q = xasprintf("%s.%.*s", path, colon != NULL ? (int)(colon - why) :
	    (int)strlen(why), why);
	rule_error(ctx, q, "%s", colon != NULL ? colon + 2 : why);
	free(q);
	free(why);
}

/* One rule object at path ("" or "[i]"); NULL if it had errors. */
static struct rule *
parse_rule(struct rule_ctx *ctx, json_t *o, const char *path)
{
	static const char *keys[] = { "name", "match", "capture", "policy",
	    NULL };
	struct rule	*r;
	const char	*name;
	char		*p, *why = NULL;
	int		 before = ctx->nerrors;

	if (!json_is_object(o)) {
		rule_error(ctx, path, "a rule must be an object");
		return (NULL);
	}
	r = xcalloc(1, sizeof *r);
	r->file = xstrdup(ctx->file);
	r->source = json_incref(o);
	only_keys(ctx, o, keys, path);
	name = json_string_value(json_object_get(o, "name"));
	p = xasprintf("%s%sname", path, *path != '\0' ? "." : "");
	if (name == NULL || !name_valid(name))
		rule_error(ctx, p, "required: [A-Za-z0-9][A-Za-z0-9._-]{0,79}");
	else
		r->name = xstrdup(name);
	free(p);
	parse_match(ctx, r, json_object_get(o, "match"), path);
	r->capture = json_incref(json_object_get(o, "capture"));
	p = xasprintf("%s%scapture", path, *path != '\0' ? "." : "");
	if (!json_is_object(r->capture))
		rule_error(ctx, p, "required: the capture parameters");
	else if (params_check_keys(r->capture, &why) == -1 ||
	    params_check_literal(r->capture, ctx->lim, &why) == -1)
		capture_error(ctx, p, why);
	free(p);
	parse_policy(ctx, r, json_object_get(o, "policy"), path);
	if (ctx->nerrors > before) {
		rule_free(r);
		return (NULL);
	}
	return (r);
}

/* Loads one file's rules into rs. */
static void
load_file(struct ruleset *rs, const char *path,
    const struct params_limits *lim, struct dynbuf *errors, int *nerrors)
{
	struct rule_ctx	 ctx;
	struct rule	*r;
	json_error_t	 jerr;
	json_t		*root, *e;
	char		*text, *cause = NULL, ip[32];
	size_t		 i;

	memset(&ctx, 0, sizeof ctx);
	ctx.file = path;
	ctx.errors = errors;
	ctx.lim = lim;
	if ((text = file_read_small(path, RULES_MAX_FILE, &cause)) == NULL) {
		dynbuf_addf(errors, "%s%s", errors->len > 0 ? "\n" : "", cause);
		(*nerrors)++;
		free(cause);
		return;
	}
	ctx.text = text;
	root = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		dynbuf_addf(errors, "%s%s:%d:%d: %s", errors->len > 0 ? "\n" :
		    "", path, jerr.line, jerr.column, jerr.text);
		(*nerrors)++;
		free(text);
		return;
	}
	if (json_is_array(root)) {
		json_array_foreach(root, i, e) {
			snprintf(ip, sizeof ip, "[%zu]", i);
			if ((r = parse_rule(&ctx, e, ip)) != NULL) {
				rs->v = xrealloc(rs->v, (rs->n + 1) *
				    sizeof *rs->v);
				rs->v[rs->n++] = r;
			}
		}
	} else if ((r = parse_rule(&ctx, root, "")) != NULL) {
		rs->v = xrealloc(rs->v, (rs->n + 1) * sizeof *rs->v);
		rs->v[rs->n++] = r;
	}
	*nerrors += ctx.nerrors;
	json_decref(root);
	free(text);
}

static int
cmp_names(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* Builds the by-name index (rules are not reordered). */
static void
ruleset_index(struct ruleset *rs)
{
	const struct rule	*r;
	json_t			*list;
	size_t			 i;

	rs->byname = json_object();
	rs->scan = xcalloc(rs->n, sizeof *rs->scan);
	for (i = 0; i < rs->n; i++) {
		r = rs->v[i];
		if (r->alert == NULL || r->alert->kind != PAT_EXACT) {
			rs->scan[rs->nscan++] = i;
			continue;
		}
		if ((list = json_object_get(rs->byname, r->alert->text)) ==
		    NULL) {
			list = json_array();
			json_object_set_new(rs->byname, r->alert->text, list);
		}
		json_array_append_new(list, json_integer((json_int_t)i));
	}
}

size_t
ruleset_candidates(const struct ruleset *rs, const char *name,
    const struct rule **out)
{
	json_t	*list;
	size_t	 a = 0, b = 0, n = 0, na, ia;

	if (rs == NULL)
		return (0);
	list = name != NULL ? json_object_get(rs->byname, name) : NULL;
	na = json_array_size(list);
	/* Merge the two index lists, each in rule order. */
	while (a < na || b < rs->nscan) {
		ia = a < na ? (size_t)json_integer_value(json_array_get(list,
		    a)) : (size_t)-1;
		if (b < rs->nscan && rs->scan[b] < ia)
			out[n++] = rs->v[rs->scan[b++]];
		else {
			out[n++] = rs->v[ia];
			a++;
		}
	}
	return (n);
}

struct ruleset *
rules_load(const char *dir, int missing_ok, const struct params_limits *lim,
    char **cause)
{
	struct ruleset	*rs;
	struct dynbuf	 errors;
	struct dirent	*de;
	DIR		*d;
	char		**names = NULL, *path;
	size_t		 n = 0, i, j, len;
	int		 nerrors = 0;

	rs = xcalloc(1, sizeof *rs);
	rs->dir = xstrdup(dir);
	if ((d = opendir(dir)) == NULL) {
		if (errno == ENOENT && missing_ok)
			return (rs);
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		ruleset_free(rs);
		return (NULL);
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 6 ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > 0)	/* qsort(NULL, 0) is undefined */
		qsort(names, n, sizeof *names, cmp_names);
	dynbuf_init(&errors, RULES_MAX_ERRORS);
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, names[i]);
		load_file(rs, path, lim, &errors, &nerrors);
		free(path);
		free(names[i]);
	}
	free(names);
	/* Names are unique across the directory. */
	for (i = 0; i < rs->n; i++) {
		for (j = 0; j < i; j++) {
			if (strcmp(rs->v[i]->name, rs->v[j]->name) != 0)
				continue;
			dynbuf_addf(&errors, "%s%s: name: '%s' is also the name "
			    "of a rule in %s", errors.len > 0 ? "\n" : "",
			    rs->v[i]->file, rs->v[i]->name, rs->v[j]->file);
			nerrors++;
		}
	}
	if (nerrors > 0) {
		*cause = dynbuf_take(&errors);
		ruleset_free(rs);
		return (NULL);
	}
	dynbuf_free(&errors);
	ruleset_index(rs);
	return (rs);
}

json_t *
ruleset_to_json(const struct ruleset *rs)
{
	json_t	*a = json_array(), *o;
	size_t	 i;

	for (i = 0; rs != NULL && i < rs->n; i++) {
		o = json_deep_copy(rs->v[i]->source);
		json_object_set_new(o, "file", json_string(rs->v[i]->file));
		json_array_append_new(a, o);
	}
	return (json_pack("{s:o}", "rules", a));
}

static int
kv_match(const struct kv_pattern *kv, size_t n, json_t *map)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (!pattern_match(&kv[i].pat, json_string_value(
		    json_object_get(map, kv[i].key))))
			return (0);
	}
	return (1);
}

int
rule_match(const struct rule *r, const struct alert *a, int full)
{
	size_t	i;

	if (r->nformats > 0) {
		for (i = 0; i < r->nformats; i++)
			if (strcmp(r->formats[i], a->format) == 0)
				break;
		if (i == r->nformats)
			return (0);
	}
	if (r->via != NULL && !pattern_match(r->via, a->via))
		return (0);
	if (r->alert != NULL && !pattern_match(r->alert, a->name))
		return (0);
	if (r->severity != NULL && !pattern_match(r->severity, a->severity))
		return (0);
	if (!kv_match(r->labels, r->nlabels, a->labels) ||
	    !kv_match(r->annotations, r->nannotations, a->annotations))
		return (0);
	if (!full)
		return (1);
	if (r->status != a->status)
		return (0);
	if (!r->has_value)
		return (1);
	if (!a->has_value)
		return (0);
	switch (r->op) {
	case OP_GT: return (a->value > r->threshold);
	case OP_GE: return (a->value >= r->threshold);
	case OP_LT: return (a->value < r->threshold);
	case OP_LE: return (a->value <= r->threshold);
	case OP_EQ: return (a->value == r->threshold);
	case OP_NE: return (a->value != r->threshold);
	}
	return (0);
}

/* The raw value of a reference, or NULL if it has none. */
static const char *
tmpl_lookup(const char *ref, const struct tmpl_ctx *c, char *buf,
    size_t size)
{
	const struct alert	*a = c->alert;

	if (strcmp(ref, "rule") == 0)
		return (c->rule);
	if (strcmp(ref, "node") == 0)
		return (c->node);
	if (strcmp(ref, "timestamp") == 0)
		return (time_compact(buf, size, c->now_us));
	if (strncmp(ref, "labels.", 7) == 0)
		return (json_string_value(json_object_get(a->labels, ref + 7)));
	if (strncmp(ref, "annotations.", 12) == 0)
		return (json_string_value(json_object_get(a->annotations,
		    ref + 12)));
	if (strcmp(ref, "alert.name") == 0)
		return (a->name);
	if (strcmp(ref, "alert.severity") == 0)
		return (a->severity);
	if (strcmp(ref, "alert.source") == 0)
		return (a->source);
	if (strcmp(ref, "alert.format") == 0)
		return (a->format);
	if (strcmp(ref, "alert.fingerprint") == 0)
		return (a->fingerprint);
	if (strcmp(ref, "alert.status") == 0)
		return (alert_status_name(a->status));
	/* An alert that does not say when it began, began now. */
	if (strcmp(ref, "alert.starts_at") == 0)
		return (time_rfc3339(buf, size, a->starts_at != 0 ?
		    a->starts_at : c->now_us));
	return (NULL);
}

/* "[::1]:9100" -> "::1", "10.0.0.5:9100" -> "10.0.0.5", "::1" stays. */
static void
filter_host(char *s)
{
	char	*e;

	if (s[0] == '[' && (e = strchr(s, ']')) != NULL) {
		memmove(s, s + 1, (size_t)(e - s - 1));
		s[e - s - 1] = '\0';
		return;
	}
	if ((e = strchr(s, ':')) != NULL && strchr(e + 1, ':') == NULL)
		*e = '\0';
}

/* Applies "|filter|filter..." to value (new) or returns NULL. */
static char *
tmpl_filters(const char *value, const char *filters, char **why)
{
	char		*v, *f, *next, *all;
	size_t		 i;

	all = xstrdup(filters);
	v = value != NULL && *value != '\0' ? xstrdup(value) : NULL;
	for (f = all; f != NULL && *f != '\0'; f = next) {
		if ((next = strchr(f, '|')) != NULL)
			*next++ = '\0';
		if (strncmp(f, "default:", 8) == 0) {
			if (v == NULL)
				v = xstrdup(f + 8);
		} else if (strcmp(f, "host") == 0) {
			if (v != NULL)
				filter_host(v);
		} else if (strcmp(f, "lower") == 0) {
			for (i = 0; v != NULL && v[i] != '\0'; i++)
				v[i] = (char)tolower((unsigned char)v[i]);
		} else if (strcmp(f, "short") == 0) {
			if (v != NULL && strlen(v) > 12)
				v[12] = '\0';
		} else {
			*why = xasprintf("unknown filter '|%s'", f);
			free(v);
			free(all);
			return (NULL);
		}
	}
	free(all);
	if (v == NULL)
		*why = NULL;
	return (v);
}

char *
tmpl_expand(const char *s, const struct tmpl_ctx *c, char **cause)
{
	struct dynbuf	 out;
	const char	*p, *end, *raw;
	char		*ref, *bar, *val, *why, buf[40];

	dynbuf_init(&out, TMPL_MAX);
	for (p = s; *p != '\0'; p++) {
		if (p[0] != '$' || p[1] != '{') {
			dynbuf_add(&out, p, 1);
			continue;
		}
		if ((end = strchr(p + 2, '}')) == NULL) {
			*cause = xasprintf("unclosed '${' in '%s'", s);
			goto fail;
		}
		ref = xstrndup(p + 2, (size_t)(end - p - 2));
		if ((bar = strchr(ref, '|')) != NULL)
			*bar++ = '\0';
		raw = tmpl_lookup(ref, c, buf, sizeof buf);
		why = NULL;
		val = tmpl_filters(raw, bar != NULL ? bar : "", &why);
		if (val == NULL) {
			*cause = why != NULL ? why : xasprintf("${%s} has no "
			    "value", ref);
			free(ref);
			goto fail;
		}
		if (dynbuf_add(&out, val, strlen(val)) == -1) {
			*cause = xstrdup("expands past 64 KiB");
			free(val);
			free(ref);
			goto fail;
		}
		free(val);
		free(ref);
		p = end;
	}
	return (dynbuf_take(&out));
fail:
	dynbuf_free(&out);
	return (NULL);
}

json_t *
tmpl_expand_json(json_t *v, const struct tmpl_ctx *c, const char *path,
    char **cause)
{
	json_t		*out, *e, *x;
	const char	*k;
	char		*s, *p, *why;
	size_t		 i;

	if (json_is_string(v)) {
		if ((s = tmpl_expand(json_string_value(v), c, &why)) == NULL) {
			*cause = xasprintf("%s: %s", path, why);
			free(why);
			return (NULL);
		}
		out = json_string(s);
		free(s);
		return (out);
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e) {
			p = xasprintf("%s[%zu]", path, i);
			x = tmpl_expand_json(e, c, p, cause);
			free(p);
			if (x == NULL) {
				json_decref(out);
				return (NULL);
			}
			json_array_append_new(out, x);
		}
		return (out);
	}
	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, e) {
			p = xasprintf("%s.%s", path, k);
			x = tmpl_expand_json(e, c, p, cause);
			free(p);
			if (x == NULL) {
				json_decref(out);
				return (NULL);
			}
			json_object_set_new(out, k, x);
		}
		return (out);
	}
	return (json_incref(v));
}
