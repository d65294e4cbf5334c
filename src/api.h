/* The REST API and the HTTP(S) listeners it is served on. */
#ifndef API_H
#define API_H

#include <jansson.h>

struct event_base;
struct evhttp_request;
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

/*
 * How the API reaches other nodes (the MQTT fleet): request sends a
 * command (borrowed) to node and calls reply once, with the answer or a
 * 504 after a deadline, returning an id for cancel (0 with *cause: not
 * sent); nodes lists the nodes seen (new). Without one, only this node
 * is known.
 */
typedef void (*api_reply_fn)(int status, json_t *body, void *arg);
struct api_fleet {
	unsigned long	(*request)(const char *node, json_t *cmd,
			    api_reply_fn reply, void *arg, char **cause);
	void		(*cancel)(unsigned long id);
	json_t		*(*nodes)(void);
};
void	api_set_fleet(const struct api_fleet *);

/* Helpers of the route handlers (here and in input-webhook.c). */
/* Sends a JSON body (stolen); a NULL body is a 500. */
void	api_reply_json(struct evhttp_request *, int status, json_t *body);
/* Sends {"error": {"code", "message"}}. */
void	api_error(struct evhttp_request *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The request carries an API token, or none is needed. */
int	api_authorized(struct evhttp_request *);

/* Is addr a loopback address (127.0.0.0/8, ::1)? */
int	api_addr_loopback(const char *addr);

#endif
