/*
 * pktgen: writes a pcap of crafted traffic for the integration tests and
 * benchmarks, so that the expected result of every filter is known.
 *
 * usage: pktgen OUT.pcap SRC_MAC DST_MAC ROUNDS [PAYLOAD]
 * Each round holds, between a "remote" 10.77.0.2 / fd77::2 and a "local"
 * 10.77.0.1 / fd77::1 (and a second local address 10.77.0.9):
 *   TCP remote:40000+r%5 -> local:80, and the reply local:80 -> remote
 *   TCP remote:50000 -> local:443, TCP remote:50001 -> local:8080
 *   UDP remote:5353 -> local:53, UDP local:53 -> remote:5353
 *   UDP remote:6000 -> 10.77.0.9:9999
 *   UDP over IPv6 fd77::2:5353 -> fd77::1:53
 *   TCP over IPv6 fd77::1:22 -> fd77::2:60000
 * Payload sizes vary from PAYLOAD/4 to PAYLOAD (default 1000).
 *
 * usage: pktgen --ping OUT COUNT SIZE
 * What "ping -c COUNT -s SIZE 127.0.0.1" puts on lo: COUNT ICMP echo
 * requests and their replies, framed as Linux frames loopback (Ethernet,
 * zero MACs). The tests drop such files into a replayed interface.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE	*out;
static uint8_t	 smac[6], dmac[6];
static uint32_t	 ts_usec;

static void
put32(uint32_t v)
{
	fwrite(&v, 4, 1, out);
}

static uint16_t
cksum(const uint8_t *p, size_t n)
{
	uint32_t	sum = 0;

	for (; n > 1; p += 2, n -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (n)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ((uint16_t)~sum);
}

static void
emit(const uint8_t *frame, size_t len)
{
	put32(1700000000);
	put32(ts_usec++);
	put32((uint32_t)len);
	put32((uint32_t)len);
	fwrite(frame, 1, len, out);
}

static void
pcap_header(void)
{
	put32(0xa1b2c3d4);
	put32(2 | 4 << 16);
	put32(0);
	put32(0);
	put32(65535);
	put32(1);
}

/* One packet: v6 selects IPv6; proto 6 (TCP) or 17 (UDP). */
static void
packet(int v6, int proto, const char *src, const char *dst, uint16_t sport,
    uint16_t dport, size_t payload)
{
	uint8_t	 f[2000];
	size_t	 l3 = 14, l4, hl = proto == 6 ? 20 : 8, len;

	memset(f, 0, sizeof f);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = v6 ? 0x86 : 0x08;
	f[13] = v6 ? 0xdd : 0x00;
	if (v6) {
		f[l3] = 0x60;
		f[l3 + 4] = (uint8_t)((hl + payload) >> 8);
		f[l3 + 5] = (uint8_t)(hl + payload);
		f[l3 + 6] = (uint8_t)proto;
		f[l3 + 7] = 64;
		inet_pton(AF_INET6, src, f + l3 + 8);
		inet_pton(AF_INET6, dst, f + l3 + 24);
		l4 = l3 + 40;
	} else {
		uint16_t	tot = (uint16_t)(20 + hl + payload), c;

		f[l3] = 0x45;
		f[l3 + 2] = (uint8_t)(tot >> 8);
		f[l3 + 3] = (uint8_t)tot;
		f[l3 + 6] = 0x40;
		f[l3 + 8] = 64;
		f[l3 + 9] = (uint8_t)proto;
		inet_pton(AF_INET, src, f + l3 + 12);
		inet_pton(AF_INET, dst, f + l3 + 16);
		c = cksum(f + l3, 20);
		f[l3 + 10] = (uint8_t)(c >> 8);
		f[l3 + 11] = (uint8_t)c;
		l4 = l3 + 20;
	}
	f[l4] = (uint8_t)(sport >> 8);
	f[l4 + 1] = (uint8_t)sport;
	f[l4 + 2] = (uint8_t)(dport >> 8);
	f[l4 + 3] = (uint8_t)dport;
	if (proto == 6) {
		f[l4 + 12] = 0x50;
		f[l4 + 13] = 0x18;	/* PSH ACK */
		f[l4 + 15] = 0xff;
	} else {
		f[l4 + 4] = (uint8_t)((8 + payload) >> 8);
		f[l4 + 5] = (uint8_t)(8 + payload);
	}
	len = l4 + hl + payload;
	memset(f + l4 + hl, 'x', payload);
	emit(f, len);
}

/* One ICMP echo request (type 8) or reply (0) on lo. */
static void
ping_packet(int type, uint16_t seq, size_t size)
{
	static uint8_t	f[14 + 20 + 8 + 65000];
	size_t		l3 = 14, l4 = l3 + 20;
	uint16_t	tot = (uint16_t)(20 + 8 + size), c;

	memset(f, 0, sizeof f);
	f[12] = 0x08;
	f[l3] = 0x45;
	f[l3 + 2] = (uint8_t)(tot >> 8);
	f[l3 + 3] = (uint8_t)tot;
	f[l3 + 6] = 0x40;
	f[l3 + 8] = 64;
	f[l3 + 9] = 1;
	inet_pton(AF_INET, "127.0.0.1", f + l3 + 12);
	inet_pton(AF_INET, "127.0.0.1", f + l3 + 16);
	c = cksum(f + l3, 20);
	f[l3 + 10] = (uint8_t)(c >> 8);
	f[l3 + 11] = (uint8_t)c;
	f[l4] = (uint8_t)type;
	f[l4 + 4] = 0x12;
	f[l4 + 6] = (uint8_t)(seq >> 8);
	f[l4 + 7] = (uint8_t)seq;
	memset(f + l4 + 8, 'p', size);
	c = cksum(f + l4, 8 + size);
	f[l4 + 2] = (uint8_t)(c >> 8);
	f[l4 + 3] = (uint8_t)c;
	emit(f, l4 + 8 + size);
}

static int
parse_mac(const char *s, uint8_t *m)
{
	return (sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &m[0], &m[1], &m[2],
	    &m[3], &m[4], &m[5]) == 6 ? 0 : -1);
}

int
main(int argc, char **argv)
{
	long	 rounds, r, payload = 1000;
	size_t	 p;

	if (argc == 5 && strcmp(argv[1], "--ping") == 0) {
		rounds = strtol(argv[3], NULL, 10);
		payload = strtol(argv[4], NULL, 10);
		if (rounds < 0 || payload < 0 || payload > 65000) {
			fprintf(stderr, "pktgen: --ping COUNT SIZE (SIZE at "
			    "most 65000, as lo's MTU allows)\n");
			return (2);
		}
		if ((out = fopen(argv[2], "wb")) == NULL) {
			perror(argv[2]);
			return (1);
		}
		pcap_header();
		for (r = 0; r < rounds; r++) {
			ping_packet(8, (uint16_t)r, (size_t)payload);
			ping_packet(0, (uint16_t)r, (size_t)payload);
		}
		return (fclose(out) == 0 ? 0 : 1);
	}
	if (argc < 5 || parse_mac(argv[2], smac) || parse_mac(argv[3], dmac)) {
		fprintf(stderr, "usage: pktgen OUT SRC_MAC DST_MAC ROUNDS "
		    "[PAYLOAD]\n       pktgen --ping OUT COUNT SIZE\n");
		return (2);
	}
	rounds = strtol(argv[4], NULL, 10);
	if (argc > 5)
		payload = strtol(argv[5], NULL, 10);
	if ((out = fopen(argv[1], "wb")) == NULL) {
		perror(argv[1]);
		return (1);
	}
	pcap_header();
	for (r = 0; r < rounds; r++) {
		p = (size_t)(payload / 4 + (r * 37) % (payload - payload / 4 +
		    1));
		packet(0, 6, "10.77.0.2", "10.77.0.1",
		    (uint16_t)(40000 + r % 5), 80, p);
		packet(0, 6, "10.77.0.1", "10.77.0.2", 80,
		    (uint16_t)(40000 + r % 5), p / 2);
		packet(0, 6, "10.77.0.2", "10.77.0.1", 50000, 443, 100);
		packet(0, 6, "10.77.0.2", "10.77.0.1", 50001, 8080, 200);
		packet(0, 17, "10.77.0.2", "10.77.0.1", 5353, 53, 60);
		packet(0, 17, "10.77.0.1", "10.77.0.2", 53, 5353, 120);
		packet(0, 17, "10.77.0.2", "10.77.0.9", 6000, 9999, 30);
		packet(1, 17, "fd77::2", "fd77::1", 5353, 53, 60);
		packet(1, 6, "fd77::1", "fd77::2", 22, 60000, p);
	}
	return (fclose(out) == 0 ? 0 : 1);
}
