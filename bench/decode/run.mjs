// `npm run bench:decode`: oncrpc decode against tshark on the same captures of real libtirpc traffic, in
// one run: messages per second (wall clock and CPU) and peak RSS, text output and JSON output.
//
//   sudo npm run bench:decode                     # 150 MB capture, and 1 GiB made of copies of it
//   BENCH_SIZES=150 node bench/decode/run.mjs     # sizes in MB: the first is captured, larger ones are copies
//   BENCH_CAPTURE=/path/file.pcap                 # use this capture instead (server ports from BENCH_PORTS=tcp,udp)
//   BENCH_RUNS=1  BENCH_KEEP=1  BENCH_TSHARK_JSON_MAX_MB=200   --json (machine-readable results)
//
// The capture is made by bench/decode/capture.sh: rpcgen + libtirpc client (loadgen.c) and server
// (fixtures/c/alltypes_server.c) of fixtures/x/alltypes.x with rpcbind, in private namespaces, tcpdump
// on lo. A larger size is that capture repeated, each copy shifted in time after the one before (the
// same traffic again: every connection closes and opens again, xids repeat later).
//
// Each tool reads the file and writes to /dev/null; a python3 wrapper reports the child's wall time,
// CPU time and peak RSS (getrusage of its child). Messages are counted once by `oncrpc decode
// --stats-only --json` and, on the captured file, by tshark (-T fields -e rpc.msgtyp): the two must agree.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const oncrpc = join(root, 'bin/oncrpc.js');
const asJson = process.argv.includes('--json');
const sizes = (process.env.BENCH_SIZES ?? '150,1024').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 1);
const tsharkJsonMax = Number(process.env.BENCH_TSHARK_JSON_MAX_MB ?? 200);
const log = (s) => process.stderr.write(`${s}\n`);

const work = mkdtempSync(join(tmpdir(), 'oncrpc-bench-decode-'));
process.on('exit', () => {
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  else log(`captures kept in ${work}`);
});

// ---- the capture ------------------------------------------------------------------------------------
let base = process.env.BENCH_CAPTURE;
let ports;
if (base) {
  const [tcp, udp] = (process.env.BENCH_PORTS ?? '').split(',').map(Number);
  ports = { tcp, udp };
} else {
  base = join(work, `real-${sizes[0]}MB.pcap`);
  log(`capturing ${sizes[0]} MB of rpcgen client/server traffic (bench/decode/capture.sh)…`);
  const out = execFileSync('bash', [join(here, 'capture.sh'), base, String(sizes[0])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  ports = JSON.parse(out.trim().split('\n').pop());
  log(`  ${statSync(base).size} bytes, ${ports.packets} packets, ${ports.dropped} dropped by the kernel; server tcp ${ports.tcp} udp ${ports.udp}`);
}

/** Writes `copies` of a classic pcap one after another, each shifted in time past the end of the one before. */
function repeat(src, dst, copies) {
  const fd = openSync(src, 'r');
  const size = statSync(src).size;
  const head = Buffer.alloc(24);
  readSync(fd, head, 0, 24, 0);
  const le = head.readUInt32LE(0) === 0xa1b2c3d4 || head.readUInt32LE(0) === 0xa1b23c4d;
  if (!le && head.readUInt32BE(0) !== 0xa1b2c3d4 && head.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${src}: not a classic pcap`);
  const u32 = (b, o) => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const put = (b, v, o) => (le ? b.writeUInt32LE(v, o) : b.writeUInt32BE(v, o));
  // The capture's span in whole seconds (first and last record).
  let first;
  let last = 0;
  const buf = Buffer.alloc(8 << 20);
  const scan = (fn) => {
    let off = 24;
    let have = 0;
    let at = 0;
    while (off < size) {
      if (have - at < 16) {
        buf.copy(buf, 0, at, have);
        have -= at;
        at = 0;
        have += readSync(fd, buf, have, buf.length - have, off + have);
      }
      const cap = u32(buf, at + 8);
      if (have - at < 16 + cap) {
        buf.copy(buf, 0, at, have);
        have -= at;
        at = 0;
        have += readSync(fd, buf, have, buf.length - have, off + have);
        if (have < 16 + cap) break;
      }
      fn(buf, at, 16 + cap);
      at += 16 + cap;
      off += 16 + cap;
    }
  };
  scan((b, at) => {
    const s = u32(b, at);
    first ??= s;
    last = s;
  });
  const span = last - first + 2;
  const out = openSync(dst, 'w');
  writeSync(out, head);
  for (let i = 0; i < copies; i++) {
    scan((b, at, len) => {
      put(b, u32(b, at) + i * span, at);
      writeSync(out, b, at, len);
      put(b, u32(b, at) - i * span, at);
    });
  }
  closeSync(out);
  closeSync(fd);
}

const captures = [{ mb: sizes[0], file: base, copies: 1 }];
const baseMb = statSync(base).size / 1e6;
for (const mb of sizes.slice(1)) {
  const copies = Math.max(1, Math.ceil(mb / baseMb));
  const file = join(work, `repeat-${mb}MB.pcap`);
  log(`writing ${copies} copies of the capture (${mb} MB)…`);
  repeat(base, file, copies);
  captures.push({ mb, file, copies });
}

// ---- measuring -------------------------------------------------------------------------------------
const PY = `
import os, resource, subprocess, sys, time
t = time.monotonic()
with open(os.devnull, 'wb') as null:
    r = subprocess.run(sys.argv[1:], stdout=null, stderr=subprocess.DEVNULL)
w = time.monotonic() - t
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.returncode, w, u.ru_utime + u.ru_stime, u.ru_maxrss)
`;
/** Runs argv with stdout to /dev/null: { wall, cpu, rssMb }, the best wall time of BENCH_RUNS runs. */
function measure(argv) {
  let best;
  for (let i = 0; i < runs; i++) {
    const r = spawnSync('python3', ['-c', PY, ...argv], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    const [code, wall, cpu, kb] = r.stdout.trim().split(' ').map(Number);
    if (code !== 0 && !(argv[0] === 'tshark' && code === 2)) throw new Error(`${argv.join(' ')} exited ${code}: ${r.stderr}`);
    const m = { wall, cpu, rssMb: kb / 1024 };
    if (!best || m.wall < best.wall) best = m;
  }
  return best;
}

const tsharkArgs = (file) => ['-r', file, '-o', 'rpc.dissect_unknown_programs:TRUE', '-d', `tcp.port==${ports.tcp},rpc`, '-d', `udp.port==${ports.udp},rpc`];

function countOncrpc(file) {
  const out = execFileSync(process.execPath, [oncrpc, 'decode', '--stats-only', '--json', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out.trim().split('\n').pop()).messages;
}
function countTshark(file) {
  const r = spawnSync('bash', ['-c', `tshark ${tsharkArgs(file).map((a) => `'${a}'`).join(' ')} -T fields -e rpc.msgtyp -E occurrence=a -E aggregator=, 2>/dev/null | tr ',' '\\n' | grep -c '^[01]$'`], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

const results = [];
const load = () => Number(execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ')[0]);
for (const c of captures) {
  const bytes = statSync(c.file).size;
  // Read once first, so that every tool reads it from the page cache (the first one measured would
  // otherwise also wait for the disk: 8.4 s wall for 5.6 s of CPU on the 150 MB capture).
  execFileSync('cat', [c.file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const messages = countOncrpc(c.file);
  if (c.copies === 1) {
    const theirs = countTshark(c.file);
    if (theirs !== messages) throw new Error(`${c.file}: oncrpc finds ${messages} messages, tshark ${theirs}`);
    log(`${c.file}: ${messages} RPC messages (tshark finds as many)`);
  } else log(`${c.file}: ${messages} RPC messages`);
  const rows = [
    ['oncrpc decode', 'text', [process.execPath, oncrpc, 'decode', c.file]],
    ['tshark', 'text', ['tshark', ...tsharkArgs(c.file)]],
    ['oncrpc decode --json', 'json', [process.execPath, oncrpc, 'decode', '--json', c.file]],
    ['tshark -T json -J rpc', 'json', ['tshark', ...tsharkArgs(c.file), '-T', 'json', '-J', 'rpc']],
    ['oncrpc decode --stats-only', 'stats', [process.execPath, oncrpc, 'decode', '--stats-only', c.file]],
  ];
  for (const [tool, mode, argv] of rows) {
    if (tool.startsWith('tshark -T json') && bytes / 1e6 > tsharkJsonMax) continue;
    log(`  ${tool} (${(bytes / 1e6).toFixed(0)} MB, load ${load()})…`);
    const m = measure(argv);
    results.push({ capture: `${(bytes / 1e6).toFixed(0)} MB`, copies: c.copies, bytes, messages, tool, mode, ...m, perWall: messages / m.wall, perCpu: messages / m.cpu, load: load() });
  }
}

// ---- report ----------------------------------------------------------------------------------------
for (const r of results) {
  const t = results.find((x) => x.capture === r.capture && x.mode === r.mode && x.tool.startsWith('tshark'));
  r.vsTshark = t && t !== r ? { wall: r.perWall / t.perWall, cpu: r.perCpu / t.perCpu } : undefined;
}
if (asJson) {
  process.stdout.write(JSON.stringify({ node: process.version, tshark: execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0], results }, null, 1) + '\n');
} else {
  const head = ['capture', 'messages', 'tool', 'wall s', 'CPU s', 'msg/s (wall)', 'msg/s (CPU)', 'peak RSS MB', 'vs tshark (wall / CPU)'];
  const lines = results.map((r) => [
    r.capture + (r.copies > 1 ? ` (${r.copies}×)` : ''), String(r.messages), r.tool, r.wall.toFixed(1), r.cpu.toFixed(1),
    Math.round(r.perWall).toLocaleString('en'), Math.round(r.perCpu).toLocaleString('en'), r.rssMb.toFixed(0),
    r.vsTshark ? `${r.vsTshark.wall.toFixed(1)}× / ${r.vsTshark.cpu.toFixed(1)}×` : '',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => `| ${cells.map((c, i) => (i <= 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  console.log(row(head));
  console.log(`|${w.map((n, i) => (i <= 2 ? '-'.repeat(n + 2) : `${'-'.repeat(n + 1)}:`)).join('|')}|`);
  for (const l of lines) console.log(row(l));
  console.log(`\nnode ${process.version}, ${execFileSync('tshark', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]}; load average at the start of each run: ${results.map((r) => r.load).join(', ')}`);
}
