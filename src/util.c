/* Time, names, numbers and secrets. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "util.h"
#include "xmalloc.h"

int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

const char *
time_rfc3339(char *buf, size_t size, int64_t us)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);
	char		base[32];

	gmtime_r(&t, &tm);
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06dZ", base, (int)(us % 1000000));
	return (buf);
}

const char *
time_compact(char *buf, size_t size, int64_t us)
{
	struct tm	tm;
	time_t		t = (time_t)(us / 1000000);

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y%m%dT%H%M%SZ", &tm);
	return (buf);
}

/* Reads exactly n digits at *p into *v; advances *p. */
static int
take_digits(const char **p, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return (-1);
		*v = *v * 10 + (**p - '0');
		(*p)++;
	}
	return (0);
}

int
time_parse_rfc3339(const char *s, int64_t *us)
{
	struct tm	 tm;
	const char	*p = s;
	int		 y, mo, d, h, mi, sec, oh, om, sign;
	int64_t		 frac = 0, scale = 100000;

	if (take_digits(&p, 4, &y) || *p++ != '-' || take_digits(&p, 2, &mo) ||
	    *p++ != '-' || take_digits(&p, 2, &d) ||
	    (*p != 'T' && *p != 't' && *p != ' '))
		return (-1);
	p++;
	if (take_digits(&p, 2, &h) || *p++ != ':' || take_digits(&p, 2, &mi) ||
	    *p++ != ':' || take_digits(&p, 2, &sec))
		return (-1);
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return (-1);
		for (; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return (-1);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*us = (int64_t)timegm(&tm) * 1000000 + frac;
	if (*p == 'Z' || *p == 'z')
		return (p[1] == '\0' ? 0 : -1);
	if (*p != '+' && *p != '-')
		return (-1);
	sign = *p++ == '-' ? -1 : 1;
	if (take_digits(&p, 2, &oh) || *p++ != ':' || take_digits(&p, 2, &om) ||
	    *p != '\0')
		return (-1);
	*us -= sign * ((int64_t)oh * 3600 + om * 60) * 1000000;
	return (0);
}

int
name_valid(const char *s)
{
	size_t	i;

	if (!isalnum((unsigned char)s[0]))
		return (0);
	for (i = 1; s[i] != '\0'; i++) {
		if (i >= NAME_MAX_LEN)
			return (0);
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' &&
		    s[i] != '_' && s[i] != '-')
			return (0);
	}
	return (1);
}

int
parse_ll(const char *s, long long min, long long max, long long *out,
    char **cause)
{
	char		*end;
	long long	 v;

	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s)) {
		*cause = xasprintf("'%s' is not a number", s);
		return (-1);
	}
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*cause = xasprintf("'%s' is not a number", s);
		return (-1);
	}
	if (errno == ERANGE || v < min || v > max) {
		*cause = xasprintf("%s is out of range %lld..%lld", s, min, max);
		return (-1);
	}
	*out = v;
	return (0);
}

void
sha256_of(const void *p, size_t len, unsigned char out[32])
{
	static EVP_MD	*md;
	unsigned int	 n;

	/* Fetched once: an implicit fetch per call takes locks each time. */
	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatal("OpenSSL has no SHA-256");
	EVP_Digest(p, len, out, &n, md, NULL);
}

void
fd_table_reserve(int fd, long n)
{
	struct rlimit	rl;
	int		top;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur !=
	    RLIM_INFINITY && (rlim_t)n > rl.rlim_cur)
		n = (long)rl.rlim_cur;
	if (n < 2 || n > INT_MAX)
		return;
	if ((top = fcntl(fd, F_DUPFD_CLOEXEC, (int)(n - 1))) != -1)
		close(top);
}

int
write_all(int fd, const void *buf, size_t n)
{
	const unsigned char	*p = buf;
	ssize_t			 r;

	while (n > 0) {
		errno = 0;
		if ((r = write(fd, p, n)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			return (-1);
		}
		p += r;
		n -= (size_t)r;
	}
	return (0);
}

#define FNV1A_PRIME	0x100000001b3ULL

uint64_t
fnv1a_byte(uint64_t h, unsigned char c)
{
	return ((h ^ c) * FNV1A_PRIME);
}

uint64_t
fnv1a_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = fnv1a_byte(h, (unsigned char)*s);
	return (h);
}

/*
 * Compares a given secret with the one on file in time that depends on
 * the given one's length alone: no early exit, no length leaked. (It was
 * two SHA-256s, which set up OpenSSL's providers, 2.5 MiB of pages kept,
 * for the first request.)
 */
int
secret_equal(const char *given, const char *secret)
{
	size_t		n = strlen(given), m = strlen(secret), i;
	unsigned char	d = 0;

	for (i = 0; i < n; i++)
		d |= (unsigned char)given[i] ^
		    (unsigned char)secret[m > 0 ? i % m : 0];
	return ((d | (n != m)) == 0);
}

int
secret_read(const char *path, const char *field, char **out, char **cause)
{
	char	*why;

	*out = NULL;
	if (path == NULL)
		return (0);
	if ((*out = file_read_small(path, 8192, &why)) == NULL) {
		*cause = xasprintf("%s: %s", field, why);
		free(why);
		return (-1);
	}
	return (0);
}

void
secret_free(char *s)
{
	if (s != NULL)
		explicit_bzero(s, strlen(s));
	free(s);
}

char *
file_read_small(const char *path, size_t max, char **cause)
{
	struct dynbuf	 d;
	char		 buf[4096];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		return (NULL);
	}
	dynbuf_init(&d, max);
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		if (dynbuf_add(&d, buf, (size_t)n) == -1) {
			*cause = xasprintf("%s: larger than %zu bytes", path,
			    max);
			goto fail;
		}
	}
	if (n == -1) {
		*cause = xasprintf("%s: %s", path, strerror(errno));
		goto fail;
	}
	close(fd);
	while (d.len > 0 && (d.buf[d.len - 1] == '\n' ||
	    d.buf[d.len - 1] == '\r'))
		d.buf[--d.len] = '\0';
	return (dynbuf_take(&d));
fail:
	close(fd);
	dynbuf_free(&d);
	return (NULL);
}

void
hex_encode(const unsigned char *p, size_t len, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int
relpath_safe(const char *p)
{
	const char	*c, *e;
	size_t		 n;

	if (*p == '\0' || *p == '/' || p[strlen(p) - 1] == '/')
		return (0);
	for (c = p; *c != '\0'; c = *e == '\0' ? e : e + 1) {
		e = strchrnul(c, '/');
		n = (size_t)(e - c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return (0);
	}
	return (1);
}

size_t
utf8_seq_len(const unsigned char *s)
{
	size_t		n, i;
	uint32_t	cp;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and past U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (n);
}

char *
utf8_fix(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	size_t			 n;

	/* Each invalid byte becomes four: "\xNN". */
	o = out = xmalloc(4 * strlen(s) + 1);
	while (*p != '\0') {
		if ((n = utf8_seq_len(p)) == 0) {
			o += snprintf(o, 5, "\\x%02X", *p++);
			continue;
		}
		memcpy(o, p, n);
		o += n;
		p += n;
	}
	*o = '\0';
	return (out);
}

void
backoff_delay(unsigned int attempt, double max_s, struct timeval *tv)
{
	double	delay;

	delay = (double)(1u << (attempt < 20 ? attempt : 20));
	if (delay > max_s)
		delay = max_s;
	delay *= 0.5 + (double)(random() % 1000) / 2000.0;
	tv->tv_sec = (time_t)delay;
	tv->tv_usec = (suseconds_t)((delay - (double)tv->tv_sec) * 1e6);
}

void
mkdir_parents(const char *path, unsigned int mode, int self)
{
	char	*copy, *p;

	copy = xstrdup(path);
	for (p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(copy, (mode_t)mode);
		*p = '/';
	}
	if (self)
		mkdir(copy, (mode_t)mode);
	free(copy);
}
