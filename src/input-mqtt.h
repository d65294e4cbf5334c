/*
 * MQTT: alert and metric feeds in, lifecycle topics out, commands from
 * other nodes and operators, and requests to other nodes. libmosquitto
 * runs inside the daemon's event loop; there is no second thread.
 */
#ifndef INPUT_MQTT_H
#define INPUT_MQTT_H

#include <jansson.h>

struct event_base;
struct conf;

/* Sets up the client and starts connecting (no-op without "mqtt"). */
int	 mqtt_init(struct event_base *, const struct conf *, char **cause);
/* What mqtt_init checks (credentials, TLS files), connecting nowhere. */
int	 mqtt_check(const struct conf *, char **cause);
/* Publishes "offline", disconnects and frees everything. */
void	 mqtt_shutdown(void);
/* Follows the log level: libmosquitto's lines are taken only at debug. */
void	 mqtt_log_level_changed(void);
int	 mqtt_enabled(void);
/* Is the broker connection up? */
int	 mqtt_connected(void);

/* {"nodes": [{"node", "status", ...}]} from the retained status topics. */
json_t	*mqtt_nodes(void);

/* The answer to a request: an HTTP-like status and a body (borrowed). */
typedef void (*mqtt_reply_fn)(int status, json_t *body, void *arg);
/*
 * Sends a command object (borrowed) to node's command topic and calls fn
 * once, with its answer or a 504 after mqtt.request_timeout_s. Returns a
 * request id for mqtt_cancel, or 0 with *cause.
 */
unsigned long mqtt_request(const char *node, json_t *cmd, mqtt_reply_fn,
	    void *arg, char **cause);
/* Forgets a request; its callback is never called. */
void	 mqtt_cancel(unsigned long id);

#endif
