/*
 * The capture engine: one libpcap handle and kernel ring per interface,
 * feeding any number of sinks (capture sessions). The kernel filter is the
 * union of the sinks' filters; each sink's own filter and snap length are
 * applied in user space.
 */
#ifndef CAPTURE_PCAP_H
#define CAPTURE_PCAP_H

#include <stdint.h>

struct event_base;
struct capsink;

/*
 * The ring's block timeout: a packet reaches its session within about this
 * long, and a stopping session may miss at most this much of the tail.
 */
#define CAPTURE_POLL_MS	10

struct capsink_cbs {
	/* A packet that passed the sink's filter, cut to its snap length. */
	void	(*packet)(void *arg, int64_t ts_ns, uint32_t caplen,
		    uint32_t len, const unsigned char *data);
	/* The interface failed; the sink gets no more packets. */
	void	(*error)(void *arg, const char *message);
};

enum capture_err {
	CAPTURE_OK,
	CAPTURE_NO_DEVICE,	/* no such interface */
	CAPTURE_BAD_FILTER,	/* the expression does not compile here */
	CAPTURE_FAILED,		/* anything else (permissions, ...) */
};

struct capture_stats {
	uint64_t	received;	/* since the sink attached */
	uint64_t	kernel_drops;
	uint64_t	if_drops;
};

/*
 * linger_s: how long an interface's handle and ring stay open (taking no
 * packets) after its last session, for the next one.
 */
void	capture_init(struct event_base *, long long ring_bytes, int poll_ms,
	    int linger_s);
void	capture_shutdown(void);
/*
 * Replays ifname instead of capturing it: each pcap file (Ethernet, name
 * ending .pcap, not starting with a dot) closed or moved into dir while
 * the interface is open is delivered as its packets, stamped as arriving
 * then, and removed (captures.replay).
 */
void	capture_add_replay(const char *ifname, const char *dir);
/*
 * May this process open capture sockets (CAP_NET_RAW)? 0, or -1 with
 * *cause saying how to grant it. replaying: interfaces are replayed
 * (captures.replay), so a refusal is only a warning.
 */
int	capture_permitted(int replaying, char **cause);

/*
 * keep: opens ifname (the daemon's namespace) now and keeps it open,
 * taking no packets until a sink attaches, so that its first capture does
 * not wait for a kernel ring (captures.preopen). !keep: lets it go, to
 * linger and close as after its last session. -1 with *cause (new).
 */
int	capture_preopen(const char *ifname, int keep, char **cause);

struct nstarget;

/*
 * Attaches a sink to ifname, in network namespace ns (NULL: the daemon's
 * own; netns.h), with a tcpdump expression ("" = all) and a snap length
 * (0 = whole packet). One source (and kernel ring) serves every sink on
 * the same interface of the same namespace. Sets *linktype. Returns the
 * sink (owned by the engine until capture_detach), or NULL with *err and
 * *cause (new).
 */
struct capsink	*capture_attach(const struct nstarget *ns, const char *ifname,
		    const char *expr, uint32_t snaplen,
		    const struct capsink_cbs *, void *arg, int *linktype,
		    enum capture_err *err, char **cause);
/*
 * Detaches a sink, first delivering what the ring already holds. Safe
 * inside the sink's own callbacks: the sink is freed later, and no
 * callback reaches arg after this returns.
 */
void		 capture_detach(struct capsink *);
/*
 * Does a packet from elsewhere (a lookback ring) pass the sink's own
 * filter, as the engine's packets do?
 */
int		 capture_sink_match(struct capsink *, int64_t ts_ns,
		    uint32_t caplen, uint32_t len, const unsigned char *data);
/*
 * The sink's expression came from structured filters alone: fs (owned
 * from here; filter.h) decides each packet it can by compares, read once
 * for every sink, and the sink's program only the rest.
 */
struct filter_set;
void		 capture_sink_classify(struct capsink *, struct filter_set *fs);
/*
 * The sink takes every packet the source reads from now on, even those
 * stamped before it attached: a lookback capture, whose ring holds
 * everything read before.
 */
void		 capture_sink_take_all(struct capsink *);
/* Drops since the sink attached; fresh forces a new reading. */
void		 capture_get_stats(struct capsink *, struct capture_stats *,
		    int fresh);
/* Reads every source's ring now (bounded); the housekeeping tick calls it. */
void		 capture_poll(void);
/* The sink's interface index in its namespace; 0 for any or a replay. */
unsigned int	 capture_ifindex(const struct capsink *);
/* Number of open interface handles (for metrics and tests). */
int		 capture_sources(void);

#endif
