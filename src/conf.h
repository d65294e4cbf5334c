/*
 * The daemon's configuration (alertcap.json). Every option is declared once
 * in conf-table.c; parsing, validation, defaults and the option reference
 * in docs/ all come from that table.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

struct conf_tls {
	char	*cert_file;
	char	*key_file;
	char	*client_ca_file;
};

struct conf_listen {
	char		*address;
	long long	 port;
	int		 has_tls;
	struct conf_tls	 tls;
};

/* A replayed interface (captures.replay); the name is its key. */
struct conf_replay {
	char		*name;		/* first: CT_MAP sets it */
	char		*dir;
};

/* A lookback ring (lookback.interfaces); the name is the interface. */
struct conf_lookback {
	char		*name;		/* first: CT_MAP sets it */
	long long	 memory_bytes;
	long long	 snaplen;
	char		*bpf;
	long long	 disk_bytes;	/* 0: memory only */
	long long	 disk_file_bytes;
};

struct conf_mqtt_sub {
	char		*topic;
	char		*format;
	long long	 qos;
};

/* An array option: elements of the table's elem_size bytes. */
struct conf_array {
	void	*v;
	size_t	 n;
};

/* Credentials a webhook sender of one format must present. */
struct conf_webhook {
	char	*bearer_token_file;
	char	*basic_username;
	char	*basic_password_file;
	char	*hmac_secret_file;
	char	*timestamp_header;
	long long max_skew_s;
	char	*query_token_file;
};

/* A storage account; the name is the key it stands under in "storage". */
struct conf_account {
	char			*name;		/* first: CT_MAP sets it */
	char			*type;
	char			*endpoint;
	char			*account;
	char			*key_file;
	char			*container;
	char			*container_url;
	char			*sas_token_file;
	char			*bucket;
	char			*region;
	char			*access_key_id;
	char			*secret_access_key_file;
	int			 path_style;
	char			*url;
	struct conf_array	 headers;	/* of char *, "Name: value" */
	char			*path;
	long long		 block_size;
	long long		 parallel;
	long long		 max_age_s;
};

/* A notification endpoint (notify), by name. */
struct conf_notify {
	char			*name;		/* first: CT_MAP sets it */
	char			*type;		/* webhook | grafana-annotation */
	char			*url;
	struct conf_array	 events;	/* of char * */
	struct conf_array	 headers;	/* of char *, "Name: value" */
	char			*hmac_secret_file;
	char			*signature_header;
	char			*token_file;	/* grafana-annotation */
	long long		 max_age_s;
};

struct conf {
	char			*node;
	struct conf_array	 listen;	/* of struct conf_listen */
	char			*api_tokens_file;
	int			 anonymous_loopback;
	struct conf_webhook	 webhooks[AFMT_WEBHOOK_MAX]; /* by alert_format */
	char			*rules_dir;
	long long		 max_body_bytes;
	long long		 request_timeout_s;
	long long		 max_header_bytes;
	long long		 max_headers;
	long long		 max_connections;

	char			*captures_root;
	long long		 max_concurrent;
	long long		 max_total_bytes;
	long long		 max_continuous_time_limit_s;
	long long		 retention_max_age_s;	/* 0: none */
	long long		 context_max_sockets;
	long long		 retention_max_bytes;	/* 0: none */
	long long		 ring_bytes;
	long long		 ring_linger_s;
	struct conf_array	 preopen;	/* of char *: interfaces */
	struct conf_array	 replays;	/* of struct conf_replay */
	long long		 lookback_max_s;
	struct conf_array	 lookbacks;	/* of struct conf_lookback */
	int			 hash_files;
	char			*captures_format;	/* pcapng|pcap */
	long long		 def_time_limit_s;
	long long		 def_max_bytes;
	long long		 max_time_limit_s;
	long long		 max_max_bytes;

	int			 has_mqtt;
	char			*mqtt_host;
	long long		 mqtt_port;
	char			*mqtt_protocol;
	char			*mqtt_client_id;
	char			*mqtt_username;
	char			*mqtt_password_file;
	long long		 mqtt_keepalive_s;
	long long		 mqtt_session_expiry_s;
	long long		 mqtt_reconnect_max_s;
	long long		 mqtt_request_timeout_s;
	int			 mqtt_has_tls;
	char			*mqtt_ca_file;
	char			*mqtt_cert_file;
	char			*mqtt_key_file;
	char			*mqtt_topic_prefix;
	struct conf_array	 mqtt_subs;	/* of struct conf_mqtt_sub */

	struct conf_array	 accounts;	/* of struct conf_account */
	struct conf_array	 notifies;	/* of struct conf_notify */
	long long		 upload_concurrency;

	char			*state_path;
	char			*state_sync;
	char			*state_on_corrupt;

	char			*log_level;
	char			*log_target;	/* auto | stderr | syslog */
	char			*log_format;	/* text | json | logfmt */

	char			*file;		/* where it came from */
};

enum conf_type {
	CT_STRING,
	CT_INT,
	CT_BOOL,
	CT_OBJECT,	/* members described by children, at offset */
	CT_ARRAY,	/* of objects described by children */
	CT_MAP,		/* object of named objects; each element starts
			   with its char *name */
	CT_STRLIST,	/* array of strings, as a conf_array of char * */
};

struct conf_opt {
	const char		*key;
	enum conf_type		 type;
	size_t			 offset;
	long long		 min;
	long long		 max;
	const char		*def;	/* default as JSON text, or NULL */
	int			 reload;	/* may change on SIGHUP */
	const char		*choices;	/* "a|b|c" for strings */
	const char		*help;
	const struct conf_opt	*children;
	size_t			 elem_size;
	size_t			 present;	/* offset of an int flag, or 0 */
};

extern const struct conf_opt conf_table[];

/*
 * Loads path (NULL: the embedded default) into a new conf. On error returns
 * NULL and sets *cause (new) to "file:line:col: message".
 */
struct conf	*conf_load(const char *path, char **cause);
void		 conf_free(struct conf *);
/*
 * Names the first option that differs between a and b and may not change
 * without a restart, or NULL.
 */
const char	*conf_restart_needed(const struct conf *, const struct conf *);
/* Writes the option reference (Markdown) to stdout. */
void		 conf_print_reference(void);

#endif
