/* What the uploader's backends share with its engine (upload.c). */
#ifndef UPLOAD_INT_H
#define UPLOAD_INT_H

#include <stdint.h>
#include <sys/queue.h>

#include <jansson.h>

#include "conf.h"
#include "pcapfile.h"
#include "upload.h"
#include "xmalloc.h"

struct upjob;
struct upreq;

/* How a response is judged. */
enum up_verdict {
	UP_NEXT,	/* this request is done; go on */
	UP_RETRY,	/* transient; retry after a backoff */
	UP_FAIL,	/* permanent (e.g. refused credentials) */
};

/* What next() did. */
enum up_step {
	UP_STARTED,	/* set up a request on the slot */
	UP_COMMITTED,	/* the object is committed (job->uri set) */
	UP_WAIT,	/* nothing to start until a request in flight ends */
	UP_ERROR,	/* a local failure, with *cause */
};

/* A block/part of a large file. */
enum up_part {
	UP_PART_TODO,
	UP_PART_SENDING,
	UP_PART_DONE,
};

/*
 * One kind of store, chosen by the account's type. The engine calls
 * next() for every idle request slot of a job (up to the account's
 * "parallel", one for a file of one part) and done() as each request
 * ends. A backend sets up requests that must stand alone (create a
 * container, start or complete a multipart upload) only when no other
 * request of the job is in flight (job->busy == 0), and parts in any
 * number, taking them with up_part_take().
 */
struct upload_ops {
	const char	*type;
	/* Marks the parts the entry's progress says are stored (resume). */
	void		 (*resume)(struct upjob *);
	enum up_step	 (*next)(struct upjob *, struct upreq *, char **cause);
	/* Judges the response to the request next() set up on the slot. */
	enum up_verdict	 (*done)(struct upjob *, struct upreq *, long status,
			    char **cause);
};

extern const struct upload_ops upload_azure_ops;
extern const struct upload_ops upload_s3_ops;
extern const struct upload_ops upload_http_ops;

struct upaccount {
	const struct conf_account	*conf;
	const struct upload_ops		*ops;
	char				*secret;	/* key, SAS or S3 secret */
};

struct httpc_req;

/* One request slot of a job: the request it carries, and its answer. */
struct upreq {
	struct upjob		*job;
	struct httpc_req	*req;		/* being set up, or in flight */
	struct dynbuf		 body;		/* the response */
	char			*etag;		/* from the response */
	uint64_t		 sent;		/* file bytes it sent */
	int64_t			 part;		/* part it carries, or -1 */
	int			 busy;		/* in the multi handle */
};

struct upjob {
	struct upaccount	*acct;
	char			*capture;
	char			*path;
	char			*object;	/* object name from the template */
	char			*node;
	int64_t			 created_us;
	uint32_t		 seq;		/* a ring's file, or 0 */
	int			 creating;	/* making a missing container */
	int			 probe;		/* upload_probe's: once, uncounted */
	uint64_t		 size;
	json_t			*entry;		/* owned copy */
	json_t			*progress;	/* borrowed from entry */
	upload_cb		 cb;
	void			*arg;
	int			 fd;
	/* Requests: */
	struct upreq		*reqs;
	int			 nreqs;
	int			 busy;		/* slots in flight */
	uint64_t		 nparts;
	uint8_t			*parts;		/* enum up_part each */
	char			*uri;
	/* Retries: */
	struct event		*retry_ev;
	int64_t			 first_try_us;
	int64_t			 attempt_us;	/* this attempt began */
	TAILQ_ENTRY(upjob)	 entry_q;
};

/* Helpers for backends (upload.c). */
/* The media type of the file at path (a capture's, or JSON). */
const char	*up_content_type(const char *path);
void	 up_request(struct upreq *, const char *method, const char *url);
void	 up_header(struct upreq *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* A range of the job's file; len 0 is an empty body, sent as an upload. */
void	 up_body_file(struct upreq *, uint64_t off, uint64_t len);
void	 up_body_text(struct upreq *, const char *text);
/* The first <tag>...</tag> of the response body (new), or NULL. */
char	*up_xml_tag(const struct upreq *, const char *tag);
/* "Code: Message" from an XML error body, or the status (new). */
char	*up_service_error(const struct upreq *, long status);
/* Renders {node} {name} {created} {yyyy} {mm} {dd} {hh} {path} (new). */
char	*up_render(const struct upjob *, const char *tmpl);
/* Percent-encodes an object path, keeping '/' (new). */
char	*up_escape_path(const char *);
/* The file range of part i. */
void	 up_part_range(const struct upjob *, uint64_t i, uint64_t *off,
	    uint64_t *len);
/* Takes the first part still to send (now SENDING), or -1 for none. */
int64_t	 up_part_take(struct upjob *);
void	 up_part_set(struct upjob *, uint64_t i, enum up_part);
/* How many parts from the first on are DONE without a gap. */
uint64_t up_parts_prefix(const struct upjob *);
/* Sets every part to TODO (the store forgot them). */
void	 up_parts_reset(struct upjob *);

#endif
