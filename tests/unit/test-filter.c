/*
 * Filter translation: the golden table, and tricky cases compiled and run
 * against crafted packets with pcap_offline_filter.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "unit.h"
#include "filter.h"
#include "xmalloc.h"

static void
test_golden(void **state)
{
	FILE	*f;
	char	*path, line[8192], *tab, *expr, *cause;
	json_t	*j;
	int	 lineno = 0, cases = 0;

	path = fixture_path("filters.golden");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		tab = strchr(line, '\t');
		assert_non_null(tab);
		*tab++ = '\0';
		j = json_loads(line, 0, NULL);
		if (j == NULL)
			fail_msg("filters.golden:%d: bad JSON", lineno);
		cause = NULL;
		expr = filter_translate(j, "filters", &cause);
		if (*tab == '!') {
			if (expr != NULL)
				fail_msg("filters.golden:%d: expected error, "
				    "got '%s'", lineno, expr);
			if (strncmp(cause, tab + 1, strlen(tab + 1)) != 0)
				fail_msg("filters.golden:%d: error '%s', "
				    "expected '%s'", lineno, cause, tab + 1);
			free(cause);
		} else {
			if (expr == NULL)
				fail_msg("filters.golden:%d: %s", lineno, cause);
			if (strcmp(expr, tab) != 0)
				fail_msg("filters.golden:%d:\n got  %s\n want "
				    "%s", lineno, expr, tab);
			/* Every translation must compile. */
			if (filter_check(expr, DLT_EN10MB, "filters",
			    &cause) == -1)
				fail_msg("filters.golden:%d: %s", lineno,
				    cause);
			free(expr);
		}
		json_decref(j);
		cases++;
	}
	fclose(f);
	free(path);
	assert_true(cases > 30);
}

/* Builds an Ethernet frame with IPv4 or IPv6 and a TCP or UDP header. */
static size_t
craft(unsigned char *p, int v6, int proto, const char *src, const char *dst,
    uint16_t sport, uint16_t dport)
{
	size_t	off = 14, l4;

	memset(p, 0, 128);
	p[12] = v6 ? 0x86 : 0x08;
	p[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		p[off] = 0x60;
		p[off + 4] = 0;
		p[off + 5] = 20;
		p[off + 6] = (unsigned char)proto;
		p[off + 7] = 64;
		inet_pton(AF_INET6, src, p + off + 8);
		inet_pton(AF_INET6, dst, p + off + 24);
		l4 = off + 40;
	} else {
		p[off] = 0x45;
		p[off + 3] = 40;
		p[off + 8] = 64;
		p[off + 9] = (unsigned char)proto;
		inet_pton(AF_INET, src, p + off + 12);
		inet_pton(AF_INET, dst, p + off + 16);
		l4 = off + 20;
	}
	p[l4] = (unsigned char)(sport >> 8);
	p[l4 + 1] = (unsigned char)sport;
	p[l4 + 2] = (unsigned char)(dport >> 8);
	p[l4 + 3] = (unsigned char)dport;
	if (proto == 6)
		p[l4 + 12] = 0x50;
	return (l4 + 20);
}

/* Does the filter JSON match the crafted packet? */
static int
matches(const char *filters, int v6, int proto, const char *src,
    const char *dst, uint16_t sport, uint16_t dport)
{
	struct bpf_program	 prog;
	struct pcap_pkthdr	 h;
	unsigned char		 pkt[128];
	pcap_t			*p;
	json_t			*j;
	char			*expr, *cause = NULL;
	int			 rc;

	j = json_loads(filters, 0, NULL);
	assert_non_null(j);
	expr = filter_translate(j, "filters", &cause);
	if (expr == NULL)
		fail_msg("%s: %s", filters, cause);
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1)
		fail_msg("%s: %s", expr, pcap_geterr(p));
	memset(&h, 0, sizeof h);
	h.caplen = h.len = (uint32_t)craft(pkt, v6, proto, src, dst, sport,
	    dport);
	rc = pcap_offline_filter(&prog, &h, pkt) != 0;
	pcap_freecode(&prog);
	pcap_close(p);
	free(expr);
	json_decref(j);
	return (rc);
}

static void
test_local_either_direction(void **state)
{
	const char *f = "[{\"protocol\": \"TCP\", \"local_ip\": \"10.0.0.5\", "
	    "\"local_port\": \"80\", \"remote_port\": \"1024-65535\"}]";

	/* Inbound and outbound of the same conversation both match. */
	assert_true(matches(f, 0, 6, "192.0.2.1", "10.0.0.5", 40000, 80));
	assert_true(matches(f, 0, 6, "10.0.0.5", "192.0.2.1", 80, 40000));
	/* The local port on the remote side does not. */
	assert_false(matches(f, 0, 6, "192.0.2.1", "10.0.0.5", 80, 40000));
	/* UDP does not match a TCP filter. */
	assert_false(matches(f, 0, 17, "192.0.2.1", "10.0.0.5", 40000, 80));
	/* Remote port below the range. */
	assert_false(matches(f, 0, 6, "192.0.2.1", "10.0.0.5", 1000, 80));
}

static void
test_ranges_and_lists(void **state)
{
	const char *f = "[{\"local_ip\": \"10.0.0.1-10.0.0.20\"}]";
	const char *g = "[{\"remote_ip\": \"10.9.0.0/16;10.8.0.7\", "
	    "\"protocol\": \"UDP\"}]";

	assert_true(matches(f, 0, 6, "10.0.0.1", "1.1.1.1", 1, 2));
	assert_true(matches(f, 0, 6, "1.1.1.1", "10.0.0.20", 1, 2));
	assert_true(matches(f, 0, 17, "10.0.0.13", "1.1.1.1", 1, 2));
	assert_false(matches(f, 0, 6, "10.0.0.21", "1.1.1.1", 1, 2));
	assert_false(matches(f, 0, 6, "10.0.0.0", "1.1.1.1", 1, 2));
	assert_true(matches(g, 0, 17, "10.9.200.1", "1.1.1.1", 1, 2));
	assert_true(matches(g, 0, 17, "1.1.1.1", "10.8.0.7", 1, 2));
	assert_false(matches(g, 0, 17, "1.1.1.1", "10.8.0.8", 1, 2));
}

static void
test_ipv6(void **state)
{
	const char *f = "[{\"protocol\": \"UDP\", \"local_ip\": "
	    "\"2001:db8::10-2001:db8::1f\", \"remote_port\": \"53\"}]";

	assert_true(matches(f, 1, 17, "2001:db8::1a", "2001:db8:1::1", 5353,
	    53));
	assert_true(matches(f, 1, 17, "2001:db8:1::1", "2001:db8::10", 53,
	    5353));
	assert_false(matches(f, 1, 17, "2001:db8::20", "2001:db8:1::1", 5353,
	    53));
	assert_false(matches(f, 0, 17, "10.0.0.1", "10.0.0.2", 5353, 53));
}

static void
test_filters_or(void **state)
{
	const char *f = "[{\"protocol\": \"TCP\", \"local_port\": \"22\"}, "
	    "{\"protocol\": \"UDP\", \"remote_port\": \"53\"}]";

	assert_true(matches(f, 0, 6, "1.1.1.1", "2.2.2.2", 22, 5000));
	assert_true(matches(f, 0, 17, "1.1.1.1", "2.2.2.2", 5000, 53));
	assert_false(matches(f, 0, 17, "1.1.1.1", "2.2.2.2", 22, 5000));
	assert_false(matches(f, 0, 6, "1.1.1.1", "2.2.2.2", 5000, 53));
}

static void
test_bpf_and(void **state)
{
	char	*e, *cause = NULL;

	e = filter_and("tcp", "port 80");
	assert_string_equal(e, "(tcp) and (port 80)");
	free(e);
	e = filter_and("", "port 80");
	assert_string_equal(e, "port 80");
	free(e);
	e = filter_and("tcp", "");
	assert_string_equal(e, "tcp");
	free(e);
	assert_int_equal(filter_check("port eighty", DLT_EN10MB, "bpf",
	    &cause), -1);
	assert_non_null(strstr(cause, "bpf: "));
	free(cause);
}

/* A small deterministic generator: the same cases on every run. */
static uint32_t
lcg(uint32_t *x)
{
	*x = *x * 1103515245 + 12345;
	return (*x >> 8);
}

/*
 * A frame of some kind: IPv4 or IPv6 with TCP, UDP, ICMP or SCTP, IPv4
 * fragments and options, an IPv6 fragment header, ARP, a VLAN tag, LLDP,
 * or cut short; addresses and ports from small pools, so that filters
 * hit.
 */
static size_t
frame(unsigned char *p, uint32_t *x)
{
	static const char *v4[] = { "10.0.0.1", "10.0.0.5", "10.0.0.20",
	    "192.0.2.1", "10.0.0.255" };
	static const char *v6[] = { "fd00::1", "fd00::5", "2001:db8::1" };
	static const int protos[] = { 6, 17, 1, 132, 58, 44 };
	static const uint16_t ports[] = { 80, 443, 53, 1024, 40000, 65535 };
	size_t		n;
	uint32_t	kind = lcg(x) % 20;
	int		six = kind >= 12 && kind < 17, proto;

	proto = protos[lcg(x) % (six ? 6 : 4)];
	if (six && proto == 1)
		proto = 58;
	n = craft(p, six, proto, six ? v6[lcg(x) % 3] : v4[lcg(x) % 5],
	    six ? v6[lcg(x) % 3] : v4[lcg(x) % 5], ports[lcg(x) % 6],
	    ports[lcg(x) % 6]);
	if (kind == 5)		/* a later fragment */
		p[14 + 6] = 0x00, p[14 + 7] = 0xb9;
	if (kind == 6)		/* a first fragment */
		p[14 + 6] = 0x20;
	if (kind == 7) {	/* options: the ports move 4 bytes on */
		p[14] = 0x46;
		memmove(p + 38, p + 34, 40);
		n += 4;
	}
	if (kind == 17)		/* ARP */
		p[12] = 0x08, p[13] = 0x06;
	if (kind == 18)		/* a VLAN tag */
		p[12] = 0x81, p[13] = 0x00;
	if (kind == 19)		/* LLDP */
		p[12] = 0x88, p[13] = 0xcc;
	if (lcg(x) % 10 == 0)	/* cut short anywhere */
		n = lcg(x) % n;
	return (n);
}

/* The golden filters that take something, and some of our own. */
static size_t
some_filters(const char **filters, size_t max)
{
	static const char *more[] = {
		"[{\"protocol\": \"TCP\", \"local_ip\": \"10.0.0.5\", "
		"\"local_port\": \"80\", \"remote_port\": \"1024-65535\"}]",
		"[{\"protocol\": \"UDP\", \"remote_port\": \"53\"}, "
		"{\"local_ip\": \"fd00::/120\"}]",
		"[{\"local_ip\": \"10.0.0.1-10.0.0.20\", \"remote_ip\": "
		"\"192.0.2.1\"}]",
		"[{\"protocol\": \"Any\", \"local_port\": \"443;53\"}]",
		"[{\"protocol\": \"TCP\"}]",
		"[{\"remote_ip\": \"2001:db8::1\", \"protocol\": \"UDP\"}]",
		"[{\"local_port\": \"0-65535\"}, {\"remote_ip\": \"::/0\"}]",
		"[{\"local_ip\": \"0.0.0.0/0\", \"remote_port\": \"53\"}]",
		NULL };
	FILE		*f;
	char		*path, line[8192], *tab;
	size_t		 nf = 0, i;

	path = fixture_path("filters.golden");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL && nf < max - 8) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || (tab = strchr(line, '\t')) == NULL ||
		    tab[1] == '!' || tab[1] == '\0')
			continue;
		*tab = '\0';
		filters[nf++] = xstrdup(line);
	}
	fclose(f);
	free(path);
	for (i = 0; more[i] != NULL; i++)
		filters[nf++] = xstrdup(more[i]);
	return (nf);
}

/*
 * The matcher decides as libpcap's program of the same filters does,
 * whenever it decides: every golden filter and some of our own, against
 * thousands of frames of every kind.
 */
static void
test_match_agrees_with_bpf(void **state)
{
	struct bpf_program	 prog;
	struct pcap_pkthdr	 h;
	struct filter_pkt	 fp;
	struct filter_set	*fs;
	unsigned char		 pkt[160];
	const char		*filters[64];
	pcap_t			*p;
	json_t			*j;
	char			*expr, *cause = NULL;
	size_t			 nf, i, k;
	uint32_t		 x = 7;
	int			 got, want, decided = 0, total = 0, hits = 0;

	nf = some_filters(filters, 64);
	p = pcap_open_dead(DLT_EN10MB, 65535);
	for (i = 0; i < nf; i++) {
		j = json_loads(filters[i], 0, NULL);
		assert_non_null(j);
		expr = filter_translate(j, "filters", &cause);
		assert_non_null(expr);
		fs = filter_compile(j);
		assert_non_null(fs);
		if (pcap_compile(p, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) == -1)
			fail_msg("%s: %s", expr, pcap_geterr(p));
		for (k = 0; k < 3000; k++) {
			memset(&h, 0, sizeof h);
			h.caplen = h.len = (uint32_t)frame(pkt, &x);
			want = pcap_offline_filter(&prog, &h, pkt) != 0;
			filter_parse_ether(&fp, pkt, h.caplen);
			got = filter_match(fs, &fp);
			total++;
			if (got == -1)
				continue;
			decided++;
			hits += got;
			if (got != want)
				fail_msg("%s\n(%s): libpcap %d, matcher %d on "
				    "frame %zu of %u bytes", filters[i], expr,
				    want, got, k, h.caplen);
		}
		pcap_freecode(&prog);
		filter_set_free(fs);
		free(expr);
		json_decref(j);
		free((char *)filters[i]);
	}
	pcap_close(p);
	/* ARP, VLAN, SCTP, IPv6 fragments and short frames are left over. */
	printf("# %d of %d decided by the matcher, %d of them taken\n",
	    decided, total, hits);
	assert_true(decided > total * 6 / 10);
	assert_true(hits > decided / 20);
	/* Filters that take everything need no matcher. */
	j = json_loads("[{\"protocol\": \"TCP\"}, {}]", 0, NULL);
	assert_null(filter_compile(j));
	json_decref(j);
}

/*
 * A table of many sets says for each IP frame what each set's matcher
 * says: tables of one set, of a few, and of all (more than 64 rows).
 */
static void
test_table_agrees_with_matcher(void **state)
{
	static const size_t	 sizes[] = { 1, 2, 5, 16, FILTER_TABLE_MAX };
	struct filter_table	*t;
	struct filter_pkt	 fp;
	struct filter_set	*fs[FILTER_TABLE_MAX];
	const struct filter_set	*use[FILTER_TABLE_MAX];
	unsigned char		 pkt[160];
	const char		*filters[FILTER_TABLE_MAX];
	json_t			*j;
	uint64_t		 got, want;
	size_t			 nf, i, k, z, n, rows = 0;
	uint32_t		 x = 11, len;
	int			 taken = 0, tried = 0;

	nf = some_filters(filters, FILTER_TABLE_MAX - 1);
	/* And one set of many rows, so that a table's rows take words. */
	j = json_array();
	for (i = 0; i < 50; i++)
		json_array_append_new(j, json_pack("{s:s, s:s, s:s}",
		    "protocol", i % 3 == 0 ? "TCP" : i % 3 == 1 ? "UDP" : "Any",
		    i % 2 ? "local_port" : "remote_port",
		    (const char *[]){ "80", "53", "1024-40000", "443;65535" }
		    [i % 4], "remote_ip", (const char *[]){ "10.0.0.1",
		    "fd00::5", "192.0.2.0/24", "10.0.0.1-10.0.0.9",
		    "2001:db8::/33" }[i % 5]));
	filters[nf++] = json_dumps(j, 0);
	json_decref(j);
	for (i = 0; i < nf; i++) {
		j = json_loads(filters[i], 0, NULL);
		fs[i] = filter_compile(j);
		assert_non_null(fs[i]);
		json_decref(j);
	}
	for (z = 0; z < sizeof sizes / sizeof *sizes; z++) {
		n = sizes[z] < nf ? sizes[z] : nf;
		/* A different choice of sets each time, in another order. */
		for (i = 0; i < n; i++)
			use[i] = fs[(i * 7 + z + nf - 1) % nf];
		t = filter_table_new(use, n);
		for (k = 0; k < 20000; k++) {
			len = (uint32_t)frame(pkt, &x);
			filter_parse_ether(&fp, pkt, len);
			if (fp.kind != FILTER_PKT_IP)
				continue;
			tried++;
			want = 0;
			for (i = 0; i < n; i++)
				if (filter_match(use[i], &fp) == 1)
					want |= (uint64_t)1 << i;
			got = filter_table_match(t, &fp);
			if (got != want)
				fail_msg("table of %zu sets: %#llx, the sets "
				    "one by one %#llx", n,
				    (unsigned long long)got,
				    (unsigned long long)want);
			taken += got != 0;
		}
		filter_table_free(t);
	}
	for (i = 0; i < nf; i++) {
		rows += filter_set_rows(fs[i]);
		filter_set_free(fs[i]);
		free((char *)filters[i]);
	}
	printf("# %d IP frames against tables, %d taken by some set; %zu sets "
	    "of %zu rows in all\n", tried, taken, nf, rows);
	assert_true(rows > 64);
	assert_true(taken > tried / 4 && taken < tried);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_local_either_direction),
		cmocka_unit_test(test_ranges_and_lists),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_filters_or),
		cmocka_unit_test(test_bpf_and),
		cmocka_unit_test(test_match_agrees_with_bpf),
		cmocka_unit_test(test_table_agrees_with_matcher),
	};

	return (cmocka_run_group_tests_name("filter", tests, NULL, NULL));
}
