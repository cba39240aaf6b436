// Universal addresses and netids (RFC 5665 §5.2): how rpcbind and its clients write transport
// addresses. IPv4 `h1.h2.h3.h4.p1.p2`, IPv6 `x:…:x.p1.p2` (the port as two decimal octets after the
// address), and for netid `local` the unix socket's path (`@name` for a Linux abstract socket, as
// libtirpc ≥ 1.3.5 writes them).

import { isIP } from 'node:net';
import { UaddrError } from '../errors.js';

/** The netids of libtirpc's /etc/netconfig that oncrpc speaks. `unix` is libtirpc's alias of `local`. */
export type Netid = 'tcp' | 'udp' | 'tcp6' | 'udp6' | 'local';

/** Where a peer listens: an IP transport with host and port, or a unix stream socket. */
export type Endpoint =
  | { readonly transport: 'tcp' | 'udp'; readonly host: string; readonly port: number }
  | { readonly transport: 'unix'; readonly path: string };

/** The netid of an endpoint (tcp6/udp6 for IPv6 hosts). */
export function netidOf(e: Endpoint): Netid {
  if (e.transport === 'unix') return 'local';
  return (isIP(e.host) === 6 ? `${e.transport}6` : e.transport) as Netid;
}

/** The transport a netid runs over. */
export function transportOf(netid: string): 'tcp' | 'udp' | 'unix' {
  switch (netid) {
    case 'tcp':
    case 'tcp6':
      return 'tcp';
    case 'udp':
    case 'udp6':
      return 'udp';
    case 'local':
    case 'unix':
    case 'ticotsord':
      return 'unix';
    default:
      throw new UaddrError(`unknown netid '${netid}'`);
  }
}

/** The universal address of an IP host and port: `127.0.0.1.8.1` for 127.0.0.1:2049. */
export function formatUaddr(host: string, port: number): string {
  if (!(Number.isInteger(port) && port >= 0 && port <= 0xffff)) throw new UaddrError(`port ${port} is not 0..65535`);
  if (!isIP(host)) throw new UaddrError(`'${host}' is not an IP address`);
  return `${host}.${port >>> 8}.${port & 0xff}`;
}

/** Parses an IP universal address; throws UaddrError if it is not one. */
export function parseUaddr(uaddr: string): { host: string; port: number } {
  const m = /^(.*)\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  if (m) {
    const hi = Number(m[2]);
    const lo = Number(m[3]);
    const host = m[1]!;
    if (hi <= 255 && lo <= 255 && isIP(host)) return { host, port: hi * 256 + lo };
  }
  throw new UaddrError(`'${uaddr}' is not a universal address`);
}

/** The endpoint a (netid, universal address) pair names, as rpcbind's GETADDR answers it. */
export function endpointOf(netid: string, uaddr: string): Endpoint {
  const transport = transportOf(netid);
  if (transport === 'unix') {
    if (uaddr === '') throw new UaddrError('empty unix socket address');
    return { transport, path: uaddr };
  }
  const { host, port } = parseUaddr(uaddr);
  return { transport, host, port };
}

/** The universal address of an endpoint. */
export function uaddrOf(e: Endpoint): string {
  return e.transport === 'unix' ? e.path : formatUaddr(e.host, e.port);
}

/** The path Node's net module needs for a unix socket address: `@name` becomes the abstract `\0name`. */
export function socketPath(path: string): string {
  return path.startsWith('@') ? '\0' + path.slice(1) : path;
}

/** Text for people: `127.0.0.1:2049`, `[::1]:111`, `/run/rpcbind.sock`. */
export function endpointText(e: Endpoint): string {
  if (e.transport === 'unix') return e.path;
  return isIP(e.host) === 6 ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
