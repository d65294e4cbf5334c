/* The capture file writer (pcap and pcapng), path confinement, repair. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "unit.h"
#include "iothread.h"
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

/* A description of a classic pcap file: Ethernet, snaplen, hashed. */
static const struct pcapw_desc *
pcap_desc(uint32_t snaplen)
{
	static struct pcapw_desc	d;

	memset(&d, 0, sizeof d);
	d.format = PCAPFMT_PCAP;
	d.hash = 1;
	d.info.linktype = DLT_EN10MB;
	d.info.snaplen = snaplen;
	return (&d);
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
	w = pcapw_open(rootfd, "sub/dir/a.pcap", pcap_desc(128), &cause);
	if (w == NULL)
		fail_msg("%s", cause);
	memset(pkt, 0xab, sizeof pkt);
	for (i = 0; i < 10; i++)
		assert_int_equal(pcapw_write(w, 1700000000000000000LL + i, 60, 100,
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
	assert_null(pcapw_open(rootfd, "sub/dir/a.pcap", pcap_desc(0),
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
	assert_null(pcapw_open(rootfd, "out/x.pcap", pcap_desc(0), &cause));
	assert_non_null(strstr(cause, "symlink"));
	free(cause);
	cause = NULL;
	assert_null(pcapw_open(rootfd, "../x.pcap", pcap_desc(0), &cause));
	free(cause);
	cause = NULL;
	/* A symlink as the file itself is refused too. */
	free(link);
	link = xasprintf("%s/f.pcap", dir);
	assert_int_equal(symlink("/tmp/alertcap-nowhere", link), 0);
	assert_null(pcapw_open(rootfd, "f.pcap", pcap_desc(0), &cause));
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
	w = pcapw_open(rootfd, "c.pcap.part", pcap_desc(0), &cause);
	assert_non_null(w);
	memset(pkt, 1, sizeof pkt);
	for (i = 0; i < 5; i++)
		pcapw_write(w, 1000000000, 200, 200, pkt);
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

/* A pcapng file of the parts a capture's has, for the tests below. */
static struct pcapw *
ng_open(int rootfd, const char *relpath, uint64_t limit, const char *comment)
{
	struct pcapw_desc	 d;
	char			*cause = NULL;
	struct pcapw		*w;

	memset(&d, 0, sizeof d);
	d.format = PCAPFMT_PCAPNG;
	d.hash = 1;
	d.limit = limit;
	d.info.linktype = DLT_EN10MB;
	d.info.snaplen = 96;
	d.info.comment = comment;
	d.info.if_name = "veth0";
	d.info.if_description = "veth0 on node n1";
	d.info.if_filter = "udp port 53";
	if ((w = pcapw_open(rootfd, relpath, &d, &cause)) == NULL)
		fail_msg("%s", cause);
	return (w);
}

/* Counts the blocks of each kind pcapng_scan hands over. */
struct ng_count {
	int	idb, epb, isb;
	int64_t	first_ts;
};

static int
ng_block(void *arg, const struct pcapng_block *b)
{
	struct ng_count	*n = arg;

	if (b->type == PCAPNG_IDB)
		n->idb++;
	else if (b->type == PCAPNG_ISB)
		n->isb++;
	else if (b->type == PCAPNG_EPB && n->epb++ == 0)
		n->first_ts = b->ts_ns;
	return (0);
}

static void
test_pcapng(void **state)
{
	struct pcapng_stats	 st = { 1, 2, 30, 4, 5 };
	struct pcap_pkthdr	*h;
	const u_char		*data;
	struct ng_count		 n = { 0, 0, 0, 0 };
	struct stat		 sb;
	struct pcapw		*w;
	unsigned char		 pkt[77];
	char			*dir, *path, ebuf[PCAP_ERRBUF_SIZE], sha[65];
	char			*cause = NULL;
	pcap_t			*p;
	uint64_t		 packets, bytes, rec;
	int			 rootfd, fd, i;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	w = ng_open(rootfd, "a.pcapng", 0, "trigger: {\"rule\": \"r\"}");
	memset(pkt, 0x5a, sizeof pkt);
	for (i = 0; i < 3; i++)
		assert_int_equal(pcapw_write(w, 1700000000123456789LL + i, 77,
		    1500, pkt), 0);
	/* Packets are padded to 4 bytes; the statistics block is kept. */
	assert_int_equal((rec = pcapw_record_bytes(w, 77)), 28 + 80 + 4);
	assert_int_equal(w->trailer, PCAPNG_ISB_LEN);
	assert_int_equal(pcapw_end(w, &st), 0);
	bytes = w->bytes;
	assert_int_equal(pcapw_close(w, sha), 0);
	path = xasprintf("%s/a.pcapng", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, bytes);
	/* libpcap reads it back, to the nanosecond. */
	p = pcap_open_offline_with_tstamp_precision(path,
	    PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (p == NULL)
		fail_msg("%s", ebuf);
	assert_int_equal(pcap_next_ex(p, &h, &data), 1);
	assert_int_equal(h->ts.tv_sec, 1700000000);
	assert_int_equal(h->ts.tv_usec, 123456789);
	assert_int_equal(h->caplen, 77);
	assert_int_equal(h->len, 1500);
	pcap_close(p);
	fd = open(path, O_RDONLY);
	assert_int_equal(pcapng_scan(fd, (uint64_t)sb.st_size, ng_block, &n),
	    sb.st_size);
	close(fd);
	assert_int_equal(n.idb, 1);
	assert_int_equal(n.epb, 3);
	assert_int_equal(n.isb, 1);
	assert_true(n.first_ts == 1700000000123456789LL);

	/* Cut short mid-block (a crash): back to its last whole block. */
	assert_int_equal(truncate(path, sb.st_size - PCAPNG_ISB_LEN - 50), 0);
	assert_int_equal(pcapfile_repair(rootfd, "a.pcapng", &packets, &bytes,
	    sha, &cause), 0);
	assert_int_equal(packets, 2);
	assert_int_equal(bytes, (uint64_t)sb.st_size - PCAPNG_ISB_LEN - rec);
	assert_int_equal(pcap_count(path), 2);
	free(path);
	free(dir);
	close(rootfd);
}

/* The byte limit: the header and the closing block count within it. */
static void
test_pcapng_limit(void **state)
{
	struct pcapw_desc	 d;
	struct pcapw		*w;
	char			*dir, *cause = NULL, big[4000];
	int			 rootfd;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	/* A comment that would leave too little room is left out. */
	w = ng_open(rootfd, "small.pcapng", 65536 + 2048, big);
	assert_true(w->bytes < 1024);
	assert_true(pcapw_fits(w, 100, 65536 + 2048));
	assert_false(pcapw_fits(w, 100, w->bytes + 132 + PCAPNG_ISB_LEN - 1));
	assert_true(pcapw_fits(w, 100, w->bytes + 132 + PCAPNG_ISB_LEN));
	pcapw_close(w, NULL);
	w = ng_open(rootfd, "roomy.pcapng", 0, big);
	assert_true(w->bytes > 4000);
	pcapw_close(w, NULL);
	/* A limit below the header itself is refused, naming the field. */
	memset(&d, 0, sizeof d);
	d.format = PCAPFMT_PCAPNG;
	d.limit = 100;
	d.info.linktype = DLT_EN10MB;
	assert_null(pcapw_open(rootfd, "tiny.pcapng", &d, &cause));
	assert_non_null(strstr(cause, "max_bytes_per_session"));
	free(cause);
	close(rootfd);
	free(dir);
}

/* A whole file read into memory (new), its size in *n. */
static unsigned char *
slurp(const char *path, size_t *n)
{
	struct stat	 sb;
	unsigned char	*buf;
	FILE		*f;

	assert_int_equal(stat(path, &sb), 0);
	buf = xmalloc((size_t)sb.st_size + 1);
	assert_non_null(f = fopen(path, "rb"));
	*n = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	assert_int_equal(*n, (size_t)sb.st_size);
	return (buf);
}

/*
 * A held header: packets wait in memory (past the usual buffer) until
 * the note comes, then the file is whole, its comment ends with the
 * note, and its size and hash are what the writer counted.
 */
static void
test_pcapng_hold(void **state)
{
	struct pcapw_desc	 d;
	struct pcapw		*w;
	struct stat		 sb;
	unsigned char		 pkt[200], md[32], *file;
	char			*dir, *path, *cause = NULL, sha[65], want[65];
	unsigned int		 mdlen;
	uint64_t		 counted;
	size_t			 n;
	int			 rootfd, i;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	memset(&d, 0, sizeof d);
	d.format = PCAPFMT_PCAPNG;
	d.hash = 1;
	d.limit = 4 * 1024 * 1024;
	d.info.linktype = DLT_EN10MB;
	d.info.comment = "alertcap capture h";
	d.hold_note = "context: h.context.json";
	assert_non_null(w = pcapw_open(rootfd, "h.pcapng", &d, &cause));
	assert_true(pcapw_held(w));
	memset(pkt, 0x11, sizeof pkt);
	for (i = 0; i < 6000; i++)	/* 1.3 MiB: more than one buffer */
		assert_int_equal(pcapw_write(w, 1700000000000000000LL + i, 200,
		    200, pkt), 0);
	path = xasprintf("%s/h.pcapng", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* Counted with room for the longest note, within the limit. */
	counted = w->bytes;
	assert_int_equal(pcapw_release(w, "context at start: 2 links"), 0);
	assert_false(pcapw_held(w));
	assert_true(w->bytes < counted);
	assert_true(counted - w->bytes > PCAPW_NOTE_MAX - 100);
	assert_int_equal(pcapw_end(w, &(struct pcapng_stats){ 1, 2, 3, 0, 0 }),
	    0);
	counted = w->bytes;
	assert_int_equal(pcapw_close(w, sha), 0);
	file = slurp(path, &n);
	assert_int_equal(n, counted);
	EVP_Digest(file, n, md, &mdlen, EVP_sha256(), NULL);
	hex_encode(md, mdlen, want);
	assert_string_equal(sha, want);
	file[n] = '\0';
	assert_non_null(memmem(file, n, "alertcap capture h\ncontext at start:"
	    " 2 links", 37));
	assert_null(memmem(file, n, "h.context.json", 14));
	free(file);
	assert_int_equal(pcap_count(path), 6000);
	free(path);

	/* A flush cannot wait: the header goes with the hold's own note. */
	assert_non_null(w = pcapw_open(rootfd, "f.pcapng", &d, &cause));
	assert_int_equal(pcapw_write(w, 1, 200, 200, pkt), 0);
	assert_int_equal(pcapw_flush(w), 0);
	assert_false(pcapw_held(w));
	assert_int_equal(pcapw_release(w, "too late"), 0);
	counted = w->bytes;
	assert_int_equal(pcapw_close(w, NULL), 0);
	path = xasprintf("%s/f.pcapng", dir);
	file = slurp(path, &n);
	assert_int_equal(n, counted);
	assert_non_null(memmem(file, n, "context: h.context.json", 23));
	assert_null(memmem(file, n, "too late", 8));
	free(file);
	assert_int_equal(pcap_count(path), 1);
	free(path);

	/* Classic pcap has no comment to hold for. */
	d.format = PCAPFMT_PCAP;
	assert_non_null(w = pcapw_open(rootfd, "c.pcap", &d, &cause));
	assert_false(pcapw_held(w));
	pcapw_close(w, NULL);
	close(rootfd);
	free(dir);
}

/* The SHA-256 of a file, read back (hex). */
static void
file_sha256(const char *path, char *hex)
{
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	unsigned char	 buf[65536], out[32];
	unsigned int	 n;
	size_t		 got;
	FILE		*f;

	assert_non_null(f = fopen(path, "rb"));
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while ((got = fread(buf, 1, sizeof buf, f)) > 0)
		EVP_DigestUpdate(md, buf, got);
	fclose(f);
	EVP_DigestFinal_ex(md, out, &n);
	EVP_MD_CTX_free(md);
	hex_encode(out, n, hex);
}

/*
 * On the file thread, with O_DIRECT where the test's directory takes it:
 * four files written at once, pcap and pcapng, each over many buffers
 * (more in flight than IO_BUFS, so writers wait for it) and flushed now
 * and then part way through a block (the tick's write), two outcomes
 * taken later (pcapw_close_later) and two waited for; every file reads
 * back whole and every digest is the file's.
 */
static void
test_file_thread(void **state)
{
	struct io_result	*res[2];
	struct io_outcome	 o;
	struct pcapw_desc	 d;
	struct pcapw		*w[4];
	unsigned char		 pkt[1500];
	char			*dir, *path, *cause = NULL, sha[4][65], want[65];
	int			 rootfd, i, k;

	assert_int_equal(io_init(&cause), 0);
	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	for (k = 0; k < 4; k++) {
		d = *pcap_desc(0);
		d.offload = 1;
		if (k % 2 == 1)
			d.format = PCAPFMT_PCAPNG;
		path = xasprintf("t%d.%s", k, pcapfmt_ext(d.format));
		if ((w[k] = pcapw_open(rootfd, path, &d, &cause)) == NULL)
			fail_msg("%s", cause);
		free(path);
	}
	for (i = 0; i < 20000; i++) {
		memset(pkt, i & 0xff, sizeof pkt);
		for (k = 0; k < 4; k++) {
			assert_int_equal(pcapw_write(w[k], 1700000000000000000LL +
			    i, (uint32_t)(200 + (i * 7 + k) % 1300), 1500, pkt),
			    0);
			if (i % 3001 == k)
				assert_int_equal(pcapw_flush(w[k]), 0);
		}
	}
	for (k = 0; k < 2; k++)
		res[k] = pcapw_close_later(w[k]);
	for (k = 2; k < 4; k++)
		assert_int_equal(pcapw_close(w[k], sha[k]), 0);
	for (k = 0; k < 2; k++) {
		io_result_wait(res[k], &o);
		io_result_free(res[k]);
		assert_int_equal(o.err, 0);
		memcpy(sha[k], o.sha256, sizeof sha[k]);
	}
	for (k = 0; k < 4; k++) {
		path = xasprintf("%s/t%d.%s", dir, k, k % 2 ? "pcapng" :
		    "pcap");
		file_sha256(path, want);
		assert_string_equal(sha[k], want);
		assert_int_equal(pcap_count(path), 20000);
		free(path);
	}
	io_shutdown();
	close(rootfd);
	free(dir);
}

/*
 * A write that fails (the file size limit stands in for a full disk),
 * inline and on the file thread: pcapw_write says so, at once or a few
 * buffers later; the file is cut after its last whole packet, and the
 * outcome's packets, bytes and digest are the file's.
 */
static void
test_write_fails(void **state)
{
	struct rlimit		 old, lim;
	struct io_outcome	 o;
	struct pcapw_desc	 d;
	struct pcapw		*w;
	struct stat		 st;
	unsigned char		 pkt[1500];
	char			*dir, *path, *cause = NULL, want[65];
	int			 rootfd, i, k, failed_at;

	memset(pkt, 0xab, sizeof pkt);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	for (k = 0; k < 4; k++) {
		if (k == 2)
			assert_int_equal(io_init(&cause), 0);
		d = *pcap_desc(0);
		d.offload = 1;
		if (k % 2 == 1)
			d.format = PCAPFMT_PCAPNG;
		path = xasprintf("f%d.%s", k, pcapfmt_ext(d.format));
		if ((w = pcapw_open(rootfd, path, &d, &cause)) == NULL)
			fail_msg("%s", cause);
		lim = old;
		lim.rlim_cur = 3 * 1024 * 1024 + 1000;
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
		failed_at = -1;
		for (i = 0; i < 20000 && failed_at == -1; i++)
			if (pcapw_write(w, 1700000000000000000LL + i,
			    (uint32_t)(100 + i % 1400), 1500, pkt) == -1)
				failed_at = i;
		assert_true(failed_at != -1);
		assert_int_equal(errno, EFBIG);
		assert_true(w->packets < (uint64_t)failed_at);
		{
			struct io_result *res = pcapw_close_later(w);

			io_result_wait(res, &o);
			io_result_free(res);
		}
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
		assert_int_equal(o.err, EFBIG);
		free(path);
		path = xasprintf("%s/f%d.%s", dir, k, k % 2 ? "pcapng" :
		    "pcap");
		assert_int_equal(stat(path, &st), 0);
		assert_true((uint64_t)st.st_size == o.bytes);
		assert_true(o.bytes <= 3 * 1024 * 1024 + 1000);
		assert_int_equal(pcap_count(path), (int)o.packets);
		assert_true(o.packets > 1000);
		file_sha256(path, want);
		assert_string_equal(o.sha256, want);
		free(path);
	}
	io_shutdown();
	signal(SIGXFSZ, SIG_DFL);
	close(rootfd);
	free(dir);
}

/* Names in a directory, but . and .. */
static int
dir_names(const char *path)
{
	struct dirent	*e;
	DIR		*d;
	int		 n = 0;

	assert_non_null(d = opendir(path));
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return (n);
}

/*
 * Spare files: made ahead and invisible, a new capture's file without a
 * name until pcapfile_name links it under its .part name (as O_EXCL, a
 * name taken, final or .part, is refused), for one directory at a time;
 * files elsewhere are created under their name at once. A file whose
 * name was refused is neither committed nor discarded in place of the
 * file that holds the name.
 */
static void
test_spares(void **state)
{
	struct pcapw	*w, *w2;
	struct stat	 st;
	unsigned char	 pkt[60];
	char		*dir, *sub, *path, *final, *cause = NULL;
	uint64_t	 ino2;
	int		 rootfd, i, fd, toname;

	dir = unit_tmpdir();
	rootfd = open_dir(dir);
	pcapfile_spares_probe(rootfd);
	for (i = 0; i < PCAPFILE_SPARES; i++)
		assert_true(pcapfile_spare_wanted("s/a.pcap"));
	assert_false(pcapfile_spare_wanted("s/a.pcap"));
	for (i = 0; i < PCAPFILE_SPARES; i++) {
		fd = pcapfile_spare_make(rootfd, "s/a.pcap");
		assert_true(fd >= 0);
		pcapfile_spare_put("s/a.pcap", fd);
	}
	sub = xasprintf("%s/s", dir);
	assert_int_equal(dir_names(sub), 0);	/* made, not named */
	assert_false(pcapfile_spare_wanted("s/b.pcap"));	/* all kept */

	w = pcapfile_create(rootfd, "s/a.pcap", pcap_desc(0), &toname, &cause);
	if (w == NULL)
		fail_msg("%s", cause);
	assert_true(toname >= 0);
	memset(pkt, 0x5a, sizeof pkt);
	for (i = 0; i < 3; i++)
		assert_int_equal(pcapw_write(w, 1700000000000000000LL + i, 60,
		    60, pkt), 0);
	assert_int_equal(dir_names(sub), 0);	/* not named yet */
	if (pcapfile_name(rootfd, "s/a.pcap", toname, &cause) == -1)
		fail_msg("%s", cause);
	assert_int_equal(dir_names(sub), 1);
	assert_int_equal(pcapw_close(w, NULL), 0);
	path = xasprintf("%s/s/a.pcap.part", dir);
	assert_int_equal(pcap_count(path), 3);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0137, 0);		/* at most 0640 */
	assert_true(pcapfile_spare_wanted("s/b.pcap"));	/* one was taken */
	pcapfile_spare_put("s/b.pcap", pcapfile_spare_make(rootfd,
	    "s/b.pcap"));

	/*
	 * The .part name taken: the second file is refused its name, and
	 * neither commit nor discard of it touches the first's.
	 */
	assert_non_null(w2 = pcapfile_create(rootfd, "s/a.pcap", pcap_desc(0),
	    &toname, &cause));
	assert_int_equal(pcapfile_name(rootfd, "s/a.pcap", toname, &cause),
	    -1);
	assert_int_equal(errno, EEXIST);
	assert_non_null(strstr(cause, "File exists"));
	free(cause);
	cause = NULL;
	ino2 = w2->ino;
	assert_true(ino2 != 0);
	assert_int_equal(pcapw_close(w2, NULL), 0);
	assert_int_equal(pcapfile_commit(rootfd, "s/a.pcap", ino2, &cause),
	    -1);
	assert_non_null(strstr(cause, "not the file this capture wrote"));
	free(cause);
	cause = NULL;
	pcapfile_discard(rootfd, "s/a.pcap", ino2);	/* not its file */
	assert_int_equal(pcap_count(path), 3);

	/* Finished under the final name: taken too. */
	assert_int_equal(pcapfile_commit(rootfd, "s/a.pcap", 0, &cause), 0);
	final = xasprintf("%s/s/a.pcap", dir);
	assert_int_equal(pcap_count(final), 3);
	assert_non_null(w2 = pcapfile_create(rootfd, "s/a.pcap", pcap_desc(0),
	    &toname, &cause));
	assert_int_equal(pcapfile_name(rootfd, "s/a.pcap", toname, &cause),
	    -1);
	assert_int_equal(errno, EEXIST);
	free(cause);
	cause = NULL;
	assert_int_equal(pcapw_close(w2, NULL), 0);
	assert_int_equal(dir_names(sub), 1);

	/*
	 * Another directory: none kept there, so one is made at once, still
	 * without a name; the spares move there.
	 */
	assert_non_null(w = pcapfile_create(rootfd, "t/b.pcap", pcap_desc(0),
	    &toname, &cause));
	assert_true(toname >= 0);
	assert_int_equal(pcapfile_name(rootfd, "t/b.pcap", toname, &cause), 0);
	assert_int_equal(pcapw_close(w, NULL), 0);
	assert_true(pcapfile_spare_wanted("t/b.pcap"));
	pcapfile_spare_put("s/a.pcap", pcapfile_spare_make(rootfd,
	    "s/a.pcap"));	/* made for the old one: not kept */
	assert_true(pcapfile_spare_wanted("t/b.pcap"));

	/* Without O_TMPFILE: made under the name, a name taken refused. */
	pcapfile_spare_put("t/b.pcap", -EOPNOTSUPP);
	assert_null(pcapfile_create(rootfd, "t/b.pcap", pcap_desc(0), &toname,
	    &cause));
	assert_non_null(strstr(cause, "File exists"));
	free(cause);
	cause = NULL;
	assert_non_null(w = pcapfile_create(rootfd, "t/c.pcap", pcap_desc(0),
	    &toname, &cause));
	assert_int_equal(toname, -1);
	assert_int_equal(pcapw_close(w, NULL), 0);
	free(path);
	path = xasprintf("%s/t/c.pcap.part", dir);
	assert_int_equal(pcap_count(path), 0);
	pcapfile_spares_close();
	free(final);
	free(path);
	free(sub);
	close(rootfd);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_and_hash),
		cmocka_unit_test(test_symlink_escape),
		cmocka_unit_test(test_repair),
		cmocka_unit_test(test_pcapng),
		cmocka_unit_test(test_pcapng_limit),
		cmocka_unit_test(test_pcapng_hold),
		cmocka_unit_test(test_file_thread),
		cmocka_unit_test(test_write_fails),
		cmocka_unit_test(test_spares),
	};

	return (cmocka_run_group_tests_name("pcapfile", tests, NULL, NULL));
}
