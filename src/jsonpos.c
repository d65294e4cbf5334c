/*
 * A minimal JSON walker for error positions. It trusts that the text has
 * already been parsed by jansson, so it validates nothing.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpos.h"
#include "xmalloc.h"

struct jp {
	const char	*s;
	size_t		 len;
	size_t		 i;
	int		 line;
	int		 col;
};

static void
jp_adv(struct jp *jp)
{
	if (jp->i >= jp->len)
		return;
	if (jp->s[jp->i] == '\n') {
		jp->line++;
		jp->col = 1;
	} else
		jp->col++;
	jp->i++;
}

static void
jp_ws(struct jp *jp)
{
	while (jp->i < jp->len && isspace((unsigned char)jp->s[jp->i]))
		jp_adv(jp);
}

static char
jp_peek(struct jp *jp)
{
	return (jp->i < jp->len ? jp->s[jp->i] : '\0');
}

/* Skips a string at the cursor, copying up to size-1 raw bytes into out. */
static void
jp_string(struct jp *jp, char *out, size_t size)
{
	size_t	o = 0;

	jp_adv(jp);
	while (jp->i < jp->len && jp->s[jp->i] != '"') {
		if (jp->s[jp->i] == '\\') {
			jp_adv(jp);
		}
		if (out != NULL && o + 1 < size)
			out[o++] = jp->s[jp->i];
		jp_adv(jp);
	}
	jp_adv(jp);
	if (out != NULL)
		out[o] = '\0';
}

/* Skips one value: a string, a scalar, or a whole object or array. */
static void
jp_value(struct jp *jp)
{
	int	depth = 0;
	char	c;

	jp_ws(jp);
	while ((c = jp_peek(jp)) != '\0') {
		if (c == '"')
			jp_string(jp, NULL, 0);
		else if (c == '{' || c == '[') {
			depth++;
			jp_adv(jp);
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return;
			depth--;
			jp_adv(jp);
		} else if (depth == 0 && (c == ',' ||
		    isspace((unsigned char)c)))
			return;
		else
			jp_adv(jp);
		if (depth == 0 && (c == '"' || c == '}' || c == ']'))
			return;
	}
}

/* Moves onto the key of the member named key of the object at the cursor. */
static int
jp_member(struct jp *jp, const char *key)
{
	struct jp	save;
	char		name[256];

	jp_ws(jp);
	if (jp_peek(jp) != '{')
		return (-1);
	jp_adv(jp);
	for (;;) {
		jp_ws(jp);
		if (jp_peek(jp) != '"')
			return (-1);
		save = *jp;
		jp_string(jp, name, sizeof name);
		if (strcmp(name, key) == 0) {
			*jp = save;
			return (0);
		}
		jp_ws(jp);
		jp_adv(jp);		/* ':' */
		jp_value(jp);
		jp_ws(jp);
		if (jp_peek(jp) != ',')
			return (-1);
		jp_adv(jp);
	}
}

/* Moves onto element n of the array at the cursor. */
static int
jp_element(struct jp *jp, long n)
{
	jp_ws(jp);
	if (jp_peek(jp) != '[')
		return (-1);
	jp_adv(jp);
	for (; n > 0; n--) {
		jp_value(jp);
		jp_ws(jp);
		if (jp_peek(jp) != ',')
			return (-1);
		jp_adv(jp);
	}
	jp_ws(jp);
	return (jp_peek(jp) == ']' ? -1 : 0);
}

int
jsonpos_find(const char *text, size_t len, const char *path, int *line,
    int *col)
{
	struct jp	 jp = { text, len, 0, 1, 1 };
	char		 key[256];
	const char	*p = path;
	size_t		 n;
	int		 kline, kcol, rc = 0;

	kline = 1;
	kcol = 1;
	jp_ws(&jp);
	while (*p != '\0' && rc == 0) {
		if (*p == '[') {
			rc = jp_element(&jp, strtol(p + 1, NULL, 10));
			p = strchr(p, ']');
			p = p == NULL ? "" : p + 1;
			if (rc == 0) {
				kline = jp.line;
				kcol = jp.col;
			}
			continue;
		}
		if (*p == '.')
			p++;
		n = strcspn(p, ".[");
		if (n >= sizeof key)
			n = sizeof key - 1;
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		rc = jp_member(&jp, key);
		if (rc == 0) {
			kline = jp.line;
			kcol = jp.col;
			/* Step past the key and ':' onto the value. */
			jp_string(&jp, NULL, 0);
			jp_ws(&jp);
			jp_adv(&jp);
			jp_ws(&jp);
		}
	}
	*line = kline;
	*col = kcol;
	return (rc);
}

void
jsonpos_vreport(struct dynbuf *errors, const char *file, const char *text,
    const char *path, const char *fmt, va_list ap)
{
	char	*message;
	int	 line = 1, col = 1;

	message = xvasprintf(fmt, ap);
	if (text != NULL)
		jsonpos_find(text, strlen(text), path, &line, &col);
	dynbuf_addf(errors, "%s%s:%d:%d: %s%s%s", errors->len > 0 ? "\n" : "",
	    file, line, col, path, *path != '\0' ? ": " : "", message);
	free(message);
}
