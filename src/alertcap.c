/*
 * alertcap: the command-line client. Talks to alertcapd's REST API with
 * libcurl; prints tables for people and JSON (--json) for scripts.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "rule.h"
#include "util.h"
#include "xmalloc.h"

#define CLI_MAX_BODY	(256 * 1024 * 1024)

static const char	*cli_url = "http://127.0.0.1:8087";
static const char	*cli_token;
static const char	*cli_cacert;
static const char	*cli_cert;
static const char	*cli_key;
static const char	*cli_node;
static int		 cli_json;

/* Prints the commands and exits 2. */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
"usage: alertcap [-u URL] [-T TOKEN] [--json] [--cacert PEM]\n"
"                [--cert PEM --key PEM] [--node NODE] COMMAND [ARGS]\n"
"commands:\n"
"  start NAME -i IFACE [--max-bytes-per-packet N] [--max-bytes-per-session N]\n"
"             [--time-limit S] [--max-packets N] [--filter SPEC]...\n"
"             [--bpf EXPR] [--file PATH] [--account NAME]...\n"
"             [--lookback 120s|5m | --from 2026-12-01T10:00:00Z]\n"
"             [--format pcapng|pcap] [--files N [--file-size 100M]]\n"
"             [--netns NAME | --pid PID | --container ID]  (-i: default eth0)\n"
"        SPEC: protocol=TCP|UDP|Any,local_ip=..,local_port=..,remote_ip=..,\n"
"              remote_port=..  (values: single, list with ';', or range a-b)\n"
"  list [--status STATUS] [--rule RULE]\n"
"  show NAME\n"
"  stop NAME\n"
"  delete [--file] NAME\n"
"  download NAME [-o FILE] [--from ACCOUNT]   (--from: the uploaded object)\n"
"  download NAME --seq N [-o FILE] | --all [-o DIR]   (continuous captures)\n"
"  rules check [DIR]           check rule files offline (default ./rules)\n"
"  rules list                  the rules the daemon has loaded\n"
"  rules test ALERT.json [--format F]   which rules match, what would start\n"
"  alert send ALERT.json [--format F]   post an alert as a webhook would\n"
"  nodes                       the nodes the broker knows, and their status\n"
"  interfaces [--netns NAME | --pid PID | --container ID]\n"
"environment: ALERTCAP_URL (default %s), ALERTCAP_TOKEN, ALERTCAP_TOKEN_FILE\n"
"  (with neither, a daemon on this host is sent the token it made in\n"
"  ./var/api.token or " LOCALSTATEDIR "/lib/alertcap/api.token, if readable)\n",
    cli_url);
	exit(2);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "alertcap: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A capture (or node) name as the API takes it, or die saying the rule. */
static const char *
check_name(const char *name)
{
	if (!name_valid(name))
		die("name: '%s' must match [A-Za-z0-9][A-Za-z0-9._-]{0,79}",
		    name);
	return (name);
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	if (dynbuf_add(arg, p, size * n) == -1)
		return (0);
	return (size * n);
}

struct progress {
	int	shown;
};

/* libcurl's progress callback: a bar on standard error while downloading. */
static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct progress	*pr = arg;
	int		 i, width = 40, done;

	if (dltotal <= 0)
		return (0);
	done = (int)(dlnow * width / dltotal);
	fprintf(stderr, "\r[");
	for (i = 0; i < width; i++)
		fputc(i < done ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%% %" CURL_FORMAT_CURL_OFF_T " bytes",
	    (int)(dlnow * 100 / dltotal), dlnow);
	pr->shown = 1;
	return (0);
}

/* Where a download goes: the file, or, for an error answer, a buffer. */
struct sink {
	CURL		*curl;
	FILE		*file;
	struct dynbuf	*err;
	int		 failed;	/* writing the file failed */
};

static size_t
on_file(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	long		 status = 0;

	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300)
		return (dynbuf_add(s->err, p, size * n) == -1 ? 0 : size * n);
	if (fwrite(p, size, n, s->file) != n) {
		s->failed = 1;
		return (0);
	}
	return (size * n);
}

/*
 * Sends one request; the response body goes to out (a dynbuf) or, if
 * file is not NULL, to that file (an error answer's body still to out).
 * Returns the HTTP status.
 */
static long
request(const char *method, const char *path, const char *body,
    struct dynbuf *out, FILE *file)
{
	struct sink		 sink;
	struct curl_slist	*h = NULL;
	struct progress		 pr = { 0 };
	CURL			*c;
	CURLcode		 rc;
	char			*url, *auth;
	long			 status = 0;

	if ((c = curl_easy_init()) == NULL)
		die("cannot initialise libcurl");
	/* --node: the same verbs on another node, through this one. */
	if (cli_node != NULL && strncmp(path, "/v1/captures", 12) == 0)
		url = xasprintf("%s/v1/nodes/%s%s", cli_url, cli_node, path + 3);
	else
		url = xasprintf("%s%s", cli_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (cli_token != NULL) {
		auth = xasprintf("Authorization: Bearer %s", cli_token);
		h = curl_slist_append(h, auth);
		free(auth);
	}
	if (body != NULL) {
		h = curl_slist_append(h, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (cli_cacert != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, cli_cacert);
	if (cli_cert != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, cli_cert);
	if (cli_key != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, cli_key);
	if (file != NULL) {
		sink.curl = c;
		sink.file = file;
		sink.err = out;
		sink.failed = 0;
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_file);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
		if (isatty(STDERR_FILENO) && file != stdout) {
			curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
			curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION,
			    on_progress);
			curl_easy_setopt(c, CURLOPT_XFERINFODATA, &pr);
		}
	} else {
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	}
	rc = curl_easy_perform(c);
	if (pr.shown)
		fputc('\n', stderr);
	if (file != NULL && sink.failed)
		die("writing the download: %s", strerror(errno));
	if (rc != CURLE_OK)
		die("%s: %s", cli_url, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	return (status);
}

/* The text between <tag> and </tag> in an XML body (new), or NULL. */
static char *
xml_tag(const char *xml, const char *tag)
{
	const char	*b, *e;
	char		 open[64], close[64];

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	if ((b = strstr(xml, open)) == NULL)
		return (NULL);
	b += strlen(open);
	if ((e = strstr(b, close)) == NULL)
		return (NULL);
	return (xstrndup(b, (size_t)(e - b) > 300 ? 300 : (size_t)(e - b)));
}

/*
 * Dies on an error answer, one line whoever sent it: the API's
 * {"error": {code, message}}, a store's XML <Code>/<Message> (Azure, S3),
 * or the first line of anything else. who names a store, NULL the API.
 */
static void __attribute__((noreturn))
die_http(long status, const struct dynbuf *body, const char *who)
{
	static char	 m[1024];	/* what is said, when nothing is left */
	json_t		*o = NULL, *e;
	char		*code = NULL, *msg = NULL, *line;

	if (body->len > 0)
		o = json_loadb(body->buf, body->len, 0, NULL);
	if ((e = json_object_get(o, "error")) != NULL)
		snprintf(m, sizeof m, "%ld %s: %s", status,
		    json_string_value(json_object_get(e, "code")),
		    json_string_value(json_object_get(e, "message")));
	else if (body->len > 0 &&
	    (code = xml_tag(body->buf, "Code")) != NULL) {
		msg = xml_tag(body->buf, "Message");
		if (msg != NULL)
			msg[strcspn(msg, "\r\n")] = '\0';
		snprintf(m, sizeof m, "%ld %s%s%s%s%s", status, who != NULL ?
		    who : "", who != NULL ? ": " : "", code, msg != NULL ?
		    ": " : "", msg != NULL ? msg : "");
	} else {
		line = xstrndup(body->len > 0 ? body->buf : "", 200);
		line[strcspn(line, "\r\n")] = '\0';
		snprintf(m, sizeof m, "%ld %s%s%s", status, who != NULL ? who :
		    "HTTP", *line != '\0' ? ": " : "", line);
		free(line);
	}
	json_decref(o);
	free(code);
	free(msg);
	die("%s", m);
}

/* Sends a request and parses a JSON answer; dies on an error status. */
static json_t *
call(const char *method, const char *path, json_t *body, long *status)
{
	struct dynbuf	 out;
	json_t		*o = NULL;
	char		*text = NULL;
	long		 st;

	dynbuf_init(&out, CLI_MAX_BODY);
	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT);
	st = request(method, path, text, &out, NULL);
	free(text);
	if (out.len > 0)
		o = json_loadb(out.buf, out.len, 0, NULL);
	if (st >= 400) {
		if (cli_json && o != NULL)
			json_dumpf(o, stdout, JSON_INDENT(2)), putchar('\n');
		json_decref(o);
		die_http(st, &out, NULL);
	}
	dynbuf_free(&out);
	if (status != NULL)
		*status = st;
	return (o);
}

static const char *
str(json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : "-");
}

static void
print_json(json_t *o)
{
	json_dumpf(o, stdout, JSON_INDENT(2));
	putchar('\n');
}

static json_int_t
num(json_t *o, const char *key)
{
	return (json_integer_value(json_object_get(o, key)));
}

/* The trigger on one line: manual, or the rule and the alert. */
static void
print_trigger(json_t *t)
{
	if (strcmp(str(t, "kind"), "alert") != 0) {
		printf("trigger:       %s\n", str(t, "kind"));
		return;
	}
	printf("trigger:       alert %s (rule %s, source %s", str(t, "alert"),
	    str(t, "rule"), str(t, "source"));
	if (json_is_string(json_object_get(t, "severity")))
		printf(", severity %s", str(t, "severity"));
	printf(", fingerprint %s)\n", str(t, "fingerprint"));
}

/* Each filter as "PROTO key=value ..."; none: all traffic. */
static void
print_filters(json_t *r)
{
	static const char	*keys[] = { "local_ip", "local_port",
	    "remote_ip", "remote_port", NULL };
	json_t			*f;
	size_t			 i;
	int			 k;

	if (json_array_size(json_object_get(r, "filters")) == 0)
		printf("filters:       none (all traffic)\n");
	json_array_foreach(json_object_get(r, "filters"), i, f) {
		printf("filter:        %s", json_is_string(json_object_get(f,
		    "protocol")) ? str(f, "protocol") : "Any");
		for (k = 0; keys[k] != NULL; k++)
			if (json_is_string(json_object_get(f, keys[k])))
				printf(" %s=%s", keys[k], str(f, keys[k]));
		putchar('\n');
	}
	if (json_is_string(json_object_get(r, "bpf")))
		printf("bpf:           %s\n", str(r, "bpf"));
}

/* What a capture that began in the past got of it. */
static void
print_lookback(json_t *lb)
{
	if (!json_is_object(lb))
		return;
	printf("lookback:      from %s (asked %s), %" JSON_INTEGER_FORMAT
	    " packets, %" JSON_INTEGER_FORMAT " bytes", str(lb, "covered_from"),
	    str(lb, "requested_from"), num(lb, "packets"), num(lb, "bytes"));
	if (json_number_value(json_object_get(lb, "gap_s")) > 0)
		printf(", %.3f s not covered",
		    json_number_value(json_object_get(lb, "gap_s")));
	putchar('\n');
}

/* One capture as "key: value" lines: what "query status" shows. */
static void
print_record(json_t *r)
{
	json_t		*e;
	size_t		 i;

	printf("name:          %s\n", str(r, "name"));
	printf("node:          %s\n", str(r, "node"));
	printf("status:        %s", str(r, "status"));
	if (json_is_string(json_object_get(r, "stop_reason")))
		printf(" (%s)", str(r, "stop_reason"));
	putchar('\n');
	print_trigger(json_object_get(r, "trigger"));
	printf("interface:     %s\n", str(json_object_get(r, "target"),
	    "interface"));
	print_filters(r);
	if (num(r, "max_bytes_per_packet") == 0)
		printf("snap length:   whole packets\n");
	else
		printf("snap length:   %" JSON_INTEGER_FORMAT " bytes per "
		    "packet\n", num(r, "max_bytes_per_packet"));
	printf("limits:        %" JSON_INTEGER_FORMAT " s, %"
	    JSON_INTEGER_FORMAT " bytes", num(r, "time_limit_s"),
	    num(r, "max_bytes_per_session"));
	if (num(r, "max_packets") != 0)
		printf(", %" JSON_INTEGER_FORMAT " packets",
		    num(r, "max_packets"));
	putchar('\n');
	print_lookback(json_object_get(r, "lookback"));
	printf("packets:       %" JSON_INTEGER_FORMAT "\n", num(r, "packets"));
	printf("bytes:         %" JSON_INTEGER_FORMAT "\n", num(r, "bytes"));
	printf("kernel drops:  %" JSON_INTEGER_FORMAT "\n",
	    num(r, "kernel_drops"));
	printf("if drops:      %" JSON_INTEGER_FORMAT "\n", num(r, "if_drops"));
	printf("created:       %s\n", str(r, "created_at"));
	printf("started:       %s\n", str(r, "started_at"));
	printf("stopped:       %s\n", str(r, "stopped_at"));
	printf("file:          %s\n", str(r, "file"));
	printf("sha256:        %s\n", str(r, "sha256"));
	json_array_foreach(json_object_get(r, "uploads"), i, e)
		printf("upload:        %s %s %s\n", str(e, "account"),
		    str(e, "state"), str(e, "uri"));
	json_array_foreach(json_object_get(r, "errors"), i, e)
		printf("error:         %s: %s\n", str(e, "code"),
		    str(e, "message"));
	json_array_foreach(json_object_get(r, "events"), i, e) {
		printf("event:         %s %s", str(e, "at"), str(e, "status"));
		if (json_is_string(json_object_get(e, "stop_reason")))
			printf(" %s", str(e, "stop_reason"));
		if (json_is_string(json_object_get(e, "message")))
			printf(": %s", str(e, "message"));
		putchar('\n');
	}
}

/* Parses "k=v,k=v" into a filter object; a part without '=' continues
 * the previous value as a list ("local_ip=10.0.0.1,10.0.0.2"). */
static json_t *
parse_filter_spec(const char *spec)
{
	json_t		*f;
	char		*copy, *part, *next, *eq, *key = NULL;
	struct dynbuf	 val;

	f = json_object();
	dynbuf_init(&val, 65536);
	copy = xstrdup(spec);
	for (part = copy; part != NULL; part = next) {
		if ((next = strchr(part, ',')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(part, '=')) == NULL) {
			if (key == NULL)
				die("--filter '%s': expected key=value", spec);
			dynbuf_addf(&val, ",%s", part);
			continue;
		}
		if (key != NULL)
			json_object_set_new(f, key, json_string(val.buf));
		*eq = '\0';
		key = part;
		dynbuf_reset(&val);
		dynbuf_addf(&val, "%s", eq + 1);
	}
	if (key != NULL)
		json_object_set_new(f, key, json_string(val.buf));
	free(copy);
	dynbuf_free(&val);
	return (f);
}

static long long
num_arg(const char *opt, const char *s)
{
	long long	 v;
	char		*cause;

	if (parse_ll(s, 0, INT64_MAX, &v, &cause) == -1)
		die("%s: %s", opt, cause);
	return (v);
}

/* A unit a number may end with, and what it multiplies by. */
struct unit {
	char		unit;
	long long	mul;
};

/* A number that may end with one of units (none: times 1). */
static long long
unit_arg(const char *opt, const char *s, const struct unit *units,
    size_t nunits)
{
	size_t		 i, len = strlen(s);
	char		*n;
	long long	 v, mul = 0;

	for (i = 0; len > 1 && i < nunits; i++)
		if (s[len - 1] == units[i].unit)
			mul = units[i].mul;
	n = xstrdup(s);
	if (mul != 0)
		n[len - 1] = '\0';
	else
		mul = 1;
	v = num_arg(opt, n);
	free(n);
	if (v > INT64_MAX / mul)
		die("%s: '%s' is too large", opt, s);
	return (v * mul);
}

/* "90", "90s", "5m", "2h": seconds. */
static long long
duration_arg(const char *opt, const char *s)
{
	static const struct unit	units[] = { { 's', 1 }, { 'm', 60 },
	    { 'h', 3600 } };

	return (unit_arg(opt, s, units, sizeof units / sizeof *units));
}

/* "4096", "64K", "100M", "4G": bytes (binary multiples). */
static long long
size_arg(const char *opt, const char *s)
{
	static const struct unit	units[] = { { 'K', 1024 },
	    { 'M', 1048576 }, { 'G', 1073741824 } };

	return (unit_arg(opt, s, units, sizeof units / sizeof *units));
}

/* Appends key=value (escaped) to the query of the path in d. */
static void
query_add(struct dynbuf *d, const char *key, const char *value)
{
	char	*esc;

	esc = curl_easy_escape(NULL, value, 0);
	dynbuf_addf(d, "%c%s=%s", strchr(d->buf, '?') != NULL ? '&' : '?',
	    key, esc);
	curl_free(esc);
}

/* start NAME -i IFACE [flags]: the flags become the capture parameters. */
static int
cmd_start(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "max-bytes-per-packet", required_argument, NULL, 's' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "max-bytes-per-session", required_argument, NULL, 'B' },
		{ "time-limit", required_argument, NULL, 't' },
		{ "max-packets", required_argument, NULL, 'c' },
		{ "filter", required_argument, NULL, 'F' },
		{ "bpf", required_argument, NULL, 'b' },
		{ "file", required_argument, NULL, 'w' },
		{ "account", required_argument, NULL, 'A' },
		{ "lookback", required_argument, NULL, 'L' },
		{ "from", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 256 },	/* long only */
		{ "files", required_argument, NULL, 257 },
		{ "file-size", required_argument, NULL, 258 },
		{ "netns", required_argument, NULL, 259 },
		{ "pid", required_argument, NULL, 260 },
		{ "container", required_argument, NULL, 261 },
		{ NULL, 0, NULL, 0 }
	};
	json_t	*p, *filters, *r, *storage, *accounts, *ring, *target;
	char	*path;
	int	 ch;

	p = json_object();
	ring = json_object();
	target = json_object();
	filters = json_array();
	storage = json_object();
	accounts = json_array();
	optind = 0;	/* GNU getopt: restart its scan */
	while ((ch = getopt_long(argc, argv, "i:s:B:t:c:F:b:w:A:L:f:", opts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i':
			json_object_set_new(target, "interface",
			    json_string(optarg));
			break;
		case 's':
			json_object_set_new(p, "max_bytes_per_packet",
			    json_integer(num_arg("--max-bytes-per-packet",
			    optarg)));
			break;
		case 'B':
			json_object_set_new(p, "max_bytes_per_session",
			    json_integer(num_arg("--max-bytes-per-session",
			    optarg)));
			break;
		case 't':
			json_object_set_new(p, "time_limit_s",
			    json_integer(num_arg("--time-limit", optarg)));
			break;
		case 'c':
			json_object_set_new(p, "max_packets",
			    json_integer(num_arg("--max-packets", optarg)));
			break;
		case 'F':
			json_array_append_new(filters,
			    parse_filter_spec(optarg));
			break;
		case 'b':
			json_object_set_new(p, "bpf", json_string(optarg));
			break;
		case 'w':
			json_object_set_new(storage, "file", json_string(optarg));
			break;
		case 'A':
			json_array_append_new(accounts, json_string(optarg));
			break;
		case 'L':
			json_object_set_new(p, "lookback_s",
			    json_integer(duration_arg("--lookback", optarg)));
			break;
		case 'f':
			json_object_set_new(p, "from", json_string(optarg));
			break;
		case 256:
			json_object_set_new(p, "format", json_string(optarg));
			break;
		case 257:
			json_object_set_new(ring, "file_count", json_integer(
			    num_arg("--files", optarg)));
			break;
		case 258:
			json_object_set_new(ring, "file_size_bytes", json_integer(
			    size_arg("--file-size", optarg)));
			break;
		case 259:
		case 260:
		case 261:
			json_object_set_new(target, ch == 259 ? "netns" :
			    ch == 260 ? "pid" : "container", ch == 260 ?
			    json_integer(num_arg("--pid", optarg)) :
			    json_string(optarg));
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (json_array_size(filters) > 0)
		json_object_set(p, "filters", filters);
	json_decref(filters);
	if (json_array_size(accounts) > 0)
		json_object_set(storage, "accounts", accounts);
	json_decref(accounts);
	if (json_object_size(storage) > 0)
		json_object_set(p, "storage", storage);
	json_decref(storage);
	if (json_object_size(ring) > 0)
		json_object_set(p, "continuous", ring);
	json_decref(ring);
	if (json_object_size(target) > 0)
		json_object_set(p, "target", target);
	json_decref(target);
	path = xasprintf("/v1/captures/%s", check_name(argv[optind]));
	r = call("PUT", path, p, NULL);
	if (cli_json)
		print_json(r);
	else
		printf("%s: %s\n", str(r, "name"), str(r, "status"));
	json_decref(r);
	json_decref(p);
	free(path);
	return (0);
}

/* list [--status S] [--rule R]: a table, or the API's JSON with --json. */
static int
cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "rule", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	struct dynbuf	 path;
	json_t		*o, *r;
	size_t		 i;
	int		 ch;

	dynbuf_init(&path, 4096);
	dynbuf_addf(&path, "/v1/captures");
	optind = 0;	/* GNU getopt: restart its scan */
	while ((ch = getopt_long(argc, argv, "s:r:", opts, NULL)) != -1) {
		if (ch != 's' && ch != 'r')
			usage();
		query_add(&path, ch == 's' ? "status" : "rule", optarg);
	}
	o = call("GET", path.buf, NULL, NULL);
	dynbuf_free(&path);
	if (cli_json) {
		print_json(o);
		json_decref(o);
		return (0);
	}
	printf("%-28s %-10s %-15s %-10s %10s %12s %s\n", "NAME", "STATUS",
	    "REASON", "INTERFACE", "PACKETS", "BYTES", "CREATED");
	json_array_foreach(json_object_get(o, "captures"), i, r) {
		printf("%-28s %-10s %-15s %-10s %10" JSON_INTEGER_FORMAT
		    " %12" JSON_INTEGER_FORMAT " %s\n", str(r, "name"),
		    str(r, "status"), str(r, "stop_reason"),
		    str(json_object_get(r, "target"), "interface"),
		    json_integer_value(json_object_get(r, "packets")),
		    json_integer_value(json_object_get(r, "bytes")),
		    str(r, "created_at"));
	}
	json_decref(o);
	return (0);
}

/* show, stop, delete [--file]: one name, one request. */
static int
cmd_simple(const char *cmd, int argc, char **argv)
{
	json_t	*o;
	char	*path;
	int	 with_file = 0;

	if (argc == 3 && strcmp(cmd, "delete") == 0 &&
	    strcmp(argv[1], "--file") == 0) {
		with_file = 1;
		argv[1] = argv[2];
		argc = 2;
	}
	if (argc != 2)
		usage();
	check_name(argv[1]);
	if (strcmp(cmd, "stop") == 0) {
		path = xasprintf("/v1/captures/%s/stop", argv[1]);
		o = call("POST", path, NULL, NULL);
	} else {
		path = xasprintf("/v1/captures/%s%s", argv[1], with_file ?
		    "?file=true" : "");
		o = call(strcmp(cmd, "show") == 0 ? "GET" : "DELETE", path,
		    NULL, NULL);
	}
	free(path);
	if (strcmp(cmd, "delete") == 0) {
		if (!cli_json)
			printf("%s: deleted%s\n", argv[1], with_file ?
			    ", and its file" : " (its file stays on the node, "
			    "counted until retention deletes it)");
	} else if (cli_json)
		print_json(o);
	else if (strcmp(cmd, "stop") == 0)
		printf("%s: %s (%s)\n", str(o, "name"), str(o, "status"),
		    str(o, "stop_reason"));
	else
		print_record(o);
	json_decref(o);
	return (0);
}

/* The object URI an account holds for a capture (new); dies if none. */
static char *
upload_uri(const char *name, const char *account)
{
	json_t	*r, *e;
	char	*path, *uri = NULL;
	size_t	 i;

	path = xasprintf("/v1/captures/%s", name);
	r = call("GET", path, NULL, NULL);
	free(path);
	json_array_foreach(json_object_get(r, "uploads"), i, e) {
		if (strcmp(str(e, "account"), account) == 0 &&
		    json_is_string(json_object_get(e, "uri")))
			uri = xstrdup(str(e, "uri"));
	}
	json_decref(r);
	if (uri == NULL)
		die("%s: no object in storage account '%s' (yet)", name,
		    account);
	return (uri);
}

/*
 * Opens a new file beside out to download into (new path in *tmp): made
 * exclusively under a fresh name, so no leftover of an earlier try is in
 * the way.
 */
static FILE *
download_tmp(const char *out, char **tmp)
{
	FILE	*f;
	int	 fd;

	*tmp = xasprintf("%s.download-XXXXXX", out);
	if ((fd = mkstemp(*tmp)) == -1)
		die("%s: %s", out, strerror(errno));
	if (fchmod(fd, 0640) == -1 || (f = fdopen(fd, "w")) == NULL)
		die("%s: %s", *tmp, strerror(errno));
	return (f);
}

/* Does the file at path begin as pcapng does (a section header)? */
static int
file_is_pcapng(const char *path)
{
	unsigned char	 b[4];
	FILE		*f;
	int		 yes;

	if ((f = fopen(path, "rb")) == NULL)
		return (0);
	yes = fread(b, 1, 4, f) == 4 && b[0] == 0x0a && b[1] == 0x0d &&
	    b[2] == 0x0d && b[3] == 0x0a;
	fclose(f);
	return (yes);
}

/*
 * Fetches path (an API path, or "" with from: the object at the URI in
 * cli_url) into out ("-": standard output); without named, out gets the
 * extension the file's format has. Prints where it went; dies on error.
 */
static void
download_one(const char *path, const char *out, int named,
    const char *from)
{
	struct dynbuf	 err;
	FILE		*f;
	char		*tmp = NULL, *final;
	long		 st;
	int		 to_stdout = strcmp(out, "-") == 0;

	f = to_stdout ? stdout : download_tmp(out, &tmp);
	dynbuf_init(&err, 65536);
	st = request("GET", path, NULL, &err, f);
	if (fflush(f) != 0 || (!to_stdout && fclose(f) != 0))
		die("%s: %s", to_stdout ? "standard output" : tmp,
		    strerror(errno));
	if (st != 200) {
		if (tmp != NULL)
			unlink(tmp);
		die_http(st, &err, from);
	}
	dynbuf_free(&err);
	if (to_stdout)
		return;
	final = named ? xstrdup(out) : xasprintf("%s.%s", out,
	    file_is_pcapng(tmp) ? "pcapng" : "pcap");
	if (rename(tmp, final) == -1)
		die("%s: %s", final, strerror(errno));
	if (!cli_json)
		printf("%s\n", final);
	free(final);
	free(tmp);
}

/* download NAME --all [-o DIR]: every complete file of a ring, in DIR. */
static void
download_all(const char *name, const char *dir)
{
	json_t		*r, *e;
	const char	*base;
	char		*path, *out;
	size_t		 i, n = 0;

	path = xasprintf("/v1/captures/%s", name);
	r = call("GET", path, NULL, NULL);
	free(path);
	if (!json_is_array(json_object_get(r, "files")))
		die("%s: not a continuous capture; download it without --all",
		    name);
	if (mkdir(dir, 0750) == -1 && errno != EEXIST)
		die("%s: %s", dir, strerror(errno));
	json_array_foreach(json_object_get(r, "files"), i, e) {
		if (strcmp(str(e, "state"), "Complete") != 0)
			continue;
		base = strrchr(str(e, "path"), '/');
		base = base != NULL ? base + 1 : str(e, "path");
		path = xasprintf("/v1/captures/%s/file?seq=%lld", name,
		    (long long)json_integer_value(json_object_get(e, "seq")));
		out = xasprintf("%s/%s", dir, base);
		download_one(path, out, 1, NULL);
		free(out);
		free(path);
		n++;
	}
	json_decref(r);
	if (n == 0)
		die("%s: no complete file to download (yet)", name);
}

/*
 * download NAME [-o FILE|-] [--from ACCOUNT] [--seq N | --all]: the file,
 * the stored object, one file of a continuous capture, or all of them.
 */
static int
cmd_download(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "from", required_argument, NULL, 'F' },
		{ "seq", required_argument, NULL, 'S' },
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 }
	};
	const char	*from = NULL, *saved_url, *saved_token, *name;
	char		*path, *out = NULL, *uri;
	long long	 seq = 0;
	int		 ch, all = 0;

	optind = 0;	/* GNU getopt: restart its scan */
	while ((ch = getopt_long(argc, argv, "o:F:", opts, NULL)) != -1) {
		if (ch == 'o')
			out = xstrdup(optarg);
		else if (ch == 'F')
			from = optarg;
		else if (ch == 'S')
			seq = num_arg("--seq", optarg);
		else if (ch == 'a')
			all = 1;
		else
			usage();
	}
	if (optind != argc - 1 || (all && (seq != 0 || from != NULL)))
		usage();
	name = check_name(argv[optind]);
	if (all) {
		download_all(name, out != NULL ? out : name);
		free(out);
		return (0);
	}
	if (from != NULL) {
		/* The object itself, by its URI (it must be readable so). */
		uri = upload_uri(name, from);
		saved_url = cli_url;
		saved_token = cli_token;
		cli_url = uri;
		cli_token = NULL;	/* the API's token is not the store's */
		download_one("", out != NULL ? out : name, out != NULL, from);
		cli_url = saved_url;
		cli_token = saved_token;
		free(uri);
		free(out);
		return (0);
	}
	path = seq != 0 ? xasprintf("/v1/captures/%s/file?seq=%lld", name,
	    seq) : xasprintf("/v1/captures/%s/file", name);
	if (out != NULL)
		download_one(path, out, 1, NULL);
	else {
		out = seq != 0 ? xasprintf("%s_%06lld", name, seq) :
		    xstrdup(name);
		download_one(path, out, 0, NULL);
	}
	free(path);
	free(out);
	return (0);
}

/* Reads a whole file as JSON text (new); dies naming it on error. */
static char *
read_json_file(const char *path)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*text, *cause;

	if ((text = file_read_small(path, CLI_MAX_BODY, &cause)) == NULL)
		die("%s", cause);
	if ((j = json_loads(text, 0, &jerr)) == NULL)
		die("%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	json_decref(j);
	return (text);
}

/* rules test / alert send: post a payload and print the outcomes. */
static int
cmd_post_alert(int argc, char **argv, int dry_run)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct dynbuf	 out;
	json_t		*o, *m;
	const char	*format = NULL;
	char		*text, *path;
	long		 st;
	size_t		 i;
	int		 ch;

	optind = 0;	/* GNU getopt: restart its scan */
	while ((ch = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
		if (ch != 'f')
			usage();
		format = optarg;
	}
	if (optind != argc - 1)
		usage();
	text = read_json_file(argv[optind]);
	if (dry_run)
		path = xstrdup("/v1/rules/test");
	else
		path = format != NULL ? xasprintf("/v1/alerts/%s", format) :
		    xstrdup("/v1/alerts");
	dynbuf_init(&out, CLI_MAX_BODY);
	st = request("POST", path, text, &out, NULL);
	o = out.len > 0 ? json_loadb(out.buf, out.len, 0, NULL) : NULL;
	if (st >= 400 || o == NULL) {
		m = json_object_get(o, "error");
		die("%ld %s: %s", st, m != NULL ? str(m, "code") : "error",
		    m != NULL ? str(m, "message") : (out.buf != NULL ? out.buf :
		    ""));
	}
	if (cli_json)
		print_json(o);
	else {
		printf("%" JSON_INTEGER_FORMAT " alert(s)\n",
		    json_integer_value(json_object_get(o, "alerts")));
		json_array_foreach(json_object_get(o, "matched"), i, m) {
			printf("  %-24s %-10s %-24s %s\n", str(m, "rule"),
			    str(m, "outcome"), str(m, "capture"),
			    json_is_string(json_object_get(m, "reason")) ?
			    str(m, "reason") : "");
		}
		if (json_array_size(json_object_get(o, "matched")) == 0)
			printf("  no rule matched\n");
	}
	json_decref(o);
	dynbuf_free(&out);
	free(path);
	free(text);
	return (0);
}

/* rules check [DIR]: the daemon's own loader, offline. */
static int
cmd_rules_check(int argc, char **argv)
{
	struct ruleset	*rs;
	const char	*dir = argc > 2 ? argv[2] : "./rules";
	char		*cause = NULL;
	size_t		 i;

	if (argc > 3)
		usage();
	if ((rs = rules_load(dir, 0, NULL, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return (1);
	}
	for (i = 0; i < rs->n; i++)
		printf("ok %s (%s)\n", rs->v[i]->name, rs->v[i]->file);
	printf("%zu rules in %s\n", rs->n, dir);
	ruleset_free(rs);
	return (0);
}

/* rules check|list|test: offline checks, the daemon's rules, a dry run. */
static int
cmd_rules(int argc, char **argv)
{
	json_t	*o, *r;
	size_t	 i;

	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return (cmd_rules_check(argc, argv));
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return (cmd_post_alert(argc - 1, argv + 1, 1));
	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		o = call("GET", "/v1/rules", NULL, NULL);
		if (cli_json)
			print_json(o);
		else
			json_array_foreach(json_object_get(o, "rules"), i, r)
				printf("%-28s %s\n", str(r, "name"),
				    str(r, "file"));
		json_decref(o);
		return (0);
	}
	usage();
}

/* nodes: GET /v1/nodes as a table. */
static int
cmd_nodes(void)
{
	json_t	*o, *n;
	size_t	 i;

	o = call("GET", "/v1/nodes", NULL, NULL);
	if (cli_json)
		print_json(o);
	else {
		printf("%-28s %-8s %s\n", "NODE", "STATUS", "SINCE");
		json_array_foreach(json_object_get(o, "nodes"), i, n)
			printf("%-28s %-8s %s\n", str(n, "node"), str(n,
			    "status"), str(n, "at"));
	}
	json_decref(o);
	return (0);
}

/*
 * interfaces [--netns N | --pid P | --container C]: the node's
 * interfaces, or a namespace's, with their addresses or lookback rings.
 */
static int
cmd_interfaces(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "netns", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "container", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct dynbuf	 path;
	json_t		*o, *e, *a, *x;
	size_t		 i, j;
	char		 idx[24];
	int		 ch;

	dynbuf_init(&path, 4096);
	dynbuf_addf(&path, "/v1/interfaces");
	optind = 0;	/* GNU getopt: restart its scan */
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch != 'n' && ch != 'p' && ch != 'c')
			usage();
		query_add(&path, ch == 'n' ? "netns" : ch == 'p' ? "pid" :
		    "container", optarg);
	}
	if (optind != argc)
		usage();
	o = call("GET", path.buf, NULL, NULL);
	dynbuf_free(&path);
	if (cli_json) {
		print_json(o);
		json_decref(o);
		return (0);
	}
	printf("%-16s %-5s %-4s %s\n", "INTERFACE", "INDEX", "UP",
	    "ADDRESSES / LOOKBACK");
	json_array_foreach(json_object_get(o, "interfaces"), i, e) {
		if (json_is_integer(json_object_get(e, "index")))
			snprintf(idx, sizeof idx, "%" JSON_INTEGER_FORMAT,
			    json_integer_value(json_object_get(e, "index")));
		else
			snprintf(idx, sizeof idx, "-");
		printf("%-16s %-5s %-4s", str(e, "name"), idx, json_is_true(
		    json_object_get(e, "up")) ? "yes" : "no");
		a = json_object_get(e, "addresses");
		json_array_foreach(a, j, x)
			printf(" %s", json_string_value(x));
		if (json_is_object(json_object_get(e, "lookback")))
			printf(" ring of %" JSON_INTEGER_FORMAT " bytes",
			    json_integer_value(json_object_get(json_object_get(
			    e, "lookback"), "memory_bytes")));
		printf("\n");
	}
	json_decref(o);
	return (0);
}

/* Does the API URL name this host (127.0.0.0/8, ::1, localhost)? */
static int
cli_url_loopback(const char *url)
{
	const char	*h;

	if ((h = strstr(url, "://")) == NULL)
		return (0);
	h += 3;
	return (strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0 ||
	    (strncmp(h, "localhost", 9) == 0 && strchr(":/", h[9]) != NULL));
}

/*
 * With no token given: ALERTCAP_TOKEN_FILE, else, for a daemon on this
 * host, the token it made beside its state (the embedded default's
 * ./var, then the installed one), if this user may read it.
 */
static char *
cli_find_token(void)
{
	static const char	*local[] = { "./var/api.token",
	    LOCALSTATEDIR "/lib/alertcap/api.token" };
	const char		*f;
	char			*tok, *cause = NULL;
	size_t			 i;

	if ((f = getenv("ALERTCAP_TOKEN_FILE")) != NULL && *f != '\0') {
		if ((tok = file_read_small(f, 4096, &cause)) == NULL)
			die("ALERTCAP_TOKEN_FILE: %s", cause);
		return (tok);
	}
	if (!cli_url_loopback(cli_url))
		return (NULL);
	for (i = 0; i < sizeof local / sizeof *local; i++) {
		if (access(local[i], R_OK) != 0)
			continue;
		if ((tok = file_read_small(local[i], 4096, &cause)) != NULL)
			return (tok);
		free(cause);
		cause = NULL;
	}
	return (NULL);
}

static int
cmd_show_stop_delete(int argc, char **argv)
{
	return (cmd_simple(argv[0], argc, argv));
}

static int
cmd_nodes_args(int argc, char **argv)
{
	if (argc != 1)
		usage();
	return (cmd_nodes());
}

static int
cmd_alert(int argc, char **argv)
{
	if (strcmp(argv[1], "send") != 0)
		usage();
	return (cmd_post_alert(argc - 1, argv + 1, 0));
}

/* The subcommands: name, the fewest words (itself included), handler. */
static const struct {
	const char	*name;
	int		 min_args;
	int		(*fn)(int, char **);
} cli_commands[] = {
	{ "start", 1, cmd_start },
	{ "list", 1, cmd_list },
	{ "show", 1, cmd_show_stop_delete },
	{ "stop", 1, cmd_show_stop_delete },
	{ "delete", 1, cmd_show_stop_delete },
	{ "download", 1, cmd_download },
	{ "rules", 1, cmd_rules },
	{ "nodes", 1, cmd_nodes_args },
	{ "interfaces", 1, cmd_interfaces },
	{ "alert", 2, cmd_alert },
};

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "token", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "node", required_argument, NULL, 'N' },
		{ "cert", required_argument, NULL, 'E' },
		{ "key", required_argument, NULL, 'K' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	size_t		 i;
	int		 ch;

	if (getenv("ALERTCAP_URL") != NULL)
		cli_url = getenv("ALERTCAP_URL");
	cli_token = getenv("ALERTCAP_TOKEN");
	while ((ch = getopt_long(argc, argv, "+u:T:jh", opts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			cli_url = optarg;
			break;
		case 'T':
			cli_token = optarg;
			break;
		case 'j':
			cli_json = 1;
			break;
		case 'C':
			cli_cacert = optarg;
			break;
		case 'N':
			cli_node = check_name(optarg);
			break;
		case 'E':
			cli_cert = optarg;
			break;
		case 'K':
			cli_key = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (cli_token == NULL || *cli_token == '\0')
		cli_token = cli_find_token();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (i = 0; i < sizeof cli_commands / sizeof *cli_commands; i++) {
		if (strcmp(cli_commands[i].name, argv[0]) == 0 &&
		    argc >= cli_commands[i].min_args)
			return (cli_commands[i].fn(argc, argv));
	}
	usage();
}
