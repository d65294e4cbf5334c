/* The metrics registry and its Prometheus text output. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "xmalloc.h"

#define METRICS_MAX_TABLES	16

struct metric_out {
	struct dynbuf		*b;
	const struct metric	*m;
};

static struct metrics_table {
	const struct metric	*families;
	void			(*prepare)(void);
} metrics_tables[METRICS_MAX_TABLES];
static size_t			 metrics_ntables;

static const char *const metric_type_names[] = {
	[METRIC_COUNTER] = "counter",
	[METRIC_GAUGE] = "gauge",
	[METRIC_SUMMARY] = "summary",
};

void
metrics_register(const struct metric *t, void (*prepare)(void))
{
	if (metrics_ntables == METRICS_MAX_TABLES)
		abort();	/* a module too many is a bug */
	metrics_tables[metrics_ntables].families = t;
	metrics_tables[metrics_ntables++].prepare = prepare;
}

void
metrics_unregister(const struct metric *t)
{
	size_t	i;

	for (i = 0; i < metrics_ntables; i++) {
		if (metrics_tables[i].families != t)
			continue;
		memmove(&metrics_tables[i], &metrics_tables[i + 1],
		    (metrics_ntables - i - 1) * sizeof *metrics_tables);
		metrics_ntables--;
		return;
	}
}

/* Writes NAME{labels} for a sample; the labels are name, value pairs. */
static void
metric_head(struct metric_out *o, const char *suffix, va_list ap)
{
	const char	*k, *v;
	int		 first = 1;

	dynbuf_addf(o->b, "%s%s", o->m->name, suffix);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		dynbuf_addf(o->b, "%s%s=\"", first ? "{" : ",", k);
		for (; *v != '\0'; v++) {
			if (*v == '\\' || *v == '"')
				dynbuf_addf(o->b, "\\%c", *v);
			else if (*v == '\n')
				dynbuf_addf(o->b, "\\n");
			else
				dynbuf_addf(o->b, "%c", *v);
		}
		dynbuf_addf(o->b, "\"");
		first = 0;
	}
	if (!first)
		dynbuf_addf(o->b, "}");
}

void
metric_u64(struct metric_out *o, uint64_t v, ...)
{
	va_list	ap;

	va_start(ap, v);
	metric_head(o, "", ap);
	va_end(ap);
	dynbuf_addf(o->b, " %" PRIu64 "\n", v);
}

void
metric_summary(struct metric_out *o, double sum, uint64_t count, ...)
{
	va_list	ap;

	va_start(ap, count);
	metric_head(o, "_sum", ap);
	va_end(ap);
	dynbuf_addf(o->b, " %.6f\n", sum);
	va_start(ap, count);
	metric_head(o, "_count", ap);
	va_end(ap);
	dynbuf_addf(o->b, " %" PRIu64 "\n", count);
}

void
metrics_write(struct dynbuf *b)
{
	struct metric_out	 o = { b, NULL };
	const struct metric	*m;
	size_t			 i;

	for (i = 0; i < metrics_ntables; i++) {
		if (metrics_tables[i].prepare != NULL)
			metrics_tables[i].prepare();
		for (m = metrics_tables[i].families; m->name != NULL; m++) {
			o.m = m;
			dynbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", m->name,
			    m->help, m->name, metric_type_names[m->type]);
			if (m->read != NULL)
				m->read(&o, m->arg);
			else
				metric_u64(&o, *m->value, (char *)NULL);
		}
	}
}
