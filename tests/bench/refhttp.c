/*
 * refhttp: the reference for the webhook ingest benchmark. A bare libevent
 * evhttp server that parses each POST body with jansson and answers 202,
 * as alertcapd must at least do.
 *
 * usage: refhttp PORT
 */
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>

static void
handle(struct evhttp_request *req, void *arg)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	json_t		*j;
	size_t		 len = evbuffer_get_length(in);

	j = json_loadb((const char *)evbuffer_pullup(in, -1), len, 0, NULL);
	evhttp_send_reply(req, j != NULL ? 202 : 400, "", NULL);
	json_decref(j);
}

int
main(int argc, char **argv)
{
	struct event_base	*base;
	struct evhttp		*http;

	if (argc != 2)
		return (2);
	base = event_base_new();
	http = evhttp_new(base);
	evhttp_set_gencb(http, handle, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1",
	    (ev_uint16_t)strtol(argv[1], NULL, 10)) == -1)
		return (1);
	event_base_dispatch(base);
	return (0);
}
