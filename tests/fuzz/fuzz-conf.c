/*
 * Fuzz target: a configuration file, through the option table's parser,
 * bounds and cross-checks, with file:line:col errors.
 */
#include "config.h"

#include <stdlib.h>

#include "conf.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf	*c;
	char		*cause = NULL;

	if ((c = conf_load(fuzz_write("alertcap.json", data, size),
	    &cause)) == NULL) {
		free(cause);
		return (0);
	}
	conf_free(c);
	return (0);
}
