/*
 * The file thread (iothread.h): one queue for every stream, so that a
 * stream's buffers are written and hashed in order and its outcome comes
 * after them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "iothread.h"
#include "util.h"
#include "xmalloc.h"

struct io_buf {
	unsigned char	*p;
	size_t		 cap;
};

struct io_stream {
	int		 fd;
	EVP_MD_CTX	*md;		/* NULL: not hashing */
	io_cut_fn	 cut;
	int		 threaded;	/* else inline */
	/*
	 * direct: the writer's, fixed at open: buffers aligned, only whole
	 * blocks written unless tail. odirect: the thread's, whether fd has
	 * O_DIRECT now (off for a part block, or for good if refused).
	 */
	int		 direct;
	int		 odirect;
	uint64_t	 hashed;	/* the file's bytes hashed so far */
	/*
	 * The thread's own: fail.err set once a write failed, after
	 * which buffers come back unwritten. fail_seen is the writer's
	 * copy, under io_lock.
	 */
	struct io_outcome fail;
	struct io_outcome fail_seen;
	struct io_buf	 spare[IO_BUFS];	/* done with, for reuse */
	int		 nspare;
	int		 inflight;
};

struct io_result {
	int			done;
	int			refs;		/* the caller's, and the thread's */
	struct io_outcome	o;
};

struct io_job {
	struct io_stream	*s;
	unsigned char		*buf;	/* NULL: the end of the stream */
	size_t			 len;
	size_t			 cap;
	uint64_t		 off;
	int			 tail;
	struct io_result	*res;
	TAILQ_ENTRY(io_job)	 entry;
};

static pthread_t		 io_thread;
static pthread_mutex_t		 io_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 io_more = PTHREAD_COND_INITIALIZER;
static pthread_cond_t		 io_done = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, io_job)	 io_todo = TAILQ_HEAD_INITIALIZER(io_todo);
static int			 io_running;
static int			 io_stop;

unsigned char *
io_buf_new(size_t size)
{
	return (xmemalign(IO_ALIGN, size));
}

/* Sets or clears O_DIRECT on s's file; -1 if it will not change. */
static int
io_set_direct(struct io_stream *s, int on)
{
	int	fl;

	if ((fl = fcntl(s->fd, F_GETFL)) == -1)
		return (-1);
	fl = on ? fl | O_DIRECT : fl & ~O_DIRECT;
	if (fcntl(s->fd, F_SETFL, fl) == -1)
		return (-1);
	s->odirect = on;
	return (0);
}

/* Writes len bytes of p at off; -1 with errno. */
static int
io_pwrite(struct io_stream *s, const unsigned char *p, size_t len,
    uint64_t off)
{
	ssize_t	n;

	while (len > 0) {
		n = pwrite(s->fd, p, len, (off_t)off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EINVAL && s->odirect) {
			/* Refused after all: through the cache from now on. */
			if (io_set_direct(s, 0) == -1)
				return (-1);
			continue;
		}
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return (0);
}

/* The hex digest of md (freed), or "" without one. */
static void
io_digest(EVP_MD_CTX *md, char *hex)
{
	unsigned char	out[EVP_MAX_MD_SIZE];
	unsigned int	n = 0;

	*hex = '\0';
	if (md == NULL)
		return;
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
	hex_encode(out, n, hex);
}

/*
 * A write failed: the file cut back to its last whole record, or emptied
 * if none can be kept; fail says what it keeps.
 */
static void
io_fail(struct io_stream *s, int err)
{
	struct io_outcome	o;
	EVP_MD_CTX		*md;

	memset(&o, 0, sizeof o);
	if (s->odirect)
		(void)io_set_direct(s, 0);
	if (s->cut(s->fd, &o, s->md != NULL) == -1) {
		(void)ftruncate(s->fd, 0);
		memset(&o, 0, sizeof o);
		if (s->md != NULL) {	/* the digest of nothing */
			md = EVP_MD_CTX_new();
			EVP_DigestInit_ex(md, EVP_sha256(), NULL);
			io_digest(md, o.sha256);
		}
	}
	o.err = err;
	s->fail = o;
	pthread_mutex_lock(&io_lock);
	s->fail_seen = o;
	pthread_mutex_unlock(&io_lock);
}

/* Writes and hashes one buffer of s (on the thread, or inline). */
static void
io_do(struct io_stream *s, const unsigned char *buf, size_t len,
    uint64_t off, int tail)
{
	size_t	blocks = len, from;
	int	reset;

	if (s->fail.err != 0)
		return;
	if (s->direct)
		blocks = len & ~(size_t)(IO_ALIGN - 1);
	if (blocks > 0 && io_pwrite(s, buf, blocks, off) == -1) {
		io_fail(s, errno != 0 ? errno : EIO);
		return;
	}
	if (tail && blocks < len) {
		/* The last part block goes through the cache. */
		reset = s->odirect;
		if (reset && io_set_direct(s, 0) == -1) {
			io_fail(s, errno);
			return;
		}
		if (io_pwrite(s, buf + blocks, len - blocks, off + blocks) ==
		    -1) {
			io_fail(s, errno != 0 ? errno : EIO);
			return;
		}
		if (reset)
			(void)io_set_direct(s, 1);	/* else the cache */
	}
	/* What came before (the next buffer starts with it) is hashed. */
	if (s->md != NULL && s->hashed < off + len) {
		from = s->hashed > off ? (size_t)(s->hashed - off) : 0;
		EVP_DigestUpdate(s->md, buf + from, len - from);
		s->hashed = off + len;
	}
}

/* The end of s: its file closed, its outcome, s freed. */
static void
io_end(struct io_stream *s, struct io_outcome *o)
{
	if (s->fail.err != 0) {
		*o = s->fail;
		if (s->md != NULL)
			EVP_MD_CTX_free(s->md);
	} else {
		memset(o, 0, sizeof *o);
		io_digest(s->md, o->sha256);
	}
	/* A write-back error shows at the commit's fsync. */
	(void)close(s->fd);
	while (s->nspare > 0)
		free(s->spare[--s->nspare].p);
	free(s);
}

/* Drops one reference to r (io_lock held). */
static void
io_result_unref(struct io_result *r)
{
	if (--r->refs == 0)
		free(r);
}

/* The thread: jobs in order until told to stop and none are left. */
static void *
io_main(void *unused)
{
	struct io_job		*j;
	struct io_stream	*s;
	struct io_outcome	 o;

	(void)pthread_setname_np(pthread_self(), "alertcapd-io");
	pthread_mutex_lock(&io_lock);
	for (;;) {
		while (TAILQ_EMPTY(&io_todo) && !io_stop)
			pthread_cond_wait(&io_more, &io_lock);
		if ((j = TAILQ_FIRST(&io_todo)) == NULL)
			break;
		TAILQ_REMOVE(&io_todo, j, entry);
		pthread_mutex_unlock(&io_lock);
		s = j->s;
		if (j->buf == NULL) {
			io_end(s, &o);
			pthread_mutex_lock(&io_lock);
			j->res->o = o;
			j->res->done = 1;
			io_result_unref(j->res);
			pthread_cond_broadcast(&io_done);
			free(j);
			continue;
		}
		io_do(s, j->buf, j->len, j->off, j->tail);
		pthread_mutex_lock(&io_lock);
		if (s->nspare < IO_BUFS) {
			s->spare[s->nspare].p = j->buf;
			s->spare[s->nspare++].cap = j->cap;
		} else
			free(j->buf);
		s->inflight--;
		pthread_cond_broadcast(&io_done);
		free(j);
	}
	pthread_mutex_unlock(&io_lock);
	return (NULL);
}

int
io_init(char **cause)
{
	int	rc;

	io_stop = 0;
	if ((rc = pthread_create(&io_thread, NULL, io_main, NULL)) != 0) {
		*cause = xasprintf("io: cannot start a thread: %s",
		    strerror(rc));
		return (-1);
	}
	io_running = 1;
	return (0);
}

void
io_shutdown(void)
{
	if (!io_running)
		return;
	pthread_mutex_lock(&io_lock);
	io_stop = 1;
	pthread_cond_signal(&io_more);
	pthread_mutex_unlock(&io_lock);
	pthread_join(io_thread, NULL);
	io_running = 0;
}

struct io_stream *
io_open(int fd, EVP_MD_CTX *md, int offload, io_cut_fn cut)
{
	struct io_stream	*s;

	s = xcalloc(1, sizeof *s);
	s->fd = fd;
	s->md = md;
	s->cut = cut;
	s->threaded = offload && io_running;
	/* Not every file system takes O_DIRECT (tmpfs): then the cache. */
	s->direct = s->threaded && io_set_direct(s, 1) == 0;
	return (s);
}

int
io_direct(const struct io_stream *s)
{
	return (s->direct);
}

/* Queues j for the thread (io_lock held). */
static void
io_queue(struct io_job *j)
{
	TAILQ_INSERT_TAIL(&io_todo, j, entry);
	pthread_cond_signal(&io_more);
}

unsigned char *
io_feed(struct io_stream *s, unsigned char *buf, size_t len, size_t cap,
    uint64_t off, int tail, size_t want)
{
	struct io_job	*j;
	struct io_buf	 b = { NULL, 0 };

	if (!s->threaded) {
		io_do(s, buf, len, off, tail);
		if (cap == want)
			return (buf);
		free(buf);
		return (io_buf_new(want));
	}
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->buf = buf;
	j->len = len;
	j->cap = cap;
	j->off = off;
	j->tail = tail;
	pthread_mutex_lock(&io_lock);
	/* The thread is that far behind: the writer waits for it. */
	while (s->inflight >= IO_BUFS)
		pthread_cond_wait(&io_done, &io_lock);
	s->inflight++;
	io_queue(j);
	/* A spare of the size wanted; ones of another size go. */
	while (s->nspare > 0 && b.p == NULL) {
		b = s->spare[--s->nspare];
		if (b.cap != want) {
			free(b.p);
			b.p = NULL;
		}
	}
	pthread_mutex_unlock(&io_lock);
	return (b.p != NULL ? b.p : io_buf_new(want));
}

int
io_failed(struct io_stream *s, struct io_outcome *o)
{
	if (!s->threaded) {
		*o = s->fail;
		return (o->err);
	}
	pthread_mutex_lock(&io_lock);
	*o = s->fail_seen;
	pthread_mutex_unlock(&io_lock);
	return (o->err);
}

struct io_result *
io_finish(struct io_stream *s)
{
	struct io_result	*r;
	struct io_job		*j;

	r = xcalloc(1, sizeof *r);
	if (!s->threaded) {
		io_end(s, &r->o);
		r->done = 1;
		r->refs = 1;	/* the caller's alone */
		return (r);
	}
	r->refs = 2;
	j = xcalloc(1, sizeof *j);
	j->s = s;
	j->res = r;
	pthread_mutex_lock(&io_lock);
	io_queue(j);
	pthread_mutex_unlock(&io_lock);
	return (r);
}

void
io_result_wait(struct io_result *r, struct io_outcome *o)
{
	pthread_mutex_lock(&io_lock);
	while (!r->done)
		pthread_cond_wait(&io_done, &io_lock);
	*o = r->o;
	pthread_mutex_unlock(&io_lock);
}

void
io_result_free(struct io_result *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&io_lock);
	io_result_unref(r);
	pthread_mutex_unlock(&io_lock);
}
