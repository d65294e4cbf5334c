/* What the benchmark programs share: a clock, and numbers from argv. */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Monotonic seconds. */
static inline double
now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* The number in s, 0..max; exits naming what when s is not one. */
static inline long
arg_num(const char *s, long max, const char *what)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < 0 || n > max) {
		fprintf(stderr, "%s: '%s' is not a number in 0..%ld\n", what,
		    s, max);
		exit(2);
	}
	return (n);
}

#endif
