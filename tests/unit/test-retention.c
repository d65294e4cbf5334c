/* Retention's choice: oldest first, age then bytes, pinned files stay. */
#include "config.h"

#include <string.h>

#include "unit.h"
#include "retention.h"

#define S	1000000LL	/* a second, in us */

static void
test_bytes_oldest_first(void **state)
{
	struct held_file		v[] = {
		{ "c", "c.pcapng", 300, 30 * S, 0, RETAINED },
		{ "a", "a.pcapng", 100, 10 * S, 0, RETAINED },
		{ NULL, "gone.pcap", 50, 5 * S, 0, RETAINED },
		{ "b", "b.pcapng", 200, 20 * S, 0, RETAINED },
	};
	struct retention_limits		l = { 0, 500 };

	/* 650 held, 500 allowed: the forgotten file and a go, in order. */
	assert_int_equal(retention_pick(v, 4, &l, 40 * S), 2);
	assert_string_equal(v[0].relpath, "gone.pcap");
	assert_int_equal(v[0].why, RETENTION_BYTES);
	assert_string_equal(v[1].name, "a");
	assert_int_equal(v[1].why, RETENTION_BYTES);
	assert_int_equal(v[2].why, RETAINED);
	assert_int_equal(v[3].why, RETAINED);
	/* Within the limit: nothing. */
	l.max_bytes = 650;
	assert_int_equal(retention_pick(v, 4, &l, 40 * S), 0);
}

static void
test_age_and_pinned(void **state)
{
	struct held_file		v[] = {
		{ "old", "old.pcapng", 10, 1 * S, 1, RETAINED },
		{ "mid", "mid.pcapng", 10, 50 * S, 0, RETAINED },
		{ "new", "new.pcapng", 10, 95 * S, 0, RETAINED },
	};
	struct retention_limits		l = { 30 * S, 0 };

	/* Older than 30 s at 100 s: old and mid, but old's upload is due. */
	assert_int_equal(retention_pick(v, 3, &l, 100 * S), 1);
	assert_int_equal(v[0].why, RETAINED);
	assert_int_equal(v[1].why, RETENTION_AGE);
	assert_int_equal(v[2].why, RETAINED);
	/* A pinned file still counts: the rest go to make room. */
	l.max_age_us = 0;
	l.max_bytes = 15;
	assert_int_equal(retention_pick(v, 3, &l, 100 * S), 2);
	assert_int_equal(v[0].why, RETAINED);
	assert_int_equal(v[1].why, RETENTION_BYTES);
	assert_int_equal(v[2].why, RETENTION_BYTES);
	/* No limits: nothing ever goes. */
	l.max_bytes = 0;
	assert_int_equal(retention_pick(v, 3, &l, 1000 * S), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_oldest_first),
		cmocka_unit_test(test_age_and_pinned),
	};

	return (cmocka_run_group_tests_name("retention", tests, NULL, NULL));
}
