/* Serving the web console's files (ui.h). */
#include "config.h"

#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "ui.h"

/*
 * What every file of the page is sent with: scripts and styles from here
 * only, none inline, nothing framed, no referrer, no sniffing.
 */
#define UI_CSP	"default-src 'self'; script-src 'self'; style-src 'self'; " \
		"img-src 'self'; connect-src 'self'; object-src 'none'; " \
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

const struct ui_file *
ui_find(const char *path)
{
	const struct ui_file	*f;

	for (f = ui_files; f->path != NULL; f++)
		if (strcmp(f->path, path) == 0)
			return (f);
	return (NULL);
}

/*
 * Does an Accept-Encoding value take gzip? A comma-separated list of
 * codings, each with an optional ";q=": gzip (or x-gzip, or *) not at
 * q=0.
 */
static int
ui_takes_gzip(const char *v)
{
	const char	*p = v, *e, *q;
	size_t		 n;

	while (v != NULL && *p != '\0') {
		p += strspn(p, " \t,");
		e = p + strcspn(p, ",");
		n = strcspn(p, " \t;,");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(p, "x-gzip", 6) == 0) ||
		    (n == 1 && *p == '*')) {
			q = memchr(p, ';', (size_t)(e - p));
			if (q == NULL)
				return (1);
			q += 1 + strspn(q + 1, " \t");
			/* q=0, q=0.0, q=0.00...: refused; else taken. */
			if (strncasecmp(q, "q=", 2) != 0)
				return (1);
			q += 2;
			if (*q != '0')
				return (1);
			for (q++; *q == '.' || *q == '0'; q++)
				;
			if (q < e && *q >= '1' && *q <= '9')
				return (1);
			return (0);
		}
		p = e;
	}
	return (0);
}

/* Does If-None-Match (a list of tags, or *) hold tag? */
static int
ui_tag_matches(const char *v, const char *tag)
{
	return (v != NULL && (strcmp(v, "*") == 0 || strstr(v, tag) != NULL));
}

void
ui_serve(struct evhttp_request *req, const struct ui_file *f)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	struct evbuffer		*buf;
	int			 gz;

	evhttp_add_header(out, "ETag", f->etag);
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "Vary", "Accept-Encoding");
	evhttp_add_header(out, "Content-Security-Policy", UI_CSP);
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "X-Frame-Options", "DENY");
	if (ui_tag_matches(evhttp_find_header(in, "If-None-Match"), f->etag)) {
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	gz = ui_takes_gzip(evhttp_find_header(in, "Accept-Encoding"));
	evhttp_add_header(out, "Content-Type", f->type);
	if (gz)
		evhttp_add_header(out, "Content-Encoding", "gzip");
	if ((buf = evbuffer_new()) == NULL) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	/* The files live as long as the program: no copy. */
	evbuffer_add_reference(buf, gz ? f->gz : f->raw, gz ? f->gz_len :
	    f->raw_len, NULL, NULL);
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}
