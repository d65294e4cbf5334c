/*
 * The uploader: finished capture files to storage accounts (Azure Blob,
 * S3, HTTP PUT), through the HTTP helper (httpc.h) without blocking the loop,
 * streamed from the file, retried with backoff, resumable after a restart.
 * Progress and outcomes go back to the caller through its callback.
 */
#ifndef UPLOAD_H
#define UPLOAD_H

#include <stdint.h>

#include <jansson.h>

struct event_base;
struct conf;

/* An upload's state, as its entry's "state" member names it. */
enum upload_state {
	UPLOAD_PENDING,
	UPLOAD_UPLOADING,
	UPLOAD_UPLOADED,
	UPLOAD_FAILED,
};

/* What to upload. Strings are borrowed (copied by upload_submit). */
struct upload_spec {
	const char	*capture;	/* capture name */
	const char	*account;	/* storage account name */
	const char	*path;		/* absolute path of the local file */
	const char	*node;
	int64_t		 created_us;
	uint32_t	 seq;		/* a continuous capture's file; 0 */
	json_t		*entry;		/* the uploads[] entry (borrowed) */
};

/*
 * Called whenever an upload's entry changes (state, attempts, progress)
 * with the new entry (borrowed); final is set once it is Uploaded or
 * Failed.
 */
typedef void (*upload_cb)(const char *capture, const char *account,
    json_t *entry, int final, void *arg);

int	 upload_init(struct event_base *, const struct conf *, char **cause);
/* What upload_init checks (each account's secret file), for -t. */
int	 upload_check(const struct conf *, char **cause);
void	 upload_shutdown(void);
/* Is there a storage account of this name? (As params_limits wants.) */
int	 upload_account_exists(const char *name, void *unused);
const char	*upload_state_name(enum upload_state);
/* The state an entry (borrowed) names; Pending if it names none. */
enum upload_state upload_entry_state(json_t *entry);
/* A new entry {"account", "uri", "state": "Pending", ...} (new). */
json_t	*upload_entry_new(const char *account);
/* Queues an upload; its callback reports from the next loop turn on. */
void	 upload_submit(const struct upload_spec *, upload_cb, void *arg);
/*
 * Is an account reachable and writable? An empty object named
 * "alertcap-readyz" (for http-put, its URL template with that name and
 * the epoch) is put there, once, no retry; cb hears Uploaded or Failed
 * with the reason in last_error. Counted in no upload metric.
 */
void	 upload_probe(const char *account, const char *node, upload_cb,
	    void *arg);

/*
 * Azure Blob shared-key signature (base64 HMAC-SHA256 with the decoded
 * key) of a request; canon_headers are the x-ms-* headers as "name:value"
 * lines, sorted; resource is "/ACCOUNT/PATH" and query the raw query.
 * New string, or NULL if the key is not base64.
 */
char	*azure_shared_key_sign(const char *key_b64, const char *verb,
	    const char *content_length, const char *content_md5,
	    const char *content_type, const char *canon_headers,
	    const char *resource, const char *query);

#endif
