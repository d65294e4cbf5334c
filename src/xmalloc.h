/* Allocation that cannot fail: a fixed-size allocation failing is fatal. */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
/* align: a power of two, a multiple of sizeof(void *); free() frees it. */
void	*xmemalign(size_t align, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Returns a new string; aborts on failure. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list) __attribute__((format(printf, 1, 0)));

/*
 * A growable byte buffer with a hard maximum, for anything sized by input
 * (after curl's dynbuf). Always NUL-terminated.
 */
struct dynbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	size_t	 max;
};

void	 dynbuf_init(struct dynbuf *, size_t max);
int	 dynbuf_add(struct dynbuf *, const void *, size_t);
int	 dynbuf_addf(struct dynbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 dynbuf_reset(struct dynbuf *);
void	 dynbuf_free(struct dynbuf *);
/* Returns the buffer (new, caller frees) and leaves the dynbuf empty. */
char	*dynbuf_take(struct dynbuf *);

/*
 * An arena: allocations that live as long as one piece of work (an alert
 * payload, from its parse to its policy) and are freed together. The
 * first ARENA_INLINE bytes are inside the struct, so a small piece of work
 * allocates nothing; beyond them, chunks twice as large each time. A
 * zeroed struct is an empty arena. Allocation cannot fail.
 */
#define ARENA_INLINE	1024

struct arena_chunk;
struct arena {
	char			*cur, *end;
	struct arena_chunk	*chunks;	/* beyond the inline block */
	size_t			 next;		/* the next chunk's size */
	union {
		max_align_t	 align;
		char		 b[ARENA_INLINE];
	} first;
};

/* n bytes, aligned for any type, uninitialised. */
void	*arena_alloc(struct arena *, size_t n);
char	*arena_strdup(struct arena *, const char *);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Frees what the arena holds; it can be used again. */
void	 arena_reset(struct arena *);

/*
 * Keeps the small blocks that jansson and libevent free on the calling
 * thread (the event loop's) for their next allocations there, in front
 * of malloc; other threads allocate as before. Not in sanitizer builds.
 */
void	 alloc_cache_init(void);
/* What jansson and libevent are given: malloc and free, in front of it. */
void	*alloc_cache_malloc(size_t);
void	 alloc_cache_free(void *);

#endif
