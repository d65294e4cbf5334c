/* Allocation wrappers and the bounded dynamic buffer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
