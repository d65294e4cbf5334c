/*
 * Capture files: a buffered writer of pcapng (pcapng.h) or classic pcap
 * that hashes what it writes, on the file thread (iothread.h) or inline,
 * and the repair of a file cut short by a crash.
 * Files are created exclusively below a directory descriptor
 * (captures.root), never through a symlink.
 */
#ifndef PCAPFILE_H
#define PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "pcapng.h"

#define PCAP_GLOBAL_HDR	24
#define PCAP_RECORD_HDR	16

/* The formats, by name (captures.format, a capture's format). */
#define PCAPFMT_NAMES	"pcapng, pcap"
enum pcapfmt {
	PCAPFMT_PCAPNG,
	PCAPFMT_PCAP,
};

/* What a new file is, and what a pcapng file says of itself. */
struct pcapw_desc {
	enum pcapfmt		format;
	int			hash;	/* keep a SHA-256 of what is written */
	/*
	 * Written and hashed on the file thread, with O_DIRECT where the
	 * file system takes it (a capture's file): a write's failure is
	 * then known a buffer or more later, and the file is on disk only
	 * once its outcome is (pcapw_close_later). Else inline, as a
	 * lookback segment, which is read back while it is written.
	 */
	int			offload;
	/*
	 * The most bytes the file may reach (0: no bound). pcapng keeps
	 * room for its closing statistics block within it, and leaves the
	 * section comment out when the header would leave less than 64 KiB
	 * of it for packets.
	 */
	uint64_t		limit;
	struct pcapng_info	info;
	/*
	 * Non-NULL (pcapng with a comment only): the header waits, with the
	 * packets in memory, for pcapw_release() to end the comment with a
	 * note that is not known yet (a capture's context at its start);
	 * this ends it instead if a flush must write the header first.
	 */
	const char		*hold_note;
};

/* The longest note pcapw_release() adds to a held header's comment. */
#define PCAPW_NOTE_MAX	2048

struct pcapw_hold;
struct io_stream;
struct io_result;

struct pcapw {
	struct io_stream *io;		/* writes and hashes (iothread.h) */
	unsigned char	*buf;		/* aligned, for O_DIRECT */
	size_t		 len;
	size_t		 cap;
	uint64_t	 base;		/* the file offset of buf[0] */
	uint64_t	 sent;		/* bytes the stream writes whole */
	uint64_t	 bytes;		/* header + records, buffered or not */
	uint64_t	 packets;
	int		 failed;	/* a write failed: the file is final */
	enum pcapfmt	 format;
	uint32_t	 trailer;	/* bytes pcapw_close may still add */
	struct pcapw_hold *hold;	/* the header not written yet */
	uint64_t	 ino;		/* the file's inode: whose name is whose */
};

/* Bytes a packet of caplen bytes takes in w's file. */
static inline uint64_t
pcapw_record_bytes(const struct pcapw *w, uint32_t caplen)
{
	return (w->format == PCAPFMT_PCAPNG ? PCAPNG_EPB_LEN(caplen) :
	    PCAP_RECORD_HDR + (uint64_t)caplen);
}

/* Would a packet of caplen bytes keep w's file within limit, closed? */
static inline int
pcapw_fits(const struct pcapw *w, uint32_t caplen, uint64_t limit)
{
	return (w->bytes + pcapw_record_bytes(w, caplen) + w->trailer <=
	    limit);
}

/* A format by its name: 0, or -1. */
int		 pcapfmt_find(const char *name, enum pcapfmt *);
const char	*pcapfmt_name(enum pcapfmt);
/* The file name extension (without the dot) and the media type. */
const char	*pcapfmt_ext(enum pcapfmt);
const char	*pcapfmt_content_type(enum pcapfmt);
/*
 * A file's format by its name: .pcapng, or else classic pcap (a name
 * given in storage.file may end as it likes), and its media type.
 */
enum pcapfmt	 pcapfile_format(const char *path);
const char	*pcapfile_content_type(const char *path);

/*
 * Opens relpath below rootfd for writing, creating missing directories
 * (mode 0750) and the file exclusively (mode 0640), refusing symlinks.
 * hash: keep a SHA-256 of what is written. On error returns NULL with
 * *cause (new).
 */
struct pcapw	*pcapw_open(int rootfd, const char *relpath,
		    const struct pcapw_desc *, char **cause);
/*
 * Buffers one record; flushes when the buffer fills. -1 on write error.
 * A failed write (ENOSPC, EIO) leaves the file cut after its last whole
 * record, with bytes, packets and the hash counting only that; the writer
 * then takes nothing more. Offloaded, the failure shows at a later call
 * (bytes and packets then drop to what the file keeps), or only in the
 * outcome at close.
 */
int		 pcapw_write(struct pcapw *, int64_t ts_ns, uint32_t caplen,
		    uint32_t len, const unsigned char *data);
/*
 * Writes what is buffered, the held header first (offloaded: hands it to
 * the thread). -1 on write error, as pcapw_write.
 */
int		 pcapw_flush(struct pcapw *);
/*
 * Puts a held header before the packets buffered, its comment ended with
 * note (at most PCAPW_NOTE_MAX bytes of it; NULL: the hold_note), to be
 * written with them. 0.
 */
int		 pcapw_release(struct pcapw *, const char *note);
static inline int
pcapw_held(const struct pcapw *w)
{
	return (w->hold != NULL);
}
/*
 * Ends a pcapng file with its interface statistics block, in the room
 * kept for it (nothing for pcap, or once ended). -1 on write error, as
 * pcapw_flush.
 */
int		 pcapw_end(struct pcapw *, const struct pcapng_stats *);
/*
 * Flushes (no fsync) and ends the file: its outcome (iothread.h: the
 * digest, "" when not hashing; or a failed write and what the file keeps)
 * comes with the result, to wait for with io_result_wait before the file
 * is committed or read, and to free with io_result_free.
 */
struct io_result *pcapw_close_later(struct pcapw *);
/*
 * pcapw_close_later and its wait: the file's SHA-256 in sha256 (hex, 65
 * bytes; "" when not hashing) unless NULL; -1 with errno if a write failed.
 */
int		 pcapw_close(struct pcapw *, char *sha256);

/*
 * Opens the directory holding relpath below rootfd, one component at a
 * time, refusing symlinks; returns its fd and sets *base to the file name.
 */
int		 pcapfile_dir(int rootfd, const char *relpath, int create,
		    const char **base, char **cause);

/*
 * A capture file's life below the captures root: written as relpath +
 * ".part", made durable under relpath when it is finished, repaired and
 * committed at restart if the daemon died while writing it. Only these
 * functions know the ".part" name.
 */
#define PCAPFILE_PART	".part"

/*
 * pcapw_open of relpath.part: a new capture's file. The file is a spare
 * (one kept for relpath's directory, else one made here), still without
 * a name: *toname is then a descriptor of it, to be given its name with
 * pcapfile_name off the loop (a name takes the directory's lock, which a
 * rename or a link there holds for milliseconds behind the disk). Only
 * where spares are off is the file made under its name here, with
 * *toname -1. Either way relpath, or its .part, taken is refused (EEXIST)
 * as O_EXCL would: here, or by pcapfile_name.
 */
struct pcapw	*pcapfile_create(int rootfd, const char *relpath,
		    const struct pcapw_desc *, int *toname, char **cause);
/*
 * Gives the file of pcapfile_create's *toname (fd, closed) its name,
 * relpath.part: 0, or -1 with *cause and errno (EEXIST: relpath or its
 * .part is there already). Blocks: on the worker, before anything else
 * that takes the file by its name.
 */
int		 pcapfile_name(int rootfd, const char *relpath, int fd,
		    char **cause);
/*
 * Is relpath taken, finished or being written (1), or free (0)? Makes
 * its directories. -1 with *cause if they cannot be.
 */
int		 pcapfile_taken(int rootfd, const char *relpath, char **cause);
/*
 * Spare files: inodes made ahead (O_TMPFILE) in the directory of the last
 * capture file, so that pcapfile_create there links one under its name
 * instead of making an inode, which on a busy ext4 waits on its bitmaps
 * and its journal (milliseconds, on the loop). pcapfile_spare_wanted
 * says whether relpath's directory wants one more, and counts it as
 * coming; the caller makes it with pcapfile_spare_make (it blocks: on the
 * worker) and hands it over with pcapfile_spare_put (on the loop), what
 * make returned either way. A file system without O_TMPFILE, or without
 * /proc to link through (pcapfile_spares_probe), turns spares off: files
 * are created as before.
 */
/* Kept at most: enough for the worker to be one long fsync behind. */
#define PCAPFILE_SPARES	32
int		 pcapfile_spare_wanted(const char *relpath);
/* A spare for relpath's directory: its fd, or -errno. */
int		 pcapfile_spare_make(int rootfd, const char *relpath);
void		 pcapfile_spare_put(const char *relpath, int fd);
/* Closes the spares kept; for shutdown. */
void		 pcapfile_spares_close(void);
/*
 * Turns spares off unless a file made with O_TMPFILE in rootfd can be
 * given a name there (through /proc). Once, at start.
 */
void		 pcapfile_spares_probe(int rootfd);
/*
 * Removes relpath.part, a capture that never started, if it is the file
 * of inode ino (a pcapw's; 0: whatever is there). Blocks: off the loop.
 */
void		 pcapfile_discard(int rootfd, const char *relpath,
		    uint64_t ino);
/* Removes the finished relpath; -1 with errno. */
int		 pcapfile_remove(int rootfd, const char *relpath);
/* Opens the finished relpath to read: fd and *size, or -1 with *cause. */
int		 pcapfile_open_final(int rootfd, const char *relpath,
		    int64_t *size, char **cause);

/*
 * Makes a finished capture file durable under its final name: fsyncs
 * relpath.part below rootfd, renames it to relpath (never replacing a
 * file) and fsyncs the directory. Blocks: run it off the loop. -1 with
 * *cause, also when relpath.part is not the file of inode ino (a pcapw's,
 * which another file's name kept from being named; 0: whatever is there).
 */
int		 pcapfile_commit(int rootfd, const char *relpath, uint64_t ino,
		    char **cause);
/*
 * At restart: repairs relpath.part (pcapfile_repair) and commits it.
 * -1 with *cause.
 */
int		 pcapfile_recover(int rootfd, const char *relpath,
		    uint64_t *packets, uint64_t *bytes, char *sha256,
		    char **cause);

/*
 * Repairs a file left by a crash, pcapng or pcap: truncates it after the
 * last whole block or record and counts packets and bytes; computes its
 * SHA-256. -1 with *cause when not even a header reached the disk.
 */
int		 pcapfile_repair(int dirfd, const char *name, uint64_t *packets,
		    uint64_t *bytes, char *sha256, char **cause);

#endif
