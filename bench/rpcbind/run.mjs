// bench/rpcbind: oncrpc rpcbind against the real rpcbind, in one run — lookups per second and daemon CPU
// per lookup under a libtirpc client loop, time from spawn to the first answered lookup, idle RSS
// (see bench/README.md, "bench/rpcbind").
//
//   npm run bench:rpcbind      # tsc -p tsconfig.build.json && node bench/rpcbind/run.mjs   (as root)
//   node bench/rpcbind/run.mjs --json
//   BENCH_SECONDS=2 BENCH_WARMUP=0.5 BENCH_RUNS=5 BENCH_STARTS=7
//   BENCH_ROWS=getport/udp,getport/tcp,getaddr3/udp,getaddr3/tcp,getaddr4/udp,getaddr4/tcp,null/udp,null/tcp
//                              # WORKLOAD/TRANSPORT[/CLIENTS]: CLIENTS load generators at once (default 1)
//   BENCH_DAEMONS=rpcbind,oncrpc,oncrpc@/path/to/other/tree,oncrpc:--max-semi-space-size=1
//                              # more oncrpc builds (or node flags) side by side, for the A/B of a change:
//                              # each in its own namespaces, columns and ratios to rpcbind each
//   BENCH_PROFILE=DIR          # the oncrpc daemon of the load phase runs under node --cpu-prof (profile in
//                              # DIR, its top self-time functions printed after the table); slows it down
//   node bench/rpcbind/run.mjs --summary FILE.cpuprofile [TOP]
//
// Outside: builds bench/rpcbind/lookup.c with cc -O2 -I/usr/include/tirpc … -ltirpc in a mktemp dir, then
// starts two agents — this file with --agent — each as the child of PID 1 of its own private namespaces
// (`unshare --net --mount --uts --ipc --pid --fork --kill-child --mount-proc`: its own lo, port 111 and
// /run/rpcbind.sock). One agent runs /sbin/rpcbind -f, the other `node bin/oncrpc.js rpcbind -f`; both
// listen on port 111 in their own namespace, never in the same one. The coordinator (outside) tells the
// agents what to do over a pipe (JSON lines) and interleaves them, so that a burst of load from elsewhere
// on the machine hits both daemons alike:
//   1. Start-up, BENCH_STARTS times each (plus one unreported warm-up start), alternating: the agent
//      starts `lookup probe` (which sends a GETPORT datagram to 127.0.0.1:111 every 250 µs), reads its
//      READY, takes the time, spawns the daemon; the probe prints the time of the first SUCCESS reply,
//      and the agent reads the CPU time the daemon has used by then (/proc/PID/stat: on a loaded machine
//      the wall time is mostly the wait for a core). 1 s later VmRSS and RssAnon of the daemon
//      (/proc/PID/status); then SIGTERM.
//   2. Load: each daemon started once more; 20 entries registered with `lookup register` (libtirpc's
//      rpcb_set: rpcbind v3 SET over /run/rpcbind.sock, as every libtirpc server registers): programs
//      PROG0..PROG0+4, versions 1 and 2, udp and tcp, wildcard addresses 0.0.0.0.x.y. Every lookup asks
//      for the last of them (PROG0+4 v2), so both daemons scan their whole list. One warm-up round of every
//      row, then BENCH_RUNS rounds; in each round every row runs on both daemons back to back. Daemon CPU per lookup = (utime + stime of the daemon, all
//      its threads, from /proc/PID/stat, over the client's run) / lookups made in that run.
//   3. VmRSS and RssAnon of each daemon 1 s after the load.
// The table shows the median round of each row and oncrpc / rpcbind ratios of those medians. The rounds
// alternate which daemon goes first (with more daemons, each goes first in turn).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 0.5);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const ROWS = (process.env.BENCH_ROWS ?? 'getport/udp,getport/tcp,getaddr3/udp,getaddr3/tcp,getaddr4/udp,getaddr4/tcp,null/udp,null/tcp').split(',').map((r) => {
  const [workload, transport, clients] = r.split('/');
  return { workload, transport, clients: Number(clients ?? 1) };
});
const PROFILE = process.env.BENCH_PROFILE;
const JSON_OUT = process.argv.includes('--json');
/** rpcbind first (the reference of every ratio); `oncrpc` is this tree, `oncrpc@DIR` the tree in DIR. */
const DAEMONS = (process.env.BENCH_DAEMONS ?? 'rpcbind,oncrpc').split(',');
if (DAEMONS[0] !== 'rpcbind' || DAEMONS.length < 2) throw new Error('BENCH_DAEMONS: rpcbind first, then one oncrpc or more');
/** The registrations: NPROGS programs from PROG0, versions 1..NVERS, udp then tcp, ports from PORT0 in that order. */
const REG = { prog0: 0x2f000000, nprogs: 5, nvers: 2, port0: 40000 };
const TARGET = { prog: REG.prog0 + REG.nprogs - 1, vers: REG.nvers };
/** The port registered for TARGET on a transport (udp first, then tcp). */
const targetPort = (transport) => REG.port0 + ((REG.nprogs - 1) * REG.nvers + (REG.nvers - 1)) * 2 + (transport === 'tcp' ? 1 : 0);

if (process.argv[2] === '--summary') summary(process.argv[3], Number(process.argv[4] ?? 25));
else if (process.argv[2] === '--agent') await agent(process.argv[3], process.argv[4]);
else await coordinator();

// ---- coordinator (outside the namespaces) ---------------------------------------------------------

async function coordinator() {
  if (process.getuid?.() !== 0) {
    console.error('bench:rpcbind must run as root (private network namespaces, port 111)');
    process.exit(1);
  }
  for (const tool of ['cc', 'rpcbind', 'unshare', 'ip']) {
    try {
      execFileSync('bash', ['-c', `command -v ${tool} || test -x /sbin/${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' });
    } catch {
      console.error(`bench:rpcbind: ${tool} not found (apt-get install rpcbind libtirpc-dev gcc iproute2)`);
      process.exit(1);
    }
  }
  const build = mkdtempSync(join(tmpdir(), 'oncrpc-bench-rpcbind-'));
  const agents = [];
  try {
    copyFileSync(join(here, 'lookup.c'), join(build, 'lookup.c'));
    execFileSync('cc', ['-O2', '-Wall', '-I/usr/include/tirpc', '-o', 'lookup', 'lookup.c', '-ltirpc'], { cwd: build, stdio: ['ignore', 'ignore', 'inherit'] });
    for (const [i, name] of DAEMONS.entries()) agents.push(startAgent(name, build, i));
    const byName = Object.fromEntries(DAEMONS.map((n, i) => [n, agents[i]]));
    const progress = (s) => {
      if (!JSON_OUT) process.stderr.write(s);
    };
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

    // 1. Start-up time and RSS after start.
    const startups = Object.fromEntries(DAEMONS.map((n) => [n, []]));
    for (let i = 0; i <= STARTS; i++) {
      const order = rotate(DAEMONS, i);
      for (const name of order) {
        const a = byName[name];
        const s = await a.call({ cmd: 'start' });
        await sleep(1000);
        const rss = await a.call({ cmd: 'rss' });
        await a.call({ cmd: 'stop' });
        if (i > 0) startups[name].push({ firstReplyMs: s.firstReplyMs, cpuMs: s.cpuMs, rssKb: rss.rss, anonKb: rss.anon });
        progress('s');
      }
    }
    progress('\n');

    // 2. Load.
    const loaded = {};
    for (const name of DAEMONS) {
      const a = byName[name];
      await a.call({ cmd: 'start', profile: name !== 'rpcbind' ? PROFILE : undefined });
      await a.call({ cmd: 'register', ...REG });
      loaded[name] = { afterRegister: await a.call({ cmd: 'rss' }) };
    }
    const rows = ROWS.map((r) => ({ ...r, runs: Object.fromEntries(DAEMONS.map((n) => [n, []])) }));
    const measure = (name, row) =>
      byName[name].call({ cmd: 'load', workload: row.workload, transport: row.transport, clients: row.clients, prog: TARGET.prog, vers: TARGET.vers, port: row.workload === 'null' ? 0 : targetPort(row.transport), warmup: WARMUP, seconds: SECONDS });
    for (const row of rows) for (const name of DAEMONS) await measure(name, row); // warm-up: JIT, first-time costs
    progress('w');
    for (let round = 0; round < RUNS; round++) {
      const order = rotate(DAEMONS, round);
      for (const row of rows) {
        for (const name of order) {
          const r = await measure(name, row);
          row.runs[name].push({ lookupsPerSec: r.measured / r.secs, serverUsPerLookup: r.serverCpuUs / r.all, clientUsPerLookup: r.clientCpuUs / r.all, lookups: r.all });
        }
        progress('.');
      }
    }
    progress('\n');
    await sleep(1000);
    for (const name of DAEMONS) {
      loaded[name].afterLoad = await byName[name].call({ cmd: 'rss' });
      loaded[name].lookups = rows.reduce((n, r) => n + r.runs[name].reduce((m, x) => m + x.lookups, 0), 0);
    }
    for (const name of DAEMONS) await byName[name].call({ cmd: 'stop' });

    // 3. The table.
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const row of rows) {
      row.median = {};
      for (const name of DAEMONS) {
        row.median[name] = {};
        for (const k of ['lookupsPerSec', 'serverUsPerLookup', 'clientUsPerLookup']) row.median[name][k] = median(row.runs[name].map((r) => r[k]));
      }
    }
    const start = {};
    for (const name of DAEMONS) {
      const m = (k) => median(startups[name].map((s) => s[k]));
      start[name] = { firstReplyMs: m('firstReplyMs'), cpuMs: m('cpuMs'), rssKb: m('rssKb'), anonKb: m('anonKb'), all: startups[name] };
    }
    const meta = {
      node: process.version,
      cpu: cpus()[0]?.model,
      cores: cpus().length,
      loadavg: loadavg().map((x) => x.toFixed(2)).join(' '),
      rpcbind: rpcbindVersion(),
      seconds: SECONDS,
      warmup: WARMUP,
      runs: RUNS,
      starts: STARTS,
      profile: PROFILE ?? null,
    };
    if (JSON_OUT) {
      console.log(JSON.stringify({ meta, rows, start, loaded }, null, 2));
    } else {
      console.log(table(meta, rows, start, loaded));
      if (PROFILE) {
        for (const f of readdirSync(PROFILE).filter((f) => f.endsWith('.cpuprofile'))) {
          console.log(`\n${join(PROFILE, f)} (self time, top 25):`);
          summary(join(PROFILE, f), 25);
        }
      }
    }
  } finally {
    for (const a of agents) a.quit();
    rmSync(build, { recursive: true, force: true });
  }
}

/** The daemons in the order of round `i` (each goes first in turn). */
function rotate(list, i) {
  const k = i % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

function rpcbindVersion() {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'rpcbind'], { encoding: 'utf8' });
  } catch {
    return 'unknown';
  }
}

/** One agent in its own namespaces; `call(msg)` sends a command and resolves with its result. */
function startAgent(name, build, index) {
  const prelude = [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'ip link set lo up',
    `hostname bench-rpcbind-${index}`,
    'set +e',
    '"$@"',
    'rc=$?',
    'kill -KILL -1 2>/dev/null',
    'exit $rc',
  ].join('\n');
  const child = spawn('unshare', ['--net', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', prelude, `bench-rpcbind-${index}`, process.execPath, fileURLToPath(import.meta.url), '--agent', name, build], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const pending = new Map();
  let next = 1;
  let dead = null;
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line);
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (m.error) p?.reject(new Error(`${name} agent: ${m.error}`));
    else p?.resolve(m.result);
  });
  child.on('exit', (code) => {
    dead = new Error(`${name} agent exited (${code})`);
    for (const p of pending.values()) p.reject(dead);
    pending.clear();
  });
  return {
    call(msg) {
      if (dead) return Promise.reject(dead);
      const id = next++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.stdin.write(JSON.stringify({ id, ...msg }) + '\n');
      });
    },
    quit() {
      child.stdin.end();
    },
  };
}

function table(meta, rows, start, loaded) {
  const num = (x) => Math.round(x).toLocaleString('en-US');
  const us = (x) => x.toFixed(1);
  const ratio = (x) => `${x.toFixed(2)}×`;
  const mb = (kb) => (kb / 1024).toFixed(1);
  const name = { getport: 'GETPORT v2', getaddr3: 'GETADDR v3', getaddr4: 'GETADDR v4', null: 'NULL v2 (no lookup)' };
  const goal = { getport: 1.5, getaddr3: 2, getaddr4: 2 };
  const others = DAEMONS.slice(1);
  const head = (cols, left) => [`| ${cols.join(' | ')} |`, `|${cols.map((c, i) => (i < left || c === 'goal' ? '---' : '---:')).join('|')}|`];
  const out = [];
  out.push(
    `node ${meta.node}, rpcbind ${meta.rpcbind}, ${meta.cores}× ${meta.cpu}, load average after the run ${meta.loadavg}; ` +
      `${meta.runs} rounds of ${meta.seconds} s (+${meta.warmup} s warm-up) per row and daemon, median round; ${meta.starts} starts each` +
      (meta.profile ? `; oncrpc under --cpu-prof (slower)` : ''),
  );
  out.push('');
  out.push(
    ...head([
      'lookup',
      'transport',
      'rpcbind lookups/s',
      ...others.flatMap((o) => [`${o} lookups/s`, `${o} / rpcbind`]),
      'goal',
      'rpcbind CPU µs/lookup',
      ...others.flatMap((o) => [`${o} CPU µs/lookup`, `${o} / rpcbind`]),
    ], 2),
  );
  for (const r of rows) {
    const a = r.median.rpcbind;
    const g = goal[r.workload];
    const q = r.median[others[0]].lookupsPerSec / a.lookupsPerSec;
    out.push(
      `| ${name[r.workload]}${r.clients > 1 ? `, ${r.clients} clients` : ''} | ${r.transport.toUpperCase()} | ${num(a.lookupsPerSec)} | ` +
        others.map((o) => `${num(r.median[o].lookupsPerSec)} | ${ratio(r.median[o].lookupsPerSec / a.lookupsPerSec)}`).join(' | ') +
        ` | ${g ? `≥ ${g}×: ${q >= g ? 'met' : 'missed'}` : '—'} | ${us(a.serverUsPerLookup)} | ` +
        others.map((o) => `${us(r.median[o].serverUsPerLookup)} | ${ratio(r.median[o].serverUsPerLookup / a.serverUsPerLookup)}`).join(' | ') +
        ' |',
    );
  }
  out.push('');
  out.push(...head(['', 'rpcbind', ...others.flatMap((o) => [o, `${o} / rpcbind`]), 'goal'], 1));
  const line = (label, value, fmt, limit, unit) => {
    const v0 = value('rpcbind');
    const v1 = value(others[0]);
    const q = (v) => (v0 > 0 ? ratio(v / v0) : '—');
    out.push(`| ${label} | ${fmt(v0)} | ${others.map((o) => `${fmt(value(o))} | ${q(value(o))}`).join(' | ')} | ${limit ? `≤ ${limit} ${unit}: ${Number(fmt(v1)) <= limit ? 'met' : 'missed'}` : ''} |`);
  };
  line(`spawn → first GETPORT answered (median of ${meta.starts}), ms`, (d) => start[d].firstReplyMs, (x) => x.toFixed(1), 150, 'ms');
  line('… CPU time the daemon used until then (utime + stime, 10 ms ticks), ms', (d) => start[d].cpuMs, (x) => (x < 10 ? '< 10' : x.toFixed(0)));
  line('VmRSS 1 s after start (median), MB', (d) => start[d].rssKb, mb, 60, 'MB');
  line('… of which anonymous (RssAnon: heap, stacks; the rest is mapped files), MB', (d) => start[d].anonKb, mb);
  line('VmRSS after 20 registrations, MB', (d) => loaded[d].afterRegister.rss, mb);
  line(`VmRSS 1 s after the load (${DAEMONS.map((d) => num(loaded[d].lookups)).join(' / ')} calls), MB`, (d) => loaded[d].afterLoad.rss, mb, 60, 'MB');
  line('… of which anonymous, MB', (d) => loaded[d].afterLoad.anon, mb);
  out.push('');
  out.push(`first replies, ms — ${DAEMONS.map((d) => `${d}: ${start[d].all.map((s) => s.firstReplyMs.toFixed(1)).join(' ')}`).join('; ')}`);
  return out.join('\n');
}

// ---- agent (inside its namespaces) ---------------------------------------------------------------

async function agent(name, build) {
  const lookup = join(build, 'lookup');
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  let daemon = null;
  let log = '';
  const cpuOf = (pid) => {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / ticks; // utime + stime of every thread, µs
  };
  const run = (args, timeoutMs) =>
    new Promise((resolve, reject) =>
      execFile(lookup, args, { timeout: timeoutMs }, (err, stdout, stderr) => (err ? reject(new Error(`lookup ${args.join(' ')}: ${stderr || err.message}`)) : resolve(stdout))),
    );
  const rpcbindPath = execFileSync('bash', ['-c', 'command -v rpcbind || echo /sbin/rpcbind'], { encoding: 'utf8' }).trim();

  const commands = {
    async start({ profile }) {
      if (daemon) throw new Error('already running');
      const probe = spawn(lookup, ['probe', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      probe.stderr.on('data', (d) => (err += d));
      const lines = createInterface({ input: probe.stdout });
      const replyAt = new Promise((resolve, reject) => {
        lines.on('line', (l) => {
          out += l + '\n';
          if (/^\d+$/.test(l)) resolve(BigInt(l));
        });
        probe.on('exit', (code) => (code ? reject(new Error(`probe: ${err || code}`)) : undefined));
      });
      replyAt.catch(() => {}); // awaited below; a probe that fails before READY is reported there
      await new Promise((resolve, reject) => {
        lines.once('line', (l) => (l === 'READY' ? resolve() : reject(new Error(`probe said ${l}`))));
        probe.once('exit', () => reject(new Error(`probe: ${err}`)));
      });
      // oncrpc[@TREE][:NODE-FLAG…]: this tree or another one, with node flags or not.
      const [spec, ...nodeFlags] = name.split(':');
      const tree = spec.startsWith('oncrpc@') ? spec.slice(7) : root;
      const [cmd, args] =
        name === 'rpcbind'
          ? [rpcbindPath, ['-f']]
          : [process.execPath, [...nodeFlags, ...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), join(tree, 'bin/oncrpc.js'), 'rpcbind', '-f']];
      const t0 = process.hrtime.bigint();
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      log = '';
      child.stderr.on('data', (d) => (log = (log + d).slice(-4000)));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      daemon = { child, exited };
      let t1;
      try {
        t1 = await Promise.race([replyAt, exited.then((c) => Promise.reject(new Error(`${name} exited (${c}): ${log}`)))]);
      } finally {
        probe.kill('SIGKILL');
      }
      // The CPU the daemon used to get there: on a loaded machine wall time mostly measures the wait for a core.
      const cpuMs = cpuOf(child.pid) / 1000;
      return { pid: child.pid, firstReplyMs: Number(t1 - t0) / 1e6, cpuMs };
    },
    rss() {
      const status = readFileSync(`/proc/${daemon.child.pid}/status`, 'utf8');
      const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)[1]);
      return { rss: kb('VmRSS'), anon: kb('RssAnon') };
    },
    async register({ prog0, nprogs, nvers, port0 }) {
      await run(['register', String(prog0), String(nprogs), String(nvers), String(port0)], 30_000);
    },
    async load({ workload, transport, clients, prog, vers, port, warmup, seconds }) {
      const pid = daemon.child.pid;
      const cpu0 = cpuOf(pid);
      const args = ['load', workload, transport, String(prog), String(vers), String(port), String(warmup), String(seconds)];
      const outs = await Promise.all(Array.from({ length: clients }, () => run(args, (warmup + seconds) * 1000 + 60_000)));
      const serverCpuUs = cpuOf(pid) - cpu0;
      // Several clients: their rates add up (each over its own measured window, nearly the same one).
      const r = { all: 0, measured: 0, secs: seconds, clientCpuUs: 0, serverCpuUs };
      for (const out of outs) {
        const [all, measured, secs, clientCpuUs] = out.trim().split(/\s+/).map(Number);
        r.all += all;
        r.measured += (measured / secs) * seconds;
        r.clientCpuUs += clientCpuUs;
      }
      return r;
    },
    async stop() {
      if (!daemon) return;
      const { child, exited } = daemon;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
      daemon = null;
    },
  };

  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    const msg = JSON.parse(line);
    try {
      const result = await commands[msg.cmd](msg);
      process.stdout.write(JSON.stringify({ id: msg.id, result: result ?? null }) + '\n');
    } catch (e) {
      process.stdout.write(JSON.stringify({ id: msg.id, error: e.message }) + '\n');
    }
  });
  rl.on('close', async () => {
    await commands.stop().catch(() => {});
    process.exit(0);
  });
}

// ---- profile summary ------------------------------------------------------------------------------

/** Self time per function from a .cpuprofile (as bench/xdr/profile.js --summary), top `top`. */
function summary(file, top) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const cf = byId.get(p.samples[i]).callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? cf.url.split('/').slice(-2).join('/') : ''}${cf.lineNumber >= 0 ? ':' + (cf.lineNumber + 1) : ''}`;
    const d = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + d);
    total += d;
  }
  // Percentages of the busy time: samples of an idle event loop (waiting in epoll) left out.
  const busy = total - (self.get('(idle) ') ?? 0);
  console.log(`busy ${((100 * busy) / total).toFixed(1)} % of ${(total / 1e6).toFixed(1)} s; self time in % of the busy time:`);
  const rows = [...self].filter(([k]) => k !== '(idle) ').sort((a, b) => b[1] - a[1]);
  for (const [k, v] of rows.slice(0, top)) console.log(`${((100 * v) / busy).toFixed(1).padStart(5)} %  ${k}`);
}
