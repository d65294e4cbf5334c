/* Configuration: defaults, bounds, unknown keys, error positions. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "conf.h"
#include "jsonpos.h"
#include "log.h"
#include "xmalloc.h"

/* Writes text to a temporary file and loads it. */
static struct conf *
load_text(const char *text, char **cause)
{
	struct conf	*c;
	char		 path[] = "/tmp/alertcap-conf-XXXXXX";
	int		 fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	c = conf_load(path, cause);
	if (c == NULL) {
		/* Make the message independent of the temporary name. */
		char	*p = strstr(*cause, path), *r;

		if (p != NULL) {
			r = xasprintf("F%s", p + strlen(path));
			free(*cause);
			*cause = r;
		}
	}
	unlink(path);
	return (c);
}

static void
test_embedded_default(void **state)
{
	struct conf		*c;
	struct conf_listen	*l;
	char			*cause = NULL;

	c = conf_load(NULL, &cause);
	assert_non_null(c);
	assert_int_equal(c->listen.n, 1);
	l = c->listen.v;
	assert_string_equal(l->address, "127.0.0.1");
	assert_int_equal(l->port, 8087);
	assert_string_equal(c->captures_root, "./var/captures");
	assert_string_equal(c->state_path, "./var/alertcap.db");
	assert_int_equal(c->def_time_limit_s, 18000);
	assert_int_equal(c->def_max_bytes, 1073741824);
	assert_int_equal(c->max_max_bytes, 4294967295LL);
	assert_int_equal(c->ring_bytes, 67108864);
	assert_non_null(c->node);
	conf_free(c);
}

static void
test_values_and_listen_defaults(void **state)
{
	struct conf		*c;
	struct conf_listen	*l;
	char			*cause = NULL;

	c = load_text("{\"node\": \"edge-01\", \"listen\": [{\"port\": 9000},"
	    " {\"address\": \"::1\", \"port\": 9001}],\n"
	    "\"captures\": {\"root\": \"/tmp/x\", \"max_concurrent\": 3, "
	    "\"defaults\": {\"time_limit_s\": 60}}}", &cause);
	if (c == NULL)
		fail_msg("%s", cause);
	assert_string_equal(c->node, "edge-01");
	assert_int_equal(c->listen.n, 2);
	l = c->listen.v;
	assert_string_equal(l[0].address, "127.0.0.1");
	assert_int_equal(l[0].port, 9000);
	assert_string_equal(l[1].address, "::1");
	assert_int_equal(c->max_concurrent, 3);
	assert_int_equal(c->def_time_limit_s, 60);
	assert_int_equal(c->max_time_limit_s, 18000);
	conf_free(c);
}

static void
test_errors_name_file_line_key(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "{\n  \"captures\": {\n    \"max_concurent\": 4\n  }\n}",
		  "F:3:5: captures.max_concurent: unknown key" },
		{ "{\"captures\": {\"max_concurrent\": 0}}",
		  "F:1:15: captures.max_concurrent: 0 is out of range 1..4096" },
		{ "{\"captures\": {\"max_concurrent\": \"4\"}}",
		  "F:1:15: captures.max_concurrent: must be an integer" },
		{ "{\"listen\": [{\"port\": 1}, {\"port\": 70000}]}",
		  "F:1:27: listen[1].port: 70000 is out of range 1..65535" },
		{ "{\"listen\": [{\"address\": \"localhost\"}]}",
		  "F:1:14: listen[0].address: 'localhost' is not an IP address" },
		{ "{\"state\": {\"synchronous\": \"sometimes\"}}",
		  "F:1:12: state.synchronous: 'sometimes' is not one of normal|full" },
		{ "{\"captures\": {\"defaults\": {\"time_limit_s\": 100}, "
		  "\"maximums\": {\"time_limit_s\": 50}}}",
		  "F:1:28: captures.defaults.time_limit_s: 100 is above" },
		{ "{\"mqtt\": {\"hots\": \"x\"}}",
		  "F:1:11: mqtt.hots: unknown key" },
		{ "{\"colour\": {}}", "F:1:2: colour: unknown key" },
		{ "{\"node\": \"a b\"}", "F:1:2: node: 'a b' is not a valid" },
		{ "[1]", "F:1:1: (top): must be a JSON object" },
		{ "{\"node\": \"x\",}", "F:1:14: " },
		{ "{\"node\": \"x\", \"node\": \"y\"}", "F:1:" },
	};
	size_t	 i;
	char	*cause;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		cause = NULL;
		if (load_text(cases[i].text, &cause) != NULL)
			fail_msg("case %zu loaded", i);
		if (strncmp(cause, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, cause,
			    cases[i].want);
		free(cause);
	}
}

static void
test_every_error_reported(void **state)
{
	char	*cause = NULL;

	assert_null(load_text("{\"a\": 1,\n\"b\": 2}", &cause));
	assert_non_null(strstr(cause, "F:1:2: a: unknown key"));
	assert_non_null(strstr(cause, ":2:1: b: unknown key"));
	free(cause);
}

static void
test_missing_file(void **state)
{
	char	*cause = NULL;

	assert_null(conf_load("/nonexistent/alertcap.json", &cause));
	assert_non_null(strstr(cause, "/nonexistent/alertcap.json"));
	free(cause);
}

static void
test_restart_needed(void **state)
{
	struct conf	*a, *b;
	char		*cause = NULL;

	a = load_text("{\"captures\": {\"max_concurrent\": 2}}", &cause);
	b = load_text("{\"captures\": {\"max_concurrent\": 5}}", &cause);
	assert_null(conf_restart_needed(a, b));
	conf_free(b);
	b = load_text("{\"captures\": {\"root\": \"/elsewhere\"}}", &cause);
	assert_string_equal(conf_restart_needed(a, b), "root");
	conf_free(a);
	conf_free(b);
}

static void
test_jsonpos(void **state)
{
	const char	*t = "{\"a\": {\"b\": [1, {\"c\": 2}, \"x\"]},\n"
	    " \"d\": \"e\"}";
	int		 line, col;

	assert_int_equal(jsonpos_find(t, strlen(t), "d", &line, &col), 0);
	assert_int_equal(line, 2);
	assert_int_equal(col, 2);
	assert_int_equal(jsonpos_find(t, strlen(t), "a.b[1].c", &line, &col),
	    0);
	assert_int_equal(line, 1);
	assert_int_equal(col, 18);
	assert_int_equal(jsonpos_find(t, strlen(t), "a.b[2]", &line, &col), 0);
	assert_int_equal(col, 27);
	assert_int_equal(jsonpos_find(t, strlen(t), "a.z", &line, &col), -1);
}

/*
 * The logger escapes what messages quote, once: a newline in untrusted
 * text starts a line of its own (with its own prefix), a terminal escape
 * and bytes that are not UTF-8 become \xNN, UTF-8 stays.
 */
static void
test_log_escapes_once(void **state)
{
	char	path[] = "/tmp/alertcap-log.XXXXXX", buf[1024];
	FILE	*f;
	size_t	 n;
	int	 fd, saved;

	fd = mkstemp(path);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	log_init(LOG_LVL_INFO, 0);
	log_info("alert %s here", "A\n2026-12-01T00:00:00.000Z error: forged"
	    "\x1b[31m\xe9 caf\xc3\xa9");
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_non_null(strstr(buf, " info: alert A\n"));
	/* The forged line has the logger's own prefix in front of it. */
	assert_non_null(strstr(buf, "Z info: 2026-12-01T00:00:00.000Z error: "
	    "forged\\x1b[31m\\xe9 caf\xc3\xa9 here\n"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_default),
		cmocka_unit_test(test_values_and_listen_defaults),
		cmocka_unit_test(test_errors_name_file_line_key),
		cmocka_unit_test(test_every_error_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_restart_needed),
		cmocka_unit_test(test_jsonpos),
		cmocka_unit_test(test_log_escapes_once),
	};

	return (cmocka_run_group_tests_name("conf", tests, NULL, NULL));
}
