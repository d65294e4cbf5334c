/* pcapng blocks: writing the ones a capture file needs, reading them back. */
#include "config.h"

#include <sys/utsname.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcapng.h"
#include "xmalloc.h"

#define OPT_ENDOFOPT	0
#define OPT_COMMENT	1
#define SHB_HARDWARE	2
#define SHB_OS		3
#define SHB_USERAPPL	4
#define IF_NAME		2
#define IF_DESCRIPTION	3
#define IF_TSRESOL	9
#define IF_FILTER	11
#define ISB_STARTTIME	2
#define ISB_ENDTIME	3
#define ISB_IFRECV	4
#define ISB_IFDROP	5
#define ISB_OSDROP	7
#define OPT_MAX		65535	/* an option's length is 16 bits */

static void
put16(unsigned char *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* A timestamp as pcapng keeps it: high word first, then low. */
static void
put_ts(unsigned char *p, uint64_t ts)
{
	put32(p, (uint32_t)(ts >> 32));
	put32(p + 4, (uint32_t)ts);
}

static void
add32(struct dynbuf *b, uint32_t v)
{
	dynbuf_add(b, &v, 4);
}

/*
 * Appends an option: code, length, value (prefix bytes, then v), padded
 * to 4 bytes. A string longer than an option holds is cut back to the
 * last whole UTF-8 character that fits.
 */
static void
add_opt(struct dynbuf *b, uint16_t code, const void *prefix, size_t plen,
    const void *v, size_t n)
{
	static const unsigned char	zero[4];
	unsigned char			h[4];
	const unsigned char		*s = v;

	if (plen + n > OPT_MAX) {
		n = OPT_MAX - plen;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	}
	put16(h, code);
	put16(h + 2, (uint16_t)(plen + n));
	dynbuf_add(b, h, 4);
	if (plen > 0)
		dynbuf_add(b, prefix, plen);
	dynbuf_add(b, v, n);
	dynbuf_add(b, zero, PCAPNG_PAD4(plen + n) - (plen + n));
}

static void
add_str(struct dynbuf *b, uint16_t code, const char *s)
{
	if (s != NULL && *s != '\0')
		add_opt(b, code, NULL, 0, s, strlen(s));
}

/* Ends the block begun at start: the end of options and both lengths. */
static void
end_block(struct dynbuf *b, size_t start)
{
	uint32_t	len;

	add32(b, OPT_ENDOFOPT);
	len = (uint32_t)(b->len - start + 4);
	add32(b, len);
	memcpy(b->buf + start + 4, &len, 4);
}

void
pcapng_header(struct dynbuf *b, const struct pcapng_info *in)
{
	static char		hardware[80], os[160];
	static const char	userappl[] = "alertcapd " PACKAGE_VERSION;
	static const unsigned char tsresol = 9, filter_kind = 0;
	struct utsname		u;
	unsigned char		h[16];
	size_t			start;

	if (*os == '\0' && uname(&u) == 0) {
		snprintf(hardware, sizeof hardware, "%s", u.machine);
		snprintf(os, sizeof os, "%s %s", u.sysname, u.release);
	}
	start = b->len;
	add32(b, PCAPNG_SHB);
	add32(b, 0);			/* the length, when it is known */
	add32(b, PCAPNG_BOM);
	put16(h, 1);			/* version 1.0 */
	put16(h + 2, 0);
	memset(h + 4, 0xff, 8);		/* section length: not said */
	dynbuf_add(b, h, 12);
	add_str(b, SHB_HARDWARE, hardware);
	add_str(b, SHB_OS, os);
	add_str(b, SHB_USERAPPL, userappl);
	add_str(b, OPT_COMMENT, in->comment);
	end_block(b, start);

	start = b->len;
	add32(b, PCAPNG_IDB);
	add32(b, 0);
	put16(h, (uint16_t)in->linktype);
	put16(h + 2, 0);
	put32(h + 4, in->snaplen == 0 ? 262144 : in->snaplen);
	dynbuf_add(b, h, 8);
	add_str(b, IF_NAME, in->if_name);
	add_str(b, IF_DESCRIPTION, in->if_description);
	if (in->if_filter != NULL && *in->if_filter != '\0')
		add_opt(b, IF_FILTER, &filter_kind, 1, in->if_filter,
		    strlen(in->if_filter));
	add_opt(b, IF_TSRESOL, NULL, 0, &tsresol, 1);	/* nanoseconds */
	end_block(b, start);
}

/* One 8-byte option of a statistics block. */
static unsigned char *
isb_opt(unsigned char *p, uint16_t code, uint64_t v, int is_ts)
{
	put16(p, code);
	put16(p + 2, 8);
	if (is_ts)
		put_ts(p + 4, v);
	else
		memcpy(p + 4, &v, 8);
	return (p + 12);
}

void
pcapng_isb(unsigned char *p, const struct pcapng_stats *st)
{
	unsigned char	*o;

	put32(p, PCAPNG_ISB);
	put32(p + 4, PCAPNG_ISB_LEN);
	put32(p + 8, 0);
	put_ts(p + 12, (uint64_t)st->end_ns);
	o = isb_opt(p + 20, ISB_STARTTIME, (uint64_t)st->start_ns, 1);
	o = isb_opt(o, ISB_ENDTIME, (uint64_t)st->end_ns, 1);
	o = isb_opt(o, ISB_IFRECV, st->received, 0);
	o = isb_opt(o, ISB_IFDROP, st->if_drops, 0);
	o = isb_opt(o, ISB_OSDROP, st->os_drops, 0);
	put32(o, OPT_ENDOFOPT);
	put32(o + 4, PCAPNG_ISB_LEN);
}

/* A window of the file being scanned, read in large pieces. */
struct scan {
	int		 fd;
	uint64_t	 size;
	unsigned char	*buf;
	uint64_t	 base;		/* the file offset of buf[0] */
	size_t		 have;
};

#define SCAN_BUF	(PCAPNG_MAX_BLOCK + 65536)

/* Bytes [off, off + n) of the file, or NULL if they are not all there. */
static const unsigned char *
scan_at(struct scan *s, uint64_t off, size_t n)
{
	uint64_t	want;
	ssize_t		r;

	if (off + n > s->size || n > SCAN_BUF)
		return (NULL);
	if (off >= s->base && off + n <= s->base + s->have)
		return (s->buf + (off - s->base));
	want = s->size - off < SCAN_BUF ? s->size - off : SCAN_BUF;
	s->base = off;
	s->have = 0;
	while (s->have < want) {
		r = pread(s->fd, s->buf + s->have, want - s->have,
		    (off_t)(off + s->have));
		if (r <= 0)
			break;
		s->have += (size_t)r;
	}
	return (s->have >= n ? s->buf : NULL);
}

/* The unit of an interface's timestamps in ns, from its options; 0: bad. */
static int64_t
idb_unit(const unsigned char *b, uint32_t len)
{
	uint32_t	at = 16, olen;
	uint16_t	code, n;
	int64_t		unit = 1000;	/* no if_tsresol: microseconds */
	int		i;

	while (at + 4 <= len - 4) {
		memcpy(&code, b + at, 2);
		memcpy(&n, b + at + 2, 2);
		olen = (uint32_t)PCAPNG_PAD4(n);
		if (code == OPT_ENDOFOPT || at + 4 + olen > len - 4)
			break;
		if (code == IF_TSRESOL && n == 1) {
			if ((b[at + 4] & 0x80) != 0 || b[at + 4] > 9)
				return (0);
			for (unit = 1, i = b[at + 4]; i < 9; i++)
				unit *= 10;
		}
		at += 4 + olen;
	}
	return (unit);
}

int64_t
pcapng_scan(int fd, uint64_t size, int (*fn)(void *,
    const struct pcapng_block *), void *arg)
{
	struct scan		 s = { fd, size, NULL, 0, 0 };
	struct pcapng_block	 blk;
	const unsigned char	*p;
	uint64_t		 off;
	int64_t			 unit = 0;
	uint32_t		 len;

	s.buf = xmalloc(SCAN_BUF);
	if ((p = scan_at(&s, 0, 12)) == NULL || pcapng_get32(p) != PCAPNG_SHB ||
	    pcapng_get32(p + 8) != PCAPNG_BOM || (len = pcapng_get32(p + 4)) < 28 ||
	    len % 4 != 0 || (p = scan_at(&s, 0, len)) == NULL ||
	    pcapng_get32(p + len - 4) != len) {
		free(s.buf);
		return (-1);
	}
	off = len;
	while ((p = scan_at(&s, off, 8)) != NULL) {
		memset(&blk, 0, sizeof blk);
		blk.type = pcapng_get32(p);
		blk.len = len = pcapng_get32(p + 4);
		blk.off = off;
		if (len < 12 || len % 4 != 0 || len > PCAPNG_MAX_BLOCK ||
		    blk.type == PCAPNG_SHB || (p = scan_at(&s, off, len)) ==
		    NULL || pcapng_get32(p + len - 4) != len)
			break;
		blk.data = p;
		if (blk.type == PCAPNG_IDB) {
			if (len < 20 || unit != 0 ||	/* one interface */
			    (unit = idb_unit(p, len)) == 0)
				break;
		} else if (blk.type == PCAPNG_EPB) {
			blk.caplen = pcapng_get32(p + 20);
			blk.origlen = pcapng_get32(p + 24);
			if (unit == 0 || len < 32 || pcapng_get32(p + 8) != 0 ||
			    blk.caplen > len - 32)
				break;
			blk.ts_unit = unit;
			blk.ts_ns = (int64_t)((uint64_t)pcapng_get32(p + 12) << 32 |
			    pcapng_get32(p + 16)) * unit;
		}
		off += len;
		if (fn != NULL && fn(arg, &blk) != 0)
			break;
	}
	free(s.buf);
	return ((int64_t)off);
}
