/*
 * Alerts, normalised: whatever format an alert arrived in (Alertmanager,
 * Grafana, Azure Monitor, generic JSON) and however (webhook, MQTT), rules
 * see this one shape.
 */
#ifndef ALERT_H
#define ALERT_H

#include <stdint.h>

#include <jansson.h>

enum alert_status {
	ALERT_FIRING,
	ALERT_RESOLVED,
};

struct alert {
	char			*format;	/* which parser read it */
	char			*via;		/* "webhook" or "mqtt:TOPIC" */
	char			*source;
	enum alert_status	 status;
	char			*name;
	char			*severity;	/* "" when none */
	json_t			*labels;	/* {str: str} */
	json_t			*annotations;	/* {str: str} */
	int			 has_value;
	double			 value;
	int64_t			 starts_at;	/* us; 0 = unknown */
	int64_t			 ends_at;	/* us; 0 = none */
	char			*fingerprint;
	int			 sample;	/* a metric sample, not an alert */
};

struct alert_list {
	struct alert	**v;
	size_t		  n;
};

/* The formats, for detection and for /v1/alerts/{format}. */
extern const char *const alert_formats[];
/* Telegraf's JSON metrics, read from MQTT feeds only. */
#define ALERT_FORMAT_TELEGRAF	"telegraf-json"

/*
 * Parses a payload (borrowed) in format (NULL or "auto" = detect) into
 * list. via is recorded in every alert. Returns 0, or -1 with *cause (new)
 * naming what is wrong ("alerts[2].labels: must be an object").
 */
int	 alert_parse(json_t *payload, const char *format, const char *via,
	    struct alert_list *list, char **cause);
/* The format a payload is in, by its own markers. */
const char *alert_detect(json_t *payload);
void	 alert_list_clear(struct alert_list *);
void	 alert_free(struct alert *);
/* The alert as JSON (new). */
json_t	*alert_to_json(const struct alert *);
const char *alert_status_name(enum alert_status);

#endif
