/*
 * Alerts, normalised: whatever format an alert arrived in (Alertmanager,
 * Grafana, Azure Monitor, generic JSON) and however (webhook, MQTT), rules
 * see this one shape.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stdint.h>

#include <jansson.h>

#include "xmalloc.h"

enum alert_status {
	ALERT_FIRING,
	ALERT_RESOLVED,
};

/*
 * An alert lives as long as its payload's intake: its strings point into
 * the payload or its list's arena, and its maps are the payload's own
 * objects where they are already {str: str}.
 */
struct alert {
	const char		*format;	/* which parser read it */
	const char		*via;		/* "webhook" or "mqtt:TOPIC" */
	const char		*source;
	enum alert_status	 status;
	const char		*name;
	const char		*severity;	/* "" when none */
	json_t			*labels;	/* {str: str}; NULL: none */
	json_t			*annotations;	/* {str: str}; NULL: none */
	int			 has_value;
	double			 value;
	int64_t			 starts_at;	/* us; 0 = unknown */
	int64_t			 ends_at;	/* us; 0 = none */
	const char		*fingerprint;
	int			 sample;	/* a metric sample, not an alert */
};

/* A payload's alerts. A zeroed list is empty; alert_list_clear frees. */
struct alert_list {
	struct alert	**v;
	size_t		  n;
	size_t		  cap;
	struct arena	  arena;	/* the alerts and their strings */
};

/*
 * The formats a webhook may be in (/v1/alerts/{format}, auth.webhooks.*):
 * enum constant, name, and who sends it. This list is the one place the
 * formats are spelt out: the enum, the parser table, the configuration's
 * webhook options and choices, and every message naming the formats are
 * made from it.
 */
#define ALERT_WEBHOOK_FORMATS(X)					\
	X(AFMT_ALERTMANAGER, "alertmanager", "Alertmanager webhooks")	\
	X(AFMT_GRAFANA, "grafana", "Grafana webhooks")			\
	X(AFMT_AZURE_MONITOR, "azure-monitor", "Azure Monitor action groups") \
	X(AFMT_GENERIC, "generic", "generic alert senders")
/* Telegraf's JSON metrics, read from MQTT feeds only. */
#define ALERT_FORMAT_TELEGRAF	"telegraf-json"

enum alert_format {
#define AFMT_ENUM(id, name, senders) id,
	ALERT_WEBHOOK_FORMATS(AFMT_ENUM)
#undef AFMT_ENUM
	AFMT_TELEGRAF,
	AFMT_MAX
};
/* The formats below this one also come by webhook. */
#define AFMT_WEBHOOK_MAX	AFMT_TELEGRAF

/* "auto|alertmanager|...|telegraf-json", for the configuration. */
#define AFMT_CHOICE(id, name, senders) "|" name
#define ALERT_FORMAT_CHOICES						\
	"auto" ALERT_WEBHOOK_FORMATS(AFMT_CHOICE) "|" ALERT_FORMAT_TELEGRAF

/* A format's name; NULL past the table. */
const char *alert_format_name(int);
/* The format of a name, or -1. */
int	 alert_format_find(const char *name);
/*
 * The formats' names for messages: "alertmanager, grafana, ..., generic"
 * (webhook formats only), or every one with "... generic or telegraf-json".
 */
const char *alert_format_list(int webhook_only);

/*
 * Parses a payload in format (NULL or "auto" = detect) into list. The
 * payload and via are borrowed, and must outlive the list: the alerts
 * point into them. via is recorded in every alert. Returns 0, or -1 with
 * *cause (new) naming what is wrong ("alerts[2].labels: must be an
 * object").
 */
int	 alert_parse(json_t *payload, const char *format, const char *via,
	    struct alert_list *list, char **cause);
/* The format a payload is in, by its own markers. */
const char *alert_detect(json_t *payload);
void	 alert_list_clear(struct alert_list *);
/* The alert as JSON (new). */
json_t	*alert_to_json(const struct alert *);
const char *alert_status_name(enum alert_status);

#endif
