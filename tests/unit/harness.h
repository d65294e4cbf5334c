/*
 * The daemon's core in a unit test's process: the state store, the
 * capture engine, the worker, the uploader, the session manager and the
 * policy engine, over a temporary directory, with one replayed interface
 * (rp0) that packets are injected into. No root, no network.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <jansson.h>

struct event_base;

#define HARNESS_IFACE	"rp0"

/*
 * Starts the modules; rules is a rule file's JSON text (NULL: none).
 * Returns the loop.
 */
struct event_base *harness_start(const char *rules);
/*
 * The same with a lookback ring of ring_bytes (snap length snaplen) on
 * rp0, and a second replayed interface rp1 without one.
 */
struct event_base *harness_start_lookback(const char *rules,
	    long long ring_bytes, long long snaplen);
#define HARNESS_IFACE2	"rp1"
/* The same, the ring with a disk tier of disk_bytes in file_bytes files. */
struct event_base *harness_start_disk(long long ring_bytes,
	    long long disk_bytes, long long file_bytes);
/* The captures root (borrowed). */
const char *harness_root(void);
/* Stops every module, in the reverse order, and removes the directory. */
void	harness_stop(void);

/* rp0 sees what "ping -c COUNT -s SIZE 127.0.0.1" puts on lo. */
void	harness_ping(int count, int size);
/* The same on another replayed interface. */
void	harness_ping_on(const char *iface, int count, int size);
/*
 * rp0 sees ROUNDS rounds of pktgen's mixed traffic: per round two TCP
 * packets on port 80, one each on 443, 8080 and IPv6 port 22; three UDP
 * over IPv4 (two on port 53, one to 9999) and one over IPv6 (port 53).
 */
void	harness_traffic(int rounds);

/* session_create from JSON text; returns the result. */
int	harness_create(const char *name, const char *params);
/* Stops a capture by hand and waits (at most 5 s) for Stopped. */
int	harness_stop_capture(const char *name);
/* Copies a file; -1 on failure. */
int	harness_copy_file(const char *from, const char *to);
/* The bytes of the files below path, or -1. */
long long harness_dir_bytes(const char *path);
/* Runs the loop until the capture's status is status, at most ms. */
int	harness_wait_status(const char *name, const char *status, int ms);
/* Runs the loop for ms. */
void	harness_run(int ms);
/* The capture's record (new), or NULL. */
json_t	*harness_record(const char *name);
/* The path of a capture's finished file (new). */
char	*harness_file(const char *name);

#endif
