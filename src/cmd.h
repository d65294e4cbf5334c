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
 * file is being made durable): wait for it with cmd_wait_stop.
 */
#define CMD_PENDING	0

/* A command's answer: status, and the body (stolen; NULL for 204). */
typedef void (*cmd_answer_fn)(int status, json_t *body, void *arg);
struct cmd_wait;
/*
 * Waits for a pending stop of capture name: fn(200, record) once its
 * record says it stopped, fn(404, error) if it is deleted first; once.
 * The handle is the caller's until fn runs or cmd_wait_cancel.
 */
struct cmd_wait	*cmd_wait_stop(const char *name, cmd_answer_fn, void *arg);
/* Forgets a wait whose asker went away; fn never runs. */
void		 cmd_wait_cancel(struct cmd_wait *);

/*
 * Runs a command object (borrowed), as MQTT carries them and the API
 * builds them: {"op", "name", "capture" (create: the parameters),
 * "trigger" (create; none = manual), "status" and "rule" (list filters),
 * "file" (delete: true deletes the files too)}. Returns the status and
 * sets *body (new; NULL for 204): a record, {"captures": [...]} or
 * {"error": {code, message}}; or CMD_PENDING (body NULL) for a stop that
 * is answered later.
 */
int	 cmd_run_json(json_t *cmd, json_t **body);
/*
 * The list command begun, to be made a part at a time (GET /v1/captures
 * of a long list): status and rule as the command takes them. NULL, with
 * *body the 400 answer, for a status that is none.
 */
struct sess_listing	*cmd_list_begin(const char *status, const char *rule,
			    json_t **body);
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
