/* Capture sessions: lifecycle, limits, files and records. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "capture-pcap.h"
#include "compat.h"
#include "conf.h"
#include "log.h"
#include "lookback.h"
#include "metrics.h"
#include "params.h"
#include "pcapfile.h"
#include "session.h"
#include "state.h"
#include "context.h"
#include "filter.h"
#include "iothread.h"
#include "netns.h"
#include "notify.h"
#include "retention.h"
#include "upload.h"
#include "util.h"
#include "worker.h"
#include "xmalloc.h"

#define SESS_MAX_OBSERVERS	4
/* How long a file's header may wait for the start's context. */
#define SESS_HOLD_US		(2 * 1000000)
/* The uploader's tag for a capture's context file (not a ring's seq). */
#define CAP_CONTEXT_TAG		((void *)(uintptr_t)UINT32_MAX)

/* Why a local capture file went, for /metrics. */
enum file_gone {
	FILE_GONE_AGE,		/* retention.max_age_s */
	FILE_GONE_BYTES,	/* retention.max_bytes */
	FILE_GONE_UPLOADED,	/* only accounts were asked for */
	FILE_GONE_DELETED,	/* DELETE ...?file=true */
	FILE_GONE_RING,		/* continuous.file_count: the oldest goes */
	FILE_GONE_MAX
};
static const char *file_gone_names[FILE_GONE_MAX] = {
	[FILE_GONE_AGE] = "max_age", [FILE_GONE_BYTES] = "max_bytes",
	[FILE_GONE_UPLOADED] = "uploaded", [FILE_GONE_DELETED] = "deleted",
	[FILE_GONE_RING] = "file_count",
};

/* A live packet waiting in a session's pending buffer, then its bytes. */
struct pcap_rec_pending {
	int64_t		ts;
	uint32_t	caplen;
	uint32_t	len;
};

/* One capture session: its record and, while it runs, what it holds. */
struct session {
	struct record		*rec;
	/* While running: */
	struct capsink		*sink;
	struct pcapw		*w;
	uint64_t		 file_ino;	/* w's (pcapfile_commit) */
	uint64_t		 serial;	/* this capture, not another */
	struct event		*timer;
	struct event		*later_ev;	/* a stop after resolution */
	enum stop_reason	 later_why;
	uint64_t		 max_bytes;
	uint64_t		 max_packets;
	int64_t			 time_limit_us;
	/* While the past is copied in from a lookback ring: */
	struct lb_cut		*cut;
	struct event		*cut_ev;
	uint32_t		 snaplen;
	int			 snapshot;	/* time_limit_s 0: stop after */
	int			 cut_stop;	/* the past ended it: 1 or -1 */
	enum stop_reason	 cut_why;
	struct dynbuf		 pending;	/* live packets meanwhile */
	/* What params_parse decided, read once from the record: */
	int			 keep_file;	/* storage.file */
	json_t			*accounts;	/* storage.accounts, borrowed */
	const char		*dedup_key;	/* the trigger's, or NULL */
	int			 dirty;		/* record not stored yet */
	int			 stored;	/* by the tick's transaction */
	TAILQ_ENTRY(session)	 dirty_entry;	/* on sess_dirty, if dirty */
	int			 deleted;	/* its record is gone: store nothing */
	int			 delete_file;	/* and its file goes too */
	/* Continuous: a ring of files (file_count 0: one file). */
	uint32_t		 file_count;
	uint64_t		 file_size;
	uint32_t		 seq;		/* the file being written */
	char			*stem;		/* its path before _SEQ.ext */
	uint64_t		 prev_packets;	/* in the ring's closed files */
	uint64_t		 prev_bytes;
	int64_t			 file_first_ns;	/* of the file being written */
	int64_t			 file_last_ns;
	int64_t			 file_start_us;
	struct capture_stats	 file_base;	/* the sink's, at its start */
	struct pcapw_desc	 desc;		/* of each new file */
	char			*desc_str[5];	/* desc's strings, owned */
	/* Where it captures, and its context snapshots (context.h). */
	int			 has_ns;
	struct nstarget		 ns;
	int			 context;
	json_t			*ctx_start;	/* the start snapshot, taken */
	int64_t			 hold_until_us;	/* a header waits for it */
	/* Stopped, its file being made durable off the loop: */
	int			 syncing;
	enum cap_status		 end_status;
	enum stop_reason	 end_reason;
	char			*end_msg;
	int64_t			 end_us;
	char			*sync_err;	/* the worker's, until done */
	char			*name_err;	/* its file could not be named */
	struct io_result	*io_res;	/* the last file's outcome */
	struct io_outcome	 io_out;	/* the worker's, until done */
	int			 write_failed;	/* a failed write recorded */
	TAILQ_ENTRY(session)	 entry;
	/* Its share of the budget (sess_account): */
	int			 live;		/* on sess_live */
	TAILQ_ENTRY(session)	 live_entry;
	int			 unflushed;	/* on sess_unflushed */
	int64_t			 flush_at;	/* then, or soon after */
	TAILQ_ENTRY(session)	 flush_entry;
	TAILQ_ENTRY(session)	 ring_entry;	/* a live ring: sess_rings */
	uint64_t		 kept;		/* in sess_kept */
	uint64_t		 reserved;	/* in sess_reserved */
	struct session		*hash_next;	/* sess_hash's chain */
	struct session		*dedup_next;	/* sess_dedup's chain */
};

static struct event_base	*sess_base;
static int			 sess_rootfd = -1;
static char			*sess_root;
static char			*sess_node;
static struct params_limits	 sess_plimits;
static struct sess_limits	 sess_limits;
static int			 sess_hash_files = 1;	/* captures.sha256 */
static size_t			 sess_ctx_sockets = 256;	/* context_max_sockets */
static TAILQ_HEAD(, session)	 sess_all = TAILQ_HEAD_INITIALIZER(sess_all);
static struct session		**sess_hash;	/* by name, cap_find */
static struct session		**sess_dedup;	/* by dedup key, if any */
static size_t			 sess_hash_size;	/* a power of 2 */
static size_t			 sess_count;
static uint64_t			 sess_serial;	/* the last capture's */
/*
 * The budget's running totals, so that an alert's admission does not sum
 * every record on file, or every running capture: the captures running
 * or about to (sess_live, sess_nlive), the byte limits of those of one
 * file (sess_reserved) and the rings among them, whose reserve moves with
 * their files (sess_rings); the bytes the others keep (sess_kept).
 */
static TAILQ_HEAD(, session)	 sess_live = TAILQ_HEAD_INITIALIZER(sess_live);
static TAILQ_HEAD(, session)	 sess_rings = TAILQ_HEAD_INITIALIZER(sess_rings);
/*
 * The running captures whose files were written to (or whose header is
 * held) since they were last flushed, in the order they were, each to be
 * flushed a second after: the flushes are theirs, not those of every
 * capture running (thousands, in a storm, mostly idle), and spread over
 * the ticks in turns of at most SESS_FLUSH_US.
 */
#define SESS_FLUSH_US	1000
static TAILQ_HEAD(, session)	 sess_unflushed =
    TAILQ_HEAD_INITIALIZER(sess_unflushed);
static long long		 sess_nlive;
/*
 * Records the store has not taken yet, for the tick to store in one
 * transaction: those it could not take, and those changed in what is not
 * a transition (a context snapshot's summary), which wait for it.
 */
static TAILQ_HEAD(, session)	 sess_dirty = TAILQ_HEAD_INITIALIZER(sess_dirty);
/*
 * When retention next needs to weigh the files (cap_sweep): when the
 * bytes kept are over its limit, when the oldest file it keeps comes of
 * age (next_us, brought forward as captures finish), when a file or the
 * limits came that it has not weighed (due), and once a minute whatever
 * happens (last_us): a sweep sorts every file on record, 30-60 ms with
 * 100,000 of them, 7 ms with 10,000, which a storm's every second of
 * captures changing state no longer pays.
 */
static int			 sess_sweep_due = 1;
static int64_t			 sess_sweep_next_us;
static int64_t			 sess_sweep_last_us;
#define SWEEP_EVERY_US		(60 * 1000000LL)
static uint64_t			 sess_reserved;
static uint64_t			 sess_kept;
static struct retention_limits	 sess_retention;

/* Files of deleted captures, still on disk and counted (state.h). */
struct orphan {
	char		*path;
	uint64_t	 bytes;
	int64_t		 at;
};
static struct orphan		*sess_orphans;
static size_t			 sess_norphans;
static uint64_t			 sess_orphan_bytes;

static struct {
	session_observer_fn	 fn;
	void			*arg;
} sess_observers[SESS_MAX_OBSERVERS];

/* Monotonic counters for /metrics. */
static struct {
	uint64_t	started;
	uint64_t	stopped[STOP_INTERRUPTED + 1];
	uint64_t	failed;
	uint64_t	refused_limited;
	uint64_t	refused_invalid;
	uint64_t	refused_conflict;
	uint64_t	packets;	/* of finished captures */
	uint64_t	bytes;
	uint64_t	kernel_drops;
	uint64_t	if_drops;
	uint64_t	lookback_gaps;	/* pasts not all held */
	uint64_t	files_deleted[FILE_GONE_MAX];
	uint64_t	bytes_deleted[FILE_GONE_MAX];
} sess_stats;

/* A bucket of sess_hash or sess_dedup for key. */
static struct session **
sess_bucket(struct session **table, const char *key)
{
	return (&table[fnv1a_str(FNV1A_INIT, key) & (sess_hash_size - 1)]);
}

static struct session *
cap_find(const char *name)
{
	struct session	*c;

	if (sess_hash_size == 0)
		return (NULL);
	for (c = *sess_bucket(sess_hash, name); c != NULL; c = c->hash_next)
		if (strcmp(c->rec->name, name) == 0)
			return (c);
	return (NULL);
}

/* Puts c in the buckets for its name and its dedup key. */
static void
sess_hash_put(struct session *c)
{
	struct session	**b;

	b = sess_bucket(sess_hash, c->rec->name);
	c->hash_next = *b;
	*b = c;
	if (c->dedup_key != NULL) {
		b = sess_bucket(sess_dedup, c->dedup_key);
		c->dedup_next = *b;
		*b = c;
	}
}

static uint64_t	 ring_local_bytes(const struct record *);
static uint64_t	 cap_reserve(const struct session *);

/*
 * A list handed out a part at a time (session_list_next): a cursor on
 * the list of all captures, or of the live ones, that the capture it
 * names moves on from when that one leaves the list.
 */
struct sess_listing {
	struct session		*next;		/* NULL: at the end */
	int			 live;		/* on sess_live, not sess_all */
	char			*status, *rule;
	LIST_ENTRY(sess_listing) entry;
};
static LIST_HEAD(, sess_listing) sess_listings =
    LIST_HEAD_INITIALIZER(sess_listings);

/* c leaves the live list (live) or all: no cursor may stay on it. */
static void
sess_listings_leave(struct session *c, int live)
{
	struct sess_listing	*l;

	LIST_FOREACH(l, &sess_listings, entry)
		if (l->next == c && l->live == live)
			l->next = live ? TAILQ_NEXT(c, live_entry) :
			    TAILQ_NEXT(c, entry);
}

/* Puts c on the lists of live captures, or takes it off. */
static void
sess_set_live(struct session *c, int live)
{
	if (live) {
		TAILQ_INSERT_TAIL(&sess_live, c, live_entry);
		if (c->file_count != 0)
			TAILQ_INSERT_TAIL(&sess_rings, c, ring_entry);
		sess_nlive++;
	} else {
		sess_listings_leave(c, 1);
		TAILQ_REMOVE(&sess_live, c, live_entry);
		if (c->file_count != 0)
			TAILQ_REMOVE(&sess_rings, c, ring_entry);
		sess_nlive--;
	}
	c->live = live;
}

/* c's file has something for the tick to flush. */
static void
sess_unflushed_add(struct session *c)
{
	if (!c->unflushed) {
		TAILQ_INSERT_TAIL(&sess_unflushed, c, flush_entry);
		c->unflushed = 1;
		c->flush_at = now_us() + 1000000;
	}
}

/* c is off the tick's list. */
static void
sess_flushed(struct session *c)
{
	if (c->unflushed) {
		TAILQ_REMOVE(&sess_unflushed, c, flush_entry);
		c->unflushed = 0;
	}
}

/* Replaces c's share of the budget's totals with the one given. */
static void
sess_share(struct session *c, int live, uint64_t kept, uint64_t reserved)
{
	sess_kept += kept - c->kept;
	sess_reserved += reserved - c->reserved;
	c->kept = kept;
	c->reserved = reserved;
	if (live != c->live)
		sess_set_live(c, live);
}

/*
 * Brings c's share of the budget up to date with its record: on sess_live
 * while it runs (or is about to), with its byte limit in sess_reserved
 * unless it is a ring; else the bytes its files keep in sess_kept. Every
 * change to a record passes here (sess_link, cap_publish).
 */
static void
sess_account(struct session *c)
{
	if (c->deleted)
		return;
	if (c->rec->status == CAP_RUNNING ||
	    c->rec->status == CAP_NOT_STARTED)
		sess_share(c, 1, 0, c->file_count == 0 ? cap_reserve(c) : 0);
	else if (c->file_count != 0)
		sess_share(c, 0, ring_local_bytes(c->rec), 0);
	else
		sess_share(c, 0, c->rec->file_uri != NULL ? c->rec->bytes : 0,
		    0);
}

/*
 * Puts c on the list of captures, and in the indexes by name (cap_find)
 * and dedup key (session_find_dedup): 100,000 records on file were
 * 100,000 compares a lookup, and every alert looks up its key.
 */
static void
sess_link(struct session *c)
{
	struct session	*k;

	TAILQ_INSERT_TAIL(&sess_all, c, entry);
	sess_account(c);
	if (++sess_count <= sess_hash_size) {
		sess_hash_put(c);
		return;
	}
	/* One capture a bucket at most, on average: past it, twice as many. */
	sess_hash_size = sess_hash_size == 0 ? 256 : sess_hash_size * 2;
	free(sess_hash);
	sess_hash = xcalloc(sess_hash_size, sizeof *sess_hash);
	free(sess_dedup);
	sess_dedup = xcalloc(sess_hash_size, sizeof *sess_dedup);
	TAILQ_FOREACH(k, &sess_all, entry)
		sess_hash_put(k);
}

/* Takes c off the list of captures and out of the index. */
static void
sess_unlink(struct session *c)
{
	struct session	**b;

	sess_listings_leave(c, 0);
	TAILQ_REMOVE(&sess_all, c, entry);
	sess_share(c, 0, 0, 0);
	b = sess_bucket(sess_hash, c->rec->name);
	while (*b != c)
		b = &(*b)->hash_next;
	*b = c->hash_next;
	if (c->dedup_key != NULL) {
		b = sess_bucket(sess_dedup, c->dedup_key);
		while (*b != c)
			b = &(*b)->dedup_next;
		*b = c->dedup_next;
	}
	sess_count--;
}

/* Marks c's record stored (0) or for the tick to store (1). */
static void
cap_dirty(struct session *c, int dirty)
{
	if (dirty && !c->dirty)
		TAILQ_INSERT_TAIL(&sess_dirty, c, dirty_entry);
	else if (!dirty && c->dirty)
		TAILQ_REMOVE(&sess_dirty, c, dirty_entry);
	c->dirty = dirty;
}

static void
cap_free(struct session *c)
{
	int	i;

	for (i = 0; i < 5; i++)
		free(c->desc_str[i]);
	free(c->stem);
	netns_clear(&c->ns);
	json_decref(c->ctx_start);
	io_result_free(c->io_res);
	record_free(c->rec);
	if (c->cut != NULL)
		lookback_cut_free(c->cut);
	if (c->cut_ev != NULL)
		event_free(c->cut_ev);
	dynbuf_free(&c->pending);
	free(c->end_msg);
	free(c->sync_err);
	free(c->name_err);
	sess_flushed(c);
	cap_dirty(c, 0);
	free(c);
}

static void	cap_submit_uploads(struct session *);
static void	sess_usage(struct sess_usage *);
static json_t	*ring_entry(const struct record *, uint32_t);
static void	 ring_file_done(struct session *, json_t *);
static int	 ring_close(struct session *, const struct capture_stats *,
		    struct io_result **);
static int	 ring_rotate(struct session *, enum stop_reason *);
static int	 ring_is(json_t *, const char *);
static void	 cap_context(struct session *, int);
static void	 ring_delete(json_t *, enum file_gone, const char *);
static void	 ring_trim(struct session *);
static void	cap_cut_finish(struct session *, int);

/*
 * Reads what params_parse decided from the record's normalised parameters
 * and trigger, once, for a new capture or one of an earlier run: whether
 * the file stays, the accounts, the dedup key.
 */
static void
cap_decided(struct session *c)
{
	json_t	*st = json_object_get(c->rec->params, "storage");
	json_t	*f = json_object_get(st, "file");

	c->keep_file = f == NULL || !json_is_false(f);
	c->accounts = json_array_size(json_object_get(st, "accounts")) > 0 ?
	    json_object_get(st, "accounts") : NULL;
	c->dedup_key = json_string_value(json_object_get(c->rec->trigger,
	    "dedup_key"));
	st = json_object_get(c->rec->params, "continuous");
	c->file_count = (uint32_t)json_integer_value(json_object_get(st,
	    "file_count"));
	c->file_size = (uint64_t)json_integer_value(json_object_get(st,
	    "file_size_bytes"));
}

/* Tells every observer of a capture's record (NULL: deleted). */
static void
cap_notify(const char *name, const struct record *r)
{
	int	i;

	for (i = 0; i < SESS_MAX_OBSERVERS; i++)
		if (sess_observers[i].fn != NULL)
			sess_observers[i].fn(name, r, sess_observers[i].arg);
}

/* Stores a capture's record; kept dirty for the tick if the store fails. */
static int
cap_put(struct session *c, char **cause)
{
	char	*err = NULL;
	int	 rc;

	rc = state_put(c->rec, cause != NULL ? cause : &err);
	free(err);
	cap_dirty(c, rc == -1);
	return (rc);
}

/*
 * The one path of a changed record: stores it and tells the observers.
 * A record the store could not take is still the truth: observers (and
 * requests waiting on it) hear it now, and the tick stores it. Only a new
 * record that could not be stored is no news: it never was.
 */
static int
cap_publish(struct session *c, int is_new, char **cause)
{
	const struct record	*r = c->rec;

	/* Its files (uploaded, or just finished) may be of age. */
	if (sess_retention.max_age_us != 0 && (r->status == CAP_STOPPED ||
	    r->status == CAP_ERROR) && r->stopped_at <
	    sess_sweep_next_us - sess_retention.max_age_us)
		sess_sweep_next_us = r->stopped_at + sess_retention.max_age_us;
	sess_account(c);
	if (cap_put(c, cause) == -1 && is_new) {
		cap_dirty(c, 0);
		return (-1);
	}
	cap_notify(c->rec->name, c->rec);
	return (c->dirty ? -1 : 0);
}

/*
 * cap_publish of a change that is not a transition: the observers hear
 * it now, and the tick stores it with the others of its second (a storm's
 * thousands of context summaries are then a few transactions).
 */
static void
cap_publish_later(struct session *c)
{
	cap_dirty(c, 1);
	cap_notify(c->rec->name, c->rec);
}

/*
 * The one place a capture changes state: logs old -> new, runs the enter
 * actions and stores the record. -1 (with the record kept dirty for the
 * tick to retry) if the store failed.
 */
static int
cap_set_state(struct session *c, enum cap_status st, enum stop_reason why,
    const char *msg, char **cause)
{
	struct record	*r = c->rec;
	int		 rc;

	log_info("capture %s: %s -> %s%s%s", r->name,
	    cap_status_name(r->status), cap_status_name(st),
	    why != STOP_NONE ? " " : "", why != STOP_NONE ?
	    stop_reason_name(why) : "");
	r->status = st;
	r->stop_reason = why;
	if (st == CAP_RUNNING)
		r->started_at = now_us();
	if (st == CAP_STOPPED || st == CAP_ERROR) {
		r->stopped_at = c->end_us != 0 ? c->end_us : now_us();
		if (st == CAP_STOPPED)
			sess_stats.stopped[why]++;
		else
			sess_stats.failed++;
	}
	record_event(r, msg);
	if (c->deleted)
		return (0);
	rc = cap_publish(c, 0, cause);
	if (st == CAP_STOPPED || st == CAP_ERROR)
		cap_submit_uploads(c);
	return (rc);
}

/* A finished file: one Pending upload per account, stored with the record. */
static void
cap_add_uploads(struct session *c)
{
	struct record	*r = c->rec;
	json_t		*e;
	size_t		 i;

	if (json_array_size(r->uploads) > 0)
		return;
	json_array_foreach(c->accounts, i, e)
		json_array_append_new(r->uploads, upload_entry_new(
		    json_string_value(e)));
}

/*
 * A string member of an upload entry, "" when it is missing (a record of
 * an older version, or a member memory ran out for).
 */
static const char *
entry_str(json_t *e, const char *key)
{
	const char	*s = json_string_value(json_object_get(e, key));

	return (s != NULL ? s : "");
}

/* Counts a local file that went. */
static void
sess_file_gone(uint64_t bytes, enum file_gone why)
{
	sess_stats.files_deleted[why]++;
	sess_stats.bytes_deleted[why] += bytes;
}

/*
 * A file that goes, off the loop (freeing gigabytes of blocks takes a
 * while): a finished one, or the .part of a capture that never started
 * if it is still the file of inode ino (pcapfile_discard), after its name
 * if the worker is giving it one.
 */
struct sess_unlink {
	char		*relpath;
	int		 part;
	uint64_t	 ino;
};

static void
sess_unlink_work(void *arg)
{
	struct sess_unlink	*u = arg;

	if (u->part)
		pcapfile_discard(sess_rootfd, u->relpath, u->ino);
	else if (pcapfile_remove(sess_rootfd, u->relpath) == -1 &&
	    errno != ENOENT)
		log_warn("deleting %s: %s", u->relpath, strerror(errno));
}

static void
sess_unlink_done(void *arg)
{
	struct sess_unlink	*u = arg;

	free(u->relpath);
	free(u);
}

static void
sess_unlink_submit(const char *relpath, int part, uint64_t ino)
{
	struct sess_unlink	*u;

	u = xcalloc(1, sizeof *u);
	u->relpath = xstrdup(relpath);
	u->part = part;
	u->ino = ino;
	worker_submit(sess_unlink_work, sess_unlink_done, u);
}

static void
sess_unlink_later(const char *relpath)
{
	sess_unlink_submit(relpath, 0, 0);
}

/* Counts a forgotten capture's file, still on disk. */
static void
sess_orphan_add(const char *path, uint64_t bytes, int64_t at)
{
	sess_orphans = xrealloc(sess_orphans, (sess_norphans + 1) *
	    sizeof *sess_orphans);
	sess_orphans[sess_norphans].path = xstrdup(path);
	sess_orphans[sess_norphans].bytes = bytes;
	sess_orphans[sess_norphans++].at = at;
	sess_sweep_due = 1;
	sess_orphan_bytes += bytes;
}

/* Stops counting a forgotten capture's file (it is gone). */
static void
sess_orphan_remove(const char *path)
{
	char	*cause = NULL;
	size_t	 i;

	for (i = 0; i < sess_norphans; i++)
		if (strcmp(sess_orphans[i].path, path) == 0)
			break;
	if (i == sess_norphans)
		return;
	if (state_orphan_delete(path, &cause) == -1)
		free(cause);	/* counted again at restart, if still there */
	sess_orphan_bytes -= sess_orphans[i].bytes;
	free(sess_orphans[i].path);
	sess_orphans[i] = sess_orphans[--sess_norphans];
}

/* The uploader's news: the entry on record, and what follows from it. */
static void
cap_upload_news(const char *name, const char *account, json_t *entry,
    int final, void *arg)
{
	struct session	*c;
	struct record	*r;
	json_t		*e, *list, *file = NULL;
	uint32_t	 seq = (uint32_t)(uintptr_t)arg;	/* 0: one file */
	int		 ctx = arg == CAP_CONTEXT_TAG;
	char		*msg;
	size_t		 i;
	int		 all = 1;

	if ((c = cap_find(name)) == NULL)
		return;		/* deleted meanwhile */
	r = c->rec;
	if (!ctx && seq != 0 && (file = ring_entry(r, seq)) == NULL)
		return;
	list = ctx ? json_object_get(r->snapshots, "uploads") : file != NULL ?
	    json_object_get(file, "uploads") : r->uploads;
	json_array_foreach(list, i, e) {
		if (strcmp(entry_str(e, "account"), account) == 0) {
			json_array_set(list, i, entry);
			break;
		}
	}
	if (final && upload_entry_state(entry) == UPLOAD_FAILED) {
		msg = seq != 0 ? xasprintf("%s: file %u: %s", account, seq,
		    entry_str(entry, "last_error")) : xasprintf("%s: %s",
		    account, entry_str(entry, "last_error"));
		record_error(r, ERR_STORAGE_FAILED, msg);
		free(msg);
	}
	if (ctx) {	/* the context file: nothing follows */
		cap_publish(c, 0, NULL);
		return;
	}
	if (file != NULL) {	/* a ring's file: it may go now */
		if (final)
			ring_trim(c);
		cap_publish(c, 0, NULL);
		return;
	}
	json_array_foreach(r->uploads, i, e) {
		if (upload_entry_state(e) != UPLOAD_UPLOADED)
			all = 0;
	}
	/* Asked for accounts only: the file goes once all hold it. */
	if (final && all && !c->keep_file && r->file_uri != NULL &&
	    pcapfile_remove(sess_rootfd, r->file) == 0) {
		sess_file_gone(r->bytes, FILE_GONE_UPLOADED);
		record_file_deleted(r, "uploaded to every account asked for");
		log_info("capture %s: uploaded everywhere; local file removed",
		    name);
	}
	cap_publish(c, 0, NULL);
}

/*
 * Hands the unfinished uploads of list (a capture's, or file seq's of a
 * ring) of the file at relpath to the uploader.
 */
static void
cap_submit_list(struct session *c, json_t *list, const char *relpath,
    uint32_t seq, void *tag)
{
	struct upload_spec	 spec;
	json_t			*e;
	char			*path;
	size_t			 i;

	path = xasprintf("%s/%s", sess_root, relpath);
	json_array_foreach(list, i, e) {
		if (upload_entry_state(e) != UPLOAD_PENDING &&
		    upload_entry_state(e) != UPLOAD_UPLOADING)
			continue;
		spec.capture = c->rec->name;
		spec.account = json_string_value(json_object_get(e, "account"));
		spec.path = path;
		spec.node = sess_node;
		spec.created_us = c->rec->created_at;
		spec.seq = seq;
		spec.entry = e;
		upload_submit(&spec, cap_upload_news, tag);
	}
	free(path);
}

/* A complete file of a ring: its unfinished uploads to the uploader. */
static void
cap_submit_file_uploads(struct session *c, json_t *file)
{
	if (ring_is(file, "Complete"))
		cap_submit_list(c, json_object_get(file, "uploads"),
		    json_string_value(json_object_get(file, "path")),
		    (uint32_t)json_integer_value(json_object_get(file, "seq")),
		    (void *)(uintptr_t)json_integer_value(json_object_get(file,
		    "seq")));
}

/* Hands every unfinished upload of a finished capture to the uploader. */
static void
cap_submit_uploads(struct session *c)
{
	json_t	*e, *snaps = c->rec->snapshots;
	size_t	 i;

	if (json_array_size(json_object_get(snaps, "uploads")) > 0)
		cap_submit_list(c, json_object_get(snaps, "uploads"),
		    json_string_value(json_object_get(snaps, "path")), 0,
		    CAP_CONTEXT_TAG);
	if (c->file_count != 0) {
		json_array_foreach(c->rec->files, i, e)
			cap_submit_file_uploads(c, e);
		return;
	}
	if (c->rec->file_uri == NULL)
		return;
	cap_submit_list(c, c->rec->uploads, c->rec->file, 0, NULL);
}

/*
 * A write to the capture's file failed (the disk is full, say): the writer
 * has cut the file after its last whole record; record the error once and
 * end the capture in Error. Other captures and the daemon go on.
 */
static void	cap_stop(struct session *, enum cap_status, enum stop_reason,
		    const char *);

static void
cap_write_failed(struct session *c, const char *file, int err,
    uint64_t packets)
{
	char	*msg;

	msg = xasprintf("writing %s: %s; the file keeps the %" PRIu64
	    " whole packets written before", file, strerror(err), packets);
	log_error("capture %s: %s", c->rec->name, msg);
	record_error(c->rec, ERR_LOCAL_FILE_FAILED, msg);
	free(msg);
	c->write_failed = 1;
}

static void
cap_file_failed(struct session *c, int stop)
{
	cap_write_failed(c, c->rec->file, errno, c->w != NULL ?
	    c->w->packets : 0);
	if (stop)
		cap_stop(c, CAP_ERROR, STOP_NONE, "the capture file could not "
		    "be written");
}

/*
 * Releases what a running capture holds and closes its file; 1 if the
 * file is to be committed (made durable under its final name).
 */
static int
cap_finish(struct session *c)
{
	struct record		*r = c->rec;
	struct capture_stats	 st = { 0, 0, 0 };
	struct pcapng_stats	 fst;

	if (c->sink != NULL) {
		capture_get_stats(c->sink, &st, 1);
		r->kernel_drops = st.kernel_drops;
		r->if_drops = st.if_drops;
		capture_detach(c->sink);
		c->sink = NULL;
	}
	if (c->timer != NULL) {
		event_free(c->timer);
		c->timer = NULL;
	}
	if (c->later_ev != NULL) {
		event_free(c->later_ev);
		c->later_ev = NULL;
	}
	if (c->w == NULL) {
		if (c->file_count != 0) {	/* ended between two files */
			r->packets = c->prev_packets;
			r->bytes = c->prev_bytes;
		}
		return (0);
	}
	if (c->file_count != 0) {	/* the ring's last file */
		/* A failure is recorded; the outcome comes to cap_committed. */
		(void)ring_close(c, &st, &c->io_res);
		r->packets = c->prev_packets;
		r->bytes = c->prev_bytes;
		r->sha256[0] = '\0';
		sess_stats.packets += r->packets;
		sess_stats.bytes += r->bytes;
		sess_stats.kernel_drops += r->kernel_drops;
		sess_stats.if_drops += r->if_drops;
		return (1);
	}
	fst.start_ns = r->started_at * 1000;
	fst.end_ns = (c->end_us != 0 ? c->end_us : now_us()) * 1000;
	fst.received = st.received;
	fst.if_drops = r->if_drops;
	fst.os_drops = r->kernel_drops;
	/* A write that failed before was recorded where it failed. */
	if (!c->w->failed && (pcapw_end(c->w, &fst) == -1 ||
	    pcapw_flush(c->w) == -1))
		cap_file_failed(c, 0);
	r->packets = c->w->packets;
	r->bytes = c->w->bytes;
	/* The digest (or a last write's failure) comes to cap_committed. */
	r->sha256[0] = '\0';
	c->io_res = pcapw_close_later(c->w);
	c->w = NULL;
	sess_stats.packets += r->packets;
	sess_stats.bytes += r->bytes;
	sess_stats.kernel_drops += r->kernel_drops;
	sess_stats.if_drops += r->if_drops;
	return (1);
}

/*
 * On the worker: the file's last writes and digest from the file thread,
 * then the file to disk and to its name. Touches c->sync_err and c->io_out.
 */
static void
cap_commit_work(void *arg)
{
	struct session	*c = arg;

	io_result_wait(c->io_res, &c->io_out);
	if (pcapfile_commit(sess_rootfd, c->rec->file, c->file_ino,
	    &c->sync_err) == -1 &&
	    c->sync_err == NULL)
		c->sync_err = xstrdup("commit failed");
}

/*
 * A file's outcome, back on the loop: its digest (*sha256, new: a string,
 * or null when not hashing), and a write that failed on the file thread
 * recorded, with what the file keeps in *packets and *bytes, taken off
 * the capture's totals (a ring's) and, once the capture's traffic is
 * counted (it has ended), off that.
 */
static void
cap_take_outcome(struct session *c, const char *file,
    const struct io_outcome *o, json_t **sha256, uint64_t *packets,
    uint64_t *bytes, uint64_t *total_packets, uint64_t *total_bytes,
    int counted)
{
	uint64_t	dp, db;

	*sha256 = o->sha256[0] != '\0' ? json_string(o->sha256) : json_null();
	if (o->err == 0)
		return;
	if (!c->write_failed)
		cap_write_failed(c, file, o->err, o->packets);
	dp = *packets > o->packets ? *packets - o->packets : 0;
	db = *bytes > o->bytes ? *bytes - o->bytes : 0;
	*packets -= dp;
	*bytes -= db;
	if (counted) {
		sess_stats.packets -= dp;
		sess_stats.bytes -= db;
	}
	if (total_packets != NULL) {
		*total_packets -= dp;
		*total_bytes -= db;
	}
}

/*
 * cap_take_outcome for a ring's file, listed as e: its entry, the ring's
 * totals, and the record's once the ring has ended.
 */
static void
ring_take_outcome(struct session *c, json_t *e, const struct io_outcome *o)
{
	json_t		*sha;
	uint64_t	 p, b;

	p = (uint64_t)json_integer_value(json_object_get(e, "packets"));
	b = (uint64_t)json_integer_value(json_object_get(e, "bytes"));
	cap_take_outcome(c, json_string_value(json_object_get(e, "path")), o,
	    &sha, &p, &b, &c->prev_packets, &c->prev_bytes, c->w == NULL);
	json_object_set_new(e, "sha256", sha);
	json_object_set_new(e, "packets", json_integer((json_int_t)p));
	json_object_set_new(e, "bytes", json_integer((json_int_t)b));
	if (c->w == NULL) {
		c->rec->packets = c->prev_packets;
		c->rec->bytes = c->prev_bytes;
	}
}

/* cap_take_outcome for the last file of c (a ring's: its entry). */
static void
cap_take_last(struct session *c)
{
	struct record	*r = c->rec;
	json_t		*e, *sha;

	if (c->io_res == NULL)
		return;
	if (c->file_count == 0) {
		cap_take_outcome(c, r->file, &c->io_out, &sha, &r->packets,
		    &r->bytes, NULL, NULL, 1);
		if (json_is_string(sha))
			snprintf(r->sha256, sizeof r->sha256, "%s",
			    json_string_value(sha));
		json_decref(sha);
	} else if ((e = ring_entry(r, c->seq)) != NULL)
		ring_take_outcome(c, e, &c->io_out);
	io_result_free(c->io_res);
	c->io_res = NULL;
}

/*
 * A deleted ring: its files on disk go with it, or stay counted as a
 * forgotten capture's, each (the last one once its commit is done).
 */
static void
ring_forget(struct session *c, int just_committed)
{
	struct state_orphan	 o;
	json_t			*e;
	size_t			 i;
	char			*cause = NULL;

	json_array_foreach(c->rec->files, i, e) {
		if (!ring_is(e, "Complete") && !(just_committed &&
		    ring_is(e, "Closing") && (uint32_t)json_integer_value(
		    json_object_get(e, "seq")) == c->seq))
			continue;
		if (c->delete_file) {
			ring_delete(e, FILE_GONE_DELETED, "deleted");
			continue;
		}
		o.path = json_string_value(json_object_get(e, "path"));
		o.bytes = (uint64_t)json_integer_value(json_object_get(e,
		    "bytes"));
		o.at = c->rec->stopped_at != 0 ? c->rec->stopped_at : now_us();
		if (state_orphan_put(&o, &cause) == -1) {
			free(cause);	/* counted until the next start */
			cause = NULL;
		}
		sess_orphan_add(o.path, o.bytes, o.at);
	}
}

/*
 * A deleted capture, its file final: the file goes with it, or stays
 * counted as a forgotten capture's. Frees c.
 */
static void
cap_forgotten(struct session *c, int just_committed)
{
	struct record		*r = c->rec;
	struct state_orphan	 o;
	char			*cause = NULL;

	if (c->file_count != 0) {
		ring_forget(c, just_committed);
		cap_free(c);
		return;
	}
	if (r->file == NULL || (r->file_uri == NULL && !just_committed))
		;	/* no file, or counted already (session_delete) */
	else if (c->delete_file) {
		sess_file_gone(r->bytes, FILE_GONE_DELETED);
		sess_unlink_later(r->file);
	} else if (just_committed) {	/* stopped by the delete */
		o.path = r->file;
		o.bytes = r->bytes;
		o.at = c->end_us;
		if (state_orphan_put(&o, &cause) == -1)
			free(cause);	/* counted until the next start */
		sess_orphan_add(o.path, o.bytes, o.at);
	}
	cap_free(c);
}

/* Back on the loop: the file is durable (or failed); now the record. */
static void
cap_committed(void *arg)
{
	struct session	*c = arg;
	struct record	*r = c->rec;
	json_t		*e;

	c->syncing = 0;
	cap_take_last(c);
	if (c->sync_err != NULL)
		log_error("capture %s: %s", r->name, c->sync_err);
	if (c->deleted) {	/* off the list, its record gone: done */
		cap_forgotten(c, c->sync_err == NULL);
		return;
	}
	if (c->name_err != NULL) {
		/* Recorded as it failed: the commit's failure follows. */
		c->end_status = CAP_ERROR;
		free(c->sync_err);
		c->sync_err = NULL;
	} else if (c->sync_err != NULL) {
		record_error(r, ERR_LOCAL_FILE_FAILED, c->sync_err);
		free(c->sync_err);
		c->sync_err = NULL;
	} else if (c->file_count != 0) {
		if ((e = ring_entry(r, c->seq)) != NULL)
			ring_file_done(c, e);
	} else {
		r->file_uri = xasprintf("file://%s/%s", sess_root, r->file);
		cap_add_uploads(c);
	}
	cap_set_state(c, c->end_status, c->end_reason, c->end_msg, NULL);
	free(c->end_msg);
	c->end_msg = NULL;
}

/*
 * Stops a running capture; safe inside its own packet callback. Its file
 * is fsynced off the loop, and the record says Stopped (or Error) once the
 * file is durable: c->syncing until then.
 */
static void
cap_stop(struct session *c, enum cap_status st, enum stop_reason why,
    const char *msg)
{
	if (c->rec->status != CAP_RUNNING || c->syncing)
		return;
	cap_cut_finish(c, 1);	/* a capture with a past keeps all of it */
	c->end_us = now_us();
	cap_context(c, 1);
	if (!cap_finish(c)) {
		if (c->deleted)
			cap_free(c);
		else
			cap_set_state(c, st, why, msg, NULL);
		return;
	}
	c->syncing = 1;
	c->end_status = st;
	c->end_reason = why;
	c->end_msg = msg != NULL ? xstrdup(msg) : NULL;
	worker_submit(cap_commit_work, cap_committed, c);
}

/*
 * Continuous capture: a ring of files. The file being written is
 * c->rec->file, so crash repair finds it as it finds a single capture's.
 * Each closed file is made durable on the worker, listed in the record's
 * files with its own uploads, and the oldest go once more than file_count
 * are complete, unless an upload still needs one (it is held).
 */

/* The files[] entry numbered seq, or NULL. */
static json_t *
ring_entry(const struct record *r, uint32_t seq)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(r->files, i, e) {
		if (json_integer_value(json_object_get(e, "seq")) == seq)
			return (e);
	}
	return (NULL);
}

static int
ring_is(json_t *e, const char *state)
{
	const char	*s = json_string_value(json_object_get(e, "state"));

	return (s != NULL && strcmp(s, state) == 0);
}

/* 1 once every upload of a file is done (or none was asked for). */
static int
ring_uploads_final(json_t *e, int *all_uploaded)
{
	json_t	*u;
	size_t	 i;
	int	 final = 1;

	*all_uploaded = json_array_size(json_object_get(e, "uploads")) > 0;
	json_array_foreach(json_object_get(e, "uploads"), i, u) {
		if (upload_entry_state(u) == UPLOAD_PENDING ||
		    upload_entry_state(u) == UPLOAD_UPLOADING)
			final = 0;
		if (upload_entry_state(u) != UPLOAD_UPLOADED)
			*all_uploaded = 0;
	}
	return (final);
}

/* Marks a file of the ring deleted: its entry stays, saying when, why. */
static void
ring_mark(json_t *e, const char *why)
{
	char	ts[40];

	json_object_set_new(e, "state", json_string("Deleted"));
	json_object_set_new(e, "uri", json_null());
	json_object_set_new(e, "deleted_at", json_string(time_rfc3339(ts,
	    sizeof ts, now_us())));
	json_object_set_new(e, "deleted_reason", json_string(why));
}

/* A file of the ring leaves the disk. */
static void
ring_delete(json_t *e, enum file_gone gone, const char *why)
{
	sess_unlink_later(json_string_value(json_object_get(e, "path")));
	sess_file_gone((uint64_t)json_integer_value(json_object_get(e,
	    "bytes")), gone);
	ring_mark(e, why);
}

/*
 * Keeps the ring within file_count complete files, the oldest going
 * first, but not one an upload still needs. Files asked for only in
 * storage accounts go once every account holds them.
 */
static void
ring_trim(struct session *c)
{
	json_t	*e;
	size_t	 i, complete = record_files_complete(c->rec);
	int	 all;

	json_array_foreach(c->rec->files, i, e) {
		if (!ring_is(e, "Complete") || !ring_uploads_final(e, &all))
			continue;
		if (!c->keep_file && all) {
			ring_delete(e, FILE_GONE_UPLOADED, "uploaded to every "
			    "account asked for");
			complete--;
		} else if (complete > c->file_count) {
			ring_delete(e, FILE_GONE_RING, "continuous.file_count: "
			    "the oldest file goes");
			complete--;
		}
	}
}

/* The bytes of a continuous capture's files still on disk. */
static uint64_t
ring_local_bytes(const struct record *r)
{
	json_t		*e;
	size_t		 i;
	uint64_t	 n = 0;

	json_array_foreach(r->files, i, e) {
		if (!ring_is(e, "Deleted"))
			n += (uint64_t)json_integer_value(json_object_get(e,
			    "bytes"));
	}
	return (n);
}

/* A spare file being made on the worker for relpath's directory. */
struct sess_spare {
	char	*relpath;
	int	 fd;
};

static void
sess_spare_make(void *arg)
{
	struct sess_spare	*sp = arg;

	sp->fd = pcapfile_spare_make(sess_rootfd, sp->relpath);
}

static void
sess_spare_made(void *arg)
{
	struct sess_spare	*sp = arg;

	pcapfile_spare_put(sp->relpath, sp->fd);
	free(sp->relpath);
	free(sp);
}

/* Has the worker make the spare files relpath's directory wants. */
static void
sess_spares_refill(const char *relpath)
{
	struct sess_spare	*sp;

	while (pcapfile_spare_wanted(relpath)) {
		sp = xcalloc(1, sizeof *sp);
		sp->relpath = xstrdup(relpath);
		worker_submit_spare(sess_spare_make, sess_spare_made, sp);
	}
}

/* A capture's file being given its name on the worker (pcapfile_name). */
struct sess_name {
	char		*capture;	/* whose: its name and serial */
	uint64_t	 serial;
	char		*relpath;
	int		 fd;
	char		*err;
};

static void
sess_name_work(void *arg)
{
	struct sess_name	*j = arg;

	if (pcapfile_name(sess_rootfd, j->relpath, j->fd, &j->err) == -1 &&
	    j->err == NULL)
		j->err = xstrdup("cannot be named");
}

/*
 * A file that could not be named (its name taken since, or the directory
 * full) ends its capture in Error: it still runs, or it is being made
 * durable, which then fails as the file has no name (cap_committed).
 */
static void
sess_name_done(void *arg)
{
	struct sess_name	*j = arg;
	struct session		*c;

	if (j->err != NULL && (c = cap_find(j->capture)) != NULL &&
	    c->serial == j->serial && c->name_err == NULL) {
		c->name_err = xasprintf("storage.file: %s", j->err);
		log_error("capture %s: %s", c->rec->name, c->name_err);
		record_error(c->rec, ERR_LOCAL_FILE_FAILED, c->name_err);
		c->write_failed = 1;	/* nothing of the file stays */
		cap_stop(c, CAP_ERROR, STOP_NONE, c->name_err);
	}
	free(j->capture);
	free(j->relpath);
	free(j->err);
	free(j);
}

/*
 * c's next file at relpath (pcapfile_create), and the next one's spare.
 * A spare is named on the worker, before anything there takes the file
 * by its name: the loop never waits for the directory.
 */
static struct pcapw *
cap_file_create(struct session *c, const char *relpath,
    const struct pcapw_desc *desc, char **cause)
{
	struct sess_name	*j;
	struct pcapw		*w;
	int			 toname;

	if ((w = pcapfile_create(sess_rootfd, relpath, desc, &toname,
	    cause)) == NULL)
		return (NULL);
	c->file_ino = w->ino;
	if (toname != -1) {
		j = xcalloc(1, sizeof *j);
		j->capture = xstrdup(c->rec->name);
		j->serial = c->serial;
		j->relpath = xstrdup(relpath);
		j->fd = toname;
		worker_submit_first(sess_name_work, sess_name_done, j);
	}
	sess_spares_refill(relpath);
	return (w);
}

/* Opens the ring's next file, c->seq, and lists it. -1 with *cause. */
static int
ring_open(struct session *c, char **cause)
{
	json_t	*e;
	char	*path;

	path = xasprintf("%s_%06u.%s", c->stem, c->seq,
	    pcapfmt_ext(c->desc.format));
	c->desc.limit = c->file_size;
	if ((c->w = cap_file_create(c, path, &c->desc, cause)) == NULL) {
		free(path);
		return (-1);
	}
	free(c->rec->file);
	c->rec->file = path;
	c->file_start_us = now_us();
	c->file_first_ns = c->file_last_ns = 0;
	if (c->sink != NULL)
		capture_get_stats(c->sink, &c->file_base, 1);
	e = json_pack("{s:I, s:s, s:n, s:s, s:n, s:n, s:I, s:I, s:n, s:[]}",
	    "seq", (json_int_t)c->seq, "path", path, "uri", "state", "Writing",
	    "first_ts", "last_ts", "packets", (json_int_t)0, "bytes",
	    (json_int_t)c->w->bytes, "sha256", "uploads");
	json_array_append_new(c->rec->files, e);
	return (0);
}

/*
 * Closes the file being written with its statistics block (st: the
 * counters since it opened) and lists what it holds. -1 if the close
 * failed (recorded).
 */
static int
ring_close(struct session *c, const struct capture_stats *st,
    struct io_result **res)
{
	struct pcapng_stats	 fst;
	json_t			*e = ring_entry(c->rec, c->seq);
	char			 ts[40];
	int			 rc = 0;

	fst.start_ns = c->file_start_us * 1000;
	fst.end_ns = now_us() * 1000;
	fst.received = st->received - c->file_base.received;
	fst.if_drops = st->if_drops - c->file_base.if_drops;
	fst.os_drops = st->kernel_drops - c->file_base.kernel_drops;
	if (!c->w->failed && (pcapw_end(c->w, &fst) == -1 ||
	    pcapw_flush(c->w) == -1)) {
		cap_file_failed(c, 0);
		rc = -1;
	}
	c->prev_packets += c->w->packets;
	c->prev_bytes += c->w->bytes;
	json_object_set_new(e, "packets", json_integer((json_int_t)
	    c->w->packets));
	json_object_set_new(e, "bytes", json_integer((json_int_t)c->w->bytes));
	*res = pcapw_close_later(c->w);
	c->w = NULL;
	/* The digest comes with the outcome, when the file is committed. */
	json_object_set_new(e, "sha256", json_null());
	if (c->file_first_ns != 0) {
		json_object_set_new(e, "first_ts", json_string(time_rfc3339(ts,
		    sizeof ts, c->file_first_ns / 1000)));
		json_object_set_new(e, "last_ts", json_string(time_rfc3339(ts,
		    sizeof ts, c->file_last_ns / 1000)));
	}
	json_object_set_new(e, "state", json_string("Closing"));
	return (rc);
}

/* A closed file of the ring, made durable on the worker. */
struct ring_job {
	char			*name;
	uint32_t		 seq;
	char			*path;
	uint64_t		 ino;		/* its file's (pcapfile_commit) */
	char			*err;
	struct io_result	*res;		/* the outcome to wait for */
	struct io_outcome	 out;
};

static void
ring_commit_work(void *arg)
{
	struct ring_job	*j = arg;

	io_result_wait(j->res, &j->out);
	if (pcapfile_commit(sess_rootfd, j->path, j->ino, &j->err) == -1 &&
	    j->err == NULL)
		j->err = xstrdup("commit failed");
}


/* A file of the ring is complete: its entry, uploads, the ring's trim. */
static void
ring_file_done(struct session *c, json_t *e)
{
	json_t	*a, *ups;
	char	*uri;
	size_t	 i;

	uri = xasprintf("file://%s/%s", sess_root, json_string_value(
	    json_object_get(e, "path")));
	json_object_set_new(e, "uri", json_string(uri));
	free(uri);
	json_object_set_new(e, "state", json_string("Complete"));
	ups = json_object_get(e, "uploads");
	if (json_array_size(ups) == 0)
		json_array_foreach(c->accounts, i, a)
			json_array_append_new(ups, upload_entry_new(
			    json_string_value(a)));
	cap_submit_file_uploads(c, e);
	ring_trim(c);
}

static void
ring_committed(void *arg)
{
	struct ring_job	*j = arg;
	struct session	*c;
	json_t		*e;

	if ((c = cap_find(j->name)) != NULL && (e = ring_entry(c->rec,
	    j->seq)) != NULL) {
		ring_take_outcome(c, e, &j->out);
		if (j->err != NULL) {
			log_error("capture %s: %s", j->name, j->err);
			record_error(c->rec, ERR_LOCAL_FILE_FAILED, j->err);
			json_object_set_new(e, "state", json_string("Failed"));
		} else
			ring_file_done(c, e);
		cap_publish(c, 0, NULL);
	}
	io_result_free(j->res);
	free(j->name);
	free(j->path);
	free(j->err);
	free(j);
}

/*
 * The file being written is full: it closes, goes to the worker to be
 * made durable, and the next opens. 0; 1 when the disk budget has no room
 * for the next (*why); -2 when it cannot be made (recorded).
 */
static int
ring_rotate(struct session *c, enum stop_reason *why)
{
	struct capture_stats	 st = { 0, 0, 0 };
	struct sess_usage	 u;
	struct ring_job		*j;
	char			*cause = NULL;

	if (c->sink != NULL)
		capture_get_stats(c->sink, &st, 1);
	j = xcalloc(1, sizeof *j);
	if (ring_close(c, &st, &j->res) == -1) {
		io_result_free(j->res);
		free(j);
		return (-2);
	}
	j->name = xstrdup(c->rec->name);
	j->seq = c->seq++;
	j->path = xstrdup(c->rec->file);
	j->ino = c->file_ino;
	worker_submit(ring_commit_work, ring_committed, j);
	sess_usage(&u);
	if (u.kept_bytes + u.reserved_bytes > sess_limits.max_total_bytes) {
		*why = STOP_BYTES_EXCEEDED;
		record_event(c->rec, "captures.max_total_bytes: files held for "
		    "their uploads leave no room for the next file");
		return (1);
	}
	if (ring_open(c, &cause) == -1) {
		log_error("capture %s: %s", c->rec->name, cause);
		record_error(c->rec, ERR_LOCAL_FILE_FAILED, cause);
		free(cause);
		return (-2);
	}
	cap_publish(c, 0, NULL);
	return (0);
}

/*
 * Writes one packet to the file, from the past or live. 0, or 1 when a
 * limit ends the capture (*why), or -1 when the write failed.
 */
static int
cap_write(struct session *c, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data, enum stop_reason *why)
{
	int	rc;

	if (c->file_count != 0 && !pcapw_fits(c->w, caplen, c->file_size)) {
		if (c->w->packets > 0 && (rc = ring_rotate(c, why)) != 0)
			return (rc);
		/* Larger than a whole file: what of it fits. */
		while (caplen > 0 && !pcapw_fits(c->w, caplen, c->file_size))
			caplen--;
	} else if (!pcapw_fits(c->w, caplen, c->max_bytes)) {
		*why = STOP_BYTES_EXCEEDED;
		return (1);
	}
	if (pcapw_write(c->w, ts, caplen, len, data) == -1)
		return (-1);
	sess_unflushed_add(c);
	if (c->file_first_ns == 0)
		c->file_first_ns = ts;
	c->file_last_ns = ts;
	if (c->max_packets != 0 && c->prev_packets + c->w->packets >=
	    c->max_packets) {
		*why = STOP_PACKETS_EXCEEDED;
		return (1);
	}
	return (0);
}

/* Ends the capture as a write's outcome says. */
static void
cap_written(struct session *c, int rc, enum stop_reason why)
{
	if (rc == -1)
		cap_file_failed(c, 1);
	else if (rc == -2)	/* the ring's next file: recorded already */
		cap_stop(c, CAP_ERROR, STOP_NONE, "the ring's next file could "
		    "not be made");
	else if (rc == 1)
		cap_stop(c, CAP_STOPPED, why, NULL);
}

/* Live packets wait while the past is copied in; this many at most. */
#define SESS_PENDING_MAX	(64 * 1024 * 1024)
/*
 * The past is copied in batches of this many bytes, one a loop turn: at
 * about 700 MiB/s a batch holds the loop (and the answer to the request
 * that made the capture) for about 1.5 ms.
 */
#define SESS_CUT_BATCH		(1024 * 1024)

/* A live packet: into the file, or to wait while the past is copied. */
static void
cap_packet(void *arg, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	struct session		*c = arg;
	struct pcap_rec_pending	 h = { ts, caplen, len };
	enum stop_reason	 why = STOP_NONE;
	int			 rc;

	if (c->cut != NULL) {
		if (dynbuf_add(&c->pending, &h, sizeof h) == 0 &&
		    dynbuf_add(&c->pending, data, caplen) == 0)
			return;
		/* No more room to wait: the rest of the past now, then this. */
		cap_cut_finish(c, 0);
		if (c->rec->status != CAP_RUNNING || c->syncing)
			return;
	}
	rc = cap_write(c, ts, caplen, len, data, &why);
	cap_written(c, rc, why);
}

/* One packet of the past, through the capture's own filter and cut. */
static int
cap_past_packet(void *arg, int64_t ts, uint32_t caplen, uint32_t len,
    const unsigned char *data)
{
	struct session		*c = arg;
	enum stop_reason	 why = STOP_NONE;
	int			 rc;

	if (!capture_sink_match(c->sink, ts, caplen, len, data))
		return (0);
	if (c->snaplen != 0 && caplen > c->snaplen)
		caplen = c->snaplen;
	if ((rc = cap_write(c, ts, caplen, len, data, &why)) == 0) {
		c->rec->lb_packets++;
		c->rec->lb_bytes += pcapw_record_bytes(c->w, caplen);
		return (0);
	}
	c->cut_why = why;
	c->cut_stop = rc;
	return (1);
}

/* Writes the live packets that waited for the past; stops at a limit. */
static int
cap_flush_pending(struct session *c, enum stop_reason *why)
{
	struct pcap_rec_pending	 h;
	size_t			 off = 0;
	int			 rc = 0;

	while (rc == 0 && off + sizeof h <= c->pending.len) {
		memcpy(&h, c->pending.buf + off, sizeof h);
		off += sizeof h;
		rc = cap_write(c, h.ts, h.caplen, h.len,
		    (const unsigned char *)c->pending.buf + off, why);
		off += h.caplen;
	}
	dynbuf_free(&c->pending);
	return (rc);
}

/*
 * The past is in (or a limit came first): the waiting live packets go
 * after it, and the capture goes on live, or stops. quiet: it is being
 * stopped already; only the packets go in.
 */
static void
cap_cut_done(struct session *c, int quiet)
{
	enum stop_reason	 why = STOP_NONE;
	char			*msg, from[40];
	int			 rc = c->cut_stop;

	lookback_cut_free(c->cut);
	c->cut = NULL;
	if (rc == 0)
		rc = cap_flush_pending(c, &why);
	else
		why = c->cut_why;
	dynbuf_free(&c->pending);
	msg = xasprintf("lookback: %" PRIu64 " packets from %s (%.3f s not "
	    "covered)", c->rec->lb_packets, time_rfc3339(from, sizeof from,
	    c->rec->lb_covered), record_gap_s(c->rec));
	log_info("capture %s: %s", c->rec->name, msg);
	record_event(c->rec, msg);
	free(msg);
	if (quiet)
		return;
	if (rc != 0)
		cap_written(c, rc, why);
	else if (c->snapshot)
		cap_stop(c, CAP_STOPPED, STOP_TIME_EXCEEDED, NULL);
	else
		cap_publish(c, 0, NULL);
}

/* One batch of the past a loop turn, so the loop keeps flowing. */
static void
cap_cut_step(evutil_socket_t fd, short events, void *arg)
{
	struct session	*c = arg;
	struct timeval	 now = { 0, 0 };

	if (c->cut == NULL)
		return;
	if (lookback_cut_next(c->cut, SESS_CUT_BATCH, cap_past_packet, c))
		cap_cut_done(c, 0);
	else
		evtimer_add(c->cut_ev, &now);
}

/* The rest of the past at once: the capture stops, or waited too long. */
static void
cap_cut_finish(struct session *c, int quiet)
{
	if (c->cut == NULL)
		return;
	while (!lookback_cut_next(c->cut, SIZE_MAX, cap_past_packet, c))
		;
	cap_cut_done(c, quiet);
}

/*
 * A capture that begins in the past: fixes where its past ends (what the
 * ring holds now) before any live packet arrives, and starts copying.
 */
static void
cap_cut_begin(struct session *c, const struct capture_params *p)
{
	/*
	 * The answer to the request goes out before the first batch: a
	 * batch due in the loop turn that writes the answer would run first.
	 */
	struct timeval	 first = { 0, 20000 };
	struct lb_ring	*ring;
	int64_t		 from, oldest;

	c->rec->has_lookback = 1;
	c->rec->lb_requested = p->from_us != 0 ? p->from_us :
	    c->rec->created_at - (int64_t)p->lookback_s * 1000000;
	from = c->rec->lb_requested;
	oldest = now_us() - (int64_t)sess_plimits.max_lookback_s * 1000000;
	if (from < oldest)
		from = oldest;		/* lookback.max_s bounds a from */
	ring = lookback_find(p->interface);
	capture_sink_take_all(c->sink);
	c->cut = lookback_cut_begin(ring, from, &c->rec->lb_covered,
	    &c->rec->lb_gap_us);
	c->rec->lb_gap_us += from - c->rec->lb_requested; /* beyond max_s */
	if (record_gap_s(c->rec) > 0) {
		sess_stats.lookback_gaps++;
		log_msg(ring == NULL ? LOG_LVL_INFO : LOG_LVL_WARN, "capture %s: "
		    "%.3f s of the past asked for are not covered: %s",
		    c->rec->name, record_gap_s(c->rec), ring == NULL ?
		    "the interface has no lookback ring" : "the ring does not "
		    "reach back so far");
	}
	dynbuf_init(&c->pending, SESS_PENDING_MAX);
	c->snaplen = p->snaplen;
	c->snapshot = p->time_limit_s == 0;
	c->cut_ev = evtimer_new(sess_base, cap_cut_step, c);
	evtimer_add(c->cut_ev, &first);
}

static void
cap_capture_error(void *arg, const char *why)
{
	struct session	*c = arg;

	record_error(c->rec, ERR_CAPTURE_FAILED, why);
	cap_stop(c, CAP_ERROR, STOP_NONE, why);
}

/*
 * The time limit. The loop's timers run on the monotonic clock and may
 * fire a little early by the wall clock the record uses: then wait out
 * the rest, so stopped_at - started_at is never below the limit.
 */
static void
cap_timer(evutil_socket_t fd, short events, void *arg)
{
	struct session	*c = arg;
	struct timeval	 tv;
	int64_t		 left;

	left = c->rec->started_at + c->time_limit_us - now_us();
	if (left > 0) {
		tv.tv_sec = (time_t)(left / 1000000);
		tv.tv_usec = (suseconds_t)(left % 1000000);
		evtimer_add(c->timer, &tv);
		return;
	}
	cap_stop(c, CAP_STOPPED, STOP_TIME_EXCEEDED, NULL);
}

void
session_add_observer(session_observer_fn fn, void *arg)
{
	int	i;

	for (i = 0; i < SESS_MAX_OBSERVERS; i++) {
		if (sess_observers[i].fn == NULL) {
			sess_observers[i].fn = fn;
			sess_observers[i].arg = arg;
			return;
		}
	}
	fatal("session: more than %d observers", SESS_MAX_OBSERVERS);
}

void
session_remove_observer(session_observer_fn fn, void *arg)
{
	int	i;

	for (i = 0; i < SESS_MAX_OBSERVERS; i++)
		if (sess_observers[i].fn == fn && sess_observers[i].arg == arg)
			sess_observers[i].fn = NULL;
}

void
session_foreach(session_observer_fn fn, void *arg)
{
	struct session	*c;

	TAILQ_FOREACH(c, &sess_all, entry)
		fn(c->rec->name, c->rec, arg);
}

enum sess_result
session_admit(const struct sess_usage *u, const struct sess_limits *l,
    uint64_t max_bytes, char **cause)
{
	if (u->running >= l->max_concurrent) {
		*cause = xasprintf("captures.max_concurrent: %lld captures "
		    "are running already", u->running);
		return (SESS_LIMITED);
	}
	if (u->kept_bytes > l->max_total_bytes ||
	    u->reserved_bytes > l->max_total_bytes - u->kept_bytes ||
	    max_bytes > l->max_total_bytes - u->kept_bytes -
	    u->reserved_bytes) {
		*cause = xasprintf("captures.max_total_bytes: %" PRIu64
		    " bytes kept and %" PRIu64 " reserved by running captures "
		    "leave no room for %" PRIu64 " more (limit %" PRIu64 ")",
		    u->kept_bytes, u->reserved_bytes, max_bytes,
		    l->max_total_bytes);
		return (SESS_LIMITED);
	}
	return (SESS_OK);
}

/*
 * What a running capture counts against captures.max_total_bytes: its
 * byte limit; a ring, its files' bound, or more while files wait for
 * their uploads.
 */
static uint64_t
cap_reserve(const struct session *c)
{
	uint64_t	ring, held;

	if (c->file_count == 0)
		return (c->max_bytes);
	ring = (uint64_t)c->file_count * c->file_size;
	held = ring_local_bytes(c->rec) + c->file_size;
	return (held > ring ? held : ring);
}

static void
sess_usage(struct sess_usage *u)
{
	struct session	*c;

	u->running = sess_nlive;
	u->reserved_bytes = sess_reserved;
	TAILQ_FOREACH(c, &sess_rings, ring_entry)
		u->reserved_bytes += cap_reserve(c);
	u->kept_bytes = sess_kept + sess_orphan_bytes;
}

json_t *
session_budget(void)
{
	struct sess_usage	u;
	uint64_t		used, max = sess_limits.max_total_bytes;

	sess_usage(&u);
	used = u.kept_bytes + u.reserved_bytes;
	return (json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "max_total_bytes", (json_int_t)max,
	    "kept_bytes", (json_int_t)u.kept_bytes,
	    "reserved_bytes", (json_int_t)u.reserved_bytes,
	    "free_bytes", (json_int_t)(used < max ? max - used : 0),
	    "running", (json_int_t)u.running,
	    "max_concurrent", (json_int_t)sess_limits.max_concurrent));
}

/*
 * Checks where a new capture's file would go: its directories inside the
 * root (made if missing, never through a symlink), and no file there yet.
 */
static enum sess_result
cap_check_file(const char *relpath, char **cause)
{
	char	*why = NULL;

	switch (pcapfile_taken(sess_rootfd, relpath, &why)) {
	case -1:
		*cause = xasprintf("storage.file: %s", why);
		free(why);
		return (SESS_INVALID);
	case 1:
		*cause = xasprintf("storage.file: '%s' exists already",
		    relpath);
		return (SESS_CONFLICT);
	}
	return (SESS_OK);
}

/* Forgets a capture that never started (its record and its file). */
static void
cap_abandon(struct session *c)
{
	char	*cause = NULL;

	if (c->w != NULL) {
		/* Its outcome is not wanted: the loop does not wait for it. */
		io_result_free(pcapw_close_later(c->w));
		c->w = NULL;
		sess_unlink_submit(c->rec->file, 1, c->file_ino);
	}
	if (state_delete(c->rec->name, NULL, &cause) == -1)
		free(cause);
	sess_unlink(c);
	cap_free(c);
}

/*
 * What a pcapng file says of the capture in its section comment: a line
 * to read, then the trigger and the parameters as the record has them.
 */
static char *
cap_comment(const struct session *c)
{
	const struct record	*r = c->rec;
	char			*trig, *params, *s, ts[40];

	trig = json_dumps(r->trigger, JSON_COMPACT | JSON_SORT_KEYS);
	params = json_dumps(r->params, JSON_COMPACT | JSON_SORT_KEYS);
	s = xasprintf("alertcap capture %s on node %s, created %s\n"
	    "trigger: %s\nparameters: %s", r->name, r->node,
	    time_rfc3339(ts, sizeof ts, r->created_at), trig != NULL ? trig :
	    "{}", params != NULL ? params : "{}");
	free(trig);
	free(params);
	return (s);
}

/*
 * The host's context beside a capture: a snapshot of its namespace at
 * start and at stop, taken and written on the worker (a busy host's
 * sockets take a while to dump) to NAME_CREATED.context.json beside the
 * file; the record's snapshots says where and how much each held.
 */
struct ctx_job {
	char		*name;
	int		 stop;
	int		 has_ns;
	struct nstarget	 ns;
	char		*path;		/* the context file, below the root */
	json_t		*start;		/* at stop: the start's, owned */
	json_t		*snap;		/* the worker's */
	char		*err;
	int64_t		 asked;		/* us: the snapshot is from then on */
};

/*
 * Writes o to relpath below the root, whole or not at all (durable with
 * sync). The text is made first and written at once: json_dumpfd writes
 * each token with its own write(2), some 400 calls per snapshot.
 */
static int
ctx_write(const char *relpath, json_t *o, int sync, char **cause)
{
	const char	*base;
	char		*tmp, *text;
	int		 dirfd, fd = -1, rc = -1;

	if ((text = json_dumps(o, JSON_INDENT(1) | JSON_SORT_KEYS)) == NULL) {
		*cause = xasprintf("%s: cannot write the JSON", relpath);
		return (-1);
	}
	if ((dirfd = pcapfile_dir(sess_rootfd, relpath, 1, &base,
	    cause)) == -1) {
		free(text);
		return (-1);
	}
	tmp = xasprintf("%s.part", base);
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_NOFOLLOW | O_CLOEXEC, 0640)) == -1 ||
	    write_all(fd, text, strlen(text)) == -1 ||
	    (sync && fsync(fd) == -1) ||
	    renameat(dirfd, tmp, dirfd, base) == -1)
		*cause = xasprintf("%s: %s", relpath, strerror(errno));
	else
		rc = 0;
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlinkat(dirfd, tmp, 0);
	free(tmp);
	free(text);
	close(dirfd);
	return (rc);
}

static void
ctx_work(void *arg)
{
	struct ctx_job	*j = arg;
	json_t		*o;
	char		*why = NULL;

	j->snap = context_snapshot(j->has_ns ? &j->ns : NULL,
	    sess_ctx_sockets, j->asked, &j->err);
	o = json_pack("{s:s}", "capture", j->name);
	if (j->start != NULL)
		json_object_set(o, "start", j->start);
	json_object_set_new(o, j->stop ? "stop" : "start", j->snap != NULL ?
	    json_incref(j->snap) : json_pack("{s:s}", "error", j->err));
	/*
	 * The start's file is made durable with the stop's, which rewrites
	 * it once the capture file is final: until then it is as durable
	 * as the capture's own packets (a crash of the daemon keeps both),
	 * and an alert storm's worker does half the fsyncs.
	 */
	if (ctx_write(j->path, o, j->stop, &why) == -1 && j->err == NULL)
		j->err = why;
	else
		free(why);
	json_decref(o);
}

/*
 * The start snapshot in the file's section comment: the header held for
 * it is written now, and a ring's later files say the same.
 */
static void
cap_context_note(struct session *c, const struct ctx_job *j)
{
	char	*note, *comment;

	if (c->desc.hold_note == NULL)
		return;
	note = context_note(j->snap, j->err, j->path, PCAPW_NOTE_MAX);
	if (c->w != NULL && c->rec->status == CAP_RUNNING &&
	    pcapw_release(c->w, note) == -1)
		cap_file_failed(c, 1);
	comment = xasprintf("%s\n%s", c->desc_str[0], note);
	free(c->desc_str[0]);
	c->desc.info.comment = c->desc_str[0] = comment;
	c->desc.hold_note = NULL;
	free(c->desc_str[4]);
	c->desc_str[4] = NULL;
	free(note);
}

static void
ctx_done(void *arg)
{
	struct ctx_job	*j = arg;
	struct session	*c;
	json_t		*snaps, *ups, *a;
	char		*uri;
	size_t		 i;

	if ((c = cap_find(j->name)) != NULL) {
		if (c->rec->snapshots == NULL) {
			uri = xasprintf("file://%s/%s", sess_root, j->path);
			c->rec->snapshots = json_pack("{s:s, s:s}", "file", uri,
			    "path", j->path);
			free(uri);
		}
		snaps = c->rec->snapshots;
		json_object_set_new(snaps, j->stop ? "stop" : "start",
		    j->snap != NULL ? context_summary(j->snap) :
		    json_pack("{s:s}", "error", j->err));
		if (j->err != NULL)
			log_warn("capture %s: context at %s: %s", j->name,
			    j->stop ? "stop" : "start", j->err);
		if (!j->stop && j->snap != NULL) {
			json_decref(c->ctx_start);
			c->ctx_start = json_incref(j->snap);
		}
		if (!j->stop)
			cap_context_note(c, j);
		if (j->stop && c->accounts != NULL) {	/* with the capture */
			ups = json_array();
			json_array_foreach(c->accounts, i, a)
				json_array_append_new(ups, upload_entry_new(
				    json_string_value(a)));
			json_object_set_new(snaps, "uploads", ups);
			cap_submit_list(c, ups, j->path, 0, CAP_CONTEXT_TAG);
		}
		cap_publish_later(c);
	}
	json_decref(j->snap);
	json_decref(j->start);
	netns_clear(&j->ns);
	free(j->name);
	free(j->path);
	free(j->err);
	free(j);
}

/* Where c's context goes, below the root: its file's name (new). */
static char *
cap_context_path(const struct session *c)
{
	const char	*f = c->stem != NULL ? c->stem : c->rec->file;
	const char	*dot = strrchr(f, '.');

	if (c->stem != NULL || dot == NULL || strchr(dot, '/') != NULL)
		dot = f + strlen(f);
	return (xasprintf("%.*s.context.json", (int)(dot - f), f));
}

/* Queues c's context snapshot at its start or its stop. */
static void
cap_context(struct session *c, int stop)
{
	struct ctx_job	*j;

	if (!c->context || (c->stem == NULL && c->rec->file == NULL))
		return;
	j = xcalloc(1, sizeof *j);
	j->name = xstrdup(c->rec->name);
	j->stop = stop;
	j->asked = now_us();
	if ((j->has_ns = c->has_ns))
		netns_copy(&j->ns, &c->ns);
	j->path = cap_context_path(c);
	if (stop && c->ctx_start != NULL)
		j->start = json_incref(c->ctx_start);
	worker_submit(ctx_work, ctx_done, j);
}

/*
 * Opens the file and attaches to the interface (in namespace ns, or NULL:
 * the daemon's): NotStarted -> Running.
 */
static enum sess_result
cap_start(struct session *c, struct capture_params *p,
    const struct nstarget *ns, char **cause)
{
	static const struct capsink_cbs cbs = { cap_packet, cap_capture_error };
	enum capture_err	 err;
	struct pcapw_desc	*desc;
	struct timeval		 tv;
	char			*ctx;
	int			 linktype;

	c->sink = capture_attach(ns, p->interface, p->expr, p->snaplen, &cbs,
	    c, &linktype, &err, cause);
	if (c->sink == NULL) {
		if (err == CAPTURE_NO_DEVICE || err == CAPTURE_BAD_FILTER)
			return (SESS_INVALID);
		record_error(c->rec, ERR_CAPTURE_FAILED, *cause);
		cap_set_state(c, CAP_ERROR, STOP_NONE, *cause, NULL);
		return (SESS_FAILED);
	}
	/* Network Watcher's filters alone: tested by compares, not BPF. */
	if (p->filters != NULL && (p->bpf == NULL || *p->bpf == '\0'))
		capture_sink_classify(c->sink, filter_compile(p->filters));
	c->rec->resolved = ns != NULL ? netns_json(ns) : json_object();
	json_object_set_new(c->rec->resolved, "ifindex",
	    json_integer(capture_ifindex(c->sink)));
	desc = &c->desc;
	desc->format = p->format;
	desc->hash = sess_hash_files;
	desc->offload = 1;
	desc->limit = p->max_bytes;
	desc->info.linktype = linktype;
	desc->info.snaplen = p->snaplen;
	desc->info.comment = c->desc_str[0] = cap_comment(c);
	desc->info.if_name = c->desc_str[1] = xstrdup(p->interface);
	desc->info.if_description = c->desc_str[2] = xasprintf("%s on node %s",
	    p->interface, sess_node);
	desc->info.if_filter = c->desc_str[3] = xstrdup(p->expr);
	free(c->rec->expression);
	c->rec->expression = xstrdup(p->expr);
	if ((c->context = p->context) && (c->stem != NULL || c->rec->file !=
	    NULL)) {
		/* The file's header waits a while for the start's context. */
		ctx = cap_context_path(c);
		desc->hold_note = c->desc_str[4] = xasprintf("context: %s "
		    "holds the snapshots at start and stop", ctx);
		c->hold_until_us = now_us() + SESS_HOLD_US;
		free(ctx);
	}
	if (c->file_count != 0) {
		if (ring_open(c, cause) == -1)
			c->w = NULL;
	} else
		c->w = cap_file_create(c, c->rec->file, desc, cause);
	if (c->w == NULL) {
		capture_detach(c->sink);
		c->sink = NULL;
		record_error(c->rec, ERR_LOCAL_FILE_FAILED, *cause);
		cap_set_state(c, CAP_ERROR, STOP_NONE, *cause, NULL);
		return (SESS_FAILED);
	}
	if (pcapw_held(c->w))	/* the tick writes the header in time */
		sess_unflushed_add(c);
	if (p->lookback_s != 0 || p->from_us != 0)
		cap_cut_begin(c, p);
	if (ns != NULL) {
		c->has_ns = 1;
		netns_copy(&c->ns, ns);
	}
	cap_context(c, 0);
	if (cap_set_state(c, CAP_RUNNING, STOP_NONE, NULL, cause) == -1)
		return (SESS_UNAVAILABLE);
	/* The limit counts from started_at, not the loop's cached time. */
	c->timer = evtimer_new(sess_base, cap_timer, c);
	event_base_update_cache_time(sess_base);
	c->time_limit_us = (int64_t)p->time_limit_s * 1000000;
	tv.tv_sec = p->time_limit_s;
	tv.tv_usec = 0;
	if (!c->snapshot)
		evtimer_add(c->timer, &tv);
	sess_stats.started++;
	return (SESS_OK);
}

enum sess_result
session_create(json_t *params, const char *name, json_t *trigger,
    json_t **out, char **cause)
{
	struct capture_params	 p;
	struct sess_usage	 u;
	struct session		*c;
	enum sess_result	 rc;
	struct nstarget		 ns;
	json_t			*norm;
	char			 ts[32], *dot;
	int			 has_ns;

	if (params_parse(params, name, &sess_plimits, &p, cause) == -1) {
		sess_stats.refused_invalid++;
		return (SESS_INVALID);
	}
	if (p.node != NULL && strcmp(p.node, sess_node) != 0) {
		*cause = xasprintf("target.node: '%s' is not this node (%s), "
		    "and this node reaches no other", p.node, sess_node);
		sess_stats.refused_invalid++;
		params_clear(&p);
		return (SESS_INVALID);
	}

	if (cap_find(p.name) != NULL) {
		*cause = xasprintf("name: a capture named '%s' exists", p.name);
		sess_stats.refused_conflict++;
		params_clear(&p);
		return (SESS_CONFLICT);
	}
	sess_usage(&u);
	if (session_admit(&u, &sess_limits, p.file_count != 0 ?
	    (uint64_t)p.file_count * p.file_size : p.max_bytes, cause) !=
	    SESS_OK) {
		sess_stats.refused_limited++;
		params_clear(&p);
		return (SESS_LIMITED);
	}
	norm = params_to_json(&p);
	c = xcalloc(1, sizeof *c);
	c->serial = ++sess_serial;
	c->rec = record_new(p.name, sess_node, norm, trigger);
	json_decref(norm);
	c->rec->file = p.file != NULL ? xstrdup(p.file) : xasprintf("%s_%s.%s",
	    p.name, time_compact(ts, sizeof ts, c->rec->created_at),
	    pcapfmt_ext(p.format));
	c->max_bytes = p.max_bytes;
	c->max_packets = p.max_packets;
	cap_decided(c);
	if (c->file_count != 0) {	/* NAME_CREATED_000001.EXT ... */
		c->stem = xstrdup(c->rec->file);
		if ((dot = strrchr(c->stem, '.')) != NULL &&
		    strchr(dot, '/') == NULL)
			*dot = '\0';
		c->seq = 1;
		free(c->rec->file);
		c->rec->file = xasprintf("%s_%06u.%s", c->stem, c->seq,
		    pcapfmt_ext(p.format));
		c->rec->files = json_array();
	}
	/*
	 * A name asked for is checked here, to be refused (409) before there
	 * is a record; a name made up is checked where its file is named.
	 */
	if (p.file != NULL && (rc = cap_check_file(c->rec->file, cause)) !=
	    SESS_OK) {
		if (rc == SESS_CONFLICT)
			sess_stats.refused_conflict++;
		else
			sess_stats.refused_invalid++;
		cap_free(c);
		params_clear(&p);
		return (rc);
	}
	sess_link(c);
	record_event(c->rec, NULL);
	if (cap_publish(c, 1, cause) == -1) {
		sess_unlink(c);
		cap_free(c);
		params_clear(&p);
		return (SESS_UNAVAILABLE);
	}
	/* The namespace, as late as can be: it may go at any time. */
	memset(&ns, 0, sizeof ns);
	has_ns = p.netns != NULL || p.pid != 0 || p.container != NULL;
	if (has_ns && netns_resolve(p.netns, p.pid, p.container, &ns,
	    cause) == -1)
		rc = SESS_INVALID;
	else
		rc = cap_start(c, &p, has_ns ? &ns : NULL, cause);
	netns_clear(&ns);
	params_clear(&p);
	if (rc == SESS_INVALID) {
		sess_stats.refused_invalid++;
		cap_abandon(c);
		return (rc);
	}
	if (rc == SESS_UNAVAILABLE) {
		cap_stop(c, CAP_ERROR, STOP_NONE, "state store failed");
		return (rc);
	}
	*out = record_to_json(c->rec);
	return (rc);
}

enum sess_result
session_stop(const char *name, enum stop_reason why, json_t **out,
    char **cause)
{
	struct session	*c;

	if ((c = cap_find(name)) == NULL) {
		*cause = xasprintf("no capture named '%s'", name);
		return (SESS_NOT_FOUND);
	}
	if (c->syncing)
		return (SESS_PENDING);	/* stopping already */
	if (c->rec->status != CAP_RUNNING) {
		*cause = xasprintf("capture '%s' is not running (%s)", name,
		    cap_status_name(c->rec->status));
		return (SESS_CONFLICT);
	}
	/*
	 * Done is done: a record the store could not take now is kept dirty
	 * and written by the tick, never answered as a failure.
	 */
	cap_stop(c, CAP_STOPPED, why, NULL);
	if (c->syncing)
		return (SESS_PENDING);
	if (out != NULL)
		*out = record_to_json(c->rec);
	return (SESS_OK);
}

static void
cap_later(evutil_socket_t fd, short events, void *arg)
{
	struct session	*c = arg;

	cap_stop(c, CAP_STOPPED, c->later_why, NULL);
}

enum sess_result
session_stop_after(const char *name, enum stop_reason why, int delay_s,
    const char *msg, char **cause)
{
	struct session	*c;
	struct timeval	 tv = { delay_s, 0 };

	if ((c = cap_find(name)) == NULL) {
		*cause = xasprintf("no capture named '%s'", name);
		return (SESS_NOT_FOUND);
	}
	if (c->rec->status != CAP_RUNNING || c->syncing) {
		*cause = xasprintf("capture '%s' is not running (%s)", name,
		    cap_status_name(c->rec->status));
		return (SESS_CONFLICT);
	}
	if (c->later_ev == NULL)
		c->later_ev = evtimer_new(sess_base, cap_later, c);
	c->later_why = why;
	evtimer_add(c->later_ev, &tv);
	record_event(c->rec, msg);
	cap_publish(c, 0, NULL);
	return (SESS_OK);
}

int
session_keep(const char *name, const char *msg)
{
	struct session	*c;

	if ((c = cap_find(name)) == NULL || c->later_ev == NULL ||
	    !evtimer_pending(c->later_ev, NULL))
		return (0);
	evtimer_del(c->later_ev);
	record_event(c->rec, msg);
	cap_publish(c, 0, NULL);
	return (1);
}

enum sess_result
session_delete(const char *name, int with_file, char **cause)
{
	struct session		*c;
	struct record		*r;
	struct state_orphan	 o, *keep = NULL;

	if ((c = cap_find(name)) == NULL) {
		*cause = xasprintf("no capture named '%s'", name);
		return (SESS_NOT_FOUND);
	}
	r = c->rec;
	if (!with_file && c->file_count == 0 && r->file_uri != NULL &&
	    !c->syncing) {
		o.path = r->file;
		o.bytes = r->bytes;
		o.at = r->stopped_at;
		keep = &o;
	}
	/* Forget the record first: if the store fails, nothing was done. */
	if (state_delete(name, keep, cause) == -1)
		return (SESS_UNAVAILABLE);
	if (keep != NULL)
		sess_orphan_add(o.path, o.bytes, o.at);
	c->deleted = 1;
	c->delete_file = with_file;
	sess_unlink(c);
	log_info("capture %s: deleted (%s)", name, with_file ? "and its file" :
	    "its file stays, counted against captures.max_total_bytes");
	cap_notify(name, NULL);
	/* A running one is freed once its file is durable (maybe now). */
	if (r->status == CAP_RUNNING && !c->syncing)
		cap_stop(c, CAP_STOPPED, STOP_MANUAL, "deleted");
	else if (!c->syncing)
		cap_forgotten(c, 0);
	return (SESS_OK);
}

/* Refreshes the live counters of a running capture into its record. */
static void
cap_refresh(struct session *c)
{
	struct capture_stats	st;

	if (c->rec->status != CAP_RUNNING || c->w == NULL)
		return;
	c->rec->packets = c->prev_packets + c->w->packets;
	c->rec->bytes = c->prev_bytes + c->w->bytes;
	capture_get_stats(c->sink, &st, 0);
	c->rec->kernel_drops = st.kernel_drops;
	c->rec->if_drops = st.if_drops;
}

int
session_state(const char *name, enum cap_status *st, int64_t *stopped_at)
{
	struct session	*c;

	if ((c = cap_find(name)) == NULL)
		return (-1);
	*st = c->rec->status;
	*stopped_at = c->rec->stopped_at;
	return (0);
}

const char *
session_find_dedup(const char *key, enum cap_status *st, int64_t *stopped_at)
{
	struct session	*c, *latest = NULL;

	if (sess_hash_size == 0)
		return (NULL);
	for (c = *sess_bucket(sess_dedup, key); c != NULL; c = c->dedup_next)
		if (strcmp(c->dedup_key, key) == 0 && (latest == NULL ||
		    c->rec->created_at >= latest->rec->created_at))
			latest = c;
	if (latest == NULL)
		return (NULL);
	*st = latest->rec->status;
	*stopped_at = latest->rec->stopped_at;
	return (latest->rec->name);
}

/* Whether c belongs in a list of status and rule (NULL: any). */
static int
cap_listed(const struct session *c, const char *status, const char *rule)
{
	const char	*r;

	if (status != NULL &&
	    strcmp(cap_status_name(c->rec->status), status) != 0)
		return (0);
	r = record_rule(c->rec);
	return (rule == NULL || (r != NULL && strcmp(r, rule) == 0));
}

long long
session_running_for_rule(const char *rule)
{
	struct session	*c;
	long long	 n = 0;

	TAILQ_FOREACH(c, &sess_live, live_entry)
		if (cap_listed(c, NULL, rule))
			n++;
	return (n);
}

json_t *
session_get(const char *name)
{
	struct session	*c;

	if ((c = cap_find(name)) == NULL)
		return (NULL);
	cap_refresh(c);
	return (record_to_json(c->rec));
}


struct sess_listing *
session_list_begin(const char *status, const char *rule)
{
	struct sess_listing	*l;

	l = xcalloc(1, sizeof *l);
	l->status = status != NULL ? xstrdup(status) : NULL;
	l->rule = rule != NULL ? xstrdup(rule) : NULL;
	/* Running or about to: on a list of their own, not among all. */
	l->live = status != NULL && (strcmp(status,
	    cap_status_name(CAP_RUNNING)) == 0 || strcmp(status,
	    cap_status_name(CAP_NOT_STARTED)) == 0);
	l->next = l->live ? TAILQ_FIRST(&sess_live) : TAILQ_FIRST(&sess_all);
	LIST_INSERT_HEAD(&sess_listings, l, entry);
	return (l);
}

size_t
session_list_most(const struct sess_listing *l)
{
	return (l->live ? (size_t)sess_nlive : sess_count);
}

json_t *
session_list_next(struct sess_listing *l, size_t max)
{
	struct session	*c;
	json_t		*a;

	a = json_array();
	while ((c = l->next) != NULL && json_array_size(a) < max) {
		l->next = l->live ? TAILQ_NEXT(c, live_entry) :
		    TAILQ_NEXT(c, entry);
		if (!cap_listed(c, l->status, l->rule))
			continue;
		cap_refresh(c);
		json_array_append_new(a, record_to_json(c->rec));
	}
	return (a);
}

void
session_list_end(struct sess_listing *l)
{
	if (l == NULL)
		return;
	LIST_REMOVE(l, entry);
	free(l->status);
	free(l->rule);
	free(l);
}

enum sess_result
session_open_file(const char *name, uint32_t seq, int *fd, int64_t *size,
    const char **file, char **cause)
{
	struct session	*c;
	json_t		*e;

	if ((c = cap_find(name)) == NULL) {
		*cause = xasprintf("no capture named '%s'", name);
		return (SESS_NOT_FOUND);
	}
	if (c->file_count == 0 && seq != 0) {
		*cause = xasprintf("seq: capture '%s' is not continuous; it "
		    "has one file", name);
		return (SESS_INVALID);
	}
	if (c->file_count != 0) {
		if (seq == 0) {
			*cause = xasprintf("seq: capture '%s' is continuous; "
			    "ask for one of its files (1..%u)", name,
			    c->rec->status == CAP_RUNNING ? c->seq :
			    (uint32_t)json_array_size(c->rec->files));
			return (SESS_INVALID);
		}
		if ((e = ring_entry(c->rec, seq)) == NULL) {
			*cause = xasprintf("seq: capture '%s' has no file %u",
			    name, seq);
			return (SESS_NOT_FOUND);
		}
		if (!ring_is(e, "Complete")) {
			*cause = xasprintf("file %u of capture '%s' is %s",
			    seq, name, ring_is(e, "Deleted") ? "deleted" :
			    "not complete yet");
			return (ring_is(e, "Deleted") ? SESS_NOT_FOUND :
			    SESS_CONFLICT);
		}
		*file = json_string_value(json_object_get(e, "path"));
		if ((*fd = pcapfile_open_final(sess_rootfd, *file, size,
		    cause)) == -1)
			return (SESS_NOT_FOUND);
		return (SESS_OK);
	}
	if (c->rec->status == CAP_RUNNING) {
		*cause = xasprintf("capture '%s' is running; its file is "
		    "ready when it stops", name);
		return (SESS_CONFLICT);
	}
	if (c->rec->file_uri == NULL) {
		*cause = xasprintf("capture '%s' has no local file", name);
		return (SESS_NOT_FOUND);
	}
	if ((*fd = pcapfile_open_final(sess_rootfd, c->rec->file, size,
	    cause)) == -1)
		return (SESS_NOT_FOUND);
	*file = c->rec->file;
	return (SESS_OK);
}

/* Is an upload of c's file still to be done? Retention keeps it then. */
static int
cap_uploads_pending(const struct session *c)
{
	json_t	*e;
	size_t	 i;

	json_array_foreach(c->rec->uploads, i, e) {
		if (upload_entry_state(e) == UPLOAD_PENDING ||
		    upload_entry_state(e) == UPLOAD_UPLOADING)
			return (1);
	}
	return (0);
}

/* A finished ring's files on disk, as retention weighs them. */
static void
ring_held(struct session *c, struct held_file *v, size_t *n)
{
	json_t	*e;
	size_t	 i;
	int	 all;

	json_array_foreach(c->rec->files, i, e) {
		if (!ring_is(e, "Complete"))
			continue;
		v[*n].name = c->rec->name;
		v[*n].relpath = json_string_value(json_object_get(e, "path"));
		v[*n].bytes = (uint64_t)json_integer_value(json_object_get(e,
		    "bytes"));
		v[*n].finished_us = c->rec->stopped_at;
		v[(*n)++].pinned = !ring_uploads_final(e, &all);
	}
}

/* The files retention weighs: finished captures' and forgotten ones'. */
static struct held_file *
sess_held(size_t *n)
{
	struct held_file	*v;
	struct session		*c;
	size_t			 i, max = sess_norphans;

	TAILQ_FOREACH(c, &sess_all, entry)
		max += 1 + json_array_size(c->rec->files);
	v = xcalloc(max + 1, sizeof *v);
	*n = 0;
	TAILQ_FOREACH(c, &sess_all, entry) {
		if ((c->rec->status != CAP_STOPPED &&
		    c->rec->status != CAP_ERROR) || c->syncing)
			continue;
		if (c->file_count != 0) {
			ring_held(c, v, n);
			continue;
		}
		if (c->rec->file_uri == NULL)
			continue;
		v[*n].name = c->rec->name;
		v[*n].relpath = c->rec->file;
		v[*n].bytes = c->rec->bytes;
		v[*n].finished_us = c->rec->stopped_at;
		v[(*n)++].pinned = cap_uploads_pending(c);
	}
	for (i = 0; i < sess_norphans; i++) {
		v[*n].relpath = sess_orphans[i].path;
		v[*n].bytes = sess_orphans[i].bytes;
		v[(*n)++].finished_us = sess_orphans[i].at;
	}
	return (v);
}

/* Marks the ring's file at relpath deleted (retention unlinks it). */
static void
ring_retire(struct record *r, const char *relpath, const char *why)
{
	const char	*path;
	json_t		*e;
	size_t		 i;

	json_array_foreach(r->files, i, e) {
		path = json_string_value(json_object_get(e, "path"));
		if (path != NULL && strcmp(path, relpath) == 0)
			ring_mark(e, why);
	}
}

/*
 * Retention, on the housekeeping tick: deletes the files past the
 * limits, oldest first, and says so in each record.
 */
static void
cap_sweep(void)
{
	struct held_file	*v;
	struct session		*c;
	size_t			 n, i, k;
	int64_t			 now = now_us();
	char			*msg;

	if (sess_retention.max_age_us == 0 && sess_retention.max_bytes == 0)
		return;
	if (!sess_sweep_due && (sess_retention.max_age_us == 0 ||
	    now < sess_sweep_next_us) && (sess_retention.max_bytes == 0 ||
	    sess_kept + sess_orphan_bytes <= sess_retention.max_bytes) &&
	    now - sess_sweep_last_us < SWEEP_EVERY_US)
		return;
	sess_sweep_due = 0;
	sess_sweep_last_us = now;
	v = sess_held(&n);
	i = retention_pick(v, n, &sess_retention, now);
	/* The first file kept that age can take, and when it will. */
	sess_sweep_next_us = INT64_MAX;
	for (k = 0; k < n; k++)
		if (v[k].why == RETAINED && !v[k].pinned &&
		    v[k].finished_us < sess_sweep_next_us -
		    sess_retention.max_age_us)
			sess_sweep_next_us = v[k].finished_us +
			    sess_retention.max_age_us;
	if (i == 0) {
		free(v);
		return;
	}
	for (i = 0; i < n; i++) {
		if (v[i].why == RETAINED)
			continue;
		msg = v[i].why == RETENTION_AGE ?
		    xasprintf("retention.max_age_s: stopped more than %lld s "
		    "ago", (long long)(sess_retention.max_age_us / 1000000)) :
		    xasprintf("retention.max_bytes: finished files over %"
		    PRIu64 " bytes, the oldest go first",
		    sess_retention.max_bytes);
		log_info("%s %s: file %s deleted (%s)", v[i].name != NULL ?
		    "capture" : "forgotten capture", v[i].name != NULL ?
		    v[i].name : "", v[i].relpath, msg);
		sess_file_gone(v[i].bytes, v[i].why == RETENTION_AGE ?
		    FILE_GONE_AGE : FILE_GONE_BYTES);
		sess_unlink_later(v[i].relpath);
		if (v[i].name == NULL)
			sess_orphan_remove(v[i].relpath);
		else if ((c = cap_find(v[i].name)) != NULL) {
			if (c->file_count == 0)
				record_file_deleted(c->rec, msg);
			else
				ring_retire(c->rec, v[i].relpath, msg);
			record_event(c->rec, msg);
			cap_publish(c, 0, NULL);
		}
		free(msg);
	}
	free(v);
}

/*
 * The records not stored yet, the oldest first, in one transaction of at
 * most budget_us of writes (0: all): each is clean once it commits; if
 * the commit fails, all wait for the next tick.
 */
static void
sess_store_dirty(int64_t budget_us)
{
	struct session	*c, *c1, *end;
	char		*cause = NULL;
	int64_t		 until = budget_us != 0 ? now_us() + budget_us :
			    INT64_MAX;

	if (TAILQ_EMPTY(&sess_dirty) || state_begin(&cause) == -1) {
		free(cause);
		return;
	}
	TAILQ_FOREACH(c, &sess_dirty, dirty_entry) {
		c->stored = !c->deleted && state_put(c->rec, &cause) == 0;
		free(cause);
		cause = NULL;
		if (now_us() >= until)
			break;
	}
	end = c != NULL ? TAILQ_NEXT(c, dirty_entry) : NULL;
	if (state_commit(&cause) == -1) {
		free(cause);
		return;		/* rolled back: all still dirty */
	}
	for (c = TAILQ_FIRST(&sess_dirty); c != end; c = c1) {
		c1 = TAILQ_NEXT(c, dirty_entry);
		if (c->stored || c->deleted)
			cap_dirty(c, 0);
	}
}

void
session_flush(void)
{
	struct session	*c;
	int64_t		 now = now_us(), until = now + SESS_FLUSH_US;

	sess_store_dirty(SESS_FLUSH_US);
	while ((c = TAILQ_FIRST(&sess_unflushed)) != NULL &&
	    c->flush_at <= now && now_us() < until) {
		sess_flushed(c);
		if (c->rec->status != CAP_RUNNING || c->w == NULL)
			continue;
		if (pcapw_held(c->w) && now < c->hold_until_us) {
			sess_unflushed_add(c);	/* the header waits yet */
			continue;
		}
		if (pcapw_flush(c->w) == -1)
			cap_file_failed(c, 1);
		else
			cap_refresh(c);
	}
}

void
session_tick(void)
{
	cap_sweep();
}

/* The traffic counters as /metrics shows them, see sess_traffic. */
static struct {
	uint64_t	packets;
	uint64_t	bytes;
	uint64_t	kernel_drops;
	uint64_t	if_drops;
} sess_now;

/*
 * Before a scrape: the finished captures' traffic and the running ones'
 * so far, each running capture refreshed once.
 */
static void
sess_traffic(void)
{
	struct session	*c;

	sess_now.packets = sess_stats.packets;
	sess_now.bytes = sess_stats.bytes;
	sess_now.kernel_drops = sess_stats.kernel_drops;
	sess_now.if_drops = sess_stats.if_drops;
	TAILQ_FOREACH(c, &sess_all, entry) {
		if (c->rec->status != CAP_RUNNING)
			continue;
		cap_refresh(c);
		sess_now.packets += c->rec->packets;
		sess_now.bytes += c->rec->bytes;
		sess_now.kernel_drops += c->rec->kernel_drops;
		sess_now.if_drops += c->rec->if_drops;
	}
}

static void
metric_captures(struct metric_out *o, void *arg)
{
	struct session	*c;
	uint64_t	 by_status[CAP_ERROR + 1] = { 0 };
	int		 i;

	TAILQ_FOREACH(c, &sess_all, entry)
		by_status[c->rec->status]++;
	for (i = 0; i <= CAP_ERROR; i++)
		metric_u64(o, by_status[i], "status", cap_status_name(i),
		    (char *)NULL);
}

static void
metric_stopped(struct metric_out *o, void *arg)
{
	int	i;

	for (i = STOP_TIME_EXCEEDED; i <= STOP_INTERRUPTED; i++)
		metric_u64(o, sess_stats.stopped[i], "reason",
		    stop_reason_name(i), (char *)NULL);
}

static void
metric_refused(struct metric_out *o, void *arg)
{
	metric_u64(o, sess_stats.refused_invalid, "reason", "invalid",
	    (char *)NULL);
	metric_u64(o, sess_stats.refused_conflict, "reason", "conflict",
	    (char *)NULL);
	metric_u64(o, sess_stats.refused_limited, "reason", "limited",
	    (char *)NULL);
}

static void
metric_files_deleted(struct metric_out *o, void *arg)
{
	const uint64_t	*v = arg;
	int		 i;

	for (i = 0; i < FILE_GONE_MAX; i++)
		metric_u64(o, v[i], "reason", file_gone_names[i], (char *)NULL);
}

static void
metric_files_held(struct metric_out *o, void *arg)
{
	struct sess_usage	u;

	sess_usage(&u);
	metric_u64(o, u.kept_bytes, (char *)NULL);
}

static void
metric_ring_held(struct metric_out *o, void *arg)
{
	struct session	*c;
	uint64_t	 n = 0;

	TAILQ_FOREACH(c, &sess_all, entry) {
		if (c->file_count != 0)
			n += record_files_held(c->rec);
	}
	metric_u64(o, n, (char *)NULL);
}

static void
metric_interfaces(struct metric_out *o, void *arg)
{
	metric_u64(o, (uint64_t)capture_sources(), (char *)NULL);
}

static const struct metric sess_metrics[] = {
	METRIC_READ("alertcap_captures", GAUGE,
	    "Capture records on this node by status.", metric_captures, NULL),
	METRIC_VALUE("alertcap_captures_started_total", COUNTER,
	    "Captures started.", &sess_stats.started),
	METRIC_READ("alertcap_captures_stopped_total", COUNTER,
	    "Captures stopped, by reason.", metric_stopped, NULL),
	METRIC_VALUE("alertcap_captures_failed_total", COUNTER,
	    "Captures that ended in Error.", &sess_stats.failed),
	METRIC_READ("alertcap_captures_refused_total", COUNTER,
	    "Capture requests refused, by reason.", metric_refused, NULL),
	METRIC_VALUE("alertcap_capture_packets_total", COUNTER,
	    "Packets written to capture files.", &sess_now.packets),
	METRIC_VALUE("alertcap_capture_bytes_total", COUNTER,
	    "Bytes written to capture files.", &sess_now.bytes),
	METRIC_VALUE("alertcap_capture_kernel_drops_total", COUNTER,
	    "Packets the kernel dropped while captures ran.",
	    &sess_now.kernel_drops),
	METRIC_VALUE("alertcap_capture_if_drops_total", COUNTER,
	    "Packets the interface dropped while captures ran.",
	    &sess_now.if_drops),
	METRIC_VALUE("alertcap_lookback_gaps_total", COUNTER,
	    "Captures that asked for more of the past than the ring held.",
	    &sess_stats.lookback_gaps),
	METRIC_READ("alertcap_capture_files_held_bytes", GAUGE,
	    "Bytes of finished captures' local files, forgotten ones' too.",
	    metric_files_held, NULL),
	METRIC_READ("alertcap_continuous_files_held", GAUGE,
	    "Continuous captures' files kept past file_count for their "
	    "uploads.", metric_ring_held, NULL),
	METRIC_READ("alertcap_capture_files_deleted_total", COUNTER,
	    "Local capture files deleted, by reason.", metric_files_deleted,
	    sess_stats.files_deleted),
	METRIC_READ("alertcap_capture_files_deleted_bytes_total", COUNTER,
	    "Bytes of local capture files deleted, by reason.",
	    metric_files_deleted, sess_stats.bytes_deleted),
	METRIC_READ("alertcap_capture_interfaces", GAUGE,
	    "Interfaces with an open capture handle.", metric_interfaces, NULL),
	METRIC_END
};

/* Counts a forgotten capture's file that is still there. */
static void
sess_orphan_loaded(const struct state_orphan *o, void *arg)
{
	struct stat	 st;
	const char	*base;
	char		*cause = NULL;
	int		 dirfd, there = 0;

	if ((dirfd = pcapfile_dir(sess_rootfd, o->path, 0, &base,
	    &cause)) != -1) {
		there = fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
		close(dirfd);
	}
	free(cause);
	cause = NULL;
	if (there)
		sess_orphan_add(o->path, o->bytes, o->at);
	else if (state_orphan_delete(o->path, &cause) == -1)
		free(cause);
}

/* Keeps each loaded record; recovery comes after all are loaded. */
static void
sess_loaded(struct record *r, void *arg)
{
	struct session	*c;

	c = xcalloc(1, sizeof *c);
	c->rec = r;
	cap_decided(c);
	sess_link(c);
}

/*
 * The files of a ring that was being written when the daemon died: each
 * one not yet complete is repaired and made final (or was, if the commit
 * got that far), then listed, uploaded and trimmed as a closed one is.
 */
static void
ring_recover(struct session *c)
{
	struct record	*r = c->rec;
	struct stat	 st;
	json_t		*e;
	const char	*path;
	char		*cause = NULL, sha[65];
	uint64_t	 packets, bytes;
	size_t		 i;
	int64_t		 size;
	int		 fd;

	r->packets = r->bytes = 0;
	json_array_foreach(r->files, i, e) {
		path = json_string_value(json_object_get(e, "path"));
		if (path != NULL && (ring_is(e, "Writing") ||
		    ring_is(e, "Closing"))) {
			if (pcapfile_recover(sess_rootfd, path, &packets,
			    &bytes, sha, &cause) == 0) {
				json_object_set_new(e, "packets", json_integer(
				    (json_int_t)packets));
				json_object_set_new(e, "bytes", json_integer(
				    (json_int_t)bytes));
				json_object_set_new(e, "sha256",
				    json_string(sha));
				ring_file_done(c, e);
			} else if ((fd = pcapfile_open_final(sess_rootfd, path,
			    &size, &cause)) != -1 && fstat(fd, &st) == 0) {
				close(fd);	/* committed; its record was not */
				free(cause);
				cause = NULL;
				ring_file_done(c, e);
			} else {
				log_error("capture %s: recovering %s: %s",
				    r->name, path, cause);
				record_error(r, ERR_LOCAL_FILE_FAILED, cause);
				json_object_set_new(e, "state",
				    json_string("Failed"));
			}
			free(cause);
			cause = NULL;
		}
		r->packets += (uint64_t)json_integer_value(json_object_get(e,
		    "packets"));
		r->bytes += (uint64_t)json_integer_value(json_object_get(e,
		    "bytes"));
	}
}

/* A capture that was running when the daemon died: repair and finish. */
static void
cap_recover(struct session *c)
{
	struct record	*r = c->rec;
	char		*cause = NULL;

	if (r->status == CAP_NOT_STARTED || r->file == NULL) {
		record_error(r, ERR_AGENT_STOPPED, "the daemon stopped before "
		    "the capture started");
		cap_set_state(c, CAP_ERROR, STOP_NONE, "found at restart", NULL);
		return;
	}
	if (c->file_count != 0) {
		ring_recover(c);
		cap_set_state(c, CAP_STOPPED, STOP_INTERRUPTED,
		    "the daemon was not running; found at restart", NULL);
		return;
	}
	if (pcapfile_recover(sess_rootfd, r->file, &r->packets, &r->bytes,
	    r->sha256, &cause) == 0) {
		r->file_uri = xasprintf("file://%s/%s", sess_root, r->file);
		cap_add_uploads(c);
	}
	if (cause != NULL) {
		log_error("capture %s: recovering its file: %s", r->name, cause);
		record_error(r, ERR_LOCAL_FILE_FAILED, cause);
		r->sha256[0] = '\0';
		free(cause);
	}
	cap_set_state(c, CAP_STOPPED, STOP_INTERRUPTED,
	    "the daemon was not running; found at restart", NULL);
}

/* Makes the captures root (and parents) and opens it. */
static int
sess_open_root(const char *root, char **cause)
{
	if (strlen(root) >= PATH_MAX) {
		*cause = xasprintf("captures.root: too long");
		return (-1);
	}
	mkdir_parents(root, 0750, 1);
	if ((sess_root = realpath(root, NULL)) == NULL ||
	    (sess_rootfd = open(sess_root, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1) {
		*cause = xasprintf("captures.root: %s: %s", root,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

int
session_check(const struct conf *conf, char **cause)
{
	struct stat	 st;
	char		*dir, *slash;
	int		 rc = 0;

	/* The root, or the nearest directory above it that start-up makes it in. */
	dir = xstrdup(conf->captures_root);
	while (stat(dir, &st) == -1 && (slash = strrchr(dir, '/')) != NULL &&
	    slash != dir)
		*slash = '\0';
	if (stat(dir, &st) == -1 && strchr(dir, '/') == NULL) {
		free(dir);
		dir = xstrdup(".");
	}
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		*cause = xasprintf("captures.root: %s: not a directory", dir);
		rc = -1;
	} else if (stat(dir, &st) == -1 || access(dir, W_OK | X_OK) == -1) {
		*cause = xasprintf("captures.root: %s: %s", dir,
		    strerror(errno));
		rc = -1;
	}
	free(dir);
	return (rc);
}

/*
 * The descriptors that max_concurrent captures may hold (a file each,
 * another while it is named, context files, connections) reserved in the
 * table at start and at a reload, so that a storm of captures does not
 * grow it on the loop.
 */
static void
sess_fd_reserve(void)
{
	if (sess_rootfd != -1)
		fd_table_reserve(sess_rootfd, 256 + 4L *
		    sess_limits.max_concurrent);
}

int
session_init(struct event_base *base, const struct conf *conf, char **cause)
{
	struct session	*c;
	int		 fd;

	sess_base = base;
	sess_node = xstrdup(conf->node);
	session_reconf(conf);
	if (sess_open_root(conf->captures_root, cause) == -1)
		return (-1);
	if (state_load(sess_loaded, NULL, cause) == -1 ||
	    state_orphan_load(sess_orphan_loaded, NULL, cause) == -1)
		return (-1);
	TAILQ_FOREACH(c, &sess_all, entry) {
		if (c->rec->status == CAP_RUNNING ||
		    c->rec->status == CAP_NOT_STARTED)
			cap_recover(c);
		else
			cap_submit_uploads(c);	/* those cut short */
	}
	sess_fd_reserve();
	pcapfile_spares_probe(sess_rootfd);
	/*
	 * For files at the root, made here before the first alert: made on
	 * their thread they took the cores and the disk from it.
	 */
	while (pcapfile_spare_wanted("x")) {
		fd = pcapfile_spare_make(sess_rootfd, "x");
		pcapfile_spare_put("x", fd);
		if (fd < 0)
			break;	/* the file system says why at the first capture */
	}
	metrics_register(sess_metrics, sess_traffic);
	return (0);
}

void
session_reconf(const struct conf *conf)
{
	params_limits_conf(&sess_plimits, conf);
	sess_plimits.account_exists = upload_account_exists;
	sess_plimits.notify_exists = notify_endpoint_exists;
	sess_limits.max_concurrent = conf->max_concurrent;
	sess_limits.max_total_bytes = (uint64_t)conf->max_total_bytes;
	sess_hash_files = conf->hash_files;
	sess_ctx_sockets = (size_t)conf->context_max_sockets;
	sess_retention.max_age_us = (int64_t)conf->retention_max_age_s *
	    1000000;
	sess_retention.max_bytes = (uint64_t)conf->retention_max_bytes;
	sess_sweep_due = 1;	/* the limits may be new */
	sess_fd_reserve();
}

void
session_shutdown(void)
{
	struct session	*c;

	metrics_unregister(sess_metrics);
	TAILQ_FOREACH(c, &sess_all, entry)
		cap_stop(c, CAP_STOPPED, STOP_SHUTDOWN, NULL);
	worker_drain();		/* every file durable, every record final */
	sess_store_dirty(0);
	pcapfile_spares_close();
	context_forget();	/* the worker takes no more snapshots */
	while ((c = TAILQ_FIRST(&sess_all)) != NULL) {
		sess_unlink(c);
		cap_free(c);
	}
	free(sess_hash);
	free(sess_dedup);
	sess_hash = sess_dedup = NULL;
	sess_hash_size = 0;
	while (sess_norphans > 0)
		free(sess_orphans[--sess_norphans].path);
	free(sess_orphans);
	sess_orphans = NULL;
	sess_orphan_bytes = 0;
	if (sess_rootfd != -1)
		close(sess_rootfd);
	sess_rootfd = -1;
	free(sess_root);
	free(sess_node);
	sess_root = sess_node = NULL;
}
