/* The daemon's core modules in their order (core.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "capture-pcap.h"
#include "conf.h"
#include "core.h"
#include "iothread.h"
#include "log.h"
#include "notify.h"
#include "lookback.h"
#include "rule.h"
#include "session.h"
#include "state.h"
#include "trigger.h"
#include "upload.h"
#include "util.h"
#include "worker.h"
#include "xmalloc.h"

/* How far core_start got, so that core_stop undoes exactly that. */
enum core_stage {
	CORE_NONE,
	CORE_STATE,
	CORE_CAPTURE,
	CORE_LOOKBACK,
	CORE_HASHER,
	CORE_WORKER,
	CORE_UPLOAD,
	CORE_NOTIFY,
	CORE_SESSION,
	CORE_TRIGGER,
};

static enum core_stage	core_stage;

/* Does list (captures.preopen) name ifname? */
static int
core_named(const struct conf_array *list, const char *ifname)
{
	size_t	i;

	for (i = 0; i < list->n; i++)
		if (strcmp(((char **)list->v)[i], ifname) == 0)
			return (1);
	return (0);
}

int
core_preopen(const struct conf *old, const struct conf *next, char **cause)
{
	const char	*name;
	char		*why = NULL;
	size_t		 i;

	for (i = 0; old != NULL && i < old->preopen.n; i++) {
		name = ((char **)old->preopen.v)[i];
		if (!core_named(&next->preopen, name))
			capture_preopen(name, 0, NULL);
	}
	for (i = 0; i < next->preopen.n; i++) {
		name = ((char **)next->preopen.v)[i];
		if (capture_preopen(name, 1, &why) == 0)
			continue;
		*cause = xasprintf("captures.preopen[%zu]: %s", i, why);
		free(why);
		return (-1);
	}
	return (0);
}

int
core_start(struct event_base *base, const struct conf *conf,
    struct ruleset *rules, char **cause)
{
	const struct conf_replay	*r;
	char				*why = NULL;
	size_t				 i;

	mkdir_parents(conf->state_path, 0750, 0);
	if (state_init(conf->state_path, strcmp(conf->state_sync, "full") == 0,
	    strcmp(conf->state_on_corrupt, "move-aside") == 0, &why) == -1) {
		*cause = xasprintf("state.path: %s", why);
		free(why);
		ruleset_free(rules);
		return (-1);
	}
	core_stage = CORE_STATE;
	capture_init(base, conf->ring_bytes, CAPTURE_POLL_MS,
	    (int)conf->ring_linger_s);
	for (i = 0; i < conf->replays.n; i++) {
		r = (const struct conf_replay *)conf->replays.v + i;
		capture_add_replay(r->name, r->dir);
	}
	core_stage = CORE_CAPTURE;
	if (core_preopen(NULL, conf, cause) == -1)
		goto fail;
	if (lookback_init(conf, cause) == -1)
		goto fail;
	core_stage = CORE_LOOKBACK;
	if (io_init(cause) == -1)
		goto fail;
	core_stage = CORE_HASHER;
	if (worker_init(base, cause) == -1)
		goto fail;
	core_stage = CORE_WORKER;
	if (upload_init(base, conf, cause) == -1)
		goto fail;
	core_stage = CORE_UPLOAD;
	if (notify_init(base, conf, cause) == -1)
		goto fail;
	core_stage = CORE_NOTIFY;
	if (session_init(base, conf, cause) == -1)
		goto fail;
	core_stage = CORE_SESSION;
	log_info("rules: %zu loaded from %s", rules->n, rules->dir);
	trigger_init(conf->node, rules);
	core_stage = CORE_TRIGGER;
	return (0);
fail:
	ruleset_free(rules);
	return (-1);
}

void
core_stop(void)
{
	switch (core_stage) {
	case CORE_TRIGGER:
		trigger_shutdown();
		/* FALLTHROUGH */
	case CORE_SESSION:
		session_shutdown();
		/* FALLTHROUGH */
	case CORE_NOTIFY:
		notify_shutdown();
		/* FALLTHROUGH */
	case CORE_UPLOAD:
		upload_shutdown();
		/* FALLTHROUGH */
	case CORE_WORKER:
		worker_shutdown();
		/* FALLTHROUGH */
	case CORE_HASHER:
		io_shutdown();	/* after the worker waited for outcomes */
		/* FALLTHROUGH */
	case CORE_LOOKBACK:
		lookback_shutdown();
		/* FALLTHROUGH */
	case CORE_CAPTURE:
		capture_shutdown();
		/* FALLTHROUGH */
	case CORE_STATE:
		state_shutdown();
		/* FALLTHROUGH */
	case CORE_NONE:
		break;
	}
	core_stage = CORE_NONE;
}
