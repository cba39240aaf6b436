// The rpcbind daemon as a library: `startRpcbind(options)` serves portmap v2 and rpcbind v3/v4 over UDP
// and TCP (IPv4 and IPv6) and the unix socket, with rpcbind 1.2's semantics (registry.ts, addrmerge.ts,
// stats.ts) and its bytes on the wire (the runtime's server answers bad calls as libtirpc does). What
// rpcbind does not do is opt-in (persist-on-change, registration files, reaping, spreading), except the
// hardening (connection cap evicting idle connections, UDP amplification limit), which has opt-outs.
//
// The daemon logs nothing itself: it reports through the `log` callback (the CLI hands winston's).

import { chownSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { RpcReject } from '../errors.js';
import { auth_flavor, auth_stat } from '../rpc/constants.js';
import { writeReplyHeader } from '../rpc/header.js';
import { AUTH_NONE, type OpaqueAuth } from '../rpc/messages.js';
import type { CallContext, CallPeer } from '../rpc/program.js';
import { RpcClient } from '../client/rpc-client.js';
import { NO_REPLY, RpcServer, type ServerOptions } from '../server/rpc-server.js';
import { formatUaddr, parseUaddr, type Endpoint } from '../transport/uaddr.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { addrmerge, inetNtop6, ipBytes, systemInterfaces, uaddrToSockaddr, type InterfaceList } from './addrmerge.js';
import * as pmap from './pmap-prot.gen.js';
import * as rpcbp from './rpcb-prot.gen.js';
import { Registry, protToNetid, uaddrPort, type PmapEntry, type RpcbEntry } from './registry.js';
import { RmtcallSockets } from './rmtcall.js';
import { RpcbStats, type StatVersion } from './stats.js';

export const RPCBPROG = 100000;
/** rpcbind's default state directory and files (warm start). */
export const DEFAULT_STATE_DIR = '/run/rpcbind';
/** Largest record or string rpcbind accepts (its RPC_MAXDATASIZE-style cap; CVE-2017-8779). */
export const RPCBIND_MAX_DATA = 9000;
/** Remote-call arguments that did not decode (the handler answers them as rpcbind does). */
const BAD_ARGS: unique symbol = Symbol('bad arguments');

/** One line the daemon wants logged. `level` as winston's. */
export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  [field: string]: unknown;
}

export interface RpcbindOptions {
  /** TCP and UDP port. Default 111. */
  port?: number;
  /**
   * Sockets handed over by systemd (socket activation, LISTEN_FDS: fds 3…): served instead of binding
   * port 111 and the unix socket, as rpcbind does under rpcbind.socket.
   */
  listenFds?: readonly number[];
  /** -h: addresses to bind UDP to (rpcbind's -h); TCP stays on the wildcard. Default: wildcard. */
  hosts?: readonly string[];
  /** The unix socket; `null` for none. Default /run/rpcbind.sock. */
  socket?: string | null;
  /** Also listen on the abstract socket `@<socket>` (libtirpc ≥ 1.3.5 tries it first). Default true. */
  abstractSocket?: boolean;
  /** -i: SET/UNSET from any address. */
  insecure?: boolean;
  /** -r: forward CALLIT/INDIRECT/BCAST to local services (otherwise they are not answered). */
  remoteCalls?: boolean;
  /** -w: read the warm-start files at start (and delete them), write them at close. */
  warmStart?: boolean;
  /** With warmStart: also write them after every change (crash-safe; an oncrpc extension). Default true. */
  persistOnChange?: boolean;
  /** Where the warm-start files live. Default /run/rpcbind. */
  stateDir?: string;
  /** Registrations loaded at start (`--registrations FILE`: JSON lines or an array of {prog, vers, netid, addr, owner?}). */
  registrations?: readonly { prog: number; vers: number; netid: string; addr: string; owner?: string }[];
  /** Reap entries whose server no longer answers NULL, checked this often (seconds). 0 (default): never. */
  reapSeconds?: number;
  /** Several servers per (prog, vers, netid), answered in rotation (an oncrpc extension). */
  spread?: boolean;
  /** Most TCP/unix connections; at the cap the longest-idle connection is closed for the new one. Default 1024. */
  maxConnections?: number;
  /** Close connections idle this long (ms). 0 (default): never, as rpcbind. */
  idleTimeoutMs?: number;
  /** Answer UDP requests from non-loopback callers with replies larger than the request (amplification). Default false. */
  allowUdpAmplification?: boolean;
  /** Deadline of a forwarded remote call (ms). Default 5000. */
  remoteCallTimeoutMs?: number;
  /** SO_PEERCRED for unix-socket callers (oncrpc/transport's native peerCredentials). */
  peerCredentials?: ServerOptions['peerCredentials'];
  /** Interfaces for address merging (tests). */
  interfaces?: InterfaceList;
  /** Where log lines go. Default: nowhere. */
  log?: (entry: LogEntry) => void;
  /** -d: log one line per request. */
  debug?: boolean;
}

/** A running daemon. */
export interface RpcbindHandle {
  readonly registry: Registry;
  readonly stats: RpcbStats;
  readonly server: RpcServer;
  /** Where it listens. */
  readonly endpoints: readonly Endpoint[];
  /** Stops listening, writes the warm-start files (with -w), closes. */
  close(): Promise<void>;
  /** Writes the warm-start files now. */
  saveState(): void;
}

// ---- netconfig (/etc/netconfig) of the transports rpcbind serves ------------------------------------

const NETCONFIG: Record<string, { semantics: number; protofmly: string; proto: string }> = {
  udp: { semantics: 1, protofmly: 'inet', proto: 'udp' },
  tcp: { semantics: 3, protofmly: 'inet', proto: 'tcp' },
  udp6: { semantics: 1, protofmly: 'inet6', proto: 'udp' },
  tcp6: { semantics: 3, protofmly: 'inet6', proto: 'tcp' },
  local: { semantics: 3, protofmly: 'loopback', proto: '-' },
};

// ---- who may do what ---------------------------------------------------------------------------------

/** rpcbind's is_loopback: the unix socket, 127.0.0.1, ::1 (and v4-mapped 127.0.0.1); not 127.0.0.2. */
export function isLoopback(peer: CallPeer): boolean {
  if (peer.netid === 'local') return true;
  return peer.address === '127.0.0.1' || peer.address === '::1' || peer.address === '::ffff:127.0.0.1';
}

/**
 * Callers on this host for the UDP amplification limit: 127.0.0.0/8 and ::1 (Linux drops such source
 * addresses arriving on any other interface, so they cannot be spoofed from outside), unlike isLoopback.
 */
export function isThisHost(peer: CallPeer): boolean {
  if (peer.netid === 'local') return true;
  const a = peer.address.startsWith('::ffff:') ? peer.address.slice(7) : peer.address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** rpcbind's getowner: the unix peer's uid (`superuser` for 0), `superuser` from a loopback reserved port, else `unknown`. */
export function ownerOf(peer: CallPeer): string {
  if (peer.netid === 'local') {
    if (peer.uid === undefined) return 'unknown';
    return peer.uid === 0 ? 'superuser' : String(peer.uid);
  }
  return isLoopback(peer) && peer.port < 1024 ? 'superuser' : 'unknown';
}

/** rpcbind's check_callit: indirect calls it refuses to make (NFS, mountd MNT/UMNT, yppasswd, NIS maps…). */
export function callitAllowed(prog: number, proc: number, insecure: boolean): boolean {
  if (proc === 0) return true;
  switch (prog) {
    case RPCBPROG:
      return insecure;
    case 100005: // MOUNTPROG: MNT and UMNT
      return proc !== 1 && proc !== 3;
    case 100007: // YPBINDPROG: SETDOM
      return proc !== 2;
    case 100009: // YPPASSWDPROG
    case 100003: // NFS_PROGRAM
    case 100011: // RQUOTAPROG
      return false;
    case 100004: // YPPROG: ALL, MATCH, FIRST, NEXT
      return ![8, 3, 4, 5].includes(proc);
    default:
      return true;
  }
}

// ---- taddr <-> uaddr (UADDR2TADDR / TADDR2UADDR): struct sockaddr bytes as Linux lays them out ------
// As libtirpc converts them for the netid of the transport the request came in on (rpcbind takes the
// netconfig of xp_netid): IP addresses read by uaddrToSockaddr, `local` paths only if absolute (cut to
// 107 bytes, as strncpy into sun_path leaves them); the family field of a netbuf is not looked at.

const EMPTY_NETBUF: rpcbp.netbuf = { maxlen: 0, buf: new Uint8Array(0) };

function uaddr2taddr(netid: string, uaddr: string): rpcbp.netbuf {
  if (netid === 'local') {
    if (!uaddr.startsWith('/')) return EMPTY_NETBUF;
    let path = Buffer.from(uaddr);
    const nul = path.indexOf(0);
    path = path.subarray(0, Math.min(nul < 0 ? path.length : nul, 107));
    const b = new Uint8Array(2 + path.length);
    b[0] = 1; // AF_LOCAL, host order
    b.set(path, 2);
    return { maxlen: 110, buf: b }; // sizeof(struct sockaddr_un); len = SUN_LEN
  }
  const v6 = netid.endsWith('6');
  const a = uaddrToSockaddr(uaddr, v6 ? 6 : 4);
  if (!a) return EMPTY_NETBUF;
  const b = new Uint8Array(v6 ? 28 : 16);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, v6 ? 10 : 2, true); // sa_family, host order (little-endian)
  dv.setUint16(2, a.port, false);
  b.set(ipBytes(a.host)!, v6 ? 8 : 4);
  return { maxlen: b.length, buf: b };
}

function taddr2uaddr(netid: string, nb: rpcbp.netbuf): string {
  const b = nb.buf;
  if (netid === 'local') {
    if (b.length <= 2) return '';
    const path = Buffer.from(b.buffer, b.byteOffset + 2, b.length - 2);
    const nul = path.indexOf(0);
    return path.subarray(0, nul < 0 ? path.length : nul).toString();
  }
  const port = b.length >= 4 ? (b[2]! << 8) | b[3]! : 0;
  if (netid.endsWith('6')) return b.length >= 28 ? formatUaddr(inetNtop6(b.subarray(8, 24)), port) : '';
  return b.length >= 16 ? formatUaddr(`${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port) : '';
}

/** xdr_netbuf: the buffer is bounded by maxlen (more is GARBAGE_ARGS). */
function readNetbuf(r: XdrReader): rpcbp.netbuf {
  const nb = rpcbp.RPCBVERS_3.procs.RPCBPROC_TADDR2UADDR.args[0](r);
  if (nb.buf.length > nb.maxlen) throw new RangeError(`netbuf of ${nb.buf.length} bytes over its maxlen ${nb.maxlen}`);
  return nb;
}

// ---- lists as the protocols carry them --------------------------------------------------------------

function toRpcblist(list: readonly RpcbEntry[]): rpcbp.rpcblist_ptr {
  let head: rpcbp.rpcblist_ptr = null;
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i]!;
    head = { rpcb_map: { r_prog: e.prog, r_vers: e.vers, r_netid: e.netid, r_addr: e.addr, r_owner: e.owner }, rpcb_next: head };
  }
  return head;
}

function toPmaplist(list: readonly PmapEntry[]): pmap.pmaplist_ptr {
  let head: pmap.pmaplist_ptr = null;
  for (let i = list.length - 1; i >= 0; i--) head = { map: { ...list[i]! }, next: head };
  return head;
}

function fromRpcblist(l: rpcbp.rpcblist_ptr): RpcbEntry[] {
  const out: RpcbEntry[] = [];
  for (let p = l; p; p = p.rpcb_next) out.push({ prog: p.rpcb_map.r_prog, vers: p.rpcb_map.r_vers, netid: p.rpcb_map.r_netid, addr: p.rpcb_map.r_addr, owner: p.rpcb_map.r_owner });
  return out;
}

function fromPmaplist(l: pmap.pmaplist_ptr): PmapEntry[] {
  const out: PmapEntry[] = [];
  for (let p = l; p; p = p.next) out.push({ ...p.map });
  return out;
}

/** The bytes of rpcbind's warm-start files: rpcbind.xdr (xdr_rpcblist_ptr) and portmap.xdr (xdr_pmaplist_ptr). */
export function encodeWarmStart(registry: Registry): { rpcbind: Uint8Array; portmap: Uint8Array } {
  const w = new XdrWriter({ initialSize: 4096 });
  rpcbp.RPCBVERS_3.procs.RPCBPROC_DUMP.res[1](w, toRpcblist(registry.rbl));
  const rpcbind = w.toBytes();
  w.reset();
  pmap.PMAP_VERS_2.procs.PMAPPROC_DUMP.res[1](w, toPmaplist(registry.pml));
  return { rpcbind, portmap: w.toBytes() };
}

/** Reads warm-start file bytes; throws an XdrError if they are not what rpcbind writes. */
export function decodeWarmStart(rpcbind: Uint8Array | undefined, portmap: Uint8Array | undefined): { rbl: RpcbEntry[]; pml: PmapEntry[] } {
  const rbl = rpcbind ? fromRpcblist(rpcbp.RPCBVERS_3.procs.RPCBPROC_DUMP.res[0](new XdrReader(rpcbind))) : [];
  const pml = portmap ? fromPmaplist(pmap.PMAP_VERS_2.procs.PMAPPROC_DUMP.res[0](new XdrReader(portmap))) : [];
  return { rbl, pml };
}

/** The first of these users in /etc/passwd (rpcbind's run-as user), or undefined. */
/** The first of `names` that /etc/passwd has: its uid and primary gid. */
export function systemUser(names: readonly string[]): { name: string; uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const name of names) {
    const f = passwd.split('\n').find((l) => l.startsWith(`${name}:`))?.split(':');
    if (f && /^\d+$/.test(f[2] ?? '') && /^\d+$/.test(f[3] ?? '')) return { name, uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

// ---- the daemon ---------------------------------------------------------------------------------------

const SOCKET = '/run/rpcbind.sock';

export async function startRpcbind(options: RpcbindOptions = {}): Promise<RpcbindHandle> {
  const port = options.port ?? 111;
  const socket = options.socket === undefined ? SOCKET : options.socket;
  const stateDir = options.stateDir ?? DEFAULT_STATE_DIR;
  const log = options.log ?? (() => {});
  const interfaces = options.interfaces ?? systemInterfaces;
  const registry = new Registry({ spread: options.spread ?? false });
  const stats = new RpcbStats();

  // rpcbind registers itself first, in this order (as `rpcinfo` shows a real rpcbind).
  const self: [string, string][] = [
    ['tcp6', formatUaddr('::', port)],
    ['udp6', formatUaddr('::', port)],
    ['tcp', formatUaddr('0.0.0.0', port)],
    ['udp', formatUaddr('0.0.0.0', port)],
  ];
  if (socket !== null) self.push(['local', socket]);
  for (const [netid, addr] of self) {
    const versions = netid === 'tcp' || netid === 'udp' ? [4, 3, 2] : [4, 3];
    for (const vers of versions) registry.set({ prog: RPCBPROG, vers, netid, addr }, 'superuser');
  }
  const listening = new Set(self.map(([n]) => n));

  // Warm start: rpcbind's own files, read then deleted; its own program weeded out of them.
  const files = { rpcbind: join(stateDir, 'rpcbind.xdr'), portmap: join(stateDir, 'portmap.xdr') };
  if (options.warmStart) {
    const read = (f: string): Uint8Array | undefined => {
      try {
        const b = readFileSync(f);
        unlinkSync(f);
        return b;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log({ level: 'warn', message: `cannot read warm-start file ${f}`, file: f, error: String(e) });
        return undefined;
      }
    };
    const rb = read(files.rpcbind);
    const pm = read(files.portmap);
    try {
      const state = decodeWarmStart(rb, undefined);
      registry.rbl.push(...state.rbl.filter((e) => e.prog !== RPCBPROG));
    } catch (e) {
      log({ level: 'warn', message: `warm-start file ${files.rpcbind} is corrupt; ignored`, file: files.rpcbind, error: String(e) });
    }
    try {
      const state = decodeWarmStart(undefined, pm);
      registry.pml.push(...state.pml.filter((e) => e.prog !== RPCBPROG));
    } catch (e) {
      log({ level: 'warn', message: `warm-start file ${files.portmap} is corrupt; ignored`, file: files.portmap, error: String(e) });
    }
    if (rb || pm) log({ level: 'info', message: 'warm start', entries: registry.rbl.length, stateDir });
  }
  for (const r of options.registrations ?? []) {
    if (!registry.set({ prog: r.prog, vers: r.vers, netid: r.netid, addr: r.addr }, r.owner ?? 'superuser')) {
      log({ level: 'warn', message: 'registration refused (already registered with another address)', ...r });
    }
  }

  // Debian's rpcbind runs as _rpc and keeps /run/rpcbind as that user's (mode 0750): a directory or
  // files of root's would be unreadable to it. Run as root, oncrpc makes the directory as rpcbind does,
  // and gives the files to the directory's owner. With -w it is made at start, while still root: after
  // -s drops privileges it could not be.
  const makeStateDir = (): void => {
    if (mkdirSync(stateDir, { recursive: true, mode: 0o750 }) !== undefined && process.getuid?.() === 0) {
      const rpcUser = systemUser(['_rpc', 'rpc']);
      if (rpcUser) chownSync(stateDir, rpcUser.uid, 0);
    }
  };
  const saveState = (): void => {
    try {
      makeStateDir();
      const root = process.getuid?.() === 0;
      const dir = root ? statSync(stateDir) : undefined;
      const { rpcbind, portmap } = encodeWarmStart(registry);
      for (const [file, bytes] of [[files.rpcbind, rpcbind], [files.portmap, portmap]] as const) {
        // temp file, fsync, rename: a crash leaves the old file or the new one, never half of one.
        const tmp = `${file}.tmp`;
        writeFileSync(tmp, bytes, { mode: 0o600 });
        if (dir && dir.uid !== 0) chownSync(tmp, dir.uid, dir.gid);
        const fd = openSync(tmp, 'r');
        fsyncSync(fd);
        closeSync(fd);
        renameSync(tmp, file);
      }
    } catch (e) {
      log({ level: 'error', message: 'cannot save the registrations', stateDir, error: String(e) });
    }
  };
  if (options.warmStart) {
    try {
      makeStateDir();
    } catch (e) {
      log({ level: 'error', message: 'cannot make the state directory', stateDir, error: String(e) });
    }
  }
  if (options.warmStart && (options.persistOnChange ?? true)) registry.onChange = saveState;

  // ---- handlers ----------------------------------------------------------------------------------

  const tooWeak = (): never => {
    throw new RpcReject({ authStat: auth_stat.AUTH_TOOWEAK });
  };
  const debug = (ctx: CallContext, proc: string, outcome: unknown): void => {
    if (options.debug) log({ level: 'debug', message: 'request', caller: ctx.peer.address, port: ctx.peer.port, netid: ctx.peer.netid, version: ctx.vers, procedure: proc, outcome });
  };
  const sv = (vers: number): StatVersion => (vers - 2) as StatVersion;

  const setCom = (reg: rpcbp.rpcb, ctx: CallContext): boolean => {
    if (!options.insecure && !isLoopback(ctx.peer)) tooWeak();
    const ok = registry.set({ prog: reg.r_prog, vers: reg.r_vers, netid: reg.r_netid, addr: reg.r_addr }, ownerOf(ctx.peer));
    stats.set(sv(ctx.vers), ok);
    debug(ctx, 'SET', { prog: reg.r_prog, vers: reg.r_vers, netid: reg.r_netid, addr: reg.r_addr, ok });
    if (ok && reg.r_prog !== RPCBPROG) log({ level: 'info', message: 'registered', prog: reg.r_prog, vers: reg.r_vers, netid: reg.r_netid, addr: reg.r_addr, owner: ownerOf(ctx.peer) });
    return ok;
  };
  const unsetCom = (reg: rpcbp.rpcb, ctx: CallContext): boolean => {
    if (!options.insecure && !isLoopback(ctx.peer)) tooWeak();
    const ok = registry.unset({ prog: reg.r_prog, vers: reg.r_vers, netid: reg.r_netid }, ownerOf(ctx.peer));
    stats.unset(sv(ctx.vers), ok);
    debug(ctx, 'UNSET', { prog: reg.r_prog, vers: reg.r_vers, netid: reg.r_netid, ok });
    return ok;
  };
  /** mergeaddr: the registered address as the caller should use it. */
  const merge = (ctx: CallContext, netid: string, addr: string, hint: string | undefined): string => {
    if (!listening.has(netid)) return addr;
    return addrmerge(ctx.peer.address, addr, hint, interfaces) ?? addr;
  };
  const getaddrCom = (reg: rpcbp.rpcb, ctx: CallContext, allVersions: boolean): string => {
    const netid = ctx.peer.netid;
    const found = registry.findService(reg.r_prog, reg.r_vers, netid);
    let uaddr = '';
    if (found && (allVersions || found.vers === reg.r_vers)) uaddr = merge(ctx, netid, found.addr, reg.r_addr !== '' ? reg.r_addr : undefined);
    stats.getaddr(sv(ctx.vers), reg.r_prog, reg.r_vers, netid, uaddr);
    if (options.debug) debug(ctx, allVersions ? 'GETADDR' : 'GETVERSADDR', { prog: reg.r_prog, vers: reg.r_vers, uaddr });
    return uaddr;
  };
  const dump = (ctx: CallContext): rpcbp.rpcblist_ptr => {
    debug(ctx, 'DUMP', { entries: registry.rbl.length });
    return toRpcblist(registry.rbl);
  };
  const gettime = (): number => Math.floor(Date.now() / 1000) >>> 0;

  // Remote calls (CALLIT, INDIRECT, BCAST), in rpcbind's order: only over UDP (else no answer); arguments
  // that do not decode: GARBAGE_ARGS for INDIRECT, nothing for CALLIT; calls it refuses to make:
  // AUTH_TOOWEAK; then counted (GETSTAT), looked up (INDIRECT: PROG_UNAVAIL, PROG_MISMATCH); without -r
  // that is as far as it goes (INDIRECT: SYSTEM_ERR, CALLIT and BCAST: nothing); with -r forwarded.
  const forwarding = new Map<string, true>();
  const rmtcall = new RmtcallSockets();
  const writePmapCallResult = pmap.PMAP_VERS_2.procs.PMAPPROC_CALLIT.res[1];
  const writeRmtcallres = rpcbp.RPCBVERS_3.procs.RPCBPROC_CALLIT.res[1];
  const callit = async (a: rpcbp.rpcb_rmtcallargs | typeof BAD_ARGS, ctx: CallContext, indirect: boolean): Promise<rpcbp.rpcb_rmtcallres | pmap.call_result | typeof NO_REPLY> => {
    const vers = ctx.vers;
    if (ctx.peer.netid !== 'udp' && ctx.peer.netid !== 'udp6') return NO_REPLY;
    if (a === BAD_ARGS) {
      if (indirect) throw new RpcReject({ acceptStat: 4 });
      return NO_REPLY;
    }
    if (!callitAllowed(a.prog, a.proc, options.insecure ?? false)) tooWeak();
    const netid = ctx.peer.netid;
    const found = registry.findService(a.prog, a.vers, netid);
    stats.rmtcall(sv(vers), indirect, a.prog, a.vers, a.proc, netid, found !== undefined && found.vers === a.vers);
    if (!found) {
      if (indirect) throw new RpcReject({ acceptStat: 1 });
      return NO_REPLY;
    }
    if (found.vers !== a.vers) {
      if (indirect) {
        const [low, high] = registry.findVersions(a.prog, netid);
        throw new RpcReject({ acceptStat: 2, low, high });
      }
      return NO_REPLY;
    }
    const target = uaddrToSockaddr(found.addr, netid === 'udp6' ? 6 : 4);
    if (!options.remoteCalls || !target) {
      if (indirect) throw new RpcReject({ acceptStat: 5 });
      return NO_REPLY;
    }
    const key = `${ctx.peer.address}|${ctx.peer.port}|${ctx.xid}|${ctx.proc}|${vers}`;
    if (forwarding.has(key)) return NO_REPLY; // a retransmission while the call is forwarded
    forwarding.set(key, true);
    const host = target.host === '0.0.0.0' ? '127.0.0.1' : target.host === '::' ? '::1' : target.host;
    const cred: OpaqueAuth = ctx.cred.flavor === auth_flavor.AUTH_SYS ? ctx.cred : AUTH_NONE;
    if (ctx.cred.flavor !== auth_flavor.AUTH_NONE && ctx.cred.flavor !== auth_flavor.AUTH_SYS) {
      forwarding.delete(key);
      if (indirect) tooWeak();
      return NO_REPLY;
    }
    try {
      const reply = await rmtcall.forward({ host, port: target.port, prog: a.prog, vers: a.vers, proc: a.proc, cred, args: a.args }, options.remoteCallTimeoutMs ?? 5000);
      // No reply in time: nothing (rpcbind's forward entry expires). Anything but SUCCESS: SYSTEM_ERR for
      // INDIRECT, nothing for CALLIT and BCAST (rpcbind's send_svcsyserr).
      if (reply === undefined) return NO_REPLY;
      const w = new XdrWriter({ initialSize: 96 + reply.body.length });
      if (reply.stat !== 0 || reply.acceptStat !== 0) {
        if (!indirect) return NO_REPLY;
        writeReplyHeader(w, { xid: ctx.xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: 5 });
      } else {
        const m = merge(ctx, netid, found.addr, undefined);
        debug(ctx, indirect ? 'INDIRECT' : 'CALLIT', { prog: a.prog, vers: a.vers, proc: a.proc, forwardedTo: found.addr });
        writeReplyHeader(w, { xid: ctx.xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: 0 });
        if (vers === 2) writePmapCallResult(w, { port: uaddrPort(m) ?? 0, res: reply.body });
        else writeRmtcallres(w, { addr: m, results: reply.body });
      }
      // From the remote-call socket, as rpcbind answers: the caller sees its port, not 111.
      await rmtcall.answer(ctx.peer.address, ctx.peer.port, w.finish());
      return NO_REPLY;
    } finally {
      forwarding.delete(key);
    }
  };

  const v2: Partial<Record<string, (args: never, ctx: CallContext) => unknown>> = {
    PMAPPROC_NULL: () => undefined,
    PMAPPROC_SET: (m: pmap.mapping, ctx: CallContext) => {
      if (!options.insecure && !isLoopback(ctx.peer)) tooWeak();
      const netid = protToNetid(m.prot);
      let ok = false;
      if (netid) ok = registry.set({ prog: m.prog, vers: m.vers, netid, addr: formatUaddr('0.0.0.0', m.port & 0xffff) }, ownerOf(ctx.peer));
      stats.set(0, ok);
      debug(ctx, 'PMAP_SET', { prog: m.prog, vers: m.vers, prot: m.prot, port: m.port, ok });
      return ok;
    },
    PMAPPROC_UNSET: (m: pmap.mapping, ctx: CallContext) => {
      if (!options.insecure && !isLoopback(ctx.peer)) tooWeak();
      const owner = ownerOf(ctx.peer);
      const a = registry.unset({ prog: m.prog, vers: m.vers, netid: 'tcp' }, owner);
      const b = registry.unset({ prog: m.prog, vers: m.vers, netid: 'udp' }, owner);
      stats.unset(0, a || b);
      debug(ctx, 'PMAP_UNSET', { prog: m.prog, vers: m.vers, ok: a || b });
      return a || b;
    },
    PMAPPROC_GETPORT: (m: pmap.mapping & { short?: boolean }, ctx: CallContext) => {
      if (m.short && ctx.peer.netid !== 'udp' && ctx.peer.netid !== 'udp6') throw new RpcReject({ acceptStat: 4 });
      const found = registry.findServicePmap(m.prog, m.vers, m.prot);
      const p = found ? found.port : 0;
      // rpcbind counts lookups of tcp and udp only (another protocol: not in GETSTAT's list).
      const statNetid = protToNetid(m.prot);
      if (statNetid) stats.getaddr(0, m.prog, m.vers, statNetid, p ? 'udp' : '');
      if (options.debug) debug(ctx, 'PMAP_GETPORT', { prog: m.prog, vers: m.vers, prot: m.prot, port: p });
      return p;
    },
    PMAPPROC_DUMP: (_: void, ctx: CallContext) => {
      debug(ctx, 'PMAP_DUMP', { entries: registry.pml.length });
      return toPmaplist(registry.pml);
    },
    PMAPPROC_CALLIT: (a: pmap.call_args | typeof BAD_ARGS, ctx: CallContext) => callit(a, ctx, false),
  };
  const v3: Partial<Record<string, (args: never, ctx: CallContext) => unknown>> = {
    RPCBPROC_NULL: () => undefined,
    RPCBPROC_SET: setCom,
    RPCBPROC_UNSET: unsetCom,
    RPCBPROC_GETADDR: (r: rpcbp.rpcb, ctx: CallContext) => getaddrCom(r, ctx, true),
    RPCBPROC_DUMP: (_: void, ctx: CallContext) => dump(ctx),
    RPCBPROC_CALLIT: (a: rpcbp.rpcb_rmtcallargs | typeof BAD_ARGS, ctx: CallContext) => callit(a, ctx, false),
    RPCBPROC_GETTIME: gettime,
    RPCBPROC_UADDR2TADDR: (u: string, ctx: CallContext) => uaddr2taddr(ctx.peer.netid, u),
    RPCBPROC_TADDR2UADDR: (t: rpcbp.netbuf, ctx: CallContext) => taddr2uaddr(ctx.peer.netid, t),
  };
  const v4: Partial<Record<string, (args: never, ctx: CallContext) => unknown>> = {
    ...v3,
    RPCBPROC_BCAST: (a: rpcbp.rpcb_rmtcallargs | typeof BAD_ARGS, ctx: CallContext) => callit(a, ctx, false),
    RPCBPROC_GETVERSADDR: (r: rpcbp.rpcb, ctx: CallContext) => getaddrCom(r, ctx, false),
    RPCBPROC_INDIRECT: (a: rpcbp.rpcb_rmtcallargs | typeof BAD_ARGS, ctx: CallContext) => callit(a, ctx, true),
    RPCBPROC_GETADDRLIST: (r: rpcbp.rpcb, ctx: CallContext) => {
      const family = NETCONFIG[ctx.peer.netid]?.protofmly;
      let head: rpcbp.rpcb_entry_list_ptr = null;
      let tail: rpcbp.rpcb_entry_list | null = null;
      let last: string | undefined;
      for (const e of registry.rbl) {
        if (e.prog !== r.r_prog || e.vers !== r.r_vers) continue;
        const nc = NETCONFIG[e.netid];
        if (!nc || !listening.has(e.netid)) return NO_REPLY; // rpcbind: an unknown netid fails the whole call (no reply)
        if (nc.protofmly !== family) continue;
        // rpcbind merges every entry of the caller's family (a `local` one never merges) and counts the
        // outcome of the last one tried, merged or not.
        const maddr = ctx.peer.netid === 'local' ? undefined : addrmerge(ctx.peer.address, e.addr, r.r_addr !== '' ? r.r_addr : undefined, interfaces);
        last = maddr;
        if (maddr === undefined || maddr === '') continue;
        const node: rpcbp.rpcb_entry_list = { rpcb_entry_map: { r_maddr: maddr, r_nc_netid: e.netid, r_nc_semantics: nc.semantics, r_nc_protofmly: nc.protofmly, r_nc_proto: nc.proto }, rpcb_entry_next: null };
        if (tail) tail.rpcb_entry_next = node;
        else head = node;
        tail = node;
      }
      stats.getaddr(2, r.r_prog, r.r_vers, ctx.peer.netid, last);
      debug(ctx, 'GETADDRLIST', { prog: r.r_prog, vers: r.r_vers });
      return head;
    },
    RPCBPROC_GETSTAT: (_: void, ctx: CallContext) => {
      debug(ctx, 'GETSTAT', {});
      return stats.byVersion;
    },
  };
  delete (v4 as Record<string, unknown>)['RPCBPROC_CALLIT'];

  // v2 GETPORT with a short argument over UDP answers port 0 (rpcbind 1.2.6 reads the missing bytes
  // from its receive buffer, which oncrpc never does: it takes them as zeros); over a stream GARBAGE_ARGS.
  const lenientMapping = (r: XdrReader): pmap.mapping & { short?: boolean } => {
    const short = r.remaining < 16;
    const u = (): number => (r.remaining >= 4 ? r.readUint() : 0);
    return { prog: u(), vers: u(), prot: u(), port: u(), ...(short ? { short } : {}) };
  };
  // Remote-call arguments that do not decode are the handler's to answer (after its transport check).
  const lenient = <T>(read: (r: XdrReader) => T) => (r: XdrReader): T | typeof BAD_ARGS => {
    try {
      return read(r);
    } catch {
      return BAD_ARGS;
    }
  };
  const withArgs = <D extends { procs: Record<string, { args: readonly [unknown, unknown] }> }>(d: D, readers: Record<string, (r: XdrReader) => unknown>): D => {
    const procs: Record<string, unknown> = { ...d.procs };
    for (const [name, read] of Object.entries(readers)) procs[name] = { ...d.procs[name]!, args: [read, d.procs[name]!.args[1]] as const };
    return { ...d, procs } as D;
  };
  const PMAP = withArgs(pmap.PMAP_VERS_2, { PMAPPROC_GETPORT: lenientMapping, PMAPPROC_CALLIT: lenient(pmap.PMAP_VERS_2.procs.PMAPPROC_CALLIT.args[0]) });
  const RPCB3 = withArgs(rpcbp.RPCBVERS_3, { RPCBPROC_CALLIT: lenient(rpcbp.RPCBVERS_3.procs.RPCBPROC_CALLIT.args[0]), RPCBPROC_TADDR2UADDR: readNetbuf });
  const RPCB4 = withArgs(rpcbp.RPCBVERS4_4, {
    RPCBPROC_BCAST: lenient(rpcbp.RPCBVERS4_4.procs.RPCBPROC_BCAST.args[0]),
    RPCBPROC_INDIRECT: lenient(rpcbp.RPCBVERS4_4.procs.RPCBPROC_INDIRECT.args[0]),
    RPCBPROC_TADDR2UADDR: readNetbuf,
  });

  const server = new RpcServer({
    maxRecordSize: RPCBIND_MAX_DATA,
    decodeLimits: { maxStringBytes: RPCBIND_MAX_DATA, maxOpaqueBytes: RPCBIND_MAX_DATA },
    maxConnections: options.maxConnections ?? 1024,
    evictIdleAtCap: true,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    maxDatagramSize: 65_507,
    ...(options.peerCredentials ? { peerCredentials: options.peerCredentials } : {}),
    observe: (c) => stats.proc(sv(c.vers), c.proc),
    ...(options.allowUdpAmplification ? {} : { limitDatagramReply: (peer: CallPeer, requestBytes: number) => (isThisHost(peer) ? undefined : requestBytes) }),
  });
  server.addProgram(PMAP, v2 as never);
  server.addProgram(RPCB3, v3 as never);
  server.addProgram(RPCB4, v4 as never);

  try {
    if (options.listenFds && options.listenFds.length > 0) {
      for (const fd of options.listenFds) await server.listenFd(fd);
    } else {
      await server.listen({ transport: 'tcp', host: '::', port });
      if (options.hosts && options.hosts.length > 0) {
        for (const h of options.hosts) await server.listen({ transport: 'udp', host: h, port });
      } else await server.listen({ transport: 'udp', host: '::', port });
      if (socket !== null) {
        await server.listen({ transport: 'unix', path: socket, mode: 0o666 });
        if (options.abstractSocket ?? true) await server.listen({ transport: 'unix', path: '@' + socket });
      }
    }
  } catch (e) {
    server.destroy();
    throw e;
  }

  // Liveness (--reap): entries whose server no longer answers NULL go.
  let reaper: NodeJS.Timeout | undefined;
  if (options.reapSeconds && options.reapSeconds > 0) {
    const reap = async (): Promise<void> => {
      for (const e of [...registry.rbl]) {
        if (e.prog === RPCBPROG || e.netid === 'local') continue;
        let ep: { host: string; port: number };
        try {
          ep = parseUaddr(e.addr);
        } catch {
          continue;
        }
        const host = ep.host === '0.0.0.0' ? '127.0.0.1' : ep.host === '::' ? '::1' : ep.host;
        const c = new RpcClient({ transport: e.netid.startsWith('udp') ? 'udp' : 'tcp', host, port: ep.port }, { timeoutMs: 2000, connectTimeoutMs: 2000, retransmitMs: 500 });
        try {
          await c.callRaw(e.prog, e.vers, 0, () => {}, () => undefined);
          registry.dead.delete(e);
        } catch (err) {
          if (registry.spread) registry.dead.add(e);
          else {
            registry.remove(e);
            log({ level: 'warn', message: 'reaped: server does not answer', prog: e.prog, vers: e.vers, netid: e.netid, addr: e.addr, error: (err as Error).message });
          }
        } finally {
          c.destroy();
        }
      }
    };
    const tick = (): void => {
      reaper = setTimeout(() => void reap().finally(tick), options.reapSeconds! * 1000);
      reaper.unref();
    };
    tick();
  }

  log({ level: 'info', message: 'listening', endpoints: server.endpoints.map((e) => (e.transport === 'unix' ? e.path : `${e.transport} ${e.host} ${e.port}`)) });

  let closing: Promise<void> | null = null;
  return {
    registry,
    stats,
    server,
    get endpoints() {
      return server.endpoints;
    },
    saveState,
    close() {
      closing ??= (async () => {
        clearTimeout(reaper);
        const force = setTimeout(() => server.destroy(), 2000);
        force.unref();
        await server.close();
        clearTimeout(force);
        rmtcall.close();
        if (options.warmStart) saveState();
        log({ level: 'info', message: 'stopped' });
      })();
      return closing;
    },
  };
}
