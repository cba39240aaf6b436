// Finds ONC-RPC messages in captured traffic: TCP streams through record marking, UDP datagrams whole,
// replies matched to their calls by xid and endpoints. Never throws on bad traffic: it reports it.

import { OncRpcError } from '../errors.js';
import type { Endpoint, FlowEvent, TcpConnection, TcpDirection } from '../pcap/events.js';
import { decodeFlows, type FlowOptions } from '../pcap/flows.js';
import { decodeRpcMessage } from '../rpc/header.js';
import type { RpcMessage } from '../rpc/messages.js';
import { DEFAULT_MAX_RECORD_SIZE, RecordDecoder } from '../rpc/record-marking.js';

/** One RPC message found in a capture, or a record/datagram that looked like RPC and failed to parse. */
export interface TracedMessage {
  /** Position among the messages of this trace, from 1. */
  n: number;
  /** Index of the captured packet that completed it (Wireshark's frame number minus 1). */
  packetIndex: number;
  timestamp: number;
  transport: 'tcp' | 'udp';
  src: Endpoint;
  dst: Endpoint;
  /** The message bytes (without record marks). */
  record: Uint8Array;
  /** TCP: lengths of the fragments the record came in. UDP: undefined. */
  fragments: number[] | undefined;
  /** TCP: the connection number in the capture. */
  connection: number | undefined;
  /** The decoded message, unless `error` is set. */
  message: RpcMessage | undefined;
  /** Why the bytes could not be decoded (stable `code` from oncrpc's errors, and a message). */
  error: { code: string; message: string } | undefined;
  /** For a reply: the `n` of the call it answers, when that call was captured. */
  callN: number | undefined;
  /** For a call: the `n` of its reply, once seen. */
  replyN: number | undefined;
}

/** A problem with the traffic that is not one message: a gap in a TCP stream, a truncated record, a file warning. */
export interface TraceNotice {
  packetIndex: number;
  message: string;
}

export interface TraceOptions extends FlowOptions {
  /** Largest record accepted in a TCP stream (default 16 MiB). */
  maxRecordSize?: number;
  /** Called for each message as soon as it is complete (in capture order). */
  onMessage?: (m: TracedMessage) => void;
  /** Called for stream problems. */
  onNotice?: (n: TraceNotice) => void;
}

export interface TraceResult {
  messages: TracedMessage[];
  notices: TraceNotice[];
  /** Packets in the capture. */
  packets: number;
  /** TCP directions and UDP datagrams that were not RPC (counted, not reported one by one). */
  nonRpc: number;
}

type DirState = {
  decoder: RecordDecoder;
  /**
   * 'unknown' until the first record shows whether this is RPC; 'sync' while looking for a record
   * boundary (a capture that starts mid-connection, or after a gap); 'dead' after a FIN.
   */
  kind: 'unknown' | 'rpc' | 'other' | 'dead' | 'sync';
  src: Endpoint;
  dst: Endpoint;
  /** While syncing: bytes not yet scanned (from the last candidate position on). */
  pending: Uint8Array;
  /** While syncing: bytes passed over so far. */
  skipped: number;
};

/** How far to look for a record boundary before deciding a stream is not RPC. */
const MAX_SYNC_SCAN = 1 << 20;

/**
 * Where a whole single-fragment record that decodes as a plausible RPC message starts in `b`, at or
 * after `from`: `{ at }`; `{ wait: at }` when a plausible header at `at` needs more bytes to be checked;
 * or null. Only last-fragment marks are candidates (most records are one fragment).
 */
function findRecordStart(b: Uint8Array, from: number, maxRecord: number): { at: number } | { wait: number } | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = from; i + 16 <= b.length; i++) {
    const mark = v.getUint32(i);
    if (mark < 0x80000000) continue;
    const size = mark & 0x7fffffff;
    if (size < 24 || size > maxRecord) continue;
    const mtype = v.getUint32(i + 8);
    const third = v.getUint32(i + 12);
    if (!((mtype === 0 && third === 2) || (mtype === 1 && third <= 1))) continue;
    if (i + 4 + size > b.length) return { wait: i };
    try {
      decodeRpcMessage(b.subarray(i + 4, i + 4 + size));
      return { at: i };
    } catch {
      continue;
    }
  }
  return null;
}

/**
 * Whether bytes that failed to decode still start like RPC: msg_type CALL, or REPLY with a valid
 * reply_stat. Such a first record makes a stream RPC (shown as malformed) rather than passed over.
 * Calls with an rpcvers other than 2 are shown too: they are how a peer gets its connection closed.
 */
function rpcLike(b: Uint8Array): boolean {
  if (b.length < 12) return false;
  const v = new DataView(b.buffer, b.byteOffset, 12);
  const mtype = v.getUint32(4);
  return mtype === 0 || (mtype === 1 && v.getUint32(8) <= 1);
}

function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof OncRpcError) return { code: e.code, message: e.message };
  return { code: 'ERR_UNEXPECTED', message: String(e) };
}

const key = (a: Endpoint): string => `${a.addr}|${a.port}`;

/**
 * Decodes every RPC message in a pcap or pcapng file.
 * @throws PcapError if the file itself is malformed (bad traffic inside a good file is reported, not thrown).
 */
export function traceRpc(capture: Uint8Array, options: TraceOptions = {}): TraceResult {
  const messages: TracedMessage[] = [];
  const notices: TraceNotice[] = [];
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  const dirs = new Map<string, DirState>();
  /** Calls waiting for replies: transport|client|server|xid -> message. */
  const calls = new Map<string, TracedMessage>();
  /** UDP endpoints known to speak RPC (so a bad datagram there is reported rather than ignored). */
  const rpcPorts = new Set<string>();
  let nonRpc = 0;
  let packets = 0;
  let current = { packetIndex: 0, timestamp: 0 };

  const notice = (packetIndex: number, message: string): void => {
    const n = { packetIndex, message };
    notices.push(n);
    options.onNotice?.(n);
  };

  const emit = (
    transport: 'tcp' | 'udp',
    src: Endpoint,
    dst: Endpoint,
    record: Uint8Array,
    fragments: number[] | undefined,
    connection: number | undefined,
    message: RpcMessage | undefined,
    error: { code: string; message: string } | undefined,
  ): void => {
    const m: TracedMessage = {
      n: messages.length + 1,
      packetIndex: current.packetIndex,
      timestamp: current.timestamp,
      transport,
      src,
      dst,
      record,
      fragments,
      connection,
      message,
      error,
      callN: undefined,
      replyN: undefined,
    };
    if (message) {
      if (message.mtype === 0) calls.set(`${transport}|${key(src)}|${key(dst)}|${message.xid}`, m);
      else {
        const call = calls.get(`${transport}|${key(dst)}|${key(src)}|${message.xid}`);
        if (call) {
          m.callN = call.n;
          call.replyN = m.n;
        }
      }
    }
    messages.push(m);
    options.onMessage?.(m);
  };

  const dirFor = (conn: TcpConnection, dir: TcpDirection): DirState => {
    const k = `${conn.id}|${dir}`;
    let s = dirs.get(k);
    if (!s) {
      const src = dir === 'toServer' ? conn.client : conn.server;
      const dst = dir === 'toServer' ? conn.server : conn.client;
      const state: DirState = {
        kind: conn.handshakeSeen ? 'unknown' : 'sync',
        src,
        dst,
        pending: new Uint8Array(0),
        skipped: 0,
        decoder: new RecordDecoder(
          (record, fragments) => {
            let msg: RpcMessage | undefined;
            let err: { code: string; message: string } | undefined;
            try {
              msg = decodeRpcMessage(record);
            } catch (e) {
              err = errorInfo(e);
            }
            if (state.kind === 'unknown') {
              if (!msg && !rpcLike(record)) {
                state.kind = 'other';
                nonRpc++;
                return;
              }
              state.kind = 'rpc';
            }
            if (state.kind === 'rpc') emit('tcp', src, dst, record, fragments, conn.id, msg, err);
          },
          { maxRecordSize },
        ),
      };
      s = state;
      dirs.set(k, s);
    }
    return s;
  };

  /** Looks for a record boundary in a stream being resynchronised; once found, decodes from there. */
  const feedSync = (s: DirState, bytes: Uint8Array, packetIndex: number): void => {
    const all = new Uint8Array(s.pending.length + bytes.length);
    all.set(s.pending);
    all.set(bytes, s.pending.length);
    const found = findRecordStart(all, 0, maxRecordSize);
    if (found && 'at' in found) {
      const skipped = s.skipped + found.at;
      s.kind = 'rpc';
      s.pending = new Uint8Array(0);
      s.skipped = 0;
      if (skipped > 0) notice(packetIndex, `TCP ${key(s.src)} -> ${key(s.dst)}: skipped ${skipped} bytes to find a record boundary`);
      pushRecords(s, all.subarray(found.at), packetIndex);
      return;
    }
    // Keep what a later chunk may complete: from a candidate that needs more bytes, or the last 15 bytes.
    const keepFrom = found ? found.wait : Math.max(0, all.length - 15);
    s.skipped += keepFrom;
    s.pending = all.slice(keepFrom);
    if (s.skipped + s.pending.length > MAX_SYNC_SCAN + maxRecordSize || (!found && s.skipped > MAX_SYNC_SCAN)) {
      s.kind = 'other';
      s.pending = new Uint8Array(0);
      nonRpc++;
    }
  };

  /** Feeds a stream's record decoder; a broken stream is resynchronised rather than abandoned. */
  const pushRecords = (s: DirState, bytes: Uint8Array, packetIndex: number): void => {
    try {
      s.decoder.push(bytes);
    } catch (e) {
      if (s.kind === 'unknown') {
        s.kind = 'other';
        nonRpc++;
      } else {
        notice(packetIndex, `TCP ${key(s.src)} -> ${key(s.dst)}: ${errorInfo(e).message}; looking for the next record boundary`);
        resync(s);
      }
    }
  };

  /** Starts looking for a record boundary with a fresh record decoder (the old one's state is lost). */
  const resync = (s: DirState): void => {
    s.kind = 'sync';
    s.pending = new Uint8Array(0);
    s.skipped = 0;
    s.decoder = new RecordDecoder(s.decoder.onRecord, { maxRecordSize });
  };

  const onEvent = (ev: FlowEvent): void => {
    if (ev.kind === 'warning') {
      notice(-1, `capture file: ${ev.message} (file offset ${ev.fileOffset})`);
      return;
    }
    current = { packetIndex: ev.packetIndex, timestamp: ev.timestamp };
    if (ev.packetIndex + 1 > packets) packets = ev.packetIndex + 1;
    switch (ev.kind) {
      case 'udp': {
        let msg: RpcMessage | undefined;
        let err: { code: string; message: string } | undefined;
        try {
          msg = decodeRpcMessage(ev.payload);
        } catch (e) {
          err = errorInfo(e);
        }
        const known = rpcPorts.has(key(ev.src)) || rpcPorts.has(key(ev.dst));
        const isReplyToKnownCall = msg?.mtype === 1 && calls.has(`udp|${key(ev.dst)}|${key(ev.src)}|${msg.xid}`);
        if (msg && (isReplyToKnownCall || (msg.mtype === 0 && msg.rpcvers === 2) || known || ev.src.port === 111 || ev.dst.port === 111)) {
          rpcPorts.add(key(msg.mtype === 0 ? ev.dst : ev.src));
          emit('udp', ev.src, ev.dst, ev.payload, undefined, undefined, msg, undefined);
        } else if (known || ev.dst.port === 111 || ev.src.port === 111) {
          emit('udp', ev.src, ev.dst, ev.payload, undefined, undefined, msg, err ?? { code: 'ERR_RPC_HEADER', message: 'not a plausible RPC message' });
        } else nonRpc++;
        if (ev.truncated) notice(ev.packetIndex, 'UDP datagram cut short by the capture');
        return;
      }
      case 'data': {
        const s = dirFor(ev.conn, ev.dir);
        if (s.kind === 'other' || s.kind === 'dead') return;
        if (s.kind === 'sync') feedSync(s, ev.bytes, ev.packetIndex);
        else pushRecords(s, ev.bytes, ev.packetIndex);
        return;
      }
      case 'gap': {
        const s = dirFor(ev.conn, ev.dir);
        if (s.kind === 'other' || s.kind === 'dead') return;
        if (s.kind === 'rpc' || !s.decoder.idle) {
          notice(ev.packetIndex, `TCP ${key(s.src)} -> ${key(s.dst)}: ${ev.length} bytes missing from the capture at stream offset ${ev.offset}; looking for the next record boundary`);
        }
        resync(s);
        return;
      }
      case 'end':
      case 'close': {
        const dirsToCheck: TcpDirection[] = ev.kind === 'end' ? [ev.dir] : ['toServer', 'toClient'];
        for (const d of dirsToCheck) {
          const s = dirs.get(`${ev.conn.id}|${d}`);
          if (!s || s.kind !== 'rpc') continue;
          try {
            s.decoder.end();
          } catch (e) {
            notice(ev.packetIndex, `TCP ${key(s.src)} -> ${key(s.dst)}: ${errorInfo(e).message}`);
          }
          s.kind = 'dead';
        }
        if (ev.kind === 'close') {
          dirs.delete(`${ev.conn.id}|toServer`);
          dirs.delete(`${ev.conn.id}|toClient`);
        }
        return;
      }
      default:
        return;
    }
  };

  for (const ev of decodeFlows(capture, options)) onEvent(ev);
  return { messages, notices, packets, nonRpc };
}
