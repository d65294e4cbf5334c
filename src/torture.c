/*
 * Allocation-failure injection (torture.h); built only with --enable-
 * torture.
 */
#include "config.h"

#ifdef ENABLE_TORTURE
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "log.h"
#include "torture.h"

static int		tt_on;
static uint64_t		tt_request;	/* requests begun */
static uint64_t		tt_count;	/* allocations in this request */

static void *
tt_malloc(size_t n)
{
	if (tt_on && tt_request > 0 && ++tt_count == tt_request)
		return (NULL);
	return (malloc(n));
}

void
torture_init(void)
{
	if (getenv("ALERTCAP_TORTURE") == NULL)
		return;
	tt_on = 1;
	json_set_alloc_funcs(tt_malloc, free);
	log_warn("torture: request k fails its k-th jansson allocation");
}

void
torture_request(void)
{
	tt_request++;
	tt_count = 0;
}
#endif
