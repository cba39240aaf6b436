/*
 * loadgen.c -- a libtirpc load generator for ALLTYPES_PROG v1 (fixtures/x/alltypes.x): one client,
 * one call in flight, calling one procedure over and over for a fixed time.
 *
 *   loadgen tcp|udp PORT null|getcolor|echo WARMUP_S SECONDS
 *
 * Connects to 127.0.0.1:PORT directly (clnttcp_create / clntudp_create with the port given: no
 * rpcbind lookup), AUTH_NONE, rpcgen's 25 s call timeout, 1 s UDP retransmission wait. Calls
 *   null      AT_NULL       void -> void
 *   getcolor  AT_GETCOLOR   BLUE -> {BLUE, ratio 0.75}            (a 4-byte enum, a 12-byte union)
 *   echo      AT_ECHO       V -> V                                (the 376-byte alltypes struct)
 * for WARMUP_S seconds, then for SECONDS seconds, and prints one line:
 *   <calls in all> <calls in the measured window> <measured seconds> <CPU µs of this process in the loop>
 * Exits 1 if a call fails or a result is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <rpc/rpc.h>
#include "alltypes.h"

/* The value V (build_value) of fixtures/c/alltypes_client.c, without its main(). */
#define main alltypes_client_main
#include "alltypes_client.c"
#undef main

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

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	struct timeval tmo = { 25, 0 }, wait = { 1, 0 };
	int sock = RPC_ANYSOCK, tcp, proc;
	CLIENT *cl;
	alltypes v, r;
	color c = BLUE;
	colorinfo ci;
	double warm, secs, t0, t1, start, cpu0;
	unsigned long all = 0, measured = 0;
	enum clnt_stat st;

	if (argc != 6) {
		fprintf(stderr, "usage: %s tcp|udp PORT null|getcolor|echo WARMUP_S SECONDS\n", argv[0]);
		return 2;
	}
	tcp = strcmp(argv[1], "tcp") == 0;
	proc = strcmp(argv[3], "null") == 0 ? AT_NULL : strcmp(argv[3], "getcolor") == 0 ? AT_GETCOLOR : AT_ECHO;
	warm = atof(argv[4]);
	secs = atof(argv[5]);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[2]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cl = tcp ? clnttcp_create(&a, ALLTYPES_PROG, ALLTYPES_VERS, &sock, 0, 0)
	    : clntudp_create(&a, ALLTYPES_PROG, ALLTYPES_VERS, wait, &sock);
	if (cl == NULL) {
		clnt_pcreateerror("loadgen");
		return 1;
	}
	build_value(&v);

	cpu0 = cpu_us();
	start = now();
	t0 = start + warm;
	t1 = t0 + secs;
	for (;;) {
		double t;
		switch (proc) {
		case AT_NULL:
			st = clnt_call(cl, AT_NULL, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, NULL, tmo);
			break;
		case AT_GETCOLOR:
			memset(&ci, 0, sizeof ci);
			st = clnt_call(cl, AT_GETCOLOR, (xdrproc_t)xdr_color, (caddr_t)&c,
			    (xdrproc_t)xdr_colorinfo, (caddr_t)&ci, tmo);
			if (st == RPC_SUCCESS && (ci.c != BLUE || ci.colorinfo_u.ratio != 0.75)) {
				fprintf(stderr, "loadgen: wrong AT_GETCOLOR result\n");
				return 1;
			}
			break;
		default:
			memset(&r, 0, sizeof r);
			st = clnt_call(cl, AT_ECHO, (xdrproc_t)xdr_alltypes, (caddr_t)&v,
			    (xdrproc_t)xdr_alltypes, (caddr_t)&r, tmo);
			if (st == RPC_SUCCESS) {
				if (r.i != v.i || r.uh != v.uh || strcmp(r.nm, v.nm) != 0) {
					fprintf(stderr, "loadgen: wrong AT_ECHO result\n");
					return 1;
				}
				xdr_free((xdrproc_t)xdr_alltypes, (caddr_t)&r);
			}
			break;
		}
		if (st != RPC_SUCCESS) {
			clnt_perror(cl, "loadgen");
			return 1;
		}
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
