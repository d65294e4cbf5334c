/*
 * Lookback rings (lookback.h). A ring is one buffer of memory_bytes,
 * allocated when the ring is made, holding records end to end:
 *
 *	struct lb_hdr (16 bytes) | the packet, cut to the ring's snap length
 *	| padding to 8 bytes
 *
 * A record that does not fit before the end of the buffer starts again
 * at 0; the space left at the end is marked (a header with caplen
 * LB_WRAP) or, under 16 bytes, implied. Appending evicts the oldest
 * records until the new one fits, so the ring never holds more than its
 * bytes, headers and padding counted. Records are numbered; a cut holds
 * the number of the oldest record it still needs, and the ring drops a
 * new packet rather than evict that one.
 */
#include "config.h"

#include <sys/mman.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture-pcap.h"
#include "conf.h"
#include "lookback.h"
#include "lookback-disk.h"
#include "log.h"
#include "metrics.h"
#include "pcapng.h"
#include "util.h"
#include "xmalloc.h"

#define LB_HDR		16
#define LB_WRAP		UINT32_MAX
#define LB_ALIGN(n)	(((n) + 7) & ~(size_t)7)
#define LB_MAX_CUTS	64

struct lb_hdr {
	int64_t		ts_ns;
	uint32_t	caplen;
	uint32_t	len;
};

struct lb_ring {
	char			*ifname;
	uint32_t		 snaplen;
	char			*bpf;
	unsigned char		*buf;
	size_t			 size;
	size_t			 head;		/* where the next record goes */
	size_t			 tail;		/* the oldest record */
	size_t			 used;		/* bytes held, with waste */
	uint64_t		 first_seq;	/* the oldest record's number */
	uint64_t		 next_seq;
	int64_t			 oldest_us;
	int64_t			 newest_us;
	int64_t			 covers_us;	/* it holds all since then */
	uint64_t		 received;	/* packets offered */
	uint64_t		 evicted;
	uint64_t		 dropped;	/* refused: a cut held the room */
	struct capsink		*sink;
	struct lb_disk		*disk;		/* NULL: memory only */
	uint64_t		 disk_bytes;
	uint64_t		 disk_file_bytes;
	int64_t			 restart_us;	/* an earlier run's segments: */
	int64_t			 prev_end_us;	/* where that run stopped */
	struct lb_cut		*cuts[LB_MAX_CUTS];
	int			 ncuts;
};

struct lb_cut {
	struct lb_ring		*ring;		/* NULL: nothing to read */
	int			 on_disk;	/* reading the disk tier */
	struct lb_dpos		 dpos;
	size_t			 off;
	uint64_t		 seq;
	uint64_t		 end_seq;
	int64_t			 from_us;
};

static struct lb_ring	**lb_rings;
static size_t		  lb_nrings;

static const struct lb_hdr *
lb_at(const struct lb_ring *r, size_t off)
{
	return ((const struct lb_hdr *)(const void *)(r->buf + off));
}

/* The offset of the record at off, past a wrap if one is there. */
static size_t
lb_skip_wrap(const struct lb_ring *r, size_t off)
{
	if (off + LB_HDR > r->size || lb_at(r, off)->caplen == LB_WRAP)
		return (0);
	return (off);
}

/* The oldest cut's record: the ring may not evict it. */
static uint64_t
lb_pinned(const struct lb_ring *r)
{
	uint64_t	pin = UINT64_MAX;
	int		i;

	for (i = 0; i < r->ncuts; i++)
		if (!r->cuts[i]->on_disk && r->cuts[i]->seq < pin &&
		    r->cuts[i]->seq < r->cuts[i]->end_seq)
			pin = r->cuts[i]->seq;
	return (pin);
}

/* Evicts the oldest record; -1 if a cut still needs it (or none). */
static int
lb_evict(struct lb_ring *r)
{
	size_t	t, n;

	if (r->used == 0 || r->first_seq >= lb_pinned(r))
		return (-1);
	if ((t = lb_skip_wrap(r, r->tail)) != r->tail) {
		r->used -= r->size - r->tail;
		r->tail = 0;
	}
	n = LB_HDR + LB_ALIGN(lb_at(r, t)->caplen);
	r->covers_us = lb_at(r, t)->ts_ns / 1000 + 1;
	if (r->disk != NULL)	/* it goes on living on disk */
		lb_disk_append(r->disk, lb_at(r, t)->ts_ns, lb_at(r, t)->caplen,
		    lb_at(r, t)->len, r->buf + t + LB_HDR);
	r->tail = t + n;
	r->used -= n;
	r->first_seq++;
	r->evicted++;
	if (r->used == 0)
		r->head = r->tail = 0;
	else
		r->oldest_us = lb_at(r, lb_skip_wrap(r, r->tail))->ts_ns / 1000;
	return (0);
}

/*
 * Where a record of n bytes can go, evicting what it must: the offset,
 * or -1 (as SIZE_MAX) when a cut holds the room.
 */
static size_t
lb_room(struct lb_ring *r, size_t n)
{
	for (;;) {
		if (r->used == 0)
			return (0);
		if (r->head > r->tail) {	/* held: [tail, head) */
			if (r->size - r->head >= n)
				return (r->head);
			if (r->tail >= n) {	/* wrap */
				if (r->size - r->head >= LB_HDR)
					((struct lb_hdr *)(void *)(r->buf +
					    r->head))->caplen = LB_WRAP;
				r->used += r->size - r->head;
				r->head = 0;
				return (0);
			}
		} else if (r->tail - r->head >= n)	/* wrapped */
			return (r->head);
		if (lb_evict(r) == -1)
			return (SIZE_MAX);
	}
}

/* The ring's sink: every packet its bpf lets in, cut to its snap length. */
static void
lb_packet(void *arg, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	struct lb_ring	*r = arg;
	struct lb_hdr	 h;
	size_t		 n, at;

	r->received++;
	n = LB_HDR + LB_ALIGN(caplen);
	if (n > r->size || (at = lb_room(r, n)) == SIZE_MAX) {
		r->dropped++;
		return;
	}
	h.ts_ns = ts;
	h.caplen = caplen;
	h.len = len;
	memcpy(r->buf + at, &h, sizeof h);
	memcpy(r->buf + at + LB_HDR, data, caplen);
	if (r->used == 0)
		r->oldest_us = ts / 1000;
	r->head = at + n;
	r->used += n;
	r->newest_us = ts / 1000;
	r->next_seq++;
}

static void
lb_error(void *arg, const char *why)
{
	struct lb_ring	*r = arg;

	log_error("lookback on %s: %s; the ring takes no more packets",
	    r->ifname, why);
}

/* Ends every cut of r empty-handed (the ring goes), unpinning its disk. */
static void
lb_cuts_end(struct lb_ring *r)
{
	int	i;

	for (i = 0; i < r->ncuts; i++) {
		if (r->cuts[i]->on_disk && r->disk != NULL)
			lb_disk_release(r->disk, &r->cuts[i]->dpos);
		r->cuts[i]->on_disk = 0;
		r->cuts[i]->ring = NULL;
	}
	r->ncuts = 0;
}

/* The instant since which the ring (with its disk tier) holds all. */
static int64_t
lb_covers(const struct lb_ring *r)
{
	int64_t		oldest, newest;
	uint64_t	bytes;

	if (r->disk == NULL)
		return (r->covers_us);
	lb_disk_span(r->disk, &oldest, &newest, &bytes);
	return (oldest);
}

/*
 * Opens c's disk tier below root; -1 with *cause. A ring it replaces
 * (SIGHUP) first moves what its memory holds to its disk tier, then hands
 * that over when it is the same, or closes it.
 */
static int
lb_ring_disk(struct lb_ring *r, const struct conf_lookback *c,
    const char *root, int linktype, struct lb_ring *old, char **cause)
{
	struct pcapng_info	 info;
	int64_t			 oldest, newest;
	uint64_t		 bytes;
	char			*dir, *why = NULL, descr[128];

	snprintf(descr, sizeof descr, "lookback ring of %s", r->ifname);
	memset(&info, 0, sizeof info);
	info.linktype = linktype;
	info.snaplen = r->snaplen;
	info.if_name = r->ifname;
	info.if_description = descr;
	info.if_filter = r->bpf;
	r->disk_bytes = (uint64_t)c->disk_bytes;
	r->disk_file_bytes = (uint64_t)c->disk_file_bytes;
	if (old != NULL && old->disk != NULL) {
		lb_cuts_end(old);
		while (lb_evict(old) == 0)
			;
		if (old->disk_bytes == r->disk_bytes &&
		    old->disk_file_bytes == r->disk_file_bytes) {
			r->disk = old->disk;
			old->disk = NULL;
			lb_disk_describe(r->disk, &info);
			r->first_seq = r->next_seq = lb_disk_next_seq(r->disk);
			r->prev_end_us = old->prev_end_us;
			r->restart_us = old->restart_us;
			return (0);
		}
		lb_disk_close(old->disk);
		old->disk = NULL;
	}
	if (c->disk_bytes == 0)
		return (0);
	dir = xasprintf("%s/.lookback/%s", root, c->name);
	r->disk = lb_disk_open(dir, &info, r->disk_bytes, r->disk_file_bytes,
	    &why);
	free(dir);
	if (r->disk == NULL) {
		*cause = xasprintf("lookback.interfaces.%s.disk_bytes: %s",
		    c->name, why);
		free(why);
		return (-1);
	}
	r->first_seq = r->next_seq = lb_disk_next_seq(r->disk);
	lb_disk_span(r->disk, &oldest, &newest, &bytes);
	if (newest != 0) {
		r->prev_end_us = newest;
		r->restart_us = now_us();
	}
	return (0);
}

static void	lb_ring_free(struct lb_ring *);

/* A new, empty ring on c's interface, attached; NULL with *cause. */
static struct lb_ring *
lb_ring_new(const struct conf_lookback *c, const char *root, char **cause)
{
	static const struct capsink_cbs cbs = { lb_packet, lb_error };
	struct lb_ring		*r;
	enum capture_err	 err;
	const char		*bpf;
	char			*why = NULL;
	int			 linktype;

	/* The names live after the struct: one allocation, one free. */
	bpf = c->bpf != NULL ? c->bpf : "";
	r = xcalloc(1, sizeof *r + strlen(c->name) + strlen(bpf) + 2);
	r->ifname = (char *)(r + 1);
	r->bpf = r->ifname + strlen(c->name) + 1;
	memcpy(r->ifname, c->name, strlen(c->name) + 1);
	memcpy(r->bpf, bpf, strlen(bpf) + 1);
	r->snaplen = (uint32_t)c->snaplen;
	r->size = (size_t)c->memory_bytes & ~(size_t)7;
	r->covers_us = now_us();
	/*
	 * Every page now, not at its first packet: a page fault (or a huge
	 * page's compaction) in the packet path stalls the loop for
	 * milliseconds, and the ring's bytes are the daemon's from the start.
	 */
	r->buf = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->buf == MAP_FAILED) {
		r->buf = NULL;
		*cause = xasprintf("lookback.interfaces.%s.memory_bytes: "
		    "cannot allocate %zu bytes", c->name, r->size);
		goto fail;
	}
	r->sink = capture_attach(NULL, r->ifname, r->bpf, r->snaplen, &cbs, r,
	    &linktype, &err, &why);
	if (r->sink == NULL) {
		*cause = xasprintf("lookback.interfaces.%s: %s", c->name, why);
		free(why);
		goto fail;
	}
	if (lb_ring_disk(r, c, root, linktype, lookback_find(c->name),
	    cause) == -1)
		goto fail;
	log_info("lookback: %s: a ring of %zu bytes, snap length %u%s%s",
	    r->ifname, r->size, r->snaplen, *r->bpf != '\0' ? ", bpf " : "",
	    r->bpf);
	return (r);
fail:
	lb_ring_free(r);
	return (NULL);
}

static void
lb_ring_free(struct lb_ring *r)
{
	lb_cuts_end(r);
	if (r->sink != NULL)
		capture_detach(r->sink);
	if (r->disk != NULL)
		lb_disk_close(r->disk);
	if (r->buf != NULL)
		munmap(r->buf, r->size);
	free(r);
}

struct lb_ring *
lookback_find(const char *ifname)
{
	size_t	i;

	for (i = 0; i < lb_nrings; i++)
		if (strcmp(lb_rings[i]->ifname, ifname) == 0)
			return (lb_rings[i]);
	return (NULL);
}

/* The first record in memory stamped from_us or later: 0, or -1. */
static int
lb_mem_seek(struct lb_ring *r, int64_t from_us, size_t *offp, uint64_t *seqp)
{
	const struct lb_hdr	*h;
	size_t			 off = r->tail;
	uint64_t		 seq;

	for (seq = r->first_seq; seq < r->next_seq; seq++) {
		off = lb_skip_wrap(r, off);
		h = lb_at(r, off);
		if (h->ts_ns >= from_us * 1000) {
			*offp = off;
			*seqp = seq;
			return (0);
		}
		off += LB_HDR + LB_ALIGN(h->caplen);
	}
	return (-1);
}

struct lb_cut *
lookback_cut_begin(struct lb_ring *r, int64_t from_us, int64_t *covered_us,
    int64_t *gap_us)
{
	struct lb_cut	*k;
	int64_t		 covers, now = now_us();

	k = xcalloc(1, sizeof *k);
	k->from_us = from_us;
	*covered_us = now;
	*gap_us = now > from_us ? now - from_us : 0;
	if (r == NULL || r->ncuts == LB_MAX_CUTS)
		return (k);
	/* The ring holds everything since covers: nothing missing then. */
	covers = lb_covers(r);
	*covered_us = from_us > covers ? from_us : covers;
	*gap_us = *covered_us - from_us;
	/* While the daemon was down (an earlier run's segments), nothing. */
	if (r->restart_us != 0 && *covered_us < r->restart_us)
		*gap_us += r->restart_us - (*covered_us > r->prev_end_us ?
		    *covered_us : r->prev_end_us);
	k->end_seq = r->next_seq;
	if (r->disk != NULL && (r->used == 0 || from_us < r->oldest_us) &&
	    lb_disk_seek(r->disk, from_us, &k->dpos) == 0) {
		k->on_disk = 1;
		k->seq = k->dpos.seq;
	} else if (r->used == 0 || lb_mem_seek(r, from_us, &k->off,
	    &k->seq) == -1)
		return (k);
	k->ring = r;
	r->cuts[r->ncuts++] = k;
	return (k);
}

/* What a disk read hands the cut's own function: from on, no older. */
struct lb_disk_reader {
	lb_packet_fn	 fn;
	void		*arg;
	int64_t		 from_us;
};

static int
lb_disk_packet(void *arg, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	struct lb_disk_reader	*d = arg;

	if (ts < d->from_us * 1000)
		return (0);
	return (d->fn(d->arg, ts, caplen, len, data));
}

/*
 * Reads the disk tier up to what memory holds now, then moves the cut to
 * memory (where eviction waits for it). 1 when fn ended the cut.
 */
static int
lb_cut_disk(struct lb_cut *k, size_t budget, lb_packet_fn fn, void *arg)
{
	struct lb_ring		*r = k->ring;
	struct lb_disk_reader	 d = { fn, arg, k->from_us };
	int			 rc;

	rc = lb_disk_read(r->disk, &k->dpos, r->first_seq < k->end_seq ?
	    r->first_seq : k->end_seq, budget, lb_disk_packet, &d);
	k->seq = k->dpos.seq;
	if (rc == 1) {
		k->end_seq = k->seq;
		return (1);
	}
	if (rc == -1 || k->seq >= r->first_seq) {
		lb_disk_release(r->disk, &k->dpos);
		k->on_disk = 0;
		k->seq = r->first_seq;	/* a record lost on disk stays lost */
		k->off = r->tail;
	}
	return (0);
}

int
lookback_cut_next(struct lb_cut *k, size_t budget, lb_packet_fn fn, void *arg)
{
	struct lb_ring		*r = k->ring;
	const struct lb_hdr	*h;
	size_t			 done = 0;
	int			 stop;

	if (r == NULL || k->seq >= k->end_seq)
		return (1);
	if (k->on_disk && lb_cut_disk(k, budget, fn, arg))
		return (1);
	if (k->on_disk)
		return (0);	/* one batch a turn */
	while (k->seq < k->end_seq && done < budget) {
		k->off = lb_skip_wrap(r, k->off);
		h = lb_at(r, k->off);
		stop = fn(arg, h->ts_ns, h->caplen, h->len, r->buf + k->off +
		    LB_HDR);
		k->off += LB_HDR + LB_ALIGN(h->caplen);
		done += LB_HDR + h->caplen;
		k->seq++;
		if (stop) {
			k->end_seq = k->seq;	/* unpinned */
			return (1);
		}
	}
	return (k->seq >= k->end_seq);
}

void
lookback_cut_free(struct lb_cut *k)
{
	struct lb_ring	*r = k->ring;
	int		 i;

	if (r != NULL) {
		if (k->on_disk)
			lb_disk_release(r->disk, &k->dpos);
		for (i = 0; i < r->ncuts; i++) {
			if (r->cuts[i] != k)
				continue;
			r->cuts[i] = r->cuts[--r->ncuts];
			break;
		}
	}
	free(k);
}

/* One ring's state, as GET /v1/interfaces shows it. */
static json_t *
lb_ring_json(const struct lb_ring *r)
{
	struct capture_stats	 st;
	char			 o[40], n[40];
	json_t			*j;
	int64_t			 oldest, newest;
	uint64_t		 bytes = 0;

	capture_get_stats(r->sink, &st, 1);	/* as they are now */
	if (r->disk != NULL)
		lb_disk_span(r->disk, &oldest, &newest, &bytes);
	j = json_pack("{s:I, s:I, s:I, s:s, s:o, s:o, s:I, s:I, s:I}",
	    "memory_bytes", (json_int_t)r->size,
	    "bytes", (json_int_t)r->used,
	    "packets", (json_int_t)(r->next_seq - r->first_seq),
	    "bpf", r->bpf,
	    "oldest", r->used > 0 ? json_string(time_rfc3339(o, sizeof o,
	    r->oldest_us)) : json_null(),
	    "newest", r->used > 0 ? json_string(time_rfc3339(n, sizeof n,
	    r->newest_us)) : json_null(),
	    "snaplen", (json_int_t)r->snaplen,
	    "evicted", (json_int_t)r->evicted,
	    "dropped", (json_int_t)r->dropped);
	json_object_set_new(j, "kernel_drops", json_integer(
	    (json_int_t)st.kernel_drops));
	json_object_set_new(j, "disk_bytes", json_integer((json_int_t)bytes));
	json_object_set_new(j, "covers_from", json_string(time_rfc3339(o,
	    sizeof o, lb_covers(r))));
	return (j);
}

json_t *
lookback_interfaces(void)
{
	char		 ebuf[PCAP_ERRBUF_SIZE];
	pcap_if_t	*all = NULL, *d;
	json_t		*a, *o;
	size_t		 i;

	a = json_array();
	if (pcap_findalldevs(&all, ebuf) == 0) {
		for (d = all; d != NULL; d = d->next) {
			o = json_pack("{s:s, s:o, s:b, s:o}", "name", d->name,
			    "description", d->description != NULL ?
			    json_string(d->description) : json_null(),
			    "up", (d->flags & PCAP_IF_UP) != 0,
			    "lookback", lookback_find(d->name) != NULL ?
			    lb_ring_json(lookback_find(d->name)) : json_null());
			json_array_append_new(a, o);
		}
		pcap_freealldevs(all);
	}
	/* Rings on names libpcap does not list (replayed interfaces). */
	for (i = 0; i < lb_nrings; i++) {
		json_t	*e;
		size_t	 j;
		int	 listed = 0;

		json_array_foreach(a, j, e)
			if (strcmp(json_string_value(json_object_get(e,
			    "name")), lb_rings[i]->ifname) == 0)
				listed = 1;
		if (!listed)
			json_array_append_new(a, json_pack("{s:s, s:n, s:b, "
			    "s:o}", "name", lb_rings[i]->ifname,
			    "description", "up", 1, "lookback",
			    lb_ring_json(lb_rings[i])));
	}
	return (json_pack("{s:o}", "interfaces", a));
}

/* A per-ring counter: arg is its offset in struct lb_ring. */
static void
metric_ring(struct metric_out *o, void *arg)
{
	size_t	i, off = (size_t)(uintptr_t)arg;

	for (i = 0; i < lb_nrings; i++)
		metric_u64(o, *(const uint64_t *)(const void *)((const char *)
		    lb_rings[i] + off), "interface", lb_rings[i]->ifname,
		    (char *)NULL);
}

static void
metric_ring_bytes(struct metric_out *o, void *arg)
{
	size_t	i;

	for (i = 0; i < lb_nrings; i++)
		metric_u64(o, lb_rings[i]->used, "interface",
		    lb_rings[i]->ifname, (char *)NULL);
}

/* How far back each ring reaches, in seconds (0: empty). */
static void
metric_ring_span(struct metric_out *o, void *arg)
{
	const struct lb_ring	*r;
	size_t			 i;
	uint64_t		 span;

	for (i = 0; i < lb_nrings; i++) {
		r = lb_rings[i];
		span = r->used > 0 ? (uint64_t)(now_us() - r->oldest_us) /
		    1000000 : 0;
		metric_u64(o, span, "interface", r->ifname, (char *)NULL);
	}
}

static const struct metric lb_metrics[] = {
	METRIC_READ("alertcap_lookback_bytes", GAUGE,
	    "Bytes a lookback ring holds, headers counted.",
	    metric_ring_bytes, NULL),
	METRIC_READ("alertcap_lookback_span_seconds", GAUGE,
	    "How far back a lookback ring reaches.", metric_ring_span, NULL),
	METRIC_READ("alertcap_lookback_packets_total", COUNTER,
	    "Packets offered to a lookback ring.", metric_ring,
	    (void *)offsetof(struct lb_ring, received)),
	METRIC_READ("alertcap_lookback_evicted_total", COUNTER,
	    "Packets a lookback ring let go to make room.", metric_ring,
	    (void *)offsetof(struct lb_ring, evicted)),
	METRIC_READ("alertcap_lookback_dropped_total", COUNTER,
	    "Packets a lookback ring refused while a cut held its room.",
	    metric_ring, (void *)offsetof(struct lb_ring, dropped)),
	METRIC_END
};

/* Is the ring r what c asks for, unchanged? */
static int
lb_same(const struct lb_ring *r, const struct conf_lookback *c)
{
	return (r->size == ((size_t)c->memory_bytes & ~(size_t)7) &&
	    r->snaplen == (uint32_t)c->snaplen &&
	    r->disk_bytes == (uint64_t)c->disk_bytes &&
	    r->disk_file_bytes == (uint64_t)c->disk_file_bytes &&
	    strcmp(r->bpf, c->bpf != NULL ? c->bpf : "") == 0);
}

int
lookback_reconf(const struct conf *conf, char **cause)
{
	const struct conf_lookback	*c;
	struct lb_ring			**next, *r;
	size_t				  i, j, n = conf->lookbacks.n;

	next = xcalloc(n + 1, sizeof *next);
	for (i = 0; i < n; i++) {
		c = (const struct conf_lookback *)conf->lookbacks.v + i;
		if ((r = lookback_find(c->name)) != NULL && lb_same(r, c))
			next[i] = r;
		else if ((next[i] = lb_ring_new(c, conf->captures_root,
		    cause)) == NULL) {
			for (j = 0; j < i; j++)
				if (lookback_find(next[j]->ifname) != next[j])
					lb_ring_free(next[j]);
			free(next);
			return (-1);
		}
	}
	/* Rings dropped or replaced go; kept ones move over. */
	for (i = 0; i < lb_nrings; i++) {
		for (j = 0; j < n; j++)
			if (next[j] == lb_rings[i])
				break;
		if (j == n) {
			log_info("lookback: %s: ring removed",
			    lb_rings[i]->ifname);
			lb_ring_free(lb_rings[i]);
		}
	}
	free(lb_rings);
	lb_rings = next;
	lb_nrings = n;
	return (0);
}

int
lookback_init(const struct conf *conf, char **cause)
{
	if (lookback_reconf(conf, cause) == -1)
		return (-1);
	metrics_register(lb_metrics, NULL);
	return (0);
}

void
lookback_shutdown(void)
{
	size_t	i;

	metrics_unregister(lb_metrics);
	for (i = 0; i < lb_nrings; i++)
		lb_ring_free(lb_rings[i]);
	free(lb_rings);
	lb_rings = NULL;
	lb_nrings = 0;
}
