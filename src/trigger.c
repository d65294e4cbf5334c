/* Alert policy: dedup, cooldown, per-rule caps, resolution. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "log.h"
#include "metrics.h"
#include "rule.h"
#include "session.h"
#include "trigger.h"
#include "util.h"
#include "xmalloc.h"

#define NAME_SUFFIX_MAX	1000

enum outcome {
	OUT_STARTED,
	OUT_FORWARDED,
	OUT_DUPLICATE,
	OUT_COOLDOWN,
	OUT_LIMITED,
	OUT_SKIPPED,
	OUT_STOPPED,
	OUT_MAX
};

static const char *outcome_names[] = { "started", "forwarded", "duplicate",
    "cooldown", "limited", "skipped", "stopped" };

/* A metric series over a rule's threshold (telegraf-json samples). */
struct series {
	char			*key;	/* rule NUL-free "/" fingerprint */
	TAILQ_ENTRY(series)	 entry;
};

static struct ruleset		*trig_rules;
static char			*trig_node;
static trigger_forward_fn	 trig_forward;
static void			*trig_forward_arg;
static TAILQ_HEAD(, series)	 trig_series = TAILQ_HEAD_INITIALIZER(trig_series);
static const struct rule	**trig_cand;	/* candidates, see trigger_alerts */
static size_t			 trig_ncand;

static struct {
	uint64_t	received[AFMT_WEBHOOK_MAX][2];	/* by format, status */
	uint64_t	matched;
	uint64_t	outcomes[OUT_MAX];
} trig_stats;

static void
metric_received(struct metric_out *o, void *arg)
{
	int	f, s;

	for (f = 0; f < AFMT_WEBHOOK_MAX; f++)
		for (s = 0; s < 2; s++)
			metric_u64(o, trig_stats.received[f][s], "format",
			    alert_format_name(f), "status",
			    alert_status_name(s), (char *)NULL);
}

static void
metric_outcomes(struct metric_out *o, void *arg)
{
	int	i;

	for (i = 0; i < OUT_MAX; i++)
		metric_u64(o, trig_stats.outcomes[i], "outcome",
		    outcome_names[i], (char *)NULL);
}

static void
metric_rules(struct metric_out *o, void *arg)
{
	metric_u64(o, trig_rules != NULL ? trig_rules->n : 0, (char *)NULL);
}

static const struct metric trig_metrics[] = {
	METRIC_READ("alertcap_alerts_received_total", COUNTER,
	    "Alerts received, by format and status.", metric_received, NULL),
	METRIC_VALUE("alertcap_alert_matches_total", COUNTER,
	    "Alert and rule pairs that matched.", &trig_stats.matched),
	METRIC_READ("alertcap_alert_outcomes_total", COUNTER,
	    "What matched alerts led to.", metric_outcomes, NULL),
	METRIC_READ("alertcap_rules", GAUGE,
	    "Rules loaded.", metric_rules, NULL),
	METRIC_END
};

void
trigger_init(const char *node, struct ruleset *rs)
{
	trig_node = xstrdup(node);
	trig_rules = rs;
	metrics_register(trig_metrics, NULL);
}

void
trigger_set_rules(struct ruleset *rs)
{
	ruleset_free(trig_rules);
	trig_rules = rs;
}

const struct ruleset *
trigger_rules(void)
{
	return (trig_rules);
}

void
trigger_set_forwarder(trigger_forward_fn fn, void *arg)
{
	trig_forward = fn;
	trig_forward_arg = arg;
}

void
trigger_shutdown(void)
{
	struct series	*s;

	metrics_unregister(trig_metrics);
	free(trig_cand);
	trig_cand = NULL;
	trig_ncand = 0;
	while ((s = TAILQ_FIRST(&trig_series)) != NULL) {
		TAILQ_REMOVE(&trig_series, s, entry);
		free(s->key);
		free(s);
	}
	ruleset_free(trig_rules);
	trig_rules = NULL;
	free(trig_node);
	trig_node = NULL;
}

/* One matched[] entry (new), logged as it is made. */
static json_t *
outcome(const struct rule *r, const struct alert *a, enum outcome o,
    const char *capture, const char *reason)
{
	json_t	*m;

	trig_stats.outcomes[o]++;
	m = json_pack("{s:s, s:s, s:s, s:s}", "rule", r->name, "alert",
	    a->name, "fingerprint", a->fingerprint, "outcome",
	    outcome_names[o]);
	if (capture != NULL)
		json_object_set_new(m, "capture", json_string(capture));
	if (reason != NULL) {
		json_object_set_new(m, "reason", json_string(reason));
		log_info("rule %s, alert %s: %s: %s", r->name, a->name,
		    outcome_names[o], reason);
	} else
		log_info("rule %s, alert %s: %s%s%s", r->name, a->name,
		    outcome_names[o], capture != NULL ? " " : "",
		    capture != NULL ? capture : "");
	return (m);
}

/* A resolved alert stops what its firing started. */
static json_t *
resolve(const struct rule *r, const struct alert *a,
    const struct tmpl_ctx *ctx, int dry_run)
{
	enum cap_status	 st;
	enum sess_result rc;
	int64_t		 stopped;
	const char	*found;
	char		*key, *name, *why = NULL, *msg;
	json_t		*m;

	if ((key = tmpl_expand(r->dedup_key, ctx, &why)) == NULL) {
		free(why);
		return (NULL);
	}
	found = session_find_dedup(key, &st, &stopped);
	free(key);
	if (found == NULL || st != CAP_RUNNING)
		return (NULL);
	name = xstrdup(found);
	if (r->after_resolved_s > 0) {
		/* The recovery is evidence too: stop later, unless it refires. */
		msg = xasprintf("the alert resolved; stopping in %llds unless "
		    "it fires again", r->after_resolved_s);
		if (!dry_run && session_stop_after(name, STOP_ALERT_RESOLVED,
		    (int)r->after_resolved_s, msg, &why) != SESS_OK) {
			log_warn("rule %s: stopping %s later: %s", r->name,
			    name, why);
			free(why);
		}
		m = outcome(r, a, OUT_STOPPED, name, msg);
		free(msg);
		free(name);
		return (m);
	}
	/* SESS_PENDING: stopped; the record says so once the file is durable. */
	if (!dry_run && (rc = session_stop(name, STOP_ALERT_RESOLVED, NULL,
	    &why)) != SESS_OK && rc != SESS_PENDING) {
		log_warn("rule %s: stopping %s: %s", r->name, name, why);
		free(why);
		free(name);
		return (NULL);
	}
	m = outcome(r, a, OUT_STOPPED, name, dry_run ? "would stop" : NULL);
	free(name);
	return (m);
}

/* The capture's name, with -2, -3... when it is taken. */
static char *
free_name(const char *base)
{
	enum cap_status	 st;
	int64_t		 stopped;
	char		*n;
	int		 i;

	if (session_state(base, &st, &stopped) == -1)
		return (xstrdup(base));
	for (i = 2; i < NAME_SUFFIX_MAX; i++) {
		n = xasprintf("%.75s-%d", base, i);
		if (session_state(n, &st, &stopped) == -1)
			return (n);
		free(n);
	}
	return (xstrdup(base));
}

/* The trigger of a capture an alert starts: what its file says too. */
static json_t *
trigger_json(const struct rule *r, const struct alert *a, const char *key)
{
	json_t	*t, *dash, *panel;
	char	 ts[40];

	t = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}",
	    "kind", "alert", "rule", r->name, "source", a->source,
	    "alert", a->name, "fingerprint", a->fingerprint,
	    "format", a->format, "via", a->via, "dedup_key", key,
	    "labels", a->labels != NULL ? json_incref(a->labels) :
	    json_object());
	if (*a->severity != '\0')
		json_object_set_new(t, "severity", json_string(a->severity));
	if (a->starts_at != 0)
		json_object_set_new(t, "starts_at", json_string(time_rfc3339(ts,
		    sizeof ts, a->starts_at)));
	/* Grafana names the panel that alerted: its annotation goes there. */
	dash = json_object_get(a->annotations, "__dashboardUid__");
	panel = json_object_get(a->annotations, "__panelId__");
	if (json_is_string(dash) && json_is_string(panel))
		json_object_set_new(t, "panel", json_pack("{s:O, s:O}",
		    "dashboard_uid", dash, "panel_id", panel));
	return (t);
}

/*
 * A capture for another node goes there as a create command; that node
 * applies its own dedup and limits. The outcome records where it went.
 */
static json_t *
forward(const struct rule *r, const struct alert *a, const char *node,
    json_t *params, const char *key, int dry_run)
{
	json_t	*trigger, *m;
	char	*why = NULL, *reason;

	if (strncmp(a->via, "mqtt:", 5) == 0) {
		/* Every node reads the feed; the one targeted acts. */
		reason = xasprintf("capture.target.node: '%s' reads this feed "
		    "and acts on it itself", node);
		m = outcome(r, a, OUT_SKIPPED, NULL, reason);
		free(reason);
		return (m);
	}
	if (trig_forward == NULL) {
		reason = xasprintf("capture.target.node: '%s' is another node, "
		    "and this node has no MQTT to reach it", node);
		m = outcome(r, a, OUT_SKIPPED, NULL, reason);
		free(reason);
		return (m);
	}
	if (dry_run) {
		m = outcome(r, a, OUT_FORWARDED, NULL, "dry run: would forward");
		json_object_set_new(m, "node", json_string(node));
		return (m);
	}
	trigger = trigger_json(r, a, key);
	if (trig_forward(node, params, trigger, trig_forward_arg, &why) == -1) {
		m = outcome(r, a, OUT_SKIPPED, NULL, why);
		free(why);
	} else {
		m = outcome(r, a, OUT_FORWARDED, json_string_value(
		    json_object_get(params, "name")), NULL);
		json_object_set_new(m, "node", json_string(node));
	}
	json_decref(trigger);
	return (m);
}

/* A firing alert that matched: decide and maybe start. */
static json_t *
fire(const struct rule *r, const struct alert *a, const struct tmpl_ctx *ctx,
    int dry_run, json_t *captures, int *retry)
{
	enum cap_status	 st;
	enum sess_result rc;
	int64_t		 stopped;
	json_t		*params, *trigger, *m, *rec = NULL;
	const char	*target, *last;
	char		*key, *why = NULL, *name, *reason = NULL;

	if ((key = tmpl_expand(r->dedup_key, ctx, &why)) == NULL) {
		reason = xasprintf("policy.dedup_key: %s", why);
		m = outcome(r, a, OUT_SKIPPED, NULL, reason);
		free(reason);
		free(why);
		return (m);
	}
	if ((last = session_find_dedup(key, &st, &stopped)) != NULL) {
		if (st == CAP_RUNNING || st == CAP_NOT_STARTED) {
			free(key);
			/* A flapping alert: the same capture goes on. */
			if (!dry_run && session_keep(last, "the alert fired "
			    "again; the capture goes on"))
				return (outcome(r, a, OUT_DUPLICATE, last,
				    "fired again within after_resolved_s: the "
				    "capture goes on"));
			return (outcome(r, a, OUT_DUPLICATE, last, NULL));
		}
		if (stopped + r->cooldown_s * 1000000 > ctx->now_us) {
			reason = xasprintf("%s ended less than %llds ago",
			    last, r->cooldown_s);
			m = outcome(r, a, OUT_COOLDOWN, last, reason);
			free(reason);
			free(key);
			return (m);
		}
	}
	if (r->max_concurrent > 0 &&
	    session_running_for_rule(r->name) >= r->max_concurrent) {
		reason = xasprintf("policy.max_concurrent: %lld captures of "
		    "this rule are running", r->max_concurrent);
		m = outcome(r, a, OUT_LIMITED, NULL, reason);
		free(reason);
		free(key);
		return (m);
	}
	if ((params = tmpl_expand_json(r->capture, ctx, "capture", &why)) ==
	    NULL) {
		m = outcome(r, a, OUT_SKIPPED, NULL, why);
		free(why);
		free(key);
		return (m);
	}
	/* An alert's capture records its context, unless the rule says not. */
	if (json_object_get(params, "context") == NULL)
		json_object_set_new(params, "context", json_true());
	target = json_string_value(json_object_get(json_object_get(params,
	    "target"), "node"));
	if (target != NULL && strcmp(target, trig_node) != 0) {
		m = forward(r, a, target, params, key, dry_run);
		goto done;
	}
	name = free_name(json_string_value(json_object_get(params, "name")) !=
	    NULL ? json_string_value(json_object_get(params, "name")) : "");
	json_object_set_new(params, "name", json_string(name));
	if (dry_run) {
		m = outcome(r, a, OUT_STARTED, name, "dry run: would start");
		json_object_set(m, "capture_parameters", params);
		free(name);
		goto done;
	}
	trigger = trigger_json(r, a, key);
	rc = session_create(params, NULL, trigger, &rec, &why);
	json_decref(trigger);
	if (rc == SESS_OK) {
		if (captures != NULL)
			json_array_append_new(captures, json_string(name));
		m = outcome(r, a, OUT_STARTED, name, NULL);
	} else {
		if (rc == SESS_UNAVAILABLE)
			*retry = 1;
		m = outcome(r, a, rc == SESS_LIMITED ? OUT_LIMITED :
		    OUT_SKIPPED, NULL, why);
	}
	json_decref(rec);
	free(why);
	free(name);
	reason = NULL;
done:
	free(reason);
	json_decref(params);
	free(key);
	return (m);
}

/* The format an alert is counted under: a webhook format, else generic. */
static int
format_index(const char *name)
{
	int	f = alert_format_find(name);

	return (f >= 0 && f < AFMT_WEBHOOK_MAX ? f : AFMT_GENERIC);
}

static struct series *
series_find(const char *key)
{
	struct series	*s;

	TAILQ_FOREACH(s, &trig_series, entry) {
		if (strcmp(s->key, key) == 0)
			return (s);
	}
	return (NULL);
}

/*
 * A metric sample: the first one over a rule's condition fires, the first
 * later one of the same series under it resolves.
 */
static json_t *
sample(const struct rule *r, const struct alert *a,
    const struct tmpl_ctx *actx, int dry_run, json_t *captures, int *retry)
{
	struct series	*s;
	struct alert	 view = *a;	/* the sample as this rule sees it */
	struct tmpl_ctx	 vctx = *actx, *ctx = &vctx;
	json_t		*m = NULL;
	char		*key;

	/* The alert is borrowed: its status is the view's, not written. */
	vctx.alert = &view;
	a = &view;

	key = xasprintf("%s/%s", r->name, a->fingerprint);
	s = series_find(key);
	view.status = ALERT_FIRING;
	if (rule_match(r, a, 1)) {
		if (s == NULL) {
			trig_stats.matched++;
			m = fire(r, a, ctx, dry_run, captures, retry);
			if (!dry_run) {
				s = xcalloc(1, sizeof *s);
				s->key = key;
				key = NULL;
				TAILQ_INSERT_TAIL(&trig_series, s, entry);
			}
		}
	} else if (s != NULL) {
		view.status = ALERT_RESOLVED;
		if (r->stop_on_resolved)
			m = resolve(r, a, ctx, dry_run);
		if (!dry_run) {
			TAILQ_REMOVE(&trig_series, s, entry);
			free(s->key);
			free(s);
		}
	}
	free(key);
	return (m);
}

json_t *
trigger_alerts(const struct alert_list *l, int dry_run, int answer,
    int *retry)
{
	struct tmpl_ctx	 ctx;
	const struct rule *r, **cand;
	json_t		*matched = NULL, *captures = NULL, *m;
	size_t		 i, j, nc;

	*retry = 0;
	/* Room for every rule, kept between calls: no calloc per alert. */
	if (trig_ncand < (trig_rules != NULL ? trig_rules->n + 1 : 1)) {
		trig_ncand = trig_rules != NULL ? trig_rules->n + 1 : 1;
		free(trig_cand);
		trig_cand = xcalloc(trig_ncand, sizeof *trig_cand);
	}
	cand = trig_cand;
	if (answer) {
		matched = json_array();
		captures = json_array();
	}
	ctx.node = trig_node;
	ctx.now_us = now_us();
	for (i = 0; i < l->n; i++) {
		ctx.alert = l->v[i];
		if (!dry_run && !l->v[i]->sample)
			trig_stats.received[format_index(l->v[i]->format)]
			    [l->v[i]->status]++;
		nc = ruleset_candidates(trig_rules, l->v[i]->name, cand);
		for (j = 0; j < nc; j++) {
			r = cand[j];
			ctx.rule = r->name;
			if (!rule_match(r, l->v[i], 0))
				continue;
			m = NULL;
			if (l->v[i]->sample)
				m = sample(r, l->v[i], &ctx, dry_run, captures,
				    retry);
			else if (rule_match(r, l->v[i], 1)) {
				trig_stats.matched++;
				m = fire(r, l->v[i], &ctx, dry_run, captures,
				    retry);
			} else if (l->v[i]->status == ALERT_RESOLVED &&
			    r->stop_on_resolved)
				m = resolve(r, l->v[i], &ctx, dry_run);
			if (matched != NULL && m != NULL)
				json_array_append_new(matched, m);
			else
				json_decref(m);
		}
	}
	if (!answer)
		return (NULL);
	return (json_pack("{s:I, s:o, s:o}", "alerts", (json_int_t)l->n,
	    "matched", matched, "captures", captures));
}

int
trigger_intake(json_t *payload, const char *format, const char *via,
    int dry_run, json_t **answer, char **cause)
{
	struct alert_list	 l = { 0 };
	json_t			*norm, *ans;
	size_t			 i;
	int			 retry;

	if (answer != NULL)
		*answer = NULL;
	if (alert_parse(payload, format, via, &l, cause) == -1)
		return (400);
	ans = trigger_alerts(&l, dry_run, answer != NULL || dry_run, &retry);
	if (dry_run) {
		norm = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(norm, alert_to_json(l.v[i]));
		json_object_set_new(ans, "normalized", norm);
	}
	alert_list_clear(&l);
	if (retry) {
		json_decref(ans);
		*cause = xstrdup("the state store failed; retry");
		return (503);
	}
	if (answer != NULL)
		*answer = ans;
	else
		json_decref(ans);
	return (dry_run ? 200 : 202);
}
