/*
 * Alert normalisation: each fixture in tests/fixtures/alerts against its
 * .expected.json (ALERTCAP_REGEN=1 rewrites them, for review), errors
 * that name the field, and the ${...} templates of rules; the arena the
 * alerts live in, a payload of many, and the allocation cache in front of
 * jansson's malloc.
 */
#include "config.h"

#include <malloc.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "alert.h"
#include "rule.h"
#include "util.h"
#include "xmalloc.h"

static const char *fixtures[] = { "alertmanager-firing", "alertmanager-resolved",
    "grafana-firing", "grafana-mqtt", "azure-common", "azure-metric-alert",
    "generic-array", NULL };

static json_t *
normalise(json_t *payload, const char *format)
{
	struct alert_list	 l = { 0 };
	json_t			*a;
	char			*cause = NULL;
	size_t			 i;

	if (alert_parse(payload, format, "webhook", &l, &cause) == -1)
		fail_msg("%s", cause);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, alert_to_json(l.v[i]));
	alert_list_clear(&l);
	return (a);
}

static void
test_golden(void **state)
{
	json_t	*in, *got, *want;
	char	*path, *epath, *text, *name, *base;
	int	 i;

	for (i = 0; fixtures[i] != NULL; i++) {
		name = xasprintf("alerts/%s", fixtures[i]);
		base = fixture_path(name);
		epath = xasprintf("%s.expected.json", base);
		path = xasprintf("%s.json", base);
		free(base);
		free(name);
		in = json_load_file(path, 0, NULL);
		if (in == NULL)
			fail_msg("%s: cannot read", path);
		got = normalise(in, NULL);
		if (getenv("ALERTCAP_REGEN") != NULL)
			json_dump_file(got, epath, JSON_INDENT(2) |
			    JSON_SORT_KEYS);
		want = json_load_file(epath, 0, NULL);
		if (want == NULL || !json_equal(got, want)) {
			text = json_dumps(got, JSON_INDENT(2) | JSON_SORT_KEYS);
			fail_msg("%s differs from %s:\n%s", path, epath, text);
		}
		json_decref(in);
		json_decref(got);
		json_decref(want);
		free(path);
		free(epath);
	}
}

/*
 * The fingerprint is the one Prometheus gives the label set (FNV-1a 64,
 * names sorted, 0xff after each name and value), with alertname from the
 * name unless the labels carry one. The figures were worked out apart.
 */
static void
test_fingerprint(void **state)
{
	static const struct {
		const char	*name, *labels, *fp;
	} t[] = {
		{ "HighLatency", "{\"instance\": \"a:9100\", "
		  "\"severity\": \"page\"}", "b0bb512ecd61ae9a" },
		{ "Other", "{\"instance\": \"a:9100\", \"severity\": "
		  "\"page\", \"alertname\": \"HighLatency\"}",
		  "b0bb512ecd61ae9a" },
		{ "Name \"x\"\n", "{}", "e295482136db6d77" },
		{ NULL, NULL, NULL } };
	struct alert_list	 l = { 0 };
	json_t			*payload, *lab;
	char			*cause = NULL;
	int			 i;

	for (i = 0; t[i].name != NULL; i++) {
		lab = json_loads(t[i].labels, 0, NULL);
		assert_non_null(lab);
		payload = json_pack("{s:s, s:s, s:O}", "name", t[i].name,
		    "status", "firing", "labels", lab);
		if (alert_parse(payload, "generic", "test", &l, &cause) == -1)
			fail_msg("%s", cause);
		assert_string_equal(l.v[0]->fingerprint, t[i].fp);
		json_decref(payload);
		json_decref(lab);
		alert_list_clear(&l);
	}
}

static json_t *
fixture_json(const char *name)
{
	json_t	*j;
	char	*base, *path;

	base = fixture_path(name);
	path = xasprintf("%s.json", base);
	if ((j = json_load_file(path, 0, NULL)) == NULL)
		fail_msg("%s: cannot read", path);
	free(base);
	free(path);
	return (j);
}

static void
test_detection(void **state)
{
	json_t	*j;

	j = json_loads("{\"version\": \"4\", \"groupKey\": \"x\", \"alerts\": []}",
	    0, NULL);
	assert_string_equal(alert_detect(j), "alertmanager");
	json_decref(j);
	j = json_loads("{\"version\": \"1\", \"orgId\": 1, \"alerts\": []}", 0,
	    NULL);
	assert_string_equal(alert_detect(j), "grafana");
	json_decref(j);
	/* Grafana's MQTT contact point: no orgId, state or title. */
	j = fixture_json("alerts/grafana-mqtt");
	assert_string_equal(alert_detect(j), "grafana");
	json_decref(j);
	j = json_loads("{\"schemaId\": \"x\"}", 0, NULL);
	assert_string_equal(alert_detect(j), "azure-monitor");
	json_decref(j);
	j = json_loads("[]", 0, NULL);
	assert_string_equal(alert_detect(j), "generic");
	json_decref(j);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*format;
		const char	*body;
		const char	*want;
	} cases[] = {
		{ "alertmanager", "{\"alerts\": 5}", "alerts: must be an array" },
		{ "alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
		  "\"labels\": {}}]}", "alerts[0].labels.alertname: required" },
		{ "alertmanager", "{\"alerts\": [{}, {\"status\": \"x\"}]}",
		  "alerts[0].status: must be" },
		{ "alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
		  "\"labels\": {\"alertname\": \"a\", \"x\": [1]}}]}",
		  "alerts[0].labels.x: must be a string" },
		{ "alertmanager", "{\"alerts\": [{\"status\": \"firing\", "
		  "\"labels\": {\"alertname\": \"a\"}, \"startsAt\": \"soon\"}]}",
		  "alerts[0].startsAt: 'soon' is not an RFC 3339 time" },
		{ "grafana", "[]", "body: a grafana payload is a JSON object" },
		{ "azure-monitor", "{\"schemaId\": \"other\"}", "schemaId: must be" },
		{ "azure-monitor", "{\"schemaId\": \"azureMonitorCommonAlertSchema\","
		  " \"data\": {\"essentials\": {\"monitorCondition\": \"Maybe\"}}}",
		  "data.essentials.monitorCondition: must be" },
		{ "generic", "{\"status\": \"firing\"}", "name: required" },
		{ "generic", "[{\"name\": \"a\", \"status\": \"firing\"}, "
		  "{\"name\": \"b\", \"status\": \"on\"}]", "[1].status: must be" },
		{ "generic", "{\"name\": \"a\", \"status\": \"firing\", "
		  "\"value\": \"high\"}", "value: must be a number or null" },
		{ "nagios", "{}", "format: 'nagios' is not one of" },
	};
	struct alert_list	 l = { 0 };
	json_t			*j;
	char			*cause;
	size_t			 i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		j = json_loads(cases[i].body, 0, NULL);
		assert_non_null(j);
		cause = NULL;
		if (alert_parse(j, cases[i].format, "webhook", &l, &cause) == 0)
			fail_msg("case %zu parsed", i);
		if (strncmp(cause, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, cause,
			    cases[i].want);
		assert_int_equal(l.n, 0);
		free(cause);
		json_decref(j);
	}
}

static void
test_templates(void **state)
{
	struct alert_list	 l = { 0 };
	struct tmpl_ctx		 c;
	json_t			*j;
	char			*s, *cause = NULL;
	size_t			 i;
	static const struct {
		const char	*in;
		const char	*out;
	} cases[] = {
		{ "${rule}-${labels.instance|host}-${timestamp}",
		  "r1-10.0.0.5-20240301T120000Z" },
		{ "${labels.v6|host}", "2001:db8::1" },
		{ "${labels.bare6|host}", "2001:db8::2" },
		{ "${labels.nope|default:eth0}", "eth0" },
		{ "${labels.Name|lower}", "web-vm1" },
		{ "${alert.fingerprint|short}", "0123456789ab" },
		{ "${alert.name}/${alert.severity}/${alert.format}/${node}",
		  "Big/critical/generic/n1" },
		{ "${alert.source}|${annotations.a}", "mon|x y" },
		{ "no refs", "no refs" },
	};

	j = json_loads("{\"name\": \"Big\", \"status\": \"firing\", "
	    "\"severity\": \"critical\", \"source\": \"mon\", \"fingerprint\": "
	    "\"0123456789abcdef\", \"labels\": {\"instance\": \"10.0.0.5:9100\", "
	    "\"v6\": \"[2001:db8::1]:80\", \"bare6\": \"2001:db8::2\", "
	    "\"Name\": \"Web-VM1\"}, \"annotations\": {\"a\": \"x y\"}}", 0,
	    NULL);
	assert_int_equal(alert_parse(j, NULL, "webhook", &l, &cause), 0);
	c.rule = "r1";
	c.node = "n1";
	assert_int_equal(time_parse_rfc3339("2024-03-01T12:00:00Z", &c.now_us),
	    0);
	c.alert = l.v[0];
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		s = tmpl_expand(cases[i].in, &c, &cause);
		if (s == NULL)
			fail_msg("%s: %s", cases[i].in, cause);
		assert_string_equal(s, cases[i].out);
		free(s);
	}
	assert_null(tmpl_expand("x-${labels.nope}", &c, &cause));
	assert_string_equal(cause, "${labels.nope} has no value");
	free(cause);
	assert_null(tmpl_expand("${rule|upper}", &c, &cause));
	assert_string_equal(cause, "unknown filter '|upper'");
	free(cause);
	assert_null(tmpl_expand("${rule", &c, &cause));
	free(cause);
	alert_list_clear(&l);
	json_decref(j);
}

static void
test_patterns_and_match(void **state)
{
	struct ruleset		*rs;
	struct alert_list	 l = { 0 };
	json_t			*j;
	char			*dir, *path, *cause = NULL;
	FILE			*f;

	dir = unit_tmpdir();
	path = xasprintf("%s/r.json", dir);
	f = fopen(path, "w");
	fputs("[{\"name\": \"a\", \"match\": {\"format\": \"generic\", "
	    "\"alert\": \"Tcp*\", \"labels\": {\"instance\": \"~^10\\\\.20\\\\.\"},"
	    " \"value\": {\"op\": \">\", \"threshold\": 0.02}}, \"capture\": "
	    "{\"name\": \"c-${timestamp}\", \"target\": {\"interface\": "
	    "\"lo\"}}}]", f);
	fclose(f);
	rs = rules_load(dir, 0, NULL, &cause);
	if (rs == NULL)
		fail_msg("%s", cause);
	j = json_loads("[{\"name\": \"TcpRetrans\", \"status\": \"firing\", "
	    "\"value\": 0.05, \"labels\": {\"instance\": \"10.20.0.5\"}}, "
	    "{\"name\": \"TcpRetrans\", \"status\": \"firing\", \"value\": 0.01,"
	    " \"labels\": {\"instance\": \"10.20.0.5\"}}, "
	    "{\"name\": \"TcpRetrans\", \"status\": \"firing\", \"value\": 0.05,"
	    " \"labels\": {\"instance\": \"10.21.0.5\"}}, "
	    "{\"name\": \"UdpX\", \"status\": \"firing\", \"value\": 0.05, "
	    "\"labels\": {\"instance\": \"10.20.0.5\"}}, "
	    "{\"name\": \"TcpRetrans\", \"status\": \"resolved\", \"value\": 0.05,"
	    " \"labels\": {\"instance\": \"10.20.0.5\"}}]", 0, NULL);
	assert_int_equal(alert_parse(j, NULL, "webhook", &l, &cause), 0);
	assert_true(rule_match(rs->v[0], l.v[0], 1));
	assert_false(rule_match(rs->v[0], l.v[1], 1));	/* value */
	assert_false(rule_match(rs->v[0], l.v[2], 1));	/* regex */
	assert_false(rule_match(rs->v[0], l.v[3], 1));	/* glob */
	assert_false(rule_match(rs->v[0], l.v[4], 1));	/* status */
	assert_true(rule_match(rs->v[0], l.v[4], 0));	/* but identifies */
	alert_list_clear(&l);
	json_decref(j);
	ruleset_free(rs);
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

/* An arena: aligned, past its inline block, and empty again at reset. */
static void
test_arena(void **state)
{
	struct arena	 a = { 0 };
	char		*s, *p[200], big[3000];
	size_t		 i;

	for (i = 0; i < 200; i++) {
		p[i] = arena_alloc(&a, i + 1);
		assert_int_equal((uintptr_t)p[i] % alignof(max_align_t), 0);
		memset(p[i], (int)i, i + 1);
	}
	for (i = 0; i < 200; i++)	/* nothing overlapped */
		assert_int_equal((unsigned char)p[i][i], i);
	assert_non_null(a.chunks);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = arena_printf(&a, "%s.%d", big, 7);	/* longer than its buffer */
	assert_int_equal(strlen(s), sizeof big + 1);
	assert_string_equal(s + sizeof big - 1, ".7");
	assert_string_equal(arena_strdup(&a, "abc"), "abc");
	arena_reset(&a);
	assert_null(a.chunks);
	s = arena_alloc(&a, 8);
	assert_ptr_equal(s, a.first.b);
	arena_reset(&a);
}

/*
 * A payload of 10,000 alerts (the most one takes): every one read, a
 * label map of strings is the payload's own, one with a number a copy.
 */
static void
test_many_alerts(void **state)
{
	struct alert_list	 l = { 0 };
	json_t			*p, *e;
	char			*cause = NULL, name[32];
	size_t			 i;

	p = json_array();
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "A%zu", i);
		e = json_pack("{s:s, s:s, s:{s:s, s:i}}", "name", name,
		    "status", "firing", "labels", "job", "node", "n", (int)i);
		if (i % 2 == 0)
			json_object_set_new(json_object_get(e, "labels"), "n",
			    json_string(name));
		json_array_append_new(p, e);
	}
	assert_int_equal(alert_parse(p, "generic", "mqtt:a/b", &l, &cause), 0);
	assert_int_equal(l.n, 10000);
	for (i = 0; i < 10000; i += 999) {
		snprintf(name, sizeof name, "A%zu", i);
		assert_string_equal(l.v[i]->name, name);
		assert_string_equal(l.v[i]->via, "mqtt:a/b");
		assert_string_equal(l.v[i]->format, "generic");
		assert_string_equal(l.v[i]->source, "generic");
		assert_string_equal(l.v[i]->severity, "");
		assert_int_equal(strlen(l.v[i]->fingerprint), 16);
		e = json_object_get(json_array_get(p, i), "labels");
		if (i % 2 == 0) {
			assert_ptr_equal(l.v[i]->labels, e);
			assert_string_equal(json_string_value(json_object_get(
			    l.v[i]->labels, "n")), name);
		} else {
			assert_ptr_not_equal(l.v[i]->labels, e);
			assert_string_equal(json_string_value(json_object_get(
			    l.v[i]->labels, "n")), name + 1);
		}
		assert_null(l.v[i]->annotations);
	}
	alert_list_clear(&l);
	assert_int_equal(l.n, 0);
	json_decref(p);
}

/*
 * The allocation cache: every block it hands out holds what was asked,
 * whatever size was freed into it before, and blocks it keeps come back.
 */
static void
test_alloc_cache(void **state)
{
	void	*p[600], *again;
	size_t	 i, n;

	alloc_cache_init();
	for (i = 0; i < 600; i++) {
		n = i % 300;
		p[i] = alloc_cache_malloc(n);
		assert_true(malloc_usable_size(p[i]) >= n);
		memset(p[i], 0x5a, n);
	}
	for (i = 0; i < 600; i++)
		alloc_cache_free(p[i]);
	for (i = 0; i < 600; i++) {	/* the other way round */
		n = 299 - i % 300;
		p[i] = alloc_cache_malloc(n);
		assert_true(malloc_usable_size(p[i]) >= n);
		memset(p[i], 0xa5, n);
	}
	for (i = 0; i < 600; i++)
		alloc_cache_free(p[i]);
	p[0] = alloc_cache_malloc(40);
	alloc_cache_free(p[0]);
	again = alloc_cache_malloc(40);
#ifndef __SANITIZE_ADDRESS__
	assert_ptr_equal(again, p[0]);
#endif
	alloc_cache_free(again);
	alloc_cache_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_detection),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_patterns_and_match),
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_many_alerts),
		cmocka_unit_test(test_alloc_cache),
	};

	return (cmocka_run_group_tests_name("alerts", tests, NULL, NULL));
}
