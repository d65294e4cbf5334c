/*
 * The lifecycle record of one capture: what was asked, who asked, what
 * happened. Names follow Network Watcher's queryStatus.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stdint.h>

#include <jansson.h>

enum cap_status {
	CAP_NOT_STARTED,
	CAP_RUNNING,
	CAP_STOPPED,
	CAP_ERROR,
};

enum stop_reason {
	STOP_NONE,
	STOP_TIME_EXCEEDED,
	STOP_BYTES_EXCEEDED,
	STOP_PACKETS_EXCEEDED,
	STOP_MANUAL,
	STOP_ALERT_RESOLVED,
	STOP_SHUTDOWN,
	STOP_INTERRUPTED,
};

enum cap_error {
	ERR_CAPTURE_FAILED,
	ERR_LOCAL_FILE_FAILED,
	ERR_STORAGE_FAILED,
	ERR_INTERNAL,
	ERR_AGENT_STOPPED,
};

struct record {
	char			*name;
	char			*node;
	enum cap_status		 status;
	enum stop_reason	 stop_reason;
	json_t			*params;	/* normalised parameters */
	json_t			*trigger;	/* {"kind": ...} */
	json_t			*errors;	/* [{code, message}] */
	json_t			*events;	/* [{at, status, ...}] */
	json_t			*uploads;	/* [{account, uri, state...}] */
	uint64_t		 packets;
	uint64_t		 bytes;
	uint64_t		 kernel_drops;
	uint64_t		 if_drops;
	char			 sha256[65];	/* "" until finished */
	int64_t			 created_at;	/* us; 0 = not yet */
	int64_t			 started_at;
	int64_t			 stopped_at;
	/* A capture that began in the past: what the past held. */
	int			 has_lookback;
	int64_t			 lb_requested;	/* us: where it was to begin */
	int64_t			 lb_covered;	/* us: where it began */
	int64_t			 lb_gap_us;	/* of the span, not covered */
	uint64_t		 lb_packets;
	uint64_t		 lb_bytes;
	char			*file;		/* relative to captures.root */
	char			*file_uri;	/* set once the file is final */
	int64_t			 file_deleted_at;	/* us; 0: not deleted */
	json_t			*files;		/* continuous: the ring's files */
	char			*expression;	/* the filter as compiled */
	json_t			*resolved;	/* what the target came to */
	json_t			*snapshots;	/* its context file, summaries */
	char			*file_deleted_why;
};

const char	*cap_status_name(enum cap_status);
const char	*stop_reason_name(enum stop_reason);
const char	*cap_error_name(enum cap_error);
/* Returns -1 if the name is unknown. */
int		 cap_status_from_name(const char *);
/* The same, in any case ("running"). */
int		 cap_status_from_name_nocase(const char *);

/* A new record for params (borrowed; copied). */
struct record	*record_new(const char *name, const char *node, json_t *params,
		    json_t *trigger);
void		 record_free(struct record *);
/* Appends an event {at, status, stop_reason?, message?}. */
void		 record_event(struct record *, const char *message);
/*
 * A continuous capture's complete files past its file_count, kept until
 * their uploads are done.
 */
uint64_t	 record_files_held(const struct record *);
/* A continuous capture's files complete and still on disk. */
size_t		 record_files_complete(const struct record *);
/* The local file is gone (why: retention, uploaded...): says so. */
void		 record_file_deleted(struct record *, const char *why);
/* Appends an error {code, message}. */
void		 record_error(struct record *, enum cap_error, const char *msg);
/* The record as the API shows it (new). */
json_t		*record_to_json(const struct record *);
/* Reads a record back from its JSON (borrowed); NULL with *cause. */
struct record	*record_from_json(json_t *, char **cause);
/* Seconds of the past asked for that the capture could not cover. */
double		 record_gap_s(const struct record *);
/* The rule name of an alert-triggered capture, or NULL. */
const char	*record_rule(const struct record *);

#endif
