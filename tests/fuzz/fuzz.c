/* The fuzz targets' shared set-up (fuzz.h). */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "api.h"
#include "capture-pcap.h"
#include "cmd.h"
#include "conf.h"
#include "core.h"
#include "fuzz.h"
#include "log.h"
#include "rule.h"
#include "session.h"
#include "state.h"
#include "trigger.h"
#include "upload.h"
#include "xmalloc.h"

static char		*fz_dir;
static struct conf	*fz_conf;	/* the modules point into it */
static int		 fz_api;
static struct event_base *fz_base;
static int		 fz_port;

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return (0);
}

/* The modules, torn down in the reverse of fuzz_daemon's order. */
static void
fuzz_daemon_free(void)
{
	if (fz_base == NULL)
		return;
	if (fz_api)
		api_shutdown();
	core_stop();
	conf_free(fz_conf);
	event_base_free(fz_base);
	fz_base = NULL;
}

/* The daemon's modules and the scratch directory go with the process. */
static void
fuzz_cleanup(void)
{
	fuzz_daemon_free();
	if (fz_dir != NULL)
		nftw(fz_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
fuzz_tmpdir(void)
{
	char	tmpl[] = "/tmp/alertcap-fuzz.XXXXXX";

	if (fz_dir == NULL) {
		if (mkdtemp(tmpl) == NULL) {
			perror("mkdtemp");
			exit(1);
		}
		fz_dir = xstrdup(tmpl);
		atexit(fuzz_cleanup);
	}
	return (fz_dir);
}

const char *
fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	static char	*path;
	FILE		*f;

	free(path);
	path = xasprintf("%s/%s", fuzz_tmpdir(), name);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(data, 1, size, f) != size || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return (path);
}

/* A loopback port nobody listens on now. */
static int
free_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		perror("bind");
		exit(1);
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return (port);
}

struct event_base *
fuzz_daemon(int api, int *port)
{
	struct conf		*c;
	struct ruleset		*rs;
	struct conf_listen	*l;
	struct conf_replay	*replay;
	char			*cause = NULL;

	if (fz_base != NULL) {
		if (port != NULL)
			*port = fz_port;
		return (fz_base);
	}
	log_init(getenv("FUZZ_LOG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERROR,
	    0);
	if ((c = conf_load(NULL, &cause)) == NULL)
		fatal("%s", cause);
	free(c->captures_root);
	c->captures_root = xasprintf("%s/captures", fuzz_tmpdir());
	free(c->state_path);
	c->state_path = xasprintf("%s/state.db", fuzz_tmpdir());
	c->anonymous_loopback = 1;
	c->max_concurrent = 4;
	l = (struct conf_listen *)c->listen.v;
	l->port = fz_port = free_port();
	c->ring_linger_s = 0;
	/* Captures on lo take no packets and need no privilege. */
	replay = xcalloc(1, sizeof *replay);
	replay->name = xstrdup("lo");
	replay->dir = xasprintf("%s/replay", fuzz_tmpdir());
	if (mkdir(replay->dir, 0700) == -1 && errno != EEXIST)
		fatal("%s: %s", replay->dir, strerror(errno));
	c->replays.v = replay;
	c->replays.n = 1;
	fz_base = event_base_new();
	if ((rs = rules_load(fuzz_tmpdir(), 0, NULL, &cause)) == NULL ||
	    core_start(fz_base, c, rs, &cause) == -1)
		fatal("%s", cause);
	if (api && api_init(fz_base, c, &cause) == -1)
		fatal("%s", cause);
	fz_api = api;
	if (port != NULL)
		*port = fz_port;
	fz_conf = c;
	return (fz_base);
}

/* Deletes each capture a list names. */
void
fuzz_daemon_reset(void)
{
	json_t		*list, *e, *gone, *cmd;
	size_t		 i;

	cmd = json_pack("{s:s}", "op", "list");
	if (cmd_run_json(cmd, &list) != 200) {
		json_decref(cmd);
		return;
	}
	json_decref(cmd);
	json_array_foreach(json_object_get(list, "captures"), i, e) {
		cmd = json_pack("{s:s, s:O, s:b}", "op", "delete", "name",
		    json_object_get(e, "name"), "file", 1);
		cmd_run_json(cmd, &gone);
		json_decref(cmd);
		json_decref(gone);
	}
	json_decref(list);
}
