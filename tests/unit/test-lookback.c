/*
 * Lookback without root: a ring on a replayed interface holds what came
 * before a capture, and the capture's file begins with it, through the
 * capture's own filter and snap length, then goes on live with nothing
 * lost or doubled at the seam; a ring that let packets go, or none at
 * all, is a gap on record.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "harness.h"
#include "lookback.h"
#include "session.h"
#include "unit.h"
#include "util.h"
#include "xmalloc.h"

static int
setup(void **state)
{
	harness_start_lookback(NULL, 4 * 1024 * 1024, 0);
	return (0);
}

static int
setup_small(void **state)
{
	harness_start_lookback(NULL, 1024 * 1024, 0);
	return (0);
}

static int
teardown(void **state)
{
	harness_stop();
	return (0);
}


/* A number from the record's lookback object. */
static double
lb_num(const char *name, const char *key)
{
	json_t	*r = harness_record(name), *v;
	double	 d;

	assert_non_null(r);
	v = json_object_get(json_object_get(r, "lookback"), key);
	assert_non_null(v);
	d = json_number_value(v);
	json_decref(r);
	return (d);
}

static json_int_t
rec_int(const char *name, const char *key)
{
	json_t		*r = harness_record(name);
	json_int_t	 v;

	v = json_integer_value(json_object_get(r, key));
	json_decref(r);
	return (v);
}

/*
 * Reads a finished file with libpcap: its packets, the largest caplen,
 * and whether the timestamps never go back.
 */
static void
read_file(const char *name, int *packets, unsigned *maxcap, int *ordered)
{
	char			 ebuf[PCAP_ERRBUF_SIZE], *path;
	struct pcap_pkthdr	*h;
	const u_char		*d;
	pcap_t			*p;
	int64_t			 last = 0, ts;

	path = harness_file(name);
	assert_non_null(path);
	p = pcap_open_offline(path, ebuf);
	assert_non_null(p);
	*packets = 0;
	*maxcap = 0;
	*ordered = 1;
	while (pcap_next_ex(p, &h, &d) == 1) {
		ts = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		if (ts < last)
			*ordered = 0;
		last = ts;
		if (h->caplen > *maxcap)
			*maxcap = h->caplen;
		(*packets)++;
	}
	pcap_close(p);
	free(path);
}

/* A capture on rp0 from back_us ago (as from), with more members. */
static int
create_from(const char *name, int64_t back_us, const char *more)
{
	char	from[40], body[256];

	time_rfc3339(from, sizeof from, now_us() - back_us);
	snprintf(body, sizeof body, "{\"target\": {\"interface\": \"rp0\"}, "
	    "\"from\": \"%s\"%s}", from, more);
	return (harness_create(name, body));
}

static void
test_past_then_live(void **state)
{
	int		packets, ordered;
	unsigned	maxcap;

	harness_run(300);
	harness_ping(20, 100);		/* 40 packets, before the capture */
	assert_int_equal(create_from("lb1", 250000, ""), SESS_OK);
	harness_ping(5, 100);		/* 10 more, live */
	assert_true(harness_stop_capture("lb1"));
	assert_int_equal(rec_int("lb1", "packets"), 50);
	assert_true(lb_num("lb1", "packets") == 40);
	assert_true(lb_num("lb1", "gap_s") == 0);
	read_file("lb1", &packets, &maxcap, &ordered);
	assert_int_equal(packets, 50);
	assert_true(ordered);
	/* Further back than the ring has run: the rest is a gap. */
	assert_int_equal(harness_create("lb1b", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 60, \"time_limit_s\": 0}"), SESS_OK);
	assert_true(harness_wait_status("lb1b", "Stopped", 2000));
	assert_true(lb_num("lb1b", "gap_s") > 55);
	assert_true(lb_num("lb1b", "gap_s") < 60);
	assert_true(lb_num("lb1b", "packets") == 50);
}

static void
test_seam_under_traffic(void **state)
{
	int		packets, ordered;
	unsigned	maxcap;

	harness_ping(100, 200);
	/* The live packets land while the past is still being copied. */
	assert_int_equal(harness_create("lb2", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 60}"), SESS_OK);
	harness_ping(100, 200);
	harness_ping(100, 200);
	assert_true(harness_stop_capture("lb2"));
	read_file("lb2", &packets, &maxcap, &ordered);
	assert_int_equal(packets, 600);
	assert_int_equal(rec_int("lb2", "packets"), 600);
	assert_true(lb_num("lb2", "packets") == 200);
	assert_true(ordered);
}

static void
test_own_filter_and_snaplen(void **state)
{
	int		packets, ordered;
	unsigned	maxcap;

	harness_traffic(10);		/* 90 packets, 40 of them UDP */
	assert_int_equal(harness_create("lb3", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 30, \"bpf\": \"udp\", "
	    "\"max_bytes_per_packet\": 60}"), SESS_OK);
	harness_traffic(5);
	assert_true(harness_stop_capture("lb3"));
	read_file("lb3", &packets, &maxcap, &ordered);
	assert_int_equal(packets, 60);
	assert_true(lb_num("lb3", "packets") == 40);
	assert_true(maxcap <= 60);
}

static void
test_snapshot(void **state)
{
	json_t	*r;

	harness_ping(10, 56);
	assert_int_equal(harness_create("snap", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 30, \"time_limit_s\": 0}"), SESS_OK);
	assert_true(harness_wait_status("snap", "Stopped", 2000));
	r = harness_record("snap");
	assert_string_equal(json_string_value(json_object_get(r,
	    "stop_reason")), "TimeExceeded");
	json_decref(r);
	assert_int_equal(rec_int("snap", "packets"), 20);
	/* Without a lookback, 0 is no time limit at all. */
	assert_int_equal(harness_create("nolb", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"time_limit_s\": 0}"), SESS_INVALID);
}

static void
test_gap_without_ring(void **state)
{
	harness_ping_on(HARNESS_IFACE2, 10, 56);
	assert_int_equal(harness_create("gap", "{\"target\": {\"interface\": "
	    "\"rp1\"}, \"lookback_s\": 20}"), SESS_OK);
	harness_ping_on(HARNESS_IFACE2, 3, 56);
	assert_true(harness_stop_capture("gap"));
	assert_int_equal(rec_int("gap", "packets"), 6);
	assert_true(lb_num("gap", "gap_s") > 19.0);
	assert_true(lb_num("gap", "packets") == 0);
}

static void
test_from_and_refusals(void **state)
{
	harness_ping(10, 56);
	assert_int_equal(create_from("from1", 30 * 1000000LL, ""), SESS_OK);
	assert_true(harness_stop_capture("from1"));
	assert_true(lb_num("from1", "packets") == 20);
	assert_int_equal(harness_create("bad1", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 999999}"), SESS_INVALID);
	assert_int_equal(harness_create("bad2", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 5, \"from\": \"2026-01-01T00:00:00Z\"}"),
	    SESS_INVALID);
	assert_int_equal(harness_create("bad3", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"from\": \"yesterday\"}"), SESS_INVALID);
}

/* A ring of 1 MiB, offered 3 MiB: it keeps the newest, and says so. */
static void
test_overflow_is_a_gap(void **state)
{
	json_t	*ifs;
	char	*text;
	int	 packets, ordered;
	unsigned maxcap;

	harness_ping(1000, 1400);
	harness_ping(100, 1400);
	assert_int_equal(harness_create("over", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 60, \"time_limit_s\": 0}"), SESS_OK);
	assert_true(harness_wait_status("over", "Stopped", 3000));
	assert_true(lb_num("over", "gap_s") > 0);
	read_file("over", &packets, &maxcap, &ordered);
	/* 1 MiB holds about 700 records of 1442 + 16 bytes. */
	assert_true(packets > 600 && packets < 800);
	assert_true(ordered);
	ifs = lookback_interfaces();
	text = json_dumps(ifs, 0);
	assert_non_null(strstr(text, "\"evicted\""));
	free(text);
	json_decref(ifs);
}

static int
setup_disk(void **state)
{
	harness_start_disk(1024 * 1024, 32 * 1024 * 1024, 1024 * 1024);
	return (0);
}

static int
setup_disk_small(void **state)
{
	harness_start_disk(1024 * 1024, 4 * 1024 * 1024, 1024 * 1024);
	return (0);
}

/* Bytes of the ring's segment files on disk. */
static long long
disk_usage(void)
{
	char		*dir;
	long long	 n;

	dir = xasprintf("%s/.lookback/rp0", harness_root());
	n = harness_dir_bytes(dir);
	free(dir);
	return (n);
}

/* Memory holds 1 MiB; the disk tier keeps the rest and a cut finds it. */
static void
test_disk_reaches_further(void **state)
{
	int		packets, ordered;
	unsigned	maxcap;

	harness_run(200);
	harness_ping(3000, 1400);	/* 6000 packets, 8.7 MB */
	assert_int_equal(create_from("deep", 200000, ", \"time_limit_s\": 0"),
	    SESS_OK);
	assert_true(harness_wait_status("deep", "Stopped", 10000));
	read_file("deep", &packets, &maxcap, &ordered);
	assert_int_equal(packets, 6000);
	assert_true(ordered);
	assert_true(lb_num("deep", "packets") == 6000);
	assert_true(lb_num("deep", "gap_s") == 0);
}

/* A disk tier of 4 MiB keeps the newest and stays within its bytes. */
static void
test_disk_bounded(void **state)
{
	int		packets, ordered;
	unsigned	maxcap;

	harness_ping(3000, 1400);
	assert_true(disk_usage() <= 4 * 1024 * 1024 + 4096);
	assert_true(disk_usage() > 2 * 1024 * 1024);
	assert_int_equal(harness_create("bound", "{\"target\": {\"interface\": "
	    "\"rp0\"}, \"lookback_s\": 60, \"time_limit_s\": 0}"), SESS_OK);
	assert_true(harness_wait_status("bound", "Stopped", 10000));
	read_file("bound", &packets, &maxcap, &ordered);
	/* About 5 MiB of 1458-byte records: memory's 1 MiB, the disk's 4. */
	assert_true(packets > 3000 && packets < 4000);
	assert_true(ordered);
	assert_true(lb_num("bound", "gap_s") > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_past_then_live, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_seam_under_traffic, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_own_filter_and_snaplen,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_without_ring, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_from_and_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_overflow_is_a_gap,
		    setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_disk_reaches_further,
		    setup_disk, teardown),
		cmocka_unit_test_setup_teardown(test_disk_bounded,
		    setup_disk_small, teardown),
	};

	return (cmocka_run_group_tests(tests, NULL, NULL));
}
