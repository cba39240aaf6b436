/*
 * harness.c: the libtirpc side of the XDR codec benchmark (bench/xdr/run.js builds and runs it).
 *
 *   harness DIR SECONDS WARMUP_SECONDS RUNS [WORKLOAD...]
 *
 * For each workload W it reads DIR/W.bin (the bytes oncrpc encoded from values.js), decodes them
 * with the rpcgen routine (XDR_DECODE), checks every byte was consumed, encodes the decoded value
 * again (XDR_ENCODE) into DIR/W.c.bin so node can check the bytes are identical, then times:
 *   encode: xdrmem_create() on one reused buffer + xdr_TYPE(XDR_ENCODE), per op;
 *   decode: xdrmem_create() on the input + xdr_TYPE(XDR_DECODE) into a zeroed struct + xdr_free(), per op.
 * Times are on the monotonic wall clock, or this process's CPU clock with BENCH_CLOCK=cpu (see timing.js).
 * Each measurement: a warm-up, then RUNS runs of SECONDS each; prints JSON with every run's ops/s.
 * With WORKLOAD names, only those (run.js calls it once per workload per round, between JS runs).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <rpc/rpc.h>

#include "workloads.h"

struct workload {
	const char *name;
	xdrproc_t proc;
	size_t objsize;
};

static const struct workload workloads[] = {
	{ "small", (xdrproc_t)xdr_small_args, sizeof(small_args) },
	{ "readdirplus", (xdrproc_t)xdr_READDIRPLUS3res, sizeof(READDIRPLUS3res) },
	{ "read", (xdrproc_t)xdr_READ3res, sizeof(READ3res) },
	{ "variants", (xdrproc_t)xdr_variant_list, sizeof(variant_list) },
};

#define NWORKLOADS (sizeof(workloads) / sizeof(workloads[0]))
#define MAXRUNS 15

/* BENCH_CLOCK=cpu: this process's CPU time; otherwise (default, "wall") the monotonic clock. */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;
	clock_gettime(clock_id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *name)
{
	fprintf(stderr, "harness: %s: %s\n", name, what);
	exit(1);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		fprintf(stderr, "harness: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
	if (b == NULL || fread(b, 1, (size_t)n, f) != (size_t)n)
		die("read failed", path);
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void write_file(const char *path, const void *b, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(b, 1, len, f) != len || fclose(f) != 0)
		die("write failed", path);
}

/* The state one timed operation needs. */
struct job {
	const struct workload *w;
	unsigned char *in;
	size_t inlen;
	unsigned char *out;
	size_t outcap;
	void *obj;     /* the decoded value that encode writes */
	void *scratch; /* where decode decodes to */
};

static volatile unsigned long sink;

static void encode_once(struct job *j)
{
	XDR x;
	xdrmem_create(&x, (char *)j->out, (u_int)j->outcap, XDR_ENCODE);
	if (!j->w->proc(&x, j->obj, 0))
		die("encode failed", j->w->name);
	sink += xdr_getpos(&x);
	XDR_DESTROY(&x);
}

static void decode_once(struct job *j)
{
	XDR x;
	memset(j->scratch, 0, j->w->objsize);
	xdrmem_create(&x, (char *)j->in, (u_int)j->inlen, XDR_DECODE);
	if (!j->w->proc(&x, j->scratch, 0))
		die("decode failed", j->w->name);
	sink += xdr_getpos(&x);
	XDR_DESTROY(&x);
	xdr_free(j->w->proc, (char *)j->scratch);
}

/* Runs op in batches until `seconds` have passed; returns ops/s. */
static double measure(void (*op)(struct job *), struct job *j, double seconds, unsigned long *batch)
{
	unsigned long ops = 0;
	double t0 = now(), t;
	do {
		for (unsigned long i = 0; i < *batch; i++)
			op(j);
		ops += *batch;
		t = now();
	} while (t - t0 < seconds);
	return (double)ops / (t - t0);
}

/* Grows the batch until one takes about a millisecond, so reading the clock costs nothing. */
static unsigned long calibrate(void (*op)(struct job *), struct job *j)
{
	unsigned long batch = 1;
	for (;;) {
		double t0 = now();
		for (unsigned long i = 0; i < batch; i++)
			op(j);
		if (now() - t0 >= 1e-3 || batch >= (1UL << 24))
			return batch;
		batch *= 2;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *label, void (*op)(struct job *), struct job *j, double seconds, double warmup,
		   int runs, int last)
{
	double r[MAXRUNS], sorted[MAXRUNS];
	unsigned long batch = calibrate(op, j);
	measure(op, j, warmup, &batch);
	for (int i = 0; i < runs; i++)
		r[i] = measure(op, j, seconds, &batch);
	memcpy(sorted, r, sizeof(double) * (size_t)runs);
	qsort(sorted, (size_t)runs, sizeof(double), cmp_double);
	printf("      \"%s\": { \"ops\": %.1f, \"runs\": [", label, sorted[runs / 2]);
	for (int i = 0; i < runs; i++)
		printf("%s%.1f", i ? ", " : "", r[i]);
	printf("] }%s\n", last ? "" : ",");
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: harness DIR SECONDS WARMUP_SECONDS RUNS [WORKLOAD...]\n");
		return 2;
	}
	const char *clk = getenv("BENCH_CLOCK");
	if (clk != NULL && strcmp(clk, "cpu") == 0)
		clock_id = CLOCK_PROCESS_CPUTIME_ID;
	const char *dir = argv[1];
	double seconds = atof(argv[2]);
	double warmup = atof(argv[3]);
	int runs = atoi(argv[4]);
	if (runs < 1 || runs > MAXRUNS)
		die("RUNS must be 1..15", "args");

	int first = 1;
	printf("{\n  \"impl\": \"libtirpc\",\n  \"workloads\": {\n");
	for (size_t k = 0; k < NWORKLOADS; k++) {
		const struct workload *w = &workloads[k];
		int wanted = argc == 5;
		for (int a = 5; a < argc; a++)
			wanted |= strcmp(argv[a], w->name) == 0;
		if (!wanted)
			continue;
		char path[4096];
		struct job j = { .w = w };

		snprintf(path, sizeof path, "%s/%s.bin", dir, w->name);
		j.in = read_file(path, &j.inlen);
		j.outcap = j.inlen + 64;
		j.out = malloc(j.outcap);
		j.obj = calloc(1, w->objsize);
		j.scratch = calloc(1, w->objsize);
		if (j.out == NULL || j.obj == NULL || j.scratch == NULL)
			die("out of memory", w->name);

		/* decode oncrpc's bytes, check they were all consumed, re-encode them for node to compare */
		XDR x;
		xdrmem_create(&x, (char *)j.in, (u_int)j.inlen, XDR_DECODE);
		if (!w->proc(&x, j.obj, 0))
			die("cannot decode the input", w->name);
		if (xdr_getpos(&x) != j.inlen)
			die("input has trailing bytes", w->name);
		XDR_DESTROY(&x);
		xdrmem_create(&x, (char *)j.out, (u_int)j.outcap, XDR_ENCODE);
		if (!w->proc(&x, j.obj, 0))
			die("cannot encode", w->name);
		snprintf(path, sizeof path, "%s/%s.c.bin", dir, w->name);
		write_file(path, j.out, xdr_getpos(&x));
		XDR_DESTROY(&x);

		printf("%s    \"%s\": {\n      \"bytes\": %zu,\n", first ? "" : ",\n", w->name, j.inlen);
		first = 0;
		report("encode", encode_once, &j, seconds, warmup, runs, 0);
		report("decode", decode_once, &j, seconds, warmup, runs, 1);
		printf("    }");
		fflush(stdout);

		xdr_free(w->proc, (char *)j.obj);
		free(j.obj);
		free(j.scratch);
		free(j.out);
		free(j.in);
	}
	printf("\n  }\n}\n");
	return 0;
}
