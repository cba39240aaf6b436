// rpcbind's addrmerge: the address a caller should use to reach a local service registered at
// `servUaddr`. A local caller (unix socket, or a wildcard caller address) gets the registered address as
// it is; otherwise the address of the first interface (up, same family) whose address *is* the hint —
// the rpcbind address the client says it used (r_addr), else the caller's own address — with the port of
// the registration. Without one, the first usable interface, preferring ordinary ones to loopback.
//
// Exact equality, not "the same network": that is what rpcbind 1.2.6 answers (seen in private network
// namespaces, spec/rpcbind/units.test.ts lists the cases): a CALLIT from 10.99.0.3 when 10.99.0.2/24 is
// listed first gets 10.99.0.3; a hint 10.98.0.9 with an interface 10.98.0.1/24 gets the first ordinary
// interface; a hint 127.0.0.5 gets the first ordinary interface, not 127.0.0.1. The registration and the
// hint are read as libtirpc's uaddr2taddr reads them in the family of the transport (uaddrToSockaddr):
// when either does not parse (a hint of the other family included), the merge fails and rpcbind answers
// the registered address as it is.

import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { interfaceAddresses } from '../transport/native.js';
import { formatUaddr } from '../transport/uaddr.js';

/**
 * The interfaces to merge with (os.networkInterfaces() by default; tests pass their own). Read only.
 * `fresh`: the caller found no interface with the hint's address, so a cached list is read again.
 */
export type InterfaceList = (fresh?: boolean) => NetworkInterfaceInfo[];

/**
 * How long the system's interface list is reused, ms. rpcbind calls getifaddrs on every merge; here that
 * was a fifth of a GETADDR's cost under load, and addresses change far less often than 10 times a second.
 * A merge that finds no interface with the hint's address reads the list again at once (an address
 * added within the last 100 ms is not missed: the hint is a local address in every GETADDR).
 */
export const INTERFACES_TTL_MS = 100;
let interfacesCache: { at: number; list: NetworkInterfaceInfo[] } | undefined;

export const systemInterfaces: InterfaceList = (fresh = false) => {
  const now = performance.now();
  if (fresh || interfacesCache === undefined || now - interfacesCache.at >= INTERFACES_TTL_MS) {
    interfacesCache = { at: now, list: readInterfaces() };
  }
  return interfacesCache.list;
};

const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;

/**
 * The addresses of the interfaces that are up, as rpcbind's getifaddrs loop takes them: from the native
 * addon (getifaddrs), else os.networkInterfaces() (which also leaves out interfaces without carrier).
 */
function readInterfaces(): NetworkInterfaceInfo[] {
  let all;
  try {
    all = interfaceAddresses();
  } catch {
    all = undefined;
  }
  if (all === undefined) return Object.values(networkInterfaces()).flatMap((l) => l ?? []);
  const out: NetworkInterfaceInfo[] = [];
  for (const i of all) {
    if (!(i.flags & IFF_UP)) continue;
    const internal = (i.flags & IFF_LOOPBACK) !== 0;
    if (i.family === 4) out.push({ address: i.address, netmask: i.netmask, family: 'IPv4', mac: '', internal, cidr: null });
    else out.push({ address: i.address, netmask: i.netmask, family: 'IPv6', mac: '', internal, cidr: null, scopeid: i.scopeid });
  }
  return out;
}

/** The 4 or 16 bytes of an IP address (IPv6 with an embedded IPv4 tail too), undefined if it is not one. */
export function ipBytes(addr: string): number[] | undefined {
  if (isIP(addr) === 4) return addr.split('.').map(Number);
  if (isIP(addr) !== 6) return undefined;
  let a = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  let tail: number[] = [];
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
    a = a.slice(0, -v4[1]!.length) + '0:0';
  }
  const [head, rest] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined ? (rest ? rest.split(':') : []) : [];
  const words = rest !== undefined ? [...h, ...new Array(8 - h.length - r.length).fill('0'), ...r] : h;
  const out: number[] = [];
  words.forEach((w, i) => {
    let n = parseInt(w || '0', 16);
    if (tail.length && i >= 6) n = tail[i - 6]!;
    out.push(n >> 8, n & 0xff);
  });
  return out;
}

function sameBytes(x: number[] | undefined, y: number[] | undefined): boolean {
  if (!x || !y || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** C's atoi: leading white space, a sign, digits; 0 when there are none (int wrap-around). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) | 0 : 0;
}

/**
 * An IP universal address as libtirpc's uaddr2taddr reads it for a transport of `family`: the port is
 * `(atoi(p1) << 8 | atoi(p2)) & 0xffff` of the two parts after the last two dots (so `0.0.0.0.300.1` is
 * port 11265 and `….1.-1` port 65535), the address before them must be an address of that family
 * (inet_pton: no zone index, no leading zeros). undefined when it is not.
 */
export function uaddrToSockaddr(uaddr: string, family: 4 | 6): { host: string; port: number } | undefined {
  const lo = uaddr.lastIndexOf('.');
  if (lo <= 0) return undefined;
  const hi = uaddr.lastIndexOf('.', lo - 1);
  if (hi < 0) return undefined;
  const host = uaddr.slice(0, hi);
  if (isIP(host) !== family || host.includes('%')) return undefined;
  return { host, port: ((atoi(uaddr.slice(hi + 1, lo)) << 8) | atoi(uaddr.slice(lo + 1))) & 0xffff };
}

/** An IPv6 address as glibc's inet_ntop writes it (`::ffff:1.2.3.4`, `::0.2.0.3` for IPv4-compatible ones). */
export function inetNtop6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = { base: -1, len: 0 };
  let cur = { base: -1, len: 0 };
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && w[i] === 0) {
      if (cur.base === -1) cur = { base: i, len: 1 };
      else cur.len++;
    } else if (cur.base !== -1) {
      if (best.base === -1 || cur.len > best.len) best = cur;
      cur = { base: -1, len: 0 };
    }
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (best.base !== -1 && i >= best.base && i < best.base + best.len) {
      if (i === best.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      return out;
    }
    out += w[i]!.toString(16);
  }
  if (best.base !== -1 && best.base + best.len === 8) out += ':';
  return out;
}

/**
 * The merged universal address, or undefined when none can be made (rpcbind then answers the
 * registered address as it is). `caller` is the caller's address (a path for unix sockets).
 */
export function addrmerge(caller: string, servUaddr: string, hintUaddr: string | undefined, interfaces: InterfaceList = systemInterfaces): string | undefined {
  if (caller.startsWith('/') || caller.startsWith('@') || caller === '0.0.0.0' || caller === '::') return servUaddr;
  const callerFamily = isIP(caller);
  if (!callerFamily) return undefined;
  let hint = caller;
  if (hintUaddr) {
    // rpcbind: a hint that does not parse in the transport's family fails the merge.
    const h = uaddrToSockaddr(hintUaddr, callerFamily as 4 | 6);
    if (!h) return undefined;
    hint = h.host;
  }
  const serv = uaddrToSockaddr(servUaddr, callerFamily as 4 | 6);
  if (!serv) return undefined;
  const family = callerFamily === 4 ? 'IPv4' : 'IPv6';
  const hintBytes = ipBytes(hint);
  const pick = (list: NetworkInterfaceInfo[]): { best: NetworkInterfaceInfo | undefined; exact: boolean } => {
    let best: NetworkInterfaceInfo | undefined;
    for (const i of list) {
      if (i.family !== family) continue;
      if (family === 'IPv6' && i.address.toLowerCase().startsWith('fe80:') && caller.toLowerCase().startsWith('fe80:') && hint.toLowerCase().startsWith('fe80:')) return { best: i, exact: true };
      if (i.address === hint || sameBytes(ipBytes(i.address.replace(/%.*$/, '')), hintBytes)) return { best: i, exact: true };
      if (!best || (!i.internal && best.internal)) best = i;
    }
    return { best, exact: false };
  };
  const first = pick(interfaces());
  const best = first.exact ? first.best : (pick(interfaces(true)).best ?? first.best);
  if (!best) return undefined;
  return formatUaddr(best.address.replace(/%.*$/, ''), serv.port);
}
