/*
 * The hashing thread: the SHA-256 of capture files, taken off the loop.
 * A writer hands each buffer it has written to its stream and carries on
 * with another; the thread hashes the buffers of every stream in the
 * order they came, and gives them back for reuse. The digest is ready
 * some time after the stream ends: whoever needs it (the worker, before a
 * record says Stopped) waits for it. Without the thread (unit tests, the
 * CLI) the caller hashes as it goes.
 */
#ifndef HASHER_H
#define HASHER_H

#include <stddef.h>

#include <openssl/evp.h>

struct hash_stream;
struct hash_result;

/* Buffers of one stream in flight before hasher_feed waits. */
#define HASHER_BUFS	4

/* Starts the thread; -1 with *cause. */
int		 hasher_init(char **cause);
/* Waits for every stream's digest, then stops the thread. */
void		 hasher_shutdown(void);

/*
 * A stream for md (initialised, and owned by the stream from now on), or
 * NULL if the thread is not running. md stays usable by the caller while
 * nothing is in flight: before the first feed, after hasher_sync.
 */
struct hash_stream *hasher_open(EVP_MD_CTX *md);
/*
 * Hands the first len bytes of buf (cap bytes long, from malloc) to the
 * thread, and gives back a buffer of want bytes to go on with: one the
 * thread is done with, or a new one. Waits while HASHER_BUFS of the
 * stream's are in flight.
 */
unsigned char	*hasher_feed(struct hash_stream *, unsigned char *buf,
		    size_t len, size_t cap, size_t want);
/* Waits until everything fed is hashed. */
void		 hasher_sync(struct hash_stream *);
/*
 * Ends the stream (the caller's buffers are its own to free): its digest
 * follows the last buffer. The stream is gone; the result is the
 * caller's until hasher_result_free.
 */
struct hash_result *hasher_finish(struct hash_stream *);
/* Waits for the digest (64 hex digits and NUL), from any thread. */
void		 hasher_result_wait(struct hash_result *, char *hex);
void		 hasher_result_free(struct hash_result *);

#endif
