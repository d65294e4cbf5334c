/*
 * Fuzz target: a capture request body, as the API receives it, through
 * JSON parsing, parameter checks and filter translation and compilation.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "params.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_params	 p;
	json_t			*j, *o;
	char			*cause = NULL;

	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (j == NULL)
		return (0);
	if (params_parse(j, NULL, &params_embedded, &p, &cause) == 0) {
		o = params_to_json(&p);
		json_decref(o);
		params_clear(&p);
	} else
		free(cause);
	json_decref(j);
	return (0);
}
