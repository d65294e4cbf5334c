/*
 * What the fuzz targets share: a scratch directory, and for the targets
 * that drive the daemon's own modules (commands, the REST API), those
 * modules set up once on the embedded default configuration.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* A directory of this process's own, made once (borrowed). */
const char	*fuzz_tmpdir(void);
/* Writes data to name in fuzz_tmpdir(); returns the path (borrowed). */
const char	*fuzz_write(const char *name, const uint8_t *, size_t);
/*
 * Sets up state, capture engine, uploader, sessions, rules (none) and,
 * with api, the REST API on a free loopback port without tokens; once.
 */
struct event_base *fuzz_daemon(int api, int *port);
/* Forgets every capture the last input made (its files stay). */
void		 fuzz_daemon_reset(void);

#endif
