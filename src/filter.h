/*
 * Network Watcher style capture filters, translated to tcpdump expressions.
 * A filter is {protocol, local_ip, local_port, remote_ip, remote_port};
 * fields of one filter AND, filters OR. "local" is the node's side of the
 * packet, whichever direction it travels.
 */
#ifndef FILTER_H
#define FILTER_H

#include <stdint.h>

#include <jansson.h>

/*
 * Translates the filters array (borrowed; may be NULL) into a new
 * expression ("" matches everything). field names the array in messages
 * ("filters"). On error returns NULL with *cause (new) naming the field,
 * e.g. "filters[1].remote_port: 70000 is not a port".
 */
char	*filter_translate(json_t *filters, const char *field, char **cause);

/*
 * Compiles expr for a link type to check it; on error sets *cause (new)
 * to libpcap's message prefixed with field.
 */
int	 filter_check(const char *expr, int linktype, const char *field,
	    char **cause);

/*
 * The same filters, kept to test packets with compares instead of a BPF
 * program per capture: each packet's addresses and ports are read once
 * (filter_parse_ether) for every capture on the interface.
 */
struct filter_set;

enum filter_pkt_kind {
	FILTER_PKT_UNSURE,	/* only libpcap's program can tell */
	FILTER_PKT_IP,		/* IPv4 or IPv6, read below */
	FILTER_PKT_OTHER,	/* no filter takes it (not IP, ARP or VLAN) */
};

struct filter_pkt {
	enum filter_pkt_kind	kind;
	int			family;		/* AF_INET, AF_INET6 */
	uint8_t			proto;		/* IPv4's, IPv6's first header */
	int			later_fragment;	/* IPv4: no ports in it */
	int			ports;		/* TCP or UDP ports read */
	uint64_t		src[2], dst[2];	/* big numbers; IPv4 in [1] */
	uint16_t		sport, dport;
	uint64_t		port_bits;	/* FILTER_PORT_BIT of each */
};

/* A port's bit of 64, for a quick "none of these" (filter.c). */
#define FILTER_PORT_BIT(port) \
	((uint64_t)1 << (((uint32_t)(port) * 0x9e3779b1U) >> 26))

/*
 * The filters array (valid: filter_translate took it) kept for
 * filter_match; NULL when they take everything (no filter to run).
 */
struct filter_set	*filter_compile(json_t *filters);
void			 filter_set_free(struct filter_set *);
/*
 * The FILTER_PORT_BIT of every port some filter takes: a packet with
 * ports none of whose bits are here is taken by none. All ones when a
 * filter takes any port.
 */
uint64_t		 filter_set_ports(const struct filter_set *);
/* The number of filters (rows) in the set. */
size_t			 filter_set_rows(const struct filter_set *);
/* Reads an Ethernet frame's addresses and ports into p. */
void			 filter_parse_ether(struct filter_pkt *p,
			    const unsigned char *frame, uint32_t caplen);
/*
 * Does the packet pass the filters, as the expression filter_translate
 * gives would decide it: 1, 0, or -1 when only that program can tell
 * (ARP, VLAN tags, SCTP, IPv6 fragments, frames cut short).
 */
int			 filter_match(const struct filter_set *,
			    const struct filter_pkt *);

/*
 * Many filter sets tested at once, for the captures on one interface:
 * each of a packet's fields is looked up once in the sorted bounds of
 * every set's items, which gives the rows that field lets through; the
 * fields' rows ANDed say which sets take the packet. Its cost grows with
 * the log of the bounds, not with the number of sets.
 */
struct filter_table;

#define FILTER_TABLE_MAX	64	/* sets in one table */

/* A table of sets[0..n) (n <= FILTER_TABLE_MAX; borrowed, not kept). */
struct filter_table	*filter_table_new(const struct filter_set *const *sets,
			    size_t n);
void			 filter_table_free(struct filter_table *);
/*
 * The sets (bit i: sets[i]) that take a packet filter_parse_ether found
 * to be IP (FILTER_PKT_IP), exactly as filter_match of each would say.
 * The table remembers the answers for the flows it saw last: one thread
 * at a time.
 */
uint64_t		 filter_table_match(struct filter_table *,
			    const struct filter_pkt *);

/* ANDs two expressions, either of which may be empty; returns new. */
char	*filter_and(const char *, const char *);

#endif
