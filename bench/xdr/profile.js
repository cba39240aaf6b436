// Profiles one codec operation of one workload, for finding where time goes (bench/README.md, "Profiles").
//
//   npm run build && node bench/xdr/profile.js readdirplus encode [gen|loaded|interpreted|hand] [seconds] [out.cpuprofile]
//   node bench/xdr/profile.js --summary out.cpuprofile [top]     # self time per function, top 25
// With an output file the timed loop (not start-up) is profiled through node:inspector, as --cpu-prof would.
//   node --trace-deopt bench/xdr/profile.js variants decode gen 1 | grep -c deoptimiz   # deopt trace
//
// It builds the same codecs as run.js (bench/xdr/codecs.js), then runs the operation in a loop for
// `seconds` (default 3) and prints ops/s; no checks, no other implementation in the process.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
if (args[0] === '--summary') {
  summary(args[1], Number(args[2] ?? 25));
  process.exit(0);
}

const here = dirname(fileURLToPath(import.meta.url));
const [workload = 'readdirplus', op = 'encode', impl = 'gen', secs = '3', out] = args;
const { XdrReader, XdrWriter } = await import('../../dist/xdr/index.js');
const { buildCodecs } = await import('./codecs.js');
const values = await import('./values.js');
const { generated, loaded } = await buildCodecs(join(here, '.build'));
const hand = { readdirplus: await import('./hand-readdirplus.js').then((m) => ({ read: m.readREADDIRPLUS3res, write: m.writeREADDIRPLUS3res })) };

const TYPES = { small: ['small_args', values.smallArgs()], readdirplus: ['READDIRPLUS3res', values.readdirplusReply(100)], read: ['READ3res', values.readReply(65536)], variants: ['variant_list', values.variantList(1000)] };
const [type, value] = TYPES[workload];
const cap = type[0].toUpperCase() + type.slice(1);
let read;
let write;
if (impl === 'gen') [read, write] = [generated[`read${cap}`], generated[`write${cap}`]];
else if (impl === 'loaded') ({ read, write } = loaded.codec(type));
else if (impl === 'interpreted') {
  const t = loaded.type(type); // the combinators (methods: keep `this`)
  [read, write] = [(r) => t.read(r), (w, v) => t.write(w, v)];
}
else if (impl === 'hand') ({ read, write } = hand[workload]);
else throw new Error(`unknown impl ${impl}`);

const w = new XdrWriter();
const r = new XdrReader();
write(w, value);
const bytes = w.toBytes();
const fn =
  op === 'encode'
    ? () => {
        w.reset();
        write(w, value);
        return w.finish();
      }
    : () => {
        r.reset(bytes);
        const v = read(r);
        r.expectEnd();
        return v;
      };
let sink;
const loop = (ms) => {
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < ms) {
    for (let i = 0; i < 100; i++) sink = fn();
    n += 100;
  }
  return (n * 1000) / (performance.now() - t0);
};
loop(500); // warm-up: optimised code before the profile starts
let session;
if (out) {
  const { Session } = await import('node:inspector/promises');
  session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
}
const ops = loop(Number(secs) * 1000);
if (session) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(out, JSON.stringify(profile));
}
console.log(`${workload} ${op} ${impl}: ${Math.round(ops).toLocaleString('en-US')} ops/s${sink ? '' : ' '}`);

/** Self time per function (and per function + line for the top ones) from a .cpuprofile. */
function summary(file, top) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? cf.url.split('/').pop() : ''}${cf.lineNumber >= 0 ? ':' + (cf.lineNumber + 1) : ''}`;
    const d = dt[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + d);
    total += d;
  }
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top);
  for (const [k, v] of rows) console.log(`${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  if (!process.env.LINES) return;
  // Samples per source line (positionTicks), for the lines of the bench's own code.
  const lines = new Map();
  let ticks = 0;
  for (const n of p.nodes) {
    for (const pt of n.positionTicks ?? []) {
      const key = `${n.callFrame.url.split('/').pop()}:${pt.line}`;
      lines.set(key, (lines.get(key) ?? 0) + pt.ticks);
      ticks += pt.ticks;
    }
  }
  console.log('\nby line:');
  for (const [k, v] of [...lines].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.LINES))) console.log(`${((100 * v) / ticks).toFixed(1).padStart(5)} %  ${k}`);
}
