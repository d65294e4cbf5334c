/* Filter translation: lists, ranges and CIDR blocks into BPF primitives. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
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

/* One IP item: address, CIDR or range. Appends a primitive to out. */
static int
ip_item(struct dynbuf *out, const char *dir, char *item, int *items,
    char **why)
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
		if (range_to_cidrs(out, dir, a, &b, items) == -1) {
			*why = xasprintf("too many address blocks (more than "
			    "%d)", FILTER_MAX_ITEMS);
			return (-1);
		}
		return (0);
	}
	if (addr_parse(trim(item), &a) == -1)
		goto bad;
	addr_print(&a, buf, sizeof buf);
	(*items)++;
	return (dynbuf_addf(out, "%s%s host %s", out->len > 1 ? " or " : "",
	    dir, buf));
bad:
	*why = xasprintf("'%s' is not an IPv4 or IPv6 address, CIDR block or "
	    "range", item);
	return (-1);
}

/* One port item: N or N-M. */
static int
port_item(struct dynbuf *out, const char *dir, char *item, int *items,
    char **why)
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
	if (sep == NULL || lo == hi)
		return (dynbuf_addf(out, "%s%s port %lld", out->len > 1 ?
		    " or " : "", dir, lo));
	if (lo > hi) {
		*why = xasprintf("port range %lld-%lld ends before it starts",
		    lo, hi);
		return (-1);
	}
	return (dynbuf_addf(out, "%s%s portrange %lld-%lld", out->len > 1 ?
	    " or " : "", dir, lo, hi));
}

/*
 * Translates one field value (a string, or a number for ports) into a
 * parenthesised disjunction of primitives with direction dir.
 */
static char *
field_expr(json_t *v, const char *dir, int is_port, char **why)
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
		    &items, why) == -1)
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

/* The translation of one filter object; "" means all traffic. */
static char *
filter_one(json_t *f, const char *path, char **cause)
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
	dynbuf_init(&a, FILTER_MAX_EXPR);
	dynbuf_init(&b, FILTER_MAX_EXPR);
	for (i = 0; i < 4; i++) {
		v = json_object_get(f, fields[i]);
		if (v == NULL || json_is_null(v) ||
		    (json_is_string(v) && *json_string_value(v) == '\0'))
			continue;
		ea = field_expr(v, dir_a[i], i % 2, &why);
		eb = ea == NULL ? NULL : field_expr(v, dir_b[i], i % 2, &why);
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

char *
filter_translate(json_t *filters, const char *field, char **cause)
{
	struct dynbuf	 out;
	json_t		*f;
	size_t		 i;
	char		*e, *path;
	int		 all = 0;

	if (filters == NULL || json_is_null(filters))
		return (xstrdup(""));
	if (!json_is_array(filters)) {
		*cause = xasprintf("%s: must be an array of filters", field);
		return (NULL);
	}
	dynbuf_init(&out, FILTER_MAX_EXPR);
	json_array_foreach(filters, i, f) {
		path = xasprintf("%s[%zu]", field, i);
		e = filter_one(f, path, cause);
		free(path);
		if (e == NULL) {
			dynbuf_free(&out);
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
	if (all) {
		dynbuf_free(&out);
		return (xstrdup(""));
	}
	return (dynbuf_take(&out));
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
