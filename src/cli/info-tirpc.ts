// How libtirpc reaches rpcbind and services, as far as `oncrpc info` needs it to print what rpcinfo
// prints: the netconfig database, client handles that connect when created (clnt_tli_create), calls
// that fail with a clnt_stat, and the lookups rpcinfo and libtirpc make (rpcb_getaddr, clnt_tp_create,
// rpcinfo's own getclnthandle and clnt_rpcbind_create, the local rpcbind over its unix socket). The
// texts are libtirpc's clnt_spcreateerror / clnt_sperror.
//
// Why not RpcClient: rpcinfo's words depend on transport details RpcClient rightly hides — a TCP
// connect fails at handle creation (a create error, printed differently from a call error), a UDP/IPv4
// client sees ICMP port-unreachable as "Unable to receive; errno = Connection refused" while a UDP/IPv6
// one does not (libtirpc sets IP_RECVERR only) and waits for its timeout. The wire work is the
// runtime's: call headers, reply parsing, record marking, XDR.

import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { authStatText, clntSperrno, clnt_stat } from '../errors.js';
import { readRpcMessage, writeCallHeader } from '../rpc/header.js';
import { AUTH_NONE } from '../rpc/messages.js';
import { RecordStream } from '../transport/stream.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';

/** libtirpc clnt_stat values beyond those src/errors.ts names. */
export const RPC_UNKNOWNADDR = 19;
export const RPC_TLIERROR = 20;
export const RPC_N2AXLATEFAILURE = 22;

/** rpcbind's program and port, and the unix socket libtirpc and rpcinfo use (/var/run is /run on Linux). */
export const RPCBPROG = 100000;
export const RPCBIND_PORT = 111;
export const RPCBIND_SOCK = '/var/run/rpcbind.sock';

// ---- netconfig --------------------------------------------------------------------------------------

/** One line of /etc/netconfig. */
export interface Nconf {
  readonly netid: string;
  /** tpi_clts, tpi_cots, tpi_cots_ord, tpi_raw */
  readonly semantics: string;
  readonly visible: boolean;
  /** inet, inet6, loopback */
  readonly protofmly: string;
  /** udp, tcp, - */
  readonly proto: string;
}

/** Debian's /etc/netconfig, for systems without one. */
const DEFAULT_NETCONFIG = `udp tpi_clts v inet udp - -
tcp tpi_cots_ord v inet tcp - -
udp6 tpi_clts v inet6 udp - -
tcp6 tpi_cots_ord v inet6 tcp - -
rawip tpi_raw - inet - - -
local tpi_cots_ord - loopback - - -
unix tpi_cots_ord - loopback - - -
`;

let netconfigCache: Nconf[] | undefined;

/** The entries of /etc/netconfig in file order (Debian's defaults if it cannot be read). */
export function netconfig(): Nconf[] {
  if (netconfigCache) return netconfigCache;
  let text = DEFAULT_NETCONFIG;
  try {
    text = readFileSync('/etc/netconfig', 'latin1');
  } catch {
    /* the defaults */
  }
  const out: Nconf[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0]!.startsWith('#')) continue;
    out.push({ netid: f[0]!, semantics: f[1]!, visible: f[2]!.includes('v'), protofmly: f[3]!, proto: f[4]! });
  }
  return (netconfigCache = out);
}

/** The warning libtirpc's getnetconfigent prints (then sleeps 10 s) when asked for netid "unix". */
export const UNIX_NETID_WARNING =
  'The local transport is called "unix" in /etc/netconfig.\nPlease change this to "local" manually or run mergemaster(8).\nSee UPDATING entry 20021216 for details.\nContinuing in 10 seconds\n\nThis warning will be removed 20030301\n';

/**
 * getnetconfigent(3): the entry of `netid`, or undefined. For "unix", libtirpc first prints
 * UNIX_NETID_WARNING on stderr and sleeps 10 seconds; `onUnix` does that (awaited).
 */
export async function getnetconfigent(netid: string, onUnix: () => Promise<void>): Promise<Nconf | undefined> {
  if (netid === 'unix') await onUnix();
  return netconfig().find((n) => n.netid === netid);
}

/** An address family of a netconfig entry: 4, 6, or 'local' (0 for others). */
export function familyOf(n: Nconf): 4 | 6 | 'local' | 0 {
  return n.protofmly === 'inet' ? 4 : n.protofmly === 'inet6' ? 6 : n.protofmly === 'loopback' ? 'local' : 0;
}

function isStream(n: Nconf): boolean {
  return n.semantics === 'tpi_cots' || n.semantics === 'tpi_cots_ord';
}

/** libtirpc's nettype lists: circuit_n / circuit_v (connection-oriented, visible), datagram_v. */
export function nettype(kind: 'circuit' | 'datagram'): Nconf[] {
  return netconfig().filter((n) => n.visible && (kind === 'circuit' ? isStream(n) : n.semantics === 'tpi_clts'));
}

// ---- errors -----------------------------------------------------------------------------------------

/** glibc's strerror texts for the errnos a client meets. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ECONNREFUSED: 'Connection refused',
  ECONNRESET: 'Connection reset by peer',
  EPIPE: 'Broken pipe',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EADDRINUSE: 'Address already in use',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EINVAL: 'Invalid argument',
  ENOTSOCK: 'Socket operation on non-socket',
  EMSGSIZE: 'Message too long',
  ENOBUFS: 'No buffer space available',
  EHOSTDOWN: 'Host is down',
  ENETDOWN: 'Network is down',
  SUCCESS: 'Success',
};

/** strerror(3) of a Node system error code. */
export function strerror(code: string | undefined): string {
  return (code && STRERROR[code]) ?? code ?? 'Unknown error';
}

/** A failed create or call, in libtirpc's terms (rpc_createerr / struct rpc_err). */
export class TirpcError extends Error {
  readonly stat: number;
  /** Errno code (ECONNREFUSED …) for SYSTEMERROR, CANTSEND, CANTRECV. */
  readonly errno: string | undefined;
  readonly low: number | undefined;
  readonly high: number | undefined;
  readonly why: number | undefined;
  /** For PMAPFAILURE: the status of the failed call to rpcbind. */
  readonly reStatus: number | undefined;
  constructor(stat: number, extra: { errno?: string | undefined; low?: number; high?: number; why?: number; reStatus?: number } = {}) {
    super(clntSperrno(stat));
    this.stat = stat;
    this.errno = extra.errno;
    this.low = extra.low;
    this.high = extra.high;
    this.why = extra.why;
    this.reStatus = extra.reStatus;
  }
}

/** clnt_spcreateerror(s) (without the newline clnt_pcreateerror adds). */
export function createErrorText(s: string, e: TirpcError): string {
  let t = `${s}: ${clntSperrno(e.stat)}`;
  if (e.stat === clnt_stat.RPC_PMAPFAILURE) t += ` - ${clntSperrno(e.reStatus ?? clnt_stat.RPC_FAILED)}`;
  else if (e.stat === clnt_stat.RPC_SYSTEMERROR) t += ` - ${strerror(e.errno)}`;
  return t;
}

/** clnt_sperror(clnt, s) (without the newline clnt_perror adds). */
export function callErrorText(s: string, e: TirpcError): string {
  let t = `${s}: ${clntSperrno(e.stat)}`;
  switch (e.stat) {
    case clnt_stat.RPC_SUCCESS:
    case clnt_stat.RPC_CANTENCODEARGS:
    case clnt_stat.RPC_CANTDECODERES:
    case clnt_stat.RPC_TIMEDOUT:
    case clnt_stat.RPC_PROGUNAVAIL:
    case clnt_stat.RPC_PROCUNAVAIL:
    case clnt_stat.RPC_CANTDECODEARGS:
    case clnt_stat.RPC_SYSTEMERROR:
    case clnt_stat.RPC_UNKNOWNHOST:
    case clnt_stat.RPC_UNKNOWNPROTO:
    case clnt_stat.RPC_PMAPFAILURE:
    case clnt_stat.RPC_PROGNOTREGISTERED:
    case clnt_stat.RPC_FAILED:
      break;
    case clnt_stat.RPC_CANTSEND:
    case clnt_stat.RPC_CANTRECV:
      t += `; errno = ${strerror(e.errno ?? 'SUCCESS')}`;
      break;
    case clnt_stat.RPC_VERSMISMATCH:
    case clnt_stat.RPC_PROGVERSMISMATCH:
      t += `; low version = ${e.low}, high version = ${e.high}`;
      break;
    case clnt_stat.RPC_AUTHERROR:
      t += `; why = ${authStatText(e.why ?? 7)}`;
      break;
    default:
      t += `; s1 = ${e.low ?? 0}, s2 = ${e.high ?? 0}`;
  }
  return t;
}

// ---- addresses --------------------------------------------------------------------------------------

/** A transport address: an IP address and port, or a unix socket path. */
export type Taddr = { readonly family: 4 | 6; readonly host: string; readonly port: number } | { readonly family: 'local'; readonly path: string };

/** taddr2uaddr(3). */
export function taddr2uaddr(a: Taddr): string {
  return a.family === 'local' ? a.path : `${a.host}.${a.port >> 8}.${a.port & 0xff}`;
}

/** uaddr2taddr(3) for a netconfig entry's family; undefined when the address does not fit it. */
export function uaddr2taddr(n: Nconf, uaddr: string): Taddr | undefined {
  const fam = familyOf(n);
  if (n.semantics === 'tpi_raw') return undefined; // libtirpc has no socket type for it
  if (fam === 'local') return uaddr === '' ? undefined : { family: 'local', path: uaddr };
  if (fam === 0) return undefined;
  const m = /^(.*)\.(\d+)\.(\d+)$/.exec(uaddr);
  if (!m) return undefined;
  const host = m[1]!;
  if (isIP(host) !== fam) return undefined;
  const port = ((Number(m[2]) << 8) | Number(m[3])) & 0xffff;
  return { family: fam, host, port };
}

/** getaddrinfo(3) of `host` (any family, or one): the addresses in the resolver's order; throws on failure. */
export function resolve(host: string, family: 0 | 4 | 6 = 0): Promise<{ address: string; family: 4 | 6 }[]> {
  const ip = isIP(host);
  if (ip) return family === 0 || family === ip ? Promise.resolve([{ address: host, family: ip as 4 | 6 }]) : Promise.reject(new Error('address family'));
  // node:dns only when a name must be resolved (start-up time: most commands name an address).
  return import('node:dns').then(
    ({ lookup }) =>
      new Promise((ok, fail) => {
        lookup(host, { all: true, family, verbatim: true }, (err, addrs) => {
          if (err || addrs.length === 0) fail(err ?? new Error('no address'));
          else ok(addrs.map((a) => ({ address: a.address, family: a.family as 4 | 6 })));
        });
      }),
  );
}

// ---- client handles ---------------------------------------------------------------------------------

/** Timeouts of one command: `all` (from --timeout) overrides every default. */
export interface Timeouts {
  all?: number | undefined;
}

/** A client handle (CLIENT *): one transport, one server, one call at a time. */
export interface Clnt {
  readonly nconf: Nconf;
  readonly addr: Taddr;
  /** clnt_call: resolves with the results or rejects with a TirpcError. */
  call<R>(prog: number, vers: number, proc: number, writeArgs: ((w: XdrWriter) => void) | undefined, readRes: (r: XdrReader) => R, timeoutMs: number): Promise<R>;
  destroy(): void;
}

let xidSeed = Math.floor(Math.random() * 0x100000000) >>> 0;

function encodeCall(prog: number, vers: number, proc: number, writeArgs: ((w: XdrWriter) => void) | undefined, w: XdrWriter): number {
  const xid = (xidSeed = (xidSeed + 1) >>> 0);
  writeCallHeader(w, { xid, prog: prog >>> 0, vers: vers >>> 0, proc, cred: AUTH_NONE, verf: AUTH_NONE });
  writeArgs?.(w);
  return xid;
}

/** A reply's outcome: the results, or the TirpcError it stands for. */
function decodeReply<R>(m: ReturnType<typeof readRpcMessage>, readRes: (r: XdrReader) => R): R {
  if (m.mtype !== 1) throw new TirpcError(clnt_stat.RPC_CANTDECODERES);
  if (m.stat === 1) {
    if (m.rejectStat === 0) throw new TirpcError(clnt_stat.RPC_VERSMISMATCH, { low: m.low, high: m.high });
    throw new TirpcError(clnt_stat.RPC_AUTHERROR, { why: m.authStat });
  }
  switch (m.acceptStat) {
    case 0:
      try {
        return readRes(new XdrReader(m.body));
      } catch {
        throw new TirpcError(clnt_stat.RPC_CANTDECODERES);
      }
    case 1:
      throw new TirpcError(clnt_stat.RPC_PROGUNAVAIL);
    case 2:
      throw new TirpcError(clnt_stat.RPC_PROGVERSMISMATCH, { low: m.low, high: m.high });
    case 3:
      throw new TirpcError(clnt_stat.RPC_PROCUNAVAIL);
    case 4:
      throw new TirpcError(clnt_stat.RPC_CANTDECODEARGS);
    default:
      throw new TirpcError(clnt_stat.RPC_SYSTEMERROR);
  }
}

/** A stream handle (clnt_vc): connected at creation. */
class VcClnt implements Clnt {
  readonly #stream: RecordStream;
  #pending: { onRecord: (rec: Uint8Array) => void; onClose: (e: TirpcError) => void } | undefined;
  #closedError: TirpcError | undefined;

  constructor(readonly nconf: Nconf, readonly addr: Taddr, socket: Socket) {
    this.#stream = new RecordStream(socket, (rec) => this.#pending?.onRecord(rec));
    let lastError: NodeJS.ErrnoException | undefined;
    socket.on('error', (e: NodeJS.ErrnoException) => (lastError = e));
    socket.on('close', () => {
      // libtirpc reads EOF as "connection reset": RPC_CANTRECV, errno ECONNRESET.
      const code = lastError?.code === 'EPIPE' ? 'EPIPE' : (lastError?.code ?? 'ECONNRESET');
      this.#closedError = new TirpcError(code === 'EPIPE' ? clnt_stat.RPC_CANTSEND : clnt_stat.RPC_CANTRECV, { errno: code });
      this.#pending?.onClose(this.#closedError);
    });
  }

  call<R>(prog: number, vers: number, proc: number, writeArgs: ((w: XdrWriter) => void) | undefined, readRes: (r: XdrReader) => R, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#closedError) return reject(this.#closedError);
      let xid = 0;
      const done = (f: () => void): void => {
        clearTimeout(timer);
        this.#pending = undefined;
        f();
      };
      const timer = setTimeout(() => done(() => reject(new TirpcError(clnt_stat.RPC_TIMEDOUT))), timeoutMs);
      this.#pending = {
        onRecord: (rec) => {
          let m;
          try {
            m = readRpcMessage(new XdrReader(rec));
          } catch {
            return; // not a reply libtirpc could read: it waits on
          }
          if (m.xid !== xid) return;
          done(() => {
            try {
              resolve(decodeReply(m, readRes));
            } catch (e) {
              reject(e);
            }
          });
        },
        onClose: (e) => done(() => reject(e)),
      };
      xid = encodeCall(prog, vers, proc, writeArgs, this.#stream.begin());
      this.#stream.send();
    });
  }

  destroy(): void {
    this.#stream.socket.destroy();
  }
}

/** A datagram handle (clnt_dg): an IPv4 one is connected, so ICMP errors reach it, as IP_RECVERR does for libtirpc. */
class DgClnt implements Clnt {
  readonly #socket: UdpSocket;
  readonly #ready: Promise<void>;
  #pending: { onMessage: (m: Buffer) => void; onError: (e: TirpcError) => void } | undefined;
  readonly #writer = new XdrWriter({ initialSize: 512 });

  constructor(readonly nconf: Nconf, readonly addr: Taddr & { family: 4 | 6 }, createSocket: typeof import('node:dgram').createSocket) {
    this.#socket = createSocket(addr.family === 4 ? 'udp4' : 'udp6');
    this.#socket.on('message', (m) => this.#pending?.onMessage(m));
    this.#socket.on('error', (e: NodeJS.ErrnoException) => this.#pending?.onError(new TirpcError(clnt_stat.RPC_CANTRECV, { errno: e.code })));
    this.#ready = addr.family === 4 ? new Promise((ok) => this.#socket.connect(addr.port, addr.host, () => ok())) : Promise.resolve();
  }

  call<R>(prog: number, vers: number, proc: number, writeArgs: ((w: XdrWriter) => void) | undefined, readRes: (r: XdrReader) => R, timeoutMs: number): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const w = this.#writer.reset();
      const xid = encodeCall(prog, vers, proc, writeArgs, w);
      const datagram = w.toBytes();
      let retransmit: NodeJS.Timeout | undefined;
      let wait = 15_000; // libtirpc's clnt_dg retry interval, doubling (RPC_MAX_BACKOFF 30 s)
      const send = (): void => {
        const cb = (err: Error | null): void => {
          if (err) done(() => reject(new TirpcError(clnt_stat.RPC_CANTSEND, { errno: (err as NodeJS.ErrnoException).code })));
        };
        if (this.addr.family === 4) this.#socket.send(datagram, cb);
        else this.#socket.send(datagram, this.addr.port, this.addr.host, cb);
        retransmit = setTimeout(() => {
          wait = Math.min(wait * 2, 30_000);
          send();
        }, wait);
      };
      const done = (f: () => void): void => {
        clearTimeout(timer);
        clearTimeout(retransmit);
        this.#pending = undefined;
        f();
      };
      const timer = setTimeout(() => done(() => reject(new TirpcError(clnt_stat.RPC_TIMEDOUT))), timeoutMs);
      this.#pending = {
        onMessage: (buf) => {
          let m;
          try {
            m = readRpcMessage(new XdrReader(buf));
          } catch {
            return;
          }
          if (m.xid !== xid) return;
          done(() => {
            try {
              resolve(decodeReply(m, readRes));
            } catch (e) {
              reject(e);
            }
          });
        },
        onError: (e) => done(() => reject(e)),
      };
      void this.#ready.then(send);
    });
  }

  destroy(): void {
    this.#pending = undefined;
    try {
      this.#socket.close();
    } catch {
      /* closed already */
    }
  }
}

/**
 * clnt_tli_create(RPC_ANYFD, nconf, addr, …): a handle of `nconf`'s transport to `addr`, connected now
 * for a stream transport. Rejects with TirpcError: SYSTEMERROR + errno when the connect fails,
 * TIMEDOUT when it does not finish within `timeoutMs`, UNKNOWNPROTO for a transport libtirpc cannot
 * make a handle of.
 */
export function tliCreate(nconf: Nconf, addr: Taddr, timeoutMs: number, localPort?: number): Promise<Clnt> {
  if (nconf.semantics === 'tpi_clts') {
    if (addr.family === 'local') return Promise.reject(new TirpcError(clnt_stat.RPC_UNKNOWNPROTO));
    return import('node:dgram').then(({ createSocket }) => new DgClnt(nconf, addr, createSocket));
  }
  if (!isStream(nconf)) return Promise.reject(new TirpcError(clnt_stat.RPC_UNKNOWNPROTO));
  return new Promise((resolve, reject) => {
    const socket =
      addr.family === 'local' ? netConnect({ path: addr.path }) : netConnect({ host: addr.host, port: addr.port, family: addr.family, ...(localPort ? { localPort } : {}) });
    socket.setNoDelay?.(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TirpcError(clnt_stat.RPC_TIMEDOUT));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new VcClnt(nconf, addr, socket));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new TirpcError(clnt_stat.RPC_SYSTEMERROR, { errno: e.code }));
    });
  });
}

// ---- rpcbind lookups --------------------------------------------------------------------------------

/** rpcb / RPCB args (prog, vers, netid, addr, owner). */
function writeRpcb(prog: number, vers: number, netid: string, uaddr: string, owner: string): (w: XdrWriter) => void {
  return (w) => {
    w.writeUint(prog >>> 0);
    w.writeUint(vers >>> 0);
    w.writeString(netid);
    w.writeString(uaddr);
    w.writeString(owner);
  };
}

const readString = (r: XdrReader): string => r.readString();

/** rpcinfo's local_rpcb(): rpcbind over its unix socket (no fallback). */
export function rpcinfoLocalRpcb(timeoutMs: number): Promise<Clnt> {
  const local = netconfig().find((n) => n.netid === 'local') ?? { netid: 'local', semantics: 'tpi_cots_ord', visible: false, protofmly: 'loopback', proto: '-' };
  return tliCreate(local, { family: 'local', path: RPCBIND_SOCK }, timeoutMs);
}

/**
 * libtirpc's local_rpcb(): rpcbind over its unix socket, else over TCP to localhost:111 (the last
 * connection-oriented inet transport of netconfig, tcp6 on Linux: [::1]).
 */
export async function libtirpcLocalRpcb(timeoutMs: number): Promise<Clnt> {
  try {
    return await rpcinfoLocalRpcb(timeoutMs);
  } catch {
    const loop = netconfig().filter((n) => isStream(n) && (n.protofmly === 'inet' || n.protofmly === 'inet6')).at(-1);
    if (!loop) throw new TirpcError(clnt_stat.RPC_UNKNOWNPROTO);
    const fam = familyOf(loop) as 4 | 6;
    const addr: Taddr = { family: fam, host: fam === 6 ? '::1' : '127.0.0.1', port: RPCBIND_PORT };
    // As root, libtirpc's handle comes from a reserved port (bindresvport): rpcbind then takes the
    // caller for the superuser, whose registrations only the superuser may UNSET (-d).
    if (process.geteuid?.() === 0) {
      for (let i = 0; i < 8; i++) {
        try {
          return await tliCreate(loop, addr, timeoutMs, 600 + Math.floor(Math.random() * 424));
        } catch (e) {
          if ((e as TirpcError).errno !== 'EADDRINUSE') throw e;
        }
      }
    }
    return tliCreate(loop, addr, timeoutMs);
  }
}

/**
 * rpcinfo's getclnthandle(host, nconf, vers): the first address getaddrinfo gives for `host` (any
 * family: a failure is RPC_N2AXLATEFAILURE, printed "RPC: (unknown error code)"), which must be of
 * `nconf`'s family (else RPC_UNKNOWNHOST), then a handle to rpcbind there. Resolves with the handle and
 * the universal address of rpcbind (rpcinfo's targaddr).
 */
export async function rpcinfoGetclnthandle(host: string, nconf: Nconf, timeoutMs: number): Promise<{ clnt: Clnt; targaddr: string }> {
  let first: { address: string; family: 4 | 6 } | undefined;
  try {
    first = (await resolve(host))[0];
  } catch {
    throw new TirpcError(RPC_N2AXLATEFAILURE);
  }
  if (!first) throw new TirpcError(RPC_N2AXLATEFAILURE);
  if (familyOf(nconf) !== first.family) throw new TirpcError(clnt_stat.RPC_UNKNOWNHOST);
  const addr: Taddr = { family: first.family, host: first.address, port: RPCBIND_PORT };
  const clnt = await tliCreate(nconf, addr, timeoutMs);
  return { clnt, targaddr: taddr2uaddr(addr) };
}

/**
 * rpcinfo's clnt_rpcbind_create(host): getclnthandle over circuit_n, circuit_v, then datagram_v
 * transports until one gives a handle; the error is the last attempt's.
 */
export async function rpcinfoRpcbindCreate(host: string, timeoutMs: number): Promise<{ clnt: Clnt; targaddr: string }> {
  let last: TirpcError | undefined;
  for (const kind of ['circuit', 'circuit', 'datagram'] as const) {
    for (const nconf of nettype(kind)) {
      try {
        return await rpcinfoGetclnthandle(host, nconf, timeoutMs);
      } catch (e) {
        last = e as TirpcError;
      }
    }
  }
  throw last ?? new TirpcError(clnt_stat.RPC_UNKNOWNPROTO);
}

/**
 * libtirpc's rpcb_getaddr / __rpcb_findaddr_timed: asks `host`'s rpcbind (over `nconf`) where program
 * `prog` version `vers` is, with rpcbind v4 GETADDR, then v3, then portmap GETPORT. Resolves with the
 * address; rejects with a create-style TirpcError (UNKNOWNHOST when `host` has no address of `nconf`'s
 * family, PROGNOTREGISTERED, SYSTEMERROR + errno when rpcbind cannot be reached, the failed call's
 * status otherwise).
 */
export async function rpcbFindaddr(prog: number, vers: number, nconf: Nconf, host: string, t: Timeouts): Promise<Taddr> {
  const fam = familyOf(nconf);
  if (fam === 0 || nconf.semantics === 'tpi_raw') throw new TirpcError(clnt_stat.RPC_UNKNOWNPROTO);
  let clnt: Clnt;
  let rpcbAddr: string;
  if (fam === 'local') {
    clnt = await libtirpcLocalRpcb(t.all ?? 60_000);
    rpcbAddr = RPCBIND_SOCK;
  } else {
    let addrs;
    try {
      addrs = await resolve(host, fam);
    } catch {
      throw new TirpcError(clnt_stat.RPC_UNKNOWNHOST);
    }
    let last: TirpcError | undefined;
    let made: Clnt | undefined;
    let used: Taddr | undefined;
    for (const a of addrs) {
      used = { family: a.family, host: a.address, port: RPCBIND_PORT };
      try {
        made = await tliCreate(nconf, used, t.all ?? 60_000);
        break;
      } catch (e) {
        last = e as TirpcError;
      }
    }
    if (!made) throw last ?? new TirpcError(clnt_stat.RPC_UNKNOWNHOST);
    clnt = made;
    rpcbAddr = taddr2uaddr(used!);
  }
  const timeout = t.all ?? 60_000;
  try {
    let uaddr: string | undefined;
    for (const v of [4, 3]) {
      try {
        uaddr = await clnt.call(RPCBPROG, v, 3, writeRpcb(prog, vers, nconf.netid, rpcbAddr, 'libtirpc'), readString, timeout);
        break;
      } catch (e) {
        const s = (e as TirpcError).stat;
        if (s !== clnt_stat.RPC_PROGVERSMISMATCH && s !== clnt_stat.RPC_PROGUNAVAIL) throw e;
      }
    }
    if (uaddr === undefined) {
      // An rpcbind that speaks only portmap: GETPORT (tcp and udp over IPv4 only).
      if (fam !== 4) throw new TirpcError(clnt_stat.RPC_PROGNOTREGISTERED);
      const port = await clnt.call(RPCBPROG, 2, 3, (w) => {
        w.writeUint(prog >>> 0);
        w.writeUint(vers >>> 0);
        w.writeUint(nconf.proto === 'tcp' ? 6 : 17);
        w.writeUint(0);
      }, (r) => r.readUint(), timeout);
      if (port === 0) throw new TirpcError(clnt_stat.RPC_PROGNOTREGISTERED);
      return { family: 4, host: (clnt.addr as { host: string }).host, port };
    }
    if (uaddr === '') throw new TirpcError(clnt_stat.RPC_PROGNOTREGISTERED);
    const addr = uaddr2taddr(nconf, uaddr);
    if (!addr) throw new TirpcError(RPC_N2AXLATEFAILURE);
    return addr;
  } finally {
    clnt.destroy();
  }
}

/** libtirpc's rpcb_unset(prog, vers, nconf): rpcbind v3 UNSET over the local rpcbind; false when it cannot be asked. */
export async function rpcbUnset(prog: number, vers: number, netid: string, t: Timeouts): Promise<boolean> {
  let clnt: Clnt;
  try {
    clnt = await libtirpcLocalRpcb(t.all ?? 60_000);
  } catch {
    return false;
  }
  try {
    const uid = String(process.geteuid?.() ?? 0);
    return await clnt.call(RPCBPROG, 3, 2, writeRpcb(prog, vers, netid, '', uid), (r) => r.readBool(), t.all ?? 60_000);
  } catch {
    return false;
  } finally {
    clnt.destroy();
  }
}
