/*
 * Rules: which alerts start which captures. Loaded from the rules
 * directory (one rule or an array of rules per *.json file), matched
 * against normalised alerts, and expanded into capture parameters.
 */
#ifndef RULE_H
#define RULE_H

#include <regex.h>
#include <stdint.h>

#include <jansson.h>

#include "params.h"

#include "alert.h"

enum pat_kind {
	PAT_EXACT,
	PAT_GLOB,
	PAT_REGEX,
};

struct pattern {
	enum pat_kind	 kind;
	char		*text;
	regex_t		 re;
};

struct kv_pattern {
	char		*key;
	struct pattern	 pat;
};

enum value_op {
	OP_GT, OP_GE, OP_LT, OP_LE, OP_EQ, OP_NE,
};

struct rule {
	char			*name;
	char			*file;
	json_t			*source;	/* the rule as written */
	/* match */
	char			**formats;
	size_t			  nformats;
	struct pattern		 *via;
	enum alert_status	  status;
	struct pattern		 *alert;
	struct pattern		 *severity;
	struct kv_pattern	 *labels;
	size_t			  nlabels;
	struct kv_pattern	 *annotations;
	size_t			  nannotations;
	int			  has_value;
	enum value_op		  op;
	double			  threshold;
	/* capture: a template */
	json_t			*capture;
	/* policy */
	long long		 cooldown_s;
	char			*dedup_key;
	long long		 max_concurrent;	/* 0 = no cap */
	int			 stop_on_resolved;
	long long		 after_resolved_s;	/* keep it so long */
};

struct ruleset {
	struct rule	**v;
	size_t		  n;
	char		 *dir;
	/*
	 * An index so that an alert is checked only against the rules that
	 * can match its name: rules with an exact "alert" by that name
	 * (byname: name -> [indices]), plus those with a glob, a regex or
	 * no "alert" at all (scan). Both in rule order.
	 */
	json_t		 *byname;
	size_t		 *scan;
	size_t		  nscan;
};

/* What ${...} references see. */
struct tmpl_ctx {
	const char		*rule;
	const char		*node;
	int64_t			 now_us;
	const struct alert	*alert;
};

/*
 * Loads every *.json below dir (new ruleset). A missing directory is an
 * empty set when missing_ok. Each rule's literal capture parameters are
 * checked against lim (NULL: the defaults). On errors returns NULL and
 * *cause (new) holds them all, one "file:line:col: message" a line.
 */
struct ruleset	*rules_load(const char *dir, int missing_ok,
		    const struct params_limits *lim, char **cause);
void		 ruleset_free(struct ruleset *);
/*
 * The rules (in their order) an alert named name may match: fills out
 * (at most rs->n entries) and returns how many.
 */
size_t		 ruleset_candidates(const struct ruleset *, const char *name,
		    const struct rule **out);
/* {"rules": [...]}, each as written plus its file (new). */
json_t		*ruleset_to_json(const struct ruleset *);

/*
 * Does the alert match the rule's patterns? With full, status and value
 * conditions count too; without, only the identifying ones (to find the
 * captures a resolution stops).
 */
int		 rule_match(const struct rule *, const struct alert *, int full);
int		 pattern_match(const struct pattern *, const char *);

/*
 * Expands ${...} references in a string (new), or NULL with *cause (new)
 * when a reference has no value and no default.
 */
char		*tmpl_expand(const char *, const struct tmpl_ctx *, char **cause);
/* Expands every string in a JSON value (new), or NULL with *cause. */
json_t		*tmpl_expand_json(json_t *, const struct tmpl_ctx *,
		    const char *path, char **cause);

#endif
