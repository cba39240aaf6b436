// XDR codec benchmark: oncrpc (generated-style codecs and run-time combinators) vs @stellar/js-xdr vs
// C libtirpc (rpcgen), on four workloads. See bench/README.md.
//
//   npm run bench                      # builds dist/, then runs this file
//   node --expose-gc bench/xdr/run.js [--json]
//   BENCH_SECONDS=0.7 BENCH_RUNS=3 BENCH_WARMUP=0.25 BENCH_CLOCK=cpu|wall BENCH_ONLY=readdirplus,variants
//
// Order: build the C harness; encode every workload with every implementation and assert the bytes
// are identical (C: it decodes oncrpc's bytes and re-encodes them) and that every decoder gives back
// the original value; then time oncrpc and js-xdr in this process and the C harness in its own.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { XdrReader, XdrWriter } from '../../dist/xdr/index.js';
import * as gen from './codec-oncrpc.js';
import * as runs_ from './codec-oncrpc-runs.js';
import * as comb from './codec-combinators.js';
import { from as fromJs, to as toJs, types as J } from './codec-jsxdr.js';
import { clockName, median, timer } from './timing.js';
import * as values from './values.js';

const here = dirname(fileURLToPath(import.meta.url));
const build = join(here, '.build');
const asJson = process.argv.includes('--json');
const seconds = Number(process.env.BENCH_SECONDS ?? 0.7);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const warmup = Number(process.env.BENCH_WARMUP ?? Math.min(0.25, seconds));
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',')) : null;
const log = (s) => process.stderr.write(`${s}\n`);

// ---- the workloads ------------------------------------------------------------------------------

const WORKLOADS = [
  {
    id: 'small',
    title: '(a) small call args',
    value: values.smallArgs(),
    write: gen.writeSmall_args,
    read: gen.readSmall_args,
    runs: [runs_.writeSmall_args, runs_.readSmall_args],
    comb: null,
    js: J.small_args,
  },
  {
    id: 'readdirplus',
    title: '(b) READDIRPLUS reply, 100 entries',
    value: values.readdirplusReply(100),
    write: gen.writeREADDIRPLUS3res,
    read: gen.readREADDIRPLUS3res,
    runs: [runs_.writeREADDIRPLUS3res, runs_.readREADDIRPLUS3res],
    comb: comb.READDIRPLUS3res,
    js: J.READDIRPLUS3res,
  },
  {
    id: 'read',
    title: '(c) READ reply, 64 KiB opaque',
    value: values.readReply(65536),
    write: gen.writeREAD3res,
    read: gen.readREAD3res,
    comb: null,
    js: J.READ3res,
    splice: true,
  },
  {
    id: 'variants',
    title: '(d) 1000 discriminated unions',
    value: values.variantList(1000),
    write: gen.writeVariant_list,
    read: gen.readVariant_list,
    runs: [runs_.writeVariant_list, runs_.readVariant_list],
    comb: comb.variant_list,
    js: J.variant_list,
  },
].filter((w) => only === null || only.has(w.id));

const SPLICE_THRESHOLD = 8192;

// ---- build the C harness ------------------------------------------------------------------------

function buildHarness() {
  mkdirSync(build, { recursive: true });
  const x = join(build, 'workloads.x');
  writeFileSync(x, readFileSync(join(here, 'workloads.x')));
  const sh = (cmd, args) => execFileSync(cmd, args, { cwd: build, stdio: ['ignore', 'inherit', 'inherit'] });
  // rpcgen refuses to overwrite its outputs
  for (const f of ['workloads.h', 'workloads_xdr.c', 'harness']) rmSync(join(build, f), { force: true });
  sh('rpcgen', ['-h', '-o', 'workloads.h', 'workloads.x']);
  sh('rpcgen', ['-c', '-o', 'workloads_xdr.c', 'workloads.x']);
  sh('cc', [
    '-O2',
    '-Wall',
    '-Wno-unused-variable',
    '-I/usr/include/tirpc',
    '-I.',
    '-o',
    'harness',
    join(here, 'harness.c'),
    'workloads_xdr.c',
    '-ltirpc',
  ]);
  return join(build, 'harness');
}

function runHarness(exe, secs, warm, n, ...only) {
  const out = execFileSync(exe, [build, String(secs), String(warm), String(n), ...only], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out).workloads;
}

// ---- codec closures (what each timed op does) ---------------------------------------------------

function setup(w) {
  const writer = new XdrWriter({ initialSize: 4096 });
  const spliceWriter = new XdrWriter({ initialSize: 4096, spliceThreshold: SPLICE_THRESHOLD });
  const reader = new XdrReader();
  const v = w.value;

  writer.reset();
  w.write(writer, v);
  const bytes = writer.toBytes(); // the reference encoding; a Uint8Array with its own ArrayBuffer
  const bytesBuf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length); // same memory, for js-xdr
  const jsValue = toJs[w.id](v);

  const f = {
    genEncode: () => {
      writer.reset();
      w.write(writer, v);
      return writer.finish();
    },
    genEncodeSpliced: () => {
      spliceWriter.reset();
      w.write(spliceWriter, v);
      return spliceWriter.chunks();
    },
    genDecode: () => {
      reader.reset(bytes);
      const out = w.read(reader);
      reader.expectEnd();
      return out;
    },
    runsEncode: w.runs && (() => {
      writer.reset();
      w.runs[0](writer, v);
      return writer.finish();
    }),
    runsDecode: w.runs && (() => {
      reader.reset(bytes);
      const out = w.runs[1](reader);
      reader.expectEnd();
      return out;
    }),
    combEncode: w.comb && (() => {
      writer.reset();
      w.comb.write(writer, v);
      return writer.finish();
    }),
    combDecode: w.comb && (() => {
      reader.reset(bytes);
      const out = w.comb.read(reader);
      reader.expectEnd();
      return out;
    }),
    jsEncode: () => w.js.toXDR(jsValue),
    jsDecode: () => w.js.fromXDR(bytesBuf),
  };
  return { ...w, bytes, f };
}

const concat = (chunks) => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length)));
const same = (a, b, what) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${what}: bytes differ`);

/** Asserts every implementation produces the reference bytes and decodes them to the original value. */
function check(s) {
  const { f, bytes, value, id } = s;
  same(f.genEncode(), bytes, `${id} oncrpc encode`);
  same(f.jsEncode(), bytes, `${id} js-xdr encode`);
  if (f.runsEncode) same(f.runsEncode(), bytes, `${id} oncrpc fixed-size runs encode`);
  if (f.combEncode) same(f.combEncode(), bytes, `${id} combinators encode`);
  assert.deepStrictEqual(f.genDecode(), value, `${id} oncrpc decode`);
  if (f.runsDecode) assert.deepStrictEqual(f.runsDecode(), value, `${id} oncrpc fixed-size runs decode`);
  if (f.combDecode) assert.deepStrictEqual(f.combDecode(), value, `${id} combinators decode`);
  assert.deepStrictEqual(fromJs[id](f.jsDecode()), value, `${id} js-xdr decode`);
  if (s.splice) checkZeroCopy(s);
}

/** (c): decoding must not copy the payload, and the spliced encoding must not copy it either. */
function checkZeroCopy(s) {
  const { f, bytes, value } = s;
  const data = f.genDecode().resok.data;
  assert.equal(data.length, value.resok.data.length);
  assert.ok(data.buffer === bytes.buffer, 'READ decode: the opaque is not a view into the input');
  assert.equal(data.byteOffset, bytes.length - data.length, 'READ decode: the view is not at the payload');
  const chunks = f.genEncodeSpliced();
  assert.ok(chunks.length >= 2, 'READ spliced encode: no separate segment');
  assert.ok(chunks.includes(value.resok.data), 'READ spliced encode: the payload was copied');
  same(concat(chunks), bytes, 'read spliced encode');
}

// ---- main ---------------------------------------------------------------------------------------

log(`xdr bench: ${WORKLOADS.map((w) => w.id).join(', ')}; ${runs} runs × ${seconds} s after ${warmup} s warm-up; ${clockName} clock`);
const harness = buildHarness();
const set = WORKLOADS.map(setup);
for (const s of set) writeFileSync(join(build, `${s.id}.bin`), s.bytes);

// correctness first: JS implementations, then C (decode oncrpc's bytes, re-encode, compare)
for (const s of set) check(s);
runHarness(harness, 0, 0, 1);
for (const s of set) same(readFileSync(join(build, `${s.id}.c.bin`)), s.bytes, `${s.id} libtirpc re-encode`);
log('outputs: byte-identical across oncrpc, oncrpc combinators, js-xdr and libtirpc; decodes round-trip; READ decoded without copying');

// Every measurement gets one run per round; rounds interleave all of them (C included, one harness
// process per workload per round), so load bursts from elsewhere spread over every implementation.
const rows = [];
const tasks = [];
for (const s of set) {
  const { f } = s;
  const row = (impl, encode, decode, extra = {}) => {
    const r = { workload: s.id, impl, bytes: s.bytes.length, encode: null, decode: null, ...extra };
    for (const [k, fn] of [['encode', encode], ['decode', decode]]) {
      if (typeof fn !== 'function') continue;
      const t = timer(fn);
      tasks.push({ label: `${s.id} ${impl} ${k}`, run: (secs, warm) => t.run(secs, warm), done: () => (r[k] = t.result()) });
    }
    rows.push(r);
    return r;
  };
  if (s.splice) {
    row('oncrpc (encode spliced)', f.genEncodeSpliced, f.genDecode);
    row('oncrpc (encode contiguous)', f.genEncode, null, { decodeSameAs: 'oncrpc (encode spliced)' });
  } else row('oncrpc', f.genEncode, f.genDecode);
  if (f.runsEncode) row('oncrpc, fixed-size runs', f.runsEncode, f.runsDecode);
  if (f.combEncode) row('oncrpc runtime combinators', f.combEncode, f.combDecode);
  row('@stellar/js-xdr', f.jsEncode, f.jsDecode);
  const c = row('libtirpc (C, rpcgen)', null, null);
  const cruns = { encode: [], decode: [] };
  tasks.push({
    label: `${s.id} libtirpc encode+decode`,
    run: (secs, warm) => {
      const out = runHarness(harness, secs, warm, 1, s.id)[s.id];
      assert.equal(out.bytes, s.bytes.length);
      cruns.encode.push(out.encode.ops);
      cruns.decode.push(out.decode.ops);
    },
    done: () => {
      c.encode = { ops: median(cruns.encode), runs: cruns.encode };
      c.decode = { ops: median(cruns.decode), runs: cruns.decode };
    },
  });
}
for (let round = 0; round < runs; round++) {
  log(`  round ${round + 1}/${runs}: ${tasks.length} measurements`);
  // the first round warms up fully (JIT); later ones only re-touch caches
  for (const t of tasks) t.run(seconds, round === 0 ? warmup : Math.min(warmup, 0.05));
}
for (const t of tasks) t.done();
for (const r of rows) if (r.decodeSameAs) r.decode = rows.find((x) => x.workload === r.workload && x.impl === r.decodeSameAs).decode;
// the READ payload of a decode after all the timing must still be a view, not only the first one
for (const s of set) if (s.splice) assert.ok(s.f.genDecode().resok.data.buffer === s.bytes.buffer);

// ratios against the C and js-xdr rows of the same workload
for (const r of rows) {
  const base = (impl) => rows.find((x) => x.workload === r.workload && x.impl === impl);
  const ratio = (b, k) => (b && r[k] && b[k] ? r[k].ops / b[k].ops : null);
  const c0 = base('libtirpc (C, rpcgen)');
  const j0 = base('@stellar/js-xdr');
  r.vsC = { encode: ratio(c0, 'encode'), decode: ratio(c0, 'decode') };
  r.vsJs = { encode: ratio(j0, 'encode'), decode: ratio(j0, 'decode') };
}

const meta = {
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  seconds,
  warmup,
  runs,
  spliceThreshold: SPLICE_THRESHOLD,
  clock: clockName,
};

if (asJson) {
  process.stdout.write(`${JSON.stringify({ meta, rows }, null, 2)}\n`);
} else {
  printTable();
}

function printTable() {
  const int = (n) => Math.round(n).toLocaleString('en-US');
  const mb = (ops, bytes) => {
    const v = (ops * bytes) / 1e6;
    return v >= 100 ? int(v) : v.toFixed(1);
  };
  const x = (v) => (v === null ? '—' : `${v >= 10 ? v.toFixed(1) : v.toFixed(2)}×`);
  const pair = (o) => `${x(o.encode)} / ${x(o.decode)}`;
  const head = ['workload', 'impl', 'encode ops/s', 'decode ops/s', 'encode MB/s', 'decode MB/s', 'vs libtirpc (enc / dec)', 'vs js-xdr (enc / dec)'];
  const lines = [];
  let last = '';
  for (const r of rows) {
    const title = r.workload === last ? '' : `${WORKLOADS.find((w) => w.id === r.workload).title} (${int(r.bytes)} B)`;
    last = r.workload;
    lines.push([
      title,
      r.impl,
      r.encode ? int(r.encode.ops) : '—',
      r.decode ? int(r.decode.ops) : '—',
      r.encode ? mb(r.encode.ops, r.bytes) : '—',
      r.decode ? mb(r.decode.ops, r.bytes) : '—',
      pair(r.vsC),
      pair(r.vsJs),
    ]);
  }
  const right = [false, false, true, true, true, true, true, true];
  const width = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => `| ${cells.map((c, i) => (right[i] ? c.padStart(width[i]) : c.padEnd(width[i]))).join(' | ')} |`;
  const out = [fmt(head), `|${width.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`];
  for (const l of lines) out.push(fmt(l));
  out.push('');
  out.push(
    `${meta.cpu}, ${meta.cores} cores; node ${meta.node}; median of ${runs} interleaved runs × ${seconds} s (first after ${warmup} s warm-up); ` +
      `ops per second of ${clockName === 'cpu' ? 'process CPU time' : 'wall time'}; MB/s = ops/s × message bytes.`,
  );
  out.push('(c) decode: the same zero-copy decode for both oncrpc rows; "spliced" returns writer.chunks() with the 64 KiB payload as its own segment (threshold 8192 B), "contiguous" copies it into the buffer and returns finish().');
  process.stdout.write(`${out.join('\n')}\n`);
}
