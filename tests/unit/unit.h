/* Shared bits of the cmocka unit tests. */
#ifndef UNIT_H
#define UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Path of a fixture file (new), below $srcdir/tests/fixtures. */
char	*fixture_path(const char *name);
/* A fresh temporary directory (new path). */
char	*unit_tmpdir(void);

#endif
