// Reassembles one direction of a TCP connection into an in-order byte stream, reporting holes as gaps.

/** Where a piece of stream output came from. */
export interface SegmentMeta {
  /** Index of the captured packet. */
  packetIndex: number;
  /** Capture time in seconds. */
  timestamp: number;
}

/** Output of a {@link TcpHalfStream}, in stream order. */
export type HalfStreamOutput =
  | {
      kind: 'data';
      /** Stream offset of `bytes[0]` (0 = first byte after the SYN, or first byte seen). */
      offset: number;
      /** In-order bytes: a subarray of the segment's payload. */
      bytes: Uint8Array;
      /** The packet that carried these bytes. */
      meta: SegmentMeta;
    }
  | {
      kind: 'gap';
      /** Stream offset of the first missing byte. */
      offset: number;
      /** Number of bytes missing. */
      length: number;
      /** The packet whose arrival settled that the bytes are lost. */
      meta: SegmentMeta;
    }
  | {
      kind: 'fin';
      /** Stream offset of the FIN, i.e. the stream's length. */
      offset: number;
      meta: SegmentMeta;
    };

/** Limits for a {@link TcpHalfStream}. */
export interface HalfStreamOptions {
  /**
   * Out-of-order bytes held while waiting for a hole to fill (copies: held bytes never keep a capture
   * chunk alive); beyond this the hole is declared a gap. Default 16 MiB.
   */
  maxBufferedBytes?: number;
  /** Out-of-order segments held; beyond this the hole is declared a gap. Default 4096. */
  maxBufferedSegments?: number;
}

const TWO32 = 4294967296;
/** The output of a call that produced none (never modified). */
const NONE: HalfStreamOutput[] = [];
/** Acknowledgements further ahead than this are treated as nonsense and ignored. */
const MAX_ACK_JUMP = 1 << 30;

/** Signed distance from sequence number `b` to `a`, modulo 2^32. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

interface Held {
  start: number;
  end: number;
  bytes: Uint8Array;
  meta: SegmentMeta;
}

/**
 * One direction of a TCP connection.
 *
 * Sequence numbers are mapped to stream offsets (JavaScript numbers, so wraparound at 2^32 is
 * invisible to consumers). The stream starts after the SYN if one is seen, otherwise at the first
 * sequence number seen (or the first acknowledgement from the peer, whichever comes first).
 * Retransmitted and overlapping bytes are delivered once (the first copy wins). Bytes that arrive
 * ahead of a hole are held until the hole fills, or until it is known to be lost: the peer
 * acknowledged past it, the buffer limits are reached, or {@link flush} is called.
 */
export class TcpHalfStream {
  /** Sequence number of stream offset 0, once known. */
  #base: number | undefined;
  /** Stream offset of the next byte to deliver. */
  #next = 0;
  /** Highest stream offset the peer acknowledged. */
  #acked = 0;
  #finOffset: number | undefined;
  #finished = false;
  #synSeq: number | undefined;
  #held: Held[] = [];
  #heldBytes = 0;
  readonly #maxBytes: number;
  readonly #maxSegments: number;

  constructor(options: HalfStreamOptions = {}) {
    this.#maxBytes = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.#maxSegments = options.maxBufferedSegments ?? 4096;
  }

  /** Stream offset of the next byte expected: bytes delivered plus bytes reported missing. */
  get offset(): number {
    return this.#next;
  }
  /** True once the FIN was reached in order. */
  get finished(): boolean {
    return this.#finished;
  }
  /** Sequence number of the SYN, if one was seen. */
  get synSeq(): number | undefined {
    return this.#synSeq;
  }
  /** Whether any sequence number has been seen, so the stream has a start. */
  get started(): boolean {
    return this.#base !== undefined;
  }
  /** Number of out-of-order segments currently held. */
  get heldSegments(): number {
    return this.#held.length;
  }
  /** Bytes of the out-of-order segments currently held. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Stream offset of sequence number `seq` (nearest to the current position, modulo 2^32). */
  #offsetOf(seq: number): number {
    const cur = (this.#base! + (this.#next % TWO32)) % TWO32;
    return this.#next + seqDiff(seq, cur);
  }

  /**
   * Handles a segment sent in this direction.
   * @param seq the segment's sequence number.
   * @param syn the SYN flag (it occupies one sequence number before the data).
   * @param fin the FIN flag (it occupies one sequence number after the data).
   */
  segment(seq: number, syn: boolean, fin: boolean, payload: Uint8Array, meta: SegmentMeta): HalfStreamOutput[] {
    const dataSeq = syn ? (seq + 1) % TWO32 : seq;
    if (syn && this.#synSeq === undefined) this.#synSeq = seq;
    if (this.#base === undefined) this.#base = dataSeq;
    const out: HalfStreamOutput[] = [];
    const start = this.#offsetOf(dataSeq);
    const end = start + payload.length;
    if (fin && this.#finOffset === undefined && end >= this.#next) this.#finOffset = end;
    if (this.#finOffset !== undefined && end > this.#finOffset) {
      // Data past the FIN cannot belong to this stream.
      payload = payload.subarray(0, Math.max(0, this.#finOffset - start));
    }
    if (payload.length > 0 && start + payload.length > this.#next) {
      if (start <= this.#next) {
        const bytes = start === this.#next ? payload : payload.subarray(this.#next - start);
        out.push({ kind: 'data', offset: this.#next, bytes, meta });
        this.#next = start + payload.length;
      } else {
        // Held past this packet: a copy, so the capture chunk the payload is a view of can be let go.
        this.#hold({ start, end: start + payload.length, bytes: payload.slice(), meta });
      }
    }
    this.#drain(out, meta, false);
    return out;
  }

  /**
   * Handles an acknowledgement number sent by the peer. Acknowledged bytes that were never
   * captured are reported as a gap once later bytes (or the FIN) are waiting behind them.
   */
  acknowledge(ack: number, meta: SegmentMeta): HalfStreamOutput[] {
    if (this.#base === undefined) this.#base = ack;
    const at = this.#offsetOf(ack);
    if (at > this.#acked && at - this.#next <= MAX_ACK_JUMP) this.#acked = at;
    // Mostly nothing is held and no FIN is pending: nothing to drain, no array to make.
    if (this.#held.length === 0 && (this.#finOffset === undefined || this.#finished)) return NONE;
    const out: HalfStreamOutput[] = [];
    this.#drain(out, meta, false);
    return out;
  }

  /** Delivers everything held, reporting each remaining hole as a gap (end of capture or reset). */
  flush(meta: SegmentMeta): HalfStreamOutput[] {
    const out: HalfStreamOutput[] = [];
    this.#drain(out, meta, true);
    return out;
  }

  #hold(h: Held): void {
    let i = this.#held.length;
    while (i > 0 && this.#held[i - 1]!.start > h.start) i--;
    this.#held.splice(i, 0, h);
    this.#heldBytes += h.bytes.length;
  }

  #drain(out: HalfStreamOutput[], meta: SegmentMeta, force: boolean): void {
    for (;;) {
      const first = this.#held[0];
      if (first && first.end <= this.#next) {
        this.#held.shift();
        this.#heldBytes -= first.bytes.length;
        continue;
      }
      if (first && first.start <= this.#next) {
        this.#held.shift();
        this.#heldBytes -= first.bytes.length;
        out.push({ kind: 'data', offset: this.#next, bytes: first.bytes.subarray(this.#next - first.start), meta: first.meta });
        this.#next = first.end;
        continue;
      }
      // A hole lies before `target`, the next thing waiting (held bytes or the FIN).
      const target = first ? first.start : this.#finOffset;
      if (target === undefined || target <= this.#next) break;
      let gapEnd: number | undefined;
      if (force || this.#heldBytes > this.#maxBytes || this.#held.length > this.#maxSegments) gapEnd = target;
      else if (this.#acked > this.#next) gapEnd = Math.min(this.#acked, target);
      if (gapEnd === undefined) break;
      out.push({ kind: 'gap', offset: this.#next, length: gapEnd - this.#next, meta });
      this.#next = gapEnd;
    }
    if (!this.#finished && this.#finOffset !== undefined && this.#next >= this.#finOffset) {
      this.#finished = true;
      out.push({ kind: 'fin', offset: this.#finOffset, meta });
    }
  }
}
