// The client side of rpcbind (RFC 1833), as libtirpc does it: finding a program's address
// (clnt_create's lookup: v4 GETADDR, then v3 GETADDR, then portmap v2 GETPORT, over the transport the
// program will be called on), and registering a server's addresses (rpcb_set: over the unix socket
// /run/rpcbind.sock with v3 UNSET then SET, else TCP to [::1]:111 with v4, else portmap v2 to 127.0.0.1).

import { isIP } from 'node:net';
import { ErrorCodes, RpcCallError } from '../errors.js';
import type { CallOptions } from '../rpc/program.js';
import { RpcClient, type ClientOptions } from '../client/rpc-client.js';
import { endpointOf, formatUaddr, type Endpoint, type Netid } from '../transport/uaddr.js';
import { PMAP_VERS_2, IPPROTO_TCP, IPPROTO_UDP } from './pmap-prot.gen.js';
import { RPCBVERS4_4, RPCBVERS_3, type rpcb } from './rpcb-prot.gen.js';

/** rpcbind's well-known port. */
export const RPCBIND_PORT = 111;
/** rpcbind's unix socket. */
export const RPCBIND_SOCKET = '/run/rpcbind.sock';

/** Where to find rpcbind: the defaults are the system's; labs point these elsewhere. */
export interface RpcbindLocation {
  /** Port of rpcbind on the host. Default 111. */
  rpcbindPort?: number;
  /** Unix socket of the local rpcbind (registration, local lookups). Default /run/rpcbind.sock. */
  rpcbindSocket?: string;
}

export interface LookupOptions extends RpcbindLocation {
  /** Deadline of each question to rpcbind, ms. Default 10 000. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

function callOpts(o: LookupOptions): CallOptions {
  return { timeoutMs: o.timeoutMs ?? 10_000, ...(o.signal ? { signal: o.signal } : {}) };
}

/** True when rpcbind answered that it does not speak that version (fall back to an older one). */
function versionRefused(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === ErrorCodes.ERR_RPC_PROG_MISMATCH || code === ErrorCodes.ERR_RPC_PROG_UNAVAIL || code === ErrorCodes.ERR_RPC_PROC_UNAVAIL;
}

/**
 * The endpoint where `host` serves program `prog` version `vers` over `transport`, asked of `host`'s
 * rpcbind as libtirpc's clnt_create asks it: rpcbind v4 GETADDR, then v3, then portmap v2 GETPORT (TCP
 * and UDP only), each over the same transport. Throws RpcCallError ERR_RPC_NOT_REGISTERED when rpcbind
 * knows no such program, ERR_RPC_RPCB_FAILURE when rpcbind cannot be asked.
 */
export async function rpcbGetaddr(host: string, prog: number, vers: number, transport: 'tcp' | 'udp', options: LookupOptions = {}): Promise<Endpoint> {
  const port = options.rpcbindPort ?? RPCBIND_PORT;
  const netid: Netid = isIP(host) === 6 ? (`${transport}6` as Netid) : transport;
  const rpcbind = new RpcClient({ transport, host, port }, { timeoutMs: options.timeoutMs ?? 10_000 });
  try {
    const arg: rpcb = { r_prog: prog, r_vers: vers, r_netid: netid, r_addr: formatUaddr(isIP(host) ? host : '127.0.0.1', port), r_owner: 'oncrpc' };
    let lastError: unknown;
    for (const version of [RPCBVERS4_4, RPCBVERS_3]) {
      try {
        const uaddr = await rpcbind.bind(version).RPCBPROC_GETADDR(arg, callOpts(options));
        if (uaddr === '') throw notRegistered(prog, vers, netid);
        const e = endpointOf(netid, uaddr);
        // An old rpcbind may hand back the wildcard address: the program is on the host we asked.
        return e.transport !== 'unix' && (e.host === '0.0.0.0' || e.host === '::') ? { ...e, host } : e;
      } catch (e) {
        if (!versionRefused(e)) throw wrapRpcb(e);
        lastError = e;
      }
    }
    try {
      const p = await rpcbind.bind(PMAP_VERS_2).PMAPPROC_GETPORT({ prog, vers, prot: transport === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP, port: 0 }, callOpts(options));
      if (p === 0) throw notRegistered(prog, vers, netid);
      return { transport, host, port: p };
    } catch (e) {
      throw wrapRpcb(versionRefused(e) ? lastError : e);
    }
  } finally {
    rpcbind.destroy();
  }
}

function notRegistered(prog: number, vers: number, netid: string): RpcCallError {
  return new RpcCallError(ErrorCodes.ERR_RPC_NOT_REGISTERED, `program ${prog} version ${vers} is not registered for ${netid}`);
}

/** Errors other than "not registered" mean rpcbind itself could not be asked. */
function wrapRpcb(e: unknown): unknown {
  const code = (e as { code?: string }).code;
  if (code === ErrorCodes.ERR_RPC_NOT_REGISTERED || code === ErrorCodes.ERR_RPC_ABORTED) return e;
  const detail = e instanceof RpcCallError ? e.text + (e.cause instanceof Error ? ` - ${e.message.replace(/^.*\((.*)\)$/, '$1')}` : '') : String(e);
  return new RpcCallError(ErrorCodes.ERR_RPC_RPCB_FAILURE, detail, { cause: e });
}

/** What `createClient` needs: the program, the host and how to reach it. */
export interface CreateClientOptions extends ClientOptions, RpcbindLocation {
  host: string;
  prog: number;
  vers: number;
  /** Default 'tcp'. */
  transport?: 'tcp' | 'udp';
  /** Skip rpcbind: the program's port. */
  port?: number;
}

/** libtirpc's clnt_create: finds the program through the host's rpcbind (unless `port` is given) and returns a client of it. */
export async function createClient(options: CreateClientOptions): Promise<RpcClient> {
  const transport = options.transport ?? 'tcp';
  const endpoint: Endpoint =
    options.port !== undefined
      ? { transport, host: options.host, port: options.port }
      : await rpcbGetaddr(options.host, options.prog, options.vers, transport, { ...options, timeoutMs: options.connectTimeoutMs ?? options.timeoutMs ?? 10_000 });
  return new RpcClient(endpoint, options);
}

// ---- registration ---------------------------------------------------------------------------------

/** One registration: a program version reachable at a universal address over a netid. */
export interface Registration {
  prog: number;
  vers: number;
  netid: string;
  /** Universal address (`0.0.0.0.p1.p2`, `::.p1.p2`, a socket path). */
  uaddr: string;
}

export interface RegisterOptions extends RpcbindLocation {
  /** Deadline of each call to rpcbind, ms. Default 5 000. */
  timeoutMs?: number;
  /** rpcbind's host for the TCP and portmap fallbacks. Default: ::1 (v4) and 127.0.0.1 (v2), as libtirpc. */
  rpcbindHost?: string;
}

type Setter = { kind: 'rpcb'; client: RpcClient; version: typeof RPCBVERS_3 | typeof RPCBVERS4_4 } | { kind: 'pmap'; client: RpcClient };

/**
 * Asks the local rpcbind to set (or unset) registrations, as libtirpc's rpcb_set does: over the unix
 * socket with rpcbind v3 (a new connection per call), else TCP [::1]:111 with v4, else portmap v2 over
 * UDP to 127.0.0.1 (tcp/udp netids only). `owner` is sent as libtirpc sends it (the uid as a decimal);
 * rpcbind ignores it and decides the owner itself. Resolves with rpcbind's answer for each entry.
 */
export async function rpcbSetAll(entries: readonly Registration[], op: 'set' | 'unset', options: RegisterOptions = {}): Promise<boolean[]> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const owner = String(process.getuid?.() ?? 0);
  const port = options.rpcbindPort ?? RPCBIND_PORT;
  const candidates: (() => Setter)[] = [
    () => ({ kind: 'rpcb', client: new RpcClient({ transport: 'unix', path: options.rpcbindSocket ?? RPCBIND_SOCKET }, { timeoutMs }), version: RPCBVERS_3 }),
    // From a reserved port when root, as libtirpc's bindresvport: rpcbind then records the owner as superuser.
    () => ({ kind: 'rpcb', client: new RpcClient({ transport: 'tcp', host: options.rpcbindHost ?? '::1', port }, { timeoutMs, ...reservedPort() }), version: RPCBVERS4_4 }),
    () => ({ kind: 'pmap', client: new RpcClient({ transport: 'udp', host: options.rpcbindHost ?? '127.0.0.1', port }, { timeoutMs, retransmitMs: 500 }) }),
  ];
  let lastError: unknown;
  let retries: number | undefined;
  for (let i = 0; i < candidates.length; i++) {
    const setter = candidates[i]!();
    try {
      const out: boolean[] = [];
      for (const e of entries) out.push(await setOne(setter, e, op, owner));
      return out;
    } catch (e) {
      lastError = e;
      const code = (e as { code?: string }).code;
      // A reserved port already taken: try another one (a few times), as bindresvport does.
      if ((e as { cause?: { code?: string } }).cause?.code === 'EADDRINUSE' && (retries = (retries ?? 0) + 1) < 8) {
        i--;
        continue;
      }
      // Only "cannot reach rpcbind this way" moves on to the next way, as libtirpc does.
      if (code !== ErrorCodes.ERR_RPC_CANT_CONNECT && code !== ErrorCodes.ERR_RPC_CONNECTION_LOST && code !== ErrorCodes.ERR_RPC_TIMEOUT && !versionRefused(e)) throw e;
    } finally {
      setter.client.destroy();
    }
  }
  throw new RpcCallError(ErrorCodes.ERR_RPC_RPCB_FAILURE, 'no rpcbind to register with', { cause: lastError });
}

/** A random reserved local port (600..1023, as bindresvport picks) when running as root. */
function reservedPort(): { localPort?: number } {
  return process.getuid?.() === 0 ? { localPort: 600 + Math.floor(Math.random() * 424) } : {};
}

async function setOne(s: Setter, e: Registration, op: 'set' | 'unset', owner: string): Promise<boolean> {
  if (s.kind === 'rpcb') {
    const arg: rpcb = { r_prog: e.prog, r_vers: e.vers, r_netid: e.netid, r_addr: op === 'set' ? e.uaddr : '', r_owner: owner };
    const m = s.client.bind(s.version);
    return op === 'set' ? m.RPCBPROC_SET(arg) : m.RPCBPROC_UNSET(arg);
  }
  const prot = e.netid === 'tcp' ? IPPROTO_TCP : e.netid === 'udp' ? IPPROTO_UDP : 0;
  if (prot === 0) return false; // portmap knows only tcp and udp
  const port = op === 'set' ? endpointPort(e) : 0;
  const m = s.client.bind(PMAP_VERS_2);
  return op === 'set' ? m.PMAPPROC_SET({ prog: e.prog, vers: e.vers, prot, port }) : m.PMAPPROC_UNSET({ prog: e.prog, vers: e.vers, prot, port: 0 });
}

function endpointPort(e: Registration): number {
  const ep = endpointOf(e.netid, e.uaddr);
  return ep.transport === 'unix' ? 0 : ep.port;
}

/**
 * The registrations of a server listening at `endpoints` for these program versions, as libtirpc's
 * svc_create writes them: a wildcard listener is registered under its wildcard address (`0.0.0.0.p1.p2`
 * for tcp/udp, `::.p1.p2` for tcp6/udp6 — a dual-stack `::` socket serves both), a unix socket as
 * netid `local` with its path.
 */
export function registrationsFor(endpoints: readonly Endpoint[], programs: readonly { prog: number; vers: number }[]): Registration[] {
  const out: Registration[] = [];
  for (const ep of endpoints) {
    const addrs: { netid: string; uaddr: string }[] = [];
    if (ep.transport === 'unix') addrs.push({ netid: 'local', uaddr: ep.path });
    else if (ep.host === '::') {
      addrs.push({ netid: ep.transport, uaddr: formatUaddr('0.0.0.0', ep.port) }, { netid: `${ep.transport}6`, uaddr: formatUaddr('::', ep.port) });
    } else addrs.push({ netid: isIP(ep.host) === 6 ? `${ep.transport}6` : ep.transport, uaddr: formatUaddr(ep.host, ep.port) });
    for (const p of programs) for (const a of addrs) out.push({ prog: p.prog, vers: p.vers, ...a });
  }
  return out;
}

/** A server that `register` can register: its endpoints, programs, and a close hook. */
export interface Registrable {
  readonly endpoints: readonly Endpoint[];
  readonly programs: readonly { prog: number; vers: number }[];
  onClose(hook: () => Promise<void> | void): void;
}

/**
 * Registers every program version of `server` for every endpoint it listens on with the local rpcbind
 * (UNSET then SET, as libtirpc's svc_reg does), and unregisters them when the server closes. Resolves
 * with the registrations made; throws RpcCallError if rpcbind refuses one or cannot be reached.
 */
export async function register(server: Registrable, options: RegisterOptions = {}): Promise<Registration[]> {
  const entries = registrationsFor(server.endpoints, server.programs);
  // libtirpc unsets each (prog, vers, netid) before setting it, so a stale entry from a dead server goes.
  await rpcbSetAll(entries, 'unset', options);
  const ok = await rpcbSetAll(entries, 'set', options);
  const refused = entries.filter((_, i) => !ok[i]);
  server.onClose(async () => {
    await rpcbSetAll(entries, 'unset', options);
  });
  if (refused.length) {
    throw new RpcCallError(ErrorCodes.ERR_RPC_RPCB_FAILURE, `rpcbind refused ${refused.map((r) => `${r.prog} v${r.vers} ${r.netid} ${r.uaddr}`).join(', ')}`);
  }
  return entries;
}
