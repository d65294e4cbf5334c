/* Frames between alertcapd and alertcap-http (httpmsg.h). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "httpmsg.h"
#include "xmalloc.h"

void
httpmsg_put(struct evbuffer *out, json_t *head, const void *body, size_t len)
{
	char		*text;
	uint32_t	 n[2];

	text = json_dumps(head, JSON_COMPACT);
	if (text == NULL)
		abort();	/* a head is objects of strings and numbers */
	n[0] = (uint32_t)strlen(text);
	n[1] = (uint32_t)len;
	evbuffer_add(out, n, sizeof n);
	evbuffer_add(out, text, n[0]);
	if (len > 0)
		evbuffer_add(out, body, len);
	free(text);
}

int
httpmsg_get(struct evbuffer *in, json_t **head, char **body, size_t *len,
    char **cause)
{
	json_error_t	 err;
	uint32_t	 n[2];
	char		*text;

	if (evbuffer_copyout(in, n, sizeof n) != (ev_ssize_t)sizeof n)
		return (0);
	if (n[0] == 0 || n[0] > HTTPMSG_MAX_HEAD || n[1] > HTTPMSG_MAX_BODY) {
		*cause = xasprintf("a frame of %u + %u bytes", n[0], n[1]);
		return (-1);
	}
	if (evbuffer_get_length(in) < sizeof n + (size_t)n[0] + n[1])
		return (0);
	evbuffer_drain(in, sizeof n);
	text = xmalloc((size_t)n[0] + 1);
	evbuffer_remove(in, text, n[0]);
	text[n[0]] = '\0';
	*body = xmalloc((size_t)n[1] + 1);
	evbuffer_remove(in, *body, n[1]);
	(*body)[n[1]] = '\0';
	*len = n[1];
	*head = json_loadb(text, n[0], 0, &err);
	free(text);
	if (*head == NULL || !json_is_object(*head)) {
		*cause = xasprintf("a frame's head: %s", *head == NULL ?
		    err.text : "not an object");
		json_decref(*head);
		free(*body);
		*head = NULL;
		*body = NULL;
		return (-1);
	}
	return (1);
}
