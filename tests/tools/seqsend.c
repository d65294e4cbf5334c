/*
 * seqsend: UDP datagrams that carry their own sequence number and send
 * time, paced, so that a test can prove a capture holds every one of a
 * span exactly once.
 *
 * usage: seqsend DST_IP PORT PPS SECONDS [SIZE]
 * Each datagram's payload starts with the sequence number (from 0) and
 * the send time in microseconds, both 64-bit big-endian; SIZE (default
 * 100, at least 16) is the payload length.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_us(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

static void
put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in	 dst;
	struct timespec		 gap;
	unsigned char		 buf[1500];
	long			 port, pps, secs, size = 100;
	char			*end;
	int			 bad;
	uint64_t		 seq, n;
	int64_t			 start;
	int			 fd;

	if (argc < 5) {
		fprintf(stderr, "usage: seqsend DST_IP PORT PPS SECONDS "
		    "[SIZE]\n");
		return (2);
	}
	memset(&dst, 0, sizeof dst);
	dst.sin_family = AF_INET;
	port = strtol(argv[2], &end, 10);
	bad = *end != '\0' || port < 1 || port > 65535;
	dst.sin_port = htons((uint16_t)port);
	pps = strtol(argv[3], &end, 10);
	bad |= *end != '\0';
	secs = strtol(argv[4], &end, 10);
	bad |= *end != '\0';
	if (argc > 5) {
		size = strtol(argv[5], &end, 10);
		bad |= *end != '\0';
	}
	if (bad || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1 ||
	    pps <= 0 ||
	    secs <= 0 || size < 16 || size > (long)sizeof buf) {
		fprintf(stderr, "seqsend: bad arguments\n");
		return (2);
	}
	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		perror("socket");
		return (1);
	}
	memset(buf, 'q', sizeof buf);
	n = (uint64_t)pps * (uint64_t)secs;
	start = now_us();
	for (seq = 0; seq < n; seq++) {
		/* Paced against the clock, not by summed sleeps. */
		int64_t	due = start + (int64_t)(seq * 1000000 / (uint64_t)pps);
		int64_t	wait = due - now_us();

		if (wait > 0) {
			gap.tv_sec = (time_t)(wait / 1000000);
			gap.tv_nsec = (long)(wait % 1000000) * 1000;
			nanosleep(&gap, NULL);
		}
		put64(buf, seq);
		put64(buf + 8, (uint64_t)now_us());
		/* A number is used only once its datagram is sent. */
		while (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&dst,
		    sizeof dst) == -1 && (errno == EINTR || errno == EAGAIN ||
		    errno == ENOBUFS || errno == ECONNREFUSED))
			;
	}
	close(fd);
	return (0);
}
