/*
 * Network namespaces a capture may run in: named (/run/netns/NAME) or by
 * path, a process's, or a container's (found by its cgroup). The capture
 * engine enters one on the loop thread only to make a socket or read what
 * the kernel says of it there, and leaves at once: a packet socket stays
 * bound to the namespace it was made in.
 */
#ifndef NETNS_H
#define NETNS_H

#include <sys/types.h>

#include <jansson.h>

/* What a capture's target resolved to. */
struct nstarget {
	char	*path;		/* the namespace's file, as opened */
	ino_t	 ino;		/* its inode: the namespace's identity */
	dev_t	 dev;
	pid_t	 pid;		/* the process it was found by, or 0 */
	char	*container;	/* the full container id, or NULL */
	char	*name;		/* the netns name or path, as given */
};

/*
 * Resolves one of netns (a name under /run/netns, or an absolute path),
 * pid (> 0) or container (an id, full or a unique prefix of at least 12
 * hex digits, or a cgroup path holding one) into t. -1 with *cause
 * naming the field (target.netns, target.pid, target.container).
 */
int	 netns_resolve(const char *netns, long long pid, const char *container,
	    struct nstarget *t, char **cause);
void	 netns_clear(struct nstarget *);
void	 netns_copy(struct nstarget *, const struct nstarget *);
/* Is the namespace still there (the same one, by inode)? */
int	 netns_alive(const struct nstarget *);
/*
 * Moves the calling thread into t's namespace: the fd to come back with
 * (netns_leave), or -1 with *cause.
 */
int	 netns_enter(const struct nstarget *, char **cause);
void	 netns_leave(int back);
/* What the record says of it: {netns: {path, inode}, pid, container}. */
json_t	*netns_json(const struct nstarget *);
/* The namespace's interfaces: [{name, index, up, addresses}] (new). */
json_t	*netns_interfaces(const struct nstarget *, char **cause);

#endif
