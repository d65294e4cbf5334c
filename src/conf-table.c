/* The one table of configuration options. */
#include "config.h"

#include <stddef.h>

#include "conf.h"

#define O(f)	offsetof(struct conf, f)
#define L(f)	offsetof(struct conf_listen, f)
#define CONF_END	{ NULL, 0, 0, 0, 0, NULL, 0, NULL, NULL, NULL, 0, 0 }

static const struct conf_opt tls_opts[] = {
	{ "cert_file", CT_STRING, L(tls.cert_file), 0, 0, NULL, 0, NULL,
	  "PEM certificate chain the listener presents", NULL, 0, 0 },
	{ "key_file", CT_STRING, L(tls.key_file), 0, 0, NULL, 0, NULL,
	  "PEM private key of the certificate", NULL, 0, 0 },
	{ "client_ca_file", CT_STRING, L(tls.client_ca_file), 0, 0, NULL, 0,
	  NULL, "if set, clients must present a certificate signed by this CA",
	  NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt listen_opts[] = {
	{ "address", CT_STRING, L(address), 0, 0, "\"127.0.0.1\"", 0, NULL,
	  "IPv4 or IPv6 address to listen on", NULL, 0, 0 },
	{ "port", CT_INT, L(port), 1, 65535, "8087", 0, NULL,
	  "TCP port", NULL, 0, 0 },
	{ "tls", CT_OBJECT, 0, 0, 0, NULL, 0, NULL,
	  "serve HTTPS on this listener", tls_opts, 0, L(has_tls) },
	CONF_END
};

#define WH(f)	offsetof(struct conf_webhook, f)
#define WEBHOOK_OPTS(name, i)						\
static const struct conf_opt name[] = {					\
	{ "bearer_token_file", CT_STRING,				\
	  O(webhooks[i]) + WH(bearer_token_file), 0, 0, NULL, 1, NULL,	\
	  "file holding the token the sender sends as "			\
	  "'Authorization: Bearer'", NULL, 0, 0 },			\
	{ "basic_username", CT_STRING,					\
	  O(webhooks[i]) + WH(basic_username), 0, 0, NULL, 1, NULL,	\
	  "user name of HTTP basic auth (Alertmanager's basic_auth)",	\
	  NULL, 0, 0 },							\
	{ "basic_password_file", CT_STRING,				\
	  O(webhooks[i]) + WH(basic_password_file), 0, 0, NULL, 1, NULL,\
	  "file holding the basic-auth password", NULL, 0, 0 },		\
	{ "hmac_secret_file", CT_STRING,				\
	  O(webhooks[i]) + WH(hmac_secret_file), 0, 0, NULL, 1, NULL,	\
	  "file holding the HMAC-SHA256 secret of "			\
	  "X-Grafana-Alerting-Signature", NULL, 0, 0 },			\
	{ "timestamp_header", CT_STRING,				\
	  O(webhooks[i]) + WH(timestamp_header), 0, 0, NULL, 1, NULL,	\
	  "header holding the signed timestamp (signature over "	\
	  "timestamp:body)", NULL, 0, 0 },				\
	{ "max_skew_s", CT_INT, O(webhooks[i]) + WH(max_skew_s), 1,	\
	  86400, "300", 1, NULL, "replay window of signed timestamps",	\
	  NULL, 0, 0 },							\
	{ "query_token_file", CT_STRING,				\
	  O(webhooks[i]) + WH(query_token_file), 0, 0, NULL, 1, NULL,	\
	  "file holding the token expected as ?token= (Azure action "	\
	  "groups)", NULL, 0, 0 },					\
	CONF_END							\
}
WEBHOOK_OPTS(wh_alertmanager_opts, WH_ALERTMANAGER);
WEBHOOK_OPTS(wh_grafana_opts, WH_GRAFANA);
WEBHOOK_OPTS(wh_azure_opts, WH_AZURE);
WEBHOOK_OPTS(wh_generic_opts, WH_GENERIC);

static const struct conf_opt webhooks_opts[] = {
	{ "alertmanager", CT_OBJECT, 0, 0, 0, NULL, 1, NULL,
	  "credentials of Alertmanager webhooks", wh_alertmanager_opts, 0, 0 },
	{ "grafana", CT_OBJECT, 0, 0, 0, NULL, 1, NULL,
	  "credentials of Grafana webhooks", wh_grafana_opts, 0, 0 },
	{ "azure-monitor", CT_OBJECT, 0, 0, 0, NULL, 1, NULL,
	  "credentials of Azure Monitor action groups", wh_azure_opts, 0, 0 },
	{ "generic", CT_OBJECT, 0, 0, 0, NULL, 1, NULL,
	  "credentials of generic alert senders", wh_generic_opts, 0, 0 },
	CONF_END
};

static const struct conf_opt rules_opts[] = {
	{ "dir", CT_STRING, O(rules_dir), 0, 0, "\"./rules\"", 1, NULL,
	  "directory of rule files (*.json)", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt auth_opts[] = {
	{ "api_tokens_file", CT_STRING, O(api_tokens_file), 0, 0, NULL, 1,
	  NULL, "file of bearer tokens, one a line (default: api.token "
	  "beside state.path, made at first start)", NULL, 0, 0 },
	{ "anonymous_loopback", CT_BOOL, O(anonymous_loopback), 0, 0,
	  "false", 1, NULL, "with no api_tokens_file, loopback listeners "
	  "take requests without a token: any local user may capture; for a "
	  "single-user box only", NULL, 0, 0 },
	{ "webhooks", CT_OBJECT, 0, 0, 0, NULL, 1, NULL,
	  "per-format webhook credentials; a format without them takes "
	  "the API tokens", webhooks_opts, 0, 0 },
	CONF_END
};

static const struct conf_opt http_opts[] = {
	{ "max_body_bytes", CT_INT, O(max_body_bytes), 1024, 67108864,
	  "1048576", 0, NULL, "larger request bodies are refused with 413",
	  NULL, 0, 0 },
	{ "timeout_s", CT_INT, O(request_timeout_s), 1, 3600, "30", 0, NULL,
	  "idle connection timeout", NULL, 0, 0 },
	{ "max_header_bytes", CT_INT, O(max_header_bytes), 1024, 1048576,
	  "32768", 0, NULL, "request line and headers past this many bytes: "
	  "the request is refused and the connection closed", NULL, 0, 0 },
	{ "max_headers", CT_INT, O(max_headers), 8, 10000, "100", 0, NULL,
	  "more request headers than this are refused with 431", NULL, 0,
	  0 },
	{ "max_connections", CT_INT, O(max_connections), 1, 65536, "256", 0,
	  NULL, "open client connections across all listeners; a request on "
	  "one more is answered 503 and its connection closed", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt defaults_opts[] = {
	{ "time_limit_s", CT_INT, O(def_time_limit_s), 1, 18000, "18000", 1,
	  NULL, "time limit of a capture that names none", NULL, 0, 0 },
	{ "max_bytes_per_session", CT_INT, O(def_max_bytes), 1024,
	  4294967295LL, "1073741824", 1, NULL,
	  "byte limit of a capture that names none", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt maximums_opts[] = {
	{ "time_limit_s", CT_INT, O(max_time_limit_s), 1, 604800, "18000", 1,
	  NULL, "largest time limit a capture may ask for", NULL, 0, 0 },
	{ "max_bytes_per_session", CT_INT, O(max_max_bytes), 1024,
	  1099511627776LL, "4294967295", 1, NULL,
	  "largest byte limit a capture may ask for", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt captures_opts[] = {
	{ "root", CT_STRING, O(captures_root), 0, 0, "\"./var/captures\"", 0,
	  NULL, "directory every capture file is confined to", NULL, 0, 0 },
	{ "max_concurrent", CT_INT, O(max_concurrent), 1, 4096, "16", 1, NULL,
	  "running captures on the node; more is 429", NULL, 0, 0 },
	{ "max_total_bytes", CT_INT, O(max_total_bytes), 1024,
	  1125899906842624LL, "10737418240", 1, NULL,
	  "capture files kept plus the byte limits of running captures; "
	  "more is 429", NULL, 0, 0 },
	{ "ring_bytes", CT_INT, O(ring_bytes), 1048576, 2147483647LL,
	  "67108864", 0, NULL,
	  "kernel ring per interface, shared by all its captures", NULL, 0, 0 },
	{ "ring_linger_s", CT_INT, O(ring_linger_s), 0, 3600, "30", 0, NULL,
	  "keep an interface's ring open this long after its last capture "
	  "(0: close at once)", NULL, 0, 0 },
	{ "sha256", CT_BOOL, O(hash_files), 0, 0, "true", 1, NULL,
	  "hash each file as it is written, for the record's sha256 (about "
	  "half the CPU of a busy capture)", NULL, 0, 0 },
	{ "defaults", CT_OBJECT, 0, 0, 0, NULL, 0, NULL,
	  "what a capture gets when it names nothing", defaults_opts, 0, 0 },
	{ "maximums", CT_OBJECT, 0, 0, 0, NULL, 0, NULL,
	  "the most a capture may ask for", maximums_opts, 0, 0 },
	CONF_END
};

static const struct conf_opt state_opts[] = {
	{ "path", CT_STRING, O(state_path), 0, 0, "\"./var/alertcap.db\"", 0,
	  NULL, "SQLite database of capture records (WAL)", NULL, 0, 0 },
	{ "synchronous", CT_STRING, O(state_sync), 0, 0, "\"normal\"", 0,
	  "normal|full", "normal: every record survives a daemon crash; "
	  "full: also a power loss, at an fsync per transition", NULL, 0, 0 },
	{ "on_corrupt", CT_STRING, O(state_on_corrupt), 0, 0, "\"refuse\"", 0,
	  "refuse|move-aside", "a database that fails SQLite's quick_check at "
	  "start: refuse to start, or move it aside as PATH.corrupt and start "
	  "with an empty one", NULL, 0, 0 },
	CONF_END
};

#define MS(f)	offsetof(struct conf_mqtt_sub, f)
static const struct conf_opt mqtt_sub_opts[] = {
	{ "topic", CT_STRING, MS(topic), 0, 0, NULL, 0, NULL,
	  "topic filter to subscribe to (+ and # allowed)", NULL, 0, 0 },
	{ "format", CT_STRING, MS(format), 0, 0, "\"auto\"", 0,
	  "auto|alertmanager|grafana|azure-monitor|generic|telegraf-json",
	  "how the payloads are read", NULL, 0, 0 },
	{ "qos", CT_INT, MS(qos), 0, 2, "1", 0, NULL,
	  "subscription QoS; 1 or 2 so the broker queues while away", NULL,
	  0, 0 },
	CONF_END
};

static const struct conf_opt mqtt_tls_opts[] = {
	{ "ca_file", CT_STRING, O(mqtt_ca_file), 0, 0, NULL, 0, NULL,
	  "CA certificate(s) that sign the broker's certificate", NULL, 0, 0 },
	{ "cert_file", CT_STRING, O(mqtt_cert_file), 0, 0, NULL, 0, NULL,
	  "client certificate, if the broker asks for one", NULL, 0, 0 },
	{ "key_file", CT_STRING, O(mqtt_key_file), 0, 0, NULL, 0, NULL,
	  "key of the client certificate", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt mqtt_opts[] = {
	{ "host", CT_STRING, O(mqtt_host), 0, 0, "\"127.0.0.1\"", 0, NULL,
	  "broker host", NULL, 0, 0 },
	{ "port", CT_INT, O(mqtt_port), 1, 65535, "1883", 0, NULL,
	  "broker port", NULL, 0, 0 },
	{ "protocol", CT_STRING, O(mqtt_protocol), 0, 0, "\"v5\"", 0,
	  "v5|v311", "MQTT version; commands and the session expiry need v5",
	  NULL, 0, 0 },
	{ "client_id", CT_STRING, O(mqtt_client_id), 0, 0, NULL, 0, NULL,
	  "client id (default alertcap-NODE); the broker keeps its session",
	  NULL, 0, 0 },
	{ "username", CT_STRING, O(mqtt_username), 0, 0, NULL, 0, NULL,
	  "user name", NULL, 0, 0 },
	{ "password_file", CT_STRING, O(mqtt_password_file), 0, 0, NULL, 0,
	  NULL, "file holding the password", NULL, 0, 0 },
	{ "keepalive_s", CT_INT, O(mqtt_keepalive_s), 5, 3600, "30", 0, NULL,
	  "keepalive interval", NULL, 0, 0 },
	{ "session_expiry_s", CT_INT, O(mqtt_session_expiry_s), 0,
	  4294967295LL, "86400", 0, NULL, "how long the broker keeps the "
	  "session, and queues alerts, while this node is away", NULL, 0, 0 },
	{ "reconnect_max_s", CT_INT, O(mqtt_reconnect_max_s), 1, 3600, "30",
	  0, NULL, "longest wait between reconnect attempts (backoff with "
	  "jitter)", NULL, 0, 0 },
	{ "request_timeout_s", CT_INT, O(mqtt_request_timeout_s), 1, 300,
	  "10", 0, NULL, "how long the API waits for another node's answer",
	  NULL, 0, 0 },
	{ "tls", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "connect with TLS",
	  mqtt_tls_opts, 0, O(mqtt_has_tls) },
	{ "topic_prefix", CT_STRING, O(mqtt_topic_prefix), 0, 0,
	  "\"alertcap\"", 0, NULL, "first level of alertcap's own topics",
	  NULL, 0, 0 },
	{ "subscriptions", CT_ARRAY, O(mqtt_subs), 0, 64, "[]", 0, NULL,
	  "alert and metric feeds", mqtt_sub_opts,
	  sizeof(struct conf_mqtt_sub), 0 },
	CONF_END
};

#define A(f)	offsetof(struct conf_account, f)
static const struct conf_opt account_opts[] = {
	{ "type", CT_STRING, A(type), 0, 0, NULL, 0,
	  "azure-blob|s3|http-put", "the kind of store", NULL, 0, 0 },
	{ "endpoint", CT_STRING, A(endpoint), 0, 0, NULL, 0, NULL,
	  "azure-blob: blob service URL (with the account in the path for "
	  "Azurite); s3: service URL (default https://s3.REGION.amazonaws.com)",
	  NULL, 0, 0 },
	{ "account", CT_STRING, A(account), 0, 0, NULL, 0, NULL,
	  "azure-blob: storage account name", NULL, 0, 0 },
	{ "key_file", CT_STRING, A(key_file), 0, 0, NULL, 0, NULL,
	  "azure-blob: file holding the base64 account key (shared key)",
	  NULL, 0, 0 },
	{ "container", CT_STRING, A(container), 0, 0, NULL, 0, NULL,
	  "azure-blob: container (created if missing)", NULL, 0, 0 },
	{ "container_url", CT_STRING, A(container_url), 0, 0, NULL, 0, NULL,
	  "azure-blob: container URL, used with a SAS token", NULL, 0, 0 },
	{ "sas_token_file", CT_STRING, A(sas_token_file), 0, 0, NULL, 0, NULL,
	  "azure-blob: file holding a SAS token (sv=...&sig=...)", NULL, 0,
	  0 },
	{ "bucket", CT_STRING, A(bucket), 0, 0, NULL, 0, NULL,
	  "s3: bucket", NULL, 0, 0 },
	{ "region", CT_STRING, A(region), 0, 0, "\"us-east-1\"", 0, NULL,
	  "s3: region, part of Signature V4", NULL, 0, 0 },
	{ "access_key_id", CT_STRING, A(access_key_id), 0, 0, NULL, 0, NULL,
	  "s3: access key id", NULL, 0, 0 },
	{ "secret_access_key_file", CT_STRING, A(secret_access_key_file), 0,
	  0, NULL, 0, NULL, "s3: file holding the secret access key", NULL,
	  0, 0 },
	{ "path_style", CT_BOOL, A(path_style), 0, 0, "false", 0, NULL,
	  "s3: ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY", NULL, 0,
	  0 },
	{ "url", CT_STRING, A(url), 0, 0, NULL, 0, NULL,
	  "http-put: URL template ({name}, {node}, {path}...)", NULL, 0, 0 },
	{ "headers", CT_STRLIST, A(headers), 0, 0, NULL, 0, NULL,
	  "http-put: extra request headers, \"Name: value\"", NULL, 0, 0 },
	{ "path", CT_STRING, A(path), 0, 0,
	  "\"alertcap/{node}/{yyyy}/{mm}/{dd}/{name}_{created}.pcap\"", 0,
	  NULL, "object name template", NULL, 0, 0 },
	{ "block_size", CT_INT, A(block_size), 65536, 4194304000LL, "8388608", 0,
	  NULL, "files larger than this go up in blocks/parts of this size "
	  "(AWS S3 wants at least 5 MiB)", NULL, 0, 0 },
	{ "parallel", CT_INT, A(parallel), 1, 32, "4", 0, NULL,
	  "blocks/parts of one upload sent at once", NULL, 0, 0 },
	{ "max_age_s", CT_INT, A(max_age_s), 60, 2592000, "86400", 0, NULL,
	  "retry a failing upload for this long, then give up", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt uploads_opts[] = {
	{ "concurrency", CT_INT, O(upload_concurrency), 1, 64, "4", 0, NULL,
	  "uploads running at once", NULL, 0, 0 },
	CONF_END
};

static const struct conf_opt log_opts[] = {
	{ "level", CT_STRING, O(log_level), 0, 0, "\"info\"", 1,
	  "error|warn|info|debug", "least severe level logged", NULL, 0, 0 },
	CONF_END
};

const struct conf_opt conf_table[] = {
	{ "node", CT_STRING, O(node), 0, 0, NULL, 0, NULL,
	  "this node's name (default: the host name)", NULL, 0, 0 },
	{ "listen", CT_ARRAY, O(listen), 1, 16,
	  "[{\"address\": \"127.0.0.1\", \"port\": 8087}]", 0, NULL,
	  "REST API and webhook listeners", listen_opts,
	  sizeof(struct conf_listen), 0 },
	{ "auth", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "API authentication",
	  auth_opts, 0, 0 },
	{ "http", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "HTTP server limits",
	  http_opts, 0, 0 },
	{ "captures", CT_OBJECT, 0, 0, 0, NULL, 0, NULL,
	  "capture engine and limits", captures_opts, 0, 0 },
	{ "rules", CT_OBJECT, 0, 0, 0, NULL, 1, NULL, "alert rules",
	  rules_opts, 0, 0 },
	{ "mqtt", CT_OBJECT, 0, 0, 0, NULL, 0, NULL,
	  "the broker: alert feeds, lifecycle topics, commands, the fleet",
	  mqtt_opts, 0, O(has_mqtt) },
	{ "storage", CT_MAP, O(accounts), 0, 0, NULL, 0, NULL,
	  "storage accounts captures upload to, by name", account_opts,
	  sizeof(struct conf_account), 0 },
	{ "uploads", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "the uploader",
	  uploads_opts, 0, 0 },
	{ "state", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "the lifecycle store",
	  state_opts, 0, 0 },
	{ "log", CT_OBJECT, 0, 0, 0, NULL, 0, NULL, "logging", log_opts, 0,
	  0 },
	CONF_END
};
