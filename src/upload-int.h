/* What the uploader's backends share with its engine (upload.c). */
#ifndef UPLOAD_INT_H
#define UPLOAD_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include <curl/curl.h>
#include <jansson.h>

#include "conf.h"
#include "upload.h"
#include "xmalloc.h"

struct upjob;

/* How a response is judged. */
enum up_verdict {
	UP_NEXT,	/* this step is done; go on */
	UP_RETRY,	/* transient; retry after a backoff */
	UP_FAIL,	/* permanent (e.g. refused credentials) */
};

/* One kind of store, chosen by the account's type. */
struct upload_ops {
	const char	*type;
	/*
	 * Sets up the next request of the job on its easy handle, or
	 * returns 1 when the object is committed (job->uri set). -1 with
	 * *cause on a local failure.
	 */
	int		 (*next)(struct upjob *, char **cause);
	/* Judges the response to the request next() set up. */
	enum up_verdict	 (*done)(struct upjob *, long status, char **cause);
};

extern const struct upload_ops upload_azure_ops;
extern const struct upload_ops upload_s3_ops;
extern const struct upload_ops upload_http_ops;

struct upaccount {
	const struct conf_account	*conf;
	const struct upload_ops		*ops;
	char				*secret;	/* key, SAS or S3 secret */
};

struct upjob {
	struct upaccount	*acct;
	char			*capture;
	char			*path;
	char			*object;	/* object name from the template */
	char			*node;
	int64_t			 created_us;
	int			 creating;	/* making a missing container */
	uint64_t		 size;
	json_t			*entry;		/* owned copy */
	json_t			*progress;	/* borrowed from entry */
	upload_cb		 cb;
	void			*arg;
	int			 fd;
	/* The request being made: */
	CURL			*easy;
	struct curl_slist	*headers;
	struct dynbuf		 body;		/* the response */
	char			*etag;		/* from the response */
	char			*req_body;	/* for POST/PUT of XML */
	uint64_t		 off;		/* file range sent */
	uint64_t		 len;
	uint64_t		 sent;
	int			 step;
	char			*uri;
	/* Retries: */
	struct event		*retry_ev;
	int64_t			 first_try_us;
	TAILQ_ENTRY(upjob)	 entry_q;
};

/* Helpers for backends (upload.c). */
void	 up_request(struct upjob *, const char *method, const char *url);
void	 up_header(struct upjob *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 up_body_file(struct upjob *, uint64_t off, uint64_t len);
void	 up_body_text(struct upjob *, const char *text);
/* The first <tag>...</tag> of the response body (new), or NULL. */
char	*up_xml_tag(const struct upjob *, const char *tag);
/* "Code: Message" from an XML error body, or the status (new). */
char	*up_service_error(const struct upjob *, long status);
/* Renders {node} {name} {created} {yyyy} {mm} {dd} {hh} {path} (new). */
char	*up_render(const struct upjob *, const char *tmpl);
/* Percent-encodes an object path, keeping '/' (new). */
char	*up_escape_path(const char *);
/* base64 of MD5 of a file range (new), or NULL on a read error. */
char	*up_md5_range(int fd, uint64_t off, uint64_t len);
/* The number of blocks/parts for the job's file (>= 1). */
uint64_t up_parts(const struct upjob *);

#endif
