/* http-put: one PUT of the whole file to a URL template, with headers. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "pcapfile.h"
#include "upload-int.h"

/* The one PUT of an http-put upload. */
static enum up_step
http_next(struct upjob *j, struct upreq *r, char **cause)
{
	const struct conf_account	*a = j->acct->conf;
	size_t				 i;
	char				*url;

	if (j->busy > 0)
		return (UP_WAIT);	/* one PUT of the whole file */
	url = up_render(j, a->url);
	if (json_is_true(json_object_get(j->progress, "committed"))) {
		free(j->uri);
		j->uri = url;
		return (UP_COMMITTED);
	}
	up_request(r, "PUT", url);
	free(url);
	up_header(r, "Content-Type: %s", up_content_type(j->path));
	for (i = 0; i < a->headers.n; i++)
		up_header(r, "%s", ((char **)a->headers.v)[i]);
	up_body_file(r, 0, j->size);
	(void)cause;
	return (UP_STARTED);
}

static enum up_verdict
http_done(struct upjob *j, struct upreq *r, long status, char **cause)
{
	if (status / 100 == 2) {
		json_object_set_new(j->progress, "committed", json_true());
		return (UP_NEXT);
	}
	*cause = up_service_error(r, status);
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_http_ops = {
	"http-put", NULL, http_next, http_done
};
