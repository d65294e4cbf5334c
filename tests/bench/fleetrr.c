/*
 * fleetrr: the fleet benchmark's command client. Sends N commands, one
 * after another, to the nodes named in NODEFILE in turn, each on
 * PREFIX/NODE/cmd at QoS 1 with an MQTT 5 response topic and correlation
 * data, and times each from its publish to its answer. Prints one line
 * per command (milliseconds, status, node) on stdout; a command that gets
 * no answer within 2 s is printed with status "timeout".
 *
 * usage: fleetrr PORT PREFIX N NODEFILE [OP-JSON]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench.h"

#define TIMEOUT_S	2.0

static char	**nodes;
static size_t	  nnodes;
static long	  want, sent, answered;
static uint32_t	  waiting;		/* the command in flight, by number */
static double	  sent_at;
static int	  ready, in_flight;
static const char *prefix, *op = "{\"op\": \"list\"}";
static char	  reply[64];

/* Publishes command number sent to its node. */
static void
send_next(struct mosquitto *m)
{
	mosquitto_property	*props = NULL;
	char			 topic[256];
	uint32_t		 id = (uint32_t)sent;

	snprintf(topic, sizeof topic, "%s/%s/cmd", prefix,
	    nodes[sent % nnodes]);
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, reply);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &id,
	    sizeof id);
	waiting = id;
	in_flight = 1;
	sent_at = now();
	mosquitto_publish_v5(m, NULL, topic, (int)strlen(op), op, 1, false,
	    props);
	mosquitto_property_free_all(&props);
}

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg,
    const mosquitto_property *props)
{
	void		*corr = NULL;
	uint16_t	 len = 0;
	uint32_t	 id;
	json_t		*j;
	int		 status;

	if (!mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA,
	    &corr, &len, false) || len != sizeof id) {
		free(corr);
		return;
	}
	memcpy(&id, corr, sizeof id);
	free(corr);
	if (!in_flight || id != waiting)
		return;		/* one that timed out */
	j = json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);
	status = (int)json_integer_value(json_object_get(j, "status"));
	json_decref(j);
	printf("%.3f %d %s\n", (now() - sent_at) * 1000, status,
	    nodes[id % nnodes]);
	in_flight = 0;
	answered++;
	if (++sent < want)
		send_next(m);
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos,
    const mosquitto_property *props)
{
	ready = 1;
	send_next(m);
}

static void
on_connect(struct mosquitto *m, void *arg, int rc, int flags,
    const mosquitto_property *props)
{
	if (rc == 0)
		mosquitto_subscribe_v5(m, NULL, reply, 1, 0, NULL);
}

/* Reads one node name a line. */
static void
read_nodes(const char *path)
{
	FILE	*f;
	char	 line[256];

	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		exit(1);
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '\0')
			continue;
		nodes = realloc(nodes, (nnodes + 1) * sizeof *nodes);
		nodes[nnodes++] = strdup(line);
	}
	fclose(f);
	if (nnodes == 0) {
		fprintf(stderr, "%s: no nodes\n", path);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct mosquitto	*m;

	if (argc < 5) {
		fprintf(stderr, "usage: fleetrr PORT PREFIX N NODEFILE "
		    "[OP-JSON]\n");
		return (2);
	}
	prefix = argv[2];
	want = arg_num(argv[3], 100000000, "N");
	read_nodes(argv[4]);
	if (argc > 5)
		op = argv[5];
	snprintf(reply, sizeof reply, "fleetrr/%ld/reply", (long)getpid());
	setvbuf(stdout, NULL, _IOLBF, 0);
	mosquitto_lib_init();
	m = mosquitto_new(NULL, true, NULL);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(m, on_connect);
	mosquitto_subscribe_v5_callback_set(m, on_subscribe);
	mosquitto_message_v5_callback_set(m, on_message);
	if (mosquitto_connect_bind_v5(m, "127.0.0.1", (int)arg_num(argv[1],
	    65535, "PORT"), 30, NULL, NULL) != MOSQ_ERR_SUCCESS) {
		fprintf(stderr, "fleetrr: cannot connect to port %s\n",
		    argv[1]);
		return (1);
	}
	while (sent < want) {
		if (mosquitto_loop(m, 100, 1) != MOSQ_ERR_SUCCESS)
			mosquitto_reconnect(m);
		if (ready && in_flight && now() - sent_at > TIMEOUT_S) {
			printf("%.3f timeout %s\n", TIMEOUT_S * 1000,
			    nodes[waiting % nnodes]);
			in_flight = 0;
			if (++sent < want)
				send_next(m);
		}
	}
	mosquitto_disconnect(m);
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return (answered == want ? 0 : 1);
}
