/* Helpers for the unit tests. */
#include "config.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"
#include "xmalloc.h"

char *
fixture_path(const char *name)
{
	const char	*srcdir = getenv("srcdir");

	return (xasprintf("%s/tests/fixtures/%s", srcdir != NULL ? srcdir :
	    ".", name));
}

/* The test's directories, removed when it exits. */
static char	*unit_dirs[64];
static size_t	 unit_ndirs;

/* nftw's callback: removes what it is given, children first. */
static int
unit_rm(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)remove(path);
	return (0);
}

static void
unit_rmdirs(void)
{
	while (unit_ndirs > 0) {
		nftw(unit_dirs[--unit_ndirs], unit_rm, 16, FTW_DEPTH | FTW_PHYS);
		free(unit_dirs[unit_ndirs]);
	}
}

char *
unit_tmpdir(void)
{
	char	*t = xstrdup("/tmp/alertcap-unit-XXXXXX");

	if (mkdtemp(t) == NULL)
		abort();
	if (unit_ndirs < sizeof unit_dirs / sizeof unit_dirs[0]) {
		if (unit_ndirs == 0)
			atexit(unit_rmdirs);
		unit_dirs[unit_ndirs++] = xstrdup(t);
	}
	return (t);
}
