/*
 * Fuzz target: an alert payload as a webhook or an MQTT feed delivers it.
 * The input is "FORMAT\n" and the payload; FORMAT is a webhook format,
 * telegraf-json or auto (anything else: auto, which detects). The alerts
 * then go through the shipped rules in a dry run: matching, templates,
 * dedup keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "alert.h"
#include "fuzz.h"
#include "log.h"
#include "rule.h"
#include "trigger.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char	*formats[] = { "alertmanager", "grafana",
	    "azure-monitor", "generic", "telegraf-json", NULL };
	static int		 ready;
	struct alert_list	 l = { 0 };
	struct ruleset		*rs;
	const uint8_t		*nl;
	const char		*format = NULL;
	json_t			*p, *res, *a;
	char			*cause = NULL;
	size_t			 i, flen;
	int			 retry;

	if (!ready) {
		log_init(LOG_LVL_ERROR, 0);
		if ((rs = rules_load(FUZZ_RULES_DIR, 0, NULL, &cause)) == NULL)
			fatal("%s", cause);
		trigger_init("fuzz", rs);
		ready = 1;
	}
	if ((nl = memchr(data, '\n', size)) != NULL) {
		flen = (size_t)(nl - data);
		for (i = 0; formats[i] != NULL; i++)
			if (strlen(formats[i]) == flen &&
			    memcmp(formats[i], data, flen) == 0)
				format = formats[i];
		size -= flen + 1;
		data = nl + 1;
	}
	p = json_loadb((const char *)data, size, 0, NULL);
	if (p == NULL)
		return (0);
	(void)alert_detect(p);
	if (alert_parse(p, format, "mqtt:fuzz/topic", &l, &cause) == -1) {
		free(cause);
		json_decref(p);
		return (0);
	}
	for (i = 0; i < l.n; i++) {
		a = alert_to_json(l.v[i]);
		json_decref(a);
	}
	res = trigger_alerts(&l, 1, 1, &retry);
	json_decref(res);
	alert_list_clear(&l);
	json_decref(p);
	return (0);
}
