/*
 * S3 and S3-compatible stores: Signature V4 by libcurl (CURLOPT_AWS_SIGV4,
 * in the HTTP helper),
 * PutObject for small files, multipart upload for large ones, several
 * parts at once (the upload id and each stored part's ETag, by part
 * number, kept in the upload's entry, so a restart resumes without
 * re-sending parts), path-style or virtual-host addressing. A
 * CompleteMultipartUpload answer can be 200 with an error inside: the
 * body is checked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "httpc.h"
#include "pcapfile.h"
#include "upload-int.h"

/* The object's URL, without a query. */
static char *
s3_url(const struct upjob *j)
{
	const struct conf_account	*a = j->acct->conf;
	char				*base, *obj, *url;
	const char			*host;

	base = a->endpoint != NULL ? xstrdup(a->endpoint) :
	    xasprintf("https://s3.%s.amazonaws.com", a->region);
	obj = up_escape_path(j->object);
	if (a->path_style)
		url = xasprintf("%s/%s/%s", base, a->bucket, obj);
	else {
		host = strstr(base, "://");
		host = host != NULL ? host + 3 : base;
		url = xasprintf("%.*s%s.%s/%s", (int)(host - base), base,
		    a->bucket, host, obj);
	}
	free(base);
	free(obj);
	return (url);
}

/* Sets up an S3 request signed by libcurl ("aws_sigv4" in httpc.h). */
static void
s3_request(struct upjob *j, struct upreq *r, const char *method,
    const char *query)
{
	const struct conf_account	*a = j->acct->conf;
	char				*url, *base, *sig, *up;

	base = s3_url(j);
	url = query != NULL ? xasprintf("%s?%s", base, query) : xstrdup(base);
	up_request(r, method, url);
	sig = xasprintf("aws:amz:%s:s3", a->region);
	httpc_opt_str(r->req, "aws_sigv4", sig);
	up = xasprintf("%s:%s", a->access_key_id, j->acct->secret);
	httpc_opt_str(r->req, "userpwd", up);
	/* Streamed bodies are not hashed up front. */
	up_header(r, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	explicit_bzero(up, strlen(up));
	free(up);
	free(sig);
	free(url);
	free(base);
}

/* The stored parts' ETags by part number ("1", "2", ...). */
static json_t *
s3_etags(struct upjob *j)
{
	json_t	*e;

	if (json_is_object(e = json_object_get(j->progress, "etags")))
		return (e);
	e = json_object();	/* none yet, or unreadable: send them all */
	json_object_set_new(j->progress, "etags", e);
	return (e);
}

static void
s3_resume(struct upjob *j)
{
	const char	*key;
	json_t		*v;
	unsigned long	 n;

	json_object_foreach(s3_etags(j), key, v) {
		n = strtoul(key, NULL, 10);
		if (n >= 1 && json_is_string(v))
			up_part_set(j, n - 1, UP_PART_DONE);
	}
}

/*
 * The next S3 request on a free slot: PutObject, or multipart's create,
 * parts, complete.
 */
static enum up_step
s3_next(struct upjob *j, struct upreq *r, char **cause)
{
	struct dynbuf	 xml;
	json_t		*etags;
	const char	*id;
	uint64_t	 i, off, len;
	int64_t		 part;
	char		*q, *query, key[24];

	if (json_is_true(json_object_get(j->progress, "committed"))) {
		if (j->busy > 0)
			return (UP_WAIT);
		free(j->uri);
		j->uri = s3_url(j);
		return (UP_COMMITTED);
	}
	if (j->nparts == 1) {
		if (j->busy > 0)
			return (UP_WAIT);
		s3_request(j, r, "PUT", NULL);
		up_header(r, "Content-Type: %s", up_content_type(j->path));
		up_body_file(r, 0, j->size);
		return (UP_STARTED);
	}
	id = json_string_value(json_object_get(j->progress, "upload_id"));
	if (id == NULL) {
		if (j->busy > 0)
			return (UP_WAIT);
		s3_request(j, r, "POST", "uploads");
		up_header(r, "Content-Type: %s", up_content_type(j->path));
		return (UP_STARTED);
	}
	etags = s3_etags(j);
	q = evhttp_uriencode(id, -1, 0);
	if ((part = up_part_take(j)) >= 0) {
		up_part_range(j, (uint64_t)part, &off, &len);
		query = xasprintf("partNumber=%llu&uploadId=%s",
		    (unsigned long long)part + 1, q);
		s3_request(j, r, "PUT", query);
		up_body_file(r, off, len);
		r->part = part;
		free(query);
		free(q);
		return (UP_STARTED);
	}
	if (j->busy > 0 || up_parts_prefix(j) < j->nparts) {
		free(q);
		return (UP_WAIT);
	}
	query = xasprintf("uploadId=%s", q);
	dynbuf_init(&xml, 16 * 1024 * 1024);
	dynbuf_addf(&xml, "<CompleteMultipartUpload>");
	for (i = 1; i <= j->nparts; i++) {
		snprintf(key, sizeof key, "%llu", (unsigned long long)i);
		dynbuf_addf(&xml, "<Part><PartNumber>%s</PartNumber>"
		    "<ETag>%s</ETag></Part>", key,
		    json_string_value(json_object_get(etags, key)));
	}
	dynbuf_addf(&xml, "</CompleteMultipartUpload>");
	s3_request(j, r, "POST", query);
	up_header(r, "Content-Type: application/xml");
	up_body_text(r, xml.buf);
	dynbuf_free(&xml);
	free(query);
	free(q);
	(void)cause;
	return (UP_STARTED);
}

/* Judges an S3 answer: next, retry, or fail with the service's message. */
static enum up_verdict
s3_done(struct upjob *j, struct upreq *r, long status, char **cause)
{
	char	*id, *code, key[24];

	if (status / 100 == 2) {
		if (j->nparts == 1) {
			json_object_set_new(j->progress, "committed",
			    json_true());
			return (UP_NEXT);
		}
		if (json_object_get(j->progress, "upload_id") == NULL) {
			if ((id = up_xml_tag(r, "UploadId")) == NULL) {
				*cause = xstrdup("CreateMultipartUpload "
				    "answered without an UploadId");
				return (UP_RETRY);
			}
			json_object_set_new(j->progress, "upload_id",
			    json_string(id));
			free(id);
			return (UP_NEXT);
		}
		if (r->part >= 0) {
			if (r->etag == NULL) {
				*cause = xstrdup("UploadPart answered without "
				    "an ETag");
				return (UP_RETRY);
			}
			snprintf(key, sizeof key, "%llu",
			    (unsigned long long)r->part + 1);
			json_object_set_new(s3_etags(j), key,
			    json_string(r->etag));
			up_part_set(j, (uint64_t)r->part, UP_PART_DONE);
			return (UP_NEXT);
		}
		/* Complete: 200 can still carry an error. */
		if (r->body.buf != NULL && strstr(r->body.buf, "<Error>") !=
		    NULL) {
			*cause = up_service_error(r, status);
			code = up_xml_tag(r, "Code");
			status = code != NULL && strcmp(code, "InternalError") ==
			    0 ? 500 : 400;
			free(code);
			return (status == 500 ? UP_RETRY : UP_FAIL);
		}
		json_object_set_new(j->progress, "committed", json_true());
		return (UP_NEXT);
	}
	*cause = up_service_error(r, status);
	if (status == 404 && r->body.buf != NULL &&
	    strstr(r->body.buf, "NoSuchUpload") != NULL) {
		/* The multipart upload is gone: start it again. */
		json_object_clear(j->progress);
		up_parts_reset(j);
		return (UP_RETRY);
	}
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_s3_ops = {
	"s3", s3_resume, s3_next, s3_done
};
