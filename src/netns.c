/* Network namespaces as capture targets (netns.h). */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "netns.h"
#include "util.h"
#include "xmalloc.h"

#define CONTAINER_ID_LEN	64
#define CONTAINER_ID_MIN	12

/* Opens path as a network namespace: fd, or -1 with *why. */
static int
ns_open(const char *path, struct stat *st, const char **why)
{
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*why = strerror(errno);
		return (-1);
	}
	if (fstat(fd, st) == -1 || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		*why = "not a network namespace";
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Sets t from the namespace file at path. -1 with *cause for field. */
static int
ns_set(struct nstarget *t, const char *path, const char *field,
    char **cause)
{
	struct stat	 st;
	const char	*why = NULL;
	int		 fd;

	if ((fd = ns_open(path, &st, &why)) == -1) {
		*cause = xasprintf("%s: %s: %s", field, path, why);
		return (-1);
	}
	close(fd);
	t->path = xstrdup(path);
	t->ino = st.st_ino;
	t->dev = st.st_dev;
	return (0);
}

/* The run of 64 hex digits in s (a cgroup path component), or NULL. */
static const char *
hex_run(const char *s, size_t *len)
{
	size_t	n;

	for (; *s != '\0'; s++) {
		for (n = 0; isxdigit((unsigned char)s[n]); n++)
			;
		if (n == CONTAINER_ID_LEN) {
			*len = n;
			return (s);
		}
		if (n > 0)
			s += n - 1;
	}
	return (NULL);
}

/*
 * The container id in a cgroup path: the last component holding 64 hex
 * digits, as Docker (docker-ID.scope, /docker/ID), containerd
 * (cri-containerd-ID.scope), CRI-O (crio-ID.scope) and Podman
 * (libpod-ID.scope) name them. Copies it to id; 0, or -1 if none.
 */
static int
cgroup_id(const char *path, char id[CONTAINER_ID_LEN + 1])
{
	const char	*c, *h, *found = NULL;
	size_t		 n;

	for (c = path; c != NULL && *c != '\0'; c = strchr(c, '/')) {
		if (*c == '/')
			c++;
		if ((h = hex_run(c, &n)) != NULL && (strchr(c, '/') == NULL ||
		    h < strchr(c, '/')))
			found = h;
	}
	if (found == NULL)
		return (-1);
	memcpy(id, found, CONTAINER_ID_LEN);
	id[CONTAINER_ID_LEN] = '\0';
	return (0);
}

/* Does process pid's cgroup name a container whose id begins with want? */
static int
proc_container(const char *pid, const char *want, char id[CONTAINER_ID_LEN + 1])
{
	char	 path[64], line[4096], *p;
	FILE	*f;
	int	 hit = 0;

	snprintf(path, sizeof path, "/proc/%s/cgroup", pid);
	if ((f = fopen(path, "re")) == NULL)
		return (0);
	while (!hit && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if ((p = strchr(line, ':')) == NULL ||
		    (p = strchr(p + 1, ':')) == NULL)
			continue;
		hit = cgroup_id(p + 1, id) == 0 &&
		    strncasecmp(id, want, strlen(want)) == 0;
	}
	fclose(f);
	return (hit);
}

/* Finds a process in the container want (an id prefix): 0, or -1. */
static int
container_find(const char *want, struct nstarget *t, char **cause)
{
	struct dirent	*e;
	DIR		*d;
	char		 id[CONTAINER_ID_LEN + 1], first[CONTAINER_ID_LEN + 1];
	pid_t		 pid = 0;
	int		 ambiguous = 0;

	if ((d = opendir("/proc")) == NULL) {
		*cause = xasprintf("target.container: /proc: %s",
		    strerror(errno));
		return (-1);
	}
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]) ||
		    !proc_container(e->d_name, want, id))
			continue;
		if (pid == 0) {
			pid = (pid_t)strtol(e->d_name, NULL, 10);
			memcpy(first, id, sizeof id);
		} else if (strcasecmp(first, id) != 0)
			ambiguous = 1;
	}
	closedir(d);
	if (pid == 0 || ambiguous) {
		*cause = xasprintf("target.container: %s: %s", want, pid == 0 ?
		    "no process of this node is in such a container" :
		    "more than one container has an id beginning so");
		return (-1);
	}
	t->pid = pid;
	t->container = xstrdup(first);
	return (0);
}

/* The container id (or prefix) a target.container value names. */
static int
container_want(const char *v, char want[CONTAINER_ID_LEN + 1], char **cause)
{
	size_t	n = strlen(v), i;

	if (strchr(v, '/') != NULL) {
		if (cgroup_id(v, want) == 0)
			return (0);
		*cause = xstrdup("target.container: the cgroup path holds no "
		    "container id");
		return (-1);
	}
	for (i = 0; i < n && isxdigit((unsigned char)v[i]); i++)
		;
	if (i != n || n < CONTAINER_ID_MIN || n > CONTAINER_ID_LEN) {
		*cause = xstrdup("target.container: must be a container id "
		    "(12 to 64 hex digits) or a cgroup path holding one");
		return (-1);
	}
	memcpy(want, v, n + 1);
	return (0);
}

int
netns_resolve(const char *netns, long long pid, const char *container,
    struct nstarget *t, char **cause)
{
	char	 want[CONTAINER_ID_LEN + 1], path[64];
	char	*p;
	int	 rc;

	memset(t, 0, sizeof *t);
	if (netns != NULL) {
		if (*netns == '/')
			p = xstrdup(netns);
		else if (*netns == '\0' || strchr(netns, '/') != NULL ||
		    strcmp(netns, ".") == 0 || strcmp(netns, "..") == 0) {
			*cause = xstrdup("target.netns: a name under /run/netns "
			    "or an absolute path");
			return (-1);
		} else
			p = xasprintf("/run/netns/%s", netns);
		rc = ns_set(t, p, "target.netns", cause);
		free(p);
		if (rc == 0)
			t->name = xstrdup(netns);
		return (rc);
	}
	if (container != NULL && (container_want(container, want, cause) ==
	    -1 || container_find(want, t, cause) == -1))
		return (-1);
	if (container == NULL)
		t->pid = (pid_t)pid;
	snprintf(path, sizeof path, "/proc/%ld/ns/net", (long)t->pid);
	if (ns_set(t, path, container != NULL ? "target.container" :
	    "target.pid", cause) == -1) {
		if (container == NULL) {
			free(*cause);
			*cause = xasprintf("target.pid: no process %lld on this "
			    "node (or its namespace cannot be opened)", pid);
		}
		netns_clear(t);
		return (-1);
	}
	return (0);
}

void
netns_clear(struct nstarget *t)
{
	free(t->path);
	free(t->container);
	free(t->name);
	memset(t, 0, sizeof *t);
}

void
netns_copy(struct nstarget *to, const struct nstarget *from)
{
	*to = *from;
	to->path = from->path != NULL ? xstrdup(from->path) : NULL;
	to->container = from->container != NULL ? xstrdup(from->container) :
	    NULL;
	to->name = from->name != NULL ? xstrdup(from->name) : NULL;
}

int
netns_alive(const struct nstarget *t)
{
	struct stat	st;

	return (stat(t->path, &st) == 0 && st.st_ino == t->ino &&
	    st.st_dev == t->dev);
}

int
netns_enter(const struct nstarget *t, char **cause)
{
	struct stat	 st;
	const char	*why = NULL;
	int		 back, fd;

	if ((back = open("/proc/thread-self/ns/net", O_RDONLY |
	    O_CLOEXEC)) == -1) {
		*cause = xasprintf("this thread's namespace: %s",
		    strerror(errno));
		return (-1);
	}
	if ((fd = ns_open(t->path, &st, &why)) == -1 || st.st_ino != t->ino ||
	    setns(fd, CLONE_NEWNET) == -1) {
		*cause = xasprintf("namespace %s: %s", t->path, fd == -1 ? why :
		    st.st_ino != t->ino ? "it is gone (another one is there "
		    "now)" : strerror(errno));
		if (fd != -1)
			close(fd);
		close(back);
		return (-1);
	}
	close(fd);
	return (back);
}

void
netns_leave(int back)
{
	/* Staying in the target's namespace would misdirect all else. */
	if (setns(back, CLONE_NEWNET) == -1)
		fatal("cannot return to the daemon's network namespace: %s",
		    strerror(errno));
	close(back);
}

json_t *
netns_json(const struct nstarget *t)
{
	json_t	*o;

	o = json_pack("{s:{s:s, s:I}}", "netns", "path", t->path, "inode",
	    (json_int_t)t->ino);
	if (t->name != NULL)
		json_object_set_new(json_object_get(o, "netns"), "name",
		    json_string(t->name));
	if (t->pid != 0)
		json_object_set_new(o, "pid", json_integer(t->pid));
	if (t->container != NULL)
		json_object_set_new(o, "container", json_string(t->container));
	return (o);
}

/* The entry for ifa's interface in list a, made if missing. */
static json_t *
iface_entry(json_t *a, const char *name)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(a, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "name")),
		    name) == 0)
			return (e);
	}
	e = json_pack("{s:s, s:n, s:b, s:[]}", "name", name, "index", "up", 0,
	    "addresses");
	json_array_append_new(a, e);
	return (e);
}

json_t *
netns_interfaces(const struct nstarget *t, char **cause)
{
	struct ifaddrs	*all, *i;
	json_t		*a, *e;
	char		 addr[INET6_ADDRSTRLEN];
	const void	*src;
	int		 back, fam;

	if ((back = netns_enter(t, cause)) == -1)
		return (NULL);
	if (getifaddrs(&all) == -1) {
		*cause = xasprintf("getifaddrs: %s", strerror(errno));
		netns_leave(back);
		return (NULL);
	}
	netns_leave(back);
	a = json_array();
	for (i = all; i != NULL; i = i->ifa_next) {
		e = iface_entry(a, i->ifa_name);
		json_object_set_new(e, "up", json_boolean((i->ifa_flags &
		    IFF_UP) != 0));
		if (i->ifa_addr == NULL)
			continue;
		fam = i->ifa_addr->sa_family;
		if (fam == AF_PACKET) {
			json_object_set_new(e, "index", json_integer(((const
			    struct sockaddr_ll *)(const void *)i->ifa_addr)->
			    sll_ifindex));
			continue;
		}
		if (fam == AF_INET)
			src = &((const struct sockaddr_in *)(const void *)
			    i->ifa_addr)->sin_addr;
		else if (fam == AF_INET6)
			src = &((const struct sockaddr_in6 *)(const void *)
			    i->ifa_addr)->sin6_addr;
		else
			continue;
		if (inet_ntop(fam, src, addr, sizeof addr) != NULL)
			json_array_append_new(json_object_get(e, "addresses"),
			    json_string(addr));
	}
	freeifaddrs(all);
	return (json_pack("{s:o, s:o}", "target", netns_json(t),
	    "interfaces", a));
}
