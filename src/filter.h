/*
 * Network Watcher style capture filters, translated to tcpdump expressions.
 * A filter is {protocol, local_ip, local_port, remote_ip, remote_port};
 * fields of one filter AND, filters OR. "local" is the node's side of the
 * packet, whichever direction it travels.
 */
#ifndef FILTER_H
#define FILTER_H

#include <jansson.h>

/*
 * Translates the filters array (borrowed; may be NULL) into a new
 * expression ("" matches everything). field names the array in messages
 * ("filters"). On error returns NULL with *cause (new) naming the field,
 * e.g. "filters[1].remote_port: 70000 is not a port".
 */
char	*filter_translate(json_t *filters, const char *field, char **cause);

/*
 * Compiles expr for a link type to check it; on error sets *cause (new)
 * to libpcap's message prefixed with field.
 */
int	 filter_check(const char *expr, int linktype, const char *field,
	    char **cause);

/* ANDs two expressions, either of which may be empty; returns new. */
char	*filter_and(const char *, const char *);

#endif
