/*
 * Allocation-failure injection, after curl's torture tests: in a build
 * configured with --enable-torture and ALERTCAP_TORTURE=1 in the
 * environment, request number k fails its k-th jansson allocation, so a
 * run of requests reaches every failure point of a route. Otherwise
 * nothing happens.
 */
#ifndef TORTURE_H
#define TORTURE_H

#ifdef ENABLE_TORTURE
/* Installs the failing allocator if ALERTCAP_TORTURE is set. */
void	torture_init(void);
/* A request begins: the next one fails one allocation later. */
void	torture_request(void);
#else
#define torture_init()		do { } while (0)
#define torture_request()	do { } while (0)
#endif

#endif
