/*
 * The webhook adapter: checks a sender's credentials for its format, then
 * hands the payload to the alert intake and answers with its outcome.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "alert.h"
#include "api.h"
#include "compat.h"
#include "conf.h"
#include "input-webhook.h"
#include "metrics.h"
#include "trigger.h"
#include "util.h"
#include "xmalloc.h"

/* One format's credentials, read from their files. */
struct webhook_auth {
	char		*bearer;
	char		*basic_user;
	char		*basic_pass;
	char		*hmac;
	char		*ts_header;
	long long	 max_skew_s;
	char		*query_token;
};

struct webhook_creds {
	struct webhook_auth	by_format[AFMT_WEBHOOK_MAX];
};

static struct webhook_creds	*wh_creds;
static uint64_t			 wh_auth_failures;

static const struct metric wh_metrics[] = {
	METRIC_VALUE("alertcap_webhook_auth_failures_total", COUNTER,
	    "Webhook requests refused for their credentials.",
	    &wh_auth_failures),
	METRIC_END
};

/* The webhook format of a name, or -1 (telegraf-json comes by MQTT only). */
static int
wh_format(const char *name)
{
	int	f = alert_format_find(name);

	return (f >= 0 && f < AFMT_WEBHOOK_MAX ? f : -1);
}

/* Checks "Authorization: Basic base64(user:pass)". */
static int
basic_ok(const char *h, const struct webhook_auth *w)
{
	unsigned char	 out[1024];
	char		*colon;
	size_t		 len;
	int		 n, ok;

	if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
		return (0);
	h += 6;
	len = strlen(h);
	if (len == 0 || len > 1300 || len % 4 != 0)
		return (0);
	if ((n = EVP_DecodeBlock(out, (const unsigned char *)h, (int)len)) < 0)
		return (0);
	while (n > 0 && len > 0 && h[--len] == '=')
		n--;
	out[n] = '\0';
	if ((colon = strchr((char *)out, ':')) == NULL)
		return (0);
	*colon = '\0';
	ok = secret_equal((char *)out, w->basic_user) &
	    secret_equal(colon + 1, w->basic_pass);
	explicit_bzero(out, sizeof out);
	return (ok);
}

/* Checks Grafana's X-Grafana-Alerting-Signature (and timestamp). */
static int
hmac_ok(struct evhttp_request *req, const struct webhook_auth *w,
    const unsigned char *body, size_t len)
{
	struct evkeyvalq	*h = evhttp_request_get_input_headers(req);
	unsigned char		 md[EVP_MAX_MD_SIZE];
	unsigned int		 mdlen;
	const char		*sig, *ts = NULL;
	char			 hex[2 * EVP_MAX_MD_SIZE + 1], low[160];
	char			*cause = NULL;
	const unsigned char	*msg;
	unsigned char		*signed_buf = NULL;
	size_t			 i;
	long long		 t;

	if ((sig = evhttp_find_header(h, "X-Grafana-Alerting-Signature")) ==
	    NULL)
		return (0);
	msg = body;
	if (w->ts_header != NULL) {
		if ((ts = evhttp_find_header(h, w->ts_header)) == NULL ||
		    parse_ll(ts, 0, INT64_MAX, &t, &cause) == -1 ||
		    llabs(t - now_us() / 1000000) > w->max_skew_s) {
			free(cause);
			return (0);
		}
		/* The signature covers "timestamp:body". */
		signed_buf = xmalloc(strlen(ts) + 1 + len);
		memcpy(signed_buf, ts, strlen(ts));
		signed_buf[strlen(ts)] = ':';
		memcpy(signed_buf + strlen(ts) + 1, body, len);
		msg = signed_buf;
		len += strlen(ts) + 1;
	}
	HMAC(EVP_sha256(), w->hmac, (int)strlen(w->hmac), msg, len, md,
	    &mdlen);
	free(signed_buf);
	hex_encode(md, mdlen, hex);
	for (i = 0; sig[i] != '\0' && i < sizeof low - 1; i++)
		low[i] = (char)tolower((unsigned char)sig[i]);
	low[i] = '\0';
	return (secret_equal(low, hex));
}

/* The "token" query parameter equals the configured one. */
static int
query_ok(struct evhttp_request *req, const struct webhook_auth *w)
{
	struct evkeyvalq	 q;
	const char		*query, *tok;
	int			 ok = 0;

	query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	TAILQ_INIT(&q);
	if (query == NULL || evhttp_parse_query_str(query, &q) == -1)
		return (0);
	if ((tok = evhttp_find_header(&q, "token")) != NULL)
		ok = secret_equal(tok, w->query_token);
	evhttp_clear_headers(&q);
	return (ok);
}

/*
 * Authenticates a webhook of one format: any of the format's configured
 * methods; a format with none takes the API tokens.
 */
static int
wh_authorized(struct evhttp_request *req, int fmt,
    const unsigned char *body, size_t len)
{
	const struct webhook_auth *w;
	const char		*auth;

	if (wh_creds == NULL)
		return (api_authorized(req));
	w = &wh_creds->by_format[fmt];
	auth = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (w->bearer == NULL && w->basic_user == NULL && w->hmac == NULL &&
	    w->query_token == NULL)
		return (api_authorized(req));
	if (w->bearer != NULL && auth != NULL &&
	    strncasecmp(auth, "Bearer ", 7) == 0 &&
	    secret_equal(auth + 7, w->bearer))
		return (1);
	if (w->basic_user != NULL && basic_ok(auth, w))
		return (1);
	if (w->hmac != NULL && hmac_ok(req, w, body, len))
		return (1);
	if (w->query_token != NULL && query_ok(req, w))
		return (1);
	return (0);
}

void
webhook_alerts(struct evhttp_request *req, const char *format, int dry_run)
{
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	json_error_t		 jerr;
	json_t			*body, *answer;
	const unsigned char	*data;
	const char		*name;
	size_t			 len;
	char			*cause = NULL;
	int			 fmt, status;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		api_error(req, 405, "MethodNotAllowed", "use POST");
		return;
	}
	if (format != NULL && strcmp(format, "auto") != 0 &&
	    wh_format(format) < 0) {
		api_error(req, 404, "NotFound", "format: '%s' is not one of %s",
		    format, alert_format_list(1));
		return;
	}
	len = evbuffer_get_length(in);
	data = len > 0 ? evbuffer_pullup(in, -1) : (const unsigned char *)"";
	body = json_loadb((const char *)data, len, 0, &jerr);
	fmt = wh_format(format != NULL && strcmp(format, "auto") != 0 ? format :
	    body != NULL ? alert_detect(body) :
	    alert_format_name(AFMT_GENERIC));
	name = alert_format_name(fmt);
	if (!(dry_run ? api_authorized(req) :
	    wh_authorized(req, fmt, data, len))) {
		wh_auth_failures++;
		json_decref(body);
		api_error(req, 401, "Unauthorized", "the %s webhook's "
		    "credentials are missing or wrong", name);
		return;
	}
	if (body == NULL) {
		api_error(req, 400, "InvalidRequest", "body:%d:%d: %s",
		    jerr.line, jerr.column, jerr.text);
		return;
	}
	status = trigger_intake(body, name, "webhook", dry_run, &answer,
	    &cause);
	json_decref(body);
	if (status == 400)
		api_error(req, 400, "InvalidRequest", "%s: %s", name, cause);
	else if (status == 503)
		api_error(req, 503, "StoreUnavailable", "%s", cause);
	else
		api_reply_json(req, status, answer);
	free(cause);
}

static void
wh_auth_clear(struct webhook_auth *w)
{
	char	**s[] = { &w->bearer, &w->basic_user, &w->basic_pass,
	    &w->hmac, &w->ts_header, &w->query_token };
	size_t	  i;

	for (i = 0; i < sizeof s / sizeof *s; i++) {
		secret_free(*s[i]);
		*s[i] = NULL;
	}
}

void
webhook_creds_free(struct webhook_creds *c)
{
	int	f;

	if (c == NULL)
		return;
	for (f = 0; f < AFMT_WEBHOOK_MAX; f++)
		wh_auth_clear(&c->by_format[f]);
	free(c);
}

/* Reads one format's credentials into w; -1 naming the option. */
static int
wh_auth_load(const struct conf_webhook *c, const char *opt,
    struct webhook_auth *w, char **cause)
{
	if (secret_read(c->bearer_token_file, opt, &w->bearer,
	    cause) == -1 || secret_read(c->basic_password_file, opt,
	    &w->basic_pass, cause) == -1 ||
	    secret_read(c->hmac_secret_file, opt, &w->hmac, cause) == -1 ||
	    secret_read(c->query_token_file, opt, &w->query_token,
	    cause) == -1)
		return (-1);
	if ((c->basic_username != NULL) != (w->basic_pass != NULL)) {
		*cause = xasprintf("%s: basic_username and basic_password_file "
		    "go together", opt);
		return (-1);
	}
	if (c->basic_username != NULL)
		w->basic_user = xstrdup(c->basic_username);
	if (c->timestamp_header != NULL)
		w->ts_header = xstrdup(c->timestamp_header);
	w->max_skew_s = c->max_skew_s;
	return (0);
}

struct webhook_creds *
webhook_creds_load(const struct conf *conf, char **cause)
{
	struct webhook_creds	*c;
	char			 opt[96];
	int			 f;

	c = xcalloc(1, sizeof *c);
	for (f = 0; f < AFMT_WEBHOOK_MAX; f++) {
		snprintf(opt, sizeof opt, "auth.webhooks.%s",
		    alert_format_name(f));
		if (wh_auth_load(&conf->webhooks[f], opt, &c->by_format[f],
		    cause) == -1) {
			webhook_creds_free(c);
			return (NULL);
		}
	}
	return (c);
}

void
webhook_set_creds(struct webhook_creds *c)
{
	if (wh_creds == NULL)
		metrics_register(wh_metrics, NULL);
	webhook_creds_free(wh_creds);
	wh_creds = c;
}

void
webhook_shutdown(void)
{
	if (wh_creds != NULL)
		metrics_unregister(wh_metrics);
	webhook_creds_free(wh_creds);
	wh_creds = NULL;
}
