/* A network namespace's context over netlink (context.h). */
#include "config.h"

#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/inet_diag.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libmnl/libmnl.h>

#include "context.h"
#include "netns.h"
#include "util.h"
#include "xmalloc.h"

#define CTX_BUF		32768
#define CTX_CACHE	4

/*
 * The last snapshot taken of each namespace: in a burst of alerts, the
 * captures queued while one snapshot was being taken all get that one,
 * instead of a dump of the same sockets each (a socket dump walks the
 * kernel's whole hash tables, busy or not: a third of the daemon's CPU
 * through 1,000 alerts). Touched by the one thread that takes snapshots,
 * the worker.
 */
static struct {
	json_t		*snap;
	int64_t		 at;
	size_t		 max_sockets;
	int		 in_ns;
	dev_t		 dev;
	ino_t		 ino;
} ctx_cache[CTX_CACHE];

/* What a dump's callback fills, and (sockets) which protocol it is. */
struct ctx_dump {
	json_t	*out;
	int	 proto;
};

/* Sends req and runs cb on every answer until the dump is done. */
static int
nl_dump(struct mnl_socket *nl, struct nlmsghdr *req, mnl_cb_t cb, void *arg)
{
	char		*buf = xmalloc(CTX_BUF);
	unsigned int	 portid = mnl_socket_get_portid(nl);
	ssize_t		 n;
	int		 rc = -1;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) >= 0) {
		while ((n = mnl_socket_recvfrom(nl, buf, CTX_BUF)) > 0) {
			rc = mnl_cb_run(buf, (size_t)n, req->nlmsg_seq, portid,
			    cb, arg);
			if (rc <= MNL_CB_STOP)
				break;
		}
	}
	free(buf);
	return (rc == MNL_CB_ERROR ? -1 : 0);
}

/* A dump request of type with its family header of len bytes (zeroed). */
static struct nlmsghdr *
nl_request(char *buf, uint16_t type, size_t len, unsigned int seq)
{
	struct nlmsghdr	*nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	mnl_nlmsg_put_extra_header(nlh, len);
	return (nlh);
}

/* Collects a message's attributes by type, up to max. */
struct attrs {
	const struct nlattr	*tb[64];
	int			 max;
};

static int
attr_cb(const struct nlattr *a, void *arg)
{
	struct attrs	*t = arg;
	int		 type = mnl_attr_get_type(a);

	if (type <= t->max && type < 64)
		t->tb[type] = a;
	return (MNL_CB_OK);
}

/* An address attribute of family as text, or null. */
static json_t *
addr_json(int family, const struct nlattr *a)
{
	char	buf[INET6_ADDRSTRLEN];

	if (a == NULL || (family != AF_INET && family != AF_INET6) ||
	    mnl_attr_get_payload_len(a) < (family == AF_INET ? 4U : 16U) ||
	    inet_ntop(family, mnl_attr_get_payload(a), buf, sizeof buf) ==
	    NULL)
		return (json_null());
	return (json_string(buf));
}

/* A link-layer address as aa:bb:..., or null. */
static json_t *
lladdr_json(const struct nlattr *a)
{
	const unsigned char	*p;
	char			 buf[3 * 32];
	size_t			 i, n, at = 0;

	if (a == NULL || (n = mnl_attr_get_payload_len(a)) == 0 || n > 32)
		return (json_null());
	p = mnl_attr_get_payload(a);
	for (i = 0; i < n; i++)
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%02x",
		    i > 0 ? ":" : "", p[i]);
	return (json_string(buf));
}

static int
link_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const char *oper[] = { "unknown", "notpresent", "down",
	    "lowerlayerdown", "testing", "dormant", "up" };
	struct ctx_dump			*d = arg;
	const struct ifinfomsg		*ifm = mnl_nlmsg_get_payload(nlh);
	struct rtnl_link_stats64	 st;
	struct attrs			 t = { { NULL }, IFLA_MAX };
	json_t				*o;
	uint8_t				 os;

	mnl_attr_parse(nlh, sizeof *ifm, attr_cb, &t);
	os = t.tb[IFLA_OPERSTATE] != NULL ?
	    mnl_attr_get_u8(t.tb[IFLA_OPERSTATE]) : 0;
	o = json_pack("{s:i, s:s, s:b, s:s, s:o}", "index", ifm->ifi_index,
	    "name", t.tb[IFLA_IFNAME] != NULL ?
	    mnl_attr_get_str(t.tb[IFLA_IFNAME]) : "", "up",
	    (ifm->ifi_flags & IFF_UP) != 0, "oper", os < 7 ? oper[os] :
	    "unknown", "mac", lladdr_json(t.tb[IFLA_ADDRESS]));
	if (t.tb[IFLA_MTU] != NULL)
		json_object_set_new(o, "mtu", json_integer(
		    mnl_attr_get_u32(t.tb[IFLA_MTU])));
	if (t.tb[IFLA_STATS64] != NULL && mnl_attr_get_payload_len(
	    t.tb[IFLA_STATS64]) >= sizeof st) {
		/* Attributes are 4-aligned, the counters 8: copy them out. */
		memcpy(&st, mnl_attr_get_payload(t.tb[IFLA_STATS64]),
		    sizeof st);
		json_object_set_new(o, "stats", json_pack("{s:I, s:I, s:I, "
		    "s:I, s:I, s:I, s:I, s:I}",
		    "rx_packets", (json_int_t)st.rx_packets,
		    "rx_bytes", (json_int_t)st.rx_bytes,
		    "rx_errors", (json_int_t)st.rx_errors,
		    "rx_dropped", (json_int_t)st.rx_dropped,
		    "tx_packets", (json_int_t)st.tx_packets,
		    "tx_bytes", (json_int_t)st.tx_bytes,
		    "tx_errors", (json_int_t)st.tx_errors,
		    "tx_dropped", (json_int_t)st.tx_dropped));
	}
	json_array_append_new(d->out, o);
	return (MNL_CB_OK);
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctx_dump		*d = arg;
	const struct ifaddrmsg	*ifa = mnl_nlmsg_get_payload(nlh);
	struct attrs		 t = { { NULL }, IFA_MAX };

	mnl_attr_parse(nlh, sizeof *ifa, attr_cb, &t);
	json_array_append_new(d->out, json_pack("{s:i, s:o, s:i}", "index",
	    (int)ifa->ifa_index, "address", addr_json(ifa->ifa_family,
	    t.tb[IFA_LOCAL] != NULL ? t.tb[IFA_LOCAL] : t.tb[IFA_ADDRESS]),
	    "prefixlen", ifa->ifa_prefixlen));
	return (MNL_CB_OK);
}

static int
route_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctx_dump		*d = arg;
	const struct rtmsg	*rt = mnl_nlmsg_get_payload(nlh);
	struct attrs		 t = { { NULL }, RTA_MAX };
	json_t			*o;
	uint32_t		 table = rt->rtm_table;

	mnl_attr_parse(nlh, sizeof *rt, attr_cb, &t);
	if (t.tb[RTA_TABLE] != NULL)
		table = mnl_attr_get_u32(t.tb[RTA_TABLE]);
	if (table == RT_TABLE_LOCAL || rt->rtm_type != RTN_UNICAST)
		return (MNL_CB_OK);	/* the kernel's own, not routing */
	o = json_pack("{s:o, s:i, s:o, s:I}", "dst", t.tb[RTA_DST] != NULL ?
	    addr_json(rt->rtm_family, t.tb[RTA_DST]) : json_string("default"),
	    "dst_len", rt->rtm_dst_len, "gateway", addr_json(rt->rtm_family,
	    t.tb[RTA_GATEWAY]), "table", (json_int_t)table);
	if (t.tb[RTA_OIF] != NULL)
		json_object_set_new(o, "index", json_integer(
		    mnl_attr_get_u32(t.tb[RTA_OIF])));
	json_array_append_new(d->out, o);
	return (MNL_CB_OK);
}

static int
neigh_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const struct {
		uint16_t	 bit;
		const char	*name;
	} states[] = { { NUD_REACHABLE, "reachable" }, { NUD_STALE, "stale" },
	    { NUD_DELAY, "delay" }, { NUD_PROBE, "probe" },
	    { NUD_FAILED, "failed" }, { NUD_INCOMPLETE, "incomplete" },
	    { NUD_PERMANENT, "permanent" }, { NUD_NOARP, "noarp" } };
	struct ctx_dump		*d = arg;
	const struct ndmsg	*nd = mnl_nlmsg_get_payload(nlh);
	struct attrs		 t = { { NULL }, NDA_MAX };
	const char		*st = "none";
	size_t			 i;

	mnl_attr_parse(nlh, sizeof *nd, attr_cb, &t);
	for (i = 0; i < sizeof states / sizeof *states; i++)
		if (nd->ndm_state & states[i].bit) {
			st = states[i].name;
			break;
		}
	json_array_append_new(d->out, json_pack("{s:i, s:o, s:o, s:s}",
	    "index", nd->ndm_ifindex, "address", addr_json(nd->ndm_family,
	    t.tb[NDA_DST]), "lladdr", lladdr_json(t.tb[NDA_LLADDR]), "state",
	    st));
	return (MNL_CB_OK);
}

/* A TCP state's name, as ss prints them. */
static const char *
tcp_state(int st)
{
	static const char *names[] = { "UNKNOWN", "ESTABLISHED", "SYN_SENT",
	    "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE",
	    "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING" };

	return (st > 0 && st < 12 ? names[st] : names[0]);
}

/* An endpoint "addr:port" ("[addr]:port" for IPv6) from inet_diag. */
static json_t *
endpoint_json(int family, const __be32 *addr, __be16 port)
{
	char	a[INET6_ADDRSTRLEN], buf[INET6_ADDRSTRLEN + 10];

	if (inet_ntop(family, addr, a, sizeof a) == NULL)
		return (json_null());
	snprintf(buf, sizeof buf, family == AF_INET6 ? "[%s]:%u" : "%s:%u", a,
	    ntohs(port));
	return (json_string(buf));
}

static int
sock_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct ctx_dump			*d = arg;
	const struct inet_diag_msg	*m = mnl_nlmsg_get_payload(nlh);
	struct tcp_info			 ti;
	struct attrs			 t = { { NULL }, INET_DIAG_MAX };
	json_t				*o;
	json_int_t			 busy;

	mnl_attr_parse(nlh, sizeof *m, attr_cb, &t);
	o = json_pack("{s:o, s:o, s:I, s:I}", "local", endpoint_json(
	    m->idiag_family, m->id.idiag_src, m->id.idiag_sport), "remote",
	    endpoint_json(m->idiag_family, m->id.idiag_dst, m->id.idiag_dport),
	    "recv_q", (json_int_t)m->idiag_rqueue, "send_q",
	    (json_int_t)m->idiag_wqueue);
	busy = (json_int_t)m->idiag_rqueue + m->idiag_wqueue;
	if (d->proto == IPPROTO_TCP) {
		json_object_set_new(o, "state", json_string(tcp_state(
		    m->idiag_state)));
		if (t.tb[INET_DIAG_INFO] != NULL && mnl_attr_get_payload_len(
		    t.tb[INET_DIAG_INFO]) >= offsetof(struct tcp_info,
		    tcpi_bytes_received) + sizeof ti.tcpi_bytes_received) {
			/* 4-aligned in the message, with 8-byte fields. */
			memset(&ti, 0, sizeof ti);
			memcpy(&ti, mnl_attr_get_payload(t.tb[INET_DIAG_INFO]),
			    mnl_attr_get_payload_len(t.tb[INET_DIAG_INFO]) <
			    sizeof ti ? mnl_attr_get_payload_len(
			    t.tb[INET_DIAG_INFO]) : sizeof ti);
			json_object_set_new(o, "retransmits", json_integer(
			    ti.tcpi_total_retrans));
			json_object_set_new(o, "rtt_us", json_integer(
			    ti.tcpi_rtt));
			json_object_set_new(o, "bytes_acked", json_integer(
			    (json_int_t)ti.tcpi_bytes_acked));
			json_object_set_new(o, "bytes_received", json_integer(
			    (json_int_t)ti.tcpi_bytes_received));
			busy += (json_int_t)(ti.tcpi_bytes_acked +
			    ti.tcpi_bytes_received);
		}
	}
	json_object_set_new(o, "_busy", json_integer(busy));
	json_array_append_new(d->out, o);
	return (MNL_CB_OK);
}

/* The busiest first, so the cut keeps them. */
static int
busy_cmp(const void *a, const void *b)
{
	json_int_t	x = json_integer_value(json_object_get(*(json_t *
			    const *)a, "_busy"));
	json_int_t	y = json_integer_value(json_object_get(*(json_t *
			    const *)b, "_busy"));

	return (x < y ? 1 : x > y ? -1 : 0);
}

/* Sorts a socket list busiest first and keeps max of them. */
static json_t *
busiest(json_t *a, size_t max)
{
	json_t	**v, *out = json_array();
	size_t	  i, n = json_array_size(a);

	v = xcalloc(n + 1, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_array_get(a, i);
	qsort(v, n, sizeof *v, busy_cmp);
	for (i = 0; i < n && i < max; i++) {
		json_object_del(v[i], "_busy");
		json_array_append(out, v[i]);
	}
	free(v);
	json_decref(a);
	return (out);
}

/* The TCP or UDP sockets of both families, over sock_diag. */
static json_t *
sockets(int proto, size_t max, char **cause)
{
	struct inet_diag_req_v2	*req;
	struct mnl_socket	*nl;
	struct nlmsghdr		*nlh;
	struct ctx_dump		 d;
	char			 buf[MNL_SOCKET_BUFFER_SIZE];
	int			 fam[] = { AF_INET, AF_INET6 };
	size_t			 i;

	if ((nl = mnl_socket_open(NETLINK_SOCK_DIAG)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		*cause = xasprintf("sock_diag: %s", strerror(errno));
		if (nl != NULL)
			mnl_socket_close(nl);
		return (NULL);
	}
	d.out = json_array();
	d.proto = proto;
	for (i = 0; i < 2; i++) {
		nlh = nl_request(buf, SOCK_DIAG_BY_FAMILY, sizeof *req,
		    (unsigned int)(time(NULL) + i));
		req = mnl_nlmsg_get_payload(nlh);
		req->sdiag_family = (uint8_t)fam[i];
		req->sdiag_protocol = (uint8_t)proto;
		req->idiag_states = ~0U;
		req->idiag_ext = 1 << (INET_DIAG_INFO - 1);
		if (nl_dump(nl, nlh, sock_cb, &d) == -1)
			break;
	}
	mnl_socket_close(nl);
	return (busiest(d.out, max));
}

/* One rtnetlink dump into a new array; NULL with *cause. */
static json_t *
rt_dump(struct mnl_socket *nl, uint16_t type, size_t hdr, int family,
    mnl_cb_t cb, const char *what, char **cause)
{
	struct nlmsghdr	*nlh;
	struct ctx_dump	 d;
	char		 buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned char	*fam;

	nlh = nl_request(buf, type, hdr, (unsigned int)time(NULL) + type);
	fam = mnl_nlmsg_get_payload(nlh);	/* every header starts so */
	*fam = (unsigned char)family;
	d.out = json_array();
	if (nl_dump(nl, nlh, cb, &d) == -1) {
		*cause = xasprintf("%s: %s", what, strerror(errno));
		json_decref(d.out);
		return (NULL);
	}
	return (d.out);
}

/* The slot of ns's last snapshot, *hit if it began at since or later. */
static size_t
ctx_cached(const struct nstarget *ns, size_t max_sockets, int64_t since,
    int *hit)
{
	size_t	i, oldest = 0;

	*hit = 0;
	for (i = 0; i < CTX_CACHE; i++) {
		if (ctx_cache[i].snap != NULL &&
		    ctx_cache[i].in_ns == (ns != NULL) &&
		    (ns == NULL || (ctx_cache[i].dev == ns->dev &&
		    ctx_cache[i].ino == ns->ino)) &&
		    ctx_cache[i].max_sockets == max_sockets) {
			*hit = ctx_cache[i].at >= since;
			return (i);
		}
		if (ctx_cache[i].at < ctx_cache[oldest].at)
			oldest = i;
	}
	return (oldest);
}

static json_t	*ctx_take(const struct nstarget *, size_t, char **);

json_t *
context_snapshot(const struct nstarget *ns, size_t max_sockets,
    int64_t since, char **cause)
{
	int64_t	began = now_us();
	size_t	i;
	json_t	*o;
	int	hit;

	i = ctx_cached(ns, max_sockets, since, &hit);
	if (hit)
		return (json_incref(ctx_cache[i].snap));
	if ((o = ctx_take(ns, max_sockets, cause)) == NULL)
		return (NULL);
	json_decref(ctx_cache[i].snap);
	ctx_cache[i].snap = json_incref(o);
	ctx_cache[i].at = began;
	ctx_cache[i].max_sockets = max_sockets;
	ctx_cache[i].in_ns = ns != NULL;
	ctx_cache[i].dev = ns != NULL ? ns->dev : 0;
	ctx_cache[i].ino = ns != NULL ? ns->ino : 0;
	return (o);
}

void
context_forget(void)
{
	size_t	i;

	for (i = 0; i < CTX_CACHE; i++) {
		json_decref(ctx_cache[i].snap);
		ctx_cache[i].snap = NULL;
		ctx_cache[i].at = 0;
	}
}

/* Takes a snapshot of ns, or of the calling thread's namespace. */
static json_t *
ctx_take(const struct nstarget *ns, size_t max_sockets, char **cause)
{
	struct mnl_socket	*nl;
	json_t			*o = NULL, *links, *addrs, *routes, *neigh;
	json_t			*tcp = NULL, *udp = NULL;
	char			 at[40];
	int			 back = -1;

	if (ns != NULL && (back = netns_enter(ns, cause)) == -1)
		return (NULL);
	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL ||
	    mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		*cause = xasprintf("rtnetlink: %s", strerror(errno));
		goto out;
	}
	links = rt_dump(nl, RTM_GETLINK, sizeof(struct ifinfomsg), AF_UNSPEC,
	    link_cb, "links", cause);
	addrs = links == NULL ? NULL : rt_dump(nl, RTM_GETADDR,
	    sizeof(struct ifaddrmsg), AF_UNSPEC, addr_cb, "addresses", cause);
	routes = addrs == NULL ? NULL : rt_dump(nl, RTM_GETROUTE,
	    sizeof(struct rtmsg), AF_UNSPEC, route_cb, "routes", cause);
	neigh = routes == NULL ? NULL : rt_dump(nl, RTM_GETNEIGH,
	    sizeof(struct ndmsg), AF_UNSPEC, neigh_cb, "neighbours", cause);
	if (neigh != NULL && (tcp = sockets(IPPROTO_TCP, max_sockets,
	    cause)) != NULL)
		udp = sockets(IPPROTO_UDP, max_sockets, cause);
	if (udp != NULL)
		o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "at",
		    time_rfc3339(at, sizeof at, now_us()), "links", links,
		    "addresses", addrs, "routes", routes, "neighbours", neigh,
		    "tcp", tcp, "udp", udp);
	else {
		json_decref(links);
		json_decref(addrs);
		json_decref(routes);
		json_decref(neigh);
		json_decref(tcp);
	}
out:
	if (nl != NULL)
		mnl_socket_close(nl);
	if (back != -1)
		netns_leave(back);
	return (o);
}

json_t *
context_summary(json_t *s)
{
	return (json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "links", (json_int_t)json_array_size(json_object_get(s, "links")),
	    "addresses", (json_int_t)json_array_size(json_object_get(s,
	    "addresses")),
	    "routes", (json_int_t)json_array_size(json_object_get(s, "routes")),
	    "neighbours", (json_int_t)json_array_size(json_object_get(s,
	    "neighbours")),
	    "tcp", (json_int_t)json_array_size(json_object_get(s, "tcp")),
	    "udp", (json_int_t)json_array_size(json_object_get(s, "udp"))));
}

/* Appends a link and its addresses ("eth0 up 10.0.0.1/24") to b. */
static int
note_link(struct dynbuf *b, json_t *link, json_t *addrs, int first)
{
	json_t		*a;
	json_int_t	 index = json_integer_value(json_object_get(link,
			    "index"));
	size_t		 i;
	int		 rc;

	rc = dynbuf_addf(b, "%s%s %s", first ? "" : ", ",
	    json_string_value(json_object_get(link, "name")),
	    json_is_true(json_object_get(link, "up")) ? "up" : "down");
	json_array_foreach(addrs, i, a)
		if (rc == 0 && json_integer_value(json_object_get(a,
		    "index")) == index && json_is_string(json_object_get(a,
		    "address")))
			rc = dynbuf_addf(b, " %s/%d", json_string_value(
			    json_object_get(a, "address")), (int)
			    json_integer_value(json_object_get(a,
			    "prefixlen")));
	return (rc);
}

/* Appends a TCP socket ("a:1 > b:2 ESTABLISHED, rtt 0.1 ms, ...") to b. */
static int
note_tcp(struct dynbuf *b, json_t *s, int first)
{
	json_t	*rtt = json_object_get(s, "rtt_us");
	char	 r[40] = "";
	int	 rc;

	if (json_integer_value(rtt) > 0)	/* µs as ms, to the µs */
		snprintf(r, sizeof r, ", rtt %lld.%03lld ms",
		    json_integer_value(rtt) / 1000,
		    json_integer_value(rtt) % 1000);
	rc = dynbuf_addf(b, "%s%s > %s %s%s, %lld retransmits, queues "
	    "%lld/%lld", first ? "" : "; ",
	    json_string_value(json_object_get(s, "local")),
	    json_string_value(json_object_get(s, "remote")),
	    json_string_value(json_object_get(s, "state")), r,
	    (long long)json_integer_value(json_object_get(s, "retransmits")),
	    (long long)json_integer_value(json_object_get(s, "recv_q")),
	    (long long)json_integer_value(json_object_get(s, "send_q")));
	return (rc);
}

/*
 * The note a capture file's comment ends with: a summary of the start
 * snapshot in lines that fit max bytes, the links with their addresses
 * and the busiest TCP sockets as far as they go.
 */
char *
context_note(json_t *s, const char *err, const char *file, size_t max)
{
	struct dynbuf	 b;
	json_t		*links, *addrs, *tcp, *e;
	size_t		 i, mark;

	dynbuf_init(&b, max);
	if (s == NULL) {
		dynbuf_addf(&b, "context at start: not taken (%s); %s holds "
		    "the stop's", err != NULL ? err : "unknown", file);
		return (dynbuf_take(&b));
	}
	links = json_object_get(s, "links");
	addrs = json_object_get(s, "addresses");
	tcp = json_object_get(s, "tcp");
	if (dynbuf_addf(&b, "context at start: %zu links, %zu addresses, "
	    "%zu routes, %zu neighbours, %zu TCP and %zu UDP sockets (%s "
	    "holds them, and the stop's)", json_array_size(links),
	    json_array_size(addrs), json_array_size(json_object_get(s,
	    "routes")), json_array_size(json_object_get(s, "neighbours")),
	    json_array_size(tcp), json_array_size(json_object_get(s, "udp")),
	    file) == -1)
		return (dynbuf_take(&b));
	/* Each line as far as it fits; a line without an item goes. */
	mark = b.len;
	if (dynbuf_addf(&b, "\nlinks: ") == 0)
		json_array_foreach(links, i, e)
			if (note_link(&b, e, addrs, i == 0) == -1)
				break;
	if (b.len <= mark + strlen("\nlinks: "))
		b.buf[b.len = mark] = '\0';
	mark = b.len;
	if (dynbuf_addf(&b, "\nbusiest TCP: ") == 0)
		json_array_foreach(tcp, i, e)
			if (i == 3 || note_tcp(&b, e, i == 0) == -1)
				break;
	if (b.len <= mark + strlen("\nbusiest TCP: "))
		b.buf[b.len = mark] = '\0';
	return (dynbuf_take(&b));
}
