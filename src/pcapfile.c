/* The capture file writer (pcapng or pcap) and crash repair. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compat.h"
#include "iothread.h"
#include "pcapfile.h"
#include "util.h"
#include "xmalloc.h"

/* > one whole 256 KiB packet and the part block before it; IO_ALIGNed */
#define PCAPW_BUFSIZE	(512 * 1024)
/*
 * A new file's first buffer: its header, and packets until they need the
 * full one. Most captures of an alert storm take nothing; a full buffer
 * each was an mmap and an munmap on the loop, which waited there for the
 * other threads' hold on the address space (their page faults, the file
 * thread's direct writes pinning their buffers).
 */
#define PCAPW_FIRSTSIZE	(16 * 1024)
#define PCAPW_MIN_ROOM	(64 * 1024)	/* a header leaves this for packets */
#define PCAP_MAGIC	0xa1b2c3d4U

struct pcap_hdr {
	uint32_t	magic;
	uint16_t	major;
	uint16_t	minor;
	int32_t		thiszone;
	uint32_t	sigfigs;
	uint32_t	snaplen;
	uint32_t	linktype;
};

struct pcap_rec {
	uint32_t	ts_sec;
	uint32_t	ts_usec;
	uint32_t	caplen;
	uint32_t	len;
};

static const struct {
	const char	*name;
	const char	*ext;
	const char	*content_type;
} pcapfmts[] = {
	[PCAPFMT_PCAPNG] = { "pcapng", "pcapng", "application/x-pcapng" },
	[PCAPFMT_PCAP] = { "pcap", "pcap", "application/vnd.tcpdump.pcap" },
};

int
pcapfmt_find(const char *name, enum pcapfmt *f)
{
	size_t	i;

	for (i = 0; i < sizeof pcapfmts / sizeof pcapfmts[0]; i++)
		if (strcmp(pcapfmts[i].name, name) == 0) {
			*f = (enum pcapfmt)i;
			return (0);
		}
	return (-1);
}

const char *
pcapfmt_name(enum pcapfmt f)
{
	return (pcapfmts[f].name);
}

const char *
pcapfmt_ext(enum pcapfmt f)
{
	return (pcapfmts[f].ext);
}

const char *
pcapfmt_content_type(enum pcapfmt f)
{
	return (pcapfmts[f].content_type);
}

enum pcapfmt
pcapfile_format(const char *path)
{
	size_t	n = strlen(path);

	return (n > 7 && strcmp(path + n - 7, ".pcapng") == 0 ?
	    PCAPFMT_PCAPNG : PCAPFMT_PCAP);
}

const char *
pcapfile_content_type(const char *path)
{
	return (pcapfmt_content_type(pcapfile_format(path)));
}

int
pcapfile_dir(int rootfd, const char *relpath, int create, const char **base,
    char **cause)
{
	const char	*c, *slash;
	char		 comp[256];
	int		 fd, next;
	size_t		 n;

	if (!relpath_safe(relpath)) {
		*cause = xasprintf("'%s' is not a safe relative path", relpath);
		return (-1);
	}
	if ((fd = dup(rootfd)) == -1) {
		*cause = xasprintf("dup: %s", strerror(errno));
		return (-1);
	}
	for (c = relpath; (slash = strchr(c, '/')) != NULL; c = slash + 1) {
		n = (size_t)(slash - c);
		if (n >= sizeof comp) {
			*cause = xstrdup("path component too long");
			goto fail;
		}
		memcpy(comp, c, n);
		comp[n] = '\0';
		if (create && mkdirat(fd, comp, 0750) == -1 && errno != EEXIST) {
			*cause = xasprintf("mkdir %s: %s", comp, strerror(errno));
			goto fail;
		}
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next == -1) {
			*cause = errno == ELOOP || errno == ENOTDIR ?
			    xasprintf("'%s' is a symlink or not a directory; "
			    "paths may not leave captures.root", comp) :
			    xasprintf("%s: %s", comp, strerror(errno));
			goto fail;
		}
		close(fd);
		fd = next;
	}
	*base = c;
	return (fd);
fail:
	close(fd);
	return (-1);
}

/*
 * The directory of relpath below rootfd (fd) and the name of relpath +
 * suffix in it (*name, new). -1 with *cause.
 */
static int
pcapfile_at(int rootfd, const char *relpath, const char *suffix, int create,
    char **name, char **cause)
{
	const char	*base;
	int		 dirfd;

	if ((dirfd = pcapfile_dir(rootfd, relpath, create, &base,
	    cause)) == -1)
		return (-1);
	*name = xasprintf("%s%s", base, suffix);
	return (dirfd);
}

/* Opens relpath + suffix below rootfd, never through a symlink. */
static int
pcapfile_open(int rootfd, const char *relpath, const char *suffix,
    int flags, char **cause)
{
	char	*name;
	int	 dirfd, fd;

	if ((dirfd = pcapfile_at(rootfd, relpath, suffix, (flags & O_CREAT) !=
	    0, &name, cause)) == -1)
		return (-1);
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd == -1)
		*cause = xasprintf("%s%s: %s", relpath, suffix,
		    strerror(errno));
	free(name);
	close(dirfd);
	return (fd);
}

/* Unlinks relpath + suffix below rootfd; -1 with errno. */
static int
pcapfile_unlink(int rootfd, const char *relpath, const char *suffix)
{
	char	*name, *cause = NULL;
	int	 dirfd, rc;

	if ((dirfd = pcapfile_at(rootfd, relpath, suffix, 0, &name,
	    &cause)) == -1) {
		free(cause);
		errno = ENOENT;
		return (-1);
	}
	rc = unlinkat(dirfd, name, 0);
	free(name);
	close(dirfd);
	return (rc);
}

/* A held header: what it will say, the strings its own. */
struct pcapw_hold {
	struct pcapw_desc	 d;
	char			*str[5];	/* d's strings */
	uint64_t		 reserve;	/* bytes counted for it */
};

#define PCAPW_HOLD_MAX	(8 * 1024 * 1024) /* packets kept while held */

/*
 * The bytes a new file starts with, in *hdr (new): a pcap file header, or
 * a pcapng section header and interface description, the comment (ended
 * with note, if any) left out when it would not leave room for packets
 * within d->limit; *kept says whether it is in.
 */
static size_t
pcapw_header(const struct pcapw_desc *d, const char *note,
    unsigned char **hdr, int *kept)
{
	struct pcap_hdr		 h;
	struct pcapng_info	 info = d->info;
	struct dynbuf		 b;
	char			*comment = NULL;

	*kept = 0;
	if (d->format == PCAPFMT_PCAP) {
		h.magic = PCAP_MAGIC;
		h.major = 2;
		h.minor = 4;
		h.thiszone = 0;
		h.sigfigs = 0;
		h.snaplen = d->info.snaplen == 0 ? 262144 : d->info.snaplen;
		h.linktype = (uint32_t)d->info.linktype;
		*hdr = xmalloc(sizeof h);
		memcpy(*hdr, &h, sizeof h);
		return (sizeof h);
	}
	if (info.comment != NULL && note != NULL)
		info.comment = comment = xasprintf("%s\n%.*s", info.comment,
		    PCAPW_NOTE_MAX, note);
	for (;;) {
		dynbuf_init(&b, 4 * PCAPNG_MAX_BLOCK);
		pcapng_header(&b, &info);
		if (d->limit == 0 || info.comment == NULL || b.len +
		    PCAPNG_ISB_LEN + PCAPW_MIN_ROOM <= d->limit)
			break;
		dynbuf_free(&b);
		info.comment = NULL;
	}
	*kept = info.comment != NULL;
	free(comment);
	*hdr = (unsigned char *)b.buf;
	return (b.len);
}

/*
 * Holds d's header back if it asks to and its comment, with the longest
 * note, fits: the bytes counted for it until pcapw_release(), or 0.
 */
static uint64_t
pcapw_hold(struct pcapw *w, const struct pcapw_desc *d)
{
	struct pcapw_hold	*h;
	unsigned char		*hdr;
	char			*longest;
	const char		**s[5];
	size_t			 n, i;
	int			 kept;

	if (d->hold_note == NULL || d->format != PCAPFMT_PCAPNG ||
	    d->info.comment == NULL)
		return (0);
	longest = xmalloc(PCAPW_NOTE_MAX + 1);
	memset(longest, 'x', PCAPW_NOTE_MAX);
	longest[PCAPW_NOTE_MAX] = '\0';
	n = pcapw_header(d, longest, &hdr, &kept);
	free(longest);
	free(hdr);
	if (!kept)
		return (0);
	h = w->hold = xcalloc(1, sizeof *h);
	h->d = *d;
	s[0] = &h->d.info.comment;
	s[1] = &h->d.info.if_name;
	s[2] = &h->d.info.if_description;
	s[3] = &h->d.info.if_filter;
	s[4] = &h->d.hold_note;
	for (i = 0; i < 5; i++)
		if (*s[i] != NULL)
			*s[i] = h->str[i] = xstrdup(*s[i]);
	return (h->reserve = n);
}

/* Frees a hold, written or not. */
static void
pcapw_hold_free(struct pcapw *w)
{
	size_t	i;

	if (w->hold == NULL)
		return;
	for (i = 0; i < 5; i++)
		free(w->hold->str[i]);
	free(w->hold);
	w->hold = NULL;
}

#define SPARES	PCAPFILE_SPARES

static struct {
	char	*dir;		/* relpath's directory part; "" the root */
	int	 fd[SPARES];
	int	 n;
	int	 coming;	/* wanted, not yet put */
	int	 off;
} spares;

/* The length of relpath's directory part. */
static size_t
spare_dirlen(const char *relpath)
{
	const char	*slash = strrchr(relpath, '/');

	return (slash != NULL ? (size_t)(slash - relpath) : 0);
}

static int
spare_dir_is(const char *relpath)
{
	size_t	n = spare_dirlen(relpath);

	return (spares.dir != NULL && strlen(spares.dir) == n &&
	    strncmp(spares.dir, relpath, n) == 0);
}

void
pcapfile_spares_close(void)
{
	while (spares.n > 0)
		close(spares.fd[--spares.n]);
	free(spares.dir);
	spares.dir = NULL;
}

int
pcapfile_spare_wanted(const char *relpath)
{
	if (spares.off)
		return (0);
	if (!spare_dir_is(relpath)) {
		pcapfile_spares_close();
		spares.dir = xstrndup(relpath, spare_dirlen(relpath));
	}
	if (spares.n + spares.coming >= SPARES)
		return (0);
	spares.coming++;
	return (1);
}

int
pcapfile_spare_make(int rootfd, const char *relpath)
{
	const char	*base;
	char		*cause = NULL;
	int		 dirfd, fd;

	if ((dirfd = pcapfile_dir(rootfd, relpath, 1, &base, &cause)) == -1) {
		free(cause);
		return (-ENOENT);
	}
	/* Readable: a failed write is cut back after reading the file. */
	fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640);
	if (fd == -1)
		fd = -errno;
	close(dirfd);
	return (fd);
}

void
pcapfile_spare_put(const char *relpath, int fd)
{
	if (spares.coming > 0)
		spares.coming--;
	/* No O_TMPFILE here: none are made again. */
	if (fd == -EOPNOTSUPP || fd == -EISDIR || fd == -EINVAL)
		spares.off = 1;
	if (fd < 0)
		return;
	if (spares.off || !spare_dir_is(relpath) || spares.n == SPARES)
		close(fd);
	else
		spares.fd[spares.n++] = fd;
}

int
pcapfile_taken(int rootfd, const char *relpath, char **cause)
{
	struct stat	 st;
	const char	*base;
	char		*part;
	int		 dirfd, taken;

	if ((dirfd = pcapfile_dir(rootfd, relpath, 1, &base, cause)) == -1)
		return (-1);
	part = xasprintf("%s%s", base, PCAPFILE_PART);
	taken = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    fstatat(dirfd, part, &st, AT_SYMLINK_NOFOLLOW) == 0;
	free(part);
	close(dirfd);
	return (taken);
}

/*
 * Gives relpath's .part a file: the unnamed fd linked under that name,
 * or with fd -1 a new one made there. Refused, as O_EXCL would, if
 * relpath or its .part is there already. The file's fd (fd itself if
 * given), or -1 with *cause and errno.
 */
static int
part_make(int rootfd, const char *relpath, int fd, char **cause)
{
	struct stat	 st;
	const char	*base, *what;
	char		 proc[40], *part;
	int		 dirfd, err = 0;

	if ((dirfd = pcapfile_dir(rootfd, relpath, 1, &base, cause)) == -1)
		return (-1);
	part = xasprintf("%s%s", base, PCAPFILE_PART);
	what = PCAPFILE_PART;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		err = EEXIST;
		what = "";
	} else if (fd == -1) {
		if ((fd = openat(dirfd, part, O_RDWR | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1)
			err = errno;
	} else {
		/* (linkat's AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH) */
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, proc, dirfd, part, AT_SYMLINK_FOLLOW) ==
		    -1)
			err = errno;
	}
	if (err != 0)
		*cause = xasprintf("%s%s: %s", relpath, what, strerror(err));
	free(part);
	close(dirfd);
	errno = err;
	return (err != 0 ? -1 : fd);
}

int
pcapfile_name(int rootfd, const char *relpath, int fd, char **cause)
{
	int	rc;

	rc = part_make(rootfd, relpath, fd, cause) == -1 ? -1 : 0;
	close(fd);
	return (rc);
}

void
pcapfile_spares_probe(int rootfd)
{
	char	 name[64], *cause = NULL;
	int	 fd;

	snprintf(name, sizeof name, ".alertcapd-probe-%ld", (long)getpid());
	if ((fd = pcapfile_spare_make(rootfd, name)) < 0) {
		spares.off = 1;
		return;
	}
	if (part_make(rootfd, name, fd, &cause) != -1)
		pcapfile_unlink(rootfd, name, PCAPFILE_PART);
	else if (errno != EEXIST && errno != ENOSPC && errno != EDQUOT)
		spares.off = 1;		/* no /proc, or not allowed */
	free(cause);
	close(fd);
}

/*
 * A spare for relpath's directory, unnamed: its fd, and in *toname a
 * second one for pcapfile_name; -2 if there is none. With none kept (the
 * worker behind), one is made here: an inode without a name, which does
 * not wait for the directory as a name would.
 */
static int
spare_take(int rootfd, const char *relpath, int *toname)
{
	int	fd;

	if (spares.off)
		return (-2);
	if (spares.n > 0 && spare_dir_is(relpath))
		fd = spares.fd[--spares.n];
	else if ((fd = pcapfile_spare_make(rootfd, relpath)) < 0)
		return (-2);
	if ((*toname = fcntl(fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		close(fd);
		return (-2);
	}
	return (fd);
}

static int	pcapw_cut(int, struct io_outcome *, int);

/* pcapw_open of relpath + suffix. */
static struct pcapw *
pcapw_open_suffix(int rootfd, const char *relpath, const char *suffix,
    const struct pcapw_desc *d, int *toname, char **cause)
{
	struct stat	 st;
	struct pcapw	*w;
	EVP_MD_CTX	*md = NULL;
	unsigned char	*hdr;
	uint64_t	 held;
	size_t		 n;
	int		 fd, kept;

	n = pcapw_header(d, NULL, &hdr, &kept);
	if (d->limit != 0 && n + (d->format == PCAPFMT_PCAPNG ?
	    PCAPNG_ISB_LEN : 0) > d->limit) {
		*cause = xasprintf("max_bytes_per_session: %llu bytes cannot "
		    "hold the file's header (%zu bytes)",
		    (unsigned long long)d->limit, n);
		free(hdr);
		return (NULL);
	}
	/* A capture's file (.part) may be a spare; a lookback segment not. */
	if (toname != NULL)
		*toname = -1;
	fd = toname != NULL ? spare_take(rootfd, relpath, toname) : -2;
	if (fd == -2 && toname != NULL)	/* spares off: made under the name */
		fd = part_make(rootfd, relpath, -1, cause);
	else if (fd == -2)
		fd = pcapfile_open(rootfd, relpath, suffix, O_RDWR | O_CREAT |
		    O_EXCL, cause);
	if (fd == -1) {
		free(hdr);
		return (NULL);
	}
	w = xcalloc(1, sizeof *w);
	if (fstat(fd, &st) == 0)
		w->ino = (uint64_t)st.st_ino;
	w->format = d->format;
	w->trailer = d->format == PCAPFMT_PCAPNG ? PCAPNG_ISB_LEN : 0;
	w->cap = n > PCAPW_FIRSTSIZE ? (n + IO_ALIGN - 1) &
	    ~(size_t)(IO_ALIGN - 1) : PCAPW_FIRSTSIZE;
	w->buf = io_buf_new(w->cap);
	/*
	 * The header goes to disk at once (an idle capture then has nothing
	 * to write, and a disk that is full says so now), unless it is held;
	 * it also starts the buffer, as the stream's first write and hash
	 * take the file from its start.
	 */
	if ((held = pcapw_hold(w, d)) == 0 && write_all(fd, hdr, n) == -1) {
		*cause = xasprintf("%s%s: %s", relpath, suffix, errno != 0 ?
		    strerror(errno) : "short write");
		free(hdr);
		close(fd);
		free(w->buf);
		free(w);
		if (toname != NULL && *toname != -1) {	/* never named */
			close(*toname);
			*toname = -1;
		} else
			pcapfile_unlink(rootfd, relpath, suffix);
		return (NULL);
	}
	if (d->hash) {
		md = EVP_MD_CTX_new();
		EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	}
	w->io = io_open(fd, md, d->offload, pcapw_cut);
	if (held != 0)
		w->bytes = held;
	else {
		memcpy(w->buf, hdr, n);
		w->len = n;
		w->bytes = w->sent = n;
	}
	free(hdr);
	return (w);
}

/* w's buffer made cap bytes long, with front (nfront bytes) before its own. */
static void
pcapw_regrow(struct pcapw *w, size_t cap, const unsigned char *front,
    size_t nfront)
{
	unsigned char	*b = io_buf_new(cap);

	if (nfront > 0)
		memcpy(b, front, nfront);
	memcpy(b + nfront, w->buf, w->len);
	free(w->buf);
	w->buf = b;
	w->cap = cap;
	w->len += nfront;
}

int
pcapw_release(struct pcapw *w, const char *note)
{
	struct pcapw_hold	*h = w->hold;
	unsigned char		*hdr;
	size_t			 n, cap;
	int			 kept;

	if (h == NULL)
		return (0);
	n = pcapw_header(&h->d, note != NULL ? note : h->d.hold_note, &hdr,
	    &kept);
	/* Shorter than the longest note's, so within what was counted. */
	w->bytes = w->bytes - h->reserve + n;
	pcapw_hold_free(w);
	/* The header goes before the packets held; the next flush writes. */
	cap = (n + w->len + IO_ALIGN - 1) & ~(size_t)(IO_ALIGN - 1);
	pcapw_regrow(w, cap > w->cap ? cap : w->cap, hdr, n);
	free(hdr);
	return (0);
}

struct pcapw *
pcapw_open(int rootfd, const char *relpath, const struct pcapw_desc *d,
    char **cause)
{
	return (pcapw_open_suffix(rootfd, relpath, "", d, NULL, cause));
}

struct pcapw *
pcapfile_create(int rootfd, const char *relpath, const struct pcapw_desc *d,
    int *toname, char **cause)
{
	return (pcapw_open_suffix(rootfd, relpath, PCAPFILE_PART, d, toname,
	    cause));
}

void
pcapfile_discard(int rootfd, const char *relpath, uint64_t ino)
{
	struct stat	 st;
	char		*name, *cause = NULL;
	int		 dirfd;

	if ((dirfd = pcapfile_at(rootfd, relpath, PCAPFILE_PART, 0, &name,
	    &cause)) == -1) {
		free(cause);
		return;
	}
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    (ino == 0 || (uint64_t)st.st_ino == ino))
		(void)unlinkat(dirfd, name, 0);
	free(name);
	close(dirfd);
}

int
pcapfile_remove(int rootfd, const char *relpath)
{
	return (pcapfile_unlink(rootfd, relpath, ""));
}

int
pcapfile_open_final(int rootfd, const char *relpath, int64_t *size,
    char **cause)
{
	struct stat	st;
	int		fd;

	if ((fd = pcapfile_open(rootfd, relpath, "", O_RDONLY, cause)) == -1)
		return (-1);
	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s: %s", relpath, strerror(errno));
		close(fd);
		return (-1);
	}
	*size = st.st_size;
	return (fd);
}

int
pcapfile_recover(int rootfd, const char *relpath, uint64_t *packets,
    uint64_t *bytes, char *sha256, char **cause)
{
	char	*part;
	int	 dirfd, rc;

	if ((dirfd = pcapfile_at(rootfd, relpath, PCAPFILE_PART, 0, &part,
	    cause)) == -1)
		return (-1);
	rc = pcapfile_repair(dirfd, part, packets, bytes, sha256, cause);
	free(part);
	close(dirfd);
	if (rc == 0)
		rc = pcapfile_commit(rootfd, relpath, 0, cause);
	return (rc);
}

/* After a write: has one of the stream's failed? -1 with errno if so. */
static int
pcapw_check(struct pcapw *w)
{
	struct io_outcome	o;

	if (io_failed(w->io, &o) == 0)
		return (0);
	/* The file is cut after its last whole record: count only those. */
	w->bytes = o.bytes;
	w->packets = o.packets;
	w->len = 0;
	w->failed = 1;
	errno = o.err;
	return (-1);
}

/*
 * Hands the buffer to the stream. A direct stream takes whole blocks
 * only, unless tail: the part block left starts the next buffer.
 */
static int
pcapw_send(struct pcapw *w, int tail)
{
	unsigned char	part[IO_ALIGN];
	size_t		blocks = w->len, keep, want;

	if (w->failed) {
		errno = EIO;
		return (-1);
	}
	if (w->hold != NULL)
		(void)pcapw_release(w, NULL);
	if (w->base + w->len == w->sent)
		return (pcapw_check(w));	/* nothing new */
	if (io_direct(w->io))
		blocks &= ~(size_t)(IO_ALIGN - 1);
	keep = w->len - blocks;
	memcpy(part, w->buf + blocks, keep);
	/* A first buffer stays small; one grown while held goes back. */
	want = w->cap > PCAPW_BUFSIZE ? PCAPW_BUFSIZE : w->cap;
	w->buf = io_feed(w->io, w->buf, w->len, w->cap, w->base, tail, want);
	w->cap = want;
	w->sent = w->base + (tail ? w->len : blocks);
	w->base += blocks;
	memcpy(w->buf, part, keep);
	w->len = keep;
	return (pcapw_check(w));
}

int
pcapw_flush(struct pcapw *w)
{
	return (pcapw_send(w, 1));
}

/* Room for n more bytes in w's buffer: grown, or flushed. -1 as pcapw_flush. */
static int
pcapw_room(struct pcapw *w, size_t n)
{
	if (w->len + n <= w->cap)
		return (0);
	/* Held, the buffer grows a while; then the header goes. */
	if (w->hold != NULL && w->cap < PCAPW_HOLD_MAX)
		pcapw_regrow(w, 2 * w->cap, NULL, 0);
	else if (w->cap < PCAPW_BUFSIZE)
		pcapw_regrow(w, PCAPW_BUFSIZE, NULL, 0);
	else
		return (pcapw_send(w, 0));
	return (w->len + n <= w->cap ? 0 : pcapw_room(w, n));
}

int
pcapw_write(struct pcapw *w, int64_t ts_ns, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	struct pcap_rec	 r;
	uint64_t	 n = pcapw_record_bytes(w, caplen);
	unsigned char	*p;
	uint32_t	 blen = (uint32_t)n;

	if (w->failed)
		return (-1);
	if (pcapw_room(w, n) == -1)
		return (-1);
	p = w->buf + w->len;
	if (w->format == PCAPFMT_PCAPNG) {
		pcapng_epb_hdr(p, ts_ns, caplen, len);	/* padding zeroed */
		memcpy(p + PCAPNG_EPB_HDR, data, caplen);
		memcpy(p + n - 4, &blen, 4);
	} else {
		r.ts_sec = (uint32_t)(ts_ns / 1000000000);
		r.ts_usec = (uint32_t)(ts_ns % 1000000000 / 1000);
		r.caplen = caplen;
		r.len = len;
		memcpy(p, &r, sizeof r);
		memcpy(p + sizeof r, data, caplen);
	}
	w->len += n;
	w->bytes += n;
	w->packets++;
	return (0);
}

int
pcapw_end(struct pcapw *w, const struct pcapng_stats *st)
{
	if (w->trailer == 0 || w->failed)
		return (0);
	if (pcapw_room(w, w->trailer) == -1)
		return (-1);
	pcapng_isb(w->buf + w->len, st);
	w->len += w->trailer;
	w->bytes += w->trailer;
	w->trailer = 0;
	return (0);
}

struct io_result *
pcapw_close_later(struct pcapw *w)
{
	struct io_result	*res;

	/* No fsync: it would stall the loop (docs/architecture.md). */
	if (!w->failed)
		(void)pcapw_flush(w);	/* a failure is in the outcome */
	res = io_finish(w->io);
	pcapw_hold_free(w);
	free(w->buf);
	free(w);
	return (res);
}

int
pcapw_close(struct pcapw *w, char *sha256)
{
	struct io_result	*res;
	struct io_outcome	 o;

	res = pcapw_close_later(w);
	io_result_wait(res, &o);
	io_result_free(res);
	if (sha256 != NULL)
		memcpy(sha256, o.sha256, sizeof o.sha256);
	errno = o.err;
	return (o.err != 0 ? -1 : 0);
}

int
pcapfile_commit(int rootfd, const char *relpath, uint64_t ino,
    char **cause)
{
	struct stat	 st;
	const char	*base;
	char		*part;
	int		 dirfd, fd, rc = -1;

	if ((dirfd = pcapfile_dir(rootfd, relpath, 0, &base, cause)) == -1)
		return (-1);
	part = xasprintf("%s%s", base, PCAPFILE_PART);
	if ((fd = openat(dirfd, part, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fsync(fd) == -1)
		*cause = xasprintf("fsync %s%s: %s", relpath, PCAPFILE_PART,
		    strerror(errno));
	else if (ino != 0 && (fstat(fd, &st) == -1 ||
	    (uint64_t)st.st_ino != ino))
		*cause = xasprintf("%s%s is not the file this capture wrote",
		    relpath, PCAPFILE_PART);
	else if (renameat2(dirfd, part, dirfd, base, RENAME_NOREPLACE) == -1)
		*cause = xasprintf("rename %s%s: %s", relpath, PCAPFILE_PART,
		    strerror(errno));
	else if (fsync(dirfd) == -1)
		*cause = xasprintf("fsync the directory of %s: %s", relpath,
		    strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	free(part);
	close(dirfd);
	return (rc);
}

/* Hashes the first len bytes of fd. */
static int
hash_fd(int fd, uint64_t len, char *sha256)
{
	EVP_MD_CTX	*md;
	unsigned char	 buf[65536], out[EVP_MAX_MD_SIZE];
	unsigned int	 outlen;
	ssize_t		 n;

	md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	if (lseek(fd, 0, SEEK_SET) == -1)
		goto fail;
	while (len > 0 && (n = read(fd, buf, len < sizeof buf ? len :
	    sizeof buf)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)n);
		len -= (uint64_t)n;
	}
	if (len != 0)
		goto fail;
	EVP_DigestFinal_ex(md, out, &outlen);
	hex_encode(out, outlen, sha256);
	EVP_MD_CTX_free(md);
	return (0);
fail:
	EVP_MD_CTX_free(md);
	return (-1);
}

/* pcapng_scan's count of the packets a file keeps. */
static int
repair_count(void *arg, const struct pcapng_block *b)
{
	uint64_t	*packets = arg;

	if (b->type == PCAPNG_EPB)
		(*packets)++;
	return (0);
}

/*
 * Cuts the capture file fd (named name) after its last whole record; what
 * it keeps in *packets and *bytes, and its SHA-256 unless sha256 is NULL.
 */
static int
repair_fd(int fd, const char *name, uint64_t *packets, uint64_t *bytes,
    char *sha256, char **cause)
{
	struct pcap_hdr	h;
	struct pcap_rec	r;
	struct stat	st;
	uint64_t	off;
	int64_t		ng;

	if (fstat(fd, &st) == -1) {
		*cause = xasprintf("%s: %s", name, strerror(errno));
		return (-1);
	}
	*packets = 0;
	off = sizeof h;
	if (pread(fd, &h.magic, 4, 0) == 4 && h.magic == PCAPNG_SHB) {
		if ((ng = pcapng_scan(fd, (uint64_t)st.st_size,
		    repair_count, packets)) == -1) {
			*cause = xasprintf("%s: no whole pcapng section "
			    "header; nothing to keep", name);
			return (-1);
		}
		off = (uint64_t)ng;
		goto cut;
	}
	/* Only a header as pcapw_open writes it: version 2.4, a snaplen. */
	if (pread(fd, &h, sizeof h, 0) != (ssize_t)sizeof h ||
	    h.magic != PCAP_MAGIC || h.major != 2 || h.minor != 4 ||
	    h.snaplen == 0 || h.snaplen > 262144) {
		/* Not even a header reached the disk: keep nothing. */
		*cause = xasprintf("%s: no pcap header; nothing to keep", name);
		return (-1);
	}
	while (off + sizeof r <= (uint64_t)st.st_size) {
		if (pread(fd, &r, sizeof r, (off_t)off) != (ssize_t)sizeof r)
			break;
		if (r.caplen > h.snaplen || r.caplen > r.len ||
		    r.ts_usec >= 1000000 || off + sizeof r + r.caplen >
		    (uint64_t)st.st_size)
			break;
		off += sizeof r + r.caplen;
		(*packets)++;
	}
cut:
	if (off != (uint64_t)st.st_size && ftruncate(fd, (off_t)off) == -1) {
		*cause = xasprintf("%s: truncate: %s", name, strerror(errno));
		return (-1);
	}
	*bytes = off;
	if (sha256 != NULL && hash_fd(fd, off, sha256) == -1) {
		*cause = xasprintf("%s: %s", name, strerror(errno));
		return (-1);
	}
	return (0);
}

/* The stream's io_cut_fn: a failed write's file cut as after a crash. */
static int
pcapw_cut(int fd, struct io_outcome *o, int hash)
{
	char	*cause = NULL;
	int	 rc;

	rc = repair_fd(fd, "the capture file", &o->packets, &o->bytes,
	    hash ? o->sha256 : NULL, &cause);
	free(cause);
	return (rc);
}

int
pcapfile_repair(int dirfd, const char *name, uint64_t *packets,
    uint64_t *bytes, char *sha256, char **cause)
{
	int	fd, rc;

	fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1) {
		*cause = xasprintf("%s: %s", name, strerror(errno));
		return (-1);
	}
	rc = repair_fd(fd, name, packets, bytes, sha256, cause);
	if (rc == 0 && fsync(fd) == -1) {
		*cause = xasprintf("%s: %s", name, strerror(errno));
		rc = -1;
	}
	close(fd);
	return (rc);
}
