/*
 * libcurl's multi interface in the event loop: a multi handle whose
 * sockets libevent watches and whose timeout is a libevent timer, so
 * transfers never block the loop. Each user (the uploader, the notifier)
 * has its own; a finished transfer goes to the user's callback.
 */
#ifndef CURLEV_H
#define CURLEV_H

#include <curl/curl.h>

struct event_base;
struct curlev;

/* A transfer ended (rc: libcurl's result); easy is out of the multi. */
typedef void (*curlev_done_cb)(CURL *easy, CURLcode rc, void *arg);

struct curlev	*curlev_new(struct event_base *, curlev_done_cb, void *arg);
/* Ends every transfer in flight (no callback) and closes connections. */
void		 curlev_free(struct curlev *);
void		 curlev_add(struct curlev *, CURL *);
void		 curlev_remove(struct curlev *, CURL *);
/*
 * Nothing left to send: closes the idle connections (if any transfer ran
 * since the last time), so no server that closed its side waits on ours
 * in CLOSE-WAIT until the next transfer.
 */
void		 curlev_drop_idle(struct curlev *);

#endif
