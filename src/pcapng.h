/*
 * pcapng blocks (draft-ietf-opsawg-pcapng): the section header, interface
 * description and statistics blocks a capture file carries beside its
 * packets, enhanced packet block headers, and a reader that walks a file
 * block by block. Blocks are written in the host's byte order, which the
 * section header's byte-order magic tells readers.
 */
#ifndef PCAPNG_H
#define PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define PCAPNG_SHB	0x0a0d0d0aU
#define PCAPNG_IDB	1U
#define PCAPNG_ISB	5U
#define PCAPNG_EPB	6U
#define PCAPNG_BOM	0x1a2b3c4dU

#define PCAPNG_PAD4(n)	(((n) + 3) & ~(size_t)3)
/* An enhanced packet block around caplen bytes of packet. */
#define PCAPNG_EPB_HDR	28
#define PCAPNG_EPB_LEN(caplen)	(PCAPNG_EPB_HDR + PCAPNG_PAD4(caplen) + 4)
/* The interface statistics block pcapng_isb() writes. */
#define PCAPNG_ISB_LEN	88
/* No block of ours is longer than this (the SHB's comment is bounded). */
#define PCAPNG_MAX_BLOCK	(1024 * 1024)

struct dynbuf;

/* A 32-bit word of a block, in this host's byte order, as written. */
static inline uint32_t
pcapng_get32(const unsigned char *p)
{
	uint32_t	v;

	__builtin_memcpy(&v, p, 4);
	return (v);
}

/* What the section and its one interface say of themselves. */
struct pcapng_info {
	int		 linktype;
	uint32_t	 snaplen;	/* 0: whole packets */
	const char	*comment;	/* the section's: NULL for none */
	const char	*if_name;	/* NULL for none, and the rest */
	const char	*if_description;
	const char	*if_filter;	/* the expression as compiled */
};

/* Counters for the statistics block, nanosecond times. */
struct pcapng_stats {
	int64_t		start_ns;
	int64_t		end_ns;
	uint64_t	received;	/* isb_ifrecv */
	uint64_t	if_drops;	/* isb_ifdrop */
	uint64_t	os_drops;	/* isb_osdrop: the kernel's */
};

/* Appends a section header block and an interface description block. */
void	pcapng_header(struct dynbuf *, const struct pcapng_info *);
/*
 * Writes the 28 bytes before an enhanced packet block's data, and zeroes
 * the word its data's padding ends in (so no byte of the block is left
 * unset). Inline: it is in every packet's path.
 */
static inline void
pcapng_epb_hdr(unsigned char *p, int64_t ts_ns, uint32_t caplen,
    uint32_t len)
{
	uint32_t	h[7], zero = 0;

	h[0] = PCAPNG_EPB;
	h[1] = (uint32_t)PCAPNG_EPB_LEN(caplen);
	h[2] = 0;			/* interface 0 */
	h[3] = (uint32_t)((uint64_t)ts_ns >> 32);
	h[4] = (uint32_t)ts_ns;
	h[5] = caplen;
	h[6] = len;
	__builtin_memcpy(p, h, sizeof h);
	__builtin_memcpy(p + PCAPNG_EPB_HDR + (caplen & ~3U), &zero, 4);
}
/* Writes an interface statistics block, PCAPNG_ISB_LEN bytes. */
void	pcapng_isb(unsigned char *, const struct pcapng_stats *);

/*
 * One block, whole, as pcapng_scan hands it over: ts_ns, caplen and len
 * are set for packet blocks, in nanoseconds whatever the interface's
 * resolution.
 */
struct pcapng_block {
	uint32_t		 type;
	uint64_t		 off;
	uint32_t		 len;
	const unsigned char	*data;	/* the whole block */
	int64_t			 ts_ns;
	int64_t			 ts_unit;	/* of the block's stamp, ns */
	uint32_t		 caplen;
	uint32_t		 origlen;
};

/*
 * Reads fd's first size bytes as one pcapng section of one interface,
 * calling fn for every whole block after the section header (fn returns
 * non-zero to stop). Returns the offset after the last whole, valid block
 * (where a file cut short by a crash should end), or -1 when fd does not
 * start with a section header in this host's byte order.
 */
int64_t	pcapng_scan(int fd, uint64_t size,
	    int (*fn)(void *, const struct pcapng_block *), void *arg);

#endif
