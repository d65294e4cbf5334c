/* Small helpers shared by the daemon, the CLI and the tests. */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define NAME_MAX_LEN	80

/* Microseconds since the epoch, wall clock. */
int64_t	 now_us(void);
/* Formats RFC 3339 UTC with microseconds into buf ("...T...Z"). */
const char *time_rfc3339(char *buf, size_t size, int64_t us);
/* Parses RFC 3339 (any offset, fractional seconds); -1 if not valid. */
int	 time_parse_rfc3339(const char *, int64_t *us);
/* Formats the compact form used in names: YYYYMMDDTHHMMSSZ. */
const char *time_compact(char *buf, size_t size, int64_t us);

/* Is this a valid capture name: [A-Za-z0-9][A-Za-z0-9._-]{0,79}. */
int	 name_valid(const char *);

/*
 * Parses a whole decimal integer within [min, max]; -1 with *cause (new)
 * if it is not one.
 */
int	 parse_ll(const char *, long long min, long long max, long long *out,
	    char **cause);

/* Equality of a given secret and ours, in time set by the given length. */
int	 secret_equal(const char *, const char *);

/*
 * Reads a small file (a secret or token list) into a new string, at most
 * max bytes; trailing newlines stripped. NULL with *cause (new) on error.
 */
char	*file_read_small(const char *path, size_t max, char **cause);
/*
 * A secret from a file the configuration names at field (NULL: none, and
 * *out NULL): 0, or -1 with *cause "field: why".
 */
int	 secret_read(const char *path, const char *field, char **out,
	    char **cause);
/* Wipes a secret and frees it (NULL: nothing). */
void	 secret_free(char *);

/* Lower-case hex of len bytes into out (2*len+1). */
void	 hex_encode(const unsigned char *, size_t len, char *out);
/*
 * Grows the descriptor table to hold n descriptors (at most the soft
 * limit) now, from a valid fd: the kernel grows it by doubling as
 * descriptors are opened, each time waiting out an RCU grace period
 * (milliseconds) in the thread that opens the one past its end.
 */
void	 fd_table_reserve(int fd, long n);
/* Writes all n bytes to fd: 0, or -1 with errno (0: a short write). */
int	 write_all(int fd, const void *p, size_t n);
/* FNV-1a, 64 bits: from FNV1A_INIT, over a string, or one byte. */
#define FNV1A_INIT	0xcbf29ce484222325ULL
uint64_t fnv1a_str(uint64_t h, const char *s);
uint64_t fnv1a_byte(uint64_t h, unsigned char c);
/* SHA-256 of a buffer. */
void	 sha256_of(const void *, size_t len, unsigned char out[32]);

/*
 * The length of the valid UTF-8 sequence at s (1-4), or 0 if the bytes
 * there are not one (overlong, surrogate, truncated, stray).
 */
size_t	 utf8_seq_len(const unsigned char *);
/*
 * A copy of s (new) that is valid UTF-8: each byte that is not part of a
 * valid sequence is written as "\xNN", so a message quoting input can
 * always go into JSON and still shows what was sent.
 */
char	*utf8_fix(const char *);

/*
 * Exponential backoff with jitter: 2^attempt seconds (1 s for the first
 * retry), at most max_s, times a random factor in [0.5, 1). As a timeval.
 */
struct timeval;
void	 backoff_delay(unsigned int attempt, double max_s, struct timeval *);
/*
 * Makes the directories of path (mode), each parent first; with self, path
 * itself too. Existing ones are fine; errors show when path is used.
 */
void	 mkdir_parents(const char *path, unsigned int mode, int self);

/* Is this a relative path without "..", "." or empty components? */
int	 relpath_safe(const char *);

#endif
