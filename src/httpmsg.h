/*
 * The frames alertcapd and its HTTP helper (alertcap-http) exchange on
 * their socket pair: a JSON head and a raw body, each length-prefixed.
 *
 *	u32 head length | u32 body length | head (JSON) | body (bytes)
 *
 * Lengths are in the host's order: both ends are on one machine, built
 * from one tree. A request's file travels beside its frame as a
 * descriptor (SCM_RIGHTS), attached to the frame's first byte.
 *
 * The daemon sends {"t":"req", "id", "method", "url", "headers": [...],
 * "opts": {...}, "body": "none"|"text"|"file", "off", "len"} (a text body
 * is the frame's body), {"t":"cancel", "id"} and {"t":"idle"} (close the
 * idle connections). The helper answers {"t":"done", "id", "error",
 * "status", "etag", "sent"} with the response body (at most
 * HTTPMSG_MAX_RESPONSE bytes of it), and {"t":"log", "line"} for
 * libcurl's own messages when a request asked for them ("verbose").
 */
#ifndef HTTPMSG_H
#define HTTPMSG_H

#include <stddef.h>

#include <jansson.h>

struct evbuffer;

#define HTTPMSG_MAX_HEAD	(1024 * 1024)
#define HTTPMSG_MAX_BODY	(64 * 1024 * 1024)
#define HTTPMSG_MAX_RESPONSE	(1024 * 1024)
/* The helper's descriptor, as it finds it after exec. */
#define HTTPMSG_FD		3

/* Appends one frame of head (borrowed) and body to out. */
void	httpmsg_put(struct evbuffer *out, json_t *head, const void *body,
	    size_t len);
/*
 * Takes the first whole frame off in: 1 with *head (new) and *body (new,
 * NUL-terminated, *len bytes before the NUL); 0 when no whole frame is
 * there yet; -1 with *cause (new) when the stream is not frames.
 */
int	httpmsg_get(struct evbuffer *in, json_t **head, char **body,
	    size_t *len, char **cause);

#endif
