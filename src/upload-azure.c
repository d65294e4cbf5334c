/*
 * Azure Blob Storage: shared-key or SAS authorization, Put Blob for small
 * files, Put Block (with a per-block Content-MD5) and Put Block List for
 * large ones. Progress (blocks sent) is kept in the upload's entry, so an
 * upload resumes after a restart without re-sending blocks.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

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
		val = curl_easy_unescape(NULL, eq != NULL ? eq + 1 : "", 0,
		    NULL);
		for (p = params[i]; *p != '\0'; p++)
			*p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
		dynbuf_addf(&sts, "\n%s:%s", params[i], val);
		curl_free(val);
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
 * for shared key, signs it. query may be NULL.
 */
static void
az_request(struct upjob *j, const char *verb, const char *query,
    int container, uint64_t clen, const char *md5, const char *ctype,
    const char *blob_type)
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
	up_request(j, verb, url);
	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	up_header(j, "x-ms-date: %s", date);
	up_header(j, "x-ms-version: %s", AZ_VERSION);
	if (blob_type != NULL)
		up_header(j, "x-ms-blob-type: %s", blob_type);
	if (md5 != NULL)
		up_header(j, "Content-MD5: %s", md5);
	if (ctype != NULL)
		up_header(j, "Content-Type: %s", ctype);
	else
		up_header(j, "Content-Type:");
	if (!az_sas(j)) {
		snprintf(cl, sizeof cl, "%llu", (unsigned long long)clen);
		canon = xasprintf("%s%s%sx-ms-date:%s\nx-ms-version:%s\n",
		    blob_type != NULL ? "x-ms-blob-type:" : "",
		    blob_type != NULL ? blob_type : "",
		    blob_type != NULL ? "\n" : "", date, AZ_VERSION);
		path = xasprintf("/%s%s/%s%s%s", a->account,
		    url_path(a->endpoint), a->container, container ? "" : "/",
		    container ? "" : obj);
		sig = azure_shared_key_sign(j->acct->secret, verb, clen > 0 ?
		    cl : "", md5 != NULL ? md5 : "", ctype != NULL ? ctype : "",
		    canon, path, query);
		up_header(j, "Authorization: SharedKey %s:%s", a->account,
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
	char		*esc, *r;
	int		n;

	n = snprintf((char *)raw, sizeof raw, "block-%08llu",
	    (unsigned long long)i);
	EVP_EncodeBlock(b64, raw, n);
	esc = curl_easy_escape(NULL, (char *)b64, 0);
	r = xstrdup(esc);
	curl_free(esc);
	return (r);
}

static int
az_next(struct upjob *j, char **cause)
{
	const struct conf_account	*a = j->acct->conf;
	struct dynbuf			 xml;
	uint64_t			 n = up_parts(j), i, bs;
	char				*md5, *id, *q, *obj;
	unsigned char			 raw[32], b64[64];

	if (json_is_true(json_object_get(j->progress, "committed"))) {
		obj = up_escape_path(j->object);
		free(j->uri);
		j->uri = az_sas(j) ? xasprintf("%s/%s", a->container_url, obj) :
		    xasprintf("%s/%s/%s", a->endpoint, a->container, obj);
		free(obj);
		return (1);
	}
	if (j->creating) {
		az_request(j, "PUT", "restype=container", 1, 0, NULL, NULL,
		    NULL);
		curl_easy_setopt(j->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(j->easy, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)0);
		return (0);
	}
	bs = (uint64_t)a->block_size;
	if (n == 1) {
		az_request(j, "PUT", NULL, 0, j->size, NULL,
		    "application/vnd.tcpdump.pcap", "BlockBlob");
		up_body_file(j, 0, j->size);
		return (0);
	}
	i = (uint64_t)json_integer_value(json_object_get(j->progress,
	    "blocks_done"));
	if (i < n) {
		uint64_t len = i == n - 1 ? j->size - i * bs : bs;

		if ((md5 = up_md5_range(j->fd, i * bs, len)) == NULL) {
			*cause = xasprintf("reading %s: cannot read", j->path);
			return (-1);
		}
		id = block_id(i);
		q = xasprintf("comp=block&blockid=%s", id);
		az_request(j, "PUT", q, 0, len, md5, NULL, NULL);
		up_body_file(j, i * bs, len);
		free(q);
		free(id);
		free(md5);
		return (0);
	}
	dynbuf_init(&xml, 16 * 1024 * 1024);
	dynbuf_addf(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	    "<BlockList>");
	for (i = 0; i < n; i++) {
		int len = snprintf((char *)raw, sizeof raw, "block-%08llu",
		    (unsigned long long)i);

		EVP_EncodeBlock(b64, raw, len);
		dynbuf_addf(&xml, "<Latest>%s</Latest>", b64);
	}
	dynbuf_addf(&xml, "</BlockList>");
	az_request(j, "PUT", "comp=blocklist", 0, xml.len, NULL,
	    "application/xml", NULL);
	up_body_text(j, xml.buf);
	dynbuf_free(&xml);
	return (0);
}

static enum up_verdict
az_done(struct upjob *j, long status, char **cause)
{
	uint64_t	n = up_parts(j), i;

	if (j->creating) {
		if (status / 100 == 2 || status == 409) {
			j->creating = 0;
			return (UP_NEXT);
		}
	} else if (status / 100 == 2) {
		i = (uint64_t)json_integer_value(json_object_get(j->progress,
		    "blocks_done"));
		if (n > 1 && i < n)
			json_object_set_new(j->progress, "blocks_done",
			    json_integer((json_int_t)(i + 1)));
		else
			json_object_set_new(j->progress, "committed",
			    json_true());
		return (UP_NEXT);
	} else if (status == 404 && !az_sas(j) && j->body.buf != NULL &&
	    strstr(j->body.buf, "ContainerNotFound") != NULL) {
		j->creating = 1;
		return (UP_NEXT);
	}
	*cause = up_service_error(j, status);
	return (status >= 500 || status == 408 || status == 429 ?
	    UP_RETRY : UP_FAIL);
}

const struct upload_ops upload_azure_ops = {
	"azure-blob", az_next, az_done
};
