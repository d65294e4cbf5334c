/* The pcap writer, path confinement and crash repair. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "unit.h"
#include "pcapfile.h"
#include "util.h"
#include "xmalloc.h"

static int
open_dir(const char *path)
{
	int	fd = open(path, O_RDONLY | O_DIRECTORY);

	assert_true(fd != -1);
	return (fd);
}

/* Reads a file back with libpcap; returns its packet count. */
static int
pcap_count(const char *path)
{
	struct pcap_pkthdr	*h;
	const u_char		*d;
	char			 ebuf[PCAP_ERRBUF_SIZE];
	pcap_t			*p;
	int			 n = 0;

	if ((p = pcap_open_offline(path, ebuf)) == NULL)
		fail_msg("%s", ebuf);
	while (pcap_next_ex(p, &h, &d) == 1)
		n++;
	pcap_close(p);
	return (n);
}

static void
test_write_and_hash(void **state)
{
	struct pcapw	*w;
	unsigned char	 pkt[100], md[32];
	char		*dir, *path, *cause = NULL, sha[65], want[65];
	unsigned int	 mdlen;
	int		 rootfd, i;
	FILE		*f;
	unsigned char	 file[8192];
	size_t		 n;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	w = pcapw_open(rootfd, "sub/dir/a.pcap", DLT_EN10MB, 128, 1, &cause);
	if (w == NULL)
		fail_msg("%s", cause);
	memset(pkt, 0xab, sizeof pkt);
	for (i = 0; i < 10; i++)
		assert_int_equal(pcapw_write(w, 1700000000000000LL + i, 60, 100,
		    pkt), 0);
	assert_int_equal(w->bytes, 24 + 10 * (16 + 60));
	assert_int_equal(pcapw_close(w, sha), 0);
	path = xasprintf("%s/sub/dir/a.pcap", dir);
	assert_int_equal(pcap_count(path), 10);
	f = fopen(path, "rb");
	n = fread(file, 1, sizeof file, f);
	fclose(f);
	assert_int_equal(n, 24 + 10 * 76);
	EVP_Digest(file, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, want);
	assert_string_equal(sha, want);
	/* Files are created exclusively. */
	assert_null(pcapw_open(rootfd, "sub/dir/a.pcap", DLT_EN10MB, 0, 1,
	    &cause));
	free(cause);
	close(rootfd);
	free(path);
	free(dir);
}

static void
test_symlink_escape(void **state)
{
	char	*dir, *link, *cause = NULL;
	int	 rootfd;

	dir = unit_tmpdir();
	link = xasprintf("%s/out", dir);
	assert_int_equal(symlink("/tmp", link), 0);
	rootfd = open_dir(dir);
	assert_null(pcapw_open(rootfd, "out/x.pcap", DLT_EN10MB, 0, 1, &cause));
	assert_non_null(strstr(cause, "symlink"));
	free(cause);
	cause = NULL;
	assert_null(pcapw_open(rootfd, "../x.pcap", DLT_EN10MB, 0, 1, &cause));
	free(cause);
	cause = NULL;
	/* A symlink as the file itself is refused too. */
	free(link);
	link = xasprintf("%s/f.pcap", dir);
	assert_int_equal(symlink("/tmp/alertcap-nowhere", link), 0);
	assert_null(pcapw_open(rootfd, "f.pcap", DLT_EN10MB, 0, 1, &cause));
	free(cause);
	close(rootfd);
	free(link);
	free(dir);
}

static void
test_repair(void **state)
{
	struct pcapw	*w;
	struct stat	 st;
	unsigned char	 pkt[200];
	char		*dir, *path, *cause = NULL, sha[65];
	uint64_t	 packets, bytes;
	int		 rootfd, i;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	w = pcapw_open(rootfd, "c.pcap.part", DLT_EN10MB, 0, 1, &cause);
	assert_non_null(w);
	memset(pkt, 1, sizeof pkt);
	for (i = 0; i < 5; i++)
		pcapw_write(w, 1000000, 200, 200, pkt);
	pcapw_close(w, sha);
	path = xasprintf("%s/c.pcap.part", dir);
	/* Cut the last record in half, as a crash mid-write would. */
	assert_int_equal(truncate(path, 24 + 4 * 216 + 100), 0);
	assert_int_equal(pcapfile_repair(rootfd, "c.pcap.part", &packets,
	    &bytes, sha, &cause), 0);
	assert_int_equal(packets, 4);
	assert_int_equal(bytes, 24 + 4 * 216);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 24 + 4 * 216);
	assert_int_equal(pcap_count(path), 4);
	assert_int_equal(strlen(sha), 64);
	/* Less than a header: nothing to keep, said so. */
	assert_int_equal(truncate(path, 10), 0);
	assert_int_equal(pcapfile_repair(rootfd, "c.pcap.part", &packets,
	    &bytes, sha, &cause), -1);
	assert_non_null(strstr(cause, "no pcap header"));
	free(cause);
	close(rootfd);
	free(path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_hash),
		cmocka_unit_test(test_symlink_escape),
		cmocka_unit_test(test_repair),
	};

	return (cmocka_run_group_tests_name("pcapfile", tests, NULL, NULL));
}
