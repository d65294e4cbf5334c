/* Filter translation: lists, ranges and CIDR blocks into BPF primitives. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "filter.h"
#include "util.h"
#include "xmalloc.h"

#define FILTER_MAX_EXPR	(256 * 1024)
#define FILTER_MAX_ITEMS 256

static const char *filter_keys[] = { "protocol", "local_ip", "local_port",
    "remote_ip", "remote_port", NULL };

/* An address as 16 bytes (IPv4 in the last four) and its family. */
struct addr {
	int		family;
	unsigned char	b[16];
};

/*
 * The same filters kept for matching packets: each item of a field as an
 * inclusive range (a host, a block, a range of addresses; a port or a
 * range of ports). A field with no items takes anything.
 */
struct filter_item {
	int		family;		/* 0: a port item */
	uint64_t	lo[2], hi[2];	/* the address, as two big numbers */
	uint16_t	plo, phi;
};
struct filter_field {
	struct filter_item	*v;
	size_t			 n;
};
enum { F_LOCAL_IP, F_LOCAL_PORT, F_REMOTE_IP, F_REMOTE_PORT, F_NFIELDS };
struct filter_row {
	int			proto;	/* 0 (any), IPPROTO_TCP, IPPROTO_UDP */
	int			ports;	/* it has a port field */
	struct filter_field	f[F_NFIELDS];
};
struct filter_set {
	struct filter_row	*rows;
	size_t			 n;
	/*
	 * The ports some row takes, each as one bit of 64 (FILTER_PORT_BIT):
	 * a packet none of whose ports has its bit here is taken by no row.
	 * All ones when a row has no port field, or a wide range.
	 */
	uint64_t		 ports;
};

/* Ranges wider than this set every bit of filter_set.ports. */
#define FILTER_PORT_SPAN	64

/* Reads 8 bytes as a big-endian number. */
static uint64_t
be64(const unsigned char *b)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return (v);
}

/* Keeps lo..hi in field (NULL: nothing kept). */
static void
keep_item(struct filter_field *field, const struct addr *lo,
    const struct addr *hi, long long plo, long long phi)
{
	struct filter_item	*it;

	if (field == NULL)
		return;
	field->v = xrealloc(field->v, (field->n + 1) * sizeof *field->v);
	it = &field->v[field->n++];
	memset(it, 0, sizeof *it);
	if (lo != NULL) {
		it->family = lo->family;
		it->lo[0] = be64(lo->b);
		it->lo[1] = be64(lo->b + 8);
		it->hi[0] = be64(hi->b);
		it->hi[1] = be64(hi->b + 8);
	}
	it->plo = (uint16_t)plo;
	it->phi = (uint16_t)phi;
}

static int
addr_parse(const char *s, struct addr *a)
{
	memset(a, 0, sizeof *a);
	if (inet_pton(AF_INET, s, a->b + 12) == 1) {
		a->family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		return (0);
	}
	return (-1);
}

static void
addr_print(const struct addr *a, char *buf, size_t size)
{
	inet_ntop(a->family, a->family == AF_INET ? a->b + 12 : a->b, buf,
	    (socklen_t)size);
}

static int
addr_cmp(const struct addr *a, const struct addr *b)
{
	return (memcmp(a->b, b->b, 16));
}

/* Is bit n (0 = most significant of 128) set? */
static int
addr_bit(const struct addr *a, int n)
{
	return ((a->b[n / 8] >> (7 - n % 8)) & 1);
}

/* Sets (v=1) or clears the bits from n to the end. */
static void
addr_fill(struct addr *a, int n, int v)
{
	for (; n < 128; n++) {
		if (v)
			a->b[n / 8] |= (unsigned char)(1 << (7 - n % 8));
		else
			a->b[n / 8] &= (unsigned char)~(1 << (7 - n % 8));
	}
}

/* a += 1 over 128 bits; returns 1 on wrap. */
static int
addr_inc(struct addr *a)
{
	int	i;

	for (i = 15; i >= 0; i--) {
		if (++a->b[i] != 0)
			return (0);
	}
	return (1);
}

/*
 * Appends the fewest CIDR blocks covering lo..hi as "net" primitives with
 * the direction dir. Returns the number of blocks, or -1 past the cap.
 */
static int
range_to_cidrs(struct dynbuf *out, const char *dir, struct addr lo,
    const struct addr *hi, int *items)
{
	struct addr	end;
	char		buf[INET6_ADDRSTRLEN];
	int		base = lo.family == AF_INET ? 96 : 0, len;

	for (;;) {
		/* The largest block that starts at lo and ends <= hi. */
		for (len = base; len < 128; len++) {
			int	aligned = 1, n;

			for (n = len; n < 128; n++) {
				if (addr_bit(&lo, n)) {
					aligned = 0;
					break;
				}
			}
			end = lo;
			addr_fill(&end, len, 1);
			if (aligned && addr_cmp(&end, hi) <= 0)
				break;
		}
		end = lo;
		addr_fill(&end, len, 1);
		if (++*items > FILTER_MAX_ITEMS)
			return (-1);
		addr_print(&lo, buf, sizeof buf);
		dynbuf_addf(out, "%s%s net %s/%d", out->len > 1 ? " or " : "",
		    dir, buf, len - base);
		if (addr_cmp(&end, hi) >= 0 || addr_inc(&end))
			return (0);
		lo = end;
	}
}

/* Trims spaces in place; returns the start. */
static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return (s);
}

/*
 * One IP item: address, CIDR or range. Appends a primitive to out, and
 * keeps the range in keep (if not NULL).
 */
static int
ip_item(struct dynbuf *out, const char *dir, char *item, int *items,
    struct filter_field *keep, char **why)
{
	struct addr	 a, b;
	char		*sep, buf[INET6_ADDRSTRLEN];
	long long	 bits;
	char		*cause;

	if ((sep = strchr(item, '/')) != NULL) {
		*sep++ = '\0';
		if (addr_parse(trim(item), &a) == -1)
			goto bad;
		if (parse_ll(trim(sep), 0, a.family == AF_INET ? 32 : 128,
		    &bits, &cause) == -1) {
			*why = xasprintf("bad prefix length in '%s/%s': %s",
			    item, sep, cause);
			free(cause);
			return (-1);
		}
		/* Normalise host bits away so libpcap accepts it. */
		addr_fill(&a, (a.family == AF_INET ? 96 : 0) + (int)bits, 0);
		b = a;
		addr_fill(&b, (a.family == AF_INET ? 96 : 0) + (int)bits, 1);
		keep_item(keep, &a, &b, 0, 0);
		addr_print(&a, buf, sizeof buf);
		(*items)++;
		return (dynbuf_addf(out, "%s%s net %s/%lld", out->len > 1 ?
		    " or " : "", dir, buf, bits));
	}
	if ((sep = strchr(item, '-')) != NULL) {
		*sep++ = '\0';
		if (addr_parse(trim(item), &a) == -1 ||
		    addr_parse(trim(sep), &b) == -1 || a.family != b.family) {
			*why = xasprintf("'%s-%s' is not a range of two "
			    "addresses of one family", trim(item), trim(sep));
			return (-1);
		}
		if (addr_cmp(&a, &b) > 0) {
			*why = xasprintf("range '%s-%s' ends before it starts",
			    trim(item), trim(sep));
			return (-1);
		}
		keep_item(keep, &a, &b, 0, 0);
		if (range_to_cidrs(out, dir, a, &b, items) == -1) {
			*why = xasprintf("too many address blocks (more than "
			    "%d)", FILTER_MAX_ITEMS);
			return (-1);
		}
		return (0);
	}
	if (addr_parse(trim(item), &a) == -1)
		goto bad;
	keep_item(keep, &a, &a, 0, 0);
	addr_print(&a, buf, sizeof buf);
	(*items)++;
	return (dynbuf_addf(out, "%s%s host %s", out->len > 1 ? " or " : "",
	    dir, buf));
bad:
	*why = xasprintf("'%s' is not an IPv4 or IPv6 address, CIDR block or "
	    "range", item);
	return (-1);
}

/* One port item: N or N-M, as ip_item. */
static int
port_item(struct dynbuf *out, const char *dir, char *item, int *items,
    struct filter_field *keep, char **why)
{
	long long	 lo, hi;
	char		*sep, *cause;

	if ((sep = strchr(item, '-')) != NULL)
		*sep++ = '\0';
	if (parse_ll(trim(item), 0, 65535, &lo, &cause) == -1 ||
	    (sep != NULL && parse_ll(trim(sep), 0, 65535, &hi, &cause) == -1)) {
		*why = xasprintf("not a port or port range: %s", cause);
		free(cause);
		return (-1);
	}
	(*items)++;
	if (sep == NULL)
		hi = lo;
	if (lo > hi) {
		*why = xasprintf("port range %lld-%lld ends before it starts",
		    lo, hi);
		return (-1);
	}
	keep_item(keep, NULL, NULL, lo, hi);
	if (lo == hi)
		return (dynbuf_addf(out, "%s%s port %lld", out->len > 1 ?
		    " or " : "", dir, lo));
	return (dynbuf_addf(out, "%s%s portrange %lld-%lld", out->len > 1 ?
	    " or " : "", dir, lo, hi));
}

/*
 * Translates one field value (a string, or a number for ports) into a
 * parenthesised disjunction of primitives with direction dir, keeping
 * its items in keep (if not NULL).
 */
static char *
field_expr(json_t *v, const char *dir, int is_port, struct filter_field *keep,
    char **why)
{
	struct dynbuf	 out;
	char		*copy, *item, *next;
	int		 items = 0;

	if (json_is_integer(v) && is_port)
		copy = xasprintf("%lld", (long long)json_integer_value(v));
	else if (json_is_string(v))
		copy = xstrdup(json_string_value(v));
	else {
		*why = xstrdup(is_port ? "must be a string or a number" :
		    "must be a string");
		return (NULL);
	}
	dynbuf_init(&out, FILTER_MAX_EXPR);
	dynbuf_add(&out, "(", 1);
	for (item = copy; item != NULL; item = next) {
		next = item + strcspn(item, ";,");
		next = *next == '\0' ? NULL : (*next = '\0', next + 1);
		if (*trim(item) == '\0') {
			*why = xstrdup("empty item in list");
			goto fail;
		}
		if ((is_port ? port_item : ip_item)(&out, dir, trim(item),
		    &items, keep, why) == -1)
			goto fail;
		if (items > FILTER_MAX_ITEMS) {
			*why = xasprintf("more than %d items",
			    FILTER_MAX_ITEMS);
			goto fail;
		}
	}
	dynbuf_add(&out, ")", 1);
	free(copy);
	return (dynbuf_take(&out));
fail:
	free(copy);
	dynbuf_free(&out);
	return (NULL);
}

/*
 * The translation of one filter object ("" means all traffic), kept in
 * row too when it is not NULL.
 */
static char *
filter_one(json_t *f, const char *path, struct filter_row *row, char **cause)
{
	static const char *fields[] = { "local_ip", "local_port", "remote_ip",
	    "remote_port" };
	static const char *dir_a[] = { "src", "src", "dst", "dst" };
	static const char *dir_b[] = { "dst", "dst", "src", "src" };
	struct dynbuf	 a, b, out;
	const char	*key, *proto = "";
	json_t		*v;
	char		*ea, *eb, *why = NULL;
	int		 i, k, any = 0;

	if (!json_is_object(f)) {
		*cause = xasprintf("%s: must be an object", path);
		return (NULL);
	}
	json_object_foreach(f, key, v) {
		for (k = 0; filter_keys[k] != NULL; k++)
			if (strcmp(key, filter_keys[k]) == 0)
				break;
		if (filter_keys[k] == NULL) {
			*cause = xasprintf("%s.%s: unknown key", path, key);
			return (NULL);
		}
	}
	if ((v = json_object_get(f, "protocol")) != NULL && !json_is_null(v)) {
		const char *p = json_string_value(v);

		if (p != NULL && strcasecmp(p, "TCP") == 0)
			proto = "tcp";
		else if (p != NULL && strcasecmp(p, "UDP") == 0)
			proto = "udp";
		else if (p == NULL || strcasecmp(p, "Any") != 0) {
			*cause = xasprintf("%s.protocol: must be TCP, UDP or "
			    "Any", path);
			return (NULL);
		}
	}
	if (row != NULL)
		row->proto = *proto == 't' ? IPPROTO_TCP : *proto == 'u' ?
		    IPPROTO_UDP : 0;
	dynbuf_init(&a, FILTER_MAX_EXPR);
	dynbuf_init(&b, FILTER_MAX_EXPR);
	for (i = 0; i < 4; i++) {
		v = json_object_get(f, fields[i]);
		if (v == NULL || json_is_null(v) ||
		    (json_is_string(v) && *json_string_value(v) == '\0'))
			continue;
		ea = field_expr(v, dir_a[i], i % 2, row != NULL ? &row->f[i] :
		    NULL, &why);
		eb = ea == NULL ? NULL : field_expr(v, dir_b[i], i % 2, NULL,
		    &why);
		if (eb == NULL) {
			*cause = xasprintf("%s.%s: %s", path, fields[i], why);
			free(why);
			free(ea);
			dynbuf_free(&a);
			dynbuf_free(&b);
			return (NULL);
		}
		dynbuf_addf(&a, "%s%s", any ? " and " : "", ea);
		dynbuf_addf(&b, "%s%s", any ? " and " : "", eb);
		any = 1;
		free(ea);
		free(eb);
	}
	dynbuf_init(&out, FILTER_MAX_EXPR);
	if (any)
		dynbuf_addf(&out, "%s%s((%s) or (%s))", proto,
		    *proto != '\0' ? " and " : "", a.buf, b.buf);
	else
		dynbuf_addf(&out, "%s", proto);
	dynbuf_free(&a);
	dynbuf_free(&b);
	return (dynbuf_take(&out));
}

/* Fills in fs->ports and each row's ports. */
static void
filter_set_port_bits(struct filter_set *fs)
{
	const struct filter_item	*it;
	struct filter_row		*r;
	size_t				 i, k, j;
	unsigned int			 port;

	fs->ports = 0;
	for (i = 0; i < fs->n; i++) {
		r = &fs->rows[i];
		r->ports = r->f[F_LOCAL_PORT].n > 0 ||
		    r->f[F_REMOTE_PORT].n > 0;
		if (!r->ports)
			fs->ports = ~(uint64_t)0;
		for (k = F_LOCAL_PORT; k < F_NFIELDS; k += 2)
			for (j = 0; j < r->f[k].n; j++) {
				it = &r->f[k].v[j];
				if (it->phi - it->plo >= FILTER_PORT_SPAN)
					fs->ports = ~(uint64_t)0;
				else
					for (port = it->plo; port <= it->phi;
					    port++)
						fs->ports |= FILTER_PORT_BIT(
						    port);
			}
	}
}

/*
 * The expression of filters, and (set not NULL) the filters kept for
 * matching: *set is NULL when they take everything.
 */
static char *
filter_build(json_t *filters, const char *field, struct filter_set **set,
    char **cause)
{
	struct filter_set	*fs = NULL;
	struct dynbuf		 out;
	json_t			*f;
	size_t			 i;
	char			*e, *path;
	int			 all = 0;

	if (set != NULL)
		*set = NULL;
	if (filters == NULL || json_is_null(filters))
		return (xstrdup(""));
	if (!json_is_array(filters)) {
		*cause = xasprintf("%s: must be an array of filters", field);
		return (NULL);
	}
	if (set != NULL) {
		fs = xcalloc(1, sizeof *fs);
		fs->rows = xcalloc(json_array_size(filters) + 1,
		    sizeof *fs->rows);
	}
	dynbuf_init(&out, FILTER_MAX_EXPR);
	json_array_foreach(filters, i, f) {
		path = xasprintf("%s[%zu]", field, i);
		e = filter_one(f, path, fs != NULL ? &fs->rows[i] : NULL,
		    cause);
		free(path);
		if (fs != NULL)
			fs->n = i + 1;
		if (e == NULL) {
			dynbuf_free(&out);
			filter_set_free(fs);
			return (NULL);
		}
		if (*e == '\0')
			all = 1;
		if (json_array_size(filters) == 1)
			dynbuf_addf(&out, "%s", e);
		else
			dynbuf_addf(&out, "%s(%s)", i > 0 ? " or " : "", e);
		free(e);
	}
	if (all || json_array_size(filters) == 0) {
		filter_set_free(fs);
		fs = NULL;
	}
	if (fs != NULL)
		filter_set_port_bits(fs);
	if (set != NULL)
		*set = fs;
	if (all) {
		dynbuf_free(&out);
		return (xstrdup(""));
	}
	return (dynbuf_take(&out));
}

char *
filter_translate(json_t *filters, const char *field, char **cause)
{
	return (filter_build(filters, field, NULL, cause));
}

struct filter_set *
filter_compile(json_t *filters)
{
	struct filter_set	*fs;
	char			*e, *cause = NULL;

	if ((e = filter_build(filters, "filters", &fs, &cause)) == NULL) {
		free(cause);	/* checked when the capture was asked for */
		return (NULL);
	}
	free(e);
	return (fs);
}

void
filter_set_free(struct filter_set *fs)
{
	size_t	i, k;

	if (fs == NULL)
		return;
	for (i = 0; i < fs->n; i++)
		for (k = 0; k < F_NFIELDS; k++)
			free(fs->rows[i].f[k].v);
	free(fs->rows);
	free(fs);
}

size_t
filter_set_rows(const struct filter_set *fs)
{
	return (fs->n);
}

uint64_t
filter_set_ports(const struct filter_set *fs)
{
	return (fs->ports);
}

/* Is the packet's address in one of field's items? */
static int
match_addr(const struct filter_field *field, int family, const uint64_t *a)
{
	const struct filter_item	*it;
	size_t				 i;

	for (i = 0; i < field->n; i++) {
		it = &field->v[i];
		if (it->family == family &&
		    (a[0] > it->lo[0] || (a[0] == it->lo[0] &&
		    a[1] >= it->lo[1])) &&
		    (a[0] < it->hi[0] || (a[0] == it->hi[0] &&
		    a[1] <= it->hi[1])))
			return (1);
	}
	return (0);
}

static int
match_port(const struct filter_field *field, uint16_t port)
{
	size_t	i;

	for (i = 0; i < field->n; i++)
		if (port >= field->v[i].plo && port <= field->v[i].phi)
			return (1);
	return (0);
}

/*
 * One direction of a row: local_ip and local_port on the side given
 * (lsrc: the source), remote_ip and remote_port on the other. Ports
 * first: they are the cheaper compares and the likelier to differ.
 */
static inline int
match_side(const struct filter_row *r, const struct filter_pkt *p, int lsrc)
{
	return ((r->f[F_LOCAL_PORT].n == 0 ||
	    match_port(&r->f[F_LOCAL_PORT], lsrc ? p->sport : p->dport)) &&
	    (r->f[F_REMOTE_PORT].n == 0 ||
	    match_port(&r->f[F_REMOTE_PORT], lsrc ? p->dport : p->sport)) &&
	    (r->f[F_LOCAL_IP].n == 0 || match_addr(&r->f[F_LOCAL_IP],
	    p->family, lsrc ? p->src : p->dst)) &&
	    (r->f[F_REMOTE_IP].n == 0 || match_addr(&r->f[F_REMOTE_IP],
	    p->family, lsrc ? p->dst : p->src)));
}

int
filter_match(const struct filter_set *fs, const struct filter_pkt *p)
{
	const struct filter_row	*r;
	size_t			 i;

	if (p->kind != FILTER_PKT_IP)
		/* Every filter names an IP protocol, address or port. */
		return (p->kind == FILTER_PKT_OTHER ? 0 : -1);
	/* A port field needs ports (a TCP or UDP header, not a fragment). */
	if ((fs->ports & p->port_bits) == 0 && fs->ports != ~(uint64_t)0)
		return (0);
	for (i = 0; i < fs->n; i++) {
		r = &fs->rows[i];
		if ((r->proto != 0 && r->proto != p->proto) ||
		    (r->ports && !p->ports))
			continue;
		if (match_side(r, p, 1) || match_side(r, p, 0))
			return (1);
	}
	return (0);
}

/*
 * One field of a table's rows: the intervals the bounds of the field's
 * items cut its values into (interval i runs from cut[i] up to cut[i + 1]),
 * each with the rows (nw words) that take every value in it. A row whose
 * field is empty is in every interval. Ports are keys (0, port).
 */
struct filter_axis {
	uint64_t	(*cut)[2];	/* sorted; cut[0] is 0 */
	uint64_t	 *cut1;		/* ports', IPv4's: cut[i][1], padded */
	unsigned char	 *byport;	/* ports': each port's interval */
	uint64_t	 *rows;
	size_t		  n;
};

#define AXIS_BLOCK	16	/* cuts of a narrow axis compared at once */

enum { A_LOCAL_PORT, A_REMOTE_PORT, A_LOCAL_IP4, A_REMOTE_IP4, A_LOCAL_IP6,
    A_REMOTE_IP6, A_NAXES };

/*
 * The answers for the flows seen last: packets come in flows, and a flow's
 * next packet is answered by one compare of what the table reads of it
 * (as Open vSwitch's microflow cache answers before its classifier).
 */
#define FLOW_MEMO	256	/* entries, direct-mapped */
struct flow_memo {
	uint64_t	src[2], dst[2];
	uint32_t	ports;		/* sport << 16 | dport */
	uint16_t	kind;		/* proto << 8 | family << 1 | ports */
	uint16_t	valid;
	uint64_t	sets;
};

struct filter_table {
	size_t			 nw;		/* words of a set of rows */
	uint64_t		*proto;		/* 256 * nw: rows taking each */
	uint64_t		*needports;	/* nw: rows with a port field */
	unsigned char		*owner;		/* each row's set */
	struct filter_axis	 axis[A_NAXES];
	struct flow_memo	 memo[FLOW_MEMO];
};

static int
key_cmp(const uint64_t *a, const uint64_t *b)
{
	if (a[0] != b[0])
		return (a[0] < b[0] ? -1 : 1);
	if (a[1] != b[1])
		return (a[1] < b[1] ? -1 : 1);
	return (0);
}

static int
key_qsort_cmp(const void *a, const void *b)
{
	return (key_cmp(a, b));
}

/*
 * The interval of the axis that holds key, by halves of its cuts, with no
 * branch to mispredict: a step moves the base or not, by a multiply.
 */
static inline size_t
axis_find(const struct filter_axis *x, const uint64_t *key)
{
	const uint64_t	(*b)[2] = x->cut;
	size_t		 n = x->n, half, le;

	for (; n > 1; n -= half) {
		half = n / 2;
		le = (size_t)((b[half][0] < key[0]) |
		    ((b[half][0] == key[0]) & (b[half][1] <= key[1])));
		b += half * le;
	}
	return ((size_t)(b - x->cut));
}

/*
 * An item's bounds as keys of an axis of family (0: ports): 0 if the item
 * belongs to another family's axis.
 */
static int
item_keys(const struct filter_item *it, int family, uint64_t *lo,
    uint64_t *hi)
{
	if (it->family != family)
		return (0);
	if (family == 0) {
		lo[0] = hi[0] = 0;
		lo[1] = it->plo;
		hi[1] = it->phi;
	} else {
		memcpy(lo, it->lo, sizeof it->lo);
		memcpy(hi, it->hi, sizeof it->hi);
	}
	return (1);
}

/* Builds the axis of one field, for the items of family, over rows. */
static void
axis_build(struct filter_axis *x, const struct filter_row *const *rows,
    size_t nrows, size_t nw, int field, int family)
{
	const struct filter_field	*fd;
	uint64_t			 lo[2], hi[2];
	size_t				 r, j, i, a, b, max = 1, n = 1;

	for (r = 0; r < nrows; r++)
		max += 2 * rows[r]->f[field].n;
	x->cut = xcalloc(max, sizeof *x->cut);
	for (r = 0; r < nrows; r++) {
		fd = &rows[r]->f[field];
		for (j = 0; j < fd->n; j++) {
			if (!item_keys(&fd->v[j], family, lo, hi))
				continue;
			memcpy(x->cut[n++], lo, sizeof lo);
			/* The value after hi starts the next interval. */
			if (++hi[1] == 0)
				hi[0]++;
			if (hi[0] != 0 || hi[1] != 0)
				memcpy(x->cut[n++], hi, sizeof hi);
		}
	}
	qsort(x->cut, n, sizeof *x->cut, key_qsort_cmp);
	for (i = 1, j = 1; i < n; i++)
		if (key_cmp(x->cut[i], x->cut[j - 1]) != 0)
			memcpy(x->cut[j++], x->cut[i], sizeof *x->cut);
	x->n = j;
	x->rows = xcalloc(x->n * nw, sizeof *x->rows);
	for (r = 0; r < nrows; r++) {
		fd = &rows[r]->f[field];
		if (fd->n == 0) {
			for (i = 0; i < x->n; i++)
				x->rows[i * nw + r / 64] |= (uint64_t)1 <<
				    (r % 64);
			continue;
		}
		for (j = 0; j < fd->n; j++) {
			if (!item_keys(&fd->v[j], family, lo, hi))
				continue;
			a = axis_find(x, lo);
			b = axis_find(x, hi);
			for (i = a; i <= b; i++)
				x->rows[i * nw + r / 64] |= (uint64_t)1 <<
				    (r % 64);
		}
	}
	if (family == AF_INET6)
		return;
	/*
	 * Ports and IPv4 addresses fit one word, and compare faster so, with
	 * AXIS_BLOCK more cuts past the last that no key reaches.
	 */
	x->cut1 = xcalloc(x->n + AXIS_BLOCK, sizeof *x->cut1);
	for (i = 0; i < x->n + AXIS_BLOCK; i++)
		x->cut1[i] = i < x->n ? x->cut[i][1] : UINT64_MAX;
	/* A port's interval is one load away (64 KiB, few lines hot). */
	if (family != 0 || x->n == 1 || x->n > 256)
		return;
	x->byport = xcalloc(65536, 1);
	for (i = 0, j = 0; i < 65536; i++) {
		while (j + 1 < x->n && x->cut1[j + 1] <= i)
			j++;
		x->byport[i] = (unsigned char)j;
	}
}

struct filter_table *
filter_table_new(const struct filter_set *const *sets, size_t n)
{
	static const struct { int field, family; } axes[A_NAXES] = {
		{ F_LOCAL_PORT, 0 }, { F_REMOTE_PORT, 0 },
		{ F_LOCAL_IP, AF_INET }, { F_REMOTE_IP, AF_INET },
		{ F_LOCAL_IP, AF_INET6 }, { F_REMOTE_IP, AF_INET6 },
	};
	struct filter_table	 *t;
	const struct filter_row	**rows;
	size_t			  nrows = 0, i, j, r, w;
	int			  pr;

	for (i = 0; i < n; i++)
		nrows += sets[i]->n;
	rows = xcalloc(nrows + 1, sizeof *rows);
	t = xcalloc(1, sizeof *t);
	t->owner = xcalloc(nrows + 1, 1);
	for (i = 0, r = 0; i < n; i++)
		for (j = 0; j < sets[i]->n; j++) {
			t->owner[r] = (unsigned char)i;
			rows[r++] = &sets[i]->rows[j];
		}
	t->nw = nrows / 64 + (nrows % 64 != 0) + (nrows == 0);
	t->proto = xcalloc(256 * t->nw, sizeof *t->proto);
	t->needports = xcalloc(t->nw, sizeof *t->needports);
	for (r = 0; r < nrows; r++) {
		w = r / 64;
		for (pr = 0; pr < 256; pr++)
			if (rows[r]->proto == 0 || rows[r]->proto == pr)
				t->proto[pr * t->nw + w] |= (uint64_t)1 <<
				    (r % 64);
		if (rows[r]->ports)
			t->needports[w] |= (uint64_t)1 << (r % 64);
	}
	for (i = 0; i < A_NAXES; i++)
		axis_build(&t->axis[i], rows, nrows, t->nw, axes[i].field,
		    axes[i].family);
	free(rows);
	return (t);
}

void
filter_table_free(struct filter_table *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < A_NAXES; i++) {
		free(t->axis[i].cut);
		free(t->axis[i].cut1);
		free(t->axis[i].byport);
		free(t->axis[i].rows);
	}
	free(t->proto);
	free(t->needports);
	free(t->owner);
	free(t);
}

/*
 * The rows the interval holding key lets through. A narrow axis is read
 * in blocks: whole blocks passed while their end is below the key, then
 * the cuts of the last one counted, compares that do not wait on one
 * another (a binary search's steps each wait for the last one's load).
 * A wide one is searched by halves (axis_find).
 */
static inline const uint64_t *
axis_rows(const struct filter_axis *x, const uint64_t *key, size_t nw)
{
	size_t	n = x->n, i, j, c, lim;

	if (n == 1)
		return (x->rows);
	if (x->byport != NULL)
		return (x->rows + x->byport[key[1] & 0xffff] * nw);
	if (x->cut1 != NULL) {
		for (i = 0; i + AXIS_BLOCK < n &&
		    x->cut1[i + AXIS_BLOCK] <= key[1]; i += AXIS_BLOCK)
			;
		lim = n - i < AXIS_BLOCK ? n - i : AXIS_BLOCK;
		for (j = 1, c = 0; j < lim; j++)
			c += x->cut1[i + j] <= key[1];
		return (x->rows + (i + c) * nw);
	}
	return (x->rows + axis_find(x, key) * nw);
}

/* The sets that take the packet, from the table's rows. */
static uint64_t
table_match(const struct filter_table *t, const struct filter_pkt *p)
{
	const struct filter_axis	*li, *ri;
	const uint64_t			*pr, *lps, *lpd, *rps, *rpd;
	const uint64_t			*lis, *lid, *ris, *rid;
	uint64_t			 sp[2] = { 0, p->sport };
	uint64_t			 dp[2] = { 0, p->dport };
	uint64_t			 w, sets = 0;
	size_t				 i, nw = t->nw;
	int				 six = p->family == AF_INET6;

	li = &t->axis[six ? A_LOCAL_IP6 : A_LOCAL_IP4];
	ri = &t->axis[six ? A_REMOTE_IP6 : A_REMOTE_IP4];
	pr = t->proto + p->proto * nw;
	lps = axis_rows(&t->axis[A_LOCAL_PORT], sp, nw);
	lpd = axis_rows(&t->axis[A_LOCAL_PORT], dp, nw);
	rps = axis_rows(&t->axis[A_REMOTE_PORT], sp, nw);
	rpd = axis_rows(&t->axis[A_REMOTE_PORT], dp, nw);
	lis = axis_rows(li, p->src, nw);
	lid = axis_rows(li, p->dst, nw);
	ris = axis_rows(ri, p->src, nw);
	rid = axis_rows(ri, p->dst, nw);
	for (i = 0; i < nw; i++) {
		/* Either direction: the source local, or the destination. */
		w = pr[i] & ((lps[i] & rpd[i] & lis[i] & rid[i]) |
		    (lpd[i] & rps[i] & lid[i] & ris[i]));
		/* Without ports (not TCP or UDP, a fragment) no port matches. */
		if (!p->ports)
			w &= ~t->needports[i];
		for (; w != 0; w &= w - 1)
			sets |= (uint64_t)1 << t->owner[i * 64 +
			    (size_t)__builtin_ctzll(w)];
	}
	return (sets);
}

uint64_t
filter_table_match(struct filter_table *t, const struct filter_pkt *p)
{
	struct flow_memo	*m;
	uint64_t		 h;
	uint32_t		 ports = (uint32_t)p->sport << 16 | p->dport;
	uint16_t		 kind = (uint16_t)(p->proto << 8 |
				    (p->family == AF_INET6) << 1 | !!p->ports);

	h = (p->src[0] ^ p->src[1] * 0x9e3779b97f4a7c15ULL ^ p->dst[0] ^
	    (p->dst[1] << 17 | p->dst[1] >> 47) ^ (uint64_t)ports << 8 ^
	    kind) * 0xff51afd7ed558ccdULL;
	m = &t->memo[h >> 56];
	if (m->valid && m->ports == ports && m->kind == kind &&
	    m->src[1] == p->src[1] && m->dst[1] == p->dst[1] &&
	    m->src[0] == p->src[0] && m->dst[0] == p->dst[0])
		return (m->sets);
	memcpy(m->src, p->src, sizeof m->src);
	memcpy(m->dst, p->dst, sizeof m->dst);
	m->ports = ports;
	m->kind = kind;
	m->valid = 1;
	m->sets = table_match(t, p);
	return (m->sets);
}

void
filter_parse_ether(struct filter_pkt *p, const unsigned char *d,
    uint32_t caplen)
{
	uint32_t	ihl, l4;
	uint16_t	type, frag;

	memset(p, 0, sizeof *p);
	p->kind = FILTER_PKT_UNSURE;
	if (caplen < 14)
		return;
	type = (uint16_t)(d[12] << 8 | d[13]);
	if (type == 0x0800) {		/* IPv4 */
		if (caplen < 14 + 20 || (d[14] >> 4) != 4)
			return;
		ihl = (uint32_t)(d[14] & 0x0f) * 4;
		if (ihl < 20 || caplen < 14 + ihl)
			return;
		p->family = AF_INET;
		p->proto = d[14 + 9];
		p->src[1] = (uint64_t)d[26] << 24 | (uint64_t)d[27] << 16 |
		    (uint64_t)d[28] << 8 | d[29];
		p->dst[1] = (uint64_t)d[30] << 24 | (uint64_t)d[31] << 16 |
		    (uint64_t)d[32] << 8 | d[33];
		frag = (uint16_t)((d[14 + 6] << 8 | d[14 + 7]) & 0x1fff);
		l4 = 14 + ihl;
		if (frag != 0)
			p->later_fragment = 1;
	} else if (type == 0x86dd) {	/* IPv6, its first header only */
		if (caplen < 14 + 40)
			return;
		p->family = AF_INET6;
		p->proto = d[14 + 6];
		p->src[0] = be64(d + 14 + 8);
		p->src[1] = be64(d + 14 + 16);
		p->dst[0] = be64(d + 14 + 24);
		p->dst[1] = be64(d + 14 + 32);
		l4 = 14 + 40;
		/* libpcap looks past a fragment header for "tcp". */
		if (p->proto == IPPROTO_FRAGMENT)
			return;
	} else {
		/*
		 * ARP and RARP carry addresses that "host" and "net" match;
		 * a VLAN tag hides what follows: libpcap decides those.
		 */
		if (type != 0x0806 && type != 0x8035 && type != 0x8100 &&
		    type != 0x88a8 && type != 0x9100)
			p->kind = FILTER_PKT_OTHER;
		return;
	}
	if (p->proto == IPPROTO_SCTP)
		return;		/* "port" takes SCTP's ports too */
	if ((p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) &&
	    !p->later_fragment) {
		if (caplen < l4 + 4)
			return;		/* libpcap: no match past caplen */
		p->ports = 1;
		p->sport = (uint16_t)(d[l4] << 8 | d[l4 + 1]);
		p->dport = (uint16_t)(d[l4 + 2] << 8 | d[l4 + 3]);
		p->port_bits = FILTER_PORT_BIT(p->sport) |
		    FILTER_PORT_BIT(p->dport);
	}
	p->kind = FILTER_PKT_IP;
}

int
filter_check(const char *expr, int linktype, const char *field,
    char **cause)
{
	struct bpf_program	 prog;
	pcap_t			*p;

	if ((p = pcap_open_dead(linktype, 262144)) == NULL) {
		*cause = xasprintf("%s: cannot compile for link type %d", field,
		    linktype);
		return (-1);
	}
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1) {
		*cause = xasprintf("%s: %s", field, pcap_geterr(p));
		pcap_close(p);
		return (-1);
	}
	pcap_freecode(&prog);
	pcap_close(p);
	return (0);
}

char *
filter_and(const char *a, const char *b)
{
	if (*a == '\0')
		return (xstrdup(b));
	if (*b == '\0')
		return (xstrdup(a));
	return (xasprintf("(%s) and (%s)", a, b));
}
