/*
 * refmqtt: the reference for the MQTT ingest benchmark. A plain
 * libmosquitto subscriber (QoS 1, persistent session, MQTT 5) that parses
 * each payload with jansson, counts N messages and prints the seconds they
 * took from the first one. Also the benchmark's publisher: each line of
 * FILE as a message at QoS 1, leaving only once the broker has taken
 * every one (mosquitto_pub -l may leave with messages still in flight).
 *
 * usage: refmqtt PORT TOPIC N      (N = 0: subscribe, then leave)
 *        refmqtt -p PORT TOPIC FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench.h"

static long	want, got;
static double	first;

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
    const mosquitto_property *props)
{
	json_t	*j;

	if (got++ == 0)
		first = now();
	j = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	json_decref(j);
	if (got >= want)
		mosquitto_disconnect(m);
}

static void
on_connect(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	mosquitto_subscribe_v5(m, NULL, arg, 1, 0, NULL);
	if (want == 0)
		mosquitto_disconnect(m);
}

static long	sent, acked;
static int	eof;

static void
on_publish(struct mosquitto *m, void *arg, int mid)
{
	if (++acked == sent && eof)
		mosquitto_disconnect(m);
}

static int
publish_file(int port, const char *topic, const char *path)
{
	struct mosquitto	*m;
	FILE			*f;
	char			 line[4096];
	size_t			 n;
	int			 rc;

	if ((f = fopen(path, "r")) == NULL)
		return (1);
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	mosquitto_int_option(m, MOSQ_OPT_SEND_MAXIMUM, 1000);
	mosquitto_publish_callback_set(m, on_publish);
	if (mosquitto_connect(m, "127.0.0.1", port, 30) != 0)
		return (1);
	while (fgets(line, sizeof line, f) != NULL) {
		n = strcspn(line, "\n");
		while ((rc = mosquitto_publish(m, NULL, topic, (int)n, line, 1,
		    false)) == MOSQ_ERR_OVERSIZE_PACKET || rc == MOSQ_ERR_NOMEM)
			mosquitto_loop(m, 10, 1);
		if (rc != 0)
			return (1);
		sent++;
		mosquitto_loop(m, 0, 1);
	}
	eof = 1;
	if (acked < sent)
		mosquitto_loop_forever(m, 1000, 1);
	fclose(f);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return (acked == sent ? 0 : 1);
}

int
main(int argc, char **argv)
{
	struct mosquitto	*m;
	mosquitto_property	*props = NULL;

	if (argc == 5 && strcmp(argv[1], "-p") == 0)
		return (publish_file((int)arg_num(argv[2], 65535, "PORT"), argv[3],
		    argv[4]));
	if (argc != 4)
		return (2);
	want = arg_num(argv[3], 100000000, "N");
	mosquitto_lib_init();
	m = mosquitto_new("refmqtt", false, argv[2]);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_message_v5_callback_set(m, on_message);
	mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
	    3600);
	if (mosquitto_connect_bind_v5(m, "127.0.0.1",
	    (int)arg_num(argv[1], 65535, "PORT"), 30, NULL, props) != 0)
		return (1);
	mosquitto_loop_forever(m, 1000, 1);
	if (want > 0)
		printf("%.6f\n", now() - first);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return (0);
}
