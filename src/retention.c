/* Retention's choice of the files to delete (retention.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "retention.h"

/* Oldest first; the path breaks ties, so the order is the same each time. */
static int
held_cmp(const void *a, const void *b)
{
	const struct held_file	*x = a, *y = b;

	if (x->finished_us != y->finished_us)
		return (x->finished_us < y->finished_us ? -1 : 1);
	return (strcmp(x->relpath, y->relpath));
}

size_t
retention_pick(struct held_file *v, size_t n,
    const struct retention_limits *l, int64_t now_us)
{
	uint64_t	held = 0;
	size_t		i, picked = 0;

	qsort(v, n, sizeof *v, held_cmp);
	for (i = 0; i < n; i++) {
		v[i].why = RETAINED;
		held += v[i].bytes;
	}
	for (i = 0; i < n; i++) {
		if (v[i].pinned)
			continue;
		if (l->max_age_us != 0 && now_us - v[i].finished_us >
		    l->max_age_us)
			v[i].why = RETENTION_AGE;
		else if (l->max_bytes != 0 && held > l->max_bytes)
			v[i].why = RETENTION_BYTES;
		else
			continue;
		held -= v[i].bytes;
		picked++;
	}
	return (picked);
}
