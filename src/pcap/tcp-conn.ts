// Tracks TCP connections by address/port 4-tuple and turns segments into stream events.
import type { Endpoint, FlowEvent, TcpConnection, TcpDirection, CloseReason } from './events.js';
import { TcpHalfStream, type HalfStreamOptions, type HalfStreamOutput, type SegmentMeta } from './tcp-stream.js';
import { TcpFlags, type TcpSegment } from './udp-tcp.js';

interface ConnState {
  conn: TcpConnection;
  toServer: TcpHalfStream;
  toClient: TcpHalfStream;
  /** The connection's ports, lower first, as one number: its key in the lookup table. */
  ports: number;
  /** Capture time of the connection's last packet. */
  lastSeen: number;
}

/** Limits for a {@link TcpTracker}: per direction those of {@link HalfStreamOptions}, and on connections. */
export interface TcpTrackerOptions extends HalfStreamOptions {
  /**
   * Connections open at once (default 10000). Opening one more closes (reason `evicted`) the tenth of them
   * that have been quiet longest.
   */
  maxConnections?: number;
  /**
   * Seconds of capture time without a packet after which an open connection is closed (reason `idle`;
   * default 600). Its next packet, if any, starts a new connection, picked up mid-stream.
   */
  idleTimeout?: number;
  /**
   * Closed connections remembered, so that their late packets (a last ACK, a retransmitted FIN) are
   * ignored rather than taken for a new connection (default 8192; the oldest are forgotten).
   */
  maxClosedConnections?: number;
}

/** Whether `st` is the connection between `srcAddr:srcPort` and `dstAddr:dstPort` (either way round). */
function isConn(st: ConnState, srcAddr: string, srcPort: number, dstAddr: string, dstPort: number): boolean {
  const c = st.conn.client;
  const s = st.conn.server;
  return (
    (c.port === srcPort && s.port === dstPort && c.addr === srcAddr && s.addr === dstAddr) ||
    (c.port === dstPort && s.port === srcPort && c.addr === dstAddr && s.addr === srcAddr)
  );
}

/**
 * Groups TCP segments into connections (both directions together, keyed by the 4-tuple) and
 * reassembles each direction with a {@link TcpHalfStream}. A SYN on a closed connection, or a SYN
 * with a new initial sequence number on an open one, starts a new connection. Segments for a closed
 * connection that are not a new SYN are ignored.
 */
export class TcpTracker {
  /** Open and recently closed connections by their ports (several connections may share ports). */
  readonly #byPorts = new Map<number, ConnState | ConnState[]>();
  /** Open connections, in order of opening. */
  readonly #conns = new Set<ConnState>();
  /** Recently closed connections still in `#byPorts`, oldest first. */
  readonly #closed = new Set<ConnState>();
  readonly #options: HalfStreamOptions;
  readonly #maxConns: number;
  readonly #idle: number;
  readonly #maxClosed: number;
  #nextSweep = -Infinity;
  #nextId = 0;

  constructor(options: TcpTrackerOptions = {}) {
    this.#options = options;
    this.#maxConns = Math.max(1, options.maxConnections ?? 10000);
    this.#idle = options.idleTimeout ?? 600;
    this.#maxClosed = Math.max(0, options.maxClosedConnections ?? 8192);
  }

  /** Connections open now. */
  get open(): number {
    return this.#conns.size;
  }

  /**
   * Closes connections quiet for longer than the idle timeout (reason `idle`), looking at most once per
   * tenth of the timeout of capture time. Called for every packet, TCP or not.
   */
  expire(meta: SegmentMeta): FlowEvent[] {
    const now = meta.timestamp;
    if (now < this.#nextSweep) return NO_EVENTS;
    this.#nextSweep = now + this.#idle / 10;
    let events = NO_EVENTS;
    for (const st of this.#conns) {
      if (now - st.lastSeen > this.#idle) {
        if (events === NO_EVENTS) events = [];
        this.#close(st, 'idle', meta, events);
      }
    }
    return events;
  }

  /** Handles one segment from `src` to `dst`. */
  segment(src: Endpoint, dst: Endpoint, tcp: TcpSegment, meta: SegmentMeta): FlowEvent[] {
    const events: FlowEvent[] = [];
    this.segmentTo(src.addr, src.port, dst.addr, dst.port, tcp.seq, tcp.ack, tcp.flags, tcp.payload, meta, events);
    return events;
  }

  /** {@link segment} with the header's fields as arguments, appending the events to `events`. */
  segmentTo(
    srcAddr: string, srcPort: number, dstAddr: string, dstPort: number,
    seq: number, ackNum: number, flags: number, payload: Uint8Array, meta: SegmentMeta, events: FlowEvent[],
  ): void {
    const syn = (flags & TcpFlags.SYN) !== 0;
    const ackFlag = (flags & TcpFlags.ACK) !== 0;
    const fin = (flags & TcpFlags.FIN) !== 0;
    const rst = (flags & TcpFlags.RST) !== 0;
    const ports = srcPort < dstPort ? srcPort * 65536 + dstPort : dstPort * 65536 + srcPort;
    let st = this.#find(ports, srcAddr, srcPort, dstAddr, dstPort);
    if (st) {
      const fromClient = st.conn.client.port === srcPort && st.conn.client.addr === srcAddr;
      const own = fromClient ? st.toServer : st.toClient;
      const newSyn = syn && !ackFlag && !rst && (st.conn.closed !== undefined || own.synSeq !== seq);
      if (newSyn) {
        if (st.conn.closed === undefined) this.#close(st, 'reuse', meta, events);
        this.#forget(st);
        st = undefined;
      } else if (st.conn.closed !== undefined) {
        return;
      }
    }
    if (!st) {
      if (rst) return; // a reset alone does not open a connection
      if (this.#conns.size >= this.#maxConns) this.#evict(meta, events);
      st = this.#open(ports, { addr: srcAddr, port: srcPort }, { addr: dstAddr, port: dstPort }, syn, ackFlag, meta);
      events.push({ kind: 'open', conn: st.conn, packetIndex: meta.packetIndex, timestamp: meta.timestamp });
    }
    st.lastSeen = meta.timestamp;
    const toServer = st.conn.client.port === srcPort && st.conn.client.addr === srcAddr;
    const dir: TcpDirection = toServer ? 'toServer' : 'toClient';
    const own = toServer ? st.toServer : st.toClient;
    const peer = toServer ? st.toClient : st.toServer;
    const peerDir: TcpDirection = toServer ? 'toClient' : 'toServer';
    if (ackFlag) this.#emit(st, peerDir, peer.acknowledge(ackNum, meta), events);
    if (!rst) {
      this.#emit(st, dir, own.segment(seq, syn, fin, payload, meta), events);
    } else {
      // Data on a RST is not delivered to the application; its sequence number may be arbitrary.
      this.#close(st, 'rst', meta, events);
      return;
    }
    if (st.toServer.finished && st.toClient.finished) this.#close(st, 'fin', meta, events);
  }

  #find(ports: number, srcAddr: string, srcPort: number, dstAddr: string, dstPort: number): ConnState | undefined {
    const slot = this.#byPorts.get(ports);
    if (slot === undefined) return undefined;
    if (!Array.isArray(slot)) return isConn(slot, srcAddr, srcPort, dstAddr, dstPort) ? slot : undefined;
    for (const st of slot) if (isConn(st, srcAddr, srcPort, dstAddr, dstPort)) return st;
    return undefined;
  }

  /** Removes a connection from the lookup table (it is closed, and no longer remembered). */
  #forget(st: ConnState): void {
    this.#closed.delete(st);
    const slot = this.#byPorts.get(st.ports);
    if (slot === st) this.#byPorts.delete(st.ports);
    else if (Array.isArray(slot)) {
      const rest = slot.filter((x) => x !== st);
      if (rest.length === 0) this.#byPorts.delete(st.ports);
      else this.#byPorts.set(st.ports, rest.length === 1 ? rest[0]! : rest);
    }
  }

  /** Ends every open connection (end of capture): held bytes are delivered, holes reported as gaps. */
  finish(meta: SegmentMeta): FlowEvent[] {
    const events: FlowEvent[] = [];
    for (const st of this.#conns) this.#close(st, 'eof', meta, events);
    return events;
  }

  /** Too many connections: closes the tenth of them that have been quiet longest. */
  #evict(meta: SegmentMeta, events: FlowEvent[]): void {
    const quiet = [...this.#conns].sort((a, b) => a.lastSeen - b.lastSeen);
    const n = Math.max(1, Math.ceil(quiet.length / 10));
    for (let i = 0; i < n; i++) this.#close(quiet[i]!, 'evicted', meta, events);
  }

  #open(ports: number, src: Endpoint, dst: Endpoint, syn: boolean, ack: boolean, meta: SegmentMeta): ConnState {
    let senderIsClient: boolean;
    let handshakeSeen = false;
    if (syn) {
      senderIsClient = !ack;
      handshakeSeen = true;
    } else if (src.port !== dst.port) senderIsClient = dst.port < src.port; // servers mostly have the lower port
    else senderIsClient = true;
    const conn: TcpConnection = {
      id: this.#nextId++,
      client: senderIsClient ? src : dst,
      server: senderIsClient ? dst : src,
      handshakeSeen,
      firstPacketIndex: meta.packetIndex,
      closed: undefined,
    };
    const st: ConnState = { conn, toServer: new TcpHalfStream(this.#options), toClient: new TcpHalfStream(this.#options), ports, lastSeen: meta.timestamp };
    const slot = this.#byPorts.get(ports);
    this.#byPorts.set(ports, slot === undefined ? st : Array.isArray(slot) ? [...slot, st] : [slot, st]);
    this.#conns.add(st);
    return st;
  }

  #close(st: ConnState, reason: CloseReason, meta: SegmentMeta, events: FlowEvent[]): void {
    this.#emit(st, 'toServer', st.toServer.flush(meta), events);
    this.#emit(st, 'toClient', st.toClient.flush(meta), events);
    st.conn.closed = reason;
    events.push({ kind: 'close', conn: st.conn, reason, packetIndex: meta.packetIndex, timestamp: meta.timestamp });
    this.#conns.delete(st);
    // After a FIN or RST, remembered a while as closed (its late packets are ignored; its half streams
    // hold nothing now); after the others, forgotten (a later packet starts a new connection).
    if (this.#maxClosed > 0 && (reason === 'fin' || reason === 'rst')) {
      // Remembered by its endpoints only: its streams are over (a new SYN starts a new connection).
      st.toServer = st.toClient = SPENT;
      this.#closed.add(st);
      if (this.#closed.size > this.#maxClosed) this.#forget(this.#closed.values().next().value!);
    } else if (reason !== 'reuse') this.#forget(st);
  }

  #emit(st: ConnState, dir: TcpDirection, outs: HalfStreamOutput[], events: FlowEvent[]): void {
    for (let i = 0; i < outs.length; i++) {
      const o = outs[i]!;
      const packetIndex = o.meta.packetIndex;
      const timestamp = o.meta.timestamp;
      if (o.kind === 'data') events.push({ kind: 'data', conn: st.conn, dir, offset: o.offset, bytes: o.bytes, packetIndex, timestamp });
      else if (o.kind === 'gap') events.push({ kind: 'gap', conn: st.conn, dir, offset: o.offset, length: o.length, packetIndex, timestamp });
      else events.push({ kind: 'end', conn: st.conn, dir, packetIndex, timestamp });
    }
  }
}

const NO_EVENTS: FlowEvent[] = [];
/** The streams of a closed connection that is only remembered (never fed). */
const SPENT = new TcpHalfStream();
