/*
 * loadgen.c -- real libtirpc traffic for the decode bench: a client of ALLTYPES_PROG v1
 * (fixtures/x/alltypes.x) linked with rpcgen's alltypes_clnt.c/alltypes_xdr.c, calling the
 * rpcgen C server (fixtures/c/alltypes_server.c) in a loop.
 *
 *   loadgen HOST tcp|udp CALLS SEED
 *
 * Every RECONNECT calls the client is destroyed and created again (clnt_create: an rpcbind
 * GETADDR, then for TCP a new connection).  The procedures are drawn from a fixed mix (a
 * linear congruential generator seeded with SEED): small calls most of the time, AT_BIGARG of
 * up to 3000 bytes, AT_ECHO of the whole alltypes structure now and then, and a few calls the
 * server refuses (procedure 99: PROC_UNAVAIL; version 2: PROG_MISMATCH).  AUTH_SYS credentials
 * (authunix_create_default) on most calls, AUTH_NONE on the others.  Exits 1 if a call fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <rpc/rpc.h>
#include "alltypes.h"

#define RECONNECT 2000

static unsigned long long lcg;

static unsigned
rnd(unsigned n)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((lcg >> 33) % n);
}

static struct timeval timeout = { 25, 0 };

static void
check(CLIENT *cl, enum clnt_stat st, const char *what)
{
	if (st != RPC_SUCCESS) {
		clnt_perror(cl, what);
		exit(1);
	}
}

/* A structure with every field set, sent by AT_ECHO (the server returns it). */
static void
fill(alltypes *v, node *nodes, point *vpa, int *va)
{
	static char fo[FIXLEN] = { 1, 2, 3, 4, 5 };
	static char vo[] = { 9, 8, 7 };
	int i;

	memset(v, 0, sizeof *v);
	v->i = -42;
	v->u = 4000000000u;
	v->e = GREEN;
	v->b = TRUE;
	v->h = -1234567890123LL;
	v->uh = 1234567890123ULL;
	v->f = 1.5f;
	v->d = 2.25;
	memcpy(v->fo, fo, FIXLEN);
	v->vo.vo_len = sizeof vo;
	v->vo.vo_val = vo;
	v->uo.uo_len = sizeof vo;
	v->uo.uo_val = vo;
	v->bs = "bench";
	v->us = "decode";
	for (i = 0; i < NFIX; i++)
		v->fa[i] = i;
	for (i = 0; i < 4; i++)
		va[i] = i * 10;
	v->va.va_len = 4;
	v->va.va_val = va;
	for (i = 0; i < 2; i++) {
		v->fpa[i].x = i;
		v->fpa[i].y = -i;
		vpa[i] = v->fpa[i];
	}
	v->vpa.vpa_len = 2;
	v->vpa.vpa_val = vpa;
	v->nested.shade = BLUE;
	v->nested.label = "nested";
	v->c1.kind = 1;
	v->c1.choice_u.number = 100;
	v->c2.kind = 4;
	v->c3.kind = 5;
	v->c4.kind = 7;
	v->c4.choice_u.text = "seven";
	v->ci.c = RED;
	v->ci.colorinfo_u.level = 3;
	v->m.present = TRUE;
	v->m.maybe_u.value = 77;
	for (i = 0; i < 2; i++) {
		nodes[i].value = i;
		nodes[i].tag = "n";
		nodes[i].next = i ? NULL : &nodes[1];
	}
	v->list = &nodes[0];
	v->absent = NULL;
	v->nm = "name";
	memset(v->fb, 7, FIXLEN);
}

int
main(int argc, char **argv)
{
	CLIENT *cl = NULL;
	AUTH *sys, *none;
	long calls, n;
	alltypes v;
	node nodes[2];
	point vpa[2];
	int va[4], sumv[20];
	char big[3000], namebuf[64];

	if (argc != 5) {
		fprintf(stderr, "usage: %s HOST tcp|udp CALLS SEED\n", argv[0]);
		return 2;
	}
	calls = atol(argv[3]);
	lcg = strtoull(argv[4], NULL, 10);
	fill(&v, nodes, vpa, va);
	memset(big, 0x5a, sizeof big);
	sys = authunix_create_default();
	none = authnone_create();
	for (n = 0; n < calls; n++) {
		unsigned r = rnd(1000);
		enum clnt_stat st;

		if (n % RECONNECT == 0) {
			if (cl) {
				cl->cl_auth = none; /* not destroyed with the client */
				clnt_destroy(cl);
			}
			cl = clnt_create(argv[1], ALLTYPES_PROG, ALLTYPES_VERS, argv[2]);
			if (cl == NULL) {
				clnt_pcreateerror(argv[1]);
				return 1;
			}
			auth_destroy(cl->cl_auth);
		}
		cl->cl_auth = rnd(4) ? sys : none;
		if (r < 100) {
			st = clnt_call(cl, AT_NULL, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, NULL, timeout);
			check(cl, st, "AT_NULL");
		} else if (r < 300) {
			int kind = (int)rnd(8);
			choice res;
			memset(&res, 0, sizeof res);
			st = clnt_call(cl, AT_GETCHOICE, (xdrproc_t)xdr_int, (caddr_t)&kind, (xdrproc_t)xdr_choice, (caddr_t)&res, timeout);
			check(cl, st, "AT_GETCHOICE");
			clnt_freeres(cl, (xdrproc_t)xdr_choice, (caddr_t)&res);
		} else if (r < 450) {
			u_int len = rnd(6);
			nodeptr res = NULL;
			st = clnt_call(cl, AT_MKLIST, (xdrproc_t)xdr_u_int, (caddr_t)&len, (xdrproc_t)xdr_nodeptr, (caddr_t)&res, timeout);
			check(cl, st, "AT_MKLIST");
			clnt_freeres(cl, (xdrproc_t)xdr_nodeptr, (caddr_t)&res);
		} else if (r < 550) {
			credinfo res;
			memset(&res, 0, sizeof res);
			st = clnt_call(cl, AT_WHOAMI, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_credinfo, (caddr_t)&res, timeout);
			check(cl, st, "AT_WHOAMI");
			clnt_freeres(cl, (xdrproc_t)xdr_credinfo, (caddr_t)&res);
		} else if (r < 700) {
			name arg = namebuf, res = NULL;
			snprintf(namebuf, sizeof namebuf, "file-%u.dat", rnd(100000));
			st = clnt_call(cl, AT_ECHONAME, (xdrproc_t)xdr_name, (caddr_t)&arg, (xdrproc_t)xdr_name, (caddr_t)&res, timeout);
			check(cl, st, "AT_ECHONAME");
			clnt_freeres(cl, (xdrproc_t)xdr_name, (caddr_t)&res);
		} else if (r < 800) {
			color c = rnd(2) ? RED : BLUE;
			colorinfo res;
			memset(&res, 0, sizeof res);
			st = clnt_call(cl, AT_GETCOLOR, (xdrproc_t)xdr_color, (caddr_t)&c, (xdrproc_t)xdr_colorinfo, (caddr_t)&res, timeout);
			check(cl, st, "AT_GETCOLOR");
		} else if (r < 850) {
			bool_t b = rnd(2), res;
			st = clnt_call(cl, AT_NEGATE, (xdrproc_t)xdr_bool, (caddr_t)&b, (xdrproc_t)xdr_bool, (caddr_t)&res, timeout);
			check(cl, st, "AT_NEGATE");
		} else if (r < 930) {
			intvec arg;
			quad_t res;
			u_int i;
			arg.intvec_len = 1 + rnd(20);
			arg.intvec_val = sumv;
			for (i = 0; i < arg.intvec_len; i++)
				sumv[i] = (int)rnd(1000);
			st = clnt_call(cl, AT_SUM, (xdrproc_t)xdr_intvec, (caddr_t)&arg, (xdrproc_t)xdr_quad_t, (caddr_t)&res, timeout);
			check(cl, st, "AT_SUM");
		} else if (r < 970) {
			blob arg;
			bigresult res;
			arg.blob_len = 100 + rnd(2900);
			arg.blob_val = big;
			st = clnt_call(cl, AT_BIGARG, (xdrproc_t)xdr_blob, (caddr_t)&arg, (xdrproc_t)xdr_bigresult, (caddr_t)&res, timeout);
			check(cl, st, "AT_BIGARG");
		} else if (r < 990) {
			alltypes res;
			memset(&res, 0, sizeof res);
			st = clnt_call(cl, AT_ECHO, (xdrproc_t)xdr_alltypes, (caddr_t)&v, (xdrproc_t)xdr_alltypes, (caddr_t)&res, timeout);
			check(cl, st, "AT_ECHO");
			clnt_freeres(cl, (xdrproc_t)xdr_alltypes, (caddr_t)&res);
		} else if (r < 995) {
			/* A procedure the server does not have: PROC_UNAVAIL. */
			st = clnt_call(cl, 99, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, NULL, timeout);
			if (st != RPC_PROCUNAVAIL)
				check(cl, st, "proc 99");
		} else {
			/* A version the server does not have: PROG_MISMATCH (a client of version 2, same server port). */
			CLIENT *c2 = clnt_create(argv[1], ALLTYPES_PROG, 2, argv[2]);
			if (c2 != NULL) {
				st = clnt_call(c2, 0, (xdrproc_t)xdr_void, NULL, (xdrproc_t)xdr_void, NULL, timeout);
				if (st != RPC_PROGVERSMISMATCH)
					check(c2, st, "version 2");
				clnt_destroy(c2);
			}
		}
	}
	if (cl) {
		cl->cl_auth = none;
		clnt_destroy(cl);
	}
	auth_destroy(sys);
	printf("%ld calls\n", calls);
	return 0;
}
