/*
 * The web console: HTML, CSS and JavaScript from src/ui/, compiled into
 * the binary by ui-embed (a build tool) and served at / and /ui/ with
 * their ETag, gzipped when the client takes it, under a strict
 * Content-Security-Policy. The page uses the REST API alone.
 */
#ifndef UI_H
#define UI_H

#include <stddef.h>

struct evhttp_request;

struct ui_file {
	const char		*path;		/* "/" or "/ui/NAME" */
	const char		*type;		/* Content-Type */
	const unsigned char	*raw;
	size_t			 raw_len;
	const unsigned char	*gz;
	size_t			 gz_len;
	const char		*etag;		/* quoted */
};

/* Every file, ended by one whose path is NULL (ui-data.c, generated). */
extern const struct ui_file ui_files[];

/* The file served at path, or NULL. */
const struct ui_file	*ui_find(const char *path);
/* Answers a GET or HEAD of f: 200, or 304 when If-None-Match has it. */
void			 ui_serve(struct evhttp_request *, const struct ui_file *);

#endif
