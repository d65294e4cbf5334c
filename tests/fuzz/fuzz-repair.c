/*
 * Fuzz target: a capture file cut short anywhere (as a crash or a full
 * disk leaves it), through the repair that runs at restart. The oracle:
 * a repaired file opens in libpcap and holds exactly the packets, bytes
 * and SHA-256 the repair reports.
 */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "fuzz.h"
#include "pcapfile.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pcap_pkthdr	*h;
	const u_char		*pkt;
	struct stat		 st;
	char			 sha[65], err[PCAP_ERRBUF_SIZE], *cause = NULL;
	const char		*path;
	uint64_t		 packets, bytes, n = 0;
	pcap_t			*p;
	int			 dirfd;

	path = fuzz_write("f.pcap", data, size);
	dirfd = open(fuzz_tmpdir(), O_RDONLY | O_DIRECTORY);
	if (pcapfile_repair(dirfd, "f.pcap", &packets, &bytes, sha,
	    &cause) == -1) {
		free(cause);
		close(dirfd);
		return (0);
	}
	close(dirfd);
	if (stat(path, &st) == -1 || (uint64_t)st.st_size != bytes)
		abort();	/* the size on record is not the file's */
	if ((p = pcap_open_offline(path, err)) == NULL)
		abort();	/* a repaired file that libpcap refuses */
	while (pcap_next_ex(p, &h, &pkt) == 1)
		n++;
	pcap_close(p);
	if (n != packets)
		abort();	/* the packets on record are not the file's */
	return (0);
}
