/*
 * Retention: which finished capture files go when the node keeps more
 * than captures.retention allows. A pure choice over a list, so that the
 * session manager does the deleting and a unit test the checking.
 */
#ifndef RETENTION_H
#define RETENTION_H

#include <stddef.h>
#include <stdint.h>

/* A finished capture's file on the node, as retention weighs it. */
struct held_file {
	const char	*name;		/* its capture; NULL: forgotten */
	const char	*relpath;	/* below captures.root */
	uint64_t	 bytes;
	int64_t		 finished_us;	/* when its capture stopped */
	int		 pinned;	/* an upload pending: it stays */
	enum {
		RETAINED,		/* it stays */
		RETENTION_AGE,		/* retention.max_age_s */
		RETENTION_BYTES,	/* retention.max_bytes */
	}		 why;		/* set by retention_pick */
};

struct retention_limits {
	int64_t		max_age_us;	/* 0: no bound */
	uint64_t	max_bytes;	/* 0: no bound */
};

/*
 * Sorts v oldest first and sets why on each file to delete now (the
 * rest RETAINED): those
 * older than max_age, then the oldest until what stays is within
 * max_bytes. Pinned files stay, and count. Returns how many go.
 */
size_t	retention_pick(struct held_file *v, size_t n,
	    const struct retention_limits *, int64_t now_us);

#endif
