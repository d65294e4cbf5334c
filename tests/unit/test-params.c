/* Capture parameters, names, paths, times and limit arithmetic. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "params.h"
#include "session.h"
#include "util.h"
#include "xmalloc.h"

static int
one_account(const char *name, void *arg)
{
	return (strcmp(name, "archive") == 0);
}

static struct params_limits limits;

/* Parses text; returns the error (new) or NULL on success. */
static char *
parse_error(const char *text, const char *name)
{
	struct capture_params	 p;
	json_t			*j;
	char			*cause = NULL;

	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	if (params_parse(j, name, &limits, &p, &cause) == 0)
		params_clear(&p);
	json_decref(j);
	return (cause);
}

static void
test_defaults(void **state)
{
	struct capture_params	 p;
	json_t			*j, *o;
	char			*cause = NULL;

	j = json_loads("{\"target\": {\"interface\": \"eth0\"}}", 0, NULL);
	assert_int_equal(params_parse(j, "cap1", &limits, &p, &cause), 0);
	assert_string_equal(p.name, "cap1");
	assert_int_equal(p.snaplen, 0);
	assert_int_equal(p.max_bytes, 1073741824);
	assert_int_equal(p.time_limit_s, 18000);
	assert_int_equal(p.max_packets, 0);
	assert_string_equal(p.expr, "");
	assert_int_equal(p.keep_file, 1);
	assert_null(p.file);
	o = params_to_json(&p);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "target"), "interface")), "eth0");
	assert_true(json_is_true(json_object_get(json_object_get(o, "storage"),
	    "file")));
	json_decref(o);
	params_clear(&p);
	json_decref(j);
}

static void
test_errors_name_the_field(void **state)
{
	static const struct {
		const char	*text;
		const char	*name;
		const char	*want;
	} cases[] = {
		{ "[]", "a", "body: must be a JSON object" },
		{ "{}", "a", "target.interface: required" },
		{ "{\"target\": {}}", "a", "target.interface: required" },
		{ "{\"target\": {\"interface\": \"a/b\"}}", "a",
		  "target.interface: 'a/b' is not" },
		{ "{\"target\": {\"interface\": \"lo\", \"x\": 1}}", "a",
		  "target.x: unknown key" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"time_limit_s\": 0}",
		  "a", "time_limit_s: 0 is out of range 1..18000" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"time_limit_s\": "
		  "18001}", "a", "time_limit_s: 18001 is out of range" },
		{ "{\"target\": {\"interface\": \"lo\"}, "
		  "\"max_bytes_per_session\": 4294967296}", "a",
		  "max_bytes_per_session: 4294967296 is out of range" },
		{ "{\"target\": {\"interface\": \"lo\"}, "
		  "\"max_bytes_per_packet\": -1}", "a",
		  "max_bytes_per_packet: -1 is out of range" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"max_packets\": "
		  "\"10\"}", "a", "max_packets: must be an integer" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"name\": \"b\"}", "a",
		  "name: 'b' differs from the name in the path" },
		{ "{\"target\": {\"interface\": \"lo\"}}", "-a",
		  "name: '-a' must match" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"filters\": "
		  "[{\"protocol\": \"TCP\"}, {\"remote_port\": \"x\"}]}", "a",
		  "filters[1].remote_port: " },
		{ "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"port\"}",
		  "a", "bpf: " },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"file\": \"../x.pcap\"}}", "a", "storage.file: must be" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"file\": \"/etc/x.pcap\"}}", "a", "storage.file: must be" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"file\": \"a/./b\"}}", "a", "storage.file: must be" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"file\": \"x.pcap.part\"}}", "a", "storage.file: names" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"accounts\": [\"archive\", \"s3\"]}}", "a",
		  "storage.accounts[1]: no storage account named 's3'" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"storage\": "
		  "{\"file\": false}}", "a",
		  "storage.file: false needs storage.accounts" },
		{ "{\"target\": {\"interface\": \"lo\"}, \"colour\": 1}", "a",
		  "colour: unknown key" },
	};
	size_t	 i;
	char	*cause;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		cause = parse_error(cases[i].text, cases[i].name);
		if (cause == NULL)
			fail_msg("case %zu parsed", i);
		if (strncmp(cause, cases[i].want, strlen(cases[i].want)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, cause,
			    cases[i].want);
		free(cause);
	}
}

static void
test_storage_defaults(void **state)
{
	struct capture_params	 p;
	json_t			*j;
	char			*cause = NULL;

	/* Accounts named and no file asked for: the file is not kept. */
	j = json_loads("{\"target\": {\"interface\": \"lo\"}, \"storage\": "
	    "{\"accounts\": [\"archive\"]}}", 0, NULL);
	assert_int_equal(params_parse(j, "a", &limits, &p, &cause), 0);
	assert_int_equal(p.keep_file, 0);
	assert_int_equal(json_array_size(p.accounts), 1);
	params_clear(&p);
	json_decref(j);
	j = json_loads("{\"target\": {\"interface\": \"lo\"}, \"storage\": "
	    "{\"accounts\": [\"archive\"], \"file\": true}}", 0, NULL);
	assert_int_equal(params_parse(j, "a", &limits, &p, &cause), 0);
	assert_int_equal(p.keep_file, 1);
	params_clear(&p);
	json_decref(j);
}

static void
test_names(void **state)
{
	char	 long_name[90];

	assert_true(name_valid("a"));
	assert_true(name_valid("Z9._-x"));
	assert_false(name_valid(""));
	assert_false(name_valid(".a"));
	assert_false(name_valid("_a"));
	assert_false(name_valid("a/b"));
	assert_false(name_valid("a b"));
	assert_false(name_valid("caf\xc3\xa9"));
	memset(long_name, 'a', 80);
	long_name[80] = '\0';
	assert_true(name_valid(long_name));
	long_name[80] = 'a';
	long_name[81] = '\0';
	assert_false(name_valid(long_name));
}

static void
test_relpaths(void **state)
{
	assert_true(relpath_safe("a.pcap"));
	assert_true(relpath_safe("dir/sub/a.pcap"));
	assert_true(relpath_safe("..a/b.."));
	assert_false(relpath_safe(""));
	assert_false(relpath_safe("/a"));
	assert_false(relpath_safe("a/"));
	assert_false(relpath_safe("a//b"));
	assert_false(relpath_safe("../a"));
	assert_false(relpath_safe("a/../../b"));
	assert_false(relpath_safe("a/./b"));
	assert_false(relpath_safe(".."));
}

static void
test_times(void **state)
{
	int64_t	us;
	char	buf[40];

	assert_int_equal(time_parse_rfc3339("2024-03-01T12:00:00Z", &us), 0);
	assert_string_equal(time_rfc3339(buf, sizeof buf, us),
	    "2024-03-01T12:00:00.000000Z");
	assert_int_equal(time_parse_rfc3339("2024-03-01T14:00:00.123456789"
	    "+02:00", &us), 0);
	assert_string_equal(time_rfc3339(buf, sizeof buf, us),
	    "2024-03-01T12:00:00.123456Z");
	assert_string_equal(time_compact(buf, sizeof buf, us),
	    "20240301T120000Z");
	assert_int_equal(time_parse_rfc3339("0001-01-01T00:00:00Z", &us), 0);
	assert_int_equal(time_parse_rfc3339("2024-13-01T00:00:00Z", &us), -1);
	assert_int_equal(time_parse_rfc3339("2024-03-01", &us), -1);
	assert_int_equal(time_parse_rfc3339("2024-03-01T00:00:00", &us), -1);
	assert_int_equal(time_parse_rfc3339("2024-03-01T00:00:00Zjunk", &us),
	    -1);
}

static void
test_admit(void **state)
{
	struct sess_limits	 l = { 2, 1000 };
	struct sess_usage	 u = { 0, 0, 0 };
	char			*cause = NULL;

	assert_int_equal(session_admit(&u, &l, 1000, &cause), SESS_OK);
	assert_int_equal(session_admit(&u, &l, 1001, &cause), SESS_LIMITED);
	assert_non_null(strstr(cause, "captures.max_total_bytes"));
	free(cause);
	u.kept_bytes = 400;
	u.reserved_bytes = 500;
	u.running = 1;
	assert_int_equal(session_admit(&u, &l, 100, &cause), SESS_OK);
	assert_int_equal(session_admit(&u, &l, 101, &cause), SESS_LIMITED);
	free(cause);
	/* Files kept past the limit leave no room, without wrapping. */
	u.kept_bytes = 5000;
	assert_int_equal(session_admit(&u, &l, 1, &cause), SESS_LIMITED);
	free(cause);
	u.kept_bytes = 0;
	u.reserved_bytes = 0;
	u.running = 2;
	assert_int_equal(session_admit(&u, &l, 1, &cause), SESS_LIMITED);
	assert_non_null(strstr(cause, "captures.max_concurrent"));
	free(cause);
}

static void
test_secret_equal(void **state)
{
	assert_true(secret_equal("abc", "abc"));
	assert_false(secret_equal("abc", "abd"));
	assert_false(secret_equal("abc", "abcd"));
	assert_false(secret_equal("", "a"));
	assert_false(secret_equal("a", ""));
	assert_true(secret_equal("", ""));
	/* A given secret that repeats ours is not ours. */
	assert_false(secret_equal("abcabc", "abc"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors_name_the_field),
		cmocka_unit_test(test_storage_defaults),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_relpaths),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_secret_equal),
	};

	limits = params_embedded;
	limits.account_exists = one_account;
	return (cmocka_run_group_tests_name("params", tests, NULL, NULL));
}
