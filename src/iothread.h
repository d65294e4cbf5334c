/*
 * The file thread: capture files written and hashed off the loop. A
 * writer hands each full buffer to its stream and carries on with
 * another; the thread writes the buffers of every stream in the order
 * they came, at the offsets they name, hashes them, and gives them back
 * for reuse. A stream whose file system allows it writes with O_DIRECT,
 * from aligned buffers: the bytes go from the buffer to the device, not
 * through the page cache, whose copy and block allocation were a third
 * of a capture's CPU (docs/performance.md). What a stream came to (its
 * digest, or the write that failed and what the file kept) is known some
 * time after it ends; whoever needs it waits for it (the worker, before
 * a record says Stopped and before the file is made durable).
 *
 * Without the thread (unit tests, the CLI, or a stream opened inline)
 * the writer's own thread does the same work at each feed, so failures
 * are known at once.
 */
#ifndef IOTHREAD_H
#define IOTHREAD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

struct io_stream;
struct io_result;

/* Buffers of one stream in flight before io_feed waits. */
#define IO_BUFS		4
/* O_DIRECT's alignment of buffers, lengths and offsets. */
#define IO_ALIGN	4096

/* What a stream came to. */
struct io_outcome {
	int		err;		/* 0, or the errno of a failed write */
	uint64_t	bytes;		/* err: what the file keeps */
	uint64_t	packets;
	char		sha256[65];	/* hex; "" when not hashing */
};

/*
 * After a failed write: cut the file (fd, readable) back to its last
 * whole record, and say what it keeps (bytes, packets and, if asked,
 * sha256). -1 if nothing can be kept: the caller empties it.
 */
typedef int	(*io_cut_fn)(int fd, struct io_outcome *, int hash);

/* Starts the thread; -1 with *cause. */
int		 io_init(char **cause);
/* Waits for every stream, then stops the thread. */
void		 io_shutdown(void);

/*
 * A stream writing fd, owned by the stream from now on (the thread closes
 * it after the last write). md: the hash to keep (initialised; owned), or
 * NULL. offload: on the thread, if it runs, and with O_DIRECT if fd's
 * file system takes it; else inline. cut: see io_cut_fn.
 */
struct io_stream *io_open(int fd, EVP_MD_CTX *md, int offload, io_cut_fn cut);
/* Does the stream write with O_DIRECT (buffers from io_buf_new)? */
int		 io_direct(const struct io_stream *);
/* A buffer of size bytes (a multiple of IO_ALIGN), aligned for O_DIRECT. */
unsigned char	*io_buf_new(size_t size);

/*
 * Hands buf (from io_buf_new, cap bytes), whose first len bytes belong at
 * file offset off, to the stream, and gives back a buffer of want bytes
 * to go on with: one the stream is done with, or a new one; buf itself
 * inline. A direct stream writes only whole IO_ALIGN blocks of it unless
 * tail: the rest must start the next buffer (at off plus the blocks),
 * whose write covers it again. Waits while IO_BUFS are in flight.
 */
unsigned char	*io_feed(struct io_stream *, unsigned char *buf, size_t len,
		    size_t cap, uint64_t off, int tail, size_t want);
/*
 * Has a write failed? 0, or its errno with what the file keeps in *o
 * (known on the thread's side some time after the buffer was fed).
 */
int		 io_failed(struct io_stream *, struct io_outcome *o);
/*
 * Ends the stream (the caller's buffer is its own to free): the outcome
 * follows the last buffer. The result is the caller's until
 * io_result_free.
 */
struct io_result *io_finish(struct io_stream *);
/* Waits for the outcome, from any thread. */
void		 io_result_wait(struct io_result *, struct io_outcome *);
void		 io_result_free(struct io_result *);

#endif
