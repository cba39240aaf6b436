// Tracks TCP connections by address/port 4-tuple and turns segments into stream events.
import type { Endpoint, EventBase, FlowEvent, TcpConnection, TcpDirection, CloseReason } from './events.js';
import { TcpHalfStream, type HalfStreamOptions, type HalfStreamOutput, type SegmentMeta } from './tcp-stream.js';
import { TcpFlags, type TcpSegment } from './udp-tcp.js';

interface ConnState {
  conn: TcpConnection;
  toServer: TcpHalfStream;
  toClient: TcpHalfStream;
}

function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  return a.port === b.port && a.addr === b.addr;
}

function tupleKey(a: Endpoint, b: Endpoint): string {
  const x = `${a.addr}|${a.port}`;
  const y = `${b.addr}|${b.port}`;
  return x < y ? `${x}|${y}` : `${y}|${x}`;
}

/**
 * Groups TCP segments into connections (both directions together, keyed by the 4-tuple) and
 * reassembles each direction with a {@link TcpHalfStream}. A SYN on a closed connection, or a SYN
 * with a new initial sequence number on an open one, starts a new connection. Segments for a closed
 * connection that are not a new SYN are ignored.
 */
export class TcpTracker {
  readonly #conns = new Map<string, ConnState>();
  readonly #options: HalfStreamOptions;
  #nextId = 0;

  constructor(options: HalfStreamOptions = {}) {
    this.#options = options;
  }

  /** Handles one segment from `src` to `dst`. */
  segment(src: Endpoint, dst: Endpoint, tcp: TcpSegment, meta: SegmentMeta): FlowEvent[] {
    const events: FlowEvent[] = [];
    const syn = (tcp.flags & TcpFlags.SYN) !== 0;
    const ackFlag = (tcp.flags & TcpFlags.ACK) !== 0;
    const fin = (tcp.flags & TcpFlags.FIN) !== 0;
    const rst = (tcp.flags & TcpFlags.RST) !== 0;
    const key = tupleKey(src, dst);
    let st = this.#conns.get(key);
    if (st) {
      const fromClient = sameEndpoint(src, st.conn.client);
      const own = fromClient ? st.toServer : st.toClient;
      const newSyn = syn && !ackFlag && !rst && (st.conn.closed !== undefined || own.synSeq !== tcp.seq);
      if (newSyn) {
        if (st.conn.closed === undefined) this.#close(st, 'reuse', meta, events);
        st = undefined;
      } else if (st.conn.closed !== undefined) {
        return events;
      }
    }
    if (!st) {
      if (rst) return events; // a reset alone does not open a connection
      st = this.#open(key, src, dst, syn, ackFlag, meta);
      events.push({ kind: 'open', conn: st.conn, ...base(meta) });
    }
    const dir: TcpDirection = sameEndpoint(src, st.conn.client) ? 'toServer' : 'toClient';
    const own = dir === 'toServer' ? st.toServer : st.toClient;
    const peer = dir === 'toServer' ? st.toClient : st.toServer;
    const peerDir: TcpDirection = dir === 'toServer' ? 'toClient' : 'toServer';
    if (ackFlag) this.#emit(st, peerDir, peer.acknowledge(tcp.ack, meta), events);
    if (!rst) {
      this.#emit(st, dir, own.segment(tcp.seq, syn, fin, tcp.payload, meta), events);
    } else {
      // Data on a RST is not delivered to the application; its sequence number may be arbitrary.
      this.#close(st, 'rst', meta, events);
      return events;
    }
    if (st.toServer.finished && st.toClient.finished) this.#close(st, 'fin', meta, events);
    return events;
  }

  /** Ends every open connection (end of capture): held bytes are delivered, holes reported as gaps. */
  finish(meta: SegmentMeta): FlowEvent[] {
    const events: FlowEvent[] = [];
    for (const st of this.#conns.values()) {
      if (st.conn.closed === undefined) this.#close(st, 'eof', meta, events);
    }
    return events;
  }

  #open(key: string, src: Endpoint, dst: Endpoint, syn: boolean, ack: boolean, meta: SegmentMeta): ConnState {
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
    const st: ConnState = { conn, toServer: new TcpHalfStream(this.#options), toClient: new TcpHalfStream(this.#options) };
    this.#conns.set(key, st);
    return st;
  }

  #close(st: ConnState, reason: CloseReason, meta: SegmentMeta, events: FlowEvent[]): void {
    this.#emit(st, 'toServer', st.toServer.flush(meta), events);
    this.#emit(st, 'toClient', st.toClient.flush(meta), events);
    st.conn.closed = reason;
    events.push({ kind: 'close', conn: st.conn, reason, ...base(meta) });
  }

  #emit(st: ConnState, dir: TcpDirection, outs: HalfStreamOutput[], events: FlowEvent[]): void {
    for (const o of outs) {
      if (o.kind === 'data') events.push({ kind: 'data', conn: st.conn, dir, offset: o.offset, bytes: o.bytes, ...base(o.meta) });
      else if (o.kind === 'gap') events.push({ kind: 'gap', conn: st.conn, dir, offset: o.offset, length: o.length, ...base(o.meta) });
      else events.push({ kind: 'end', conn: st.conn, dir, ...base(o.meta) });
    }
  }
}

function base(meta: SegmentMeta): EventBase {
  return { packetIndex: meta.packetIndex, timestamp: meta.timestamp };
}
