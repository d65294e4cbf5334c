/*
 * The session manager, whole, without root: captures on a replayed
 * interface run to each of their limits, filter and cut packets as asked,
 * stop, refuse what they must, and leave records and files that agree.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "harness.h"
#include "pcapfile.h"
#include "session.h"
#include "unit.h"
#include "xmalloc.h"

static int
setup(void **state)
{
	harness_start(NULL);
	return (0);
}

static int
teardown(void **state)
{
	harness_stop();
	return (0);
}


static json_int_t
rec_int(const char *name, const char *key)
{
	json_t		*r = harness_record(name);
	json_int_t	 v;

	assert_non_null(r);
	v = json_integer_value(json_object_get(r, key));
	json_decref(r);
	return (v);
}

/* Asserts a string member of a capture's record. */
static void
assert_rec_str(const char *name, const char *key, const char *want)
{
	json_t	*r = harness_record(name);

	assert_non_null(r);
	assert_string_equal(json_string_value(json_object_get(r, key)), want);
	json_decref(r);
}

static void
test_time_limit(void **state)
{
	json_t	*r;

	assert_int_equal(harness_create("t1", "{\"target\": {\"interface\": "
	    "\"rp0\"}," " \"time_limit_s\": 1}"), SESS_OK);
	harness_ping(10, 56);
	assert_true(harness_wait_status("t1", "Stopped", 4000));
	assert_rec_str("t1", "stop_reason", "TimeExceeded");
	assert_int_equal(rec_int("t1", "packets"), 20);
	r = harness_record("t1");
	assert_non_null(json_object_get(r, "sha256"));
	json_decref(r);
}

static void
test_byte_and_packet_limits(void **state)
{
	assert_int_equal(harness_create("b1", "{\"target\": {\"interface\": "
	    "\"rp0\"}," " \"max_bytes_per_session\": 2000}"), SESS_OK);
	assert_int_equal(harness_create("p1", "{\"target\": {\"interface\": "
	    "\"rp0\"}," " \"max_packets\": 7}"), SESS_OK);
	harness_ping(50, 100);
	assert_true(harness_wait_status("b1", "Stopped", 4000));
	assert_true(harness_wait_status("p1", "Stopped", 4000));
	assert_rec_str("b1", "stop_reason", "BytesExceeded");
	assert_true(rec_int("b1", "bytes") <= 2000);
	assert_true(rec_int("b1", "bytes") > 2000 - PCAP_RECORD_HDR - 142);
	assert_rec_str("p1", "stop_reason", "PacketsExceeded");
	assert_int_equal(rec_int("p1", "packets"), 7);
}

static void
test_filters_and_snaplen(void **state)
{
	uint64_t	ng;

	assert_int_equal(harness_create("udp", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"bpf\": \"udp\"}"), SESS_OK);
	assert_int_equal(harness_create("web", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"filters\": [{\"protocol\": \"TCP\", \"local_port\": "
	    "\"80\"}, {\"protocol\": \"TCP\", \"remote_port\": \"80\"}]}"),
	    SESS_OK);
	assert_int_equal(harness_create("cut", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"max_bytes_per_packet\": 64, \"format\": \"pcap\"}"),
	    SESS_OK);
	assert_int_equal(harness_create("cutng", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"max_bytes_per_packet\": 64}"), SESS_OK);
	harness_traffic(10);
	assert_true(harness_stop_capture("udp"));
	assert_true(harness_stop_capture("web"));
	assert_true(harness_stop_capture("cut"));
	assert_true(harness_stop_capture("cutng"));
	assert_int_equal(rec_int("udp", "packets"), 40);
	assert_int_equal(rec_int("web", "packets"), 20);
	assert_int_equal(rec_int("cut", "packets"), 90);
	assert_int_equal(rec_int("cutng", "packets"), 90);
	/* Every packet is longer than 64 bytes: each record holds 64. */
	assert_int_equal(rec_int("cut", "bytes"), PCAP_GLOBAL_HDR +
	    90 * (PCAP_RECORD_HDR + 64));
	/* pcapng: its header, 90 blocks of 64 bytes, the statistics. */
	ng = (uint64_t)rec_int("cutng", "bytes");
	assert_true(ng > 90 * PCAPNG_EPB_LEN(64) + PCAPNG_ISB_LEN);
	assert_int_equal((ng - 90 * PCAPNG_EPB_LEN(64) - PCAPNG_ISB_LEN) % 4,
	    0);
}

static void
test_refusals(void **state)
{
	json_t		*out = NULL, *budget;
	char		*cause = NULL, *file;
	json_int_t	 kept;

	assert_int_equal(harness_create("r1", "{\"target\": {\"interface\": "
	    "\"rp0\"}}"), SESS_OK);
	assert_int_equal(harness_create("r1", "{\"target\": {\"interface\": "
	    "\"rp0\"}}"), SESS_CONFLICT);
	assert_int_equal(harness_create("r2", "{\"target\": {\"interface\": "
	    "\"no-such0\"}}"), SESS_INVALID);
	assert_int_equal(harness_create("r3", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"bpf\": \"tcp port\"}"), SESS_INVALID);
	assert_int_equal(session_stop("nope", STOP_MANUAL, &out, &cause),
	    SESS_NOT_FOUND);
	free(cause);
	cause = NULL;
	assert_true(harness_stop_capture("r1"));
	assert_int_equal(session_stop("r1", STOP_MANUAL, &out, &cause),
	    SESS_CONFLICT);
	free(cause);
	cause = NULL;
	/* Forgotten, its file still counts against the disk budget. */
	file = harness_file("r1");
	budget = session_budget();
	kept = json_integer_value(json_object_get(budget, "kept_bytes"));
	json_decref(budget);
	assert_true(kept > 0);
	assert_int_equal(session_delete("r1", 0, &cause), SESS_OK);
	assert_null(harness_record("r1"));
	assert_int_equal(access(file, F_OK), 0);
	budget = session_budget();
	assert_int_equal(json_integer_value(json_object_get(budget,
	    "kept_bytes")), kept);
	json_decref(budget);
	free(file);
	/* With its file: gone from the disk and from the budget. */
	assert_int_equal(harness_create("r4", "{\"target\": {\"interface\": "
	    "\"rp0\"}}"), SESS_OK);
	assert_true(harness_stop_capture("r4"));
	file = harness_file("r4");
	assert_int_equal(session_delete("r4", 1, &cause), SESS_OK);
	harness_run(200);	/* the worker unlinks it */
	assert_int_equal(access(file, F_OK), -1);
	free(file);
	/* The refused ones left nothing behind. */
	assert_null(harness_record("r2"));
	assert_null(harness_record("r3"));
}

/* The names in a part of a list, in order, joined by spaces (new). */
static char *
part_names(json_t *part)
{
	struct dynbuf	 b;
	json_t		*r;
	size_t		 i;

	dynbuf_init(&b, 4096);
	json_array_foreach(part, i, r)
		dynbuf_addf(&b, "%s%s", i > 0 ? " " : "", json_string_value(
		    json_object_get(r, "name")));
	json_decref(part);
	return (b.buf != NULL ? dynbuf_take(&b) : xstrdup(""));
}

/*
 * A list made a part at a time moves past a record deleted under its
 * cursor, leaves out one deleted ahead of it, ends with one made
 * meanwhile, and the running ones' list past one that stopped.
 */
static void
test_list_in_parts(void **state)
{
	struct sess_listing	*l;
	char			*cause = NULL, *names, name[8];
	int			 i;

	for (i = 1; i <= 5; i++) {
		snprintf(name, sizeof name, "l%d", i);
		assert_int_equal(harness_create(name, "{\"target\": "
		    "{\"interface\": \"rp0\"}}"), SESS_OK);
	}
	l = session_list_begin(NULL, NULL);
	assert_int_equal(session_list_most(l), 5);
	names = part_names(session_list_next(l, 2));
	assert_string_equal(names, "l1 l2");
	free(names);
	/* l3 is where the cursor stands; l4 is ahead of it. */
	assert_int_equal(session_delete("l3", 1, &cause), SESS_OK);
	assert_int_equal(session_delete("l4", 1, &cause), SESS_OK);
	assert_int_equal(harness_create("l6", "{\"target\": "
	    "{\"interface\": \"rp0\"}}"), SESS_OK);
	names = part_names(session_list_next(l, 10));
	assert_string_equal(names, "l5 l6");
	free(names);
	names = part_names(session_list_next(l, 10));
	assert_string_equal(names, "");
	free(names);
	session_list_end(l);
	/* The running ones: l2 stops under the cursor. */
	l = session_list_begin("Running", NULL);
	names = part_names(session_list_next(l, 1));
	assert_string_equal(names, "l1");
	free(names);
	assert_true(harness_stop_capture("l2"));
	names = part_names(session_list_next(l, 10));
	assert_string_equal(names, "l5 l6");
	free(names);
	session_list_end(l);
	/* One ended early (a client gone) leaves nothing behind. */
	l = session_list_begin(NULL, NULL);
	names = part_names(session_list_next(l, 1));
	free(names);
	session_list_end(l);
	for (i = 1; i <= 6; i++) {
		snprintf(name, sizeof name, "l%d", i);
		if (i != 3 && i != 4)
			assert_int_equal(session_delete(name, 1, &cause),
			    SESS_OK);
	}
}

/*
 * Reads a finished file with the crash repair (on a copy): how many whole
 * packets and bytes it holds, and its SHA-256.
 */
static void
read_back(const char *path, uint64_t *packets, uint64_t *bytes, char *sha)
{
	char	*dir, *copy, *cause = NULL;
	int	 dfd;

	dir = xstrdup(path);
	*strrchr(dir, '/') = '\0';
	copy = xasprintf("%s/copy.part", dir);
	assert_int_equal(harness_copy_file(path, copy), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	assert_int_equal(pcapfile_repair(dfd, "copy.part", packets, bytes, sha,
	    &cause), 0);
	unlinkat(dfd, "copy.part", 0);
	close(dfd);
	free(copy);
	free(dir);
}

static void
test_file_matches_record(void **state)
{
	uint64_t	 packets, bytes;
	char		 sha[65], *path;
	json_t		*r;

	assert_int_equal(harness_create("f1", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"storage\": {\"file\": \"sub/f1.pcap\"}}"), SESS_OK);
	harness_ping(25, 300);
	assert_true(harness_stop_capture("f1"));
	assert_non_null(path = harness_file("f1"));
	assert_non_null(strstr(path, "/sub/f1.pcap"));
	read_back(path, &packets, &bytes, sha);
	r = harness_record("f1");
	assert_int_equal(packets, 50);
	assert_int_equal(json_integer_value(json_object_get(r, "packets")), 50);
	assert_int_equal((json_int_t)bytes, json_integer_value(
	    json_object_get(r, "bytes")));
	assert_string_equal(sha, json_string_value(json_object_get(r,
	    "sha256")));
	json_decref(r);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_time_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_byte_and_packet_limits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_and_snaplen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_in_parts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_matches_record, setup,
		    teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
