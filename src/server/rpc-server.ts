// RpcServer: serves program versions (generated modules or .x loaded at run time) over TCP, UDP and
// unix sockets, answering bad calls byte for byte as a libtirpc server does.
//
// Dispatch follows libtirpc's svc_getreq_common: a message that is not a valid RPC v2 call (bad header,
// credential over 400 bytes, rpcvers ≠ 2, a REPLY) gets no answer, and on a stream the connection is
// closed; then the credential is checked (AUTH_NONE and AUTH_SYS accepted; AUTH_SHORT and unknown
// flavors → AUTH_REJECTEDCRED, malformed AUTH_SYS and RPCSEC_GSS → AUTH_BADCRED, AUTH_DH → AUTH_FAILED),
// then the program (PROG_UNAVAIL), the version (PROG_MISMATCH with the lowest and highest version
// served), the procedure (PROC_UNAVAIL; procedure 0 is answered with void when the .x does not declare
// it, as rpcgen's dispatch does), and last the arguments (GARBAGE_ARGS). A handler that throws gets
// SYSTEM_ERR, unless it throws RpcReject with a status of its choice.
//
// Every limit is an option with a documented default (ServerOptions). Calls on a connection are
// orphaned (their signal aborts, their answer is dropped) when the connection closes, when the
// server's call deadline passes, or on destroy(). The library never logs: it publishes on
// diagnostics_channel (`oncrpc:server:*`) and counts in `stats`.

import { channel } from 'node:diagnostics_channel';
import { createSocket } from 'node:dgram';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, isIP, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { ErrorCodes, RpcReject } from '../errors.js';
import { readAuthSys, type AuthSysParms } from '../rpc/auth-sys.js';
import { accept_stat, auth_flavor, auth_stat, reject_stat, RPC_VERSION } from '../rpc/constants.js';
import { readRpcMessage, writeReplyHeader, type ReplyHeader } from '../rpc/header.js';
import { AUTH_NONE, type RpcCall } from '../rpc/messages.js';
import { findProcedure, readVoid, writeVoid, type CallContext, type CallPeer, type HandlersOf, type ProcedureDescriptor, type ProgramDescriptor } from '../rpc/program.js';
import { nativeAvailable, peerCredentials, PktinfoUdpSocket, socketInfo } from '../transport/native.js';
import { RecordStream, type StreamOptions } from '../transport/stream.js';
import { socketPath, type Endpoint } from '../transport/uaddr.js';
import type { DecodeLimits } from '../xdr/limits.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { ReplyCache, type ReplyCacheOptions } from './reply-cache.js';

/** Default most simultaneous stream connections. */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default most calls running at once on one connection (then the server stops reading it). */
export const DEFAULT_MAX_CALLS_PER_CONNECTION = 64;
/** Default most calls running at once in the whole server. */
export const DEFAULT_MAX_CALLS = 4096;
/** Default largest record accepted on a stream: 1 MiB of arguments and then some. */
export const DEFAULT_SERVER_MAX_RECORD = 4 * 1024 * 1024;
/** Default largest UDP reply: libtirpc's UDPMSGSIZE (a larger one gets SYSTEM_ERR, as from a C server). */
export const DEFAULT_SERVER_MAX_DATAGRAM = 8800;

export interface ServerOptions extends StreamOptions {
  /** Most simultaneous stream connections; more are closed at once (or see evictIdleAtCap). Default 1024. */
  maxConnections?: number;
  /**
   * At maxConnections, close the connection that has been idle longest (no call in progress) to make
   * room for the new one, instead of refusing the new one (an idle-connection flood then cannot lock
   * clients out; CVE-2021-46828). Default false.
   */
  evictIdleAtCap?: boolean;
  /**
   * The largest UDP reply a caller may get, given the request's size (e.g. the request's size for
   * non-loopback callers, against amplification); undefined: no limit but maxDatagramSize. Replies over
   * it are not sent (counted in stats.amplificationDrops).
   */
  limitDatagramReply?: (peer: CallPeer, requestBytes: number) => number | undefined;
  /** Most calls in progress per connection; at the cap the server stops reading it. Default 64. */
  maxCallsPerConnection?: number;
  /** Most calls in progress in total; at the cap connections stop being read and datagrams are dropped. Default 4096. */
  maxCalls?: number;
  /** Close a connection idle (no call in progress, nothing received) this long, ms. 0 (default) never, as libtirpc. */
  idleTimeoutMs?: number;
  /** Orphan a call still running after this long, ms (its signal aborts, no reply). 0 (default): no deadline. */
  callTimeoutMs?: number;
  /** Largest UDP reply, bytes. Default 8800. */
  maxDatagramSize?: number;
  /**
   * Answer each UDP call from the address it was sent to, as libtirpc servers do (needs the native
   * addon; without it replies leave from the kernel's choice). Default true.
   */
  replyFromDestination?: boolean;
  /** How long close() lets peers close their side after the server ended its own, ms, before destroying. Default 5000. */
  closeTimeoutMs?: number;
  /** Enables the duplicate-request cache (at-most-once): `true` for the defaults, or its bounds. */
  replyCache?: boolean | ReplyCacheOptions;
  /**
   * Sees every call whose credential passed the flavor checks, before dispatch; returns an auth_stat to
   * refuse it (MSG_DENIED AUTH_ERROR), or 0/undefined to let it through.
   */
  authenticate?: (ctx: CallContext) => number | undefined | void | Promise<number | undefined | void>;
  /** Limits for decoding arguments (strings, opaques, arrays, depth), checked before allocation. Default: oncrpc/xdr's DEFAULT_LIMITS. */
  decodeLimits?: DecodeLimits;
  /**
   * Sees every call to a program version the server serves, before its arguments are decoded (for
   * statistics and request logs; rpcbind counts calls this way).
   */
  observe?: (call: { prog: number; vers: number; proc: number; peer: CallPeer }) => void;
  /**
   * The uid, gid and pid of a unix-socket peer (SO_PEERCRED); its uid becomes `ctx.peer.uid`. Default:
   * the native addon's `peerCredentials` (undefined without the addon: Node has no API for it).
   */
  peerCredentials?: (socket: Socket) => { uid: number; gid: number; pid: number } | undefined;
}

/** A handler returns this to send no reply at all (rpcbind's CALLIT without -r, broadcast silence). */
export const NO_REPLY: unique symbol = Symbol.for('oncrpc.noReply');

/** Where to listen. Host defaults to `::` (IPv4 and IPv6), port to 0 (an ephemeral port). */
export type ListenOptions = { transport: 'tcp' | 'udp'; host?: string; port?: number } | { transport: 'unix'; path: string; /** File mode of the socket (e.g. 0o666 as rpcbind's). */ mode?: number };

/** Counters of one server. */
export interface ServerStats {
  calls: number;
  replies: number;
  /** Messages that were not valid calls (no reply sent). */
  garbage: number;
  /** Handlers that threw something other than RpcReject (SYSTEM_ERR sent). */
  handlerErrors: number;
  /** Calls whose answer was dropped because they were orphaned. */
  orphans: number;
  /** Connections refused by maxConnections. */
  refusedConnections: number;
  /** Datagrams dropped at the maxCalls cap. */
  droppedDatagrams: number;
  /** Idle connections closed to make room at maxConnections (evictIdleAtCap). */
  evictedConnections: number;
  /** UDP replies not sent because limitDatagramReply refused their size. */
  amplificationDrops: number;
}

const diag = {
  garbage: channel('oncrpc:server:garbage'),
  handlerError: channel('oncrpc:server:handler-error'),
  connection: channel('oncrpc:server:connection'),
};

interface Version {
  program: ProgramDescriptor;
  handlers: Record<string, ((args: unknown, ctx: CallContext) => unknown) | undefined>;
}

/** One stream connection's state. */
interface Conn {
  stream: RecordStream;
  peer: CallPeer;
  /** Address of the caller for the reply cache (no port: a retransmission may come on a new connection). */
  caller: string;
  running: CallList;
  backlog: Uint8Array[];
  paused: boolean;
  idle: NodeJS.Timeout | undefined;
  /** When a record last arrived (ms), for evicting the longest-idle connection. */
  lastActive: number;
  /** Where its replies go, and what runs when one of its calls finishes (made once per connection). */
  sink: Sink;
  done: () => void;
}

/** A reply to send: where and how. */
interface Sink {
  send(build: (w: XdrWriter) => void): void;
  sendBytes(bytes: Uint8Array): void;
  /** Still able to deliver (the connection is open). */
  readonly live: boolean;
  /** Largest reply the transport carries (datagrams). */
  readonly maxReply?: number;
  /** Over maxReply: send nothing (amplification limit) instead of SYSTEM_ERR. */
  readonly dropOversize?: boolean;
}

export class RpcServer {
  readonly stats: ServerStats = { calls: 0, replies: 0, garbage: 0, handlerErrors: 0, orphans: 0, refusedConnections: 0, droppedDatagrams: 0, evictedConnections: 0, amplificationDrops: 0 };
  readonly cache: ReplyCache | null;
  readonly #opts: ServerOptions & { maxConnections: number; maxCallsPerConnection: number; maxCalls: number; maxDatagramSize: number };
  /** prog → vers → version. */
  readonly #programs = new Map<number, Map<number, Version>>();
  readonly #netServers: NetServer[] = [];
  readonly #udpSockets: { close(cb?: () => void): void }[] = [];
  readonly #conns = new Set<Conn>();
  readonly #endpoints: Endpoint[] = [];
  readonly #closeHooks: (() => Promise<void> | void)[] = [];
  readonly #allRunning = new CallList(1);
  readonly #reader = new XdrReader();
  /** Decodes every call's arguments (synchronously: decoders do not keep the reader). */
  readonly #argsReader: XdrReader;
  readonly #scratch = new XdrWriter({ initialSize: 1024 });
  #closing: Promise<void> | null = null;
  #destroyed = false;

  constructor(options: ServerOptions = {}) {
    this.#opts = {
      ...options,
      maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
      maxCallsPerConnection: options.maxCallsPerConnection ?? DEFAULT_MAX_CALLS_PER_CONNECTION,
      maxCalls: options.maxCalls ?? DEFAULT_MAX_CALLS,
      maxDatagramSize: options.maxDatagramSize ?? DEFAULT_SERVER_MAX_DATAGRAM,
      maxRecordSize: options.maxRecordSize ?? DEFAULT_SERVER_MAX_RECORD,
    };
    const rc = options.replyCache;
    this.cache = rc ? new ReplyCache(rc === true ? {} : rc) : null;
    this.#argsReader = new XdrReader(undefined, 0, undefined, options.decodeLimits);
  }

  /** Serves one program version with these handlers (a procedure without a handler answers PROC_UNAVAIL). */
  addProgram<D extends ProgramDescriptor>(program: D, handlers: Partial<HandlersOf<D>>): this {
    let versions = this.#programs.get(program.prog);
    if (!versions) this.#programs.set(program.prog, (versions = new Map()));
    versions.set(program.vers, { program, handlers: handlers as Version['handlers'] });
    return this;
  }

  /** The program versions served, as (prog, vers) pairs. */
  get programs(): { prog: number; vers: number; name: string; version: string }[] {
    const out = [];
    for (const versions of this.#programs.values()) for (const v of versions.values()) out.push({ prog: v.program.prog, vers: v.program.vers, name: v.program.name, version: v.program.version });
    return out;
  }

  /** Where the server listens (ports resolved). */
  get endpoints(): readonly Endpoint[] {
    return this.#endpoints;
  }

  /** Runs `hook` at the start of close() (e.g. unregistering from rpcbind), before connections close. */
  onClose(hook: () => Promise<void> | void): void {
    this.#closeHooks.push(hook);
  }

  /** Starts listening; resolves with the endpoint (port 0 → the chosen port). */
  async listen(where: ListenOptions): Promise<Endpoint> {
    if (this.#closing || this.#destroyed) throw new Error('the server is closed');
    let endpoint: Endpoint;
    if (where.transport === 'udp') endpoint = await this.#listenUdp(where.host ?? '::', where.port ?? 0);
    else endpoint = await this.#listenStream(where);
    this.#endpoints.push(endpoint);
    return endpoint;
  }

  /**
   * Serves on a socket inherited as a file descriptor — systemd socket activation (LISTEN_FDS), as
   * rpcbind.socket hands rpcbind its sockets: a listening TCP or unix stream socket, or a bound UDP
   * socket (the latter needs the native addon). Resolves with its endpoint.
   */
  async listenFd(fd: number): Promise<Endpoint> {
    if (this.#closing || this.#destroyed) throw new Error('the server is closed');
    const info = socketInfo(fd);
    let endpoint: Endpoint;
    if (info.type === 'dgram') {
      const sock = PktinfoUdpSocket.adopt(fd);
      endpoint = this.#serveUdp(sock);
    } else if (info.type === 'stream') {
      const server = createServer({ noDelay: true });
      this.#netServers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ fd }, () => {
          server.off('error', reject);
          server.on('error', () => {});
          resolve();
        });
      });
      const a = server.address();
      const where: ListenOptions = typeof a === 'string' || info.family === 1 ? { transport: 'unix', path: String(a ?? '') } : { transport: 'tcp', host: (a as AddressInfo).address, port: (a as AddressInfo).port };
      server.on('connection', (socket) => this.#accept(socket, where));
      endpoint = where.transport === 'unix' ? { transport: 'unix', path: where.path } : { transport: 'tcp', host: where.host!, port: where.port! };
    } else throw new Error(`fd ${fd} is not a stream or datagram socket`);
    this.#endpoints.push(endpoint);
    return endpoint;
  }

  /** Stops accepting, runs the close hooks, lets calls in progress finish and answer, then closes. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const hook of this.#closeHooks) {
        try {
          await hook();
        } catch {
          // a failing hook (rpcbind gone) must not keep the server open
        }
      }
      // Stop accepting (net.Server.close's callback waits for every connection: not awaited here).
      const stopped = Promise.all(this.#netServers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      while (this.#allRunning.size > 0 && !this.#destroyed) await new Promise((r) => setTimeout(r, 5));
      const udpClosed = Promise.all(this.#udpSockets.map((u) => new Promise<void>((r) => u.close(() => r()))));
      for (const c of this.#conns) c.stream.socket.end();
      // A peer that never closes its side must not hold close() forever.
      const linger = setTimeout(() => {
        for (const c of this.#conns) c.stream.socket.destroy();
      }, this.#opts.closeTimeoutMs ?? 5000);
      linger.unref();
      await Promise.all([...this.#conns].map((c) => new Promise<void>((r) => (c.stream.socket.destroyed ? r() : c.stream.socket.once('close', () => r())))));
      clearTimeout(linger);
      await Promise.all([stopped, udpClosed]);
    })();
    return this.#closing;
  }

  /** Orphans every call in progress and closes every socket now. */
  destroy(err?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    for (const c of this.#allRunning.toArray()) c.abort(err ?? new Error('server destroyed'));
    for (const s of this.#netServers) s.close();
    for (const u of this.#udpSockets) {
      try {
        u.close();
      } catch {
        // already closed
      }
    }
    for (const c of this.#conns) c.stream.socket.destroy();
  }

  // ---- listening ----------------------------------------------------------------------------------

  #listenStream(where: ListenOptions): Promise<Endpoint> {
    const server = createServer({ noDelay: true }, (socket) => this.#accept(socket, where));
    this.#netServers.push(server);
    return new Promise<Endpoint>((resolve, reject) => {
      server.once('error', reject);
      const done = (): void => {
        server.off('error', reject);
        server.on('error', () => {}); // accept errors (EMFILE…) must not crash the process
        if (where.transport === 'unix') return resolve({ transport: 'unix', path: where.path });
        const a = server.address() as AddressInfo;
        resolve({ transport: 'tcp', host: a.address, port: a.port });
      };
      if (where.transport === 'unix') {
        if (!where.path.startsWith('@')) removeStaleSocket(where.path);
        server.listen(socketPath(where.path), () => {
          if (where.mode !== undefined && !where.path.startsWith('@')) chmodSync(where.path, where.mode);
          done();
        });
      } else server.listen({ host: where.host ?? '::', port: where.port ?? 0, ipv6Only: false }, done);
    });
  }

  #accept(socket: Socket, where: ListenOptions): void {
    if (!this.#closing && !this.#destroyed && this.#conns.size >= this.#opts.maxConnections && this.#opts.evictIdleAtCap) {
      let oldest: Conn | undefined;
      for (const c of this.#conns) if (c.running.size === 0 && c.backlog.length === 0 && (!oldest || c.lastActive < oldest.lastActive)) oldest = c;
      if (oldest) {
        this.stats.evictedConnections++;
        this.#conns.delete(oldest);
        oldest.stream.socket.destroy();
      }
    }
    if (this.#closing || this.#destroyed || this.#conns.size >= this.#opts.maxConnections) {
      this.stats.refusedConnections++;
      socket.destroy();
      return;
    }
    const cred = where.transport === 'unix' ? (this.#opts.peerCredentials ?? peerCredentials)(socket) : undefined;
    const peer: CallPeer =
      where.transport === 'unix'
        ? { netid: 'local', address: where.path, port: 0, ...(cred ? { uid: cred.uid } : {}) }
        : { netid: isIP(plainAddress(socket.localAddress ?? '')) === 6 ? 'tcp6' : 'tcp', address: plainAddress(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    const conn: Conn = {
      stream: undefined as unknown as RecordStream,
      peer,
      caller: `${peer.netid}:${peer.address}`,
      running: new CallList(0),
      backlog: [],
      paused: false,
      idle: undefined,
      lastActive: Date.now(),
      sink: undefined as unknown as Sink,
      done: () => this.#drainBacklog(conn),
    };
    conn.stream = new RecordStream(socket, (rec) => this.#onRecord(conn, rec), this.#opts);
    conn.sink = new StreamSink(conn.stream);
    this.#conns.add(conn);
    socket.on('error', () => {}); // 'close' follows; errors are the peer's business
    socket.on('drain', () => this.#drainBacklog(conn));
    socket.on('close', () => {
      this.#conns.delete(conn);
      clearTimeout(conn.idle);
      // Orphans by extermination: the caller is gone, so is any use for the answers.
      for (const c of conn.running.toArray()) c.abort(new Error('the connection closed'));
      diag.connection.publish({ event: 'close', peer });
    });
    this.#armIdle(conn);
    diag.connection.publish({ event: 'open', peer });
  }

  #armIdle(conn: Conn): void {
    const ms = this.#opts.idleTimeoutMs ?? 0;
    if (!(ms > 0)) return;
    clearTimeout(conn.idle);
    conn.idle = setTimeout(() => {
      if (conn.running.size === 0) conn.stream.socket.destroy();
    }, ms);
    conn.idle.unref();
  }

  #onRecord(conn: Conn, record: Uint8Array): void {
    // Closed for an earlier record of the same read (not an RPC call): later records are not looked at,
    // as libtirpc reads nothing more from a connection it closes (rpcbind's GETSTAT does not count them).
    if (conn.stream.socket.destroyed) return;
    conn.lastActive = Date.now();
    this.#armIdle(conn);
    if (conn.running.size >= this.#opts.maxCallsPerConnection || this.#allRunning.size >= this.#opts.maxCalls || conn.backlog.length > 0 || conn.stream.socket.writableNeedDrain) {
      // At a cap, or the peer is not reading its replies: hold the record and stop reading until calls
      // finish and replies drain (backpressure on the caller; a peer that never reads cannot make the
      // server queue replies without bound).
      conn.backlog.push(record);
      if (!conn.paused) {
        conn.paused = true;
        conn.stream.socket.pause();
      }
      return;
    }
    this.#handleStream(conn, record);
  }

  #handleStream(conn: Conn, record: Uint8Array): void {
    const ok = this.#handle(record, conn.peer, conn.caller, conn.sink, conn.running, conn.done);
    if (!ok) conn.stream.socket.destroy(); // not an RPC v2 call: libtirpc closes the connection
  }

  #drainBacklog(conn: Conn): void {
    while (conn.backlog.length > 0 && conn.running.size < this.#opts.maxCallsPerConnection && this.#allRunning.size < this.#opts.maxCalls && !conn.stream.socket.writableNeedDrain) {
      if (conn.stream.socket.destroyed) return;
      this.#handleStream(conn, conn.backlog.shift()!);
    }
    if (conn.backlog.length === 0 && conn.paused && !conn.stream.socket.destroyed && !conn.stream.socket.writableNeedDrain) {
      conn.paused = false;
      conn.stream.socket.resume();
    }
    // Other connections may be waiting on the server-wide cap.
    if (this.#allRunning.size < this.#opts.maxCalls) {
      for (const other of this.#conns) if (other !== conn && other.paused && other.running.size < this.#opts.maxCallsPerConnection) this.#drainBacklog(other);
    }
  }

  async #listenUdp(host: string, port: number): Promise<Endpoint> {
    // Answer from the address each datagram was sent to, as libtirpc servers do (the native addon's
    // IP_PKTINFO socket); without the addon, Node's dgram (replies leave from the kernel's choice).
    if (this.#opts.replyFromDestination !== false && nativeAvailable()) return this.#serveUdp(await PktinfoUdpSocket.bind({ host, port }));
    const writer = new XdrWriter({ initialSize: 1024 });
    const family = isIP(host) === 4 ? 'udp4' : 'udp6';
    const udp = createSocket({ type: family, ipv6Only: false });
    this.#udpSockets.push(udp);
    // dgram keeps a reference to what it sends until it is sent: copies, the writer is reused.
    const send = (bytes: Uint8Array, to: { address: string; port: number }): void => udp.send(bytes, to.port, to.address, () => {});
    udp.on('message', (msg, rinfo) => this.#onDatagram(send, true, writer, msg, rinfo, undefined));
    udp.on('error', () => {}); // ICMP errors etc. concern one peer only
    return new Promise<Endpoint>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind({ address: host, port }, () => {
        udp.off('error', reject);
        const a = udp.address();
        resolve({ transport: 'udp', host: a.address, port: a.port });
      });
    });
  }

  /** Serves calls on a native UDP socket (answers leave from each datagram's destination address). */
  #serveUdp(sock: PktinfoUdpSocket): Endpoint {
    const writer = new XdrWriter({ initialSize: 1024 });
    this.#udpSockets.push(sock);
    sock.on('error', () => {}); // ICMP errors etc. concern one peer only
    // The kernel copies what sendmsg is given (the addon queues a copy if the socket is full): the
    // writer's bytes can be sent as they are.
    const send = (bytes: Uint8Array, to: { address: string; port: number }, from: string | undefined): void => sock.send(bytes, to.port, to.address, from, () => {});
    sock.on('message', (msg, rinfo, local) => this.#onDatagram(send, false, writer, msg, rinfo, local.replyFrom));
    const a = sock.address();
    return { transport: 'udp', host: a.address, port: a.port };
  }

  #onDatagram(
    send: (bytes: Uint8Array, to: { address: string; port: number }, from: string | undefined) => void,
    mustCopy: boolean,
    writer: XdrWriter,
    msg: Buffer,
    rinfo: { address: string; port: number },
    replyFrom: string | undefined,
  ): void {
    if (this.#closing || this.#destroyed) return;
    if (this.#allRunning.size >= this.#opts.maxCalls) {
      this.stats.droppedDatagrams++; // the client retransmits
      return;
    }
    const address = plainAddress(rinfo.address);
    const peer: CallPeer = { netid: isIP(address) === 6 ? 'udp6' : 'udp', address, port: rinfo.port };
    const limit = this.#opts.limitDatagramReply?.(peer, msg.length);
    const max = limit !== undefined ? Math.min(limit, this.#opts.maxDatagramSize) : this.#opts.maxDatagramSize;
    const sink: Sink = {
      live: true,
      maxReply: max,
      ...(limit !== undefined ? { dropOversize: true } : {}),
      send: (build) => {
        writer.reset();
        build(writer);
        send(mustCopy ? writer.toBytes() : writer.finish(), rinfo, replyFrom);
      },
      sendBytes: (bytes) => send(bytes, rinfo, replyFrom),
    };
    // The caller's key is for the reply cache only.
    this.#handle(msg, peer, this.cache ? `${peer.netid}:${address}:${rinfo.port}` : '', sink, null, () => {});
  }

  // ---- dispatch -----------------------------------------------------------------------------------

  /**
   * Handles one message. Returns false when it is not an RPC v2 call (the caller closes a stream);
   * `running` is the connection's set of calls in progress, `done` runs when a call finishes.
   */
  #handle(bytes: Uint8Array, peer: CallPeer, caller: string, sink: Sink, running: CallList | null, done: () => void): boolean {
    let call: RpcCall;
    try {
      const m = readRpcMessage(this.#reader.reset(bytes));
      if (m.mtype !== 0 || m.rpcvers !== RPC_VERSION) throw new Error(m.mtype !== 0 ? 'a reply sent to a server' : `rpcvers ${m.rpcvers}`);
      call = m;
    } catch (e) {
      this.stats.garbage++;
      diag.garbage.publish({ peer, error: e });
      return false;
    }
    this.stats.calls++;
    const xid = call.xid;
    const accepted = (acceptStat: 0 | 1 | 3 | 4 | 5): ReplyHeader => ({ xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat });
    const denied = (authStat: number): ReplyHeader => ({ xid, mtype: 1, stat: 1, rejectStat: reject_stat.AUTH_ERROR, authStat });
    const replyHeader = (h: ReplyHeader): void => {
      this.stats.replies++;
      sink.send((w) => writeReplyHeader(w, h));
    };

    // Credential flavors, as libtirpc's _authenticate.
    let authSys: AuthSysParms | undefined;
    switch (call.cred.flavor) {
      case auth_flavor.AUTH_NONE:
        break;
      case auth_flavor.AUTH_SYS:
        try {
          authSys = readAuthSys(new XdrReader(call.cred.body));
        } catch {
          replyHeader(denied(auth_stat.AUTH_BADCRED));
          return true;
        }
        break;
      case auth_flavor.AUTH_DH:
        replyHeader(denied(auth_stat.AUTH_FAILED));
        return true;
      case auth_flavor.RPCSEC_GSS:
        replyHeader(denied(auth_stat.AUTH_BADCRED));
        return true;
      default: // AUTH_SHORT (we never hand one out) and unknown flavors
        replyHeader(denied(auth_stat.AUTH_REJECTEDCRED));
        return true;
    }

    // Program, version, procedure.
    const versions = this.#programs.get(call.prog);
    if (!versions) {
      replyHeader(accepted(accept_stat.PROG_UNAVAIL));
      return true;
    }
    const version = versions.get(call.vers);
    if (!version) {
      let low = 0xffffffff;
      let high = 0;
      for (const v of versions.keys()) {
        if (v < low) low = v;
        if (v > high) high = v;
      }
      replyHeader({ xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: accept_stat.PROG_MISMATCH, low, high });
      return true;
    }
    this.#opts.observe?.({ prog: call.prog, vers: call.vers, proc: call.proc, peer });
    let proc: ProcedureDescriptor | undefined = findProcedure(version.program, call.proc);
    let handler = proc ? version.handlers[proc.name] : undefined;
    if (!proc && call.proc === 0) {
      proc = NULL_PROC;
      handler = () => undefined;
    }
    if (!proc || !handler) {
      replyHeader(accepted(accept_stat.PROC_UNAVAIL));
      return true;
    }

    // At-most-once: a retransmission of a finished call gets its reply again; of a running one, nothing.
    const cache = this.cache;
    const key = cache ? ReplyCache.key(caller, xid, call.prog, call.vers, call.proc, call.body) : '';
    if (cache) {
      const hit = cache.begin(key);
      if (hit.state === 'running') return true;
      if (hit.state === 'done') {
        this.stats.replies++;
        sink.sendBytes(hit.reply);
        return true;
      }
    }

    let args: unknown;
    try {
      args = proc.args[0](this.#argsReader.reset(call.body));
    } catch {
      this.#answer(sink, key, xid, (w) => writeReplyHeader(w, accepted(accept_stat.GARBAGE_ARGS)));
      return true;
    }

    const pending = new PendingCall();
    const ctx: CallContext = new ServerCallContext(call, peer, authSys, pending);
    running?.add(pending);
    this.#allRunning.add(pending);
    const deadline = this.#opts.callTimeoutMs;
    const timer = deadline && deadline > 0 ? setTimeout(() => pending.abort(new Error(`the call ran over ${deadline} ms`)), deadline) : undefined;
    const finish = (build: ((w: XdrWriter) => void) | null): void => {
      clearTimeout(timer);
      running?.delete(pending);
      this.#allRunning.delete(pending);
      if (pending.aborted || !sink.live) {
        this.stats.orphans++;
        if (cache) cache.abandon(key);
      } else if (build) this.#answer(sink, key, xid, build);
      else if (cache) cache.abandon(key);
      done();
    };
    const res = proc.res[1];
    const succeed = (result: unknown): void =>
      result === NO_REPLY
        ? finish(null)
        : finish((w) => {
        writeReplyHeader(w, accepted(accept_stat.SUCCESS));
        res(w, result);
      });
    const refuse = (e: unknown): void => {
      if (e instanceof RpcReject || (e as { code?: string })?.code === ErrorCodes.ERR_RPC_REJECT) {
        const r = e as RpcReject;
        finish((w) =>
          writeReplyHeader(
            w,
            r.authStat !== undefined
              ? denied(r.authStat)
              : r.acceptStat === accept_stat.PROG_MISMATCH
                ? { xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: accept_stat.PROG_MISMATCH, low: r.low!, high: r.high! }
                : accepted(r.acceptStat as 1 | 3 | 4 | 5),
          ),
        );
        return;
      }
      this.stats.handlerErrors++;
      diag.handlerError.publish({ peer, prog: call.prog, vers: call.vers, proc: call.proc, error: e });
      finish((w) => writeReplyHeader(w, accepted(accept_stat.SYSTEM_ERR)));
    };
    const run = (): void => {
      let out: unknown;
      try {
        out = handler!(args, ctx);
      } catch (e) {
        return refuse(e);
      }
      if (out instanceof Promise || (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function')) (out as Promise<unknown>).then(succeed, refuse);
      else succeed(out);
    };
    const auth = this.#opts.authenticate;
    if (!auth) {
      run();
      return true;
    }
    Promise.resolve()
      .then(() => auth(ctx))
      .then((stat) => (stat ? finish((w) => writeReplyHeader(w, denied(stat))) : run()), refuse);
    return true;
  }

  /** Sends a reply built by `build`, caching its bytes when the reply cache is on. Encoding errors → SYSTEM_ERR. */
  #answer(sink: Sink, key: string, xid: number, build: (w: XdrWriter) => void): void {
    if (!key && sink.maxReply === undefined) {
      // Streams without the cache: encode straight into the connection's writer, one write, no copy.
      try {
        sink.send(build);
      } catch (e) {
        this.stats.handlerErrors++;
        diag.handlerError.publish({ xid, error: e });
        sink.send((w) => writeReplyHeader(w, { xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: accept_stat.SYSTEM_ERR }));
      }
      this.stats.replies++;
      return;
    }
    const w = this.#scratch;
    w.reset();
    let bytes: Uint8Array;
    try {
      build(w);
      bytes = w.finish();
      const maxReply = sink.maxReply;
      if (maxReply !== undefined && bytes.length > maxReply) {
        if (sink.dropOversize) {
          this.stats.amplificationDrops++;
          if (this.cache && key) this.cache.abandon(key);
          return;
        }
        throw new Error(`reply of ${bytes.length} bytes exceeds the datagram limit of ${maxReply}`);
      }
    } catch (e) {
      // The result does not fit its type (the handler's bug) or the datagram: SYSTEM_ERR, as libtirpc
      // answers when svc_sendreply fails (after a truncated reply on TCP; we send only the SYSTEM_ERR).
      this.stats.handlerErrors++;
      diag.handlerError.publish({ xid, error: e });
      w.reset();
      writeReplyHeader(w, { xid, mtype: 1, stat: 0, verf: AUTH_NONE, acceptStat: accept_stat.SYSTEM_ERR });
      bytes = w.finish();
    }
    const copy = bytes.slice();
    if (this.cache && key) this.cache.finish(key, copy);
    this.stats.replies++;
    sink.sendBytes(copy);
  }
}

/** A connection's replies: one write each, nothing once the socket is destroyed (a class: no getter in a literal, see ServerCallContext). */
class StreamSink implements Sink {
  readonly #stream: RecordStream;

  constructor(stream: RecordStream) {
    this.#stream = stream;
  }

  get live(): boolean {
    return !this.#stream.socket.destroyed;
  }

  send(build: (w: XdrWriter) => void): void {
    if (this.#stream.socket.destroyed) return;
    build(this.#stream.begin());
    this.#stream.send();
  }

  sendBytes(bytes: Uint8Array): void {
    if (this.#stream.socket.destroyed) return;
    this.#stream.begin().writeRaw(bytes);
    this.#stream.send();
  }
}

/**
 * The context a handler gets. `signal` is a getter on the prototype, so that every context has the same
 * hidden class: a getter in an object literal gives each object its own map, and those maps (old space)
 * kept each call's closures and buffers alive through scavenges — most of a small call's allocations
 * were promoted, and a mark-compact ran every few thousand calls.
 */
class ServerCallContext implements CallContext {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  readonly cred: RpcCall['cred'];
  readonly verf: RpcCall['verf'];
  readonly peer: CallPeer;
  declare readonly authSys?: AuthSysParms;
  readonly #pending: PendingCall;

  constructor(call: RpcCall, peer: CallPeer, authSys: AuthSysParms | undefined, pending: PendingCall) {
    this.xid = call.xid;
    this.prog = call.prog;
    this.vers = call.vers;
    this.proc = call.proc;
    this.cred = call.cred;
    this.verf = call.verf;
    this.peer = peer;
    this.#pending = pending;
    if (authSys) (this as { authSys?: AuthSysParms }).authSys = authSys; // present only for AUTH_SYS calls
  }

  get signal(): AbortSignal {
    return this.#pending.signal;
  }
}

/**
 * Calls in progress: a doubly-linked list through the calls themselves (slot 0: a connection's list,
 * slot 1: the server's). Not a Set: adding and deleting a call per request made V8 rehash the Set's table
 * every few calls, and an obsolete table points to its successor — once a mark-compact had promoted the
 * live table, every later one survived scavenges through that chain (~300 bytes promoted per call under
 * a lookup loop, the young generation grown, a mark-compact every second or two).
 */
class CallList {
  size = 0;
  #head: PendingCall | null = null;
  readonly #slot: 0 | 1;

  constructor(slot: 0 | 1) {
    this.#slot = slot;
  }

  add(c: PendingCall): void {
    const head = this.#head;
    if (this.#slot === 0) {
      if (c.in0) return;
      c.in0 = true;
      c.prev0 = null;
      c.next0 = head;
      if (head) head.prev0 = c;
    } else {
      if (c.in1) return;
      c.in1 = true;
      c.prev1 = null;
      c.next1 = head;
      if (head) head.prev1 = c;
    }
    this.#head = c;
    this.size++;
  }

  delete(c: PendingCall): void {
    if (this.#slot === 0) {
      if (!c.in0) return;
      if (c.prev0) c.prev0.next0 = c.next0;
      else this.#head = c.next0;
      if (c.next0) c.next0.prev0 = c.prev0;
      c.in0 = false;
      c.prev0 = c.next0 = null; // a removed call points nowhere (it may be in old space, its neighbours not)
    } else {
      if (!c.in1) return;
      if (c.prev1) c.prev1.next1 = c.next1;
      else this.#head = c.next1;
      if (c.next1) c.next1.prev1 = c.prev1;
      c.in1 = false;
      c.prev1 = c.next1 = null;
    }
    this.size--;
  }

  /** The calls, copied (aborting them must not disturb the walk). */
  toArray(): PendingCall[] {
    const out: PendingCall[] = [];
    for (let c = this.#head; c; c = this.#slot === 0 ? c.next0 : c.next1) out.push(c);
    return out;
  }
}

/**
 * A call in progress, orphaned by abort(). Its AbortController (ctx.signal) is made only when the handler
 * first reads ctx.signal — making one for every call was a tenth of a small call's cost — and an abort
 * that came before is passed on to it then.
 */
class PendingCall {
  #controller: AbortController | undefined;
  #reason: unknown;
  aborted = false;
  /** CallList links. */
  in0 = false;
  prev0: PendingCall | null = null;
  next0: PendingCall | null = null;
  in1 = false;
  prev1: PendingCall | null = null;
  next1: PendingCall | null = null;

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }
}

const NULL_PROC: ProcedureDescriptor = Object.freeze({ name: 'NULL', proc: 0, args: [readVoid, writeVoid], res: [readVoid, writeVoid] } as const);

/** `::ffff:127.0.0.1` (an IPv4 peer on a dual-stack socket) → `127.0.0.1`. */
function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/** A unix socket file left by a previous run would make listen() fail with EADDRINUSE. */
function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // absent: nothing to remove
  }
}

