/*
 * Packet sources in the event loop, shared by many capture sessions: a
 * live libpcap handle on an interface, or a replay directory whose pcap
 * files are delivered as the interface's packets (captures.replay).
 */
#include "config.h"

#include <sys/inotify.h>
#include <sys/socket.h>

#include <dirent.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "capture-pcap.h"
#include "netns.h"
#include "compat.h"
#include "filter.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define CAPTURE_SNAPLEN		262144
#define CAPTURE_BATCH		1024	/* packets per pcap_dispatch */
#define CAPTURE_DRAIN_ROUNDS	64	/* batches read before a detach */

struct capsrc;

struct capsink {
	struct capsrc		*src;
	char			*expr;
	struct bpf_program	 prog;
	struct filter_set	*fset;		/* its filters, to test first */
	int			 filtered;	/* run prog in user space */
	struct capsink		*leader;	/* same expr, earlier: its verdict */
	int			 group;		/* its table's, or -1 (capsrc) */
	int			 hit;		/* prog's verdict on this packet */
	uint32_t		 snaplen;
	struct capsink_cbs	 cbs;
	void			*arg;
	int			 dead;
	struct pcap_stat	 base;		/* stats at attach */
	int64_t			 since;		/* ns; attached at */
	TAILQ_ENTRY(capsink)	 entry;
};

/*
 * What kind of source an interface is: its open, read and stats, as
 * libpcap's own capture_source_types[] picks a module per device.
 */
struct capsrc_ops {
	const char	*name;
	/* Fills in s->p, s->linktype and s->ev; -1 with *err and *cause. */
	int		(*open)(struct capsrc *, enum capture_err *, char **);
	/* Delivers what is waiting, at most rounds batches. */
	void		(*read)(struct capsrc *, int rounds);
	/* Installs the source-wide filter; -1 if it cannot. */
	int		(*setfilter)(struct capsrc *, struct bpf_program *);
	/* Reads the counters into s->stats; -1 if it cannot. */
	int		(*stats)(struct capsrc *);
	void		(*close)(struct capsrc *);
};

/* A replayed interface: the directory its pcap files arrive in. */
struct capture_replay {
	char			*ifname;
	char			*dir;
	LIST_ENTRY(capture_replay) entry;
};

struct capsrc {
	char			*ifname;
	int			 in_ns;		/* inside ns, not the daemon's */
	unsigned int		 ifindex;	/* 0: any, or replayed */
	struct nstarget		 ns;
	const struct capsrc_ops	*ops;
	pcap_t			*p;
	/* Replay sources: */
	const char		*replay_dir;
	int			 dir_fd;
	int			 watch_fd;	/* inotify */
	struct bpf_program	 replay_prog;	/* the source-wide filter */
	int			 has_prog;
	int			 linktype;
	int64_t			 ts_unit;	/* of tv_usec, in ns: 1, 1000 */
	struct event		*ev;
	int			 in_dispatch;
	int			 failed;
	char			*kernel_expr;
	int			 refilter_due;	/* an expression left: reap */
	/*
	 * Packets stamped before this (ns) may have passed the kernel's
	 * previous filter: every sink with an expression checks them.
	 */
	int64_t			 kernel_since;
	struct event		*linger_ev;	/* closes it when idle */
	int			 pinned;	/* captures.preopen: kept */
	/*
	 * The live sinks in order, each with the ports its filters can take
	 * (filter.h; all ones: any), so that a packet none of whose ports
	 * a sink can take passes it by without touching it. Rebuilt before
	 * the next read when stale.
	 */
	struct sinkplan		*plan;
	size_t			 nplan;
	int			 plan_stale;
	int			 plan_parse;	/* some sink's ports are known */
	/*
	 * The sinks whose structured filters one table decides instead, so
	 * that a packet costs the same however many there are: group g (the
	 * table's set g) is a leader and the sinks that share its expression,
	 * tsinks[tat[g]] to tsinks[tat[g + 1] - 1], the leader first.
	 */
	struct filter_table	*table;
	struct capsink		**tsinks;
	size_t			 tat[FILTER_TABLE_MAX + 1];
	size_t			 ngroups;
	struct pcap_stat	 stats;		/* cached, see capsrc_stats */
	uint64_t		 replayed;	/* packets a replay delivered */
	int64_t			 stats_at;	/* us; 0 = never read */
	TAILQ_HEAD(, capsink)	 sinks;
	LIST_ENTRY(capsrc)	 entry;
};

static struct event_base	*capture_base;
static long long		 capture_ring_bytes;
static int			 capture_poll_ms;
static int			 capture_linger_s;
static int			 capture_closing;
static struct event		*capture_reap_ev;
static LIST_HEAD(, capsrc)	 capture_srcs =
    LIST_HEAD_INITIALIZER(capture_srcs);
static LIST_HEAD(, capture_replay) capture_replays =
    LIST_HEAD_INITIALIZER(capture_replays);

struct sinkplan {
	struct capsink	*k;
	uint64_t	 ports;
};

static void	capsrc_refilter(struct capsrc *);
static int	capsrc_stats(struct capsrc *, int fresh);

/*
 * The sink's verdict on a packet: its structured filters' compares when
 * they can tell (the packet's addresses and ports read once into *fp for
 * every sink), else its BPF program.
 */
static int
capsink_verdict(struct capsink *k, const struct pcap_pkthdr *h,
    const u_char *data, struct filter_pkt *fp, int *parsed)
{
	int	v;

	if (k->fset != NULL && k->src->linktype == DLT_EN10MB) {
		if (!*parsed) {
			filter_parse_ether(fp, data, h->caplen);
			*parsed = 1;
		}
		if ((v = filter_match(k->fset, fp)) != -1)
			return (v);
	}
	return (pcap_offline_filter(&k->prog, h, data) != 0);
}

/*
 * Which sinks the table decides: a live leader that filters in user space
 * by its structured filters on Ethernet, while the table has room, and
 * the sinks that follow it.
 */
static void
capsrc_group(struct capsrc *s)
{
	struct capsink	*k;

	s->ngroups = 0;
	TAILQ_FOREACH(k, &s->sinks, entry) {
		k->group = -1;
		if (k->dead)
			continue;
		if (k->leader != NULL)
			k->group = k->leader->group;
		else if (k->filtered && k->fset != NULL &&
		    s->linktype == DLT_EN10MB &&
		    s->ngroups < FILTER_TABLE_MAX)
			k->group = (int)s->ngroups++;
	}
}

/*
 * Rebuilds the plan: every sink not dead that the table does not decide,
 * with the ports its filters (a follower: its leader's, the same
 * expression) can take; and the table, with its sinks by group.
 */
static void
capsrc_plan(struct capsrc *s)
{
	const struct filter_set	*sets[FILTER_TABLE_MAX];
	struct capsink		*k, *f;
	size_t			 fill[FILTER_TABLE_MAX], n = 0, g;

	capsrc_group(s);
	TAILQ_FOREACH(k, &s->sinks, entry)
		n++;
	s->plan = xrealloc(s->plan, (n + 1) * sizeof *s->plan);
	s->tsinks = xrealloc(s->tsinks, (n + 1) * sizeof *s->tsinks);
	s->nplan = 0;
	s->plan_parse = 0;
	memset(s->tat, 0, sizeof s->tat);
	TAILQ_FOREACH(k, &s->sinks, entry) {
		if (k->dead)
			continue;
		if (k->group >= 0) {
			s->tat[k->group + 1]++;
			if (k->leader == NULL)
				sets[k->group] = k->fset;
			continue;
		}
		f = k->leader != NULL ? k->leader : k;
		s->plan[s->nplan].k = k;
		s->plan[s->nplan].ports = f->fset != NULL &&
		    s->linktype == DLT_EN10MB ? filter_set_ports(f->fset) :
		    ~(uint64_t)0;
		if (s->plan[s->nplan].ports != ~(uint64_t)0)
			s->plan_parse = 1;
		s->nplan++;
	}
	/* The groups' sinks in order, each group's leader first. */
	for (g = 0; g < s->ngroups; g++)
		s->tat[g + 1] += s->tat[g];
	memcpy(fill, s->tat, sizeof fill);
	TAILQ_FOREACH(k, &s->sinks, entry)
		if (!k->dead && k->group >= 0)
			s->tsinks[fill[k->group]++] = k;
	filter_table_free(s->table);
	s->table = NULL;
	if (s->ngroups > 0) {
		s->table = filter_table_new(sets, s->ngroups);
		s->plan_parse = 1;
	}
	s->plan_stale = 0;
}

/* Hands a packet the sink's filter passed to it, cut to its length. */
static inline void
capsink_take(struct capsink *k, const struct pcap_pkthdr *h,
    const u_char *data, int64_t ts)
{
	uint32_t	caplen = h->caplen;

	/* The ring may still hold packets from before the sink. */
	if (k->dead || ts < k->since)
		return;
	if (k->snaplen != 0 && caplen > k->snaplen)
		caplen = k->snaplen;
	k->cbs.packet(k->arg, ts, caplen, h->len, data);
}

/*
 * Delivers a packet (read into *fp) to the groups of sinks the table
 * says take it; for a packet only libpcap can decide (ARP, a VLAN tag),
 * each group's leader runs its program.
 */
static void
capsrc_classified(struct capsrc *s, const struct pcap_pkthdr *h,
    const u_char *data, int64_t ts, struct filter_pkt *fp)
{
	uint64_t	m = 0;
	size_t		g, i;
	int		parsed = 1;

	if (fp->kind == FILTER_PKT_IP)
		m = filter_table_match(s->table, fp);
	else if (fp->kind == FILTER_PKT_UNSURE)
		for (g = 0; g < s->ngroups; g++)
			if (capsink_verdict(s->tsinks[s->tat[g]], h, data, fp,
			    &parsed))
				m |= (uint64_t)1 << g;
	for (; m != 0; m &= m - 1) {
		g = (size_t)__builtin_ctzll(m);
		for (i = s->tat[g]; i < s->tat[g + 1]; i++)
			capsink_take(s->tsinks[i], h, data, ts);
	}
}

/* Delivers one packet to every live sink whose filter it passes. */
static void
capsrc_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct capsrc		*s = (struct capsrc *)arg;
	struct capsink		*k;
	struct filter_pkt	 fp;
	uint64_t		 bits = ~(uint64_t)0;
	int64_t			 ts;
	size_t			 i;
	int			 need, parsed = 0;

	ts = (int64_t)h->ts.tv_sec * 1000000000 + h->ts.tv_usec * s->ts_unit;
	if (s->plan_parse) {
		filter_parse_ether(&fp, data, h->caplen);
		parsed = 1;
		/* Not IP (nothing to take), or IP: its ports' bits. */
		if (fp.kind == FILTER_PKT_IP)
			bits = fp.port_bits;
		else if (fp.kind == FILTER_PKT_OTHER)
			bits = 0;
	}
	for (i = 0; i < s->nplan; i++) {
		/* Its filters take no port of this packet: not for it. */
		if ((s->plan[i].ports & bits) == 0 &&
		    s->plan[i].ports != ~(uint64_t)0)
			continue;
		k = s->plan[i].k;
		/*
		 * Sinks with the same filter (an alert storm) run it once;
		 * one the kernel filters for runs it on what the kernel's
		 * previous filter may have let in.
		 */
		need = k->filtered || (ts < s->kernel_since && *k->expr != '\0');
		if (need)
			k->hit = k->leader != NULL ? k->leader->hit :
			    capsink_verdict(k, h, data, &fp, &parsed);
		if (!need || k->hit)
			capsink_take(k, h, data, ts);
	}
	if (s->table != NULL)
		capsrc_classified(s, h, data, ts, &fp);
}

/* Marks the source failed and tells every sink. */
static void
capsrc_fail(struct capsrc *s, const char *why)
{
	struct capsink	*k;

	log_error("capture on %s failed: %s", s->ifname, why);
	s->failed = 1;
	event_del(s->ev);
	TAILQ_FOREACH(k, &s->sinks, entry) {
		if (!k->dead)
			k->cbs.error(k->arg, why);
	}
}

/* Delivers what the source holds; never re-entered from a callback. */
static void
capsrc_read(struct capsrc *s, int rounds)
{
	if (s->failed || s->in_dispatch)
		return;
	if (s->plan_stale)
		capsrc_plan(s);
	s->in_dispatch = 1;
	s->ops->read(s, rounds);
	s->in_dispatch = 0;
}

/* Reads up to rounds batches; stops early when the ring is empty. */
static void
live_read(struct capsrc *s, int rounds)
{
	int	n;

	while (rounds-- > 0) {
		n = pcap_dispatch(s->p, CAPTURE_BATCH, capsrc_packet,
		    (u_char *)s);
		if (n == PCAP_ERROR) {
			capsrc_fail(s, pcap_geterr(s->p));
			return;
		}
		if (n < CAPTURE_BATCH)
			break;
	}
}

static void
capsrc_readable(evutil_socket_t fd, short events, void *arg)
{
	capsrc_read(arg, 1);
}

/* The source of ifname in namespace ns (NULL: the daemon's own). */
static struct capsrc *
capsrc_find(const struct nstarget *ns, const char *ifname)
{
	struct capsrc	*s;

	LIST_FOREACH(s, &capture_srcs, entry) {
		if (strcmp(s->ifname, ifname) != 0 || s->failed ||
		    s->in_ns != (ns != NULL))
			continue;
		if (ns == NULL || (s->ns.ino == ns->ino && s->ns.dev ==
		    ns->dev))
			return (s);
	}
	return (NULL);
}

static int	live_open_here(struct capsrc *, enum capture_err *, char **);

/*
 * Opens a handle with a large ring on the interface, inside the source's
 * namespace if it has one: the socket stays bound to it when the thread
 * comes back.
 */
static int
live_open(struct capsrc *s, enum capture_err *err, char **cause)
{
	char	*why = NULL;
	int	 back, rc;

	if (!s->in_ns)
		return (live_open_here(s, err, cause));
	if ((back = netns_enter(&s->ns, &why)) == -1) {
		*err = CAPTURE_FAILED;
		*cause = xasprintf("target: %s", why);
		free(why);
		return (-1);
	}
	rc = live_open_here(s, err, cause);
	netns_leave(back);
	return (rc);
}

/* live_open in the thread's namespace. */
static int
live_open_here(struct capsrc *s, enum capture_err *err, char **cause)
{
	char	 ebuf[PCAP_ERRBUF_SIZE];
	pcap_t	*p;
	int	 rc, fd;

	/* Told apart before libpcap, which says "permission denied" first. */
	if (strcmp(s->ifname, "any") != 0 &&
	    (s->ifindex = if_nametoindex(s->ifname)) == 0) {
		*err = CAPTURE_NO_DEVICE;
		*cause = xasprintf("target.interface: %s: no such interface%s%s",
		    s->ifname, s->in_ns ? " in namespace " : "", s->in_ns ?
		    s->ns.path : "");
		return (-1);
	}
	if ((p = pcap_create(s->ifname, ebuf)) == NULL) {
		*err = CAPTURE_FAILED;
		*cause = xasprintf("target.interface: %s", ebuf);
		return (-1);
	}
	pcap_set_snaplen(p, CAPTURE_SNAPLEN);
	pcap_set_promisc(p, 0);
	pcap_set_timeout(p, capture_poll_ms);
	pcap_set_buffer_size(p, (int)capture_ring_bytes);
	/* pcapng files keep nanoseconds; a kernel without says so. */
	(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	rc = pcap_activate(p);
	if (rc < 0) {
		*err = rc == PCAP_ERROR_NO_SUCH_DEVICE ? CAPTURE_NO_DEVICE :
		    CAPTURE_FAILED;
		*cause = xasprintf("target.interface: %s: %s", s->ifname,
		    rc == PCAP_ERROR_NO_SUCH_DEVICE ? "no such interface" :
		    pcap_geterr(p));
		pcap_close(p);
		return (-1);
	}
	if (rc > 0)
		log_warn("capture on %s: %s", s->ifname, pcap_geterr(p));
	if (pcap_setnonblock(p, 1, ebuf) == -1 ||
	    (fd = pcap_get_selectable_fd(p)) == -1) {
		*err = CAPTURE_FAILED;
		*cause = xasprintf("target.interface: %s: cannot poll: %s",
		    s->ifname, ebuf);
		pcap_close(p);
		return (-1);
	}
	s->p = p;
	s->ts_unit = pcap_get_tstamp_precision(p) ==
	    PCAP_TSTAMP_PRECISION_NANO ? 1 : 1000;
	s->linktype = pcap_datalink(p);
	s->ev = event_new(capture_base, fd, EV_READ | EV_PERSIST,
	    capsrc_readable, s);
	log_info("capture: opened %s%s%s (link type %s, ring %lld bytes)",
	    s->ifname, s->in_ns ? " in namespace " : "", s->in_ns ?
	    s->ns.path : "", pcap_datalink_val_to_name(s->linktype),
	    capture_ring_bytes);
	return (0);
}

/*
 * The kernel filter, swapped in place. pcap_setfilter() first puts a
 * filter that rejects everything on the socket and drains it, so that no
 * packet of the old filter follows; every packet that arrives meanwhile
 * is lost, counted nowhere — a hole in a lookback ring each time a
 * session with another filter attaches or detaches. The kernel swaps a
 * socket filter atomically, so we attach it ourselves and filter in user
 * space what the old one let in (kernel_since). Cooked captures ("any")
 * need libpcap's rewriting of the program for the kernel: libpcap's way.
 */
static int
live_setfilter(struct capsrc *s, struct bpf_program *prog)
{
	struct sock_fprog	fp;

	if (s->linktype == DLT_LINUX_SLL || s->linktype == DLT_LINUX_SLL2)
		return (pcap_setfilter(s->p, prog));
	/* libpcap's instructions are the kernel's, field for field. */
	_Static_assert(sizeof(struct bpf_insn) == sizeof(struct sock_filter),
	    "struct bpf_insn is the kernel's struct sock_filter");
	fp.len = (unsigned short)prog->bf_len;
	fp.filter = (struct sock_filter *)(void *)prog->bf_insns;
	if (setsockopt(pcap_fileno(s->p), SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	    sizeof fp) == -1)
		return (pcap_setfilter(s->p, prog));
	return (0);
}

/* libpcap reads /proc/net/dev for them: the thread's namespace's. */
static int
live_stats(struct capsrc *s)
{
	char	*why = NULL;
	int	 back, rc;

	if (!s->in_ns)
		return (pcap_stats(s->p, &s->stats));
	if ((back = netns_enter(&s->ns, &why)) == -1) {
		free(why);
		return (-1);
	}
	rc = pcap_stats(s->p, &s->stats);
	netns_leave(back);
	return (rc);
}

static void
live_close(struct capsrc *s)
{
	pcap_close(s->p);
}

/*
 * Delivers one replayed file's packets, stamped as arriving now (keeping
 * their spacing), then removes the file.
 */
static void
replay_file(struct capsrc *s, const char *name)
{
	char			 ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr	*h, hh;
	const u_char		*data;
	pcap_t			*f;
	FILE			*fp;
	int			 n = 0;
	int64_t			 now = now_us() * 1000, first = -1, ts;
	int			 fd;

	fd = openat(s->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 || (fp = fdopen(fd, "rb")) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	if ((f = pcap_fopen_offline_with_tstamp_precision(fp,
	    PCAP_TSTAMP_PRECISION_NANO, ebuf)) == NULL) {
		log_warn("capture on %s: replay %s: %s", s->ifname, name, ebuf);
		fclose(fp);
	} else if (pcap_datalink(f) != s->linktype) {
		log_warn("capture on %s: replay %s: link type %s, not %s",
		    s->ifname, name, pcap_datalink_val_to_name(
		    pcap_datalink(f)), pcap_datalink_val_to_name(s->linktype));
		pcap_close(f);
	} else {
		while (pcap_next_ex(f, &h, &data) == 1) {
			if (s->has_prog && !pcap_offline_filter(&s->replay_prog,
			    h, data))
				continue;
			n++;
			ts = (int64_t)h->ts.tv_sec * 1000000000 +
			    h->ts.tv_usec;
			if (first == -1)
				first = ts;
			ts = now + (ts > first ? ts - first : 0);
			hh = *h;
			hh.ts.tv_sec = (time_t)(ts / 1000000000);
			hh.ts.tv_usec = (suseconds_t)(ts % 1000000000);
			s->replayed++;	/* what the kernel would count */
			capsrc_packet((u_char *)s, &hh, data);
		}
		pcap_close(f);
		log_debug("capture on %s: replayed %s (%d packets)", s->ifname,
		    name, n);
	}
	unlinkat(s->dir_fd, name, 0);
}

/* Files closed after writing, or moved in: each is delivered once. */
static void
replay_read(struct capsrc *s, int rounds)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *e;
	ssize_t			 n;
	size_t			 len;
	char			*off;

	while ((n = read(s->watch_fd, buf, sizeof buf)) > 0) {
		for (off = buf; off < buf + n; off += sizeof *e + e->len) {
			e = (const struct inotify_event *)(void *)off;
			if (e->len == 0 || e->name[0] == '.')
				continue;
			len = strlen(e->name);
			if (len > 5 && strcmp(e->name + len - 5, ".pcap") == 0)
				replay_file(s, e->name);
		}
	}
}

/*
 * A replayed interface: packets come from pcap files that arrive in its
 * directory while it is open. Ethernet framing, as on a real interface.
 */
static int
replay_open(struct capsrc *s, enum capture_err *err, char **cause)
{
	s->dir_fd = open(s->replay_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->dir_fd == -1 || s->watch_fd == -1 || inotify_add_watch(
	    s->watch_fd, s->replay_dir, IN_CLOSE_WRITE | IN_MOVED_TO) == -1) {
		*err = CAPTURE_FAILED;
		*cause = xasprintf("target.interface: %s: captures.replay "
		    "directory %s: %s", s->ifname, s->replay_dir,
		    strerror(errno));
		if (s->dir_fd != -1)
			close(s->dir_fd);
		if (s->watch_fd != -1)
			close(s->watch_fd);
		return (-1);
	}
	s->linktype = DLT_EN10MB;
	s->p = pcap_open_dead(s->linktype, CAPTURE_SNAPLEN);
	s->ev = event_new(capture_base, s->watch_fd, EV_READ | EV_PERSIST,
	    capsrc_readable, s);
	log_info("capture: opened %s (replayed from %s)", s->ifname,
	    s->replay_dir);
	return (0);
}

static int
replay_setfilter(struct capsrc *s, struct bpf_program *prog)
{
	if (s->has_prog)
		pcap_freecode(&s->replay_prog);
	s->replay_prog.bf_len = prog->bf_len;
	s->replay_prog.bf_insns = xcalloc(prog->bf_len, sizeof *prog->bf_insns);
	memcpy(s->replay_prog.bf_insns, prog->bf_insns, prog->bf_len *
	    sizeof *prog->bf_insns);
	s->has_prog = 1;
	return (0);
}

/* A replay takes every packet of its files and drops none. */
static int
replay_stats(struct capsrc *s)
{
	memset(&s->stats, 0, sizeof s->stats);
	s->stats.ps_recv = (u_int)s->replayed;
	return (0);
}

static void
replay_close(struct capsrc *s)
{
	if (s->has_prog)
		pcap_freecode(&s->replay_prog);
	close(s->watch_fd);
	close(s->dir_fd);
	pcap_close(s->p);
}

/* The kinds of source: name, open, read, setfilter, close. */
enum { SRC_LIVE, SRC_REPLAY };
static const struct capsrc_ops capsrc_types[] = {
	[SRC_LIVE] = { "live", live_open, live_read, live_setfilter,
	    live_stats, live_close },
	[SRC_REPLAY] = { "replay", replay_open, replay_read, replay_setfilter,
	    replay_stats, replay_close },
};

/*
 * Opens the source of ifname (in ns, or the daemon's namespace): replayed
 * if captures.replay names it.
 */
static struct capsrc *
capsrc_open(const struct nstarget *ns, const char *ifname,
    enum capture_err *err, char **cause)
{
	struct capture_replay	*r;
	struct capsrc		*s;

	s = xcalloc(1, sizeof *s);
	s->ts_unit = 1;	/* replays: read in nanoseconds */
	s->ifname = xstrdup(ifname);
	s->ops = &capsrc_types[SRC_LIVE];
	if (ns != NULL) {
		s->in_ns = 1;
		netns_copy(&s->ns, ns);
	}
	LIST_FOREACH(r, &capture_replays, entry) {
		if (ns == NULL && strcmp(r->ifname, ifname) == 0) {
			s->ops = &capsrc_types[SRC_REPLAY];
			s->replay_dir = r->dir;
		}
	}
	if (s->ops->open(s, err, cause) == -1) {
		netns_clear(&s->ns);
		free(s->ifname);
		free(s);
		return (NULL);
	}
	s->kernel_expr = xstrdup("");
	TAILQ_INIT(&s->sinks);
	event_add(s->ev, NULL);
	LIST_INSERT_HEAD(&capture_srcs, s, entry);
	return (s);
}
static void
capsrc_close(struct capsrc *s)
{
	log_info("capture: closed %s (%s)", s->ifname, s->ops->name);
	LIST_REMOVE(s, entry);
	free(s->plan);
	free(s->tsinks);
	filter_table_free(s->table);
	if (s->linger_ev != NULL)
		event_free(s->linger_ev);
	event_free(s->ev);
	s->ops->close(s);
	free(s->kernel_expr);
	netns_clear(&s->ns);
	free(s->ifname);
	free(s);
}

/*
 * Sets the kernel filter to the union of the live sinks' distinct
 * expressions (each is its leader's: capsrc_leader_of, capsrc_unlead),
 * and decides which sinks still need their own filter in user space: all
 * of them, unless one sink alone set the kernel filter.
 */
static void
capsrc_refilter(struct capsrc *s)
{
	struct bpf_program	 prog;
	struct capsink		*k;
	struct dynbuf		 u;
	const char		*want;
	int			 all = 0, terms = 0, ok = 1;

	dynbuf_init(&u, 16 * 1024 * 1024);
	TAILQ_FOREACH(k, &s->sinks, entry) {
		if (k->dead || k->leader != NULL)
			continue;
		if (*k->expr == '\0' || dynbuf_addf(&u, "%s(%s)",
		    terms++ > 0 ? " or " : "", k->expr) == -1)
			all = 1;
	}
	want = all || u.buf == NULL ? "" : u.buf;
	if (strcmp(want, s->kernel_expr) != 0) {
		if (pcap_compile(s->p, &prog, want, 1,
		    PCAP_NETMASK_UNKNOWN) == -1) {
			ok = 0;
		} else {
			ok = s->ops->setfilter(s, &prog) == 0;
			pcap_freecode(&prog);
		}
		if (!ok) {
			log_warn("capture on %s: kernel filter: %s; filtering "
			    "in user space only", s->ifname, pcap_geterr(s->p));
			want = "";
			if (pcap_compile(s->p, &prog, "", 1,
			    PCAP_NETMASK_UNKNOWN) == 0) {
				s->ops->setfilter(s, &prog);
				pcap_freecode(&prog);
			}
		}
		free(s->kernel_expr);
		s->kernel_expr = xstrdup(want);
		/* A packet's stamp may precede its filtering a little. */
		s->kernel_since = (now_us() + 1000) * 1000;
	}
	TAILQ_FOREACH(k, &s->sinks, entry)
		k->filtered = *k->expr != '\0' && !(terms == 1 &&
		    *s->kernel_expr != '\0');
	dynbuf_free(&u);
	s->plan_stale = 1;
}

/*
 * A sink whose expression an earlier live sink has takes that one's
 * verdict (its leader) instead of running the same program again. The
 * leader of k's expression: the earliest live sink with it (leaders come
 * before their followers, which the packet loop relies on), or NULL when
 * there is none before k and k leads.
 */
static struct capsink *
capsrc_leader_of(struct capsrc *s, const struct capsink *k)
{
	struct capsink	*l;

	TAILQ_FOREACH(l, &s->sinks, entry) {
		if (l == k)
			break;
		if (!l->dead && l->leader == NULL && strcmp(l->expr,
		    k->expr) == 0)
			return (l);
	}
	return (NULL);
}

/*
 * A sink is going: if it led its expression, its first live follower
 * leads in its place (still the earliest with it), so that every leader is
 * live. 1 when no live sink has the expression any more: the kernel's
 * filter is to change.
 */
static int
capsrc_unlead(struct capsrc *s, const struct capsink *d)
{
	struct capsink	*k, *nl = NULL;

	if (d->leader != NULL)
		return (0);
	TAILQ_FOREACH(k, &s->sinks, entry) {
		if (k->leader == d && !k->dead) {
			nl = k;
			break;
		}
	}
	TAILQ_FOREACH(k, &s->sinks, entry) {
		if (k->leader == d)
			k->leader = k == nl ? NULL : nl;
	}
	return (nl == NULL);
}

static void
capsrc_linger_done(evutil_socket_t fd, short events, void *arg)
{
	struct capsrc	*s = arg;

	if (TAILQ_EMPTY(&s->sinks) && !s->pinned)
		capsrc_close(s);
}

/*
 * The last session left: keep the handle and its ring a while, taking no
 * packets, so that the next capture on the interface (alerts come in
 * bursts) does not pay for a new ring.
 */
static void
capsrc_idle(struct capsrc *s)
{
	struct bpf_program	prog;
	struct timeval		tv = { capture_linger_s, 0 };

	if (pcap_compile(s->p, &prog, "less 0", 1, PCAP_NETMASK_UNKNOWN) == 0) {
		s->ops->setfilter(s, &prog);
		pcap_freecode(&prog);
	}
	free(s->kernel_expr);
	s->kernel_expr = xstrdup("less 0");
	if (s->pinned)
		return;
	if (s->linger_ev == NULL)
		s->linger_ev = evtimer_new(capture_base, capsrc_linger_done, s);
	evtimer_add(s->linger_ev, &tv);
}

/* Frees dead sinks and closes sources nobody uses any more. */
static void
capture_reap(evutil_socket_t fd, short events, void *arg)
{
	struct capsrc	*s, *s1;
	struct capsink	*k, *k1;
	int		 changed, due;

	LIST_FOREACH_SAFE(s, &capture_srcs, entry, s1) {
		changed = 0;
		TAILQ_FOREACH_SAFE(k, &s->sinks, entry, k1) {
			if (!k->dead)
				continue;
			TAILQ_REMOVE(&s->sinks, k, entry);
			pcap_freecode(&k->prog);
			filter_set_free(k->fset);
			free(k->expr);
			free(k);
			changed = 1;
			s->plan_stale = 1;	/* it named k */
		}
		due = s->refilter_due;
		s->refilter_due = 0;
		if (TAILQ_EMPTY(&s->sinks)) {
			if (capture_closing || s->failed ||
			    (capture_linger_s == 0 && !s->pinned))
				capsrc_close(s);
			else if (changed)
				capsrc_idle(s);
		} else if (due && !s->failed)
			capsrc_refilter(s);
	}
}

int
capture_preopen(const char *ifname, int keep, char **cause)
{
	struct capsrc		*s;
	enum capture_err	 err;

	if ((s = capsrc_find(NULL, ifname)) == NULL) {
		if (!keep)
			return (0);
		if ((s = capsrc_open(NULL, ifname, &err, cause)) == NULL)
			return (-1);
		log_info("capture: %s open from start (captures.preopen)",
		    ifname);
	}
	if (s->pinned == keep)
		return (0);
	s->pinned = keep;
	if (TAILQ_EMPTY(&s->sinks)) {
		if (!keep && capture_linger_s == 0)
			capsrc_close(s);
		else
			capsrc_idle(s);	/* takes nothing; lingers if let go */
	}
	return (0);
}

int
capture_permitted(int replaying, char **cause)
{
	int	fd;

	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC,
	    htons(ETH_P_ALL))) != -1) {
		close(fd);
		return (0);
	}
	if (errno != EPERM && errno != EACCES)
		return (0);	/* not a permission: each capture will say */
	if (replaying) {
		log_warn("capture: no capture sockets (%s); only replayed "
		    "interfaces can be captured", strerror(errno));
		return (0);
	}
	*cause = xasprintf("capture: cannot open a capture socket (%s): "
	    "alertcapd needs CAP_NET_RAW and CAP_NET_ADMIN; run it from its "
	    "systemd unit (AmbientCapabilities), as root, or after setcap "
	    "cap_net_raw,cap_net_admin=ep on the program", strerror(errno));
	return (-1);
}

void
capture_init(struct event_base *base, long long ring_bytes, int poll_ms,
    int linger_s)
{
	capture_base = base;
	capture_linger_s = linger_s;
	capture_ring_bytes = ring_bytes;
	capture_poll_ms = poll_ms;
	capture_reap_ev = event_new(base, -1, 0, capture_reap, NULL);
}

void
capture_add_replay(const char *ifname, const char *dir)
{
	struct capture_replay	*r;

	r = xcalloc(1, sizeof *r);
	r->ifname = xstrdup(ifname);
	r->dir = xstrdup(dir);
	LIST_INSERT_HEAD(&capture_replays, r, entry);
}

void
capture_shutdown(void)
{
	struct capture_replay	*r;
	struct capsrc		*s, *s1;
	struct capsink		*k;

	capture_closing = 1;
	LIST_FOREACH(s, &capture_srcs, entry) {
		TAILQ_FOREACH(k, &s->sinks, entry)
			k->dead = 1;
	}
	capture_reap(-1, 0, NULL);
	LIST_FOREACH_SAFE(s, &capture_srcs, entry, s1)
		capsrc_close(s);	/* lingering ones */
	if (capture_reap_ev != NULL)
		event_free(capture_reap_ev);
	capture_reap_ev = NULL;
	while ((r = LIST_FIRST(&capture_replays)) != NULL) {
		LIST_REMOVE(r, entry);
		free(r->ifname);
		free(r->dir);
		free(r);
	}
	capture_closing = 0;
}

struct capsink *
capture_attach(const struct nstarget *ns, const char *ifname,
    const char *expr, uint32_t snaplen, const struct capsink_cbs *cbs,
    void *arg, int *linktype, enum capture_err *err, char **cause)
{
	struct capsrc	*s;
	struct capsink	*k;
	int		 opened = 0;

	if ((s = capsrc_find(ns, ifname)) == NULL) {
		if ((s = capsrc_open(ns, ifname, err, cause)) == NULL)
			return (NULL);
		opened = 1;
	} else if (s->linger_ev != NULL)
		evtimer_del(s->linger_ev);	/* in use again */
	k = xcalloc(1, sizeof *k);
	if (pcap_compile(s->p, &k->prog, expr, 1, PCAP_NETMASK_UNKNOWN) ==
	    -1) {
		*err = CAPTURE_BAD_FILTER;
		*cause = xasprintf("filters: %s (on %s)", pcap_geterr(s->p),
		    ifname);
		free(k);
		if (opened)
			capsrc_close(s);
		return (NULL);
	}
	k->src = s;
	k->expr = xstrdup(expr);
	k->snaplen = snaplen;
	k->cbs = *cbs;
	k->arg = arg;
	k->since = now_us() * 1000;
	if (capsrc_stats(s, 1) == 0)
		k->base = s->stats;
	TAILQ_INSERT_TAIL(&s->sinks, k, entry);
	/*
	 * An expression a live sink has is in the kernel's filter already:
	 * the new sink follows that one, and nothing else changes. (An alert
	 * storm's captures share one; with thousands running, rebuilding the
	 * filter from every sink on each attach and detach was a fifth of
	 * the loop's time.)
	 */
	if ((k->leader = capsrc_leader_of(s, k)) != NULL) {
		k->filtered = k->leader->filtered;
		s->plan_stale = 1;
	} else
		capsrc_refilter(s);
	*linktype = s->linktype;
	*err = CAPTURE_OK;
	return (k);
}

int
capture_sink_match(struct capsink *k, int64_t ts_ns, uint32_t caplen,
    uint32_t len, const unsigned char *data)
{
	struct pcap_pkthdr	h;
	struct filter_pkt	fp;
	int			parsed = 0;

	if (*k->expr == '\0')
		return (1);
	h.ts.tv_sec = (time_t)(ts_ns / 1000000000);
	h.ts.tv_usec = (suseconds_t)(ts_ns % 1000000000);
	h.caplen = caplen;
	h.len = len;
	return (capsink_verdict(k, &h, data, &fp, &parsed));
}

void
capture_sink_classify(struct capsink *k, struct filter_set *fs)
{
	filter_set_free(k->fset);
	k->fset = fs;
	k->src->plan_stale = 1;
}

unsigned int
capture_ifindex(const struct capsink *k)
{
	return (k->src->ifindex);
}

void
capture_sink_take_all(struct capsink *k)
{
	k->since = INT64_MIN;
}

void
capture_detach(struct capsink *k)
{
	if (k->dead)
		return;
	capsrc_read(k->src, CAPTURE_DRAIN_ROUNDS);
	/* Safe in a packet callback: a new leader comes after k. */
	if (capsrc_unlead(k->src, k))
		k->src->refilter_due = 1;
	k->dead = 1;
	event_active(capture_reap_ev, 0, 0);
}

/*
 * The handle's counters, read at most every 500 ms unless fresh is asked
 * for: libpcap reads /proc/net/dev for them on Linux, which a tick over
 * hundreds of sessions would otherwise do hundreds of times.
 */
static int
capsrc_stats(struct capsrc *s, int fresh)
{
	int64_t	now;

	now = now_us();
	if (!fresh && s->stats_at != 0 && now - s->stats_at < 500000)
		return (0);
	if (s->ops->stats(s) == -1)
		return (-1);
	s->stats_at = now;
	return (0);
}

void
capture_get_stats(struct capsink *k, struct capture_stats *st, int fresh)
{
	memset(st, 0, sizeof *st);
	if (k->src->failed || capsrc_stats(k->src, fresh) == -1)
		return;
	st->received = (uint32_t)(k->src->stats.ps_recv - k->base.ps_recv);
	st->kernel_drops = (uint32_t)(k->src->stats.ps_drop - k->base.ps_drop);
	st->if_drops = (uint32_t)(k->src->stats.ps_ifdrop -
	    k->base.ps_ifdrop);
}

void
capture_poll(void)
{
	struct capsrc	*s;

	LIST_FOREACH(s, &capture_srcs, entry) {
		capsrc_read(s, CAPTURE_DRAIN_ROUNDS);
		/* Our socket keeps a deleted namespace alive: let it go. */
		if (s->in_ns && !s->failed && !netns_alive(&s->ns))
			capsrc_fail(s, "the network namespace is gone (its "
			    "name, process or container went away)");
	}
}

int
capture_sources(void)
{
	struct capsrc	*s;
	int		 n = 0;

	LIST_FOREACH(s, &capture_srcs, entry)
		n++;
	return (n);
}
