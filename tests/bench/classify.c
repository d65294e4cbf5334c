/*
 * classify: what deciding each packet costs the capture engine for N
 * captures with structured filters, apart from everything else a capture
 * does (the copies, the writes, the kernel): the packets of a pcap file
 * held in memory, read again and again, each parsed once and tested by
 * every set one after another (filter_match, behind each set's port
 * mask, as the engine tests sinks beyond its table) and by one table of
 * all the sets (filter_table_match, as the engine decides them).
 *
 * usage: classify FILE.pcap FILTERS N...
 * FILTERS holds one filters array (JSON) a line; N the first N of them.
 * Prints, for each N, nanoseconds a packet: the parse alone, the sets
 * one by one and the table, each with the parse.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pcap/pcap.h>

#include "bench.h"
#include "filter.h"

#define MAX_SETS	FILTER_TABLE_MAX
#define MIN_SECONDS	0.5	/* each figure is the mean over this long */

struct pkt {
	const unsigned char	*data;
	uint32_t		 caplen;
};

static struct pkt	*pkts;
static size_t		 npkts;
static volatile uint64_t sink;	/* keeps the work from being optimised away */

/* Reads every packet of path into memory. */
static void
load(const char *path)
{
	struct pcap_pkthdr	*h;
	const u_char		*d;
	unsigned char		*copy;
	char			 err[PCAP_ERRBUF_SIZE];
	pcap_t			*p;

	if ((p = pcap_open_offline(path, err)) == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		exit(1);
	}
	while (pcap_next_ex(p, &h, &d) == 1) {
		pkts = realloc(pkts, (npkts + 1) * sizeof *pkts);
		copy = malloc(h->caplen);
		if (pkts == NULL || copy == NULL)
			exit(1);
		memcpy(copy, d, h->caplen);
		pkts[npkts].data = copy;
		pkts[npkts++].caplen = h->caplen;
	}
	pcap_close(p);
}

enum how { PARSE, ONE_BY_ONE, TABLE };

/* One pass over the packets; returns how many were taken, in all. */
static uint64_t
pass(enum how how, struct filter_set **sets, size_t n,
    struct filter_table *t)
{
	struct filter_pkt	fp;
	uint64_t		taken = 0;
	size_t			i, k;

	for (i = 0; i < npkts; i++) {
		filter_parse_ether(&fp, pkts[i].data, pkts[i].caplen);
		if (how == PARSE || fp.kind != FILTER_PKT_IP) {
			taken += fp.kind;
			continue;
		}
		if (how == TABLE) {
			taken += filter_table_match(t, &fp) != 0;
			continue;
		}
		for (k = 0; k < n; k++) {
			if ((filter_set_ports(sets[k]) & fp.port_bits) == 0 &&
			    filter_set_ports(sets[k]) != ~(uint64_t)0)
				continue;
			taken += filter_match(sets[k], &fp) == 1;
		}
	}
	return (taken);
}

/* Nanoseconds a packet, over passes lasting at least MIN_SECONDS. */
static double
time_it(enum how how, struct filter_set **sets, size_t n,
    struct filter_table *t)
{
	double		t0 = now(), t1;
	uint64_t	passes = 0;

	do {
		sink += pass(how, sets, n, t);
		passes++;
	} while ((t1 = now()) - t0 < MIN_SECONDS);
	return ((t1 - t0) * 1e9 / (double)(passes * npkts));
}

int
main(int argc, char **argv)
{
	struct filter_set	*sets[MAX_SETS];
	struct filter_table	*t;
	json_error_t		 jerr;
	json_t			*j;
	FILE			*f;
	char			 line[65536];
	double			 parse, one, tab;
	size_t			 nsets = 0, n;
	int			 a;

	if (argc < 4) {
		fprintf(stderr, "usage: classify FILE.pcap FILTERS N...\n");
		return (2);
	}
	load(argv[1]);
	if ((f = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return (1);
	}
	while (nsets < MAX_SETS && fgets(line, sizeof line, f) != NULL) {
		if ((j = json_loads(line, 0, &jerr)) == NULL) {
			fprintf(stderr, "%s:%d: %s\n", argv[2], jerr.line,
			    jerr.text);
			return (1);
		}
		if ((sets[nsets] = filter_compile(j)) == NULL) {
			fprintf(stderr, "%s:%zu: not filters that take "
			    "some packets\n", argv[2], nsets + 1);
			return (1);
		}
		json_decref(j);
		nsets++;
	}
	fclose(f);
	printf("%zu packets, %zu filter sets\n", npkts, nsets);
	printf("%-5s %10s %12s %10s   (ns a packet, the parse included)\n",
	    "sets", "parse", "one-by-one", "table");
	for (a = 3; a < argc; a++) {
		n = (size_t)arg_num(argv[a], MAX_SETS, "N");
		if (n > nsets)
			break;
		t = filter_table_new((const struct filter_set *const *)sets,
		    n);
		parse = time_it(PARSE, sets, n, t);
		one = time_it(ONE_BY_ONE, sets, n, t);
		tab = time_it(TABLE, sets, n, t);
		printf("%-5zu %10.1f %12.1f %10.1f\n", n, parse, one, tab);
		filter_table_free(t);
	}
	return (0);
}
