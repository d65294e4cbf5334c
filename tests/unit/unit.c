/* Helpers for the unit tests. */
#include "config.h"

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

char *
unit_tmpdir(void)
{
	char	*t = xstrdup("/tmp/alertcap-unit-XXXXXX");

	if (mkdtemp(t) == NULL)
		abort();
	return (t);
}
