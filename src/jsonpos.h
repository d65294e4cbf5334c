/*
 * Finds where a key path ("captures.defaults.time_limit_s", "listen[0].port")
 * stands in JSON text, so errors found after parsing can name file:line:col.
 */
#ifndef JSONPOS_H
#define JSONPOS_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Sets *line and *col (1-based) to the position of the key (or, for an
 * array element, the value) named by path. Returns 0, or -1 if not found;
 * then the position of the deepest part found is given.
 */
int	jsonpos_find(const char *text, size_t len, const char *path,
	    int *line, int *col);

struct dynbuf;

/*
 * Appends "file:line:col: path: message" to errors (after a newline if it
 * is not empty), the position being where path stands in text (NULL: 1:1)
 * and the message made from fmt.
 */
void	jsonpos_vreport(struct dynbuf *errors, const char *file,
	    const char *text, const char *path, const char *fmt, va_list)
	    __attribute__((format(printf, 5, 0)));

#endif
