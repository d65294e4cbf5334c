/*
 * Azure shared-key signing: the string-to-sign as the Blob service
 * documents it (verb, the eleven standard headers in order, x-ms-*
 * headers, then /account/path and the query sorted by name with decoded
 * values), signed with the decoded key, against what the uploader makes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "unit.h"
#include "upload.h"

/* Azurite's published development key. */
static const char *key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UV"
    "ErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

static char *
expected(const char *sts)
{
	unsigned char	k[128], mac[32], out[64];
	unsigned int	maclen;
	int		n;

	n = EVP_DecodeBlock(k, (const unsigned char *)key, (int)strlen(key));
	n -= 2;		/* two '=' of padding */
	HMAC(EVP_sha256(), k, n, (const unsigned char *)sts, strlen(sts), mac,
	    &maclen);
	EVP_EncodeBlock(out, mac, (int)maclen);
	return (strdup((char *)out));
}

static void
test_put_block(void **state)
{
	const char	*sts = "PUT\n\n\n65536\nQUJDREVGR0hJSktMTU5PUA==\n\n\n\n\n"
	    "\n\n\nx-ms-date:Thu, 26 Nov 2026 10:00:00 GMT\n"
	    "x-ms-version:2021-12-02\n"
	    "/devstoreaccount1/devstoreaccount1/captures/a/b.pcap\n"
	    "blockid:YmxvY2stMDAwMDAwMDE=\ncomp:block";
	char		*got, *want;

	got = azure_shared_key_sign(key, "PUT", "65536",
	    "QUJDREVGR0hJSktMTU5PUA==", "", "x-ms-date:Thu, 26 Nov 2026 "
	    "10:00:00 GMT\nx-ms-version:2021-12-02\n",
	    "/devstoreaccount1/devstoreaccount1/captures/a/b.pcap",
	    "comp=block&blockid=YmxvY2stMDAwMDAwMDE%3D");
	want = expected(sts);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void
test_put_blob_and_bad_key(void **state)
{
	const char	*sts = "PUT\n\n\n\n\napplication/vnd.tcpdump.pcap\n\n\n"
	    "\n\n\n\nx-ms-blob-type:BlockBlob\nx-ms-date:Thu, 26 Nov 2026 "
	    "10:00:00 GMT\nx-ms-version:2021-12-02\n/acct/captures/x.pcap";
	char		*got, *want;

	/* An empty body signs an empty Content-Length. */
	got = azure_shared_key_sign(key, "PUT", "", "",
	    "application/vnd.tcpdump.pcap", "x-ms-blob-type:BlockBlob\n"
	    "x-ms-date:Thu, 26 Nov 2026 10:00:00 GMT\nx-ms-version:2021-12-02\n",
	    "/acct/captures/x.pcap", NULL);
	want = expected(sts);
	assert_string_equal(got, want);
	free(got);
	free(want);
	assert_null(azure_shared_key_sign("not base64!", "PUT", "", "", "", "",
	    "/a/b", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_block),
		cmocka_unit_test(test_put_blob_and_bad_key),
	};

	return (cmocka_run_group_tests_name("upload", tests, NULL, NULL));
}
