/* http-put: one PUT of the whole file to a URL template, with headers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "upload-int.h"

static int
http_next(struct upjob *j, char **cause)
{
	const struct conf_account	*a = j->acct->conf;
	size_t				 i;
	char				*url;

	url = up_render(j, a->url);
	if (json_is_true(json_object_get(j->progress, "committed"))) {
		free(j->uri);
		j->uri = url;
		return (1);
	}
	up_request(j, "PUT", url);
	free(url);
	up_header(j, "Content-Type: application/vnd.tcpdump.pcap");
	for (i = 0; i < a->headers.n; i++)
		up_header(j, "%s", ((char **)a->headers.v)[i]);
	up_body_file(j, 0, j->size);
	(void)cause;
	return (0);
}

static enum up_verdict
http_done(struct upjob *j, long status, char **cause)
{
	if (status / 100 == 2) {
		json_object_set_new(j->progress, "committed", json_true());
		return (UP_NEXT);
	}
	*cause = up_service_error(j, status);
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_http_ops = { "http-put", http_next, http_done };
