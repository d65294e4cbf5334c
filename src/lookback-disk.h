/*
 * The disk tier of a lookback ring: what the memory ring lets go is kept
 * in rotating pcapng segment files (captures.root/.lookback/IFACE/), the
 * oldest deleted first, so a ring can reach back minutes or hours. Only
 * lookback.c uses it.
 */
#ifndef LOOKBACK_DISK_H
#define LOOKBACK_DISK_H

#include <stddef.h>
#include <stdint.h>

struct lb_disk;
struct pcapng_info;

/* Where a reader stands: a segment, an offset in it, a record number. */
struct lb_dpos {
	uint64_t	segno;
	uint64_t	off;
	uint64_t	seq;
};

typedef int (*lb_disk_fn)(void *arg, int64_t ts_ns, uint32_t caplen,
    uint32_t len, const unsigned char *data);

/*
 * Opens dir (made if missing) for a ring of the interface info says
 * (copied), within total bytes in
 * segments of file_bytes; the segments already there (an earlier run's)
 * are adopted, their records numbered from 0. NULL with *cause.
 */
struct lb_disk	*lb_disk_open(const char *dir, const struct pcapng_info *info,
		    uint64_t total, uint64_t file_bytes, char **cause);
/* What the segments begun from now on say of their interface. */
void		 lb_disk_describe(struct lb_disk *, const struct pcapng_info *);
void		 lb_disk_close(struct lb_disk *);
/* The number the next record appended gets. */
uint64_t	 lb_disk_next_seq(const struct lb_disk *);
/* The oldest and newest timestamps held (0: none), and bytes on disk. */
void		 lb_disk_span(const struct lb_disk *, int64_t *oldest,
		    int64_t *newest, uint64_t *bytes);
/* Appends a record the memory ring let go; it gets the next number. */
void		 lb_disk_append(struct lb_disk *, int64_t ts_ns,
		    uint32_t caplen, uint32_t len, const unsigned char *data);
/*
 * Finds the first record stamped from_us or later: 0 with *pos, or -1
 * when the disk holds none. The segment is kept until lb_disk_release.
 */
int		 lb_disk_seek(struct lb_disk *, int64_t from_us,
		    struct lb_dpos *pos);
/*
 * Hands fn the records from *pos, stopping before number stop_seq, after
 * about budget bytes, or when fn returns non-zero (1). 0: more may come
 * (pos moved); -1: the disk holds nothing more before stop_seq.
 */
int		 lb_disk_read(struct lb_disk *, struct lb_dpos *,
		    uint64_t stop_seq, size_t budget, lb_disk_fn, void *arg);
/* The reader at pos is gone: its segment may be deleted. */
void		 lb_disk_release(struct lb_disk *, const struct lb_dpos *);

#endif
