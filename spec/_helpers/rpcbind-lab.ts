// Comparing `oncrpc rpcbind` with the real rpcbind 1.2.6: the same scenario is run twice, each time in a
// fresh lab (lab.ts: private network, mount and pid namespaces) holding one daemon — the real
// `/sbin/rpcbind -w -f` or `node bin/oncrpc.js rpcbind -f -w` — and the two results are compared by the
// test file on the host.
//
//   host (test file)                              inside each lab (rpcbind-driver.ts + a scenario module)
//   runScenario(t, build, SCENARIO, 'real')  ──▶  scenario('real', ctx): start the daemon, run C servers,
//   runScenario(t, build, SCENARIO, 'oncrpc')──▶  rpcinfo, raw exchanges…; returns JSON (written to a file)
//   t.same(oncrpc, real)
//
// A scenario module (spec/interop/rpcbind-*.lab.ts) default-exports `(kind, ctx) => Promise<result>`; it
// runs in the lab as a plain node process (tap's TypeScript loader, no tap), so it imports src/*.ts and
// the helpers below. Processes run as separate programs (`oncrpc rpcbind`) use dist/ (bin/oncrpc.js).
//
// Raw exchanges send exactly the bytes they are given and report the reply bytes, or that the daemon
// closed the connection, or silence: the same bytes go to both daemons and their answers are compared.
import { execFileSync, spawn } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAlltypesC, labBuild, nodeTsArgs, Proc, ROOT, run, runInLab, type CBuild } from './lab.js';
import { auth, AUTH_NONE, callMessage, opaque, recordOf, u32, type CallFields } from './raw-rpc.js';
import { readPmaplist_ptr } from '../../src/rpcbind/pmap-prot.gen.js';
import { readRpcb_stat_byvers, readRpcblist_ptr } from '../../src/rpcbind/rpcb-prot.gen.js';
import { XdrReader } from '../../src/xdr/reader.js';

export type Kind = 'real' | 'oncrpc';
export const CLI = join(ROOT, 'bin/oncrpc.js');
export const REAL_RPCBIND = existsSync('/sbin/rpcbind') ? '/sbin/rpcbind' : '/usr/sbin/rpcbind';
export const RPCBPROG = 100000;
/** The classic rpcgen server's program (fixtures/x/alltypes.x) and the svc_create server's. */
export const CLASSIC_PROG = 0x20406080;
export const SVC_PROG = 0x20406081;

/** The C programs of lab.ts plus fixtures/c/svc_create_server.c. */
export interface RpcbindBuild extends CBuild {
  svcCreate: string;
}

// ---- host side ----------------------------------------------------------------------------------------

let svcBuilt = false;

/** Builds the lab's C programs and fixtures/c/svc_create_server.c (once per process). */
export function buildRpcbindLab(): RpcbindBuild {
  const b = buildAlltypesC();
  const svcCreate = join(b.dir, 'svc_create_server');
  if (!svcBuilt) {
    execFileSync('cc', ['-O1', '-Wall', '-I/usr/include/tirpc', '-o', svcCreate, join(ROOT, 'fixtures/c/svc_create_server.c'), '-ltirpc'], { stdio: ['ignore', 'ignore', 'pipe'] });
    svcBuilt = true;
  }
  return { ...b, svcCreate };
}

/** The build, inside a lab. */
export function rpcbindLabBuild(): RpcbindBuild {
  const b = labBuild();
  return { ...b, svcCreate: join(b.dir, 'svc_create_server') };
}

const DRIVER = fileURLToPath(new URL('./rpcbind-driver.ts', import.meta.url));

/**
 * Runs the scenario module `scenario` (a file URL) for `kind` in a fresh lab and resolves with what it
 * returned. `args` are handed to it; `nofile` raises the lab's open-file limit.
 */
export async function runScenario<T>(build: RpcbindBuild, scenario: URL, kind: string, opts: { args?: string[]; timeoutMs?: number; nofile?: number } = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-rpcbind-'));
  const out = join(dir, 'result.json');
  try {
    const argv = [process.execPath, ...nodeTsArgs(), DRIVER, fileURLToPath(scenario), kind, out, ...(opts.args ?? [])];
    const wrapped = opts.nofile ? ['bash', '-c', `ulimit -n ${opts.nofile} && exec "$@"`, 'nofile', ...argv] : argv;
    const r = await runInLab(wrapped, {
      env: { ONCRPC_LAB: '1', ONCRPC_LAB_BUILD: build.dir, NODE_OPTIONS: '', TS_NODE_TRANSPILE_ONLY: '1' },
      timeoutMs: opts.timeoutMs ?? 90_000,
    });
    if (!existsSync(out)) throw new Error(`scenario ${fileURLToPath(scenario)} (${kind}) wrote no result: exit ${r.code} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
    const res = JSON.parse(readFileSync(out, 'utf8')) as { ok: true; value: T } | { ok: false; error: string };
    if (!res.ok) throw new Error(`scenario ${fileURLToPath(scenario)} (${kind}) failed: ${res.error}\n${r.stderr}`);
    return res.value;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- inside a lab: the daemons ------------------------------------------------------------------------

export interface DaemonOptions {
  /** -w (default true). */
  warm?: boolean;
  /** -r: remote calls forwarded. */
  remote?: boolean;
  /** The unix socket: present (default), 'none' (oncrpc --socket none) or 'removed' (deleted once started). */
  socket?: 'default' | 'none' | 'removed';
  /** More arguments. */
  args?: string[];
  /** Environment of the daemon. */
  env?: Record<string, string>;
}

/** A daemon started in this lab. */
export interface Daemon {
  kind: Kind;
  proc: Proc;
  /** Sends `signal` and waits until it has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: string | null }>;
}

/** Whether something listens on port 111 for TCP and UDP (from /proc/net; no RPC call, so no counter moves). */
function port111Bound(): boolean {
  const has = (file: string, tcp: boolean): boolean => {
    try {
      return readFileSync(file, 'utf8')
        .split('\n')
        .slice(1)
        .some((l) => {
          const f = l.trim().split(/\s+/);
          return f[1]?.endsWith(':006F') === true && (!tcp || f[3] === '0A');
        });
    } catch {
      return false;
    }
  };
  return (has('/proc/net/tcp', true) || has('/proc/net/tcp6', true)) && (has('/proc/net/udp', false) || has('/proc/net/udp6', false));
}

/**
 * Starts rpcbind (`/sbin/rpcbind -f -w`) or oncrpc (`node bin/oncrpc.js rpcbind -f -w`) and resolves
 * when it listens on port 111 and on /run/rpcbind.sock (watched from /proc and the file system: no
 * request is made, so the daemon's statistics start at zero in both).
 */
export async function startDaemon(kind: Kind, opts: DaemonOptions = {}): Promise<Daemon> {
  const flags = ['-f', ...(opts.warm === false ? [] : ['-w']), ...(opts.remote ? ['-r'] : []), ...(opts.args ?? [])];
  rmSync('/run/rpcbind.sock', { force: true }); // a previous daemon's: waiting for the socket must wait for this one
  const proc =
    kind === 'real'
      ? new Proc(REAL_RPCBIND, flags, { env: { ...process.env, ...opts.env } })
      : new Proc(process.execPath, [CLI, 'rpcbind', ...flags, ...(opts.socket === 'none' ? ['--socket', 'none'] : [])], { env: { ...process.env, NODE_OPTIONS: '', ...opts.env } });
  const wantSocket = opts.socket !== 'none';
  const deadline = Date.now() + 15_000;
  while (!(port111Bound() && (!wantSocket || existsSync('/run/rpcbind.sock')))) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${kind} rpcbind exited at start: ${proc.stderr}`);
    if (Date.now() > deadline) throw new Error(`${kind} rpcbind did not start: ${proc.stderr}`);
    await sleep(20);
  }
  if (opts.socket === 'removed') rmSync('/run/rpcbind.sock');
  return { kind, proc, stop: (signal = 'SIGTERM') => proc.stop(signal) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- inside a lab: commands ---------------------------------------------------------------------------

/** One command run and what it printed. */
export interface CommandResult {
  cmd: string;
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `rpcinfo ARGS` (optionally as another uid through setpriv). */
export async function rpcinfo(args: string[], uid?: number): Promise<CommandResult> {
  const [cmd, argv] = uid === undefined ? ['rpcinfo', args] : ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'rpcinfo', ...args]];
  const r = await run(cmd, argv, 20_000);
  return { cmd: `rpcinfo ${args.join(' ')}${uid !== undefined ? ` (uid ${uid})` : ''}`, stdout: r.stdout, stderr: r.stderr, code: r.code };
}

/** Polls until `ok` holds (or throws after `timeoutMs`). */
export async function waitUntil(what: string, ok: () => Promise<boolean> | boolean, timeoutMs = 10_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * Ephemeral ports of C servers differ between runs: a normaliser that names each port registered in a
 * plain `rpcinfo` dump (other than port 111) after the first program and netid seen with it, and
 * replaces it in universal addresses (`….p1.p2`) and as a decimal number.
 */
export function portNormaliser(dump: string): (text: string) => string {
  const names = new Map<number, string>();
  for (const line of dump.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || !/^\d+$/.test(f[0]!) || Number(f[0]) === RPCBPROG) continue;
    const m = /\.(\d+)\.(\d+)$/.exec(f[3]!);
    if (!m) continue;
    const port = Number(m[1]) * 256 + Number(m[2]);
    if (!names.has(port)) names.set(port, `<${f[0]}-${f[2]}>`);
  }
  return (text) => {
    let s = text;
    for (const [port, name] of names) {
      s = s.replace(new RegExp(`((?:\\d+\\.\\d+\\.\\d+\\.\\d+)|(?:[0-9a-f]*:[0-9a-f:]*))\\.${port >> 8}\\.${port & 255}(?![\\d.])`, 'g'), `$1.${name}`);
      s = s.replace(new RegExp(`(?<![\\d.])${port}(?![\\d.])`, 'g'), name);
    }
    // rpcinfo pads columns to the width of what they hold: on a line with a named port, spacing is not compared.
    return s.replace(/^.*<\d+-\w+>.*$/gm, (line) => line.replace(/ {2,}/g, ' '));
  };
}

// ---- inside a lab: raw exchanges ----------------------------------------------------------------------

/** How to reach the daemon. */
export interface Via {
  transport: 'tcp' | 'udp' | 'unix';
  /** Destination address (default 127.0.0.1; IPv6 for tcp6/udp6) or, for unix, the socket path (default /run/rpcbind.sock). */
  to?: string;
  /** Destination port (default 111). */
  port?: number;
  /** Local address to send from (e.g. 127.0.0.2). */
  from?: string;
  /** Local port to send from (e.g. a reserved one, < 1024). */
  fromPort?: number;
  /** UDP: connect() the socket to the destination (then only replies from that address are received). */
  connected?: boolean;
  /** unix: the uid (and gid) of the client process (run through setpriv). */
  uid?: number;
}

/** What came back. */
export interface Exchange {
  /** Reply records (streams, fragments joined) or datagrams, in hex. */
  replies: string[];
  /** Streams: the daemon closed the connection. */
  closed: boolean;
  /**
   * UDP: a reply came from another port than the one the call went to (rpcbind answers forwarded remote
   * calls from its remote-call socket). Absent otherwise.
   */
  otherPort?: true;
}

/**
 * Collects the reply records of a stream exchange (the policy is shared with the setpriv'd child: its
 * source is sent along as text). With `fence` (the xid of a NULL call sent after the request) the
 * exchange ends 40 ms after the fence's reply, which is left out: both daemons answer a connection's
 * calls in order, so whatever the request was to get has come by then. Without a fence it ends 40 ms
 * after `expect` replies, or after `quietMs` of silence; always when the daemon closes the connection.
 */
function collectStream(sock: Socket, bytes: Buffer, expect: number, quietMs: number, fence: string, done: (r: Exchange) => void): void {
  let buf = Buffer.alloc(0);
  let frags: Buffer[] = [];
  const replies: string[] = [];
  let fenced = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = (closed: boolean): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    sock.destroy();
    done({ replies, closed });
  };
  const arm = (ms: number): void => {
    clearTimeout(timer);
    timer = setTimeout(() => finish(false), ms);
  };
  sock.on('connect', () => {
    sock.write(bytes);
    arm(quietMs);
  });
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 4) {
      const mark = buf.readUInt32BE(0);
      const n = mark & 0x7fffffff;
      if (buf.length < 4 + n) break;
      frags.push(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
      if (mark & 0x80000000) {
        const reply = Buffer.concat(frags).toString('hex');
        if (fence !== '' && reply.startsWith(fence)) fenced = true;
        else replies.push(reply);
        frags = [];
      }
    }
    // A short grace after the fence (or the replies expected), to see late replies and a close.
    arm(fenced || (fence === '' && replies.length >= expect) ? 40 : quietMs);
  });
  sock.on('error', () => {});
  sock.on('close', () => finish(true));
}

const UID_CHILD = `
const net = require('node:net');
const [path, hex, expect, quiet, fence] = process.argv.slice(1);
const collectStream = ${collectStream.toString()};
collectStream(net.connect(path), Buffer.from(hex, 'hex'), Number(expect), Number(quiet), fence, (r) => process.stdout.write(JSON.stringify(r)));
`;

export interface ExchangeOptions {
  /** Streams: send these bytes instead of the message as one record (no fence then). */
  stream?: Buffer;
  /** Replies expected (without a fence: after them the exchange ends quickly). Default 1. */
  expect?: number;
  /** How long silence means no (more) reply. Default 600 ms (a loaded CI machine answers late). */
  quietMs?: number;
  /**
   * Send a v2 NULL call after the request (same connection or socket) and take its reply as the end of
   * the exchange: silence is then known in milliseconds. Default true (not with `stream`). Not for calls
   * the daemon answers after I/O of its own (forwarded remote calls).
   */
  fence?: boolean;
}

let fences = 0;

/** Sends `message` (a whole RPC message, no record mark) to the daemon and reports what came back. */
export function exchange(via: Via, message: Buffer, opts: ExchangeOptions = {}): Promise<Exchange> {
  const expect = opts.expect ?? 1;
  const quietMs = opts.quietMs ?? 600;
  const fenceXid = opts.fence === false || opts.stream ? undefined : 0x7f000000 + fences++;
  const fence = fenceXid === undefined ? '' : u32(fenceXid).toString('hex');
  const fenceMsg = fenceXid === undefined ? undefined : rpcbCall(fenceXid, 2, 0);
  const bytes = via.transport === 'udp' ? message : (opts.stream ?? Buffer.concat([recordOf(message), ...(fenceMsg ? [recordOf(fenceMsg)] : [])]));
  if (via.transport === 'unix' && via.uid !== undefined) {
    return new Promise((resolve, reject) => {
      const child = spawn('setpriv', [`--reuid=${via.uid}`, `--regid=${via.uid}`, '--clear-groups', process.execPath, '-e', UID_CHILD, via.to ?? '/run/rpcbind.sock', bytes.toString('hex'), String(expect), String(quietMs), fence], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', () => {
        try {
          resolve(JSON.parse(out) as Exchange);
        } catch {
          reject(new Error(`uid ${via.uid} client failed: ${err}`));
        }
      });
    });
  }
  if (via.transport === 'unix') return new Promise((resolve) => collectStream(connect({ path: via.to ?? '/run/rpcbind.sock' }), bytes, expect, quietMs, fence, resolve));
  const to = via.to ?? '127.0.0.1';
  const port = via.port ?? 111;
  if (via.transport === 'tcp') {
    return new Promise((resolve) =>
      collectStream(connect({ host: to, port, ...(via.from ? { localAddress: via.from } : {}), ...(via.fromPort ? { localPort: via.fromPort } : {}) }), bytes, expect, quietMs, fence, resolve),
    );
  }
  return new Promise((resolve) => {
    const sock: UdpSocket = createSocket(to.includes(':') ? 'udp6' : 'udp4');
    const replies: string[] = [];
    let fenced = false;
    let otherPort = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (): void => {
      clearTimeout(timer);
      sock.close();
      resolve({ replies, closed: false, ...(otherPort ? { otherPort: true as const } : {}) });
    };
    const arm = (ms: number): void => {
      clearTimeout(timer);
      timer = setTimeout(finish, ms);
    };
    sock.on('message', (m, rinfo) => {
      const hex = m.toString('hex');
      if (fence !== '' && hex.startsWith(fence)) fenced = true;
      else {
        replies.push(hex);
        if (rinfo.port !== port) otherPort = true;
      }
      arm(fenced || (fence === '' && replies.length >= expect) ? 40 : quietMs);
    });
    sock.on('error', () => {});
    const send = (b: Buffer): void => {
      if (via.connected) sock.send(b);
      else sock.send(b, port, to);
    };
    sock.bind({ address: via.from ?? (to.includes(':') ? '::' : '0.0.0.0'), port: via.fromPort ?? 0 }, () => {
      const go = (): void => {
        send(bytes);
        if (fenceMsg) send(fenceMsg);
        arm(quietMs);
      };
      if (via.connected) sock.connect(port, to, go);
      else go();
    });
  });
}

// ---- messages -----------------------------------------------------------------------------------------

/** An XDR string. */
export function xstr(s: string | Buffer): Buffer {
  return opaque(typeof s === 'string' ? Buffer.from(s) : s);
}

/** rpcb {prog, vers, r_netid, r_addr, r_owner}. */
export function rpcbArgs(prog: number, vers: number, netid: string, addr: string, owner = 'x'): Buffer {
  return Buffer.concat([u32(prog), u32(vers), xstr(netid), xstr(addr), xstr(owner)]);
}

/** pmap mapping {prog, vers, prot, port}. */
export function mappingArgs(prog: number, vers: number, prot: number, port: number): Buffer {
  return Buffer.concat([u32(prog), u32(vers), u32(prot), u32(port)]);
}

/** A call to rpcbind (program 100000). */
export function rpcbCall(xid: number, vers: number, proc: number, args: Buffer = Buffer.alloc(0), f: CallFields = {}): Buffer {
  return callMessage(xid, { prog: RPCBPROG, vers, proc, cred: auth(AUTH_NONE), args, ...f });
}

const ACCEPT = ['SUCCESS', 'PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR'];
const AUTH_STAT = ['AUTH_OK', 'AUTH_BADCRED', 'AUTH_REJECTEDCRED', 'AUTH_BADVERF', 'AUTH_REJECTEDVERF', 'AUTH_TOOWEAK', 'AUTH_INVALIDRESP', 'AUTH_FAILED'];

/** A reply as words: `SUCCESS <results hex>`, `PROG_MISMATCH 2-4`, `DENIED AUTH_TOOWEAK`… */
export function describeReply(hex: string): string {
  const b = Buffer.from(hex, 'hex');
  try {
    if (b.readUInt32BE(4) !== 1) return `not a reply: ${hex}`;
    if (b.readUInt32BE(8) === 1) {
      if (b.readUInt32BE(12) === 0) return `DENIED RPC_MISMATCH ${b.readUInt32BE(16)}-${b.readUInt32BE(20)}`;
      return `DENIED ${AUTH_STAT[b.readUInt32BE(16)] ?? b.readUInt32BE(16)}`;
    }
    const verfLen = b.readUInt32BE(16);
    const at = 20 + ((verfLen + 3) & ~3);
    const stat = b.readUInt32BE(at);
    const name = ACCEPT[stat] ?? String(stat);
    if (stat === 2) return `${name} ${b.readUInt32BE(at + 4)}-${b.readUInt32BE(at + 8)}`;
    if (stat === 0) return `${name} ${b.subarray(at + 4).toString('hex')}`.trimEnd();
    return name;
  } catch {
    return `short reply: ${hex}`;
  }
}

/** An exchange as words: `closed`, `silence`, or the replies described (and `, then closed`). */
export function describeExchange(x: Exchange): string {
  if (x.replies.length === 0) return x.closed ? 'closed' : 'silence';
  return x.replies.map(describeReply).join(' | ') + (x.closed ? ', then closed' : '');
}

/** The results of a SUCCESS reply, undefined otherwise. */
export function results(hex: string): Buffer | undefined {
  const d = describeReply(hex);
  if (!d.startsWith('SUCCESS')) return undefined;
  return Buffer.from(d.slice('SUCCESS'.length).trim(), 'hex');
}

/** XDR string at `at` of `b` and the offset after it. */
export function readXdrString(b: Buffer, at = 0): [string, number] {
  const n = b.readUInt32BE(at);
  return [b.subarray(at + 4, at + 4 + n).toString(), at + 4 + ((n + 3) & ~3)];
}

// ---- decoded results (for readable differences) ---------------------------------------------------------

/** GETSTAT results as lists (rpcbind links new entries at the front: the order is part of the answer). */
export function decodeStat(hex: string): unknown {
  const r = results(hex);
  if (!r) return describeReply(hex);
  const byVers = readRpcb_stat_byvers(new XdrReader(r));
  const list = <N extends { next: N | null }>(head: N | null): Omit<N, 'next'>[] => {
    const out: Omit<N, 'next'>[] = [];
    for (let p = head; p; p = p.next) {
      const { next: _, ...rest } = p;
      out.push(rest);
    }
    return out;
  };
  return byVers.map((s, i) => ({ version: i + 2, info: s.info, setinfo: s.setinfo, unsetinfo: s.unsetinfo, addrinfo: list(s.addrinfo), rmtinfo: list(s.rmtinfo) }));
}

/** DUMP results (v2 pmaplist or v3/v4 rpcblist) as lines. */
export function decodeDump(hex: string, vers: number): string[] | string {
  const r = results(hex);
  if (!r) return describeReply(hex);
  const out: string[] = [];
  if (vers === 2) {
    for (let p = readPmaplist_ptr(new XdrReader(r)); p; p = p.next) out.push(`${p.map.prog} ${p.map.vers} ${p.map.prot} ${p.map.port}`);
  } else {
    for (let p = readRpcblist_ptr(new XdrReader(r)); p; p = p.rpcb_next) {
      const m = p.rpcb_map;
      out.push(`${m.r_prog} ${m.r_vers} ${m.r_netid} ${m.r_addr} ${m.r_owner}`);
    }
  }
  return out;
}
