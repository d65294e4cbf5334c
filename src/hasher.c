/*
 * The hashing thread (hasher.h): one queue for every stream, so that a
 * stream's buffers are hashed in order and its digest comes after them.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "hasher.h"
#include "util.h"
#include "xmalloc.h"

struct hash_buf {
	unsigned char	*p;
	size_t		 cap;
};

struct hash_stream {
	EVP_MD_CTX	*md;
	struct hash_buf	 spare[HASHER_BUFS];	/* hashed, for reuse */
	int		 nspare;
	int		 inflight;
};

struct hash_result {
	int	done;
	int	refs;		/* the thread's and the caller's */
	char	hex[65];
};

struct hash_job {
	struct hash_stream	*hs;
	unsigned char		*buf;	/* NULL: the end of the stream */
	size_t			 len;
	size_t			 cap;
	struct hash_result	*res;
	TAILQ_ENTRY(hash_job)	 entry;
};

static pthread_t		 hs_thread;
static pthread_mutex_t		 hs_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t		 hs_more = PTHREAD_COND_INITIALIZER;
static pthread_cond_t		 hs_done = PTHREAD_COND_INITIALIZER;
static TAILQ_HEAD(, hash_job)	 hs_todo = TAILQ_HEAD_INITIALIZER(hs_todo);
static int			 hs_running;
static int			 hs_stop;

/* Drops one reference to r (hs_lock held). */
static void
hs_result_unref(struct hash_result *r)
{
	if (--r->refs == 0)
		free(r);
}

/* On the thread: the end of a stream, its digest and its buffers. */
static void
hs_end(struct hash_job *j)
{
	struct hash_stream	*hs = j->hs;
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 n = 0;
	char			 hex[2 * EVP_MAX_MD_SIZE + 1];

	EVP_DigestFinal_ex(hs->md, md, &n);
	EVP_MD_CTX_free(hs->md);
	hex_encode(md, n, hex);
	while (hs->nspare > 0)
		free(hs->spare[--hs->nspare].p);
	free(hs);
	pthread_mutex_lock(&hs_lock);
	memcpy(j->res->hex, hex, sizeof j->res->hex - 1);	/* SHA-256 */
	j->res->hex[sizeof j->res->hex - 1] = '\0';
	j->res->done = 1;
	hs_result_unref(j->res);
	pthread_cond_broadcast(&hs_done);
	pthread_mutex_unlock(&hs_lock);
}

/* The thread: jobs in order until told to stop and none are left. */
static void *
hs_main(void *unused)
{
	struct hash_job		*j;
	struct hash_stream	*hs;

	(void)pthread_setname_np(pthread_self(), "alertcapd-hash");
	pthread_mutex_lock(&hs_lock);
	for (;;) {
		while (TAILQ_EMPTY(&hs_todo) && !hs_stop)
			pthread_cond_wait(&hs_more, &hs_lock);
		if ((j = TAILQ_FIRST(&hs_todo)) == NULL)
			break;
		TAILQ_REMOVE(&hs_todo, j, entry);
		pthread_mutex_unlock(&hs_lock);
		hs = j->hs;
		if (j->buf == NULL) {
			hs_end(j);
			free(j);
			pthread_mutex_lock(&hs_lock);
			continue;
		}
		EVP_DigestUpdate(hs->md, j->buf, j->len);
		pthread_mutex_lock(&hs_lock);
		if (hs->nspare < HASHER_BUFS) {
			hs->spare[hs->nspare].p = j->buf;
			hs->spare[hs->nspare++].cap = j->cap;
		} else
			free(j->buf);
		hs->inflight--;
		pthread_cond_broadcast(&hs_done);
		free(j);
	}
	pthread_mutex_unlock(&hs_lock);
	return (NULL);
}

int
hasher_init(char **cause)
{
	int	rc;

	hs_stop = 0;
	if ((rc = pthread_create(&hs_thread, NULL, hs_main, NULL)) != 0) {
		*cause = xasprintf("hasher: cannot start a thread: %s",
		    strerror(rc));
		return (-1);
	}
	hs_running = 1;
	return (0);
}

void
hasher_shutdown(void)
{
	if (!hs_running)
		return;
	pthread_mutex_lock(&hs_lock);
	hs_stop = 1;
	pthread_cond_signal(&hs_more);
	pthread_mutex_unlock(&hs_lock);
	pthread_join(hs_thread, NULL);
	hs_running = 0;
}

struct hash_stream *
hasher_open(EVP_MD_CTX *md)
{
	struct hash_stream	*hs;

	if (!hs_running)
		return (NULL);
	hs = xcalloc(1, sizeof *hs);
	hs->md = md;
	return (hs);
}

/* Queues j for the thread (hs_lock held). */
static void
hs_queue(struct hash_job *j)
{
	TAILQ_INSERT_TAIL(&hs_todo, j, entry);
	pthread_cond_signal(&hs_more);
}

unsigned char *
hasher_feed(struct hash_stream *hs, unsigned char *buf, size_t len,
    size_t cap, size_t want)
{
	struct hash_job	*j;
	struct hash_buf	 b = { NULL, 0 };

	j = xcalloc(1, sizeof *j);
	j->hs = hs;
	j->buf = buf;
	j->len = len;
	j->cap = cap;
	pthread_mutex_lock(&hs_lock);
	/* The thread is that far behind: the writer waits for it. */
	while (hs->inflight >= HASHER_BUFS)
		pthread_cond_wait(&hs_done, &hs_lock);
	hs->inflight++;
	hs_queue(j);
	/* A spare of the size wanted; ones of another size go. */
	while (hs->nspare > 0 && b.p == NULL) {
		b = hs->spare[--hs->nspare];
		if (b.cap != want) {
			free(b.p);
			b.p = NULL;
		}
	}
	pthread_mutex_unlock(&hs_lock);
	return (b.p != NULL ? b.p : xmalloc(want));
}

void
hasher_sync(struct hash_stream *hs)
{
	pthread_mutex_lock(&hs_lock);
	while (hs->inflight > 0)
		pthread_cond_wait(&hs_done, &hs_lock);
	pthread_mutex_unlock(&hs_lock);
}

struct hash_result *
hasher_finish(struct hash_stream *hs)
{
	struct hash_result	*r;
	struct hash_job		*j;

	r = xcalloc(1, sizeof *r);
	r->refs = 2;
	j = xcalloc(1, sizeof *j);
	j->hs = hs;
	j->res = r;
	pthread_mutex_lock(&hs_lock);
	hs_queue(j);
	pthread_mutex_unlock(&hs_lock);
	return (r);
}

void
hasher_result_wait(struct hash_result *r, char *hex)
{
	pthread_mutex_lock(&hs_lock);
	while (!r->done)
		pthread_cond_wait(&hs_done, &hs_lock);
	memcpy(hex, r->hex, sizeof r->hex);
	pthread_mutex_unlock(&hs_lock);
}

void
hasher_result_free(struct hash_result *r)
{
	if (r == NULL)
		return;
	pthread_mutex_lock(&hs_lock);
	hs_result_unref(r);
	pthread_mutex_unlock(&hs_lock);
}
