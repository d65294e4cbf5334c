/*
 * Fuzz target: a rule file, through the loader (every check, with the
 * positions of its errors) and, when it loads, each rule's templates
 * expanded against a firing alert.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "alert.h"
#include "fuzz.h"
#include "rule.h"
#include "util.h"
#include "xmalloc.h"

static const char alert_text[] = "{\"name\": \"TcpRetransmitHigh\", "
    "\"status\": \"firing\", \"severity\": \"critical\", \"value\": 0.5, "
    "\"labels\": {\"instance\": \"10.20.0.5:9100\", \"device\": \"eth0\", "
    "\"job\": \"node\"}, \"annotations\": {\"summary\": \"s\"}, "
    "\"starts_at\": \"2026-11-30T22:14:00Z\"}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char		*dir;
	struct alert_list	 l = { 0 };
	struct ruleset		*rs;
	struct tmpl_ctx		 ctx;
	json_t			*alert, *out;
	char			*cause = NULL, *s, *path;
	size_t			 i;

	if (dir == NULL) {
		dir = xasprintf("%s/rules", fuzz_tmpdir());
		mkdir(dir, 0700);
	}
	path = xasprintf("rules/r.json");
	fuzz_write(path, data, size);
	free(path);
	if ((rs = rules_load(dir, 0, NULL, &cause)) == NULL) {
		free(cause);
		return (0);
	}
	/* (the alert points into its payload, which outlives it) */
	alert = json_loads(alert_text, 0, NULL);
	if (alert_parse(alert, "generic", "webhook", &l, &cause) == -1)
		abort();
	for (i = 0; i < rs->n; i++) {
		ctx.rule = rs->v[i]->name;
		ctx.node = "fuzz";
		ctx.now_us = now_us();
		ctx.alert = l.v[0];
		(void)rule_match(rs->v[i], l.v[0], 1);
		if ((out = tmpl_expand_json(rs->v[i]->capture, &ctx, "capture",
		    &cause)) == NULL)
			free(cause);
		json_decref(out);
		cause = NULL;
		if ((s = tmpl_expand(rs->v[i]->dedup_key, &ctx, &cause)) == NULL)
			free(cause);
		free(s);
	}
	ruleset_free(rs);
	alert_list_clear(&l);
	json_decref(alert);
	return (0);
}
