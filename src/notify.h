/*
 * Notifications: when a capture starts, stops, is uploaded or fails, the
 * endpoints of `notify` hear of it — a webhook gets the record as JSON
 * with a line of text (Slack and Teams show it), Grafana an annotation on
 * the panel that alerted — so the link to the evidence goes back to
 * where the on-call engineer looks. A session observer decides; each
 * notification is kept in the state store until it is sent, retried with
 * backoff through the HTTP helper (httpc.h), across restarts.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

struct event_base;
struct conf;

int	notify_init(struct event_base *, const struct conf *, char **cause);
/* What notify_init reads (each endpoint's secret files), for -t. */
int	notify_check(const struct conf *, char **cause);
void	notify_shutdown(void);
/* Is there an endpoint of this name? (As params_limits wants.) */
int	notify_endpoint_exists(const char *name, void *unused);

#endif
