/*
 * libcurl, loaded when first used. Linked into alertcapd only (the CLI
 * and the tests link libcurl itself): this file defines the libcurl calls
 * the uploader makes, and each forwards to the real one, found with
 * dlopen/dlsym the first time any is called.
 *
 * Why: Debian's libcurl brings GnuTLS (through libldap and librtmp, whose
 * constructor also loads p11-kit), Kerberos, libssh2 and nettle: 4.5 MiB
 * of a daemon's resident memory at start, for a node that has no storage
 * account and never uploads. With this, those libraries are mapped only
 * once an account is configured (upload_init calls curl_global_init).
 *
 * The variadic setters forward their one argument as a pointer-sized
 * integer: every option the uploader passes is a long, a pointer, a
 * function pointer or a curl_off_t, all passed in one general-purpose
 * register on the ABIs Debian builds for with 64-bit longs.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "log.h"

#define CURL_SONAME	"libcurl.so.4"

_Static_assert(sizeof(uintptr_t) >= sizeof(curl_off_t),
    "curl-lazy.c forwards curl_off_t options as uintptr_t");

static void	*curl_dl;

/* The real function name, or NULL when libcurl cannot be loaded. */
static void *
lazy(const char *name)
{
	void	*f;

	if (curl_dl == NULL &&
	    (curl_dl = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_error("cannot load %s: %s", CURL_SONAME, dlerror());
		return (NULL);
	}
	if ((f = dlsym(curl_dl, name)) == NULL)
		log_error("%s has no %s", CURL_SONAME, name);
	return (f);
}

/* Every call but curl_global_init comes after it succeeded. */
#define REAL(type, name, args)						\
	static type (*real) args;					\
	if (real == NULL && (real = (type (*) args)lazy(#name)) == NULL)	\
		abort()

CURLcode
curl_global_init(long flags)
{
	static CURLcode (*real)(long);

	if (real == NULL && (real = (CURLcode (*)(long))
	    lazy("curl_global_init")) == NULL)
		return (CURLE_FAILED_INIT);
	return (real(flags));
}

CURL *
curl_easy_init(void)
{
	REAL(CURL *, curl_easy_init, (void));
	return (real());
}

void
curl_easy_cleanup(CURL *e)
{
	REAL(void, curl_easy_cleanup, (CURL *));
	real(e);
}

void
curl_easy_reset(CURL *e)
{
	REAL(void, curl_easy_reset, (CURL *));
	real(e);
}

CURLcode
curl_easy_setopt(CURL *e, CURLoption opt, ...)
{
	va_list		ap;
	uintptr_t	arg;

	REAL(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...));
	va_start(ap, opt);
	arg = va_arg(ap, uintptr_t);
	va_end(ap);
	return (real(e, opt, arg));
}

CURLcode
curl_easy_getinfo(CURL *e, CURLINFO info, ...)
{
	va_list	 ap;
	void	*arg;

	REAL(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...));
	va_start(ap, info);
	arg = va_arg(ap, void *);
	va_end(ap);
	return (real(e, info, arg));
}

const char *
curl_easy_strerror(CURLcode rc)
{
	REAL(const char *, curl_easy_strerror, (CURLcode));
	return (real(rc));
}

char *
curl_easy_escape(CURL *e, const char *s, int len)
{
	REAL(char *, curl_easy_escape, (CURL *, const char *, int));
	return (real(e, s, len));
}

char *
curl_easy_unescape(CURL *e, const char *s, int len, int *outlen)
{
	REAL(char *, curl_easy_unescape, (CURL *, const char *, int, int *));
	return (real(e, s, len, outlen));
}

void
curl_free(void *p)
{
	REAL(void, curl_free, (void *));
	real(p);
}

struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
	REAL(struct curl_slist *, curl_slist_append,
	    (struct curl_slist *, const char *));
	return (real(l, s));
}

void
curl_slist_free_all(struct curl_slist *l)
{
	REAL(void, curl_slist_free_all, (struct curl_slist *));
	real(l);
}

CURLM *
curl_multi_init(void)
{
	REAL(CURLM *, curl_multi_init, (void));
	return (real());
}

CURLMcode
curl_multi_cleanup(CURLM *m)
{
	REAL(CURLMcode, curl_multi_cleanup, (CURLM *));
	return (real(m));
}

CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
	va_list		ap;
	uintptr_t	arg;

	REAL(CURLMcode, curl_multi_setopt, (CURLM *, CURLMoption, ...));
	va_start(ap, opt);
	arg = va_arg(ap, uintptr_t);
	va_end(ap);
	return (real(m, opt, arg));
}

CURLMcode
curl_multi_add_handle(CURLM *m, CURL *e)
{
	REAL(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *));
	return (real(m, e));
}

CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *e)
{
	REAL(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *));
	return (real(m, e));
}

CURLMcode
curl_multi_assign(CURLM *m, curl_socket_t s, void *p)
{
	REAL(CURLMcode, curl_multi_assign, (CURLM *, curl_socket_t, void *));
	return (real(m, s, p));
}

CURLMcode
curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
	REAL(CURLMcode, curl_multi_socket_action,
	    (CURLM *, curl_socket_t, int, int *));
	return (real(m, s, ev, running));
}

CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
	REAL(CURLMsg *, curl_multi_info_read, (CURLM *, int *));
	return (real(m, left));
}
