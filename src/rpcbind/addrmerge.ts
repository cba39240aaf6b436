// rpcbind's addrmerge: the address a caller should use to reach a local service registered at
// `servUaddr`. A local caller (unix socket, or a wildcard caller address) gets the registered address as
// it is; otherwise the address of the first interface (up, same family) whose network contains the
// hint — the rpcbind address the client says it used (r_addr), when of the caller's family, else the
// caller's own address — with the port of the registration. Without a match, the first usable
// interface, preferring ordinary ones to loopback.

import { isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { formatUaddr, parseUaddr } from '../transport/uaddr.js';

/** The interfaces to merge with (os.networkInterfaces() by default; tests pass their own). */
export type InterfaceList = () => NetworkInterfaceInfo[];

export const systemInterfaces: InterfaceList = () => Object.values(networkInterfaces()).flatMap((l) => l ?? []);

function bytes(addr: string): number[] | undefined {
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

function sameNetwork(a: string, b: string, mask: string): boolean {
  const x = bytes(a);
  const y = bytes(b);
  const m = bytes(mask);
  if (!x || !y || !m || x.length !== y.length || m.length !== x.length) return false;
  for (let i = 0; i < x.length; i++) if ((x[i]! & m[i]!) !== (y[i]! & m[i]!)) return false;
  return true;
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
    try {
      const h = parseUaddr(hintUaddr).host;
      if (isIP(h) === callerFamily) hint = h;
    } catch {
      return undefined; // rpcbind: a hint that does not parse fails the merge
    }
  }
  let serv: { host: string; port: number };
  try {
    serv = parseUaddr(servUaddr);
  } catch {
    return undefined;
  }
  const family = callerFamily === 4 ? 'IPv4' : 'IPv6';
  let best: NetworkInterfaceInfo | undefined;
  for (const i of interfaces()) {
    if (i.family !== family) continue;
    if (family === 'IPv6' && i.address.toLowerCase().startsWith('fe80:') && caller.toLowerCase().startsWith('fe80:') && hint.toLowerCase().startsWith('fe80:')) {
      best = i;
      break;
    }
    if (sameNetwork(i.address, hint, i.netmask)) {
      best = i;
      break;
    }
    if (!best || (!i.internal && best.internal)) best = i;
  }
  if (!best) return undefined;
  return formatUaddr(best.address.replace(/%.*$/, ''), serv.port);
}
