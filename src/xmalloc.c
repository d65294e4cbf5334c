/* Allocation wrappers, the bounded dynamic buffer and the arena. */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "log.h"
#include "xmalloc.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n == 0 ? 1 : n)) == NULL)
		fatal("malloc of %zu bytes failed", n);
	return (p);
}

void *
xcalloc(size_t nmemb, size_t n)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, n == 0 ? 1 : n)) == NULL)
		fatal("calloc of %zu x %zu bytes failed", nmemb, n);
	return (p);
}

void *
xmemalign(size_t align, size_t n)
{
	void	*p;

	if (posix_memalign(&p, align, n == 0 ? 1 : n) != 0)
		fatal("allocation of %zu bytes aligned to %zu failed", n, align);
	return (p);
}

void *
xrealloc(void *old, size_t n)
{
	void	*p;

	if ((p = realloc(old, n == 0 ? 1 : n)) == NULL)
		fatal("realloc of %zu bytes failed", n);
	return (p);
}

char *
xstrdup(const char *s)
{
	return (xstrndup(s, strlen(s)));
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return (p);
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	char	*s;

	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf failed");
	return (s);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	return (s);
}

void
dynbuf_init(struct dynbuf *d, size_t max)
{
	d->buf = NULL;
	d->len = d->cap = 0;
	d->max = max;
}

/* Appends; fails (-1) rather than grow past the maximum. */
int
dynbuf_add(struct dynbuf *d, const void *p, size_t n)
{
	size_t	 want;

	if (n > d->max || d->len > d->max - n)
		return (-1);
	if (n == 0 && d->buf != NULL)
		return (0);	/* p may be NULL then */
	want = d->len + n + 1;
	if (want > d->cap) {
		d->cap = d->cap == 0 ? 64 : d->cap;
		while (d->cap < want)
			d->cap *= 2;
		d->buf = xrealloc(d->buf, d->cap);
	}
	if (n > 0)
		memcpy(d->buf + d->len, p, n);
	d->len += n;
	d->buf[d->len] = '\0';
	return (0);
}

int
dynbuf_addf(struct dynbuf *d, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 rc;

	va_start(ap, fmt);
	s = xvasprintf(fmt, ap);
	va_end(ap);
	rc = dynbuf_add(d, s, strlen(s));
	free(s);
	return (rc);
}

void
dynbuf_reset(struct dynbuf *d)
{
	d->len = 0;
	if (d->buf != NULL)
		d->buf[0] = '\0';
}

void
dynbuf_free(struct dynbuf *d)
{
	free(d->buf);
	dynbuf_init(d, d->max);
}

char *
dynbuf_take(struct dynbuf *d)
{
	char	*s;

	s = d->buf != NULL ? d->buf : xstrdup("");
	dynbuf_init(d, d->max);
	return (s);
}

struct arena_chunk {
	struct arena_chunk	*next;
	max_align_t		 data[];
};

#define ARENA_ALIGN	(sizeof(max_align_t))

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk	*c;
	char			*p;
	size_t			 size;

	n = (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
	if (a->cur == NULL) {
		a->cur = a->first.b;
		a->end = a->first.b + sizeof a->first.b;
	}
	if ((size_t)(a->end - a->cur) < n) {
		size = a->next != 0 ? a->next : 4 * ARENA_INLINE;
		while (size < n)
			size *= 2;
		a->next = size * 2;
		c = xmalloc(sizeof *c + size);
		c->next = a->chunks;
		a->chunks = c;
		a->cur = (char *)c->data;
		a->end = a->cur + size;
	}
	p = a->cur;
	a->cur += n;
	return (p);
}

char *
arena_strdup(struct arena *a, const char *s)
{
	size_t	 n = strlen(s) + 1;

	return (memcpy(arena_alloc(a, n), s, n));
}

char *
arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[256], *s;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatal("vsnprintf failed");
	s = arena_alloc(a, (size_t)n + 1);
	if ((size_t)n < sizeof buf)
		return (memcpy(s, buf, (size_t)n + 1));
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return (s);
}

void
arena_reset(struct arena *a)
{
	struct arena_chunk	*c;

	while ((c = a->chunks) != NULL) {
		a->chunks = c->next;
		free(c);
	}
	a->cur = a->end = NULL;
	a->next = 0;
}

/*
 * The allocation cache. glibc's own per-thread cache (tcache) keeps seven
 * free blocks of a size; past them, a process with threads takes its
 * arena's lock for each malloc and free. An alert payload's parse makes
 * dozens of blocks of a few sizes and frees them all when the alert is
 * handled, so a webhook's request cost the daemon 10-15 % more CPU than
 * the same parse in a single-threaded server (docs/performance.md). This
 * keeps up to AC_DEPTH free blocks of each 16-byte class up to 256 bytes
 * for the loop thread alone: no lock, no atomics. A block is filed by
 * what malloc_usable_size() says it holds, so any block malloc made can
 * be kept, and one taken from class c holds at least 16c - 8 bytes.
 */
#define AC_CLASSES	17
#define AC_DEPTH	64

#if defined(__SANITIZE_ADDRESS__)
#define AC_SANITIZED	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AC_SANITIZED	1
#endif
#endif

struct ac_block {
	struct ac_block	*next;
};

static __thread int	 ac_mine;	/* the loop's thread */
static struct ac_block	*ac_free[AC_CLASSES];
static unsigned		 ac_count[AC_CLASSES];

void *
alloc_cache_malloc(size_t n)
{
	struct ac_block	*b;
	size_t		 c = n <= 24 ? 2 : (n + 23) / 16;

	if (ac_mine && c < AC_CLASSES && (b = ac_free[c]) != NULL) {
		ac_free[c] = b->next;
		ac_count[c]--;
		return (b);
	}
	return (malloc(n));
}

void
alloc_cache_free(void *p)
{
	struct ac_block	*b = p;
	size_t		 c;

	if (p == NULL)
		return;
	if (ac_mine) {
		c = (malloc_usable_size(p) + 8) / 16;
		if (c < AC_CLASSES && ac_count[c] < AC_DEPTH) {
			b->next = ac_free[c];
			ac_free[c] = b;
			ac_count[c]++;
			return;
		}
	}
	free(p);
}

void
alloc_cache_init(void)
{
#ifndef AC_SANITIZED
	ac_mine = 1;
	json_set_alloc_funcs(alloc_cache_malloc, alloc_cache_free);
	event_set_mem_functions(alloc_cache_malloc, realloc,
	    alloc_cache_free);
#endif
}
