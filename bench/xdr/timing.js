// Fixed-duration timing: calibrate a batch size once, then each run warms up briefly and counts ops
// for `seconds`; the clock is read once per batch (~1 ms), never per operation. run.js interleaves
// the runs of every measurement (round-robin), so a burst of load from elsewhere on the machine
// hits all implementations alike instead of one; the result is the median of the runs.
//
// The clock is the monotonic wall clock (default, BENCH_CLOCK=wall). BENCH_CLOCK=cpu uses this
// process's CPU time (getrusage, GC helper threads included) to shrug off other processes on a shared
// machine, but it misreports very fast, allocation-heavy ops (the (c) spliced encode read 10x slower
// on it than on the wall clock, unexplained), so treat cpu-clock numbers as indicative only.
// The C harness reads BENCH_CLOCK the same way.

import { performance } from 'node:perf_hooks';

/** Results are stored here so the JIT cannot drop the work that produced them. */
export let sink;

const gc = globalThis.gc ?? (() => {});

export const clockName = process.env.BENCH_CLOCK === 'cpu' ? 'cpu' : 'wall';
/** Milliseconds on the chosen clock. */
const now =
  clockName === 'wall'
    ? () => performance.now()
    : () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      };

function calibrate(fn) {
  let batch = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < batch; i++) sink = fn();
    if (now() - t0 >= 1 || batch >= 1 << 24) return batch;
    batch *= 2;
  }
}

function runFor(fn, batch, seconds) {
  const ms = seconds * 1000;
  let ops = 0;
  const t0 = now();
  let t;
  do {
    for (let i = 0; i < batch; i++) sink = fn();
    ops += batch;
    t = now();
  } while (t - t0 < ms);
  return (ops * 1000) / (t - t0);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** A measurement of `fn`: call `run()` once per round, then read `result()`. */
export function timer(fn) {
  let batch = 0;
  const runs = [];
  return {
    run(seconds, warmup) {
      gc(); // garbage left by the previous measurement is not billed to this one
      if (batch === 0) batch = calibrate(fn);
      runFor(fn, batch, warmup);
      runs.push(runFor(fn, batch, seconds));
      sink = undefined;
    },
    result: () => ({ ops: median(runs), runs }),
  };
}
