// oncrpc's native addon, seen from TypeScript: what Node cannot do by itself and an rpcbind needs.
//
// 1. Who is on the other end of a unix-domain socket (SO_PEERCRED), for rpcbind's owner rules:
//
//      peerCredentials(socket: net.Socket): { pid: number; uid: number; gid: number } | undefined
//
//    For a connected AF_UNIX stream socket (a server's accepted socket: the client's credentials as of its
//    connect(); a client's socket: the server's as of its listen()). undefined for TCP or any other
//    socket, a socket without an fd (not yet connected, destroyed), or when the addon is unavailable.
//    It reads `socket._handle.fd` (Node internals, present on Linux for TCP and Pipe handles).
//
// 2. A UDP socket that knows the destination address of every datagram and answers from it (IP_PKTINFO /
//    IPV6_RECVPKTINFO + IPV6_PKTINFO), as rpcbind and libtirpc servers do. Node's dgram cannot: a socket
//    bound to 0.0.0.0 answers a datagram sent to 127.0.0.2 from 127.0.0.1, and a client that connect()ed
//    its socket to 127.0.0.2 (libtirpc's clnt_dg does) never sees the reply.
//
//      const sock = await PktinfoUdpSocket.bind({ host: '0.0.0.0', port: 111 });   // or '::' (dual-stack)
//      sock.on('message', (msg, rinfo, local) => {
//        sock.send(reply, rinfo.port, rinfo.address, local.replyFrom, (err) => { … });
//      });
//      sock.on('error', (err) => { … });     // optional: without a listener errors are dropped, never thrown
//      sock.close();
//
//    - `PktinfoUdpSocket.bind({ host, port, ipv6Only?, reuseAddr?, recvBufferSize?, sendBufferSize?,
//      maxSendQueue? })`: host is an IP literal (no DNS). An IPv6 host makes an AF_INET6 socket, dual-stack
//      unless `ipv6Only`. Rejects with a Node-style system error (`code` EADDRINUSE, EACCES…, `syscall`),
//      with OncRpcError ERR_NATIVE_ARGUMENT for a bad host or port, ERR_NATIVE_UNAVAILABLE without the addon.
//    - `'message' (msg: Buffer, rinfo: { address, port, family, size }, local: LocalInfo)`, where
//      `local.address` is the datagram's destination address (127.0.0.2, ::1, or a broadcast/multicast
//      address), `local.replyFrom` the address to answer from (the destination itself for unicast; for an
//      IPv4 broadcast or multicast the kernel's address on that interface; undefined for IPv6 multicast, so
//      the kernel chooses), `local.interfaceIndex` the interface it came in on.
//    - Addresses are printed as Node prints them (127.0.0.1, ::1, fe80::1%eth0), except that IPv4 arriving
//      on a dual-stack socket is reported as plain IPv4 (`127.0.0.2`, family 'IPv4'), not v4-mapped
//      (`::ffff:127.0.0.2`), for both rinfo and local. send() accepts either form.
//    - `send(msg, port, address, from?, cb?)`: one sendmsg, at once (the bytes are copied by the kernel;
//      the caller may reuse `msg` when send returns), with `from` as the source address when given. If the
//      socket's send buffer is full (EAGAIN) a copy is queued and sent when the socket is writable (at most
//      `maxSendQueue` datagrams, default 1024, `sendQueueLength`; beyond that ENOBUFS). ENOBUFS from the
//      kernel (a full or down interface queue) is an error, not retried. `cb(err?)` is always called
//      asynchronously; without cb a failure goes to 'error'. Bad arguments (not a Uint8Array, port not
//      1..65535, address or from not an IP literal usable on this socket, IPv4 and IPv6 mixed) throw
//      OncRpcError ERR_NATIVE_ARGUMENT synchronously, as dgram throws for bad arguments. A send after
//      close() calls back with an EBADF error (servers may answer late; that must not throw).
//    - 'error': system errors as Node reports them (`code`, `errno`, `syscall`, `address`, `port`):
//      failed sends without a callback, and ICMP errors about earlier sends (IP_RECVERR; e.g. ECONNREFUSED
//      with `address`/`port` of the unreachable destination). Node's dgram reports none of those for an
//      unconnected socket. Errors are emitted only if an 'error' listener exists, so a socket never
//      crashes the process by itself; a throwing 'message' listener does (an uncaught exception, as in dgram).
//    - `address()`, `close()` (idempotent; stops polling, closes the fd, 'close' is emitted), `ref()`,
//      `unref()`, `dropped` (datagrams the kernel dropped for want of receive buffer, SO_RXQ_OVFL).
//
//    The C side creates the socket nonblocking and polls it with libuv's uv_poll_t on Node's own loop (no
//    threads); each time it is readable it reads until EAGAIN (at most 1024 datagrams per turn of the loop;
//    polling is level-triggered, the rest follow on the next turn).
//
// 3. `nativeAvailable()` / `nativeLoadError()`: whether build/Release/oncrpc_native.node loaded (it is
//    built by `npm ci`, see scripts/build-native.sh; Linux only). Without it peerCredentials() returns
//    undefined and PktinfoUdpSocket.bind() rejects with ERR_NATIVE_UNAVAILABLE: callers fall back to
//    dgram (replies then leave from the kernel's choice of address) and to "unknown" owners.
//    ONCRPC_NATIVE=off in the environment disables the addon (the same fallback).

import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { isIP, type Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { ErrorCodes, OncRpcError } from '../errors.js';

/** SO_PEERCRED of a unix-domain socket. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Where a datagram was sent to, on this host. */
export interface LocalInfo {
  /** The destination address of the datagram ('' in the unlikely case the kernel did not say). */
  address: string;
  /** The address to answer from (pass it as send()'s `from`); undefined: let the kernel choose. */
  replyFrom: string | undefined;
  /** The interface the datagram came in on (0 if unknown). */
  interfaceIndex: number;
}

/** The sender of a datagram, as dgram's RemoteInfo. */
export interface PktinfoRemoteInfo {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  size: number;
}

export interface PktinfoBindOptions {
  /** An IP literal: '0.0.0.0', '::', '127.0.0.1', 'fe80::1%eth0'. No DNS. */
  host: string;
  /** 0 for an ephemeral port. */
  port: number;
  /** IPv6 only (IPV6_V6ONLY); default false: an IPv6 socket also receives IPv4. */
  ipv6Only?: boolean;
  /** SO_REUSEADDR; default false. */
  reuseAddr?: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes; default: the system's. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Datagrams kept while the socket buffer is full; default 1024. */
  maxSendQueue?: number;
}

export interface PktinfoUdpSocketEvents {
  message: [msg: Buffer, rinfo: PktinfoRemoteInfo, local: LocalInfo];
  error: [err: NodeJS.ErrnoException];
  close: [];
}

type NativeHandle = object;
interface Addon {
  peerCred(fd: number): [number, number, number] | null;
  udpOpen(
    family: 4 | 6, host: string, port: number, flags: number, rcvbuf: number, sndbuf: number,
    cb: (kind: number, ...args: unknown[]) => void,
  ): NativeHandle | [number, string];
  udpAddress(h: NativeHandle): [string, number] | number;
  udpSend(h: NativeHandle, bytes: Uint8Array, port: number, address: string, from: string | null): number;
  udpWatchWritable(h: NativeHandle, on: boolean): number;
  udpRef(h: NativeHandle, on: boolean): void;
  udpDropped(h: NativeHandle): number;
  udpClose(h: NativeHandle): void;
  udpAdopt(fd: number, cb: (kind: number, ...args: unknown[]) => void): NativeHandle | [number, string];
  socketInfo(fd: number): { type: 'stream' | 'dgram' | 'other'; family: 0 | 1 | 4 | 6 } | [number, string];
  interfaceAddresses?(): [string, 4 | 6, string, string, number, number][] | [number, string];
}

// ---- loading ------------------------------------------------------------------------------------------

let loaded = false;
let addon: Addon | undefined;
let loadError: Error | undefined;

function load(): Addon | undefined {
  if (loaded) return addon;
  loaded = true;
  if (process.env.ONCRPC_NATIVE === 'off') {
    loadError = new Error('disabled by ONCRPC_NATIVE=off');
    return undefined;
  }
  // src/transport/native.ts and dist/transport/native.js are both two levels below the package root.
  const require = createRequire(import.meta.url);
  const errors: string[] = [];
  for (const rel of ['../../build/Release/oncrpc_native.node', '../../build/Debug/oncrpc_native.node']) {
    try {
      addon = require(rel) as Addon;
      return addon;
    } catch (e) {
      errors.push((e as Error).message.split('\n')[0]!);
    }
  }
  loadError = new Error(`oncrpc's native addon is not available (run 'bash scripts/build-native.sh'): ${errors[0]}`);
  return undefined;
}

/** Whether the native addon is loaded (loading it on first use). */
/** The kind of an inherited socket fd (systemd's LISTEN_FDS): stream or datagram, and its family (1: AF_UNIX). */
export function socketInfo(fd: number): { type: 'stream' | 'dgram' | 'other'; family: 0 | 1 | 4 | 6 } {
  const a = load();
  if (!a) throw unavailable();
  const r = native(() => a.socketInfo(fd));
  if (Array.isArray(r)) throw errnoError(r[0], r[1]);
  return r;
}

/** An address of a network interface, as getifaddrs lists it. */
export interface InterfaceAddress {
  /** The interface's name (`lo`, `eth0`). */
  name: string;
  family: 4 | 6;
  address: string;
  netmask: string;
  /** The interface's IFF_* flags (IFF_UP 0x1, IFF_BROADCAST 0x2, IFF_LOOPBACK 0x8, IFF_RUNNING 0x40…). */
  flags: number;
  /** IPv6 scope id (the interface index for link-local addresses), else 0. */
  scopeid: number;
}

/**
 * Every IPv4 and IPv6 address of every interface, in the kernel's order, whatever the interface's state
 * (getifaddrs); undefined without the native addon. os.networkInterfaces() leaves out interfaces that are
 * up but not running (no carrier), which rpcbind's addrmerge considers.
 */
export function interfaceAddresses(): InterfaceAddress[] | undefined {
  const a = load();
  if (!a?.interfaceAddresses) return undefined;
  const r = a.interfaceAddresses();
  if (r.length === 2 && typeof r[0] === 'number') throw errnoError(r[0], r[1] as string);
  return (r as [string, 4 | 6, string, string, number, number][]).map(([name, family, address, netmask, flags, scopeid]) => ({ name, family, address, netmask, flags, scopeid }));
}

export function nativeAvailable(): boolean {
  return load() !== undefined;
}

/** Why the native addon is not available; undefined when it is. */
export function nativeLoadError(): Error | undefined {
  load();
  return loadError;
}

function unavailable(): OncRpcError {
  return new OncRpcError(ErrorCodes.ERR_NATIVE_UNAVAILABLE, loadError?.message ?? 'native addon unavailable', { cause: loadError });
}

function argError(message: string): OncRpcError {
  return new OncRpcError(ErrorCodes.ERR_NATIVE_ARGUMENT, message);
}

/** A value for an error message, cut short. */
function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

/** Calls the addon; its own argument checks (TypeError, code ERR_NATIVE_ARGUMENT) become OncRpcErrors. */
function native<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if ((e as { code?: unknown }).code === ErrorCodes.ERR_NATIVE_ARGUMENT) throw argError((e as Error).message);
    throw e;
  }
}

// ---- peer credentials ---------------------------------------------------------------------------------

/** SO_PEERCRED of a connected unix-domain socket; undefined for other sockets or without the addon. */
export function peerCredentials(socket: Socket): PeerCredentials | undefined {
  const a = load();
  if (!a) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle?.fd;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) return undefined;
  const r = a.peerCred(fd);
  return r ? { pid: r[0], uid: r[1], gid: r[2] } : undefined;
}

// ---- UDP with IP_PKTINFO ------------------------------------------------------------------------------

/** A Node-style system error (what dgram and net report): `send EMSGSIZE 127.0.0.1:9`. */
function errnoError(negErrno: number, syscall: string, address?: string, port?: number, note?: string): NodeJS.ErrnoException {
  let code: string;
  try {
    code = getSystemErrorName(negErrno);
  } catch {
    code = `Unknown system error ${negErrno}`;
  }
  const where = address === undefined ? '' : port === undefined ? ` ${address}` : ` ${address}:${port}`;
  const err: NodeJS.ErrnoException = new Error(`${syscall} ${code}${where}${note ? ` (${note})` : ''}`);
  err.code = code;
  err.errno = negErrno;
  err.syscall = syscall;
  if (address !== undefined) (err as { address?: string }).address = address;
  if (port !== undefined) (err as { port?: number }).port = port;
  return err;
}

const EAGAIN = -11;
const ENOBUFS = -105;
const EBADF = -9;

/** '::ffff:1.2.3.4' → '1.2.3.4'; anything else unchanged. */
function unmapped(a: string): string {
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a;
}

function familyOf(a: string): 'IPv4' | 'IPv6' {
  return a.includes(':') ? 'IPv6' : 'IPv4';
}

function checkPort(port: unknown, min: number, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < min || port > 65535) {
    throw argError(`${what} must be an integer ${min}..65535 (it is ${show(port)})`);
  }
  return port;
}

/**
 * An IP literal usable on a socket of `family` (4 or 6), as the addon wants it: plain IPv4 for an AF_INET
 * socket (a v4-mapped address is unmapped), anything for an AF_INET6 one (IPv4 is mapped by the addon).
 */
function checkAddress(a: unknown, family: 4 | 6, what: string): string {
  if (typeof a !== 'string' || a.length === 0 || a.length > 100 || isIP(a) === 0) {
    throw argError(`${what} must be an IP address (it is ${show(a)})`);
  }
  if (family === 4) {
    const u = unmapped(a);
    if (isIP(u) !== 4) throw argError(`${what} ${a} is not an IPv4 address (the socket is IPv4)`);
    return u;
  }
  return a;
}

interface Pending {
  bytes: Uint8Array;
  port: number;
  address: string;
  from: string | null;
  cb: ((err?: Error) => void) | undefined;
}

/** A UDP socket that reports each datagram's destination address and can answer from it (see the top of this file). */
export class PktinfoUdpSocket extends EventEmitter<PktinfoUdpSocketEvents> {
  readonly #addon: Addon;
  readonly #handle: NativeHandle;
  readonly #family: 4 | 6;
  readonly #address: { address: string; port: number; family: 'IPv4' | 'IPv6' };
  readonly #maxQueue: number;
  #queue: Pending[] = [];
  #closed = false;

  private constructor(addon: Addon, handle: NativeHandle, family: 4 | 6, address: { address: string; port: number; family: 'IPv4' | 'IPv6' }, maxQueue: number) {
    super();
    this.#addon = addon;
    this.#handle = handle;
    this.#family = family;
    this.#address = address;
    this.#maxQueue = maxQueue;
  }

  /** Creates and binds the socket (see PktinfoBindOptions). (`override`: it shadows Function.prototype.bind on the class.) */
  static override async bind(options: PktinfoBindOptions): Promise<PktinfoUdpSocket> {
    const a = load();
    if (!a) throw unavailable();
    const { host } = options;
    if (typeof host !== 'string' || isIP(host) === 0) throw argError(`host must be an IP address (it is ${show(host)})`);
    const port = checkPort(options.port, 0, 'port');
    const family: 4 | 6 = isIP(host) === 4 ? 4 : 6;
    const size = (v: number | undefined, what: string): number => {
      if (v === undefined) return 0;
      if (!Number.isInteger(v) || v < 1 || v > 0x7fffffff) throw argError(`${what} must be a positive integer`);
      return v;
    };
    const rcv = size(options.recvBufferSize, 'recvBufferSize');
    const snd = size(options.sendBufferSize, 'sendBufferSize');
    const maxQueue = options.maxSendQueue ?? 1024;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw argError('maxSendQueue must be an integer >= 0');
    const flags = (options.ipv6Only ? 1 : 0) | (options.reuseAddr ? 2 : 0);
    let self: PktinfoUdpSocket | undefined;
    const r = native(() =>
      a.udpOpen(family, host, port, flags, rcv, snd, (kind, ...args) => {
        if (self) self.#onNative(kind, args);
      }),
    );
    if (Array.isArray(r)) throw errnoError(r[0], r[1], host, port);
    const addr = a.udpAddress(r);
    if (typeof addr === 'number') {
      a.udpClose(r);
      throw errnoError(addr, 'getsockname');
    }
    self = new PktinfoUdpSocket(a, r, family, { address: addr[0], port: addr[1], family: family === 4 ? 'IPv4' : 'IPv6' }, maxQueue);
    return self;
  }

  /** The bound address, as dgram's address() (kept after close()). */
  /**
   * Takes over a bound UDP socket by its fd (systemd socket activation passes them as fds 3…): made
   * nonblocking, given the same options as bind()'s, then used like one.
   */
  static adopt(fd: number, maxSendQueue = 1024): PktinfoUdpSocket {
    const a = load();
    if (!a) throw unavailable();
    if (!Number.isInteger(fd) || fd < 0) throw argError(`fd must be a non-negative integer (it is ${show(fd)})`);
    let self: PktinfoUdpSocket | undefined;
    const r = native(() =>
      a.udpAdopt(fd, (kind, ...args) => {
        if (self) self.#onNative(kind, args);
      }),
    );
    if (Array.isArray(r)) throw errnoError(r[0], r[1]);
    const addr = a.udpAddress(r);
    if (typeof addr === 'number') {
      a.udpClose(r);
      throw errnoError(addr, 'getsockname');
    }
    const family: 4 | 6 = isIP(addr[0]) === 4 ? 4 : 6;
    self = new PktinfoUdpSocket(a, r, family, { address: addr[0], port: addr[1], family: family === 4 ? 'IPv4' : 'IPv6' }, maxSendQueue);
    return self;
  }

  address(): { address: string; port: number; family: 'IPv4' | 'IPv6' } {
    return { ...this.#address };
  }

  /** Datagrams the kernel dropped for want of receive buffer (SO_RXQ_OVFL), as of the last one read. */
  get dropped(): number {
    return this.#closed ? 0 : this.#addon.udpDropped(this.#handle);
  }

  /** Datagrams waiting for room in the socket's send buffer. */
  get sendQueueLength(): number {
    return this.#queue.length;
  }

  /** Sends `msg` to address:port, from `from` when given (see the top of this file). */
  send(msg: Uint8Array, port: number, address: string, from?: string, cb?: (err?: Error) => void): void {
    if (!(msg instanceof Uint8Array)) throw argError('msg must be a Uint8Array');
    checkPort(port, 1, 'port');
    const to = checkAddress(address, this.#family, 'address');
    let src: string | null = null;
    if (from !== undefined && from !== null && from !== '') {
      src = checkAddress(from, this.#family, 'from');
      if (this.#family === 6 && (isIP(unmapped(to)) === 4) !== (isIP(unmapped(src)) === 4)) {
        throw argError(`cannot send to ${address} from ${from}: one is IPv4, the other IPv6`);
      }
    }
    if (cb !== undefined && typeof cb !== 'function') throw argError('cb must be a function');
    if (this.#closed) {
      this.#fail(errnoError(EBADF, 'send', to, port, 'socket closed'), cb);
      return;
    }
    if (this.#queue.length > 0) {
      this.#enqueue({ bytes: Uint8Array.prototype.slice.call(msg), port, address: to, from: src, cb });
      return;
    }
    const n = native(() => this.#addon.udpSend(this.#handle, msg, port, to, src));
    if (n >= 0) {
      if (cb) process.nextTick(cb);
    } else if (n === EAGAIN) {
      this.#enqueue({ bytes: Uint8Array.prototype.slice.call(msg), port, address: to, from: src, cb });
    } else {
      this.#fail(errnoError(n, 'send', to, port), cb);
    }
  }

  /** Stops receiving and closes the socket; queued sends fail with EBADF. Idempotent. */
  close(cb?: () => void): void {
    if (this.#closed) {
      if (cb) process.nextTick(cb);
      return;
    }
    this.#closed = true;
    this.#addon.udpClose(this.#handle);
    const q = this.#queue;
    this.#queue = [];
    for (const p of q) this.#fail(errnoError(EBADF, 'send', p.address, p.port, 'socket closed'), p.cb);
    if (cb) this.once('close', cb);
    // The fd is closed in libuv's close callback (the "close callbacks" phase of this turn of the loop),
    // not at once: 'close' waits for the next turn's timers, so the port is free when it fires.
    setTimeout(() => this.emit('close'), 0);
  }

  /** Keeps the event loop alive while open (the default). */
  ref(): this {
    if (!this.#closed) this.#addon.udpRef(this.#handle, true);
    return this;
  }

  /** Lets the process exit while the socket is open. */
  unref(): this {
    if (!this.#closed) this.#addon.udpRef(this.#handle, false);
    return this;
  }

  #enqueue(p: Pending): void {
    if (this.#queue.length >= this.#maxQueue) {
      this.#fail(errnoError(ENOBUFS, 'send', p.address, p.port, 'send queue full'), p.cb);
      return;
    }
    this.#queue.push(p);
    if (this.#queue.length === 1) this.#addon.udpWatchWritable(this.#handle, true);
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const p = this.#queue[0]!;
      let n: number;
      try {
        n = native(() => this.#addon.udpSend(this.#handle, p.bytes, p.port, p.address, p.from));
      } catch (e) {
        this.#queue.shift(); // an address the addon refused (e.g. an unknown %zone): that datagram only
        this.#fail(e as Error, p.cb);
        continue;
      }
      if (n === EAGAIN) return; // still full: wait for the next writable event
      this.#queue.shift();
      if (n >= 0) {
        if (p.cb) process.nextTick(p.cb);
      } else this.#fail(errnoError(n, 'send', p.address, p.port), p.cb);
    }
    if (!this.#closed) this.#addon.udpWatchWritable(this.#handle, false);
  }

  #fail(err: Error, cb: ((err?: Error) => void) | undefined): void {
    if (cb) process.nextTick(cb, err);
    else this.#emitError(err);
  }

  #emitError(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  #onNative(kind: number, args: unknown[]): void {
    if (this.#closed) return;
    if (kind === 0) {
      const [msg, raddr, rport, laddr, replyFrom, ifindex] = args as [Buffer, string, number, string, string | undefined, number];
      const local: LocalInfo = {
        address: laddr,
        replyFrom: replyFrom ?? (laddr === '' || /^ff/i.test(laddr) ? undefined : laddr),
        interfaceIndex: ifindex,
      };
      this.emit('message', msg, { address: raddr, port: rport, family: familyOf(raddr), size: msg.length }, local);
    } else if (kind === 1) {
      const [errno, syscall, address, port] = args as [number, string, string | undefined, number | undefined];
      this.#emitError(errnoError(errno, syscall, address, port));
    } else if (kind === 2) {
      this.#flush();
    }
  }
}
