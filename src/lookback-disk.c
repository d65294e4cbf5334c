/*
 * The disk tier of a lookback ring (lookback-disk.h). Each segment is a
 * pcapng file: a section header, one interface description (the ring's
 * link type and snap length, microsecond stamps), then enhanced packet
 * blocks in the order the memory ring let them go. An in-memory index per
 * segment (a timestamp, offset and record number every 64 KiB) lets a cut
 * find its start without reading what comes before; at start-up the
 * segments of an earlier run are read once to rebuild it, and a block cut
 * short by a crash is cut off.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "lookback-disk.h"
#include "util.h"
#include "xmalloc.h"

#define LBD_SHB_LEN	28
#define LBD_IDB_LEN	20
#define LBD_HDR_LEN	(LBD_SHB_LEN + LBD_IDB_LEN)
#define LBD_EPB_LEN	32		/* an enhanced packet block, no data */
#define LBD_BUF		(1024 * 1024)
#define LBD_MAX_BLOCK	(LBD_EPB_LEN + 262144 + 4)
#define LBD_IDX_EVERY	65536
#define LBD_EPB		6
#define LBD_PAD4(n)	(((n) + 3) & ~(uint32_t)3)

struct lbd_idx {
	int64_t		ts;
	uint64_t	off;
	uint64_t	seq;
};

struct lbd_seg {
	uint64_t	 segno;
	uint64_t	 first_seq;
	uint64_t	 nrec;
	uint64_t	 bytes;		/* written, buffered included */
	int64_t		 first_ts;
	int64_t		 last_ts;
	struct lbd_idx	*idx;
	size_t		 nidx;
	uint64_t	 idx_at;	/* offset of the last index entry */
	int		 readers;
};

struct lb_disk {
	char		*dir;
	int		 dirfd;
	int		 linktype;
	uint32_t	 snaplen;
	uint64_t	 total;
	uint64_t	 file_bytes;
	struct lbd_seg	*segs;		/* oldest first; the last is open */
	size_t		 nsegs;
	int		 fd;		/* the open segment, or -1 */
	unsigned char	*wbuf;
	size_t		 wlen;
	unsigned char	*rbuf;
	uint64_t	 next_seq;
	uint64_t	 next_segno;
	uint64_t	 bytes;
	int64_t		 covers_us;	/* it holds all since then */
	int		 failed;
};

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t	v;

	memcpy(&v, p, 4);
	return (v);
}

static void
seg_name(char *buf, size_t size, uint64_t segno)
{
	snprintf(buf, size, "seg-%016" PRIu64 ".pcapng", segno);
}

/* Writes out the buffered blocks of the open segment. */
static void
lbd_flush(struct lb_disk *d)
{
	size_t	off = 0;
	ssize_t	n;

	while (d->fd != -1 && off < d->wlen) {
		if ((n = write(d->fd, d->wbuf + off, d->wlen - off)) <= 0) {
			if (n == -1 && errno == EINTR)
				continue;
			if (!d->failed)
				log_error("lookback: %s: writing a segment: "
				    "%s; the disk tier takes no more", d->dir,
				    strerror(errno));
			d->failed = 1;
			break;
		}
		off += (size_t)n;
	}
	d->wlen = 0;
}

static void
lbd_add(struct lb_disk *d, const void *p, size_t n)
{
	if (d->wlen + n > LBD_BUF)
		lbd_flush(d);
	memcpy(d->wbuf + d->wlen, p, n);
	d->wlen += n;
}

/* The section header and interface description every segment opens with. */
static void
lbd_header(struct lb_disk *d)
{
	unsigned char	shb[LBD_SHB_LEN] = { 0 }, idb[LBD_IDB_LEN] = { 0 };
	uint16_t	v;

	put32(shb, 0x0a0d0d0a);
	put32(shb + 4, LBD_SHB_LEN);
	put32(shb + 8, 0x1a2b3c4d);
	v = 1;
	memcpy(shb + 12, &v, 2);		/* version 1.0 */
	memset(shb + 16, 0xff, 8);		/* section length unknown */
	put32(shb + 24, LBD_SHB_LEN);
	put32(idb, 1);
	put32(idb + 4, LBD_IDB_LEN);
	v = (uint16_t)d->linktype;
	memcpy(idb + 8, &v, 2);
	put32(idb + 12, d->snaplen == 0 ? 262144 : d->snaplen);
	put32(idb + 16, LBD_IDB_LEN);
	lbd_add(d, shb, sizeof shb);
	lbd_add(d, idb, sizeof idb);
}

/* Deletes the oldest segment, unless a cut reads it or it is the open one. */
static int
lbd_drop_oldest(struct lb_disk *d)
{
	struct lbd_seg	*s = &d->segs[0];
	char		 name[64];

	if (d->nsegs < 2 || s->readers > 0)
		return (-1);
	seg_name(name, sizeof name, s->segno);
	unlinkat(d->dirfd, name, 0);
	d->bytes -= s->bytes;
	d->covers_us = s->last_ts + 1;
	free(s->idx);
	memmove(d->segs, d->segs + 1, (d->nsegs - 1) * sizeof *d->segs);
	d->nsegs--;
	return (0);
}

/* Closes the open segment and starts the next one. */
static int
lbd_rotate(struct lb_disk *d)
{
	struct lbd_seg	*s;
	char		 name[64];
	int		 fd;

	lbd_flush(d);
	if (d->fd != -1)
		close(d->fd);
	d->fd = -1;
	seg_name(name, sizeof name, d->next_segno);
	fd = openat(d->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0640);
	if (fd == -1) {
		if (!d->failed)
			log_error("lookback: %s/%s: %s", d->dir, name,
			    strerror(errno));
		d->failed = 1;
		return (-1);
	}
	d->fd = fd;
	d->segs = xrealloc(d->segs, (d->nsegs + 1) * sizeof *d->segs);
	s = &d->segs[d->nsegs++];
	memset(s, 0, sizeof *s);
	s->segno = d->next_segno++;
	s->first_seq = d->next_seq;
	s->bytes = LBD_HDR_LEN;
	d->bytes += LBD_HDR_LEN;
	lbd_header(d);
	return (0);
}

/* Records an index entry for a record at off, every LBD_IDX_EVERY. */
static void
lbd_index(struct lbd_seg *s, int64_t ts, uint64_t off, uint64_t seq)
{
	if (s->nidx > 0 && off - s->idx_at < LBD_IDX_EVERY)
		return;
	s->idx = xrealloc(s->idx, (s->nidx + 1) * sizeof *s->idx);
	s->idx[s->nidx].ts = ts;
	s->idx[s->nidx].off = off;
	s->idx[s->nidx++].seq = seq;
	s->idx_at = off;
}

/* Counts one record of s: where, when, which. */
static void
lbd_count(struct lbd_seg *s, int64_t ts, uint64_t off, uint64_t seq,
    uint64_t blen)
{
	lbd_index(s, ts, off, seq);
	if (s->nrec++ == 0)
		s->first_ts = ts;
	s->last_ts = ts;
	s->bytes += blen;
}

void
lb_disk_append(struct lb_disk *d, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	unsigned char	 h[28], zero[4] = { 0 };
	uint64_t	 blen = LBD_EPB_LEN + LBD_PAD4(caplen);
	struct lbd_seg	*s;

	if (d->failed)
		return;
	if (d->fd == -1 || d->segs[d->nsegs - 1].bytes + blen > d->file_bytes)
		if (lbd_rotate(d) == -1)
			return;
	while (d->bytes + blen > d->total && lbd_drop_oldest(d) == 0)
		;
	s = &d->segs[d->nsegs - 1];
	put32(h, LBD_EPB);
	put32(h + 4, (uint32_t)blen);
	put32(h + 8, 0);
	put32(h + 12, (uint32_t)((uint64_t)ts >> 32));
	put32(h + 16, (uint32_t)ts);
	put32(h + 20, caplen);
	put32(h + 24, len);
	lbd_count(s, ts, s->bytes, d->next_seq++, blen);
	d->bytes += blen;
	lbd_add(d, h, sizeof h);
	lbd_add(d, data, caplen);
	lbd_add(d, zero, LBD_PAD4(caplen) - caplen);
	put32(h, (uint32_t)blen);
	lbd_add(d, h, 4);
}

/*
 * Reads an earlier run's segment: counts and indexes its records and cuts
 * off a block a crash left short. -1 if it is not one of ours.
 */
static int
lbd_adopt(struct lb_disk *d, uint64_t segno)
{
	struct lbd_seg	 s;
	struct stat	 st;
	unsigned char	*b = d->rbuf;
	char		 name[64];
	uint64_t	 off = LBD_HDR_LEN, blen;
	int64_t		 ts;
	int		 fd;

	seg_name(name, sizeof name, segno);
	if ((fd = openat(d->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fstat(fd, &st) == -1 || pread(fd, b, LBD_HDR_LEN, 0) !=
	    LBD_HDR_LEN || get32(b) != 0x0a0d0d0a || get32(b + 8) !=
	    0x1a2b3c4d) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	memset(&s, 0, sizeof s);
	s.segno = segno;
	s.first_seq = d->next_seq;
	s.bytes = LBD_HDR_LEN;
	while (off + LBD_EPB_LEN <= (uint64_t)st.st_size &&
	    pread(fd, b, LBD_EPB_LEN, (off_t)off) == LBD_EPB_LEN) {
		blen = get32(b + 4);
		if (get32(b) != LBD_EPB || blen < LBD_EPB_LEN ||
		    blen > LBD_MAX_BLOCK || off + blen > (uint64_t)st.st_size)
			break;
		ts = (int64_t)((uint64_t)get32(b + 12) << 32 | get32(b + 16));
		lbd_count(&s, ts, off, d->next_seq++, blen);
		off += blen;
	}
	if (off < (uint64_t)st.st_size && ftruncate(fd, (off_t)off) == 0)
		log_warn("lookback: %s/%s: cut after its last whole packet",
		    d->dir, name);
	close(fd);
	d->segs = xrealloc(d->segs, (d->nsegs + 1) * sizeof *d->segs);
	d->segs[d->nsegs++] = s;
	d->bytes += s.bytes;
	if (d->nsegs == 1 || d->covers_us == 0)
		d->covers_us = s.first_ts;
	return (0);
}

static int
segno_cmp(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/* The segment numbers in the directory, in order (new); *n of them. */
static uint64_t *
lbd_list(struct lb_disk *d, size_t *n)
{
	struct dirent	*e;
	DIR		*dir;
	uint64_t	*v = NULL, segno;
	char		 tail[16];

	*n = 0;
	if ((dir = fdopendir(dup(d->dirfd))) == NULL)
		return (NULL);
	while ((e = readdir(dir)) != NULL) {
		if (sscanf(e->d_name, "seg-%16" SCNu64 "%15s", &segno,
		    tail) != 2 || strcmp(tail, ".pcapng") != 0)
			continue;
		v = xrealloc(v, (*n + 1) * sizeof *v);
		v[(*n)++] = segno;
	}
	closedir(dir);
	if (*n > 0)
		qsort(v, *n, sizeof *v, segno_cmp);
	return (v);
}

struct lb_disk *
lb_disk_open(const char *dir, int linktype, uint32_t snaplen, uint64_t total,
    uint64_t file_bytes, char **cause)
{
	struct lb_disk	*d;
	uint64_t	*v;
	size_t		 n, i;

	mkdir_parents(dir, 0750, 1);
	/* The path lives after the struct: one allocation, one free. */
	d = xcalloc(1, sizeof *d + strlen(dir) + 1);
	d->dir = (char *)(d + 1);
	memcpy(d->dir, dir, strlen(dir) + 1);
	d->fd = -1;
	if ((d->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		free(d);
		return (NULL);
	}
	d->linktype = linktype;
	d->snaplen = snaplen;
	d->total = total;
	d->file_bytes = file_bytes;
	d->wbuf = xmalloc(2 * LBD_BUF + LBD_MAX_BLOCK);
	d->rbuf = d->wbuf + LBD_BUF;
	v = lbd_list(d, &n);
	for (i = 0; i < n; i++) {
		if (lbd_adopt(d, v[i]) == -1)
			log_warn("lookback: %s: segment %" PRIu64 " is not a "
			    "pcapng file of ours; left alone", dir, v[i]);
		d->next_segno = v[i] + 1;
	}
	free(v);
	if (d->nsegs > 0)
		log_info("lookback: %s: %zu segments (%" PRIu64 " packets) "
		    "from an earlier run", dir, d->nsegs, d->next_seq);
	while (d->bytes > d->total && lbd_drop_oldest(d) == 0)
		;
	if (d->covers_us == 0)
		d->covers_us = now_us();
	return (d);
}

void
lb_disk_close(struct lb_disk *d)
{
	size_t	i;

	lbd_flush(d);
	if (d->fd != -1)
		close(d->fd);
	close(d->dirfd);
	free(d->wbuf);		/* and rbuf: one allocation */
	for (i = 0; i < d->nsegs; i++)
		free(d->segs[i].idx);
	free(d->segs);
	free(d);
}

uint64_t
lb_disk_next_seq(const struct lb_disk *d)
{
	return (d->next_seq);
}

void
lb_disk_span(const struct lb_disk *d, int64_t *oldest, int64_t *newest,
    uint64_t *bytes)
{
	*oldest = d->covers_us;
	*newest = d->nsegs > 0 ? d->segs[d->nsegs - 1].last_ts : 0;
	*bytes = d->bytes;
}

/* The segment numbered segno, or the first after it; NULL past the end. */
static struct lbd_seg *
lbd_seg(struct lb_disk *d, uint64_t segno)
{
	size_t	i;

	for (i = 0; i < d->nsegs; i++)
		if (d->segs[i].segno >= segno)
			return (&d->segs[i]);
	return (NULL);
}

int
lb_disk_seek(struct lb_disk *d, int64_t from, struct lb_dpos *pos)
{
	struct lbd_seg	*s;
	size_t		 i, j;

	for (i = 0; i < d->nsegs; i++) {
		s = &d->segs[i];
		if (s->nrec == 0 || s->last_ts < from)
			continue;
		pos->segno = s->segno;
		pos->off = LBD_HDR_LEN;
		pos->seq = s->first_seq;
		for (j = 0; j < s->nidx && s->idx[j].ts < from; j++) {
			pos->off = s->idx[j].off;
			pos->seq = s->idx[j].seq;
		}
		s->readers++;
		return (0);
	}
	return (-1);
}

void
lb_disk_release(struct lb_disk *d, const struct lb_dpos *pos)
{
	size_t	i;

	for (i = 0; i < d->nsegs; i++)
		if (d->segs[i].segno == pos->segno && d->segs[i].readers > 0)
			d->segs[i].readers--;
}

/* Moves a reader on to the start of the segment after s (or past it). */
static int
lbd_next_seg(struct lb_disk *d, struct lb_dpos *pos)
{
	struct lbd_seg	*s;

	lb_disk_release(d, pos);
	if ((s = lbd_seg(d, pos->segno + 1)) == NULL)
		return (-1);
	pos->segno = s->segno;
	pos->off = LBD_HDR_LEN;
	pos->seq = s->first_seq;
	s->readers++;
	return (0);
}

int
lb_disk_read(struct lb_disk *d, struct lb_dpos *pos, uint64_t stop_seq,
    size_t budget, lb_disk_fn fn, void *arg)
{
	struct lbd_seg	*s;
	char		 name[64];
	size_t		 done = 0, have, at;
	ssize_t		 n;
	uint32_t	 blen;
	int		 fd;

	while (pos->seq < stop_seq && done < budget) {
		if ((s = lbd_seg(d, pos->segno)) == NULL)
			return (-1);
		if (s->segno == d->segs[d->nsegs - 1].segno)
			lbd_flush(d);	/* the open one: what is buffered too */
		if (pos->off >= s->bytes) {
			if (lbd_next_seg(d, pos) == -1)
				return (-1);
			continue;
		}
		seg_name(name, sizeof name, s->segno);
		if ((fd = openat(d->dirfd, name, O_RDONLY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1)
			return (-1);
		have = s->bytes - pos->off;
		if (have > LBD_BUF)
			have = LBD_BUF;
		n = pread(fd, d->rbuf, have, (off_t)pos->off);
		close(fd);
		if (n < LBD_EPB_LEN)
			return (-1);
		for (at = 0; at + LBD_EPB_LEN <= (size_t)n &&
		    pos->seq < stop_seq; at += blen) {
			blen = get32(d->rbuf + at + 4);
			if (blen < LBD_EPB_LEN || at + blen > (size_t)n)
				break;
			pos->off += blen;
			pos->seq++;
			done += blen;
			if (fn(arg, (int64_t)((uint64_t)get32(d->rbuf + at + 12)
			    << 32 | get32(d->rbuf + at + 16)), get32(d->rbuf +
			    at + 20), get32(d->rbuf + at + 24), d->rbuf + at +
			    28))
				return (1);
		}
		if (at == 0)
			return (-1);	/* a block larger than the buffer */
	}
	return (0);
}
