/*
 * The metrics registry: each module registers its families (name, type,
 * help, and how to read their samples) and GET /metrics walks them, so
 * every family is written with its HELP and TYPE, and every label value
 * is escaped in one place.
 */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

struct dynbuf;
struct metric_out;

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_SUMMARY,		/* NAME_sum and NAME_count */
};

struct metric {
	const char		*name;
	enum metric_type	 type;
	const char		*help;
	/*
	 * One unlabelled sample read from *value, or, when read is set, the
	 * samples read writes through metric_u64() and metric_summary().
	 * arg is read's.
	 */
	const uint64_t		*value;
	void			(*read)(struct metric_out *, void *arg);
	void			*arg;
};

/* Table rows: a family read from a uint64_t, or written by a function. */
#define METRIC_VALUE(n, t, h, v)					\
	{ .name = (n), .type = METRIC_##t, .help = (h), .value = (v) }
#define METRIC_READ(n, t, h, fn, a)					\
	{ .name = (n), .type = METRIC_##t, .help = (h), .read = (fn),	\
	  .arg = (a) }
#define METRIC_END	{ .name = NULL }

/*
 * Registers a table of families ending with METRIC_END (borrowed until
 * metrics_unregister). Families are written in registration order, each
 * table's after its prepare (if any) has brought its figures up to date.
 */
void	metrics_register(const struct metric *, void (*prepare)(void));
void	metrics_unregister(const struct metric *);
/* Writes every registered family in Prometheus text format 0.0.4. */
void	metrics_write(struct dynbuf *);

/*
 * One sample of the family being read. The labels follow the value as
 * name, value pairs ending with NULL; values are escaped here.
 */
void	metric_u64(struct metric_out *, uint64_t, ...)
	    __attribute__((sentinel));
/* A summary's NAME_sum and NAME_count, without quantiles. */
void	metric_summary(struct metric_out *, double sum, uint64_t count, ...)
	    __attribute__((sentinel));

#endif
