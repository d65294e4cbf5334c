/*
 * The policy engine over the real session manager, without root: alerts
 * start captures on a replayed interface, duplicates and cooldowns are
 * refused, per-rule caps hold, resolution stops the capture, and a dry
 * run starts nothing.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "harness.h"
#include "session.h"
#include "trigger.h"
#include "unit.h"
#include "xmalloc.h"

static const char *rule = "[{"
    "\"name\": \"loss\","
    "\"match\": {\"alert\": \"PacketLoss\"},"
    "\"capture\": {\"name\": \"${rule}-${labels.host}\","
    "  \"target\": {\"interface\": \"rp0\"}, \"time_limit_s\": 60},"
    "\"policy\": {\"cooldown_s\": 300, \"max_concurrent\": 2,"
    "  \"dedup_key\": \"${rule}/${labels.host}\"}},"
    "{\"name\": \"flap\","
    "\"match\": {\"alert\": \"Flapping\"},"
    "\"capture\": {\"name\": \"${rule}\","
    "  \"target\": {\"interface\": \"rp0\"}, \"time_limit_s\": 60},"
    "\"policy\": {\"after_resolved_s\": 1, \"dedup_key\": \"${rule}\"}}]";

static int
setup(void **state)
{
	harness_start(rule);
	return (0);
}

static int
teardown(void **state)
{
	harness_stop();
	return (0);
}

/*
 * Sends one generic alert named name for host through the intake; returns
 * its first outcome ("none" when no rule matched).
 */
static char *
named_alert(const char *name, const char *host, const char *status,
    int dry_run)
{
	json_t	*p, *answer = NULL, *m;
	char	*cause = NULL, *out;
	int	 rc;

	p = json_pack("{s:s, s:s, s:{s:s}}", "name", name, "status",
	    status, "labels", "host", host);
	rc = trigger_intake(p, NULL, "test", dry_run, &answer, &cause);
	json_decref(p);
	assert_int_equal(rc, dry_run ? 200 : 202);
	m = json_array_get(json_object_get(answer, "matched"), 0);
	out = xstrdup(m != NULL ? json_string_value(json_object_get(m,
	    "outcome")) : "none");
	json_decref(answer);
	return (out);
}

static char *
alert(const char *host, const char *status, int dry_run)
{
	return (named_alert("PacketLoss", host, status, dry_run));
}

/* Asserts what the next alert leads to. */
static void
expect(const char *host, const char *status, const char *outcome)
{
	char	*got = alert(host, status, 0);

	assert_string_equal(got, outcome);
	free(got);
}

static void
test_start_duplicate_resolve_cooldown(void **state)
{
	json_t	*r;

	expect("a", "firing", "started");
	assert_true(harness_wait_status("loss-a", "Running", 1000));
	expect("a", "firing", "duplicate");
	expect("a", "resolved", "stopped");
	assert_true(harness_wait_status("loss-a", "Stopped", 5000));
	r = harness_record("loss-a");
	assert_string_equal(json_string_value(json_object_get(r,
	    "stop_reason")), "AlertResolved");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    r, "trigger"), "rule")), "loss");
	json_decref(r);
	expect("a", "firing", "cooldown");
}

static void
test_rule_cap(void **state)
{
	expect("a", "firing", "started");
	expect("b", "firing", "started");
	expect("c", "firing", "limited");
	assert_int_equal(session_running_for_rule("loss"), 2);
	assert_null(harness_record("loss-c"));
}

static void
test_dry_run_and_no_match(void **state)
{
	json_t	*p, *answer = NULL;
	char	*cause = NULL, *got;

	got = alert("a", "firing", 1);
	assert_string_equal(got, "started");
	free(got);
	assert_null(harness_record("loss-a"));
	p = json_pack("{s:s, s:s}", "name", "DiskFull", "status", "firing");
	assert_int_equal(trigger_intake(p, NULL, "test", 0, &answer, &cause),
	    202);
	assert_int_equal(json_array_size(json_object_get(answer, "matched")),
	    0);
	json_decref(answer);
	json_decref(p);
	/* A payload no format reads is a 400 naming what is wrong. */
	p = json_pack("{s:i}", "name", 5);
	assert_int_equal(trigger_intake(p, "generic", "test", 0, &answer,
	    &cause), 400);
	assert_non_null(strstr(cause, "name"));
	free(cause);
	json_decref(p);
}

static void
test_capture_takes_packets(void **state)
{
	json_t	*r;

	expect("a", "firing", "started");
	harness_ping(5, 56);
	expect("a", "resolved", "stopped");
	assert_true(harness_wait_status("loss-a", "Stopped", 5000));
	r = harness_record("loss-a");
	assert_int_equal(json_integer_value(json_object_get(r, "packets")), 10);
	json_decref(r);
}

static void
test_after_resolved(void **state)
{
	char	*got, *events;
	json_t	*r;

	got = named_alert("Flapping", "a", "firing", 0);
	assert_string_equal(got, "started");
	free(got);
	got = named_alert("Flapping", "a", "resolved", 0);
	assert_string_equal(got, "stopped");
	free(got);
	harness_run(300);
	assert_true(harness_wait_status("flap", "Running", 100));
	/* Fires again within the second: the same capture goes on. */
	got = named_alert("Flapping", "a", "firing", 0);
	assert_string_equal(got, "duplicate");
	free(got);
	harness_run(1200);
	assert_true(harness_wait_status("flap", "Running", 100));
	got = named_alert("Flapping", "a", "resolved", 0);
	free(got);
	assert_true(harness_wait_status("flap", "Stopped", 3000));
	r = harness_record("flap");
	assert_string_equal(json_string_value(json_object_get(r,
	    "stop_reason")), "AlertResolved");
	events = json_dumps(json_object_get(r, "events"), 0);
	assert_non_null(strstr(events, "fired again"));
	free(events);
	json_decref(r);
	assert_null(harness_record("flap-2"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_start_duplicate_resolve_cooldown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_and_no_match,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_capture_takes_packets,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_after_resolved, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
