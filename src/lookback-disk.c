/*
 * The disk tier of a lookback ring (lookback-disk.h). Each segment is a
 * pcapng file written by the capture files' writer (pcapfile.h): a
 * section header, one interface description (the ring's interface, link
 * type, filter and snap length, nanosecond stamps), then enhanced packet
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
#include "pcapfile.h"
#include "util.h"
#include "xmalloc.h"

#define LBD_EPB_LEN	PCAPNG_EPB_LEN(0)	/* a block, no data */
#define LBD_BUF		(1024 * 1024)	/* > one whole 256 KiB packet */
#define LBD_IDX_EVERY	65536

struct lbd_idx {
	int64_t		ts;
	uint64_t	off;
	uint64_t	seq;
};

struct lbd_seg {
	uint64_t	 segno;
	uint64_t	 data_off;	/* where its packets begin */
	int64_t		 ts_unit;	/* of its stamps, in ns */
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
	struct pcapw_desc desc;		/* of every new segment */
	uint64_t	 total;
	uint64_t	 file_bytes;
	struct lbd_seg	*segs;		/* oldest first; the last is open */
	size_t		 nsegs;
	struct pcapw	*w;		/* the open segment, or NULL */
	unsigned char	*rbuf;
	uint64_t	 next_seq;
	uint64_t	 next_segno;
	uint64_t	 bytes;
	int64_t		 covers_us;	/* it holds all since then */
	int		 failed;
};

static void
seg_name(char *buf, size_t size, uint64_t segno)
{
	snprintf(buf, size, "seg-%016" PRIu64 ".pcapng", segno);
}

/* A segment could not be written (errno): the tier takes no more. */
static void
lbd_fail(struct lb_disk *d)
{
	log_error("lookback: %s: writing a segment: %s; the disk tier takes "
	    "no more", d->dir, strerror(errno));
	d->failed = 1;
}

/* Writes out what the open segment's writer holds. */
static void
lbd_flush(struct lb_disk *d)
{
	if (d->w != NULL && !d->failed && pcapw_flush(d->w) == -1)
		lbd_fail(d);
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
	d->covers_us = s->last_ts / 1000 + 1;
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
	char		 name[64], *cause = NULL;

	lbd_flush(d);
	if (d->w != NULL && pcapw_close(d->w, NULL) == -1 && !d->failed)
		log_error("lookback: %s: closing a segment: %s", d->dir,
		    strerror(errno));
	d->w = NULL;
	seg_name(name, sizeof name, d->next_segno);
	if ((d->w = pcapw_open(d->dirfd, name, &d->desc, &cause)) == NULL) {
		if (!d->failed)
			log_error("lookback: %s: %s", d->dir, cause);
		free(cause);
		d->failed = 1;
		return (-1);
	}
	d->segs = xrealloc(d->segs, (d->nsegs + 1) * sizeof *d->segs);
	s = &d->segs[d->nsegs++];
	memset(s, 0, sizeof *s);
	s->segno = d->next_segno++;
	s->first_seq = d->next_seq;
	s->data_off = s->bytes = d->w->bytes;
	s->ts_unit = 1;
	d->bytes += s->bytes;
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
	uint64_t	 blen = PCAPNG_EPB_LEN(caplen);
	struct lbd_seg	*s;

	if (d->failed)
		return;
	if (d->w == NULL || d->segs[d->nsegs - 1].bytes + blen > d->file_bytes)
		if (lbd_rotate(d) == -1)
			return;
	while (d->bytes + blen > d->total && lbd_drop_oldest(d) == 0)
		;
	s = &d->segs[d->nsegs - 1];
	if (pcapw_write(d->w, ts, caplen, len, data) == -1) {
		lbd_fail(d);
		return;
	}
	lbd_count(s, ts, s->bytes, d->next_seq++, blen);
	d->bytes += blen;
}

/* What adopting a segment learns from each of its blocks. */
struct lbd_adopting {
	struct lb_disk	*d;
	struct lbd_seg	*s;
};

static int
lbd_adopt_block(void *arg, const struct pcapng_block *b)
{
	struct lbd_adopting	*a = arg;

	if (b->type == PCAPNG_IDB)
		a->s->data_off = b->off + b->len;
	else if (b->type == PCAPNG_EPB) {
		a->s->ts_unit = b->ts_unit;
		lbd_count(a->s, b->ts_ns, b->off, a->d->next_seq++, b->len);
	}
	return (0);
}

/*
 * Reads an earlier run's segment: counts and indexes its records and cuts
 * off a block a crash left short. -1 if it is not one of ours.
 */
static int
lbd_adopt(struct lb_disk *d, uint64_t segno)
{
	struct lbd_seg		 s;
	struct lbd_adopting	 a = { d, &s };
	struct stat		 st;
	char			 name[64];
	int64_t			 end;
	int			 fd;

	seg_name(name, sizeof name, segno);
	if ((fd = openat(d->dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fstat(fd, &st) == -1) {
		if (fd != -1)
			close(fd);
		return (-1);
	}
	memset(&s, 0, sizeof s);
	s.segno = segno;
	s.first_seq = d->next_seq;
	s.ts_unit = 1;
	if ((end = pcapng_scan(fd, (uint64_t)st.st_size, lbd_adopt_block,
	    &a)) == -1 || s.data_off == 0) {
		close(fd);
		free(s.idx);
		d->next_seq = s.first_seq;
		return (-1);
	}
	s.bytes = (uint64_t)end;
	if (end < st.st_size && ftruncate(fd, (off_t)end) == 0)
		log_warn("lookback: %s/%s: cut after its last whole packet",
		    d->dir, name);
	close(fd);
	d->segs = xrealloc(d->segs, (d->nsegs + 1) * sizeof *d->segs);
	d->segs[d->nsegs++] = s;
	d->bytes += s.bytes;
	if (d->nsegs == 1 || d->covers_us == 0)
		d->covers_us = s.first_ts / 1000;
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
lb_disk_open(const char *dir, const struct pcapng_info *info, uint64_t total,
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
	if ((d->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1) {
		*cause = xasprintf("%s: %s", dir, strerror(errno));
		free(d);
		return (NULL);
	}
	d->desc.format = PCAPFMT_PCAPNG;
	lb_disk_describe(d, info);
	d->total = total;
	d->file_bytes = file_bytes;
	d->rbuf = xmalloc(LBD_BUF);
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
lb_disk_describe(struct lb_disk *d, const struct pcapng_info *info)
{
	struct pcapng_info	*mine = &d->desc.info;

	free((char *)mine->if_name);
	free((char *)mine->if_description);
	free((char *)mine->if_filter);
	mine->linktype = info->linktype;
	mine->snaplen = info->snaplen;
	mine->comment = NULL;
	mine->if_name = info->if_name != NULL ? xstrdup(info->if_name) : NULL;
	mine->if_description = info->if_description != NULL ?
	    xstrdup(info->if_description) : NULL;
	mine->if_filter = info->if_filter != NULL ? xstrdup(info->if_filter) :
	    NULL;
}

void
lb_disk_close(struct lb_disk *d)
{
	size_t	i;

	lbd_flush(d);
	if (d->w != NULL)
		pcapw_close(d->w, NULL);
	close(d->dirfd);
	free(d->rbuf);
	free((char *)d->desc.info.if_name);
	free((char *)d->desc.info.if_description);
	free((char *)d->desc.info.if_filter);
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
	size_t	i;

	*oldest = d->covers_us;
	*newest = 0;	/* the newest segment may hold no packet yet */
	for (i = d->nsegs; i > 0 && *newest == 0; i--)
		*newest = d->segs[i - 1].nrec > 0 ? d->segs[i - 1].last_ts /
		    1000 : 0;
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
lb_disk_seek(struct lb_disk *d, int64_t from_us, struct lb_dpos *pos)
{
	struct lbd_seg	*s;
	int64_t		 from = from_us * 1000;
	size_t		 i, j;

	for (i = 0; i < d->nsegs; i++) {
		s = &d->segs[i];
		if (s->nrec == 0 || s->last_ts < from)
			continue;
		pos->segno = s->segno;
		pos->off = s->data_off;
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
	pos->off = s->data_off;
	pos->seq = s->first_seq;
	s->readers++;
	return (0);
}

int
lb_disk_read(struct lb_disk *d, struct lb_dpos *pos, uint64_t stop_seq,
    size_t budget, lb_disk_fn fn, void *arg)
{
	struct lbd_seg		*s;
	const unsigned char	*b;
	char			 name[64];
	size_t			 done = 0, have, at;
	ssize_t			 n;
	int64_t			 ts;
	uint32_t		 blen;
	int			 fd;

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
		if (n < (ssize_t)LBD_EPB_LEN)
			return (-1);
		for (at = 0; at + LBD_EPB_LEN <= (size_t)n &&
		    pos->seq < stop_seq; at += blen) {
			blen = pcapng_get32(d->rbuf + at + 4);
			if (blen < LBD_EPB_LEN || at + blen > (size_t)n)
				break;
			pos->off += blen;
			pos->seq++;
			done += blen;
			b = d->rbuf + at;
			ts = (int64_t)((uint64_t)pcapng_get32(b + 12) << 32 |
			    pcapng_get32(b + 16)) * s->ts_unit;
			if (fn(arg, ts, pcapng_get32(b + 20), pcapng_get32(b +
			    24), b + PCAPNG_EPB_HDR))
				return (1);
		}
		if (at == 0)
			return (-1);	/* a block larger than the buffer */
	}
	return (0);
}
