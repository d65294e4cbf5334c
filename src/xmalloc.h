/* Allocation that cannot fail: a fixed-size allocation failing is fatal. */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
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

#endif
