/*
 * Capture commands, the same whether they come from the REST API or an
 * MQTT command topic: create, get, list, stop, delete. Each answers an
 * HTTP-like status and the body the REST API would send.
 */
#ifndef CMD_H
#define CMD_H

#include <jansson.h>

#include "session.h"

/*
 * The answer follows when the capture's record changes (a stop whose
 * file is being made durable): wait for it with session_add_observer.
 */
#define CMD_PENDING	0

/*
 * Runs op on capture name with params and trigger (borrowed, for create;
 * trigger NULL = manual) and, for
 * list, the optional filters. Returns the status and sets *body (new; NULL
 * for 204): a record, {"captures": [...]} or {"error": {code, message}};
 * or CMD_PENDING (body NULL) for a stop that is answered later.
 */
int	 cmd_run(const char *op, const char *name, json_t *params,
	    json_t *trigger, const char *status, const char *rule,
	    json_t **body);
/*
 * Runs a command object {"op", "name", "capture", "trigger", "status",
 * "rule"}
 * (borrowed), as MQTT carries them; same answer.
 */
int	 cmd_run_json(json_t *cmd, json_t **body);
/*
 * Maps a failed session result to its status, with the error body (new)
 * in *body; steals cause.
 */
int	 cmd_fail(enum sess_result, char *cause, json_t **body);
/*
 * {"error": {"code", "message"}} (new; NULL only when memory ran out).
 * Bytes of message that are not UTF-8 are escaped, never refused.
 */
json_t	*cmd_error(const char *code, const char *message);

#endif
