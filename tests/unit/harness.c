/* The daemon's core in a unit test's process (harness.h). */
#include "config.h"

#include <sys/stat.h>

#include <sys/wait.h>

#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "conf.h"
#include "core.h"
#include "harness.h"
#include "log.h"
#include "rule.h"
#include "session.h"
#include "unit.h"
#include "xmalloc.h"

extern char			**environ;

static struct event_base	*h_base;
static struct conf		*h_conf;
static char			*h_dir;
static char			*h_replay;
static int			 h_files;

static void
h_fatal(const char *what, char *cause)
{
	fprintf(stderr, "harness: %s: %s\n", what, cause);
	abort();
}

struct event_base *
harness_start(const char *rules)
{
	return (harness_start_lookback(rules, 0, 0));
}

static long long	 h_disk_bytes, h_file_bytes;

struct event_base *
harness_start_disk(long long ring_bytes, long long disk_bytes,
    long long file_bytes)
{
	struct event_base	*base;

	h_disk_bytes = disk_bytes;
	h_file_bytes = file_bytes;
	base = harness_start_lookback(NULL, ring_bytes, 0);
	h_disk_bytes = h_file_bytes = 0;
	return (base);
}

const char *
harness_root(void)
{
	return (h_conf->captures_root);
}

struct event_base *
harness_start_lookback(const char *rules, long long ring_bytes,
    long long snaplen)
{
	struct conf_replay	*replay;
	struct conf_lookback	*lb;
	struct ruleset		*rs;
	char			*cause = NULL, *rdir, *p;
	FILE			*f;

	log_init(getenv("UNIT_LOG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERROR,
	    0);
	h_dir = unit_tmpdir();
	h_replay = xasprintf("%s/replay", h_dir);
	rdir = xasprintf("%s/rules", h_dir);
	p = xasprintf("%s/%s", h_replay, HARNESS_IFACE2);
	if (mkdir(h_replay, 0700) == -1 || mkdir(rdir, 0700) == -1 ||
	    mkdir(p, 0700) == -1)
		abort();
	free(p);
	if (rules != NULL) {
		p = xasprintf("%s/rule.json", rdir);
		if ((f = fopen(p, "w")) == NULL || fputs(rules, f) == EOF ||
		    fclose(f) == EOF)
			abort();
		free(p);
	}
	if ((h_conf = conf_load(NULL, &cause)) == NULL)
		h_fatal("conf", cause);
	free(h_conf->captures_root);
	h_conf->captures_root = xasprintf("%s/captures", h_dir);
	free(h_conf->state_path);
	h_conf->state_path = xasprintf("%s/state.db", h_dir);
	h_conf->max_concurrent = 8;
	h_conf->ring_linger_s = 0;
	replay = xcalloc(2, sizeof *replay);
	replay[0].name = xstrdup(HARNESS_IFACE);
	replay[0].dir = xstrdup(h_replay);
	replay[1].name = xstrdup(HARNESS_IFACE2);
	replay[1].dir = xasprintf("%s/%s", h_replay, HARNESS_IFACE2);
	h_conf->replays.v = replay;
	h_conf->replays.n = 2;
	if (ring_bytes != 0) {
		lb = xcalloc(1, sizeof *lb);
		lb->name = xstrdup(HARNESS_IFACE);
		lb->memory_bytes = ring_bytes;
		lb->snaplen = snaplen;
		lb->bpf = xstrdup("");
		lb->disk_bytes = h_disk_bytes;
		lb->disk_file_bytes = h_file_bytes;
		h_conf->lookbacks.v = lb;
		h_conf->lookbacks.n = 1;
	}
	h_base = event_base_new();
	if ((rs = rules_load(rdir, 0, NULL, &cause)) == NULL)
		h_fatal("rules", cause);
	if (core_start(h_base, h_conf, rs, &cause) == -1)
		h_fatal("start", cause);
	free(rdir);
	return (h_base);
}

static int
h_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return (remove(path));
}

void
harness_stop(void)
{
	core_stop();
	conf_free(h_conf);
	event_base_free(h_base);
	nftw(h_dir, h_rm, 16, FTW_DEPTH | FTW_PHYS);
	free(h_dir);
	free(h_replay);
	h_base = NULL;
}

/*
 * Runs pktgen (no shell) with argv, its output file at argv[out] being a
 * hidden name in dir; then moves the file where the interface sees it,
 * and lets the loop deliver it.
 */
static void
h_inject(const char *dir, char **argv, int out)
{
	const char	*b = getenv("builddir");
	char		*tmp, *dst, *prog;
	pid_t		 pid;
	int		 st;

	tmp = xasprintf("%s/.in%d", dir, h_files);
	dst = xasprintf("%s/in%d.pcap", dir, h_files++);
	prog = xasprintf("%s/tests/tools/pktgen", b != NULL ? b : ".");
	argv[0] = prog;
	argv[out] = tmp;
	if (posix_spawn(&pid, prog, NULL, NULL, argv, environ) != 0 ||
	    waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0 || rename(tmp, dst) == -1)
		abort();
	free(prog);
	free(tmp);
	free(dst);
	harness_run(50);
}

void
harness_ping_on(const char *iface, int count, int size)
{
	char	 c[16], n[16], *dir;
	char	*argv[] = { NULL, (char *)"--ping", NULL, c, n, NULL };

	snprintf(c, sizeof c, "%d", count);
	snprintf(n, sizeof n, "%d", size);
	dir = strcmp(iface, HARNESS_IFACE) == 0 ? xstrdup(h_replay) :
	    xasprintf("%s/%s", h_replay, iface);
	h_inject(dir, argv, 2);
	free(dir);
}

void
harness_ping(int count, int size)
{
	harness_ping_on(HARNESS_IFACE, count, size);
}

int
harness_copy_file(const char *from, const char *to)
{
	char	 buf[65536];
	ssize_t	 n;
	int	 in, out, rc = 0;

	if ((in = open(from, O_RDONLY)) == -1)
		return (-1);
	if ((out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1) {
		close(in);
		return (-1);
	}
	while ((n = read(in, buf, sizeof buf)) > 0)
		if (write(out, buf, (size_t)n) != n)
			rc = -1;
	if (n == -1)
		rc = -1;
	close(in);
	close(out);
	return (rc);
}

static long long	h_du;

static int
h_du_add(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F)
		h_du += st->st_size;
	return (0);
}

long long
harness_dir_bytes(const char *path)
{
	h_du = 0;
	if (nftw(path, h_du_add, 16, FTW_PHYS) == -1)
		return (-1);
	return (h_du);
}

void
harness_traffic(int rounds)
{
	char	 r[16];
	char	*argv[] = { NULL, NULL, (char *)"02:00:00:00:00:02",
	    (char *)"02:00:00:00:00:01", r, (char *)"200", NULL };

	snprintf(r, sizeof r, "%d", rounds);
	h_inject(h_replay, argv, 1);
}

static void
h_exit(evutil_socket_t fd, short ev, void *arg)
{
	event_base_loopbreak(h_base);
}

void
harness_run(int ms)
{
	struct timeval	tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_once(h_base, -1, EV_TIMEOUT, h_exit, NULL, &tv);
	event_base_dispatch(h_base);
}

int
harness_wait_status(const char *name, const char *status, int ms)
{
	json_t	*r;
	int	 i, ok = 0;

	for (i = 0; i <= ms / 10 && !ok; i++) {
		if ((r = session_get(name)) != NULL) {
			ok = strcmp(json_string_value(json_object_get(r,
			    "status")), status) == 0;
			json_decref(r);
		}
		if (!ok)
			harness_run(10);
	}
	return (ok);
}

int
harness_create(const char *name, const char *params)
{
	json_t	*p, *out = NULL;
	char	*cause = NULL;
	int	 rc;

	if ((p = json_loads(params, 0, NULL)) == NULL)
		abort();
	rc = session_create(p, name, NULL, &out, &cause);
	if (rc != SESS_OK && getenv("UNIT_LOG") != NULL)
		fprintf(stderr, "create %s: %s\n", name, cause);
	json_decref(p);
	json_decref(out);
	free(cause);
	return (rc);
}

int
harness_stop_capture(const char *name)
{
	json_t	*out = NULL;
	char	*cause = NULL;

	session_stop(name, STOP_MANUAL, &out, &cause);
	json_decref(out);
	free(cause);
	return (harness_wait_status(name, "Stopped", 5000));
}

json_t *
harness_record(const char *name)
{
	return (session_get(name));
}

char *
harness_file(const char *name)
{
	json_t		*r = session_get(name);
	const char	*uri;
	char		*path = NULL;

	uri = json_string_value(json_object_get(r, "file"));
	if (uri != NULL && strncmp(uri, "file://", 7) == 0)
		path = xstrdup(uri + 7);
	json_decref(r);
	return (path);
}
