/*
 * Logging to stderr (with timestamps) or syslog, as text people read or
 * as structured lines (JSON, or logfmt's key=value) machines parse.
 */
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
static enum log_format	 log_format = LOG_FMT_TEXT;
static const char	*log_names[] = { "error", "warn", "info", "debug" };
static const int	 log_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO,
			    LOG_DEBUG };

#define LOG_MAX_LINE	4096	/* longer lines are cut, with "..." */

void
log_set_format(enum log_format f)
{
	log_format = f;
}

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

/*
 * msg (escaped already: no control characters) quoted for a JSON string
 * or a logfmt value: backslashes and quotes escaped, into out.
 */
static void
log_quote(const char *msg, char *out, size_t size)
{
	size_t	o = 0;

	for (; *msg != '\0' && o + 3 < size; msg++) {
		if (*msg == '"' || *msg == '\\')
			out[o++] = '\\';
		out[o++] = *msg;
	}
	out[o] = '\0';
}

/* One structured line, {"ts", "level", "msg"} or ts= level= msg=. */
static void
log_structured(enum log_level level, const char *ts, const char *msg,
    int cut)
{
	char		 q[LOG_MAX_LINE * 8 + 8], line[sizeof q + 128];

	log_quote(msg, q, sizeof q);
	if (log_format == LOG_FMT_JSON)
		snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\","
		    "\"msg\":\"%s%s\"}", ts, log_names[level], q, cut ? "..." :
		    "");
	else
		snprintf(line, sizeof line, "ts=%s level=%s msg=\"%s%s\"", ts,
		    log_names[level], q, cut ? "..." : "");
	if (log_syslog)
		syslog(log_prio[level], "%s", line);
	else
		fprintf(stderr, "%s\n", line);
}

/*
 * Writes one line of a message: control characters and bytes that are not
 * UTF-8 escaped as \xNN here, once, whatever the message quotes (alert
 * fields, topics, headers, paths), so no input can forge a line.
 */
static void
log_line(enum log_level level, const char *line, size_t len)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[32], buf[LOG_MAX_LINE * 4 + 1];
	size_t		 o = 0, i = 0, n;
	unsigned char	 c;

	while (i < len && i < LOG_MAX_LINE) {
		c = (unsigned char)line[i];
		n = utf8_seq_len((const unsigned char *)line + i);
		if (c < 0x20 || c == 0x7f || n == 0 || i + n > len) {
			o += (size_t)snprintf(buf + o, sizeof buf - o, "\\x%02x",
			    c);
			i++;
		} else {
			memcpy(buf + o, line + i, n);
			o += n;
			i += n;
		}
	}
	buf[o] = '\0';
	if (log_syslog && log_format == LOG_FMT_TEXT) {
		syslog(log_prio[level], "%s%s", buf, i < len ? "..." : "");
		return;
	}
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof ts - strlen(ts), ".%03ldZ",
	    (long)tv.tv_usec / 1000);
	if (log_format == LOG_FMT_TEXT) {
		fprintf(stderr, "%s %s: %s%s\n", ts, log_names[level], buf,
		    i < len ? "..." : "");
		return;
	}
	log_structured(level, ts, buf, i < len);
}

/* A message of several lines (a list of errors) is logged line by line. */
static void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char	*msg, *p, *nl;

	if (level > log_level)
		return;
	if (vasprintf(&msg, fmt, ap) == -1)
		return;
	for (p = msg; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		log_line(level, p, (size_t)(nl - p));
	if (*p != '\0' || p == msg)
		log_line(level, p, strlen(p));
	free(msg);
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

