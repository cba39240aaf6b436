/*
 * lookup.c -- the libtirpc load generator of bench/rpcbind: lookups against an rpcbind on 127.0.0.1:111
 * over one client handle, one call in flight, for a fixed time; plus the two helpers the bench needs
 * around it (registering entries, timing a daemon's first reply).
 *
 *   lookup load getport|getaddr3|getaddr4|null TCP|UDP PROG VERS PORT WARMUP_S SECONDS
 *       One client (clnttcp_create / clntudp_create straight to 127.0.0.1:111, no lookup of the
 *       lookup service itself), AUTH_NONE, 25 s call timeout, 1 s UDP retransmission wait, calling
 *         getport   portmap v2 PMAPPROC_GETPORT {PROG, VERS, IPPROTO_TCP|UDP, 0} -> u_short,
 *                   as libtirpc's pmap_getport() calls it (xdr_pmap, xdr_u_short)
 *         getaddr3  rpcbind v3 RPCBPROC_GETADDR {PROG, VERS, "tcp"|"udp", "127.0.0.1.0.111", "libtirpc"}
 *         getaddr4  rpcbind v4 RPCBPROC_GETADDR, the same argument, as clnt_create() asks it
 *                   -> string (xdr_wrapstring), freed after each call
 *         null      portmap v2 NULL (the floor: dispatch without a lookup)
 *       for WARMUP_S seconds, then SECONDS seconds. Every answer is checked: GETPORT must be PORT,
 *       GETADDR "127.0.0.1.<PORT/256>.<PORT%256>" (the wildcard registration merged with the address
 *       the query arrived on). Prints one line:
 *         <calls in all> <calls in the measured window> <measured seconds> <CPU µs of this process>
 *       Exits 1 on a failed call or a wrong answer. LOOKUP_PORT=N in the environment: port N instead
 *       of 111 (for trying other servers by hand).
 *
 *   lookup register PROG0 NPROGS NVERS PORT0
 *       rpcb_set() (libtirpc: rpcbind v3 SET over /run/rpcbind.sock, as every libtirpc server registers)
 *       of programs PROG0 .. PROG0+NPROGS-1, versions 1..NVERS, netids udp then tcp, at
 *       0.0.0.0.<p/256>.<p%256>, p = PORT0, PORT0+1, ... in that order. Exits 1 if a SET is refused.
 *
 *   lookup probe TIMEOUT_S
 *       Prints "READY" once its socket is open, then sends a portmap v2 GETPORT(100000, 2, udp) datagram
 *       to 127.0.0.1:111 every 250 µs (fresh xid each time) until a SUCCESS reply comes back, and prints
 *       the CLOCK_MONOTONIC time of that reply in ns (the clock of Node's process.hrtime). The harness
 *       reads READY, takes its own time and spawns the daemon: the difference is spawn -> first reply.
 *       Exits 1 after TIMEOUT_S without an answer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <rpc/rpc.h>
#include <rpc/pmap_prot.h>
#include <rpc/rpcb_prot.h>
#include <rpc/rpcb_clnt.h>

static double
cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum { W_GETPORT, W_GETADDR3, W_GETADDR4, W_NULL };

static int
load(int argc, char **argv)
{
	struct sockaddr_in a;
	struct timeval tmo = { 25, 0 }, wait = { 1, 0 };
	int sock = RPC_ANYSOCK, tcp, w;
	unsigned long prog, vers, port, vnum;
	CLIENT *cl;
	double warm, secs, t0, t1, start, cpu0;
	unsigned long all = 0, measured = 0;
	char expect[64];
	struct pmap pm;
	RPCB rb;
	enum clnt_stat st;

	if (argc != 9) {
		fprintf(stderr, "usage: lookup load getport|getaddr3|getaddr4|null tcp|udp PROG VERS PORT WARMUP_S SECONDS\n");
		return 2;
	}
	w = strcmp(argv[2], "getport") == 0 ? W_GETPORT : strcmp(argv[2], "getaddr3") == 0 ? W_GETADDR3
	    : strcmp(argv[2], "getaddr4") == 0 ? W_GETADDR4 : strcmp(argv[2], "null") == 0 ? W_NULL : -1;
	tcp = strcmp(argv[3], "tcp") == 0;
	if (w < 0 || (!tcp && strcmp(argv[3], "udp") != 0)) {
		fprintf(stderr, "lookup: unknown workload or transport\n");
		return 2;
	}
	prog = strtoul(argv[4], NULL, 0);
	vers = strtoul(argv[5], NULL, 0);
	port = strtoul(argv[6], NULL, 0);
	warm = atof(argv[7]);
	secs = atof(argv[8]);
	vnum = w == W_GETADDR3 ? RPCBVERS : w == W_GETADDR4 ? RPCBVERS4 : PMAPVERS;

	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(getenv("LOOKUP_PORT") ? atoi(getenv("LOOKUP_PORT")) : PMAPPORT);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cl = tcp ? clnttcp_create(&a, PMAPPROG, vnum, &sock, 0, 0) : clntudp_create(&a, PMAPPROG, vnum, wait, &sock);
	if (cl == NULL) {
		clnt_pcreateerror("lookup");
		return 1;
	}
	pm.pm_prog = prog;
	pm.pm_vers = vers;
	pm.pm_prot = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	pm.pm_port = 0;
	rb.r_prog = prog;
	rb.r_vers = vers;
	rb.r_netid = tcp ? "tcp" : "udp";
	rb.r_addr = "127.0.0.1.0.111";
	rb.r_owner = "libtirpc";
	snprintf(expect, sizeof expect, "127.0.0.1.%lu.%lu", port >> 8, port & 0xff);

	cpu0 = cpu_us();
	start = now();
	t0 = start + warm;
	t1 = t0 + secs;
	for (;;) {
		double t;
		unsigned short got = 0;
		char *ua = NULL;
		int wrong = 0;

		switch (w) {
		case W_GETPORT:
			st = clnt_call(cl, PMAPPROC_GETPORT, (xdrproc_t)xdr_pmap, (caddr_t)&pm, (xdrproc_t)xdr_u_short, (caddr_t)&got, tmo);
			wrong = st == RPC_SUCCESS && got != port;
			if (wrong)
				fprintf(stderr, "lookup: GETPORT answered %u, expected %lu\n", got, port);
			break;
		case W_GETADDR3:
		case W_GETADDR4:
			st = clnt_call(cl, RPCBPROC_GETADDR, (xdrproc_t)xdr_rpcb, (caddr_t)&rb, (xdrproc_t)xdr_wrapstring, (caddr_t)&ua, tmo);
			if (st == RPC_SUCCESS) {
				wrong = ua == NULL || strcmp(ua, expect) != 0;
				if (wrong)
					fprintf(stderr, "lookup: GETADDR answered \"%s\", expected \"%s\"\n", ua ? ua : "(null)", expect);
				xdr_free((xdrproc_t)xdr_wrapstring, (caddr_t)&ua);
			}
			break;
		default:
			st = clnt_call(cl, NULLPROC, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, NULL, tmo);
			break;
		}
		if (st != RPC_SUCCESS) {
			clnt_perror(cl, "lookup");
			return 1;
		}
		if (wrong)
			return 1;
		all++;
		t = now();
		if (t >= t0) {
			if (t >= t1)
				break;
			measured++;
		}
	}
	printf("%lu %lu %.6f %.0f\n", all, measured, now() - t0, cpu_us() - cpu0);
	clnt_destroy(cl);
	return 0;
}

static int
reg(int argc, char **argv)
{
	unsigned long prog0, nprogs, nvers, port;
	const char *netids[] = { "udp", "tcp" };

	if (argc != 6) {
		fprintf(stderr, "usage: lookup register PROG0 NPROGS NVERS PORT0\n");
		return 2;
	}
	prog0 = strtoul(argv[2], NULL, 0);
	nprogs = strtoul(argv[3], NULL, 0);
	nvers = strtoul(argv[4], NULL, 0);
	port = strtoul(argv[5], NULL, 0);
	for (unsigned long p = 0; p < nprogs; p++) {
		for (unsigned long v = 1; v <= nvers; v++) {
			for (int n = 0; n < 2; n++) {
				struct netconfig *nc = getnetconfigent(netids[n]);
				char ua[64];
				struct netbuf *nb;

				if (nc == NULL) {
					fprintf(stderr, "lookup: no netconfig for %s\n", netids[n]);
					return 1;
				}
				snprintf(ua, sizeof ua, "0.0.0.0.%lu.%lu", port >> 8, port & 0xff);
				nb = uaddr2taddr(nc, ua);
				if (nb == NULL || !rpcb_set(prog0 + p, v, nc, nb)) {
					fprintf(stderr, "lookup: rpcb_set(%lu, %lu, %s, %s) failed\n", prog0 + p, v, netids[n], ua);
					return 1;
				}
				free(nb->buf);
				free(nb);
				freenetconfigent(nc);
				port++;
			}
		}
	}
	return 0;
}

static int
probe(int argc, char **argv)
{
	struct sockaddr_in a;
	uint32_t req[14], rep[16];
	double deadline;
	uint32_t xid;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: lookup probe TIMEOUT_S\n");
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("lookup: socket");
		return 1;
	}
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(PMAPPORT);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	xid = (uint32_t)getpid() << 12;
	/* xid, CALL, rpcvers 2, PMAPPROG, v2, GETPORT, AUTH_NONE x2, {100000, 2, 17, 0} */
	req[1] = htonl(0);
	req[2] = htonl(2);
	req[3] = htonl(PMAPPROG);
	req[4] = htonl(PMAPVERS);
	req[5] = htonl(PMAPPROC_GETPORT);
	req[6] = req[7] = req[8] = req[9] = 0;
	req[10] = htonl(PMAPPROG);
	req[11] = htonl(PMAPVERS);
	req[12] = htonl(IPPROTO_UDP);
	req[13] = 0;
	printf("READY\n");
	fflush(stdout);
	deadline = now() + atof(argv[2]);
	while (now() < deadline) {
		struct timespec ts = { 0, 250000 };
		struct pollfd p = { fd, POLLIN, 0 };
		uint32_t sent = ++xid;

		req[0] = htonl(sent);
		(void)sendto(fd, req, sizeof req, 0, (struct sockaddr *)&a, sizeof a);
		while (ppoll(&p, 1, &ts, NULL) > 0) {
			ssize_t n = recv(fd, rep, sizeof rep, 0);
			struct timespec at;

			clock_gettime(CLOCK_MONOTONIC, &at);
			/* xid, REPLY, MSG_ACCEPTED, verf AUTH_NONE 0, SUCCESS, port */
			if (n >= 28 && ntohl(rep[1]) == 1 && rep[2] == 0 && rep[5] == 0 && ntohl(rep[0]) <= sent) {
				printf("%lld\n", (long long)at.tv_sec * 1000000000LL + at.tv_nsec);
				return 0;
			}
			if (n < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED)
				break;
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
		}
	}
	fprintf(stderr, "lookup: no answer on 127.0.0.1:111 within %s s\n", argv[2]);
	return 1;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "load") == 0)
		return load(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "register") == 0)
		return reg(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "probe") == 0)
		return probe(argc, argv);
	fprintf(stderr, "usage: lookup load|register|probe ...\n");
	return 2;
}
