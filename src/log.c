/* Logging to stderr (with timestamps) or syslog. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <sys/time.h>

#include "log.h"
#include "util.h"

static enum log_level	 log_level = LOG_LVL_INFO;
static int		 log_syslog;
static const char	*log_names[] = { "error", "warn", "info", "debug" };

void
log_init(enum log_level level, int use_syslog)
{
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("alertcapd", LOG_PID, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return (log_level);
}

static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32];

	if (level > log_level)
		return;
	if (log_syslog) {
		vsyslog(prio[level], fmt, ap);
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s: ", ts, (long)tv.tv_usec / 1000,
	    log_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *
log_escape(char *buf, size_t size, const char *s)
{
	size_t		 o = 0, n;
	unsigned char	 c;

	if (size == 0)
		return (buf);
	while (s != NULL && *s != '\0' && o + 5 < size) {
		c = (unsigned char)*s;
		n = utf8_seq_len((const unsigned char *)s);
		if (c < 0x20 || c == 0x7f || c == '\\' || n == 0) {
			o += snprintf(buf + o, size - o, "\\x%02x", c);
			s++;
		} else if (o + n + 5 < size) {
			memcpy(buf + o, s, n);
			o += n;
			s += n;
		} else
			break;
	}
	buf[o] = '\0';
	return (buf);
}
