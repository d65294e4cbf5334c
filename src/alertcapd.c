/*
 * alertcapd: the daemon. Sets up each module in dependency order, runs the
 * one event loop, and tears the modules down in reverse.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <pcap/pcap.h>

#include "api.h"
#include "capture-pcap.h"
#include "conf.h"
#include "core.h"
#include "input-mqtt.h"
#include "log.h"
#include "ready.h"
#include "upload.h"
#include "notify.h"
#include "lookback.h"
#include "params.h"
#include "rule.h"
#include "session.h"
#include "state.h"
#include "torture.h"
#include "trigger.h"
#include "upload.h"
#include "util.h"
#include "xmalloc.h"

#define TICK_MS		100
#define run_every(ms)	(tick_count % ((ms) / TICK_MS) == 0)

static struct event_base	*base;
static struct conf		*conf;
static const char		*conf_path;
static uint64_t			 tick_count;

/* The API reaches other nodes through the MQTT client. */
static const struct api_fleet	 mqtt_fleet = {
	.request = mqtt_request,
	.cancel = mqtt_cancel,
	.nodes = mqtt_nodes,
};

static void __attribute__((noreturn))
usage(FILE *f, int status)
{
	fprintf(f, "usage: alertcapd [-ftvO] [--online] [-c file]\n"
	    "  -c file  configuration (default: %s if it exists, else the "
	    "embedded default)\n"
	    "  -t       check the configuration and exit\n"
	    "  --online with -t: also reach the broker, write to each "
	    "storage account,\n"
	    "           ask each notify endpoint (GET /readyz's checks)\n"
	    "  -f       stay in the foreground, log to stderr\n"
	    "  -v       log debug messages\n"
	    "  -O       print the configuration option reference\n"
	    "  -h       this help\n",
	    SYSCONFDIR "/alertcap/alertcap.json");
	exit(status);
}

/*
 * -t: every check start-up makes, in start-up's order, without binding,
 * creating or connecting anything. -1 with *cause.
 */
static int
check_all(const struct conf *c, char **cause)
{
	if (capture_permitted(c->replays.n > 0, cause) == -1 ||
	    state_check(c->state_path, cause) == -1 ||
	    upload_check(c, cause) == -1 ||
	    notify_check(c, cause) == -1 ||
	    session_check(c, cause) == -1 ||
	    api_check(c, cause) == -1 ||
	    mqtt_check(c, cause) == -1)
		return (-1);
	return (0);
}

/* -t --online's report, printed; the loop ends with it. */
static void
online_report(int ok, json_t *report, void *arg)
{
	int	*result = arg;
	json_t	*c;
	size_t	 i;

	json_array_foreach(json_object_get(report, "checks"), i, c)
		printf("%-4s %s: %s\n", json_is_true(json_object_get(c, "ok")) ?
		    "ok" : "FAIL", json_string_value(json_object_get(c,
		    "check")), json_string_value(json_object_get(c,
		    "reason")));
	*result = ok ? 0 : -1;
	event_base_loopbreak(base);
}

/*
 * -t --online: what GET /readyz checks, before the daemon runs — the
 * broker reached, each storage account written, each endpoint asked —
 * on a loop of its own. -1 if anything is not ready.
 */
static int
check_online(const struct conf *c)
{
	char	*cause = NULL;
	int	 result = -1;

	log_init(LOG_LVL_ERROR, 0);	/* the report says it all */
	if ((base = event_base_new()) == NULL)
		fatal("event_base_new failed");
	if (upload_init(base, c, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		event_base_free(base);
		return (-1);
	}
	ready_init(base, c, 0);
	ready_start(online_report, &result);
	event_base_dispatch(base);
	ready_shutdown();
	upload_shutdown();
	event_base_free(base);
	base = NULL;
	return (result);
}

static enum log_level
level_from_name(const char *s)
{
	if (strcmp(s, "error") == 0)
		return (LOG_LVL_ERROR);
	if (strcmp(s, "warn") == 0)
		return (LOG_LVL_WARN);
	if (strcmp(s, "debug") == 0)
		return (LOG_LVL_DEBUG);
	return (LOG_LVL_INFO);
}

/* libevent's own messages through our logger. */
static void
libevent_log(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_error("libevent: %s", msg);
	else if (severity == EVENT_LOG_WARN)
		log_warn("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* Is a notify endpoint of this name in the configuration (arg)? */
static int
conf_has_notify(const char *name, void *arg)
{
	const struct conf	*c = arg;
	size_t			 i;

	for (i = 0; i < c->notifies.n; i++)
		if (strcmp(((const struct conf_notify *)c->notifies.v)[i].name,
		    name) == 0)
			return (1);
	return (0);
}

/* Is a storage account of this name in the configuration (arg)? */
static int
conf_has_account(const char *name, void *arg)
{
	const struct conf		*c = arg;
	const struct conf_account	*a;
	size_t				 i;

	for (i = 0; i < c->accounts.n; i++) {
		a = (const struct conf_account *)c->accounts.v + i;
		if (strcmp(a->name, name) == 0)
			return (1);
	}
	return (0);
}

/*
 * Loads the rules, their literal capture parameters checked against this
 * configuration. The embedded default directory may be missing; a
 * configured one not.
 */
static struct ruleset *
load_rules(const struct conf *c, char **cause)
{
	struct params_limits	lim;

	params_limits_conf(&lim, c);
	lim.account_exists = conf_has_account;
	lim.account_arg = (void *)c;
	lim.notify_exists = conf_has_notify;
	lim.notify_arg = (void *)c;
	return (rules_load(c->rules_dir, strcmp(c->rules_dir, "./rules") == 0,
	    &lim, cause));
}

static void
on_tick(evutil_socket_t fd, short events, void *arg)
{
	tick_count++;
	capture_poll();
	session_flush();
	if (run_every(1000))
		session_tick();
}

static void
on_terminate(evutil_socket_t sig, short events, void *arg)
{
	log_info("signal %d: stopping every capture and exiting", (int)sig);
	session_shutdown();
	event_base_loopbreak(base);
}

/* A reload that cannot be taken: the running configuration stays. */
static void
reload_refused(const char *what, char *cause, struct conf *next,
    struct ruleset *rs)
{
	log_error("reload failed; keeping the running %s%s", what, cause);
	free(cause);
	ruleset_free(rs);
	conf_free(next);
}

/* SIGHUP: parse into a fresh struct, check, then swap what may change. */
static void
on_reload(evutil_socket_t sig, short events, void *arg)
{
	struct conf		*next;
	struct conf_array	 preopen;
	struct ruleset		*rs;
	const char		*key;
	char			*cause = NULL;

	log_info("reloading %s", conf_path != NULL ? conf_path :
	    "(default)");
	if ((next = conf_load(conf_path, &cause)) == NULL) {
		log_error("reload failed; keeping the running configuration:"
		    "\n%s", cause);
		free(cause);
		return;
	}
	if ((rs = load_rules(next, &cause)) == NULL) {
		reload_refused("rules and configuration:\n", cause, next, NULL);
		return;
	}
	if (api_reconf(next, &cause) == -1) {
		reload_refused("configuration: ", cause, next, rs);
		return;
	}
	if (core_preopen(conf, next, &cause) == -1) {
		log_error("reload: %s", cause);
		free(cause);
		cause = NULL;
	}
	preopen = conf->preopen;	/* the list the next reload undoes */
	conf->preopen = next->preopen;
	next->preopen = preopen;
	if (lookback_reconf(next, &cause) == -1) {
		log_error("reload: the lookback rings stay as they were: %s",
		    cause);
		free(cause);
		cause = NULL;
	}
	if ((key = conf_restart_needed(conf, next)) != NULL)
		log_warn("reload: '%s' changed; it takes effect at the next "
		    "restart", key);
	session_reconf(next);
	log_info("rules: %zu loaded from %s", rs->n, rs->dir);
	trigger_set_rules(rs);
	log_set_level(log_get_level() == LOG_LVL_DEBUG ? LOG_LVL_DEBUG :
	    level_from_name(next->log_level));
	mqtt_log_level_changed();
	/* Keep what may not change live; take the rest. */
	conf_free(next);
	log_info("reloaded");
}


int
main(int argc, char **argv)
{
	struct event	*ev_term, *ev_int, *ev_hup, *ev_tick;
	struct timeval	 tv = { 0, TICK_MS * 1000 };
	struct ruleset	*rules;
	char		*cause = NULL;
	int		 ch, check = 0, foreground = 0, verbose = 0;
	int		 online = 0;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "online", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};

	while ((ch = getopt_long(argc, argv, "c:ftvOh", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'o':
			online = 1;
			break;
		case 'O':
			conf_print_reference();
			return (0);
		case 'h':
			usage(stdout, 0);
		default:
			usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (conf_path == NULL &&
	    access(SYSCONFDIR "/alertcap/alertcap.json", R_OK) == 0)
		conf_path = SYSCONFDIR "/alertcap/alertcap.json";

	if ((conf = conf_load(conf_path, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	if ((rules = load_rules(conf, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return (1);
	}
	if (check && check_all(conf, &cause) == -1) {
		fprintf(stderr, "%s: %s\n", conf_path != NULL ? conf_path :
		    "(default)", cause);
		free(cause);
		ruleset_free(rules);
		conf_free(conf);
		return (1);
	}
	if (check && online && check_online(conf) == -1) {
		ruleset_free(rules);
		conf_free(conf);
		return (1);
	}
	if (check) {
		printf("%s: configuration ok; %zu rules in %s\n",
		    conf_path != NULL ? conf_path : "(default)", rules->n,
		    rules->dir);
		ruleset_free(rules);
		conf_free(conf);
		return (0);
	}
	log_init(verbose ? LOG_LVL_DEBUG : level_from_name(conf->log_level),
	    strcmp(conf->log_target, "syslog") == 0 ||
	    (strcmp(conf->log_target, "auto") == 0 && !foreground));
	log_set_format(strcmp(conf->log_format, "json") == 0 ? LOG_FMT_JSON :
	    strcmp(conf->log_format, "logfmt") == 0 ? LOG_FMT_LOGFMT :
	    LOG_FMT_TEXT);
	if (!foreground && daemon(1, 0) == -1)
		fatal("daemon: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
	alloc_cache_init();	/* (torture_init takes jansson's after it) */
	torture_init();
	event_set_log_callback(libevent_log);
	if ((base = event_base_new()) == NULL)
		fatal("event_base_new failed");

	if (capture_permitted(conf->replays.n > 0, &cause) == -1)
		fatal("%s", cause);
	if (core_start(base, conf, rules, &cause) == -1)
		fatal("%s", cause);
	if (api_init(base, conf, &cause) == -1)
		fatal("%s", cause);
	if (mqtt_init(base, conf, &cause) == -1)
		fatal("%s", cause);
	api_set_fleet(&mqtt_fleet);
	ready_init(base, conf, 1);

	ev_term = evsignal_new(base, SIGTERM, on_terminate, NULL);
	ev_int = evsignal_new(base, SIGINT, on_terminate, NULL);
	ev_hup = evsignal_new(base, SIGHUP, on_reload, NULL);
	ev_tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	event_add(ev_term, NULL);
	event_add(ev_int, NULL);
	event_add(ev_hup, NULL);
	event_add(ev_tick, &tv);
	log_info("alertcapd %s on node %s (%s)", PACKAGE_VERSION, conf->node,
	    pcap_lib_version());

	event_base_dispatch(base);

	event_free(ev_tick);
	event_free(ev_hup);
	event_free(ev_int);
	event_free(ev_term);
	/* The exact reverse of start-up. */
	mqtt_shutdown();
	api_shutdown();
	ready_shutdown();
	core_stop();
	conf_free(conf);
	event_base_free(base);
	log_info("exited");
	return (0);
}
