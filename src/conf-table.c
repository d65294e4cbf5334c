/* The one table of configuration options. */
#include "config.h"

#include <stddef.h>

#include "conf.h"

#define O(f)	offsetof(struct conf, f)
#define L(f)	offsetof(struct conf_listen, f)
#define CONF_END	{ .key = NULL }

static const struct conf_opt tls_opts[] = {
	{ .key = "cert_file",
	  .type = CT_STRING,
	  .offset = L(tls.cert_file),
	  .help = "PEM certificate chain the listener presents"
	},
	{ .key = "key_file",
	  .type = CT_STRING,
	  .offset = L(tls.key_file),
	  .help = "PEM private key of the certificate"
	},
	{ .key = "client_ca_file",
	  .type = CT_STRING,
	  .offset = L(tls.client_ca_file),
	  .help = "if set, clients must present a certificate signed by this "
	      "CA"
	},
	CONF_END
};

static const struct conf_opt listen_opts[] = {
	{ .key = "address",
	  .type = CT_STRING,
	  .offset = L(address),
	  .def = "\"127.0.0.1\"",
	  .help = "IPv4 or IPv6 address to listen on"
	},
	{ .key = "port",
	  .type = CT_INT,
	  .offset = L(port),
	  .min = 1,
	  .max = 65535,
	  .def = "8087",
	  .help = "TCP port"
	},
	{ .key = "tls",
	  .type = CT_OBJECT,
	  .help = "serve HTTPS on this listener",
	  .children = tls_opts,
	  .present = L(has_tls)
	},
	CONF_END
};

#define WH(f)	offsetof(struct conf_webhook, f)
static const struct conf_opt webhook_opts[] = {
	{ .key = "bearer_token_file",
	  .type = CT_STRING,
	  .offset = WH(bearer_token_file),
	  .reload = 1,
	  .help = "file holding the token the sender sends as "
	      "'Authorization: Bearer'"
	},
	{ .key = "basic_username",
	  .type = CT_STRING,
	  .offset = WH(basic_username),
	  .reload = 1,
	  .help = "user name of HTTP basic auth (Alertmanager's basic_auth)"
	},
	{ .key = "basic_password_file",
	  .type = CT_STRING,
	  .offset = WH(basic_password_file),
	  .reload = 1,
	  .help = "file holding the basic-auth password"
	},
	{ .key = "hmac_secret_file",
	  .type = CT_STRING,
	  .offset = WH(hmac_secret_file),
	  .reload = 1,
	  .help = "file holding the HMAC-SHA256 secret of "
	      "X-Grafana-Alerting-Signature"
	},
	{ .key = "timestamp_header",
	  .type = CT_STRING,
	  .offset = WH(timestamp_header),
	  .reload = 1,
	  .help = "header holding the signed timestamp (signature over "
	      "timestamp:body)"
	},
	{ .key = "max_skew_s",
	  .type = CT_INT,
	  .offset = WH(max_skew_s),
	  .min = 1,
	  .max = 86400,
	  .def = "300",
	  .reload = 1,
	  .help = "replay window of signed timestamps"
	},
	{ .key = "query_token_file",
	  .type = CT_STRING,
	  .offset = WH(query_token_file),
	  .reload = 1,
	  .help = "file holding the token expected as ?token= (Azure action "
	      "groups)"
	},
	CONF_END
};

/* One object of credentials per webhook format. */
#define WH_FORMAT(id, name, senders)					\
	{ .key = name,							\
	  .type = CT_OBJECT,						\
	  .offset = O(webhooks[id]),					\
	  .reload = 1,							\
	  .help = "credentials of " senders,				\
	  .children = webhook_opts					\
	},
static const struct conf_opt webhooks_opts[] = {
	ALERT_WEBHOOK_FORMATS(WH_FORMAT)
	CONF_END
};

static const struct conf_opt rules_opts[] = {
	{ .key = "dir",
	  .type = CT_STRING,
	  .offset = O(rules_dir),
	  .def = "\"./rules\"",
	  .reload = 1,
	  .help = "directory of rule files (*.json)"
	},
	CONF_END
};

static const struct conf_opt auth_opts[] = {
	{ .key = "api_tokens_file",
	  .type = CT_STRING,
	  .offset = O(api_tokens_file),
	  .reload = 1,
	  .help = "file of bearer tokens, one a line (default: api.token "
	      "beside state.path, made at first start)"
	},
	{ .key = "anonymous_loopback",
	  .type = CT_BOOL,
	  .offset = O(anonymous_loopback),
	  .def = "false",
	  .reload = 1,
	  .help = "with no api_tokens_file, loopback listeners take requests "
	      "without a token: any local user may capture; for a "
	      "single-user box only"
	},
	{ .key = "webhooks",
	  .type = CT_OBJECT,
	  .reload = 1,
	  .help = "per-format webhook credentials; a format without them "
	      "takes the API tokens",
	  .children = webhooks_opts
	},
	CONF_END
};

static const struct conf_opt http_opts[] = {
	{ .key = "max_body_bytes",
	  .type = CT_INT,
	  .offset = O(max_body_bytes),
	  .min = 1024,
	  .max = 67108864,
	  .def = "1048576",
	  .help = "larger request bodies are refused with 413"
	},
	{ .key = "timeout_s",
	  .type = CT_INT,
	  .offset = O(request_timeout_s),
	  .min = 1,
	  .max = 3600,
	  .def = "30",
	  .help = "idle connection timeout"
	},
	{ .key = "max_header_bytes",
	  .type = CT_INT,
	  .offset = O(max_header_bytes),
	  .min = 1024,
	  .max = 1048576,
	  .def = "32768",
	  .help = "request line and headers past this many bytes: the "
	      "request is refused and the connection closed"
	},
	{ .key = "max_headers",
	  .type = CT_INT,
	  .offset = O(max_headers),
	  .min = 8,
	  .max = 10000,
	  .def = "100",
	  .help = "more request headers than this are refused with 431"
	},
	{ .key = "max_connections",
	  .type = CT_INT,
	  .offset = O(max_connections),
	  .min = 1,
	  .max = 65536,
	  .def = "256",
	  .help = "open client connections across all listeners; a request "
	      "on one more is answered 503 and its connection closed"
	},
	CONF_END
};

static const struct conf_opt retention_opts[] = {
	{ .key = "max_age_s",
	  .type = CT_INT,
	  .offset = O(retention_max_age_s),
	  .min = 0,
	  .max = 315360000,
	  .def = "0",
	  .reload = 1,
	  .help = "delete a finished capture's file this long after it "
	      "stopped; 0 = keep files however old"
	},
	{ .key = "max_bytes",
	  .type = CT_INT,
	  .offset = O(retention_max_bytes),
	  .min = 0,
	  .max = 1125899906842624LL,
	  .def = "17179869184",
	  .reload = 1,
	  .help = "bytes of finished captures' files kept on the node "
	      "(forgotten captures' files included); 0 = no bound"
	},
	CONF_END
};

static const struct conf_opt defaults_opts[] = {
	{ .key = "time_limit_s",
	  .type = CT_INT,
	  .offset = O(def_time_limit_s),
	  .min = 1,
	  .max = 18000,
	  .def = "18000",
	  .reload = 1,
	  .help = "time limit of a capture that names none"
	},
	{ .key = "max_bytes_per_session",
	  .type = CT_INT,
	  .offset = O(def_max_bytes),
	  .min = 1024,
	  .max = 4294967295LL,
	  .def = "1073741824",
	  .reload = 1,
	  .help = "byte limit of a capture that names none"
	},
	CONF_END
};

static const struct conf_opt maximums_opts[] = {
	{ .key = "time_limit_s",
	  .type = CT_INT,
	  .offset = O(max_time_limit_s),
	  .min = 1,
	  .max = 604800,
	  .def = "18000",
	  .reload = 1,
	  .help = "largest time limit a capture may ask for"
	},
	{ .key = "continuous_time_limit_s",
	  .type = CT_INT,
	  .offset = O(max_continuous_time_limit_s),
	  .min = 1,
	  .max = 31536000,
	  .def = "604800",
	  .reload = 1,
	  .help = "largest time limit a continuous capture (a ring of files) "
	      "may ask for"
	},
	{ .key = "max_bytes_per_session",
	  .type = CT_INT,
	  .offset = O(max_max_bytes),
	  .min = 1024,
	  .max = 1099511627776LL,
	  .def = "4294967295",
	  .reload = 1,
	  .help = "largest byte limit a capture may ask for"
	},
	CONF_END
};

#define RP(f)	offsetof(struct conf_replay, f)
static const struct conf_opt replay_opts[] = {
	{ .key = "dir",
	  .type = CT_STRING,
	  .offset = RP(dir),
	  .help = "directory watched for pcap files (Ethernet, *.pcap): each "
	      "one written or moved there while the interface is open is "
	      "delivered as its packets, then removed"
	},
	CONF_END
};

static const struct conf_opt captures_opts[] = {
	{ .key = "root",
	  .type = CT_STRING,
	  .offset = O(captures_root),
	  .def = "\"./var/captures\"",
	  .help = "directory every capture file is confined to"
	},
	{ .key = "max_concurrent",
	  .type = CT_INT,
	  .offset = O(max_concurrent),
	  .min = 1,
	  .max = 4096,
	  .def = "16",
	  .reload = 1,
	  .help = "running captures on the node; more is 429"
	},
	{ .key = "max_total_bytes",
	  .type = CT_INT,
	  .offset = O(max_total_bytes),
	  .min = 1024,
	  .max = 1125899906842624LL,
	  .def = "34359738368",
	  .reload = 1,
	  .help = "capture files kept plus the byte limits of running "
	      "captures; more is 429 (the default holds max_concurrent "
	      "captures at the default byte limit beside retention.max_bytes "
	      "of finished files)"
	},
	{ .key = "ring_bytes",
	  .type = CT_INT,
	  .offset = O(ring_bytes),
	  .min = 1048576,
	  .max = 2147483647LL,
	  .def = "67108864",
	  .help = "kernel ring per interface, shared by all its captures"
	},
	{ .key = "ring_linger_s",
	  .type = CT_INT,
	  .offset = O(ring_linger_s),
	  .max = 3600,
	  .def = "30",
	  .help = "keep an interface's ring open this long after its last "
	      "capture (0: close at once)"
	},
	{ .key = "preopen",
	  .type = CT_STRLIST,
	  .offset = O(preopen),
	  .reload = 1,
	  .help = "interfaces opened at start and kept open, taking no "
	      "packets until a capture, so that the first one starts at once"
	},
	{ .key = "replay",
	  .type = CT_MAP,
	  .offset = O(replays),
	  .help = "interfaces whose packets come from pcap files instead of "
	      "the network, by name: for rehearsing rules and filters on "
	      "recorded traffic, and for tests without capture privileges",
	  .children = replay_opts,
	  .elem_size = sizeof(struct conf_replay)
	},
	{ .key = "format",
	  .type = CT_STRING,
	  .offset = O(captures_format),
	  .def = "\"pcapng\"",
	  .choices = "pcapng|pcap",
	  .reload = 1,
	  .help = "file format of a capture that names none: pcapng (the "
	      "trigger, filter and drop counts inside) or classic pcap"
	},
	{ .key = "sha256",
	  .type = CT_BOOL,
	  .offset = O(hash_files),
	  .def = "true",
	  .reload = 1,
	  .help = "hash each file as it is written, for the record's sha256 "
	      "(about half the CPU of a busy capture)"
	},
	{ .key = "context_max_sockets",
	  .type = CT_INT,
	  .offset = O(context_max_sockets),
	  .min = 0,
	  .max = 1000000,
	  .def = "256",
	  .reload = 1,
	  .help = "TCP and UDP sockets each in a capture's context snapshot "
	      "(\"context\": true), the busiest first"
	},
	{ .key = "retention",
	  .type = CT_OBJECT,
	  .help = "when finished captures' local files are deleted, oldest "
	      "first (never a running capture's, never one with an upload "
	      "pending)",
	  .children = retention_opts
	},
	{ .key = "defaults",
	  .type = CT_OBJECT,
	  .help = "what a capture gets when it names nothing",
	  .children = defaults_opts
	},
	{ .key = "maximums",
	  .type = CT_OBJECT,
	  .help = "the most a capture may ask for",
	  .children = maximums_opts
	},
	CONF_END
};

static const struct conf_opt state_opts[] = {
	{ .key = "path",
	  .type = CT_STRING,
	  .offset = O(state_path),
	  .def = "\"./var/alertcap.db\"",
	  .help = "SQLite database of capture records (WAL)"
	},
	{ .key = "synchronous",
	  .type = CT_STRING,
	  .offset = O(state_sync),
	  .def = "\"normal\"",
	  .choices = "normal|full",
	  .help = "normal: every record survives a daemon crash; full: also "
	      "a power loss, at an fsync per transition"
	},
	{ .key = "on_corrupt",
	  .type = CT_STRING,
	  .offset = O(state_on_corrupt),
	  .def = "\"refuse\"",
	  .choices = "refuse|move-aside",
	  .help = "a database that fails SQLite's quick_check at start: "
	      "refuse to start, or move it aside as PATH.corrupt and start "
	      "with an empty one"
	},
	CONF_END
};

#define MS(f)	offsetof(struct conf_mqtt_sub, f)
static const struct conf_opt mqtt_sub_opts[] = {
	{ .key = "topic",
	  .type = CT_STRING,
	  .offset = MS(topic),
	  .help = "topic filter to subscribe to (+ and # allowed)"
	},
	{ .key = "format",
	  .type = CT_STRING,
	  .offset = MS(format),
	  .def = "\"auto\"",
	  .choices = ALERT_FORMAT_CHOICES,
	  .help = "how the payloads are read"
	},
	{ .key = "qos",
	  .type = CT_INT,
	  .offset = MS(qos),
	  .max = 2,
	  .def = "1",
	  .help = "subscription QoS; 1 or 2 so the broker queues while away"
	},
	CONF_END
};

static const struct conf_opt mqtt_tls_opts[] = {
	{ .key = "ca_file",
	  .type = CT_STRING,
	  .offset = O(mqtt_ca_file),
	  .help = "CA certificate(s) that sign the broker's certificate"
	},
	{ .key = "cert_file",
	  .type = CT_STRING,
	  .offset = O(mqtt_cert_file),
	  .help = "client certificate, if the broker asks for one"
	},
	{ .key = "key_file",
	  .type = CT_STRING,
	  .offset = O(mqtt_key_file),
	  .help = "key of the client certificate"
	},
	CONF_END
};

static const struct conf_opt mqtt_opts[] = {
	{ .key = "host",
	  .type = CT_STRING,
	  .offset = O(mqtt_host),
	  .def = "\"127.0.0.1\"",
	  .help = "broker host"
	},
	{ .key = "port",
	  .type = CT_INT,
	  .offset = O(mqtt_port),
	  .min = 1,
	  .max = 65535,
	  .def = "1883",
	  .help = "broker port"
	},
	{ .key = "protocol",
	  .type = CT_STRING,
	  .offset = O(mqtt_protocol),
	  .def = "\"v5\"",
	  .choices = "v5|v311",
	  .help = "MQTT version; commands and the session expiry need v5"
	},
	{ .key = "client_id",
	  .type = CT_STRING,
	  .offset = O(mqtt_client_id),
	  .help = "client id (default alertcap-NODE); the broker keeps its "
	      "session"
	},
	{ .key = "username",
	  .type = CT_STRING,
	  .offset = O(mqtt_username),
	  .help = "user name"
	},
	{ .key = "password_file",
	  .type = CT_STRING,
	  .offset = O(mqtt_password_file),
	  .help = "file holding the password"
	},
	{ .key = "keepalive_s",
	  .type = CT_INT,
	  .offset = O(mqtt_keepalive_s),
	  .min = 5,
	  .max = 3600,
	  .def = "30",
	  .help = "keepalive interval"
	},
	{ .key = "session_expiry_s",
	  .type = CT_INT,
	  .offset = O(mqtt_session_expiry_s),
	  .max = 4294967295LL,
	  .def = "86400",
	  .help = "how long the broker keeps the session, and queues alerts, "
	      "while this node is away"
	},
	{ .key = "reconnect_max_s",
	  .type = CT_INT,
	  .offset = O(mqtt_reconnect_max_s),
	  .min = 1,
	  .max = 3600,
	  .def = "30",
	  .help = "longest wait between reconnect attempts (backoff with "
	      "jitter)"
	},
	{ .key = "request_timeout_s",
	  .type = CT_INT,
	  .offset = O(mqtt_request_timeout_s),
	  .min = 1,
	  .max = 300,
	  .def = "10",
	  .help = "how long the API waits for another node's answer"
	},
	{ .key = "tls",
	  .type = CT_OBJECT,
	  .help = "connect with TLS",
	  .children = mqtt_tls_opts,
	  .present = O(mqtt_has_tls)
	},
	{ .key = "topic_prefix",
	  .type = CT_STRING,
	  .offset = O(mqtt_topic_prefix),
	  .def = "\"alertcap\"",
	  .help = "first level of alertcap's own topics"
	},
	{ .key = "subscriptions",
	  .type = CT_ARRAY,
	  .offset = O(mqtt_subs),
	  .max = 64,
	  .def = "[]",
	  .help = "alert and metric feeds",
	  .children = mqtt_sub_opts,
	  .elem_size = sizeof(struct conf_mqtt_sub)
	},
	CONF_END
};

#define N(f)	offsetof(struct conf_notify, f)
static const struct conf_opt notify_opts[] = {
	{ .key = "type",
	  .type = CT_STRING,
	  .offset = N(type),
	  .choices = "webhook|grafana-annotation",
	  .help = "webhook: the record as JSON with a text line (Slack, "
	      "Teams); grafana-annotation: an annotation through Grafana's "
	      "HTTP API"
	},
	{ .key = "url",
	  .type = CT_STRING,
	  .offset = N(url),
	  .help = "webhook: where to POST; grafana-annotation: Grafana's "
	      "base URL"
	},
	{ .key = "events",
	  .type = CT_STRLIST,
	  .offset = N(events),
	  .def = "[\"Stopped\", \"Uploaded\", \"Failed\"]",
	  .help = "which of Started, Stopped, Uploaded, Failed are sent"
	},
	{ .key = "headers",
	  .type = CT_STRLIST,
	  .offset = N(headers),
	  .help = "extra request headers, \"Name: value\""
	},
	{ .key = "hmac_secret_file",
	  .type = CT_STRING,
	  .offset = N(hmac_secret_file),
	  .help = "webhook: file holding a secret; each body is signed "
	      "with HMAC-SHA256 in signature_header"
	},
	{ .key = "signature_header",
	  .type = CT_STRING,
	  .offset = N(signature_header),
	  .def = "\"X-Alertcap-Signature\"",
	  .help = "webhook: the header of the signature, \"sha256=HEX\""
	},
	{ .key = "token_file",
	  .type = CT_STRING,
	  .offset = N(token_file),
	  .help = "grafana-annotation: file holding a service account token"
	},
	{ .key = "max_age_s",
	  .type = CT_INT,
	  .offset = N(max_age_s),
	  .def = "86400",
	  .min = 1,
	  .max = 2592000,
	  .help = "retry a notification with backoff for this long, then "
	      "give it up as Failed"
	},
	CONF_END
};

#define A(f)	offsetof(struct conf_account, f)
static const struct conf_opt account_opts[] = {
	{ .key = "type",
	  .type = CT_STRING,
	  .offset = A(type),
	  .choices = "azure-blob|s3|http-put",
	  .help = "the kind of store"
	},
	{ .key = "endpoint",
	  .type = CT_STRING,
	  .offset = A(endpoint),
	  .help = "azure-blob: blob service URL (with the account in the "
	      "path for Azurite); s3: service URL (default "
	      "https://s3.REGION.amazonaws.com)"
	},
	{ .key = "account",
	  .type = CT_STRING,
	  .offset = A(account),
	  .help = "azure-blob: storage account name"
	},
	{ .key = "key_file",
	  .type = CT_STRING,
	  .offset = A(key_file),
	  .help = "azure-blob: file holding the base64 account key (shared "
	      "key)"
	},
	{ .key = "container",
	  .type = CT_STRING,
	  .offset = A(container),
	  .help = "azure-blob: container (created if missing)"
	},
	{ .key = "container_url",
	  .type = CT_STRING,
	  .offset = A(container_url),
	  .help = "azure-blob: container URL, used with a SAS token"
	},
	{ .key = "sas_token_file",
	  .type = CT_STRING,
	  .offset = A(sas_token_file),
	  .help = "azure-blob: file holding a SAS token (sv=...&sig=...)"
	},
	{ .key = "bucket",
	  .type = CT_STRING,
	  .offset = A(bucket),
	  .help = "s3: bucket"
	},
	{ .key = "region",
	  .type = CT_STRING,
	  .offset = A(region),
	  .def = "\"us-east-1\"",
	  .help = "s3: region, part of Signature V4"
	},
	{ .key = "access_key_id",
	  .type = CT_STRING,
	  .offset = A(access_key_id),
	  .help = "s3: access key id"
	},
	{ .key = "secret_access_key_file",
	  .type = CT_STRING,
	  .offset = A(secret_access_key_file),
	  .help = "s3: file holding the secret access key"
	},
	{ .key = "path_style",
	  .type = CT_BOOL,
	  .offset = A(path_style),
	  .def = "false",
	  .help = "s3: ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY"
	},
	{ .key = "url",
	  .type = CT_STRING,
	  .offset = A(url),
	  .help = "http-put: URL template ({name}, {node}, {path}...)"
	},
	{ .key = "headers",
	  .type = CT_STRLIST,
	  .offset = A(headers),
	  .help = "http-put: extra request headers, \"Name: value\""
	},
	{ .key = "path",
	  .type = CT_STRING,
	  .offset = A(path),
	  .def = "\"alertcap/{node}/{yyyy}/{mm}/{dd}/{name}_{created}.{ext}\"",
	  .help = "object name template"
	},
	{ .key = "block_size",
	  .type = CT_INT,
	  .offset = A(block_size),
	  .min = 65536,
	  .max = 4194304000LL,
	  .def = "16777216",
	  .help = "files larger than this go up in blocks/parts of this size "
	      "(AWS S3 wants at least 5 MiB)"
	},
	{ .key = "parallel",
	  .type = CT_INT,
	  .offset = A(parallel),
	  .min = 1,
	  .max = 32,
	  .def = "4",
	  .help = "blocks/parts of one upload sent at once"
	},
	{ .key = "max_age_s",
	  .type = CT_INT,
	  .offset = A(max_age_s),
	  .min = 60,
	  .max = 2592000,
	  .def = "86400",
	  .help = "retry a failing upload for this long, then give up"
	},
	CONF_END
};

#define LB(f)	offsetof(struct conf_lookback, f)
static const struct conf_opt lookback_ring_opts[] = {
	{ .key = "memory_bytes",
	  .type = CT_INT,
	  .offset = LB(memory_bytes),
	  .min = 1048576,
	  .max = 68719476736LL,
	  .def = "268435456",
	  .reload = 1,
	  .help = "the ring's size: packets, their 16-byte headers and "
	      "padding; the oldest go first"
	},
	{ .key = "snaplen",
	  .type = CT_INT,
	  .offset = LB(snaplen),
	  .max = 262144,
	  .def = "256",
	  .reload = 1,
	  .help = "bytes kept of each packet (0: whole packets)"
	},
	{ .key = "bpf",
	  .type = CT_STRING,
	  .offset = LB(bpf),
	  .def = "\"\"",
	  .reload = 1,
	  .help = "tcpdump expression of what the ring keeps (\"\": "
	      "everything)"
	},
	{ .key = "disk_bytes",
	  .type = CT_INT,
	  .offset = LB(disk_bytes),
	  .max = 1125899906842624LL,
	  .def = "0",
	  .reload = 1,
	  .help = "keep what the memory ring lets go in pcapng segments under "
	      "captures.root/.lookback/IFACE/, this many bytes in all, the "
	      "oldest deleted first (0: memory only)"
	},
	{ .key = "disk_file_bytes",
	  .type = CT_INT,
	  .offset = LB(disk_file_bytes),
	  .min = 1048576,
	  .max = 17179869184LL,
	  .def = "67108864",
	  .reload = 1,
	  .help = "size of one segment file"
	},
	CONF_END
};

static const struct conf_opt lookback_opts[] = {
	{ .key = "max_s",
	  .type = CT_INT,
	  .offset = O(lookback_max_s),
	  .min = 1,
	  .max = 604800,
	  .def = "3600",
	  .reload = 1,
	  .help = "the furthest back a capture may begin (lookback_s, from)"
	},
	{ .key = "interfaces",
	  .type = CT_MAP,
	  .offset = O(lookbacks),
	  .reload = 1,
	  .help = "always-on rings, by interface name: captures on it may "
	      "begin in the past",
	  .children = lookback_ring_opts,
	  .elem_size = sizeof(struct conf_lookback)
	},
	CONF_END
};

static const struct conf_opt uploads_opts[] = {
	{ .key = "concurrency",
	  .type = CT_INT,
	  .offset = O(upload_concurrency),
	  .min = 1,
	  .max = 64,
	  .def = "4",
	  .help = "uploads running at once"
	},
	CONF_END
};

static const struct conf_opt log_opts[] = {
	{ .key = "level",
	  .type = CT_STRING,
	  .offset = O(log_level),
	  .def = "\"info\"",
	  .reload = 1,
	  .choices = "error|warn|info|debug",
	  .help = "least severe level logged"
	},
	{ .key = "target",
	  .type = CT_STRING,
	  .offset = O(log_target),
	  .def = "\"auto\"",
	  .choices = "auto|stderr|syslog",
	  .help = "where lines go: stderr (with -f; under systemd the "
	      "journal), syslog (the daemon facility; journald reads it "
	      "too), or auto: stderr in the foreground, else syslog"
	},
	{ .key = "format",
	  .type = CT_STRING,
	  .offset = O(log_format),
	  .def = "\"text\"",
	  .choices = "text|json|logfmt",
	  .help = "text for people; json ({\"ts\", \"level\", \"msg\"}) or "
	      "logfmt (ts= level= msg=) lines for log pipelines"
	},
	CONF_END
};

const struct conf_opt conf_table[] = {
	{ .key = "node",
	  .type = CT_STRING,
	  .offset = O(node),
	  .help = "this node's name (default: the host name)"
	},
	{ .key = "listen",
	  .type = CT_ARRAY,
	  .offset = O(listen),
	  .min = 1,
	  .max = 16,
	  .def = "[{\"address\": \"127.0.0.1\", \"port\": 8087}]",
	  .help = "REST API and webhook listeners",
	  .children = listen_opts,
	  .elem_size = sizeof(struct conf_listen)
	},
	{ .key = "auth",
	  .type = CT_OBJECT,
	  .help = "API authentication",
	  .children = auth_opts
	},
	{ .key = "http",
	  .type = CT_OBJECT,
	  .help = "HTTP server limits",
	  .children = http_opts
	},
	{ .key = "captures",
	  .type = CT_OBJECT,
	  .help = "capture engine and limits",
	  .children = captures_opts
	},
	{ .key = "rules",
	  .type = CT_OBJECT,
	  .reload = 1,
	  .help = "alert rules",
	  .children = rules_opts
	},
	{ .key = "mqtt",
	  .type = CT_OBJECT,
	  .help = "the broker: alert feeds, lifecycle topics, commands, the "
	      "fleet",
	  .children = mqtt_opts,
	  .present = O(has_mqtt)
	},
	{ .key = "storage",
	  .type = CT_MAP,
	  .offset = O(accounts),
	  .help = "storage accounts captures upload to, by name",
	  .children = account_opts,
	  .elem_size = sizeof(struct conf_account)
	},
	{ .key = "notify",
	  .type = CT_MAP,
	  .offset = O(notifies),
	  .help = "endpoints told when captures start, stop, upload or "
	      "fail, by name",
	  .children = notify_opts,
	  .elem_size = sizeof(struct conf_notify)
	},
	{ .key = "lookback",
	  .type = CT_OBJECT,
	  .help = "packets from before the alert",
	  .children = lookback_opts
	},
	{ .key = "uploads",
	  .type = CT_OBJECT,
	  .help = "the uploader",
	  .children = uploads_opts
	},
	{ .key = "state",
	  .type = CT_OBJECT,
	  .help = "the lifecycle store",
	  .children = state_opts
	},
	{ .key = "log",
	  .type = CT_OBJECT,
	  .help = "logging",
	  .children = log_opts
	},
	CONF_END
};
