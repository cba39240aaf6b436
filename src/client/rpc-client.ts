// RpcClient: calls to one server endpoint over TCP, a unix socket or UDP.
//
// Stream transports pipeline: every call gets its own xid and goes out at once; replies are matched by
// xid in any order, a reply to an unknown xid is dropped (counted in `stats.unknownXid`). The socket's
// 'close' handler is the one place in-flight calls are failed (ERR_RPC_CONNECTION_LOST, all at once);
// the next call reconnects. UDP calls are retransmitted with the same xid, the wait doubling until the
// call's deadline (at-least-once); the first reply wins, late duplicates are ignored.
//
// Every call has a deadline (`timeoutMs`, default 25 s as rpcgen's stubs) and may carry an AbortSignal;
// each outcome rejects with one RpcCallError code (see docs/errors.md). The library never logs.

import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { ErrorCodes, RpcCallError } from '../errors.js';
import { accept_stat, reject_stat } from '../rpc/constants.js';
import { readRpcMessage, writeCallHeader } from '../rpc/header.js';
import { AUTH_NONE, type OpaqueAuth, type RpcReply } from '../rpc/messages.js';
import type { CallOptions, ClientOf, Codec, ProgramDescriptor, ReadFn } from '../rpc/program.js';
import { RecordStream, type StreamOptions } from '../transport/stream.js';
import { endpointText, socketPath, type Endpoint } from '../transport/uaddr.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { MAX_BACKOFF_MS, nextWait } from './retransmit.js';

/** Default deadline of a call: 25 s, the TIMEOUT rpcgen's client stubs use. */
export const DEFAULT_CALL_TIMEOUT_MS = 25_000;
/** Default deadline of a TCP or unix connect. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Default first wait before a UDP call is sent again (then doubling, capped at 30 s). */
export const DEFAULT_RETRANSMIT_MS = 1_000;
/** Default largest UDP datagram sent or accepted: libtirpc's UDPMSGSIZE, what a C server reads. */
export const DEFAULT_MAX_DATAGRAM = 8800;

export interface ClientOptions extends StreamOptions {
  /** Credential of every call unless a call gives its own. Default AUTH_NONE. */
  cred?: OpaqueAuth;
  /** Deadline of each call, ms (includes connecting). Default 25 000. */
  timeoutMs?: number;
  /** Deadline of a TCP/unix connect, ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** UDP: first wait before a retransmission, ms (doubles up to `maxRetransmitMs`). Default 1 000. */
  retransmitMs?: number;
  /** UDP: longest wait between retransmissions, ms. Default 30 000 (libtirpc's RPC_MAX_BACKOFF). */
  maxRetransmitMs?: number;
  /** UDP: largest datagram sent or accepted, bytes. Default 8 800 (libtirpc's UDPMSGSIZE). */
  maxDatagramSize?: number;
  /** Local address to bind (e.g. a reserved port for `superuser` registrations). */
  localAddress?: string;
  localPort?: number;
}

/** Counters of one client, for tests and diagnostics. */
export interface ClientStats {
  calls: number;
  /** Replies whose xid matched no call in flight (late duplicates, strays). */
  unknownXid: number;
  /** UDP datagrams sent again. */
  retransmits: number;
  /** Connections made (stream transports). */
  connects: number;
  /** Calls that waited for the socket to drain before being written (backpressure). */
  backpressureWaits: number;
}

interface Pending {
  xid: number;
  read: ReadFn<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** UDP: the datagram, to send again. */
  datagram?: Uint8Array;
  retransmit?: NodeJS.Timeout;
  wait?: number;
}

/** Anything with the [read, write] pair of a procedure's arguments and result. */
export interface ProcedureCodecs<A, R> {
  readonly args: Codec<A>;
  readonly res: Codec<R>;
}

/** A client of one server endpoint. Cheap to create; connects on the first call. */
export class RpcClient {
  readonly endpoint: Endpoint;
  readonly stats: ClientStats = { calls: 0, unknownXid: 0, retransmits: 0, connects: 0, backpressureWaits: 0 };
  readonly #opts: Required<Pick<ClientOptions, 'timeoutMs' | 'connectTimeoutMs' | 'retransmitMs' | 'maxRetransmitMs' | 'maxDatagramSize'>> & ClientOptions;
  readonly #pending = new Map<number, Pending>();
  #xid = randomInt(0, 0xffffffff);
  #cred: OpaqueAuth;
  #closed: RpcCallError | null = null;
  #closing: { resolve: () => void; promise: Promise<void> } | null = null;
  // stream state
  #stream: RecordStream | null = null;
  #connecting: Promise<RecordStream> | null = null;
  /** The socket of #connecting, until it connects or fails: close()/destroy() end the attempt too. */
  #connectingSocket: Socket | null = null;
  #drainWaiters: (() => void)[] = [];
  // datagram state
  #udp: UdpSocket | null = null;
  #udpWriter: XdrWriter | null = null;
  readonly #reader = new XdrReader();

  constructor(endpoint: Endpoint, options: ClientOptions = {}) {
    this.endpoint = endpoint;
    this.#opts = {
      ...options,
      timeoutMs: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      retransmitMs: options.retransmitMs ?? DEFAULT_RETRANSMIT_MS,
      maxRetransmitMs: options.maxRetransmitMs ?? MAX_BACKOFF_MS,
      maxDatagramSize: options.maxDatagramSize ?? DEFAULT_MAX_DATAGRAM,
    };
    this.#cred = options.cred ?? AUTH_NONE;
  }

  /** The credential calls carry unless they give their own. */
  get cred(): OpaqueAuth {
    return this.#cred;
  }
  set cred(c: OpaqueAuth) {
    this.#cred = c;
  }

  /** Calls in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Typed methods for every procedure of a program version (generated or loaded at run time). */
  bind<D extends ProgramDescriptor>(program: D): ClientOf<D> {
    const out: Record<string, (args: unknown, options?: CallOptions) => Promise<unknown>> = {};
    for (const name of Object.keys(program.procs)) {
      const p = program.procs[name]!;
      out[name] = (args, options) => this.call(program.prog, program.vers, p.proc, args, p, options);
    }
    return out as ClientOf<D>;
  }

  /** One call: encodes `args` with `codecs.args`, decodes the result with `codecs.res`. */
  call<A, R>(prog: number, vers: number, proc: number, args: A, codecs: ProcedureCodecs<A, R>, options: CallOptions = {}): Promise<R> {
    const write = codecs.args[1];
    return this.callRaw(prog, vers, proc, (w) => write(w, args), codecs.res[0], options);
  }

  /** One call with the arguments written by `writeArgs` and the result read by `readRes`. */
  callRaw<R>(prog: number, vers: number, proc: number, writeArgs: (w: XdrWriter) => void, readRes: ReadFn<R>, options: CallOptions = {}): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#closed) return reject(this.#closed);
      if (options.signal?.aborted) return reject(aborted(options.signal));
      const xid = this.#nextXid();
      const p: Pending = { xid, read: readRes, resolve: resolve as (v: unknown) => void, reject, timer: undefined, signal: options.signal, onAbort: undefined };
      const timeoutMs = options.timeoutMs ?? this.#opts.timeoutMs;
      p.timer = setTimeout(() => this.#fail(p, new RpcCallError(ErrorCodes.ERR_RPC_TIMEOUT, `no reply within ${timeoutMs} ms`)), timeoutMs);
      if (options.signal) {
        const signal = options.signal;
        p.onAbort = () => this.#fail(p, aborted(signal));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.#pending.set(xid, p);
      this.stats.calls++;
      const header = { xid, prog, vers, proc, cred: options.cred ?? this.#cred, verf: AUTH_NONE };
      const encode = (w: XdrWriter): void => {
        writeCallHeader(w, header);
        writeArgs(w);
      };
      if (this.endpoint.transport === 'udp') this.#sendDatagram(p, encode);
      else this.#sendStream(p, encode);
    });
  }

  /** Stops taking calls, waits for those in flight, then closes the connection. */
  close(): Promise<void> {
    if (!this.#closed) this.#closed = new RpcCallError(ErrorCodes.ERR_RPC_CLOSED, 'the client is closed');
    if (this.#pending.size === 0) {
      this.#teardown();
      return Promise.resolve();
    }
    if (!this.#closing) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.#closing = { resolve, promise };
    }
    return this.#closing.promise;
  }

  /** Fails every call in flight with `err` (default ERR_RPC_CLOSED) and closes the connection now. */
  destroy(err?: unknown): void {
    const e = err ?? new RpcCallError(ErrorCodes.ERR_RPC_CLOSED, 'the client was destroyed');
    this.#closed ??= new RpcCallError(ErrorCodes.ERR_RPC_CLOSED, 'the client was destroyed');
    for (const p of [...this.#pending.values()]) this.#fail(p, e);
    this.#teardown();
  }

  #nextXid(): number {
    do this.#xid = (this.#xid + 1) >>> 0;
    while (this.#pending.has(this.#xid));
    return this.#xid;
  }

  #settle(p: Pending): boolean {
    if (this.#pending.get(p.xid) !== p) return false;
    this.#pending.delete(p.xid);
    clearTimeout(p.timer);
    clearTimeout(p.retransmit);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (this.#closing && this.#pending.size === 0) {
      this.#teardown();
      this.#closing.resolve();
    }
    return true;
  }

  #fail(p: Pending, e: unknown): void {
    if (this.#settle(p)) p.reject(e);
  }

  #teardown(): void {
    this.#stream?.socket.destroy();
    this.#stream = null;
    this.#connectingSocket?.destroy();
    this.#connectingSocket = null;
    this.#udp?.close();
    this.#udp = null;
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }

  // ---- replies ------------------------------------------------------------------------------------

  #onReply(record: Uint8Array): void {
    const r = this.#reader.reset(record);
    let m;
    try {
      m = readRpcMessage(r);
    } catch {
      this.stats.unknownXid++;
      return; // not a reply we can read: no call can be matched to it
    }
    const p = this.#pending.get(m.xid);
    if (!p || m.mtype !== 1) {
      this.stats.unknownXid++;
      return;
    }
    if (!this.#settle(p)) return;
    const outcome = replyOutcome(m);
    if (outcome) return p.reject(outcome);
    try {
      p.resolve(p.read(this.#reader.reset(m.body)));
    } catch (e) {
      p.reject(new RpcCallError(ErrorCodes.ERR_RPC_CANT_DECODE_RES, e instanceof Error ? e.message : String(e), { cause: e }));
    }
  }

  // ---- stream transports ------------------------------------------------------------------------

  #sendStream(p: Pending, encode: (w: XdrWriter) => void): void {
    const go = (stream: RecordStream): void => {
      if (this.#pending.get(p.xid) !== p) return; // timed out or aborted meanwhile
      if (stream.socket.writableNeedDrain) {
        this.stats.backpressureWaits++;
        this.#drainWaiters.push(() => go(stream));
        return;
      }
      if (stream.socket.destroyed) return this.#fail(p, new RpcCallError(ErrorCodes.ERR_RPC_CONNECTION_LOST, 'the connection closed'));
      const w = stream.begin();
      try {
        encode(w);
      } catch (e) {
        return this.#fail(p, e); // XdrEncodeError: nothing was sent
      }
      stream.send();
    };
    if (this.#stream && !this.#stream.socket.destroyed) return go(this.#stream);
    this.#connect().then(go, (e) => this.#fail(p, e));
  }

  #connect(): Promise<RecordStream> {
    if (this.#connecting) return this.#connecting;
    const e = this.endpoint;
    const attempt = new Promise<RecordStream>((resolve, reject) => {
      const socket: Socket =
        e.transport === 'unix'
          ? netConnect({ path: socketPath(e.path) })
          : netConnect({
              host: e.host,
              port: e.port,
              ...(this.#opts.localAddress !== undefined ? { localAddress: this.#opts.localAddress } : {}),
              ...(this.#opts.localPort !== undefined ? { localPort: this.#opts.localPort } : {}),
            });
      socket.setNoDelay?.(true);
      this.#connectingSocket = socket;
      const timer = setTimeout(() => socket.destroy(new RpcCallError(ErrorCodes.ERR_RPC_CANT_CONNECT, `connect to ${endpointText(e)} timed out after ${this.#opts.connectTimeoutMs} ms`)), this.#opts.connectTimeoutMs);
      const stream = new RecordStream(socket, (rec) => this.#onReply(rec), this.#opts);
      let connected = false;
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        if (this.#connectingSocket === socket) this.#connectingSocket = null;
        this.stats.connects++;
        this.#stream = stream;
        this.#connecting = null;
        resolve(stream);
      });
      socket.on('drain', () => {
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w();
      });
      let lastError: Error | undefined;
      socket.on('error', (err) => (lastError = err));
      socket.on('close', () => {
        clearTimeout(timer);
        if (this.#connectingSocket === socket) this.#connectingSocket = null;
        if (!connected) {
          this.#connecting = null;
          reject(lastError instanceof RpcCallError ? lastError : new RpcCallError(ErrorCodes.ERR_RPC_CANT_CONNECT, `${endpointText(e)}: ${errnoText(lastError)}`, { cause: lastError }));
          return;
        }
        if (this.#stream === stream) this.#stream = null;
        // The one place in-flight calls are failed: all at once, with the socket's error as the cause.
        const lost = new RpcCallError(ErrorCodes.ERR_RPC_CONNECTION_LOST, lastError ? errnoText(lastError) : 'the server closed the connection', lastError ? { cause: lastError } : {});
        for (const p of [...this.#pending.values()]) this.#fail(p, lost);
        const waiters = this.#drainWaiters;
        this.#drainWaiters = [];
        for (const w of waiters) w();
      });
    });
    this.#connecting = attempt;
    return attempt;
  }

  // ---- datagrams ------------------------------------------------------------------------------------

  #sendDatagram(p: Pending, encode: (w: XdrWriter) => void): void {
    const e = this.endpoint as { host: string; port: number };
    const w = (this.#udpWriter ??= new XdrWriter({ initialSize: 1024 }));
    w.reset();
    try {
      encode(w);
    } catch (err) {
      return this.#fail(p, err);
    }
    if (w.length > this.#opts.maxDatagramSize) {
      return this.#fail(p, new RpcCallError(ErrorCodes.ERR_RPC_CANT_SEND, `call of ${w.length} bytes exceeds the datagram limit of ${this.#opts.maxDatagramSize}`));
    }
    // dgram keeps a reference until the datagram is sent, and it is sent again on retransmission: a copy.
    p.datagram = w.toBytes();
    const udp = this.#udpSocket(isIP(e.host) === 6 ? 'udp6' : 'udp4');
    const send = (): void => {
      udp.send(p.datagram!, e.port, e.host, (err) => {
        if (err) this.#fail(p, new RpcCallError(ErrorCodes.ERR_RPC_CANT_SEND, errnoText(err), { cause: err }));
      });
    };
    p.wait = this.#opts.retransmitMs;
    const arm = (): void => {
      p.retransmit = setTimeout(() => {
        if (this.#pending.get(p.xid) !== p) return;
        this.stats.retransmits++;
        send();
        p.wait = nextWait(p.wait!, this.#opts.maxRetransmitMs);
        arm();
      }, p.wait);
    };
    send();
    arm();
  }

  #udpSocket(type: 'udp4' | 'udp6'): UdpSocket {
    if (this.#udp) return this.#udp;
    const udp = createSocket(type);
    if (this.#opts.localPort || this.#opts.localAddress) udp.bind({ port: this.#opts.localPort ?? 0, ...(this.#opts.localAddress ? { address: this.#opts.localAddress } : {}) });
    udp.on('message', (msg) => {
      if (msg.length > this.#opts.maxDatagramSize) return; // as a C client with a UDPMSGSIZE buffer: unreadable
      this.#onReply(msg);
    });
    udp.on('error', (err) => {
      const e = new RpcCallError(ErrorCodes.ERR_RPC_CONNECTION_LOST, errnoText(err), { cause: err });
      for (const p of [...this.#pending.values()]) this.#fail(p, e);
      if (this.#udp === udp) this.#udp = null;
      udp.close();
    });
    this.#udp = udp;
    return udp;
  }
}

/** The error a reply stands for, or null for SUCCESS. */
export function replyOutcome(m: RpcReply): RpcCallError | null {
  if (m.stat === 0) {
    switch (m.acceptStat) {
      case accept_stat.SUCCESS:
        return null;
      case accept_stat.PROG_UNAVAIL:
        return new RpcCallError(ErrorCodes.ERR_RPC_PROG_UNAVAIL, '');
      case accept_stat.PROG_MISMATCH:
        return new RpcCallError(ErrorCodes.ERR_RPC_PROG_MISMATCH, '', { low: m.low, high: m.high });
      case accept_stat.PROC_UNAVAIL:
        return new RpcCallError(ErrorCodes.ERR_RPC_PROC_UNAVAIL, '');
      case accept_stat.GARBAGE_ARGS:
        return new RpcCallError(ErrorCodes.ERR_RPC_GARBAGE_ARGS, '');
      default:
        return new RpcCallError(ErrorCodes.ERR_RPC_SYSTEM_ERR, '');
    }
  }
  if (m.rejectStat === reject_stat.RPC_MISMATCH) return new RpcCallError(ErrorCodes.ERR_RPC_VERSION_MISMATCH, '', { low: m.low, high: m.high });
  return new RpcCallError(ErrorCodes.ERR_RPC_AUTH, '', { authStat: m.authStat });
}

function aborted(signal: AbortSignal): RpcCallError {
  return new RpcCallError(ErrorCodes.ERR_RPC_ABORTED, 'the call was aborted', { cause: signal.reason });
}

/** `connect ECONNREFUSED 127.0.0.1:9` → `Connection refused`-style text, as libtirpc's `errno = %s`. */
export function errnoText(err: unknown): string {
  const code = (err as { code?: string } | undefined)?.code;
  const texts: Record<string, string> = {
    ECONNREFUSED: 'Connection refused',
    ECONNRESET: 'Connection reset by peer',
    ENOENT: 'No such file or directory',
    EHOSTUNREACH: 'No route to host',
    ENETUNREACH: 'Network is unreachable',
    ETIMEDOUT: 'Connection timed out',
    EPIPE: 'Broken pipe',
    EACCES: 'Permission denied',
    EADDRNOTAVAIL: 'Cannot assign requested address',
    ENOTFOUND: 'Unknown host',
    EAI_AGAIN: 'Unknown host',
  };
  if (code && texts[code]) return texts[code]!;
  return err instanceof Error ? err.message : String(err ?? 'unknown error');
}

