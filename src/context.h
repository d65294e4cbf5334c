/*
 * The host's context beside a capture: a snapshot of a network namespace
 * read over netlink (libmnl) — links with their counters, addresses,
 * routes, neighbours (rtnetlink), and TCP and UDP sockets (inet_diag),
 * the busiest first. Taken on the worker thread, which enters the
 * namespace for it: a dump of a busy host's sockets must not hold the loop.
 */
#ifndef CONTEXT_H
#define CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct nstarget;

/*
 * {at, links, addresses, routes, neighbours, tcp, udp} of ns (NULL: the
 * calling thread's namespace) taken at since (us) or later, at most
 * max_sockets of each protocol (the most bytes first). A new reference,
 * or NULL with *cause. Read-only: the last snapshot of the namespace is
 * given again while it began after since. One thread calls it.
 */
json_t	*context_snapshot(const struct nstarget *ns, size_t max_sockets,
	    int64_t since, char **cause);
/* Lets go of the snapshots kept for reuse (at shutdown). */
void	 context_forget(void);
/* How many of each a snapshot holds: {links, addresses, ...} (new). */
json_t	*context_summary(json_t *snapshot);
/*
 * A summary of a start snapshot (or, NULL, of why there is none: err) in
 * at most max bytes of text, for a capture file's comment; file names the
 * context file that holds it whole. New.
 */
char	*context_note(json_t *snapshot, const char *err, const char *file,
	    size_t max);

#endif
