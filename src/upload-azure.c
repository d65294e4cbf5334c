/*
 * Azure Blob Storage: shared-key or SAS authorization, Put Blob for small
 * files, Put Block (several at once) and Put Block List for large ones.
 * Progress (how many blocks from the first are stored) is kept in the
 * upload's entry, so an upload resumes after a restart without re-sending
 * them; blocks stored past a gap are sent again.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pcapfile.h"
#include "upload-int.h"
#include "util.h"

#define AZ_VERSION	"2021-12-02"

char *
azure_shared_key_sign(const char *key_b64, const char *verb,
    const char *content_length, const char *content_md5,
    const char *content_type, const char *canon_headers,
    const char *resource, const char *query)
{
	struct dynbuf	 sts;
	unsigned char	 key[256], mac[EVP_MAX_MD_SIZE], out[128];
	unsigned int	 maclen;
	char		*q, *p, *next, *eq, *val, **params = NULL;
	size_t		 np = 0, i, j, klen = strlen(key_b64);
	int		 n;

	if (klen == 0 || klen > 340 || klen % 4 != 0 ||
	    (n = EVP_DecodeBlock(key, (const unsigned char *)key_b64,
	    (int)klen)) < 0)
		return (NULL);
	while (klen > 0 && key_b64[--klen] == '=')
		n--;
	dynbuf_init(&sts, 64 * 1024);
	/* VERB, then the standard headers in their fixed order. */
	dynbuf_addf(&sts, "%s\n\n\n%s\n%s\n%s\n\n\n\n\n\n\n%s/", verb,
	    content_length, content_md5, content_type, canon_headers);
	/* resource already starts with '/': drop the one just added. */
	sts.buf[--sts.len] = '\0';
	dynbuf_addf(&sts, "%s", resource);
	/* Query parameters: lowercase names, sorted, decoded values. */
	q = xstrdup(query != NULL ? query : "");
	for (p = q; *p != '\0'; p = next) {
		next = p + strcspn(p, "&");
		if (*next != '\0')
			*next++ = '\0';
		params = xrealloc(params, (np + 1) * sizeof *params);
		params[np++] = p;
	}
	for (i = 1; i < np; i++)
		for (j = i; j > 0 && strcmp(params[j - 1], params[j]) > 0; j--) {
			p = params[j];
			params[j] = params[j - 1];
			params[j - 1] = p;
		}
	for (i = 0; i < np; i++) {
		eq = strchr(params[i], '=');
		if (eq != NULL)
			*eq = '\0';
		val = evhttp_uridecode(eq != NULL ? eq + 1 : "", 0, NULL);
		for (p = params[i]; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		dynbuf_addf(&sts, "\n%s:%s", params[i], val);
		free(val);
	}
	free(params);
	free(q);
	HMAC(EVP_sha256(), key, n, (const unsigned char *)sts.buf, sts.len, mac,
	    &maclen);
	dynbuf_free(&sts);
	explicit_bzero(key, sizeof key);
	EVP_EncodeBlock(out, mac, (int)maclen);
	return (xstrdup((char *)out));
}

static int
az_sas(const struct upjob *j)
{
	return (j->acct->conf->container_url != NULL);
}

/* The path part of a URL ("" for none). */
static const char *
url_path(const char *url)
{
	const char	*p = strstr(url, "://");

	p = p != NULL ? p + 3 : url;
	p = strchr(p, '/');
	return (p != NULL ? p : "");
}

/*
 * Sets up a request on the blob (or, with container, the container) and,
 * for shared key, signs it. query may be NULL; blob_type and blob_ctype
 * (the committed blob's Content-Type, for Put Block List) too.
 */
static void
az_request(struct upjob *j, struct upreq *r, const char *verb,
    const char *query, int container, uint64_t clen, const char *ctype,
    const char *blob_type, const char *blob_ctype)
{
	const struct conf_account	*a = j->acct->conf;
	char				 date[64], *obj, *url, *path, *sig;
	char				 cl[32], *canon;
	time_t				 t = time(NULL);
	struct tm			 tm;

	obj = up_escape_path(j->object);
	if (az_sas(j))
		url = xasprintf("%s%s%s?%s%s%s", a->container_url,
		    container ? "" : "/", container ? "" : obj,
		    query != NULL ? query : "", query != NULL ? "&" : "",
		    j->acct->secret[0] == '?' ? j->acct->secret + 1 :
		    j->acct->secret);
	else
		url = xasprintf("%s/%s%s%s%s%s", a->endpoint, a->container,
		    container ? "" : "/", container ? "" : obj,
		    query != NULL ? "?" : "", query != NULL ? query : "");
	up_request(r, verb, url);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	up_header(r, "x-ms-date: %s", date);
	up_header(r, "x-ms-version: %s", AZ_VERSION);
	if (blob_ctype != NULL)
		up_header(r, "x-ms-blob-content-type: %s", blob_ctype);
	if (blob_type != NULL)
		up_header(r, "x-ms-blob-type: %s", blob_type);
	if (ctype != NULL)
		up_header(r, "Content-Type: %s", ctype);
	else
		up_header(r, "Content-Type:");
	if (!az_sas(j)) {
		snprintf(cl, sizeof cl, "%llu", (unsigned long long)clen);
		/* The x-ms- headers, sorted, each "name:value\n". */
		canon = xasprintf("%s%s%s%s%s%sx-ms-date:%s\nx-ms-version:%s\n",
		    blob_ctype != NULL ? "x-ms-blob-content-type:" : "",
		    blob_ctype != NULL ? blob_ctype : "",
		    blob_ctype != NULL ? "\n" : "",
		    blob_type != NULL ? "x-ms-blob-type:" : "",
		    blob_type != NULL ? blob_type : "",
		    blob_type != NULL ? "\n" : "", date, AZ_VERSION);
		path = xasprintf("/%s%s/%s%s%s", a->account,
		    url_path(a->endpoint), a->container, container ? "" : "/",
		    container ? "" : obj);
		sig = azure_shared_key_sign(j->acct->secret, verb, clen > 0 ?
		    cl : "", "", ctype != NULL ? ctype : "", canon, path,
		    query);
		up_header(r, "Authorization: SharedKey %s:%s", a->account,
		    sig != NULL ? sig : "invalid-key");
		free(sig);
		free(canon);
		free(path);
	}
	free(url);
	free(obj);
}

static char *
block_id(uint64_t i)
{
	unsigned char	raw[32], b64[64];
	int		n;

	n = snprintf((char *)raw, sizeof raw, "block-%08llu",
	    (unsigned long long)i);
	EVP_EncodeBlock(b64, raw, n);
	return (evhttp_uriencode((char *)b64, -1, 0));
}

static void
az_resume(struct upjob *j)
{
	uint64_t	i, done;

	done = (uint64_t)json_integer_value(json_object_get(j->progress,
	    "blocks_done"));
	for (i = 0; i < done; i++)
		up_part_set(j, i, UP_PART_DONE);
}

/*
 * The next Azure request on a free slot: container, blob, a block, or the
 * block list.
 */
static enum up_step
az_next(struct upjob *j, struct upreq *r, char **cause)
{
	const struct conf_account	*a = j->acct->conf;
	struct dynbuf			 xml;
	uint64_t			 i, off, len;
	int64_t				 part;
	char				*id, *q, *obj;
	unsigned char			 raw[32], b64[64];

	if (j->creating || j->nparts == 1 ||
	    json_is_true(json_object_get(j->progress, "committed"))) {
		if (j->busy > 0)
			return (UP_WAIT);	/* these stand alone */
	}
	if (json_is_true(json_object_get(j->progress, "committed"))) {
		obj = up_escape_path(j->object);
		free(j->uri);
		j->uri = az_sas(j) ? xasprintf("%s/%s", a->container_url, obj) :
		    xasprintf("%s/%s/%s", a->endpoint, a->container, obj);
		free(obj);
		return (UP_COMMITTED);
	}
	if (j->creating) {
		az_request(j, r, "PUT", "restype=container", 1, 0, NULL, NULL,
		    NULL);
		up_body_file(r, 0, 0);
		return (UP_STARTED);
	}
	if (j->nparts == 1) {
		az_request(j, r, "PUT", NULL, 0, j->size, up_content_type(j->path),
		    "BlockBlob", NULL);
		up_body_file(r, 0, j->size);
		return (UP_STARTED);
	}
	if ((part = up_part_take(j)) >= 0) {
		up_part_range(j, (uint64_t)part, &off, &len);
		id = block_id((uint64_t)part);
		q = xasprintf("comp=block&blockid=%s", id);
		az_request(j, r, "PUT", q, 0, len, NULL, NULL, NULL);
		up_body_file(r, off, len);
		r->part = part;
		free(q);
		free(id);
		return (UP_STARTED);
	}
	if (j->busy > 0 || up_parts_prefix(j) < j->nparts)
		return (UP_WAIT);
	dynbuf_init(&xml, 16 * 1024 * 1024);
	dynbuf_addf(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<BlockList>");
	for (i = 0; i < j->nparts; i++) {
		int n = snprintf((char *)raw, sizeof raw, "block-%08llu",
		    (unsigned long long)i);

		EVP_EncodeBlock(b64, raw, n);
		dynbuf_addf(&xml, "<Latest>%s</Latest>", b64);
	}
	dynbuf_addf(&xml, "</BlockList>");
	az_request(j, r, "PUT", "comp=blocklist", 0, xml.len, "application/xml",
	    NULL, up_content_type(j->path));
	up_body_text(r, xml.buf);
	dynbuf_free(&xml);
	(void)cause;
	return (UP_STARTED);
}

/* Judges an Azure answer: next, retry, or fail with the service's message. */
static enum up_verdict
az_done(struct upjob *j, struct upreq *r, long status, char **cause)
{
	if (status == 404 && !az_sas(j) && r->body.buf != NULL &&
	    strstr(r->body.buf, "ContainerNotFound") != NULL) {
		/* Make the container, then send this again. */
		if (r->part >= 0)
			up_part_set(j, (uint64_t)r->part, UP_PART_TODO);
		j->creating = 1;
		return (UP_NEXT);
	}
	if (j->creating && r->part < 0) {
		if (status / 100 == 2 || status == 409) {
			j->creating = 0;
			return (UP_NEXT);
		}
	} else if (status / 100 == 2) {
		if (r->part >= 0) {
			up_part_set(j, (uint64_t)r->part, UP_PART_DONE);
			json_object_set_new(j->progress, "blocks_done",
			    json_integer((json_int_t)up_parts_prefix(j)));
		} else
			json_object_set_new(j->progress, "committed",
			    json_true());
		return (UP_NEXT);
	}
	*cause = up_service_error(r, status);
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_azure_ops = {
	"azure-blob", az_resume, az_next, az_done
};
