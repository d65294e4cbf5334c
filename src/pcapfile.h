/*
 * Capture files: a buffered pcap writer that hashes as it writes, and the
 * repair of a file cut short by a crash. Files are created exclusively
 * below a directory descriptor (captures.root), never through a symlink.
 */
#ifndef PCAPFILE_H
#define PCAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define PCAP_GLOBAL_HDR	24
#define PCAP_RECORD_HDR	16
/* The media type of classic pcap files, as served and uploaded. */
#define PCAP_CONTENT_TYPE	"application/vnd.tcpdump.pcap"

struct pcapw {
	int		 fd;
	unsigned char	*buf;
	size_t		 len;
	size_t		 cap;
	uint64_t	 bytes;		/* header + records, buffered or not */
	uint64_t	 packets;
	uint64_t	 flushed;	/* bytes on disk, whole records only */
	uint64_t	 flushed_packets;
	int		 failed;	/* a write failed: the file is final */
	EVP_MD_CTX	*md;		/* NULL: not hashing */
};

/*
 * Opens relpath below rootfd for writing, creating missing directories
 * (mode 0750) and the file exclusively (mode 0640), refusing symlinks.
 * hash: keep a SHA-256 of what is written. On error returns NULL with
 * *cause (new).
 */
struct pcapw	*pcapw_open(int rootfd, const char *relpath, int linktype,
		    uint32_t snaplen, int hash, char **cause);
/*
 * Buffers one record; flushes when the buffer fills. -1 on write error.
 * A failed write (ENOSPC, EIO) leaves the file cut after its last whole
 * record, with bytes, packets and the hash counting only that; the writer
 * then takes nothing more.
 */
int		 pcapw_write(struct pcapw *, int64_t ts_us, uint32_t caplen,
		    uint32_t len, const unsigned char *data);
int		 pcapw_flush(struct pcapw *);
/*
 * Flushes (no fsync), closes, and gives the file's SHA-256 (hex, 65
 * bytes; "" when opened without hashing). -1 on an error not already
 * reported by pcapw_write or pcapw_flush.
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

/* pcapw_open of relpath.part: a new capture's file. */
struct pcapw	*pcapfile_create(int rootfd, const char *relpath, int linktype,
		    uint32_t snaplen, int hash, char **cause);
/*
 * Is relpath taken, finished or being written (1), or free (0)? Makes
 * its directories. -1 with *cause if they cannot be.
 */
int		 pcapfile_taken(int rootfd, const char *relpath, char **cause);
/* Removes relpath.part: a capture that never started. */
void		 pcapfile_discard(int rootfd, const char *relpath);
/* Removes the finished relpath; -1 with errno. */
int		 pcapfile_remove(int rootfd, const char *relpath);
/* Opens the finished relpath to read: fd and *size, or -1 with *cause. */
int		 pcapfile_open_final(int rootfd, const char *relpath,
		    int64_t *size, char **cause);

/*
 * Makes a finished capture file durable under its final name: fsyncs
 * relpath.part below rootfd, renames it to relpath (never replacing a
 * file) and fsyncs the directory. Blocks: run it off the loop. -1 with
 * *cause.
 */
int		 pcapfile_commit(int rootfd, const char *relpath, char **cause);
/*
 * At restart: repairs relpath.part (pcapfile_repair) and commits it.
 * -1 with *cause.
 */
int		 pcapfile_recover(int rootfd, const char *relpath,
		    uint64_t *packets, uint64_t *bytes, char *sha256,
		    char **cause);

/*
 * Repairs a file left by a crash: truncates it after the last whole
 * record and counts records and bytes; computes its SHA-256. Creates a
 * valid empty file if it lacks even a header. -1 with *cause.
 */
int		 pcapfile_repair(int dirfd, const char *name, uint64_t *packets,
		    uint64_t *bytes, char *sha256, char **cause);

#endif
