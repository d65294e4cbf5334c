/*
 * The daemon's core, started and stopped in one order wherever it runs
 * (alertcapd, the unit tests' harness, the fuzz targets): the state
 * store, the capture engine with its replayed interfaces, the lookback
 * rings, the hashing thread, the worker, the uploader, the session
 * manager and the policy engine. The adapters (the REST API, MQTT) start
 * after it and stop before it.
 */
#ifndef CORE_H
#define CORE_H

struct conf;
struct event_base;
struct ruleset;

/* Starts the core with rules (stolen); -1 with *cause naming the part. */
int	core_start(struct event_base *, const struct conf *, struct ruleset *,
	    char **cause);
/*
 * Opens the interfaces next names in captures.preopen and lets go of the
 * ones only old (NULL at start) named; -1 with *cause at the first that
 * cannot be opened.
 */
int	core_preopen(const struct conf *old, const struct conf *next,
	    char **cause);
/* Stops what core_start started, in the reverse order. */
void	core_stop(void);

#endif
