// bench/rpc: calls per second and server CPU per call, oncrpc's runtime against rpcgen + libtirpc, in one
// run, on loopback inside a private network namespace (see bench/README.md, "bench/rpc").
//
//   npm run bench:rpc          # tsc -p tsconfig.build.json && node bench/rpc/run.mjs   (as root)
//   node bench/rpc/run.mjs --json > run.json; node bench/rpc/run.mjs --table run.json   # the table again
//   BENCH_SECONDS=2 BENCH_WARMUP=0.5 BENCH_RUNS=5 BENCH_PROCS=null,getcolor,echo BENCH_TRANSPORTS=tcp,udp
//
// Outside the namespace: builds the rpcgen C server (fixtures/c/alltypes_server.c + rpcgen's main) and the
// C load generator (bench/rpc/loadgen.c) with cc -O2 in a mktemp dir, generates the TypeScript module of
// fixtures/x/alltypes.x with oncrpc's compiler (transpiled into bench/rpc/.build/), then runs itself as
// PID 1's child in `unshare --net --mount --uts --ipc --pid --fork --kill-child` (private lo, private
// /run, rpcbind, which the C server needs to start). Inside: starts the C server and the oncrpc server
// (bench/rpc/oncrpc-server.mjs) side by side, and measures, round-robin over RUNS rounds so that a burst
// of load from elsewhere hits every row alike:
//   C client  -> C server       (the anchor: loadgen.c, one call in flight)
//   C client  -> oncrpc server  (one call in flight)
//   C client  -> the Node floor (AT_NULL only: bench/rpc/floor-server.mjs, raw sockets, no RPC logic)
//   oncrpc client, 1 in flight  -> C server
//   oncrpc client, 64 in flight on one connection / socket -> C server
// for each procedure (AT_NULL void -> void; AT_ECHO, the 376-byte alltypes struct, both ways) and each
// transport. Server CPU per call = (utime + stime of the server process over the client's run, from
// /proc/PID/stat) / calls made in that run. The table shows the median round.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0.5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const PROCS = (process.env.BENCH_PROCS ?? 'null,echo').split(',');
const TRANSPORTS = (process.env.BENCH_TRANSPORTS ?? 'tcp,udp').split(',');
const JSON_OUT = process.argv.includes('--json');
const PROG = 541089920;

if (process.argv[2] === '--inside') await inside(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--table') console.log(table(JSON.parse(readFileSync(process.argv[3], 'utf8'))));
else await outside();

// ---- outside: build, then the namespace ----------------------------------------------------------

async function outside() {
  if (process.getuid?.() !== 0) {
    console.error('bench:rpc must run as root (private network namespaces, rpcbind)');
    process.exit(1);
  }
  for (const tool of ['rpcgen', 'cc', 'rpcbind', 'unshare', 'ip', 'rpcinfo']) {
    try {
      execFileSync('bash', ['-c', `command -v ${tool} || test -x /sbin/${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' });
    } catch {
      console.error(`bench:rpc: ${tool} not found (apt-get install rpcbind libtirpc-dev gcc iproute2)`);
      process.exit(1);
    }
  }
  const build = mkdtempSync(join(tmpdir(), 'oncrpc-bench-rpc-'));
  try {
    for (const f of ['fixtures/x/alltypes.x', 'fixtures/c/alltypes_server.c', 'fixtures/c/alltypes_client.c', 'bench/rpc/loadgen.c']) {
      copyFileSync(join(root, f), join(build, f.split('/').pop()));
    }
    const sh = (cmd, args) => execFileSync(cmd, args, { cwd: build, stdio: ['ignore', 'ignore', 'inherit'] });
    sh('rpcgen', ['alltypes.x']);
    const cflags = ['-O2', '-I/usr/include/tirpc', '-w'];
    sh('cc', [...cflags, '-c', 'alltypes_xdr.c', 'alltypes_clnt.c', 'alltypes_svc.c', 'alltypes_server.c', 'loadgen.c']);
    sh('cc', ['-o', 'alltypes_server', 'alltypes_svc.o', 'alltypes_server.o', 'alltypes_xdr.o', '-ltirpc']);
    sh('cc', ['-o', 'loadgen', 'loadgen.o', 'alltypes_clnt.o', 'alltypes_xdr.o', '-ltirpc']);
    const gen = await generate();

    const prelude = [
      'set -e',
      'mount --make-rprivate /',
      'mount -t tmpfs -o mode=0755 tmpfs /run',
      'ip link set lo up',
      'hostname oncrpc-bench',
      '$(command -v rpcbind || echo /sbin/rpcbind) -w -f &',
      'disown $!',
      'for _ in $(seq 200); do [ -S /run/rpcbind.sock ] && break; sleep 0.025; done',
      'set +e',
      '"$@"',
      'rc=$?',
      'kill -KILL -1 2>/dev/null',
      'exit $rc',
    ].join('\n');
    const args = ['--net', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', prelude, 'bench-rpc', process.execPath, fileURLToPath(import.meta.url), '--inside', build, gen];
    if (JSON_OUT) args.push('--json');
    const code = await new Promise((resolve) => spawn('unshare', args, { stdio: 'inherit' }).on('close', (c) => resolve(c ?? 1)));
    process.exitCode = code;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}

/** `oncrpc gen` of alltypes.x, transpiled into bench/rpc/.build (inside the package: 'oncrpc/runtime' resolves to dist/). */
async function generate() {
  const ts = (await import('typescript')).default;
  const { compileFile } = await import('../../dist/codegen/compile.js');
  const { generateTypeScript } = await import('../../dist/codegen/generate.js');
  const source = generateTypeScript(compileFile(join(root, 'fixtures/x/alltypes.x')));
  const dir = join(here, '.build');
  mkdirSync(dir, { recursive: true });
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(dir, 'alltypes.gen.mjs');
  writeFileSync(file, js);
  return file;
}

// ---- inside: servers, clients, table -----------------------------------------------------------

async function inside(build, gen) {
  const children = [];
  process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));
  const start = (cmd, args) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(c);
    return c;
  };
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  // The C server registers with rpcbind (its classic main exits if it cannot); clients are given ports.
  const cServer = start(join(build, 'alltypes_server'), []);
  let c;
  for (let i = 0; i < 200 && !c; i++) {
    const ports = {};
    for (const line of execFileSync('rpcinfo', ['-p'], { encoding: 'utf8' }).split('\n')) {
      const f = line.trim().split(/\s+/);
      if (Number(f[0]) === PROG) ports[f[2]] = Number(f[3]);
    }
    if (ports.tcp && ports.udp) c = { pid: cServer.pid, tcp: ports.tcp, udp: ports.udp };
    else await sleep(25);
  }
  if (!c) throw new Error('the C server did not register');
  const nodeServer = (script, args) => {
    const child = start(process.execPath, [join(here, script), ...args]);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /PORTS (\d+) (\d+)/.exec(out);
        if (m) resolve({ pid: child.pid, tcp: Number(m[1]), udp: Number(m[2]) });
      });
      child.on('exit', () => reject(new Error(`${script} exited`)));
    });
  };
  const servers = { C: c, oncrpc: await nodeServer('oncrpc-server.mjs', [gen]), floor: await nodeServer('floor-server.mjs', []) };

  const rows = [];
  for (const proc of PROCS) {
    for (const transport of TRANSPORTS) {
      rows.push({ proc, transport, client: 'C', server: 'C', inflight: 1, anchor: true });
      rows.push({ proc, transport, client: 'C', server: 'oncrpc', inflight: 1 });
      if (proc === 'null') rows.push({ proc, transport, client: 'C', server: 'floor', inflight: 1 });
      rows.push({ proc, transport, client: 'oncrpc', server: 'C', inflight: 1 });
      rows.push({ proc, transport, client: 'oncrpc', server: 'C', inflight: 64 });
    }
  }
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  const cpuOf = (pid) => {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / ticks; // utime + stime, µs
  };
  const runClient = (row) => {
    const server = servers[row.server];
    const port = String(server[row.transport]);
    const [cmd, args] =
      row.client === 'C'
        ? [join(build, 'loadgen'), [row.transport, port, row.proc, String(WARMUP), String(SECONDS)]]
        : [process.execPath, [join(here, 'oncrpc-client.mjs'), gen, row.transport, port, row.proc, String(row.inflight), String(WARMUP), String(SECONDS)]];
    return new Promise((resolve, reject) =>
      execFile(cmd, args, { timeout: (SECONDS + WARMUP) * 1000 + 60_000 }, (err, stdout, stderr) => {
        if (err) return reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`));
        const [all, measured, secs, cpu] = stdout.trim().split(/\s+/).map(Number);
        resolve({ all, measured, secs, clientCpu: cpu });
      }),
    );
  };
  const measure = async (row) => {
    const pid = servers[row.server].pid;
    const cpu0 = cpuOf(pid);
    const r = await runClient(row);
    const serverCpu = cpuOf(pid) - cpu0;
    return { callsPerSec: r.measured / r.secs, serverUsPerCall: serverCpu / r.all, clientUsPerCall: r.clientCpu / r.all, calls: r.all };
  };

  const loadavgStart = loadavg().map((x) => x.toFixed(2)).join(' ');
  for (const row of rows) await measure({ ...row }); // warm-up round: JIT, caches, connections' first costs
  for (const row of rows) row.runs = [];
  for (let round = 0; round < RUNS; round++) {
    for (const row of rows) {
      row.runs.push(await measure(row));
      if (!JSON_OUT) process.stderr.write('.');
    }
  }
  if (!JSON_OUT) process.stderr.write('\n');
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const row of rows) {
    for (const k of ['callsPerSec', 'serverUsPerCall', 'clientUsPerCall']) row[k] = median(row.runs.map((r) => r[k]));
  }
  const meta = {
    node: process.version,
    cpu: cpus()[0]?.model,
    cores: cpus().length,
    loadavgStart,
    loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
    seconds: SECONDS,
    warmup: WARMUP,
    runs: RUNS,
  };
  for (const child of children) child.kill('SIGKILL');
  if (JSON_OUT) {
    console.log(JSON.stringify({ meta, rows }, null, 2));
    return;
  }
  console.log(table({ meta, rows }));
}

/** The markdown table of a run ({ meta, rows } as --json prints it). */
function table({ meta, rows }) {
  const procs = [...new Set(rows.map((r) => r.proc))];
  const transports = [...new Set(rows.map((r) => r.transport))];
  const serverName = { C: 'C server', oncrpc: 'oncrpc server', floor: 'Node floor (bench/rpc/floor-server.mjs)' };
  const label = (r) => (r.client === 'C' ? 'C client' : `oncrpc client ×${r.inflight}`) + ' → ' + serverName[r.server];
  const procName = { null: 'AT_NULL (void → void)', getcolor: 'AT_GETCOLOR (enum → union)', echo: 'AT_ECHO (376-byte struct)' };
  const num = (x) => Math.round(x).toLocaleString('en-US');
  const us = (x) => x.toFixed(1);
  const ratio = (x) => `${x.toFixed(2)}×`;
  const k = (x) => `${Math.round(x / 1000)}k`;
  const spread = (r) => (r.runs?.length ? `${k(Math.min(...r.runs.map((x) => x.callsPerSec)))}–${k(Math.max(...r.runs.map((x) => x.callsPerSec)))}` : '');
  const out = [];
  out.push(`node ${meta.node}, ${meta.cores}× ${meta.cpu}, load average ${meta.loadavgStart ?? '?'} at the start, ${meta.loadavg} at the end; ${meta.runs} rounds of ${meta.seconds} s (+${meta.warmup} s warm-up) per row, median round`);
  out.push('');
  out.push('| procedure | transport | client → server | calls/s | (rounds: min–max) | vs C→C | server CPU µs/call | vs C→C | client CPU µs/call |');
  out.push('|---|---|---|---:|---:|---:|---:|---:|---:|');
  for (const proc of procs) {
    for (const transport of transports) {
      const group = rows.filter((r) => r.proc === proc && r.transport === transport);
      const anchor = group.find((r) => r.anchor);
      for (const r of group) {
        out.push(
          `| ${procName[proc] ?? proc} | ${transport.toUpperCase()} | ${label(r)} | ${num(r.callsPerSec)} | ${spread(r)} | ${ratio(r.callsPerSec / anchor.callsPerSec)} | ${us(r.serverUsPerCall)} | ${ratio(r.serverUsPerCall / anchor.serverUsPerCall)} | ${us(r.clientUsPerCall)} |`,
        );
      }
    }
  }
  return out.join('\n');
}
