/* The REST API and the HTTP(S) listeners it is served on. */
#ifndef API_H
#define API_H

struct event_base;
struct conf;

/* Binds every listener; -1 with *cause naming the listener. */
int	api_init(struct event_base *, const struct conf *, char **cause);
/* Re-reads the token file; -1 (old tokens kept) with *cause. */
int	api_reconf(const struct conf *, char **cause);
void	api_shutdown(void);
/*
 * What api_init checks, without binding or creating anything: for -t.
 * -1 with *cause naming the option.
 */
int	api_check(const struct conf *, char **cause);

/* Is addr a loopback address (127.0.0.0/8, ::1)? */
int	api_addr_loopback(const char *addr);

#endif
