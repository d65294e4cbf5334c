/* libmosquitto in the libevent loop: feeds, lifecycle, commands, fleet. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "alert.h"
#include "cmd.h"
#include "compat.h"
#include "conf.h"
#include "input-mqtt.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "session.h"
#include "trigger.h"
#include "util.h"
#include "xmalloc.h"

#define MQ_MAX_PAYLOAD	(16 * 1024 * 1024)
#define MQ_MISC_MS	1000
#define MQ_READ_BATCH	256	/* packets read per readable event */

struct mq_sub {
	char		*topic;
	char		*format;
	int		 qos;
	uint64_t	 messages;
	uint64_t	 malformed;
};

struct mq_pending {
	unsigned long		 id;
	mqtt_reply_fn		 fn;
	void			*arg;
	struct event		*timer;
	int64_t			 sent_us;
	char			*node;		/* asked */
	TAILQ_ENTRY(mq_pending)	 entry;
};

static struct mosquitto		*mq;
static struct event_base	*mq_base;
static struct event		*mq_rev;
static struct event		*mq_wev;
static struct event		*mq_misc_ev;
static struct event		*mq_retry_ev;
static int			 mq_fd = -1;
static int			 mq_connected;
static int			 mq_started;
static int			 mq_stopping;
static int			 mq_v5;
static unsigned int		 mq_attempt;
static const struct conf	*mq_conf;
static char			*mq_node;
static char			*mq_password;
static char			*t_status, *t_status_any, *t_cmd, *t_reply;
static char			*t_events, *t_captures;
static struct mq_sub		*mq_subs;
static size_t			 mq_nsubs;
static json_t			*mq_nodes_seen;	/* node -> status object */
static uint64_t			 mq_delivered;	/* messages, for the read loop */
static unsigned long		 mq_next_id = 1;
static TAILQ_HEAD(, mq_pending)	 mq_pending = TAILQ_HEAD_INITIALIZER(mq_pending);

static struct {
	uint64_t	connects;
	uint64_t	disconnects;
	uint64_t	commands;
	uint64_t	command_errors;
	uint64_t	requests;
	uint64_t	replies;
	uint64_t	timeouts;
	uint64_t	roundtrip_us;
	uint64_t	published;
} mq_stats;

static void
metric_connected(struct metric_out *o, void *arg)
{
	metric_u64(o, (uint64_t)mq_connected, (char *)NULL);
}

/* One of a feed's counters: arg is its offset in struct mq_sub. */
static void
metric_feed(struct metric_out *o, void *arg)
{
	size_t	i, off = (size_t)(uintptr_t)arg;

	for (i = 0; i < mq_nsubs; i++)
		metric_u64(o, *(const uint64_t *)((const char *)&mq_subs[i] +
		    off), "topic", mq_subs[i].topic, "format",
		    mq_subs[i].format, (char *)NULL);
}

static void
metric_roundtrip(struct metric_out *o, void *arg)
{
	metric_summary(o, (double)mq_stats.roundtrip_us / 1e6,
	    mq_stats.replies, (char *)NULL);
}

static const struct metric mq_metrics[] = {
	METRIC_READ("alertcap_mqtt_connected", GAUGE,
	    "1 while connected to the broker.", metric_connected, NULL),
	METRIC_VALUE("alertcap_mqtt_connects_total", COUNTER,
	    "Connections made.", &mq_stats.connects),
	METRIC_VALUE("alertcap_mqtt_disconnects_total", COUNTER,
	    "Connections lost.", &mq_stats.disconnects),
	METRIC_READ("alertcap_mqtt_messages_total", COUNTER,
	    "Feed messages by subscription.",
	    metric_feed, (void *)offsetof(struct mq_sub, messages)),
	METRIC_READ("alertcap_mqtt_malformed_total", COUNTER,
	    "Feed messages that were not alerts in the feed's format.",
	    metric_feed, (void *)offsetof(struct mq_sub, malformed)),
	METRIC_VALUE("alertcap_mqtt_commands_total", COUNTER,
	    "Commands taken on this node's command topic.", &mq_stats.commands),
	METRIC_VALUE("alertcap_mqtt_command_errors_total", COUNTER,
	    "Commands answered with an error.", &mq_stats.command_errors),
	METRIC_VALUE("alertcap_mqtt_requests_total", COUNTER,
	    "Commands sent to other nodes.", &mq_stats.requests),
	METRIC_VALUE("alertcap_mqtt_replies_total", COUNTER,
	    "Answers from other nodes.", &mq_stats.replies),
	METRIC_VALUE("alertcap_mqtt_request_timeouts_total", COUNTER,
	    "Commands to other nodes that got no answer in time.",
	    &mq_stats.timeouts),
	METRIC_READ("alertcap_mqtt_request_roundtrip_seconds", SUMMARY,
	    "Time from a command sent to its answer.", metric_roundtrip, NULL),
	METRIC_END
};

static void	mq_watch(void);
static void	mq_schedule_retry(void);

int
mqtt_connected(void)
{
	return (mq_connected);
}

int
mqtt_enabled(void)
{
	return (mq != NULL);
}

/* Publishes (QoS 1) and keeps the write event armed if needed. */
static int
mq_publish(const char *topic, const char *payload, size_t len, int retain,
    const mosquitto_property *props)
{
	int	rc;

	rc = mosquitto_publish_v5(mq, NULL, topic, (int)len, payload, 1,
	    retain, mq_v5 ? props : NULL);
	if (rc == MOSQ_ERR_SUCCESS)
		mq_stats.published++;
	else
		log_debug("mqtt: publish %s: %s", topic, mosquitto_strerror(rc));
	mq_watch();
	return (rc == MOSQ_ERR_SUCCESS ? 0 : -1);
}

static int
mq_publish_json(const char *topic, json_t *o, int retain,
    const mosquitto_property *props)
{
	char	*text;
	int	 rc;

	/* NULL (memory ran out making o or its text): say so, send nothing. */
	if ((text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL) == NULL) {
		log_error("mqtt: cannot make the message for %s; not sent",
		    topic);
		return (-1);
	}
	rc = mq_publish(topic, text, strlen(text), retain, props);
	free(text);
	return (rc);
}

/* Session observer: the retained record and an event per transition. */
static void
mq_on_record(const char *name, const struct record *r, void *arg)
{
	json_t	*o, *ev;
	char	*topic;

	topic = xasprintf("%s/%s", t_captures, name);
	if (r == NULL) {
		mq_publish(topic, "", 0, 1, NULL);
		ev = json_pack("{s:s, s:s}", "capture", name, "status",
		    "Deleted");
	} else {
		o = record_to_json(r);
		mq_publish_json(topic, o, 1, NULL);
		json_decref(o);
		ev = json_deep_copy(json_array_get(r->events,
		    json_array_size(r->events) - 1));
		if (ev == NULL)
			ev = json_object();
		json_object_set_new(ev, "capture", json_string(name));
	}
	if (arg == NULL)	/* not a republish */
		mq_publish_json(t_events, ev, 0, NULL);
	json_decref(ev);
	free(topic);
}

static void
mq_publish_status(const char *status)
{
	char	 at[40];
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:s}", "node", mq_node, "status",
	    status, "at", time_rfc3339(at, sizeof at, now_us()), "version",
	    PACKAGE_VERSION);
	mq_publish_json(t_status, o, 1, NULL);
	json_decref(o);
}

/* Connected: subscribe to the feeds and commands, announce the node. */
static void
mq_on_connect(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	size_t	i;
	int	dummy = 1;

	if (rc != 0) {
		log_error("mqtt: the broker refused the connection: %s",
		    mosquitto_reason_string(rc));
		return;
	}
	mq_connected = 1;
	mq_attempt = 0;
	mq_stats.connects++;
	log_info("mqtt: connected to %s:%lld%s", mq_conf->mqtt_host,
	    mq_conf->mqtt_port, (flags & 1) ? " (session resumed)" : "");
	for (i = 0; i < mq_nsubs; i++)
		mosquitto_subscribe_v5(mq, NULL, mq_subs[i].topic,
		    mq_subs[i].qos, 0, NULL);
	mosquitto_subscribe_v5(mq, NULL, t_cmd, 1, 0, NULL);
	mosquitto_subscribe_v5(mq, NULL, t_reply, 1, 0, NULL);
	/*
	 * The fleet's statuses at QoS 0: each is retained, so one lost with
	 * a connection comes back with the next; a reconnecting fleet of N
	 * nodes is N * N of them, and at QoS 1 their acknowledgements held
	 * the broker seconds behind the nodes' keepalives.
	 */
	mosquitto_subscribe_v5(mq, NULL, t_status_any, 0, 0, NULL);
	mq_publish_status("online");
	/* The broker may have lost or never had the retained records. */
	session_foreach(mq_on_record, &dummy);
}

static void
mq_on_disconnect(struct mosquitto *m, void *arg, int rc,
    const mosquitto_property *props)
{
	if (mq_connected && rc == MOSQ_ERR_KEEPALIVE)
		log_warn("mqtt: disconnected: the broker did not answer a ping "
		    "within keepalive_s (%lld s)", mq_conf->mqtt_keepalive_s);
	else if (mq_connected)
		log_warn("mqtt: disconnected: %s", mosquitto_strerror(rc));
	mq_connected = 0;
	mq_stats.disconnects++;
	mq_schedule_retry();
}

/* A message on a feed: the alert intake, in the feed's format. */
static void
mq_feed(struct mq_sub *s, const struct mosquitto_message *msg)
{
	json_error_t	 jerr;
	json_t		*p;
	char		 buf[256], *via = buf, *cause = NULL;
	size_t		 n = strlen(msg->topic);

	s->messages++;
	p = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, &jerr);
	if (p == NULL) {
		s->malformed++;
		log_warn("mqtt: %s: not JSON: %d:%d: %s", msg->topic,
		    jerr.line, jerr.column, jerr.text);
		return;
	}
	/* "mqtt:TOPIC", on the stack unless the topic is long. */
	if (n + sizeof "mqtt:" > sizeof buf)
		via = xmalloc(n + sizeof "mqtt:");
	memcpy(via, "mqtt:", 5);
	memcpy(via + 5, msg->topic, n + 1);
	/* Nobody reads the outcomes of a feed: none are made (NULL). */
	switch (trigger_intake(p, s->format, via, 0, NULL, &cause)) {
	case 400:
		s->malformed++;
		/* FALLTHROUGH */
	case 503:
		log_warn("mqtt: %s: %s", msg->topic, cause);
		free(cause);
		break;
	}
	if (via != buf)
		free(via);
	json_decref(p);
}

/* Publishes a command's answer on its response topic (body stolen). */
static void
mq_answer(const char *resp, const void *corr, uint16_t corrlen, int status,
    json_t *body)
{
	mosquitto_property	*out = NULL;
	json_t			*ans;

	if (corr != NULL)
		mosquitto_property_add_binary(&out, MQTT_PROP_CORRELATION_DATA,
		    corr, corrlen);
	ans = json_pack("{s:i, s:o}", "status", status, "body", body != NULL ?
	    body : json_null());
	mq_publish_json(resp, ans, 0, out);
	json_decref(ans);
	mosquitto_property_free_all(&out);
}

/* A stop command whose answer waits for the capture's record to change. */
struct mq_stopwait {
	struct cmd_wait			*wait;
	char				*resp;
	void				*corr;
	uint16_t			 corrlen;
	TAILQ_ENTRY(mq_stopwait)	 entry;
};
static TAILQ_HEAD(, mq_stopwait) mq_stopwaits =
    TAILQ_HEAD_INITIALIZER(mq_stopwaits);

static void
mq_stopwait_free(struct mq_stopwait *w)
{
	TAILQ_REMOVE(&mq_stopwaits, w, entry);
	free(w->resp);
	free(w->corr);
	free(w);
}

/* The stop is on record: answer on the command's response topic. */
static void
mq_stop_answered(int status, json_t *body, void *arg)
{
	struct mq_stopwait	*w = arg;

	mq_answer(w->resp, w->corr, w->corrlen, status, body);
	mq_stopwait_free(w);
}

/* A command for this node; answered on the response topic. */
static void
mq_command(const struct mosquitto_message *msg,
    const mosquitto_property *props)
{
	struct mq_stopwait	*w;
	json_error_t		 jerr;
	json_t			*cmd, *body = NULL;
	char			*resp = NULL, *why;
	void			*corr = NULL;
	uint16_t		 corrlen = 0;
	int			 status;

	mq_stats.commands++;
	cmd = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, &jerr);
	if (cmd == NULL) {
		why = xasprintf("payload:%d:%d: %s", jerr.line, jerr.column,
		    jerr.text);
		body = cmd_error("InvalidRequest", why);
		free(why);
		status = 400;
	} else
		status = cmd_run_json(cmd, &body);
	if (status >= 400) {
		mq_stats.command_errors++;
		log_warn("mqtt: command: %d %s", status, json_string_value(
		    json_object_get(json_object_get(body, "error"),
		    "message")));
	}
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &resp,
	    false);
	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
	    &corr, &corrlen, false);
	if (status == CMD_PENDING && resp != NULL) {
		w = xcalloc(1, sizeof *w);
		w->resp = resp;
		w->corr = corr;
		w->corrlen = corrlen;
		TAILQ_INSERT_TAIL(&mq_stopwaits, w, entry);
		w->wait = cmd_wait_stop(json_string_value(json_object_get(cmd,
		    "name")), mq_stop_answered, w);
		resp = corr = NULL;
	} else if (resp != NULL) {
		mq_answer(resp, corr, corrlen, status, body);
		body = NULL;
	}
	json_decref(body);
	json_decref(cmd);
	free(resp);
	free(corr);
}

static struct mq_pending *
mq_pending_find(unsigned long id)
{
	struct mq_pending	*p;

	TAILQ_FOREACH(p, &mq_pending, entry) {
		if (p->id == id)
			return (p);
	}
	return (NULL);
}

static void
mq_pending_free(struct mq_pending *p)
{
	TAILQ_REMOVE(&mq_pending, p, entry);
	event_free(p->timer);
	free(p->node);
	free(p);
}

/* An answer to one of our requests. */
static void
mq_reply(const struct mosquitto_message *msg, const mosquitto_property *props)
{
	struct mq_pending	*p;
	json_t			*ans;
	void			*corr = NULL;
	uint16_t		 corrlen = 0;
	char			 idbuf[24];
	unsigned long		 id;

	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
	    &corr, &corrlen, false);
	if (corr == NULL || corrlen >= sizeof idbuf) {
		free(corr);
		return;
	}
	memcpy(idbuf, corr, corrlen);
	idbuf[corrlen] = '\0';
	free(corr);
	id = strtoul(idbuf, NULL, 10);
	if ((p = mq_pending_find(id)) == NULL)
		return;
	ans = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	mq_stats.replies++;
	mq_stats.roundtrip_us += (uint64_t)(now_us() - p->sent_us);
	if (!json_is_integer(json_object_get(ans, "status"))) {
		json_t *e = cmd_error("BadGateway", "the node's answer is not "
		    "{status, body}");

		p->fn(502, e, p->arg);
		json_decref(e);
	} else
		p->fn((int)json_integer_value(json_object_get(ans, "status")),
		    json_object_get(ans, "body"), p->arg);
	json_decref(ans);
	mq_pending_free(p);
}

/*
 * Whether the broker holds node's "offline" (its last will, or what it
 * said as it stopped): gone, not just slow.
 */
static int
mq_node_offline(const char *node)
{
	const char	*st;

	st = json_string_value(json_object_get(json_object_get(mq_nodes_seen,
	    node), "status"));
	return (st != NULL && strcmp(st, "offline") == 0);
}

/*
 * alertcap/NODE/status: the fleet as the broker retains it. A node's last
 * will ends the wait of the requests sent to it: nothing will answer them.
 */
static void
mq_status(const struct mosquitto_message *msg)
{
	struct mq_pending	*p, *p1;
	json_t			*o, *e;
	const char		*node;

	o = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	node = json_string_value(json_object_get(o, "node"));
	if (node == NULL || !name_valid(node)) {
		json_decref(o);
		return;
	}
	json_object_set(mq_nodes_seen, node, o);
	json_decref(o);
	if (!mq_node_offline(node))
		return;
	TAILQ_FOREACH_SAFE(p, &mq_pending, entry, p1) {
		if (strcmp(p->node, node) != 0)
			continue;
		e = cmd_error("Unavailable", "the node went offline (its last "
		    "will, or its clean stop)");
		p->fn(503, e, p->arg);
		json_decref(e);
		mq_pending_free(p);
	}
}

/* Every message: a feed, a command, an answer from a node, or a status. */
static void
mq_on_message(struct mosquitto *m, void *arg,
    const struct mosquitto_message *msg, const mosquitto_property *props)
{
	bool	match;
	size_t	i;

	mq_delivered++;
	if (msg->payloadlen < 0 || msg->payloadlen > MQ_MAX_PAYLOAD)
		return;
	if (strcmp(msg->topic, t_cmd) == 0) {
		mq_command(msg, props);
		return;
	}
	if (strcmp(msg->topic, t_reply) == 0) {
		mq_reply(msg, props);
		return;
	}
	if (mosquitto_topic_matches_sub(t_status_any, msg->topic, &match) ==
	    MOSQ_ERR_SUCCESS && match) {
		mq_status(msg);
		return;
	}
	for (i = 0; i < mq_nsubs; i++) {
		if (mosquitto_topic_matches_sub(mq_subs[i].topic, msg->topic,
		    &match) == MOSQ_ERR_SUCCESS && match) {
			mq_feed(&mq_subs[i], msg);
			return;
		}
	}
}

static void
mq_on_log(struct mosquitto *m, void *arg, int level, const char *str)
{
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		log_warn("libmosquitto: %s", str);
	else
		log_debug("libmosquitto: %s", str);
}

/*
 * libmosquitto formats a line for every packet whenever a log callback is
 * set (a vsnprintf for each packet, received or sent); take its lines
 * only when they would be logged. Its warnings repeat what the return
 * codes and the disconnect callback already report.
 */
void
mqtt_log_level_changed(void)
{
	if (mq != NULL)
		mosquitto_log_callback_set(mq, log_get_level() >= LOG_LVL_DEBUG ?
		    mq_on_log : NULL);
}

/* Something failed on the socket: the client is disconnected. */
static void
mq_lost(int rc)
{
	if (mq_connected)
		log_warn("mqtt: connection lost: %s", mosquitto_strerror(rc));
	mq_connected = 0;
	mq_watch();
	mq_schedule_retry();
}

/*
 * libmosquitto reads one packet per call; read on (bounded) while each
 * call delivers a message, rather than going round the event loop per
 * message. A call that delivers none (the socket is drained, or the
 * packet was not a message, or only part of it has come) ends the batch;
 * the event comes back if there is more. The socket is corked meanwhile:
 * libmosquitto writes each message's PUBACK as it is handled, and a
 * segment each cost the daemon more CPU than the message (a QoS 1
 * message handled is acknowledged either way; a daemon killed within a
 * batch gets the batch again, as QoS 1 allows).
 */
static void
mq_readable(evutil_socket_t fd, short events, void *arg)
{
	uint64_t	before;
	int		rc, n, on = 1, off = 0;

	/* The batch's acknowledgements leave together, at its end. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
	for (n = 0; n < MQ_READ_BATCH; n++) {
		before = mq_delivered;
		if ((rc = mosquitto_loop_read(mq, 1)) != MOSQ_ERR_SUCCESS) {
			mq_lost(rc);
			return;
		}
		if (mq_delivered == before || mosquitto_socket(mq) != fd)
			break;
	}
	if (mosquitto_socket(mq) == fd)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
	mq_watch();
}

static void
mq_writable(evutil_socket_t fd, short events, void *arg)
{
	int	rc;

	if ((rc = mosquitto_loop_write(mq, 16)) != MOSQ_ERR_SUCCESS)
		mq_lost(rc);
	else
		mq_watch();
}

/* Follows the client's socket (it changes on every reconnect). */
static void
mq_watch(void)
{
	int	fd;

	if (mq == NULL)
		return;
	fd = mosquitto_socket(mq);
	if (fd != mq_fd) {
		if (mq_rev != NULL) {
			event_free(mq_rev);
			event_free(mq_wev);
			mq_rev = mq_wev = NULL;
		}
		mq_fd = fd;
		if (fd >= 0) {
			mq_rev = event_new(mq_base, fd, EV_READ | EV_PERSIST,
			    mq_readable, NULL);
			mq_wev = event_new(mq_base, fd, EV_WRITE, mq_writable,
			    NULL);
			event_add(mq_rev, NULL);
		}
	}
	if (fd >= 0 && mosquitto_want_write(mq))
		event_add(mq_wev, NULL);
}

static void
mq_misc(evutil_socket_t fd, short events, void *arg)
{
	int	rc;

	if (mq_fd < 0)
		return;
	rc = mosquitto_loop_misc(mq);
	if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN)
		mq_lost(rc);
	else
		mq_watch();
	if (mq_fd < 0 && !mq_stopping)
		mq_schedule_retry();
}

/* Connects (or reconnects) to the broker without blocking the loop. */
static void
mq_connect(evutil_socket_t fd, short events, void *arg)
{
	mosquitto_property	*props = NULL;
	int			 rc;

	if (!mq_started) {
		/*
		 * The first connect is the only one that can carry the
		 * session expiry; later ones reuse it. Its TCP connect is
		 * libmosquitto's (quick on a refusing or local broker).
		 */
		mq_started = 1;
		if (mq_v5) {
			mosquitto_property_add_int32(&props,
			    MQTT_PROP_SESSION_EXPIRY_INTERVAL,
			    (uint32_t)mq_conf->mqtt_session_expiry_s);
			rc = mosquitto_connect_bind_v5(mq, mq_conf->mqtt_host,
			    (int)mq_conf->mqtt_port,
			    (int)mq_conf->mqtt_keepalive_s, NULL, props);
			mosquitto_property_free_all(&props);
		} else
			rc = mosquitto_connect_bind_async(mq,
			    mq_conf->mqtt_host, (int)mq_conf->mqtt_port,
			    (int)mq_conf->mqtt_keepalive_s, NULL);
	} else
		rc = mosquitto_reconnect_async(mq);
	if (rc != MOSQ_ERR_SUCCESS) {
		log_debug("mqtt: connecting to %s:%lld: %s", mq_conf->mqtt_host,
		    mq_conf->mqtt_port, rc == MOSQ_ERR_ERRNO ? strerror(errno) :
		    mosquitto_strerror(rc));
		mq_schedule_retry();
		return;
	}
	mq_watch();
}

/* Exponential backoff, 1 s doubling to reconnect_max_s, with jitter. */
static void
mq_schedule_retry(void)
{
	struct timeval	tv;

	if (mq_stopping || evtimer_pending(mq_retry_ev, NULL))
		return;
	backoff_delay(mq_attempt++, (double)mq_conf->mqtt_reconnect_max_s,
	    &tv);
	evtimer_add(mq_retry_ev, &tv);
}

/* The API or the CLI gave up on a remote node. */
static void
mq_timeout(evutil_socket_t fd, short events, void *arg)
{
	struct mq_pending	*p = arg;
	json_t			*e;

	mq_stats.timeouts++;
	e = cmd_error("GatewayTimeout", "the node did not answer in time");
	p->fn(504, e, p->arg);
	json_decref(e);
	mq_pending_free(p);
}

unsigned long
mqtt_request(const char *node, json_t *cmd, mqtt_reply_fn fn, void *arg,
    char **cause)
{
	mosquitto_property	*props = NULL;
	struct mq_pending	*p;
	struct timeval		 tv;
	char			*topic, id[24];
	int			 rc;

	if (mq == NULL || !mq_v5) {
		*cause = xstrdup("other nodes are reached through MQTT v5, "
		    "which this node does not use");
		return (0);
	}
	if (!mq_connected) {
		*cause = xstrdup("not connected to the broker");
		return (0);
	}
	if (mq_node_offline(node)) {
		*cause = xasprintf("node '%s' is offline: the broker holds its "
		    "last will, or its clean stop", node);
		return (0);
	}
	p = xcalloc(1, sizeof *p);
	p->id = mq_next_id++;
	p->node = xstrdup(node);
	p->fn = fn;
	p->arg = arg;
	p->sent_us = now_us();
	snprintf(id, sizeof id, "%lu", p->id);
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC,
	    t_reply);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, id,
	    (uint16_t)strlen(id));
	topic = xasprintf("%s/%s/cmd", mq_conf->mqtt_topic_prefix, node);
	rc = mq_publish_json(topic, cmd, 0, props);
	free(topic);
	mosquitto_property_free_all(&props);
	if (rc == -1) {
		free(p->node);
		free(p);
		*cause = xstrdup("the broker did not take the command");
		return (0);
	}
	p->timer = evtimer_new(mq_base, mq_timeout, p);
	tv.tv_sec = mq_conf->mqtt_request_timeout_s;
	tv.tv_usec = 0;
	evtimer_add(p->timer, &tv);
	TAILQ_INSERT_TAIL(&mq_pending, p, entry);
	mq_stats.requests++;
	return (p->id);
}

void
mqtt_cancel(unsigned long id)
{
	struct mq_pending	*p;

	if ((p = mq_pending_find(id)) != NULL)
		mq_pending_free(p);
}

/* Rules: a capture for another node goes there as a create command. */
static int
mq_forward(const char *node, json_t *params, json_t *trigger, void *arg,
    char **cause)
{
	json_t	*cmd;
	char	*topic;
	int	 rc;

	if (!mq_connected) {
		*cause = xasprintf("capture.target.node: '%s' is reached "
		    "through the broker, and it is not connected", node);
		return (-1);
	}
	cmd = json_pack("{s:s, s:O, s:O, s:O}", "op", "create", "name",
	    json_object_get(params, "name"), "capture", params, "trigger",
	    trigger);
	topic = xasprintf("%s/%s/cmd", mq_conf->mqtt_topic_prefix, node);
	rc = mq_publish_json(topic, cmd, 0, NULL);
	free(topic);
	json_decref(cmd);
	if (rc == -1)
		*cause = xstrdup("the broker did not take the command");
	return (rc);
}

json_t *
mqtt_nodes(void)
{
	json_t		*a, *o;
	const char	*k;

	a = json_array();
	json_object_foreach(mq_nodes_seen, k, o)
		json_array_append(a, o);
	if (mq == NULL)
		json_array_append_new(a, json_pack("{s:s, s:s}", "node",
		    mq_node, "status", "online"));
	return (json_pack("{s:o}", "nodes", a));
}

/*
 * Sets up a client as the configuration says: protocol, credentials (the
 * password, new, to *password), TLS files. -1 with *cause naming the
 * option.
 */
static int
mqtt_client_setup(struct mosquitto *m, const struct conf *conf,
    char **password, char **cause)
{
	char	*why;
	int	 rc;

	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION,
	    strcmp(conf->mqtt_protocol, "v5") == 0 ? MQTT_PROTOCOL_V5 :
	    MQTT_PROTOCOL_V311);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	*password = NULL;
	if (conf->mqtt_password_file != NULL) {
		if ((*password = file_read_small(conf->mqtt_password_file,
		    4096, &why)) == NULL) {
			*cause = xasprintf("mqtt.password_file: %s", why);
			free(why);
			return (-1);
		}
	}
	if (conf->mqtt_username != NULL || *password != NULL)
		mosquitto_username_pw_set(m, conf->mqtt_username, *password);
	if (conf->mqtt_has_tls && (rc = mosquitto_tls_set(m,
	    conf->mqtt_ca_file, NULL, conf->mqtt_cert_file,
	    conf->mqtt_key_file, NULL)) != MOSQ_ERR_SUCCESS) {
		*cause = xasprintf("mqtt.tls: %s", rc == MOSQ_ERR_ERRNO ?
		    strerror(errno) : mosquitto_strerror(rc));
		return (-1);
	}
	return (0);
}

int
mqtt_check(const struct conf *conf, char **cause)
{
	struct mosquitto	*m;
	char			*password;
	int			 rc;

	if (!conf->has_mqtt)
		return (0);
	mosquitto_lib_init();
	if ((m = mosquitto_new(NULL, true, NULL)) == NULL) {
		*cause = xasprintf("mqtt: cannot create a client: %s",
		    strerror(errno));
		return (-1);
	}
	rc = mqtt_client_setup(m, conf, &password, cause);
	if (password != NULL)
		explicit_bzero(password, strlen(password));
	free(password);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return (rc);
}

int
mqtt_init(struct event_base *base, const struct conf *conf, char **cause)
{
	const struct conf_mqtt_sub	*cs;
	struct timeval			 tv = { 0, 0 };
	json_t				*will;
	char				*id, *text;
	size_t				 i;

	mq_base = base;
	mq_node = xstrdup(conf->node);
	mq_nodes_seen = json_object();
	if (!conf->has_mqtt)
		return (0);
	mq_conf = conf;
	mq_v5 = strcmp(conf->mqtt_protocol, "v5") == 0;
	t_status = xasprintf("%s/%s/status", conf->mqtt_topic_prefix, mq_node);
	t_status_any = xasprintf("%s/+/status", conf->mqtt_topic_prefix);
	t_cmd = xasprintf("%s/%s/cmd", conf->mqtt_topic_prefix, mq_node);
	t_reply = xasprintf("%s/%s/reply", conf->mqtt_topic_prefix, mq_node);
	t_events = xasprintf("%s/%s/events", conf->mqtt_topic_prefix, mq_node);
	t_captures = xasprintf("%s/%s/captures", conf->mqtt_topic_prefix,
	    mq_node);
	mq_nsubs = conf->mqtt_subs.n;
	mq_subs = xcalloc(mq_nsubs, sizeof *mq_subs);
	for (i = 0; i < mq_nsubs; i++) {
		cs = (const struct conf_mqtt_sub *)conf->mqtt_subs.v + i;
		mq_subs[i].topic = xstrdup(cs->topic);
		mq_subs[i].format = xstrdup(cs->format);
		mq_subs[i].qos = (int)cs->qos;
	}
	mosquitto_lib_init();
	id = conf->mqtt_client_id != NULL ? xstrdup(conf->mqtt_client_id) :
	    xasprintf("alertcap-%s", mq_node);
	/* Clean start off: the broker keeps the session and queues. */
	mq = mosquitto_new(id, false, NULL);
	free(id);
	if (mq == NULL) {
		*cause = xasprintf("mqtt: cannot create a client: %s",
		    strerror(errno));
		return (-1);
	}
	if (mqtt_client_setup(mq, conf, &mq_password, cause) == -1)
		return (-1);
	will = json_pack("{s:s, s:s}", "node", mq_node, "status", "offline");
	if ((text = json_dumps(will, JSON_COMPACT)) == NULL)
		fatal("mqtt: out of memory");
	mosquitto_will_set_v5(mq, t_status, (int)strlen(text), text, 1, true,
	    NULL);
	free(text);
	json_decref(will);
	mosquitto_connect_v5_callback_set(mq, mq_on_connect);
	mosquitto_disconnect_v5_callback_set(mq, mq_on_disconnect);
	mosquitto_message_v5_callback_set(mq, mq_on_message);
	mqtt_log_level_changed();
	session_add_observer(mq_on_record, NULL);
	trigger_set_forwarder(mq_forward, NULL);
	mq_misc_ev = event_new(base, -1, EV_PERSIST, mq_misc, NULL);
	tv.tv_usec = MQ_MISC_MS * 1000;
	event_add(mq_misc_ev, &tv);
	mq_retry_ev = evtimer_new(base, mq_connect, NULL);
	tv.tv_usec = 0;
	evtimer_add(mq_retry_ev, &tv);
	metrics_register(mq_metrics, NULL);
	log_info("mqtt: broker %s:%lld (%s), %zu feed(s)", conf->mqtt_host,
	    conf->mqtt_port, mq_v5 ? "MQTT 5" : "MQTT 3.1.1", mq_nsubs);
	return (0);
}

void
mqtt_shutdown(void)
{
	struct mq_pending	*p;
	size_t			 i;
	int			 n;

	metrics_unregister(mq_metrics);
	while ((p = TAILQ_FIRST(&mq_pending)) != NULL)
		mq_pending_free(p);
	while (!TAILQ_EMPTY(&mq_stopwaits)) {
		cmd_wait_cancel(TAILQ_FIRST(&mq_stopwaits)->wait);
		mq_stopwait_free(TAILQ_FIRST(&mq_stopwaits));
	}
	if (mq != NULL) {
		mq_stopping = 1;
		session_remove_observer(mq_on_record, NULL);
		trigger_set_forwarder(NULL, NULL);
		if (mq_connected) {
			mq_publish_status("offline");
			mosquitto_disconnect(mq);
			for (n = 0; n < 10 && mosquitto_want_write(mq); n++)
				mosquitto_loop_write(mq, 16);
		}
		if (mq_rev != NULL) {
			event_free(mq_rev);
			event_free(mq_wev);
		}
		event_free(mq_misc_ev);
		event_free(mq_retry_ev);
		mosquitto_destroy(mq);
		mosquitto_lib_cleanup();
		mq = NULL;
	}
	for (i = 0; i < mq_nsubs; i++) {
		free(mq_subs[i].topic);
		free(mq_subs[i].format);
	}
	free(mq_subs);
	free(t_status);
	free(t_status_any);
	free(t_cmd);
	free(t_reply);
	free(t_events);
	free(t_captures);
	if (mq_password != NULL)
		explicit_bzero(mq_password, strlen(mq_password));
	free(mq_password);
	free(mq_node);
	json_decref(mq_nodes_seen);
}
