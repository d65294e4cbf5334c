/* Levelled logging; every library's messages go through here. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

enum log_level {
	LOG_LVL_ERROR,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* How lines look (log.format). */
enum log_format {
	LOG_FMT_TEXT,	/* "TIME level: message" */
	LOG_FMT_JSON,	/* {"ts", "level", "msg"} */
	LOG_FMT_LOGFMT,	/* ts=... level=... msg="..." */
};

void	log_init(enum log_level, int use_syslog);
void	log_set_format(enum log_format);
void	log_set_level(enum log_level);
enum log_level log_get_level(void);
void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));


#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	do {						\
	if (log_get_level() >= LOG_LVL_DEBUG)				\
		log_msg(LOG_LVL_DEBUG, __VA_ARGS__);			\
} while (0)

#endif
