/*
 * Fuzz target: a command message as MQTT carries it to
 * alertcap/{node}/cmd, run by the real session manager (captures on the
 * loopback interface really start), answered as the broker would carry
 * it back.
 */
#include "config.h"

#include <stdlib.h>

#include <jansson.h>

#include "cmd.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t	*cmd, *body = NULL, *ans;
	char	*text;
	int	 status;

	fuzz_daemon(0, NULL);
	if ((cmd = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return (0);
	status = cmd_run_json(cmd, &body);
	ans = json_pack("{s:i, s:o}", "status", status, "body",
	    body != NULL ? body : json_null());
	text = json_dumps(ans, JSON_COMPACT);
	free(text);
	json_decref(ans);
	json_decref(cmd);
	fuzz_daemon_reset();
	return (0);
}
