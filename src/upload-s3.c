/*
 * S3 and S3-compatible stores: Signature V4 by libcurl (CURLOPT_AWS_SIGV4),
 * PutObject for small files, multipart upload for large ones (the upload
 * id and each part's ETag kept in the upload's entry, so a restart resumes
 * without re-sending parts), path-style or virtual-host addressing. A
 * CompleteMultipartUpload answer can be 200 with an error inside: the
 * body is checked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
s3_request(struct upjob *j, const char *method, const char *query)
{
	const struct conf_account	*a = j->acct->conf;
	char				*url, *base, *sig, *up;

	base = s3_url(j);
	url = query != NULL ? xasprintf("%s?%s", base, query) : xstrdup(base);
	up_request(j, method, url);
	sig = xasprintf("aws:amz:%s:s3", a->region);
	curl_easy_setopt(j->easy, CURLOPT_AWS_SIGV4, sig);
	up = xasprintf("%s:%s", a->access_key_id, j->acct->secret);
	curl_easy_setopt(j->easy, CURLOPT_USERPWD, up);
	/* Streamed bodies are not hashed up front. */
	up_header(j, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	explicit_bzero(up, strlen(up));
	free(up);
	free(sig);
	free(url);
	free(base);
}

static int
s3_next(struct upjob *j, char **cause)
{
	struct dynbuf	 xml;
	json_t		*parts, *e;
	const char	*id;
	uint64_t	 n = up_parts(j), i, bs = (uint64_t)j->acct->conf->block_size;
	char		*q;
	size_t		 k;

	if (json_is_true(json_object_get(j->progress, "committed"))) {
		free(j->uri);
		j->uri = s3_url(j);
		return (1);
	}
	if (n == 1) {
		s3_request(j, "PUT", NULL);
		up_header(j, "Content-Type: application/vnd.tcpdump.pcap");
		up_body_file(j, 0, j->size);
		return (0);
	}
	id = json_string_value(json_object_get(j->progress, "upload_id"));
	if (id == NULL) {
		s3_request(j, "POST", "uploads");
		up_header(j, "Content-Type: application/vnd.tcpdump.pcap");
		return (0);
	}
	if ((parts = json_object_get(j->progress, "etags")) == NULL) {
		parts = json_array();
		json_object_set_new(j->progress, "etags", parts);
	}
	q = curl_easy_escape(NULL, id, 0);
	i = json_array_size(parts);
	if (i < n) {
		char *query = xasprintf("partNumber=%llu&uploadId=%s",
		    (unsigned long long)(i + 1), q);
		uint64_t len = i == n - 1 ? j->size - i * bs : bs;

		s3_request(j, "PUT", query);
		up_body_file(j, i * bs, len);
		free(query);
	} else {
		char *query = xasprintf("uploadId=%s", q);

		dynbuf_init(&xml, 16 * 1024 * 1024);
		dynbuf_addf(&xml, "<CompleteMultipartUpload>");
		json_array_foreach(parts, k, e)
			dynbuf_addf(&xml, "<Part><PartNumber>%zu</PartNumber>"
			    "<ETag>%s</ETag></Part>", k + 1,
			    json_string_value(e));
		dynbuf_addf(&xml, "</CompleteMultipartUpload>");
		s3_request(j, "POST", query);
		up_header(j, "Content-Type: application/xml");
		up_body_text(j, xml.buf);
		dynbuf_free(&xml);
		free(query);
	}
	curl_free(q);
	(void)cause;
	return (0);
}

static enum up_verdict
s3_done(struct upjob *j, long status, char **cause)
{
	json_t	*parts;
	char	*id, *code;

	if (status / 100 == 2) {
		if (up_parts(j) == 1) {
			json_object_set_new(j->progress, "committed",
			    json_true());
			return (UP_NEXT);
		}
		if (json_object_get(j->progress, "upload_id") == NULL) {
			if ((id = up_xml_tag(j, "UploadId")) == NULL) {
				*cause = xstrdup("CreateMultipartUpload "
				    "answered without an UploadId");
				return (UP_RETRY);
			}
			json_object_set_new(j->progress, "upload_id",
			    json_string(id));
			free(id);
			return (UP_NEXT);
		}
		parts = json_object_get(j->progress, "etags");
		if (json_array_size(parts) < up_parts(j)) {
			if (j->etag == NULL) {
				*cause = xstrdup("UploadPart answered without "
				    "an ETag");
				return (UP_RETRY);
			}
			json_array_append_new(parts, json_string(j->etag));
			return (UP_NEXT);
		}
		/* Complete: 200 can still carry an error. */
		if (j->body.buf != NULL && strstr(j->body.buf, "<Error>") !=
		    NULL) {
			*cause = up_service_error(j, status);
			code = up_xml_tag(j, "Code");
			status = code != NULL && strcmp(code, "InternalError") ==
			    0 ? 500 : 400;
			free(code);
			return (status == 500 ? UP_RETRY : UP_FAIL);
		}
		json_object_set_new(j->progress, "committed", json_true());
		return (UP_NEXT);
	}
	*cause = up_service_error(j, status);
	if (status == 404 && j->body.buf != NULL &&
	    strstr(j->body.buf, "NoSuchUpload") != NULL) {
		/* The multipart upload is gone: start it again. */
		json_object_clear(j->progress);
		return (UP_RETRY);
	}
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_s3_ops = { "s3", s3_next, s3_done };
