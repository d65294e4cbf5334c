/*
 * Alerts by webhook: POST /v1/alerts[/{format}] and the dry run of POST
 * /v1/rules/test, with the credentials each format's senders present
 * (auth.webhooks.FORMAT). The alerts go to the same intake as MQTT's.
 */
#ifndef INPUT_WEBHOOK_H
#define INPUT_WEBHOOK_H

struct conf;
struct evhttp_request;
struct webhook_creds;

/*
 * Reads every format's credentials from their files (new), or NULL with
 * *cause naming the option.
 */
struct webhook_creds *webhook_creds_load(const struct conf *, char **cause);
void	webhook_creds_free(struct webhook_creds *);
/* Puts creds (stolen) in use; the ones before are freed. */
void	webhook_set_creds(struct webhook_creds *);
void	webhook_shutdown(void);

/*
 * Answers a webhook: format NULL or "auto" detects it. dry_run is the
 * rules test: the API's token instead of the format's credentials, and
 * nothing starts.
 */
void	webhook_alerts(struct evhttp_request *, const char *format,
	    int dry_run);

#endif
