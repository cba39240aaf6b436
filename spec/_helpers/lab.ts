// The lab: the real C programs (rpcgen + libtirpc builds of fixtures/x/alltypes.x, rpcbind, rpcinfo,
// tcpdump) run with oncrpc's runtime inside private namespaces (../shared/LAB.md): a network namespace
// with only `lo` (a private port 111), a mount namespace with a private tmpfs on /run (a private
// /run/rpcbind.sock), a pid namespace (its PID 1 ends, everything in it dies), hostname
// `oncrpc-fixtures` (the AUTH_SYS machinename of fixtures/c/values.json).
//
// A test file uses it in two halves:
//
//   if (!insideLab()) {            // on the host: build the C programs once, re-run this file in a lab
//     const build = labPrerequisites(t) && buildAlltypesC();
//     if (build) spawnInLab(t, import.meta.url, build, { rpcbind: true });
//   } else {                       // in the namespace: ordinary tap tests, with the helpers below
//     const build = labBuild();
//     ...
//   }
//
// The inner run is a tap subprocess (t.spawn), so its assertions are the file's assertions. The inner
// node gets the same TypeScript loader tap gives test files, so it imports src/*.ts, not a stale dist/.
// Everything a test starts is stopped: helpers kill what they spawn, and when the inner run ends the
// namespace's PID 1 (bash) kills whatever is left (`kill -KILL -1`) and exits; if the host side dies or
// times out, unshare's --kill-child takes PID 1 and with it the namespace.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcClient } from '../../src/client/rpc-client.js';
import type { XdrReader } from '../../src/xdr/reader.js';
import type { Test } from 'tap';
import { IN_CI, requirePeer } from './peers.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** ALLTYPES_PROG of fixtures/x/alltypes.x. */
export const ALLTYPES_PROG = 0x20406080;
export const RPCBIND_SOCK = '/run/rpcbind.sock';
const LAB_ENV = 'ONCRPC_LAB';
const BUILD_ENV = 'ONCRPC_LAB_BUILD';

/** The programs built from fixtures/x/alltypes.x and fixtures/c/. */
export interface CBuild {
  dir: string;
  /** rpcgen's classic main + fixtures/c/alltypes_server.c (registers with rpcbind, random ports). */
  server: string;
  /** fixtures/c/alltypes_client.c: `HOST tcp|udp all|big`, `dump`. */
  client: string;
  /** fixtures/c/alltypes_big.c: `HOST tcp|udp LEN`, one AT_BIGARG of LEN bytes. */
  big: string;
}

/** True in the inner run (inside the namespace). */
export function insideLab(): boolean {
  return process.env[LAB_ENV] === '1';
}

/**
 * Whether the lab can run here: root, and rpcgen, cc, rpcbind, rpcinfo, unshare, ip (+ `extra`). When
 * not, fails under CI=true (interop must run for real there) and comments otherwise.
 */
export function labPrerequisites(t: Test, extra: string[] = []): boolean {
  const missing = ['rpcgen', 'cc', 'rpcbind', 'rpcinfo', 'unshare', 'ip', ...extra].filter((p) => !requirePeer(t, p));
  if (process.getuid?.() !== 0) {
    if (IN_CI) t.fail('the lab needs root (namespaces, rpcbind); CI runs as root');
    else t.comment('not root: lab tests against the real C programs not run (CI=true would fail here)');
    return false;
  }
  return missing.length === 0;
}

let built: CBuild | undefined;

/**
 * rpcgen + cc of fixtures/x/alltypes.x and fixtures/c/*.c in a mktemp dir, as fixtures/capture.sh does;
 * once per process, the dir removed when the process exits.
 */
export function buildAlltypesC(): CBuild {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-lab-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['x/alltypes.x', 'c/alltypes_server.c', 'c/alltypes_client.c', 'c/alltypes_big.c']) {
    copyFileSync(join(ROOT, 'fixtures', f), join(dir, f.slice(2)));
  }
  const sh = (cmd: string, args: string[]): void => {
    execFileSync(cmd, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  sh('rpcgen', ['alltypes.x']); // alltypes.h alltypes_xdr.c alltypes_clnt.c alltypes_svc.c (classic main)
  const cflags = ['-O1', '-I/usr/include/tirpc'];
  sh('cc', [...cflags, '-w', '-c', 'alltypes_xdr.c', 'alltypes_clnt.c', 'alltypes_svc.c']);
  sh('cc', [...cflags, '-Wall', '-Wno-format-truncation', '-c', 'alltypes_server.c', 'alltypes_client.c', 'alltypes_big.c']);
  sh('cc', ['-o', 'alltypes_server', 'alltypes_svc.o', 'alltypes_server.o', 'alltypes_xdr.o', '-ltirpc']);
  sh('cc', ['-o', 'alltypes_client', 'alltypes_client.o', 'alltypes_clnt.o', 'alltypes_xdr.o', '-ltirpc']);
  sh('cc', ['-o', 'alltypes_big', 'alltypes_big.o', 'alltypes_clnt.o', 'alltypes_xdr.o', '-ltirpc']);
  built = { dir, server: join(dir, 'alltypes_server'), client: join(dir, 'alltypes_client'), big: join(dir, 'alltypes_big') };
  return built;
}

/** The build the host half made (inner run). */
export function labBuild(): CBuild {
  const dir = process.env[BUILD_ENV];
  if (!dir) throw new Error(`${BUILD_ENV} is not set: labBuild() is for the inner run of spawnInLab`);
  return { dir, server: join(dir, 'alltypes_server'), client: join(dir, 'alltypes_client'), big: join(dir, 'alltypes_big') };
}

export interface LabOptions {
  /** Start `rpcbind -w -f` before the command and wait for its socket. */
  rpcbind?: boolean;
  /** Extra environment. */
  env?: Record<string, string>;
}

/**
 * The bash text PID 1 of a lab runs: private mounts, lo up, hostname, rpcbind if asked, then "$@"; at
 * the end every other process of the namespace is killed and "$@"'s exit status returned.
 */
export function labPrelude(opts: LabOptions = {}): string {
  return [
    'set -e',
    'mount --make-rprivate /',
    'mount -t tmpfs -o mode=0755 tmpfs /run',
    'ip link set lo up',
    'hostname oncrpc-fixtures',
    ...(opts.rpcbind
      ? [
          'rpcbind=$(command -v rpcbind || echo /sbin/rpcbind)',
          '"$rpcbind" -w -f &',
          'disown $!', // no "Killed" job notice when PID 1 ends it
          'for _ in $(seq 200); do [ -S /run/rpcbind.sock ] && break; sleep 0.025; done',
          '[ -S /run/rpcbind.sock ] || { echo "lab: rpcbind did not start" >&2; exit 1; }',
        ]
      : []),
    'set +e',
    '"$@"',
    'rc=$?',
    'kill -KILL -1 2>/dev/null',
    'exit $rc',
  ].join('\n');
}

/** The unshare command line of a fresh lab running `argv` (PID 1 is bash with labPrelude). */
export function labCommand(argv: string[], opts: LabOptions = {}): [string, string[]] {
  return ['unshare', ['--net', '--mount', '--uts', '--ipc', '--pid', '--fork', '--kill-child', '--mount-proc', 'bash', '-c', labPrelude(opts), 'oncrpc-lab', ...argv]];
}

/** node's flags for running a .ts file of this repository: tap's TypeScript loader, nothing else of tap's. */
export function nodeTsArgs(): string[] {
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  if (loader.length === 0) loader.push(`--import=${new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href}`);
  return [...loader, '--enable-source-maps'];
}

/** The environment for a node child that runs .ts files (no tap process-info hooks, transpile only). */
export function nodeTsEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', ...extra };
  delete env['NODE_OPTIONS'];
  return env;
}

/**
 * Runs the ES module `source` with node (it may import the .ts sources by path) in a fresh lab, after the
 * bash `setup` (which should `exit` non-zero when it fails). The module's file is removed afterwards.
 */
export async function runModuleInLab(setup: string, source: string, timeoutMs = 60_000): ReturnType<typeof runInLab> {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-lab-module-'));
  try {
    const child = join(dir, 'child.mjs');
    writeFileSync(child, source);
    return await runInLab(['bash', '-c', `${setup}\nexec "$0" "$@"`, process.execPath, ...nodeTsArgs(), child], { env: nodeTsEnv() as Record<string, string>, timeoutMs });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Host half: runs test file `fileUrl` again in a fresh lab, as a tap subtest of `t`. */
export function spawnInLab(t: Test, fileUrl: string, build: CBuild, opts: LabOptions & { name?: string; timeout?: number } = {}): void {
  const file = fileURLToPath(fileUrl);
  const [cmd, args] = labCommand([process.execPath, ...nodeTsArgs(), file], opts);
  const env = nodeTsEnv({ [LAB_ENV]: '1', [BUILD_ENV]: build.dir, ...opts.env });
  t.spawn(cmd, args, { env: env as Record<string, string>, timeout: opts.timeout ?? 120_000 }, opts.name ?? 'in a private network namespace');
}

/**
 * Runs `argv` in a fresh lab and resolves with its output (for scripts that are not tap tests, e.g. a
 * Node driver printing JSON). Killed (and with it the namespace) after `timeoutMs`.
 */
export function runInLab(argv: string[], opts: LabOptions & { timeoutMs?: number } = {}): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const [cmd, args] = labCommand(argv, opts);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---- inner run: processes ---------------------------------------------------------------------------

/** A process started by a test, its output collected; `stop()` kills it and waits. */
export class Proc {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  #waiters: (() => void)[] = [];

  constructor(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}) {
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.#wake();
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.#wake();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code, signal) => {
      this.#wake();
      resolve({ code, signal });
    }));
  }

  get pid(): number {
    return this.child.pid!;
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** Resolves when stdout+stderr match `re` (rejects after `timeoutMs` or if the process exits first). */
  async waitFor(re: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = (this.stdout + this.stderr).match(re);
      if (m) return m;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`process exited before printing ${re}: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${re}; output so far: ${this.stdout}${this.stderr}`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          r();
        });
      });
    }
  }

  /** Sends `signal` (default SIGKILL) unless it has exited; resolves when it has. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: string | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** Runs a command to completion without blocking the event loop (a server in this process keeps serving). */
export function run(cmd: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 64 << 20, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `rpcinfo -p` of the lab's rpcbind: the ports of `prog` (any version) by protocol. */
export async function registeredPorts(prog: number): Promise<{ tcp?: number; udp?: number }> {
  const r = await run('rpcinfo', ['-p']);
  const out: { tcp?: number; udp?: number } = {};
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (Number(f[0]) === prog && (f[2] === 'tcp' || f[2] === 'udp')) out[f[2]] = Number(f[3]);
  }
  return out;
}

/**
 * Starts the rpcgen C server and waits until it has registered TCP and UDP with the lab's rpcbind (its
 * classic main unsets earlier registrations of the program first). `stop()` it when done.
 */
export async function startCServer(build: CBuild, t?: Test): Promise<{ proc: Proc; tcp: number; udp: number }> {
  // A server killed earlier leaves its registration behind: clear it, so the ports read below are this one's.
  await rpcbindUnset(ALLTYPES_PROG, 1);
  const proc = new Proc(build.server, []);
  t?.teardown(() => proc.stop());
  const deadline = Date.now() + 10_000;
  for (;;) {
    const p = await registeredPorts(ALLTYPES_PROG);
    if (p.tcp && p.udp) return { proc, tcp: p.tcp, udp: p.udp };
    if (proc.child.exitCode !== null || Date.now() > deadline) throw new Error(`C server did not register: ${proc.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** utime + stime of a process, in microseconds (from /proc/PID/stat). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // fields 14 and 15 of proc(5), counted from field 3
  return (ticks * 1e6) / 100; // USER_HZ is 100 on Linux
}

// ---- inner run: rpcbind by hand ---------------------------------------------------------------------

const RPCBPROG = 100000;
const RPCBPROC_SET = 1;
const RPCBPROC_UNSET = 2;

/** One rpcbind v3 call over the unix socket, AUTH_NONE, as a libtirpc server registers (a new connection per call). */
async function rpcbCall(proc: number, prog: number, vers: number, netid: string, uaddr: string): Promise<boolean> {
  const client = new RpcClient({ transport: 'unix', path: RPCBIND_SOCK }, { timeoutMs: 5000 });
  try {
    return await client.callRaw(
      RPCBPROG,
      3,
      proc,
      (w) => {
        w.writeUint(prog);
        w.writeUint(vers);
        w.writeString(netid);
        w.writeString(uaddr);
        w.writeString(String(process.getuid?.() ?? 0)); // rpcbind takes the owner from SO_PEERCRED anyway
      },
      (r: XdrReader) => r.readBool(),
    );
  } finally {
    client.destroy();
  }
}

/** rpcbind v3 SET of (prog, vers, netid) → uaddr ("0.0.0.0.p1.p2", as libtirpc servers register). */
export function rpcbindSet(prog: number, vers: number, netid: string, uaddr: string): Promise<boolean> {
  return rpcbCall(RPCBPROC_SET, prog, vers, netid, uaddr);
}

/** rpcbind v3 UNSET of (prog, vers) on every netid (netid ""), as `rpcinfo -d`. */
export function rpcbindUnset(prog: number, vers: number): Promise<boolean> {
  return rpcbCall(RPCBPROC_UNSET, prog, vers, '', '');
}

/** The universal address of the wildcard IPv4 address and `port` ("0.0.0.0.p1.p2"). */
export function wildcardUaddr(port: number): string {
  return `0.0.0.0.${port >> 8}.${port & 0xff}`;
}

// ---- inner run: capture -----------------------------------------------------------------------------

/**
 * Runs `fn` with `tcpdump -i lo` writing `file` around it (waits for "listening on" before, 0.5 s after,
 * as capture.sh does). Resolves with fn's value; the capture is complete when it resolves.
 */
export async function captured<T>(file: string, filter: string, fn: () => Promise<T>): Promise<T> {
  const dump = new Proc('tcpdump', ['-i', 'lo', '-s', '0', '-B', '16384', '-U', '--immediate-mode', '-Z', 'root', '-w', file, filter]);
  try {
    await dump.waitFor(/listening on/);
    const out = await fn();
    await new Promise((r) => setTimeout(r, 500));
    return out;
  } finally {
    await dump.stop('SIGINT');
    const dropped = /(\d+) packets dropped by kernel/.exec(dump.stderr);
    if (dropped && dropped[1] !== '0') throw new Error(`tcpdump dropped ${dropped[1]} packets`);
    if (!existsSync(file) || statSync(file).size === 0) throw new Error(`tcpdump wrote nothing: ${dump.stderr}`);
  }
}

/** A fresh temporary directory removed when the test ends. */
export function tempDir(t: Test, prefix = 'oncrpc-lab-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
