/*
 * The policy engine: alerts in, capture decisions out. For every alert and
 * every rule it matches, it decides started / duplicate / cooldown /
 * limited / skipped, starts captures through the session manager, and
 * stops them with AlertResolved when their alert resolves.
 */
#ifndef TRIGGER_H
#define TRIGGER_H

#include <jansson.h>

#include "alert.h"

struct ruleset;

/*
 * Takes the rules (steals). Dedup keys live in the records' triggers, so
 * they hold across restarts with nothing to rebuild.
 */
void	 trigger_init(const char *node, struct ruleset *);
/* Swaps in a new rule set (steals); the old one is freed. */
void	 trigger_set_rules(struct ruleset *);
const struct ruleset *trigger_rules(void);
void	 trigger_shutdown(void);

/*
 * Acts on alerts (borrowed). With answer set, returns {"alerts",
 * "matched", "captures"} (new); else NULL, and nothing is built for it.
 * With dry_run nothing starts or stops: outcomes say what would. *retry
 * is set when a failure might pass on retry (the state store).
 */
json_t	*trigger_alerts(const struct alert_list *, int dry_run, int answer,
	    int *retry);

/*
 * How a capture for another node is sent there (MQTT). fn gets the node,
 * the expanded parameters and the trigger (both borrowed); -1 with *cause
 * if it could not be sent. Without one, such captures are skipped.
 */
typedef int (*trigger_forward_fn)(const char *node, json_t *params,
    json_t *trigger, void *arg, char **cause);
void	 trigger_set_forwarder(trigger_forward_fn, void *arg);

/*
 * The one intake of alerts, whichever adapter they came by: parses payload
 * (borrowed) in format (NULL or "auto": detect), tags each alert with via,
 * and acts on them. Returns an HTTP-like status: 202 with the outcomes in
 * *answer (new), unless answer is NULL (an MQTT feed: nobody reads them,
 * so none are made); 200 for dry_run, with the alerts as read under
 * "normalized"; 400 (the payload) or 503 (the state store; retry) with
 * *cause (new) and no answer.
 */
int	 trigger_intake(json_t *payload, const char *format, const char *via,
	    int dry_run, json_t **answer, char **cause);

#endif
