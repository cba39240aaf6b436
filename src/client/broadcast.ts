// Broadcast RPC, as libtirpc's rpc_broadcast / clnt_broadcast: one call sent to the rpcbind of every host
// on the local networks, every reply reported as it comes, until a deadline or until the caller has
// enough.
//
// The call travels inside rpcbind's remote-call procedure, as libtirpc sends it: on UDP/IPv4 to the
// broadcast address of every interface that is up and has IFF_BROADCAST, twice — rpcbind v3 CALLIT
// (xid X) and portmap v2 CALLIT (xid X+1), so portmappers answer too; on UDP/IPv6 to the all-rpcbind
// multicast group ff02::202 on every interface that is up and has IFF_MULTICAST (v3 CALLIT). Loopback
// interfaces have neither flag: a host with only `lo` has no transport to broadcast on, which libtirpc
// reports as RPC_UNKNOWNPROTO ("RPC: Unknown protocol"). The packets are sent again when a wait ends
// with no reply: libtirpc waits 4 s, then 8 s (each wait starts over when a reply arrives).
//
// A reply names the responder: for rpcbind's, the universal address in its rmtcallres (the service's
// address as that rpcbind sees it); for a portmapper's, the sender's IP address with the port from its
// call_result. The credential is AUTH_SYS of this process (libtirpc's authunix_create_default).

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { authSys } from '../rpc/auth-sys.js';
import { readRpcMessage, writeCallHeader } from '../rpc/header.js';
import { AUTH_NONE, type OpaqueAuth } from '../rpc/messages.js';
import type { ReadFn } from '../rpc/program.js';
import { formatUaddr, parseUaddr } from '../transport/uaddr.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';

/** rpcbind's port. */
const RPCBIND_PORT = 111;
/** The multicast group rpcbind listens on over IPv6 (RFC 1833's RPCB_MULTICAST_ADDR). */
export const RPCB_MULTICAST_ADDR = 'ff02::202';
/** libtirpc's first wait for replies (INITTIME), ms. */
export const BROADCAST_INITIAL_WAIT_MS = 4000;
/** libtirpc's longest wait (WAITTIME), ms: the waits double from the first up to this one. */
export const BROADCAST_MAX_WAIT_MS = 8000;
/** Largest datagram sent or read (libtirpc's UDP tsdu). */
const MAX_DATAGRAM = 8800;

const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_MULTICAST = 0x1000;

/** Where a broadcast goes: one address of one interface. */
export interface BroadcastTarget {
  /** `udp` (IPv4 broadcast) or `udp6` (IPv6 multicast). */
  readonly netid: 'udp' | 'udp6';
  /** The destination: an IPv4 broadcast address, or `ff02::202%ifname`. */
  readonly address: string;
  readonly interface: string;
}

/** One reply to a broadcast. */
export interface BroadcastReply<R> {
  /** The transport it came in on. */
  readonly netid: 'udp' | 'udp6';
  /** The responder's universal address (as printed by rpcinfo -b). */
  readonly uaddr: string;
  /** Its IP address and port (the service's port, as rpcbind or the portmapper reported it). */
  readonly address: string;
  readonly port: number;
  /** Who sent the datagram (the responder's rpcbind). */
  readonly from: { readonly address: string; readonly port: number };
  /** Which remote-call procedure answered: rpcbind v3 CALLIT or portmap v2 CALLIT. */
  readonly via: 'rpcbind' | 'portmap';
  readonly result: R;
  /** Milliseconds since the broadcast was first sent. */
  readonly elapsedMs: number;
}

/**
 * How a broadcast ended, in libtirpc's terms: `success` (the callback asked to stop), `timedout` (the
 * waits or the deadline ran out: the normal end), `unknownproto` (no interface to broadcast on),
 * `cantsend` (every send failed).
 */
export type BroadcastStatus = 'success' | 'timedout' | 'unknownproto' | 'cantsend';

export interface BroadcastOptions<R> {
  prog: number;
  vers: number;
  proc: number;
  /** Writes the procedure's arguments (default: none, for a void procedure). */
  writeArgs?: (w: XdrWriter) => void;
  /** Reads a reply's results (default: none). A reply whose results do not decode is skipped. */
  readResult?: ReadFn<R>;
  /** Called for every reply, duplicates included; return true to stop. */
  onReply: (reply: BroadcastReply<R>) => boolean | void;
  /** Default: AUTH_SYS of this process, as libtirpc. */
  cred?: OpaqueAuth;
  /** First wait, ms (default 4000), doubling up to `maxWaitMs` (default 8000); the packets are sent before each. */
  initialWaitMs?: number;
  maxWaitMs?: number;
  /** A time limit for the whole broadcast, ms (none by default: the waits decide). */
  deadlineMs?: number;
  /** Where to send (default: `broadcastTargets()`). */
  targets?: readonly BroadcastTarget[];
  /** rpcbind's port (default 111). */
  port?: number;
  signal?: AbortSignal;
}

/** Reads an interface's IFF_* flags (Linux sysfs); undefined when they cannot be read. */
function interfaceFlags(name: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(`/sys/class/net/${name}/flags`, 'latin1').trim(), 16);
  } catch {
    return undefined;
  }
}

/** The IPv4 broadcast address of an address and netmask. */
function broadcastOf(address: string, netmask: string): string {
  const a = address.split('.').map(Number);
  const m = netmask.split('.').map(Number);
  return a.map((x, i) => (x | (~m[i]! & 255)) & 255).join('.');
}

/**
 * libtirpc's __rpc_getbroadifs for udp and udp6: one target per IPv4 address of an interface that is up
 * and has IFF_BROADCAST, and per IPv6 address of one that is up and has IFF_MULTICAST. Without sysfs,
 * every non-internal interface counts as both.
 */
export function broadcastTargets(): BroadcastTarget[] {
  const v4: BroadcastTarget[] = [];
  const v6: BroadcastTarget[] = [];
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    const flags = interfaceFlags(name) ?? (addrs?.some((a) => a.internal) ? IFF_UP | IFF_LOOPBACK : IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
    if (!(flags & IFF_UP)) continue;
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && flags & IFF_BROADCAST) v4.push({ netid: 'udp', address: broadcastOf(a.address, a.netmask), interface: name });
      else if (a.family === 'IPv6' && flags & IFF_MULTICAST) v6.push({ netid: 'udp6', address: `${RPCB_MULTICAST_ADDR}%${name}`, interface: name });
    }
  }
  return [...v4, ...v6];
}

/** The credential libtirpc's authunix_create_default makes: this host's name, euid, egid, groups. */
export function defaultAuthSys(): OpaqueAuth {
  if (typeof process.geteuid !== 'function') return AUTH_NONE;
  const gids = (process.getgroups?.() ?? []).slice(0, 16);
  return authSys({ stamp: Math.floor(Date.now() / 1000) >>> 0, machinename: hostname().slice(0, 255), uid: process.geteuid(), gid: process.getegid!(), gids });
}

/**
 * Broadcasts one call (see the top of this file) and reports every reply to `onReply`. Resolves with
 * how it ended; never rejects for network conditions (a failed send is `cantsend` if no send succeeded).
 */
export function rpcBroadcast<R = void>(options: BroadcastOptions<R>): Promise<{ status: BroadcastStatus; replies: number }> {
  const targets = options.targets ?? broadcastTargets();
  const byNetid = { udp: targets.filter((t) => t.netid === 'udp'), udp6: targets.filter((t) => t.netid === 'udp6') };
  if (targets.length === 0) return Promise.resolve({ status: 'unknownproto', replies: 0 });
  const port = options.port ?? RPCBIND_PORT;
  const cred = options.cred ?? defaultAuthSys();
  const xid = Math.floor(Math.random() * 0xfffffffe) >>> 0;
  const encode = (prog: number, vers: number, id: number): Uint8Array => {
    const w = new XdrWriter({ initialSize: 256 });
    writeCallHeader(w, { xid: id, prog, vers, proc: 5, cred, verf: AUTH_NONE });
    // rpcb_rmtcallargs (v3) and call_args (v2) have the same layout: prog, vers, proc, opaque args<>.
    w.writeUint(options.prog >>> 0);
    w.writeUint(options.vers >>> 0);
    w.writeUint(options.proc >>> 0);
    const a = new XdrWriter({ initialSize: 64 });
    options.writeArgs?.(a);
    w.writeOpaque(a.toBytes());
    return w.toBytes();
  };
  const rpcbCall = encode(100000, 3, xid);
  const pmapCall = encode(100000, 2, (xid + 1) >>> 0);
  const started = performance.now();

  return new Promise((resolve) => {
    const sockets: { netid: 'udp' | 'udp6'; socket: UdpSocket; ready: Promise<void> }[] = [];
    let replies = 0;
    let finished = false;
    let waitTimer: NodeJS.Timeout | undefined;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let wait = options.initialWaitMs ?? BROADCAST_INITIAL_WAIT_MS;
    const maxWait = options.maxWaitMs ?? BROADCAST_MAX_WAIT_MS;
    let sentOk = 0;

    const finish = (status: BroadcastStatus): void => {
      if (finished) return;
      finished = true;
      clearTimeout(waitTimer);
      clearTimeout(deadlineTimer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const s of sockets) s.socket.close();
      resolve({ status, replies });
    };
    const onAbort = (): void => finish('timedout');
    if (options.signal?.aborted) return finish('timedout');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.deadlineMs !== undefined) deadlineTimer = setTimeout(() => finish('timedout'), options.deadlineMs);

    const onMessage = (netid: 'udp' | 'udp6', msg: Buffer, rinfo: { address: string; port: number }): void => {
      if (finished || msg.length < 4 || msg.length > MAX_DATAGRAM) return;
      const r = new XdrReader(msg);
      let m;
      try {
        m = readRpcMessage(r);
      } catch {
        return;
      }
      if (m.mtype !== 1 || m.stat !== 0 || m.acceptStat !== 0) return; // libtirpc ignores errors
      const via = m.xid === xid ? 'rpcbind' : netid === 'udp' && m.xid === ((xid + 1) >>> 0) ? 'portmap' : undefined;
      if (!via) return;
      let address: string;
      let rport: number;
      let uaddr: string;
      let result: R;
      try {
        const body = new XdrReader(m.body);
        if (via === 'portmap') {
          rport = body.readUint() & 0xffff;
          address = rinfo.address;
          uaddr = formatUaddr(address, rport);
        } else {
          uaddr = body.readString();
          ({ host: address, port: rport } = parseUaddr(uaddr));
        }
        const res = new XdrReader(body.readOpaque());
        result = options.readResult ? options.readResult(res) : (undefined as R);
      } catch {
        return; // a reply that does not decode is passed over, as libtirpc does
      }
      replies++;
      // A reply restarts the wait, as libtirpc's poll loop does.
      armWait();
      const stop = options.onReply({ netid, uaddr, address, port: rport, from: { address: rinfo.address, port: rinfo.port }, via, result, elapsedMs: performance.now() - started });
      if (stop) finish('success');
    };

    const sendAll = (): void => {
      for (const s of sockets) {
        for (const t of byNetid[s.netid]) {
          const packets = s.netid === 'udp' ? [rpcbCall, pmapCall] : [rpcbCall];
          for (const p of packets) {
            s.socket.send(p, port, t.address, (err) => {
              if (!err) sentOk++;
            });
          }
        }
      }
    };

    // Wait `wait` ms for a reply; when none comes, double the wait and send again, until it passes maxWait.
    const armWait = (): void => {
      clearTimeout(waitTimer);
      waitTimer = setTimeout(() => {
        wait += wait;
        if (wait > maxWait) return finish(sentOk === 0 ? 'cantsend' : 'timedout');
        sendAll();
        armWait();
      }, wait);
    };

    for (const netid of ['udp', 'udp6'] as const) {
      if (byNetid[netid].length === 0) continue;
      const socket = createSocket({ type: netid === 'udp' ? 'udp4' : 'udp6' });
      const ready = new Promise<void>((ok) => {
        socket.bind(0, () => {
          if (netid === 'udp') socket.setBroadcast(true);
          ok();
        });
      });
      socket.on('message', (msg, rinfo) => onMessage(netid, msg, rinfo));
      socket.on('error', () => {
        /* a send to one interface failed: the others go on */
      });
      sockets.push({ netid, socket, ready });
    }
    void Promise.all(sockets.map((s) => s.ready)).then(() => {
      if (finished) return;
      sendAll();
      armWait();
    });
  });
}
