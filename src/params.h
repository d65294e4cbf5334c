/*
 * Capture parameters: the JSON that the API, rules and MQTT commands all
 * use to ask for a capture, checked once here.
 */
#ifndef PARAMS_H
#define PARAMS_H

#include <stdint.h>

#include <jansson.h>

#include "pcapfile.h"

struct conf;

/* Network Watcher's bounds on a continuous capture's ring of files. */
#define PARAMS_MAX_FILES	10000
#define PARAMS_MAX_FILE_BYTES	4294967296LL

/* What the node allows and gives by default. */
struct params_limits {
	long long	def_time_limit_s;
	long long	max_time_limit_s;
	long long	max_continuous_time_limit_s;
	long long	def_max_bytes;
	long long	max_max_bytes;
	long long	max_lookback_s;	/* lookback.max_s */
	enum pcapfmt	def_format;	/* captures.format */
	/*
	 * Does a storage account of this name exist (arg: account_arg)?
	 * NULL: none does.
	 */
	int		(*account_exists)(const char *, void *);
	void		*account_arg;
	/* Is there a notify endpoint of this name? NULL: none is. */
	int		(*notify_exists)(const char *, void *);
	void		*notify_arg;
};

/* The embedded defaults' limits (no storage accounts). */
extern const struct params_limits params_embedded;

struct capture_params {
	char		*name;
	char		*interface;
	char		*node;		/* target.node, or NULL */
	char		*netns;		/* target.netns, or NULL */
	long long	 pid;		/* target.pid, or 0 */
	char		*container;	/* target.container, or NULL */
	uint32_t	 snaplen;	/* max_bytes_per_packet; 0 = whole */
	uint64_t	 max_bytes;	/* max_bytes_per_session */
	uint32_t	 time_limit_s;	/* of the live part; 0 with a lookback */
	uint32_t	 lookback_s;	/* 0: none, or from */
	int64_t		 from_us;	/* from (us), 0: none */
	uint64_t	 max_packets;	/* 0 = no limit */
	json_t		*filters;	/* as given, or NULL */
	char		*bpf;		/* as given, or NULL */
	char		*expr;		/* filters AND bpf, "" = everything */
	int		 keep_file;	/* storage.file (default: true unless
					   accounts are named) */
	char		*file;		/* relative path, or NULL = default */
	enum pcapfmt	 format;
	int		 context;	/* snapshot the namespace at start, stop */
	uint32_t	 file_count;	/* continuous; 0: one file */
	uint64_t	 file_size;	/* continuous: each file's bound */
	json_t		*accounts;	/* storage.accounts, or NULL */
	json_t		*notify;	/* endpoints named, [] none, NULL all */
};

/*
 * Parses and checks params (borrowed). name, if not NULL, is the name from
 * the URL, which the body may repeat but not contradict. Fills p; on error
 * returns -1 with *cause (new) naming the field, as "field: message".
 */
int	 params_parse(json_t *params, const char *name,
	    const struct params_limits *, struct capture_params *p,
	    char **cause);
/* Checks only that params names no unknown key (rules' templates). */
int	 params_check_keys(json_t *params, char **cause);
/*
 * Checks a rule's capture parameters (borrowed) offline, as params_parse
 * would once an alert fills them: every value that holds no ${...}
 * reference is checked as given; a templated one is taken to resolve to
 * something valid. lim NULL: the embedded defaults, and any account name.
 * -1 with *cause as "field: message".
 */
int	 params_check_literal(json_t *params, const struct params_limits *lim,
	    char **cause);
/* The limits a configuration sets; the account check is left as it was. */
void	 params_limits_conf(struct params_limits *, const struct conf *);
/* Returns the parameters as the normalised JSON the record shows (new). */
json_t	*params_to_json(const struct capture_params *);
void	 params_clear(struct capture_params *);

#endif
