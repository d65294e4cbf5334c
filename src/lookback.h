/*
 * Lookback rings: an always-on, bounded memory ring of recent packets per
 * configured interface (lookback.interfaces), with an optional disk tier
 * of what memory lets go, so that a capture may begin in the past. Each ring is a sink on its interface's source, sharing the
 * one kernel ring with the sessions. A cut reads a ring from an instant
 * up to a position fixed when the cut begins, in bounded batches.
 */
#ifndef LOOKBACK_H
#define LOOKBACK_H

#include <stdint.h>

#include <jansson.h>

struct conf;			/* conf.h */
struct lb_ring;			/* a ring, and a cut from it */
struct lb_cut;

/* Opens a ring on every configured interface; -1 with *cause. */
int	 lookback_init(const struct conf *, char **cause);
/* SIGHUP: adds, resizes (emptying) and removes rings; -1 with *cause. */
int	 lookback_reconf(const struct conf *, char **cause);
void	 lookback_shutdown(void);
/* The ring on ifname, or NULL. */
struct lb_ring *lookback_find(const char *ifname);

/*
 * One packet of a cut, as the ring holds it (cut to its snap length);
 * non-zero ends the cut there.
 */
typedef int (*lb_packet_fn)(void *arg, int64_t ts_ns, uint32_t caplen,
    uint32_t len, const unsigned char *data);

/*
 * Begins a cut of ring (NULL: an interface without one) from from_us up
 * to what the ring holds now; what is read later is not in it. The ring
 * keeps what the cut has not read yet. *covered_us is the time the cut
 * reaches back to: from, or later when the ring has let go of older
 * packets (or began later); now without a ring. *gap_us is how much of
 * the span asked for it cannot give, the time the daemon was down
 * included.
 */
struct lb_cut *lookback_cut_begin(struct lb_ring *, int64_t from_us,
	    int64_t *covered_us, int64_t *gap_us);
/*
 * Hands at most budget bytes of the cut's packets to fn, oldest first.
 * Returns 1 when the cut is done (or fn ended it), 0 when more remains.
 */
int	 lookback_cut_next(struct lb_cut *, size_t budget, lb_packet_fn,
	    void *arg);
void	 lookback_cut_free(struct lb_cut *);

/* GET /v1/interfaces: the node's interfaces and their rings (new). */
json_t	*lookback_interfaces(void);

#endif
