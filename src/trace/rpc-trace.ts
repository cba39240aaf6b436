// Finds ONC-RPC messages in captured traffic: TCP streams through record marking, UDP datagrams whole,
// replies matched to their calls by xid and endpoints. Never throws on bad traffic: it reports it.
//
// RpcTracer works packet by packet and keeps only what is still open: calls awaiting a reply (until it
// comes, for `replyWindow` seconds of capture time, at most `maxPendingCalls`), partial records of TCP
// streams (copies, at most `maxRecordSize` each), and what the flow decoder holds (src/pcap: TCP
// connections and out-of-order segments, IP fragments, each capped). traceRpc reads a whole capture
// and collects everything.

import { ErrorCodes, OncRpcError } from '../errors.js';
import { formatEndpoint } from '../pcap/addr.js';
import type { Endpoint, FlowEvent, TcpConnection, TcpDirection } from '../pcap/events.js';
import { CaptureReader, type CaptureWarning } from '../pcap/file.js';
import { FlowDecoder, type FlowOptions, type FlowPacket } from '../pcap/flows.js';
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
  /**
   * The message bytes (without record marks). A view of the capture: valid while the message is being
   * handled (`onMessage`); copy it to keep it when the capture is read in chunks.
   */
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
  /**
   * For a call: the `n` of its reply, once seen. Set by traceRpc, which keeps every message; a streaming
   * {@link RpcTracer} has handed the call out before its reply exists.
   */
  replyN: number | undefined;
  /** For a reply: the call it answers (`callN`'s program, version, procedure and time), when captured. */
  call?: CallInfo | undefined;
  /** For a reply: its call had already been answered (a duplicate reply, e.g. retransmitted by the server). */
  duplicate?: boolean;
  /** For a call: the `n` of an earlier call with the same xid and endpoints still awaiting its reply (a retransmission). */
  retransmits?: number | undefined;
}

/** What a tracer remembers of a call while it awaits its reply. */
export interface CallInfo extends Pick<TracedMessage, 'n' | 'packetIndex' | 'timestamp' | 'transport' | 'src' | 'dst'> {
  xid: number;
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
}

/**
 * A problem with the traffic that is not one message: a gap in a TCP stream, a truncated record, a
 * record over `maxRecordSize` (passed over), bytes skipped to resynchronise, a file warning, a call
 * that got no reply within the reply window.
 */
export interface TraceNotice {
  /** The packet it was found in, or -1 for the file as a whole. */
  packetIndex: number;
  message: string;
  /** When the notice reports an oncrpc error condition: its code (`ERR_RECORD_TOO_LARGE`, `ERR_RECORD_TRUNCATED`, …). */
  code?: string;
  /** For a call given up on (no reply within the window, or too many calls awaiting replies): that call. */
  call?: CallInfo;
}

/** Why a call is counted as unanswered: no reply within the window, too many calls waiting, or the capture ended. */
export type UnansweredReason = 'window' | 'limit' | 'end';

/** Default of {@link TraceOptions.replyWindow}: seconds of capture time a call waits for its reply. */
export const DEFAULT_REPLY_WINDOW = 60;
/** Default of {@link TraceOptions.maxPendingCalls}. */
export const DEFAULT_MAX_PENDING_CALLS = 100_000;

export interface TraceOptions extends FlowOptions {
  /**
   * Largest record accepted in a TCP stream (default 16 MiB). A larger record is passed over (its bytes
   * are not kept) and reported as a notice with code ERR_RECORD_TOO_LARGE; the stream goes on after it.
   */
  maxRecordSize?: number;
  /**
   * Seconds of capture time a call waits for its reply (default 60). A call older than this with no reply
   * is reported (a notice naming it) and forgotten: a later reply is shown without its call.
   */
  replyWindow?: number;
  /**
   * Calls awaiting replies held at once (default 100000); beyond, the oldest is reported and forgotten.
   */
  maxPendingCalls?: number;
  /** Called for each message as soon as it is complete (in capture order). */
  onMessage?: (m: TracedMessage) => void;
  /** Called for stream problems. */
  onNotice?: (n: TraceNotice) => void;
  /**
   * Called once for each call that gets no reply: given up on (after its notice), or still waiting when
   * the capture ends (no notice). A call superseded by a retransmission is not reported (the
   * retransmission carries `retransmits`).
   */
  onUnanswered?: (call: CallInfo, reason: UnansweredReason) => void;
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
  /** Follows the record marks the decoder sees, to find a record over the cap before the decoder does. */
  marks: MarkWalker;
  /**
   * 'unknown' until the first record shows whether this is RPC; 'sync' while looking for a record
   * boundary (a capture that starts mid-connection, or after a gap); 'skip' while passing over a record
   * larger than the cap; 'dead' after a FIN.
   */
  kind: 'unknown' | 'rpc' | 'other' | 'dead' | 'sync' | 'skip';
  /** While skipping: the record being passed over. */
  skip: Skip | undefined;
  /** The stream has carried RPC (so giving up on it is worth a notice). */
  wasRpc: boolean;
  src: Endpoint;
  dst: Endpoint;
  /** While syncing: bytes not yet scanned (from the last candidate position on). */
  pending: Uint8Array;
  /** While syncing: bytes passed over so far. */
  skipped: number;
};

/** How far to look for a record boundary before deciding a stream is not RPC. */
const MAX_SYNC_SCAN = 1 << 20;

/** Enough bytes for any RPC header (10 words and two 400-byte auth bodies): where a header is judged. */
const MAX_HEADER = 1024;

/** A record over the cap being passed over, fragment by fragment, without keeping its bytes. */
type Skip = {
  /** Data bytes left in the current fragment. */
  left: number;
  /** The current fragment is the record's last. */
  last: boolean;
  /** A next fragment's mark, while it arrives split across chunks. */
  mark: number[];
  /** Bytes and fragments of the record so far. */
  size: number;
  fragments: number;
  /** The packet where the record crossed the cap. */
  packetIndex: number;
  /**
   * For the first record of a stream not yet known to be RPC: its first bytes, kept until there are
   * enough to tell (an oversized record of some other protocol is passed over silently).
   */
  judge: number[] | undefined;
};

/**
 * Follows record marks over a stream as RecordDecoder reads them, keeping no data, so that a record
 * that would exceed the cap is found with its position in the chunk (the decoder only throws, after
 * delivering the records before it and dropping the rest of the chunk).
 */
class MarkWalker {
  #mark = 0;
  #markBytes = 0;
  #fragLeft = 0;
  #recordSize = 0;
  #fragments = 0;
  /** Where in the last chunk scanned the record still incomplete at its end began (0: in an earlier chunk). */
  #recordStart = 0;
  /**
   * Where the bytes of the record left incomplete by the last chunk scanned begin in that chunk; the
   * chunk's length when it ended on a record boundary. Those bytes are what a record decoder keeps.
   */
  tail(chunkLength: number): number {
    return this.#markBytes === 0 && this.#fragLeft === 0 && this.#fragments === 0 ? chunkLength : this.#recordStart;
  }
  /**
   * Walks `chunk`. Returns where the first mark that takes a record over `max` ends in the chunk
   * (`dataStart`; the mark may have begun in an earlier chunk), with that fragment's size and flag and
   * the record's size so far, or null when every record stays within `max`.
   */
  scan(chunk: Uint8Array, max: number): { dataStart: number; fragment: number; last: boolean; size: number; fragments: number } | null {
    let i = 0;
    this.#recordStart = 0;
    while (i < chunk.length) {
      if (this.#fragLeft > 0) {
        const take = Math.min(this.#fragLeft, chunk.length - i);
        i += take;
        this.#fragLeft -= take;
        continue;
      }
      if (this.#markBytes === 0 && this.#fragments === 0) this.#recordStart = i;
      this.#mark = ((this.#mark << 8) | chunk[i++]!) >>> 0;
      if (++this.#markBytes < 4) continue;
      const size = this.#mark & 0x7fffffff;
      const last = this.#mark >= 0x80000000;
      this.#markBytes = 0;
      this.#mark = 0;
      const fragments = ++this.#fragments;
      const total = this.#recordSize + size;
      if (total > max) {
        this.#recordSize = 0;
        this.#fragments = 0;
        return { dataStart: i, fragment: size, last, size: total, fragments };
      }
      this.#recordSize = last ? 0 : total;
      if (last) this.#fragments = 0;
      this.#fragLeft = size;
    }
    return null;
  }
}

/**
 * Where a whole single-fragment record that decodes as a plausible RPC message starts in `b`, at or
 * after `from`: `{ at }`; `{ at, over: size }` for a record larger than `maxRecord` whose header decodes
 * (it is to be passed over); `{ wait: at }` when a plausible header at `at` needs more bytes to be
 * checked; or null. Only last-fragment marks are candidates (most records are one fragment).
 */
function findRecordStart(b: Uint8Array, from: number, maxRecord: number): { at: number; over?: number } | { wait: number } | null {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = from; i + 16 <= b.length; i++) {
    const mark = v.getUint32(i);
    if (mark < 0x80000000) continue;
    const size = mark & 0x7fffffff;
    if (size < 24) continue;
    const mtype = v.getUint32(i + 8);
    const third = v.getUint32(i + 12);
    if (!((mtype === 0 && third === 2) || (mtype === 1 && third <= 1))) continue;
    // Over the cap, only the header can be checked (the record is never held whole).
    const over = size > maxRecord;
    const need = over ? Math.min(size, MAX_HEADER) : size;
    const end = Math.min(i + 4 + size, b.length);
    try {
      decodeRpcMessage(b.subarray(i + 4, end));
      return over ? { at: i, over: size } : i + 4 + size > b.length ? { wait: i } : { at: i };
    } catch {
      if (i + 4 + need > b.length) return { wait: i };
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

/** The notice for a record over the cap, once it has been passed over (or the capture ends inside it). */
function overText(sk: Skip, max: number, complete: boolean): string {
  const frags = sk.fragments > 1 ? ` in ${sk.fragments} fragments` : '';
  return complete
    ? `record of ${sk.size} bytes${frags} exceeds the maximum of ${max}; passed over`
    : `record of at least ${sk.size} bytes${frags} exceeds the maximum of ${max}; its end is not in the capture`;
}

function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof OncRpcError) return { code: e.code, message: e.message };
  return { code: 'ERR_UNEXPECTED', message: String(e) };
}

/** A list of calls in arrival order (no hashing, O(1) removal). */
class CallList {
  first: PendingCall | undefined = undefined;
  last: PendingCall | undefined = undefined;
  size = 0;
  push(c: PendingCall): void {
    c.list = this;
    c.prev = this.last;
    c.next = undefined;
    if (this.last) this.last.next = c;
    else this.first = c;
    this.last = c;
    this.size++;
  }
  /** Removes `c` if it is in this list; whether it was. */
  remove(c: PendingCall): boolean {
    if (c.list !== this) return false;
    if (c.prev) c.prev.next = c.next;
    else this.first = c.next;
    if (c.next) c.next.prev = c.prev;
    else this.last = c.prev;
    c.prev = c.next = c.list = undefined;
    this.size--;
    return true;
  }
  clear(): void {
    this.first = this.last = undefined;
    this.size = 0;
  }
}

const sameEndpoint = (a: Endpoint, b: Endpoint): boolean => a === b || (a.port === b.port && a.addr === b.addr);

/** A call awaiting its reply (or answered lately), linked into one of two lists, oldest first. */
class PendingCall implements CallInfo {
  prev: PendingCall | undefined = undefined;
  next: PendingCall | undefined = undefined;
  list: CallList | undefined = undefined;
  constructor(
    readonly n: number,
    readonly packetIndex: number,
    readonly timestamp: number,
    readonly transport: 'tcp' | 'udp',
    readonly src: Endpoint,
    readonly dst: Endpoint,
    readonly xid: number,
    readonly rpcvers: number,
    readonly prog: number,
    readonly vers: number,
    readonly proc: number,
  ) {}
  /** Whether this is call `xid` from `client` to `server` over `transport`. */
  is(xid: number, transport: 'tcp' | 'udp', client: Endpoint, server: Endpoint): boolean {
    return this.xid === xid && this.transport === transport && sameEndpoint(this.src, client) && sameEndpoint(this.dst, server);
  }
}

/**
 * The xid bits a call is filed under: 30 bits make a small integer, which a Map hashes fastest (calls
 * with the same 30 bits share a slot and are told apart by their whole xid and endpoints).
 */
const XID_KEY = 0x3fffffff;

/** Recently answered calls remembered, so a duplicate reply still names its call. */
const ANSWERED_MEMORY = 4096;
/** UDP endpoints remembered as speaking RPC. */
const RPC_PORTS_MEMORY = 65536;

/** What a tracer holds now (see {@link RpcTracer.state}). */
export interface TracerState {
  /** Calls awaiting replies. */
  pendingCalls: number;
  /** TCP directions being decoded. */
  streams: number;
  /** Bytes of partial records held by TCP directions (including bytes kept while resynchronising). */
  streamBytes: number;
  /** TCP connections open in the flow decoder, and bytes of IP fragments it holds. */
  connections: number;
  fragmentBytes: number;
}

/**
 * Finds RPC messages in captured packets, one packet at a time, calling `onMessage`, `onNotice` and
 * `onUnanswered` as it goes. Feed it packets in capture order ({@link push}), file warnings
 * ({@link warning}), then {@link finish}. Memory: see the file header.
 *
 * @example
 * ```ts
 * const tracer = new RpcTracer({ onMessage: (m) => console.log(m.n, m.message?.xid) });
 * const reader = new CaptureReader({ onWarning: (w) => tracer.warning(w) });
 * for await (const chunk of fs.createReadStream('cap.pcap')) {
 *   reader.push(chunk);
 *   for (let p = reader.next(); p; p = reader.next()) tracer.push(p);
 * }
 * reader.end();
 * for (let p = reader.next(); p; p = reader.next()) tracer.push(p);
 * tracer.finish();
 * ```
 */
export class RpcTracer {
  readonly #push: (p: FlowPacket) => void;
  readonly #warning: (w: CaptureWarning) => void;
  readonly #finish: () => void;
  readonly #state: () => TracerState;
  readonly #counts: { packets: number; nonRpc: number; messages: number };
  #finished = false;

  constructor(options: TraceOptions = {}) {
    const t = createTracer(options);
    this.#push = t.push;
    this.#warning = t.warning;
    this.#finish = t.finish;
    this.#state = t.state;
    this.#counts = t.counts;
  }

  /** Handles one captured packet. Never throws. */
  push(packet: FlowPacket): void {
    this.#push(packet);
  }

  /** Reports a survivable problem of the capture file (a truncated last record) as a notice. */
  warning(w: CaptureWarning): void {
    this.#warning(w);
  }

  /** Ends the capture: open TCP streams are closed, calls still awaiting replies counted unanswered. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#finish();
  }

  /** Packets seen (the highest packet index + 1). */
  get packets(): number {
    return this.#counts.packets;
  }
  /** Messages found so far. */
  get messages(): number {
    return this.#counts.messages;
  }
  /** TCP directions and UDP datagrams that were not RPC. */
  get nonRpc(): number {
    return this.#counts.nonRpc;
  }
  /** What is held now. */
  get state(): TracerState {
    return this.#state();
  }
}

/**
 * Decodes every RPC message in a pcap or pcapng file held in memory, and keeps them all.
 * @throws PcapError if the file itself is malformed (bad traffic inside a good file is reported, not thrown).
 */
export function traceRpc(capture: Uint8Array, options: TraceOptions = {}): TraceResult {
  const messages: TracedMessage[] = [];
  const notices: TraceNotice[] = [];
  const tracer = new RpcTracer({
    ...options,
    onMessage: (m) => {
      if (m.callN !== undefined && !m.duplicate) {
        const call = messages[m.callN - 1];
        if (call) call.replyN = m.n;
      }
      messages.push(m);
      options.onMessage?.(m);
    },
    onNotice: (n) => {
      notices.push(n);
      options.onNotice?.(n);
    },
  });
  const warnings: CaptureWarning[] = [];
  const reader = new CaptureReader({ onWarning: (w) => warnings.push(w) });
  reader.push(capture);
  reader.end();
  for (let p = reader.next(); p; p = reader.next()) tracer.push(p);
  for (const w of warnings) tracer.warning(w);
  tracer.finish();
  return { messages, notices, packets: tracer.packets, nonRpc: tracer.nonRpc };
}

function createTracer(options: TraceOptions) {
  const maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
  const replyWindow = options.replyWindow ?? DEFAULT_REPLY_WINDOW;
  const maxPending = Math.max(1, options.maxPendingCalls ?? DEFAULT_MAX_PENDING_CALLS);
  const flows = new FlowDecoder(options);
  /** TCP directions being decoded, by connection id * 2 (+ 1 for the direction to the client). */
  const dirs = new Map<number, DirState>();
  /**
   * Calls awaiting replies, and the ones answered lately (for duplicate replies), by xid: one call, or
   * several with the same xid on different endpoints. A reply is matched on transport and endpoints too.
   */
  const byXid = new Map<number, PendingCall | PendingCall[]>();
  /** Calls awaiting replies, oldest first. */
  const waiting = new CallList();
  /** Capture time at which the oldest waiting call's window ends. */
  let nextExpiry = Infinity;
  /** Calls answered lately, oldest first. */
  const answered = new CallList();
  /** UDP endpoints known to speak RPC (so a bad datagram there is reported rather than ignored): address -> ports. */
  const rpcPorts = new Map<string, Set<number>>();
  let rpcPortCount = 0;
  const isRpcPort = (e: Endpoint): boolean => rpcPorts.get(e.addr)?.has(e.port) === true;
  const addRpcPort = (e: Endpoint): void => {
    let ports = rpcPorts.get(e.addr);
    if (ports?.has(e.port)) return;
    if (rpcPortCount >= RPC_PORTS_MEMORY) {
      rpcPorts.clear();
      rpcPortCount = 0;
      ports = undefined;
    }
    if (!ports) rpcPorts.set(e.addr, (ports = new Set()));
    ports.add(e.port);
    rpcPortCount++;
  };
  const counts = { packets: 0, nonRpc: 0, messages: 0 };
  /** The packet of the event being handled. */
  let curIndex = 0;
  let curTime = 0;

  const notice = (packetIndex: number, message: string, code?: string, call?: CallInfo): void => {
    const n: TraceNotice = code === undefined ? { packetIndex, message } : { packetIndex, message, code };
    if (call) n.call = call;
    options.onNotice?.(n);
  };

  const callText = (c: CallInfo): string =>
    `${c.transport.toUpperCase()} ${formatEndpoint(c.src)} -> ${formatEndpoint(c.dst)}: call #${c.n} (xid 0x${(c.xid >>> 0).toString(16).padStart(8, '0')})`;

  /** The call (waiting or answered lately) with this xid from `client` to `server`. */
  const findCall = (xid: number, transport: 'tcp' | 'udp', client: Endpoint, server: Endpoint): PendingCall | undefined => {
    const slot = byXid.get(xid & XID_KEY);
    if (slot === undefined) return undefined;
    if (!Array.isArray(slot)) return slot.is(xid, transport, client, server) ? slot : undefined;
    for (const c of slot) if (c.is(xid, transport, client, server)) return c;
    return undefined;
  };
  const addCall = (c: PendingCall): void => {
    const k = c.xid & XID_KEY;
    const slot = byXid.get(k);
    byXid.set(k, slot === undefined ? c : Array.isArray(slot) ? [...slot, c] : [slot, c]);
  };
  /** Forgets a call altogether (given up on, superseded, or answered long enough ago). */
  const dropCall = (c: PendingCall): void => {
    c.list?.remove(c);
    const k = c.xid & XID_KEY;
    const slot = byXid.get(k);
    if (slot === c) byXid.delete(k);
    else if (Array.isArray(slot)) {
      const rest = slot.filter((x) => x !== c);
      if (rest.length === 0) byXid.delete(k);
      else byXid.set(k, rest.length === 1 ? rest[0]! : rest);
    }
  };

  /** Gives up on calls whose window has passed (`now`). */
  const expire = (now: number): void => {
    for (let c = waiting.first; c && now - c.timestamp > replyWindow; c = waiting.first) {
      dropCall(c);
      notice(curIndex, `${callText(c)} got no reply within ${replyWindow} s`, undefined, c);
      options.onUnanswered?.(c, 'window');
    }
    nextExpiry = waiting.first ? waiting.first.timestamp + replyWindow : Infinity;
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
      n: ++counts.messages,
      packetIndex: curIndex,
      timestamp: curTime,
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
      // Every field from the start: one object shape for all messages.
      call: undefined,
      duplicate: false,
      retransmits: undefined,
    };
    if (message) {
      if (message.mtype === 0) {
        const before = findCall(message.xid, transport, src, dst);
        if (before) {
          if (before.list === waiting) m.retransmits = before.n;
          dropCall(before);
        }
        const c = new PendingCall(m.n, m.packetIndex, m.timestamp, transport, src, dst, message.xid, message.rpcvers, message.prog, message.vers, message.proc);
        if (waiting.size === 0) nextExpiry = c.timestamp + replyWindow;
        waiting.push(c);
        addCall(c);
        if (waiting.size > maxPending) {
          const old = waiting.first!;
          dropCall(old);
          notice(curIndex, `${callText(old)} given up on: more than ${maxPending} calls were awaiting replies`, undefined, old);
          options.onUnanswered?.(old, 'limit');
        }
      } else {
        const call = findCall(message.xid, transport, dst, src);
        if (call) {
          if (waiting.remove(call)) {
            answered.push(call);
            if (answered.size > ANSWERED_MEMORY) dropCall(answered.first!);
          } else m.duplicate = true;
          m.callN = call.n;
          m.call = call;
        }
      }
    }
    options.onMessage?.(m);
  };

  const dirFor = (conn: TcpConnection, dir: TcpDirection): DirState => {
    const k = conn.id * 2 + (dir === 'toServer' ? 0 : 1);
    let s = dirs.get(k);
    if (!s) {
      const src = dir === 'toServer' ? conn.client : conn.server;
      const dst = dir === 'toServer' ? conn.server : conn.client;
      const state: DirState = {
        kind: conn.handshakeSeen ? 'unknown' : 'sync',
        marks: new MarkWalker(),
        skip: undefined,
        wasRpc: false,
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
                counts.nonRpc++;
                return;
              }
              state.kind = 'rpc';
              state.wasRpc = true;
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
      s.wasRpc = true;
      s.pending = new Uint8Array(0);
      s.skipped = 0;
      if (skipped > 0) notice(packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: skipped ${skipped} bytes to find a record boundary`);
      if (found.over === undefined) feedRecords(s, all.subarray(found.at), packetIndex);
      else {
        startSkip(s, { left: found.over, last: true, mark: [], size: found.over, fragments: 1, packetIndex, judge: undefined });
        feedSkip(s, all.subarray(found.at + 4), packetIndex);
      }
      return;
    }
    // Keep what a later chunk may complete: from a candidate that needs more bytes, or the last 15 bytes.
    const keepFrom = found ? found.wait : Math.max(0, all.length - 15);
    s.skipped += keepFrom;
    s.pending = all.slice(keepFrom);
    if (s.skipped + s.pending.length > MAX_SYNC_SCAN + maxRecordSize || (!found && s.skipped > MAX_SYNC_SCAN)) {
      if (s.wasRpc) notice(packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: no record boundary in ${s.skipped} bytes; the rest of this stream is passed over`);
      s.kind = 'other';
      s.pending = new Uint8Array(0);
      counts.nonRpc++;
    }
  };

  /**
   * Feeds a stream's record decoder, but passes over a record that would exceed the cap: the records
   * before it are decoded, it is skipped without being kept, and decoding resumes after it.
   */
  const feedRecords = (s: DirState, bytes: Uint8Array, packetIndex: number): void => {
    const over = s.marks.scan(bytes, maxRecordSize);
    if (!over) {
      // The decoder keeps the bytes of a record the chunk leaves incomplete: give it a copy of those,
      // so that a partial record never holds on to a whole capture chunk.
      const tail = s.marks.tail(bytes.length);
      if (tail >= bytes.length) pushRecords(s, bytes, packetIndex);
      else {
        const decoder = s.decoder;
        if (tail > 0) pushRecords(s, bytes.subarray(0, tail), packetIndex);
        if (s.decoder === decoder && (s.kind === 'rpc' || s.kind === 'unknown')) pushRecords(s, bytes.slice(tail), packetIndex);
      }
      return;
    }
    const before = over.dataStart - 4;
    if (before > 0) pushRecords(s, bytes.subarray(0, before), packetIndex);
    if (s.kind !== 'rpc' && s.kind !== 'unknown') return;
    const judge = s.kind === 'unknown' ? [] : undefined;
    startSkip(s, { left: over.fragment, last: over.last, mark: [], size: over.size, fragments: over.fragments, packetIndex, judge });
    feedSkip(s, bytes.subarray(over.dataStart), packetIndex);
  };

  /** Starts passing over a record; the decoder's partial record (earlier fragments of it) is dropped. */
  const startSkip = (s: DirState, sk: Skip): void => {
    s.kind = 'skip';
    s.skip = sk;
    s.decoder = new RecordDecoder(s.decoder.onRecord, { maxRecordSize });
    s.marks = new MarkWalker();
  };

  /** Passes over the rest of an oversized record, then goes back to decoding records. */
  const feedSkip = (s: DirState, bytes: Uint8Array, packetIndex: number): void => {
    const sk = s.skip!;
    let i = 0;
    for (;;) {
      if (sk.left > 0 && i < bytes.length) {
        const take = Math.min(sk.left, bytes.length - i);
        if (sk.judge) for (let k = i; k < i + take && sk.judge.length < 12; k++) sk.judge.push(bytes[k]!);
        i += take;
        sk.left -= take;
      }
      if (sk.judge && (sk.judge.length >= 12 || sk.left === 0)) {
        // The stream's first record: RPC-looking is reported, anything else makes it not RPC.
        if (!rpcLike(Uint8Array.from(sk.judge))) {
          s.kind = 'other';
          s.skip = undefined;
          counts.nonRpc++;
          return;
        }
        sk.judge = undefined;
        s.wasRpc = true;
      }
      if (sk.left > 0) return; // needs the next chunk
      if (sk.last) {
        if (!sk.judge) notice(sk.packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: ${overText(sk, maxRecordSize, true)}`, ErrorCodes.ERR_RECORD_TOO_LARGE);
        s.kind = 'rpc';
        s.skip = undefined;
        if (i < bytes.length) feedRecords(s, bytes.subarray(i), packetIndex);
        return;
      }
      if (i >= bytes.length) return;
      // The next fragment's mark.
      while (sk.mark.length < 4 && i < bytes.length) sk.mark.push(bytes[i++]!);
      if (sk.mark.length < 4) return;
      const mark = ((sk.mark[0]! << 24) | (sk.mark[1]! << 16) | (sk.mark[2]! << 8) | sk.mark[3]!) >>> 0;
      sk.mark = [];
      sk.left = mark & 0x7fffffff;
      sk.last = mark >= 0x80000000;
      sk.size += sk.left;
      sk.fragments++;
    }
  };

  /** A gap or the end of the stream while passing over a record: say so, if the stream is RPC. */
  const endSkip = (s: DirState, packetIndex: number): void => {
    const sk = s.skip;
    if (!sk) return;
    s.skip = undefined;
    if (sk.judge) {
      s.kind = 'other';
      counts.nonRpc++;
      return;
    }
    notice(packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: ${overText(sk, maxRecordSize, false)}`, ErrorCodes.ERR_RECORD_TOO_LARGE);
  };

  /** Feeds a stream's record decoder; a broken stream is resynchronised rather than abandoned. */
  const pushRecords = (s: DirState, bytes: Uint8Array, packetIndex: number): void => {
    try {
      s.decoder.push(bytes);
    } catch (e) {
      if (s.kind === 'unknown') {
        s.kind = 'other';
        counts.nonRpc++;
      } else {
        const err = errorInfo(e);
        notice(packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: ${err.message}; looking for the next record boundary`, err.code);
        resync(s);
      }
    }
  };

  /** Starts looking for a record boundary with a fresh record decoder (the old one's state is lost). */
  const resync = (s: DirState): void => {
    s.kind = 'sync';
    s.pending = new Uint8Array(0);
    s.skipped = 0;
    s.skip = undefined;
    s.decoder = new RecordDecoder(s.decoder.onRecord, { maxRecordSize });
    s.marks = new MarkWalker();
  };

  const onEvent = (ev: FlowEvent): void => {
    if (ev.kind === 'warning') {
      notice(-1, `capture file: ${ev.message} (file offset ${ev.fileOffset})`);
      return;
    }
    curIndex = ev.packetIndex;
    curTime = ev.timestamp;
    if (ev.packetIndex + 1 > counts.packets) counts.packets = ev.packetIndex + 1;
    switch (ev.kind) {
      case 'udp': {
        let msg: RpcMessage | undefined;
        let err: { code: string; message: string } | undefined;
        try {
          msg = decodeRpcMessage(ev.payload);
        } catch (e) {
          err = errorInfo(e);
        }
        const known = isRpcPort(ev.src) || isRpcPort(ev.dst);
        const isReplyToKnownCall = msg?.mtype === 1 && findCall(msg.xid, 'udp', ev.dst, ev.src) !== undefined;
        if (msg && (isReplyToKnownCall || (msg.mtype === 0 && msg.rpcvers === 2) || known || ev.src.port === 111 || ev.dst.port === 111)) {
          addRpcPort(msg.mtype === 0 ? ev.dst : ev.src);
          emit('udp', ev.src, ev.dst, ev.payload, undefined, undefined, msg, undefined);
        } else if (known || ev.dst.port === 111 || ev.src.port === 111) {
          emit('udp', ev.src, ev.dst, ev.payload, undefined, undefined, msg, err ?? { code: 'ERR_RPC_HEADER', message: 'not a plausible RPC message' });
        } else counts.nonRpc++;
        if (ev.truncated) notice(ev.packetIndex, 'UDP datagram cut short by the capture');
        return;
      }
      case 'data': {
        const s = dirFor(ev.conn, ev.dir);
        if (s.kind === 'other' || s.kind === 'dead') return;
        if (s.kind === 'sync') feedSync(s, ev.bytes, ev.packetIndex);
        else if (s.kind === 'skip') feedSkip(s, ev.bytes, ev.packetIndex);
        else feedRecords(s, ev.bytes, ev.packetIndex);
        return;
      }
      case 'gap': {
        const s = dirFor(ev.conn, ev.dir);
        if (s.kind === 'skip') endSkip(s, ev.packetIndex);
        if (s.kind === 'other' || s.kind === 'dead') return;
        if (s.kind === 'rpc' || s.kind === 'skip' || !s.decoder.idle) {
          notice(ev.packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: ${ev.length} bytes missing from the capture at stream offset ${ev.offset}; looking for the next record boundary`);
        }
        resync(s);
        return;
      }
      case 'end':
      case 'close': {
        const dirsToCheck: TcpDirection[] = ev.kind === 'end' ? [ev.dir] : ['toServer', 'toClient'];
        for (const d of dirsToCheck) {
          const s = dirs.get(ev.conn.id * 2 + (d === 'toServer' ? 0 : 1));
          if (s?.kind === 'skip') {
            endSkip(s, ev.packetIndex);
            if (s.kind === 'skip') s.kind = 'dead';
            continue;
          }
          if (!s || s.kind !== 'rpc') continue;
          try {
            s.decoder.end();
          } catch (e) {
            const err = errorInfo(e);
            notice(ev.packetIndex, `TCP ${formatEndpoint(s.src)} -> ${formatEndpoint(s.dst)}: ${err.message}`, err.code);
          }
          s.kind = 'dead';
        }
        if (ev.kind === 'close') {
          dirs.delete(ev.conn.id * 2);
          dirs.delete(ev.conn.id * 2 + 1);
        }
        return;
      }
      default:
        return;
    }
  };

  return {
    counts,
    push(p: FlowPacket): void {
      if (p.timestamp >= nextExpiry) {
        curIndex = p.index;
        curTime = p.timestamp;
        expire(p.timestamp);
      }
      for (const ev of flows.push(p)) onEvent(ev);
    },
    warning(w: CaptureWarning): void {
      onEvent({ kind: 'warning', message: w.message, fileOffset: w.offset });
    },
    finish(): void {
      for (const ev of flows.finish()) onEvent(ev);
      for (let c = waiting.first; c; c = c.next) options.onUnanswered?.(c, 'end');
      waiting.clear();
      answered.clear();
      byXid.clear();
    },
    state(): TracerState {
      let streamBytes = 0;
      for (const s of dirs.values()) streamBytes += s.decoder.buffered + s.pending.length;
      const f = flows.state;
      return { pendingCalls: waiting.size, streams: dirs.size, streamBytes, connections: f.connections, fragmentBytes: f.fragmentBytes };
    },
  };
}
