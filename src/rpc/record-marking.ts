// Record marking (RFC 5531 §11): RPC messages over byte streams, as fragments behind 4-byte marks.
//
// A mark is one big-endian word: the top bit says "last fragment of the record", the low 31 bits give
// the fragment's length. A record is one RPC message.

import { ErrorCodes, RecordError } from '../errors.js';
import type { XdrWriter } from '../xdr/writer.js';

/** Default largest record accepted: 16 MiB. */
export const DEFAULT_MAX_RECORD_SIZE = 16 * 1024 * 1024;
/** Default most fragments in one record (empty fragments included, so a peer cannot spin us forever). */
export const DEFAULT_MAX_FRAGMENTS = 65536;
/** Largest fragment length a mark can carry. */
export const MAX_FRAGMENT_SIZE = 0x7fffffff;
const LAST_FRAGMENT = 0x80000000;

export interface RecordDecoderOptions {
  /** Largest record accepted, in bytes (checked when each mark arrives, before data is buffered). */
  maxRecordSize?: number;
  /** Most fragments in one record. */
  maxFragments?: number;
}

/**
 * Called with each complete record and the lengths of the fragments it came in. It must not throw: an
 * exception propagates out of `push()` and the rest of that chunk is not processed.
 */
export type RecordHandler = (record: Uint8Array, fragments: number[]) => void;

/**
 * Incremental record-marking decoder. Feed it chunks exactly as the socket delivers them (any
 * boundaries). A record inside one chunk is handed out as a view of that chunk (no copy); a record spread
 * over several chunks or fragments is copied once into a buffer of its exact size.
 *
 * Limits are enforced when a mark is read: a record that would exceed `maxRecordSize` or
 * `maxFragments` throws `RecordError` at once; after that the decoder refuses further input, since the
 * stream can no longer be trusted (the connection must be closed).
 */
export class RecordDecoder {
  readonly maxRecordSize: number;
  readonly maxFragments: number;
  /** The handler records are delivered to. */
  readonly onRecord: RecordHandler;
  /** Bytes of a mark split across chunks. */
  #mark = 0;
  #markBytes = 0;
  /** Data bytes still to come in the current fragment. */
  #fragLeft = 0;
  #inFragment = false;
  #lastFragment = false;
  /** Pieces of the current record (views of input chunks). */
  #parts: Uint8Array[] = [];
  #recordSize = 0;
  #fragments: number[] = [];
  #failed: RecordError | null = null;

  constructor(onRecord: RecordHandler, options: RecordDecoderOptions = {}) {
    this.onRecord = onRecord;
    this.maxRecordSize = options.maxRecordSize ?? DEFAULT_MAX_RECORD_SIZE;
    this.maxFragments = options.maxFragments ?? DEFAULT_MAX_FRAGMENTS;
  }

  /** True when no partial record or mark is buffered. */
  get idle(): boolean {
    return this.#markBytes === 0 && !this.#inFragment && this.#fragments.length === 0;
  }

  /** Bytes of the current partial record received so far (0 when idle). */
  get buffered(): number {
    let n = 0;
    for (const p of this.#parts) n += p.length;
    return n + this.#markBytes;
  }

  /** Consumes one chunk, calling the handler for each record it completes. */
  push(chunk: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    const len = chunk.length;
    let i = 0;
    while (i < len) {
      if (!this.#inFragment) {
        // Read (the rest of) a 4-byte mark.
        if (this.#markBytes === 0 && i + 4 <= len) {
          this.#mark = ((chunk[i]! << 24) | (chunk[i + 1]! << 16) | (chunk[i + 2]! << 8) | chunk[i + 3]!) >>> 0;
          i += 4;
        } else {
          while (this.#markBytes < 4 && i < len) {
            this.#mark = ((this.#mark << 8) | chunk[i++]!) >>> 0;
            this.#markBytes++;
          }
          if (this.#markBytes < 4) return;
          this.#markBytes = 0;
        }
        this.#startFragment();
        if (this.#fragLeft === 0) {
          this.#endFragment();
          continue;
        }
      }
      const take = Math.min(this.#fragLeft, len - i);
      this.#parts.push(i === 0 && take === len ? chunk : chunk.subarray(i, i + take));
      i += take;
      this.#fragLeft -= take;
      if (this.#fragLeft === 0) this.#endFragment();
    }
  }

  /**
   * Declares the end of the stream. Throws `RecordError` (`ERR_RECORD_TRUNCATED`) if it ended inside a
   * record, with `seen` = the bytes of that record received.
   */
  end(): void {
    if (this.#failed || this.idle) return;
    const seen = this.buffered;
    this.#reset();
    throw new RecordError(ErrorCodes.ERR_RECORD_TRUNCATED, `stream ended inside a record (${seen} bytes received)`, 0, seen);
  }

  #startFragment(): void {
    const mark = this.#mark;
    const size = mark & MAX_FRAGMENT_SIZE;
    this.#lastFragment = mark >= LAST_FRAGMENT;
    const total = this.#recordSize + size;
    if (total > this.maxRecordSize) {
      throw this.#fail(
        new RecordError(ErrorCodes.ERR_RECORD_TOO_LARGE, `record of ${total} bytes exceeds the maximum of ${this.maxRecordSize}`, this.maxRecordSize, total),
      );
    }
    if (this.#fragments.length >= this.maxFragments) {
      throw this.#fail(
        new RecordError(ErrorCodes.ERR_RECORD_FRAGMENTS, `record has more than ${this.maxFragments} fragments`, this.maxFragments, this.#fragments.length + 1),
      );
    }
    this.#recordSize = total;
    this.#fragments.push(size);
    this.#fragLeft = size;
    this.#inFragment = true;
  }

  #endFragment(): void {
    this.#inFragment = false;
    if (!this.#lastFragment) return;
    const parts = this.#parts;
    let record: Uint8Array;
    if (parts.length === 1) record = parts[0]!;
    else {
      record = new Uint8Array(this.#recordSize);
      let o = 0;
      for (const p of parts) {
        record.set(p, o);
        o += p.length;
      }
    }
    const fragments = this.#fragments;
    this.#reset();
    this.onRecord(record, fragments);
  }

  #reset(): void {
    this.#parts = [];
    this.#recordSize = 0;
    this.#fragments = [];
    this.#inFragment = false;
    this.#markBytes = 0;
    this.#fragLeft = 0;
  }

  #fail(e: RecordError): RecordError {
    this.#failed = e;
    this.#reset();
    return e;
  }
}

function markBytes(out: Uint8Array, at: number, size: number, last: boolean): void {
  const v = (last ? LAST_FRAGMENT : 0) + size;
  out[at] = v >>> 24;
  out[at + 1] = (v >>> 16) & 0xff;
  out[at + 2] = (v >>> 8) & 0xff;
  out[at + 3] = v & 0xff;
}

/**
 * Frames a record given as one or more segments into fragments and returns the vector to hand to the
 * socket in one vectored write: marks interleaved with views of the input (nothing is copied).
 *
 * `fragmentation` is the most data bytes per fragment (default: one fragment), or the exact list of
 * fragment lengths to use (as `RecordDecoder` reports them), to reproduce another sender's framing; its
 * sum must be the record's length. An empty record is one empty last fragment.
 */
export function frameRecord(segments: readonly Uint8Array[], fragmentation: number | readonly number[] = MAX_FRAGMENT_SIZE): Uint8Array[] {
  let total = 0;
  for (const s of segments) total += s.length;
  let sizes: readonly number[];
  if (typeof fragmentation === 'number') {
    if (!(fragmentation >= 1 && fragmentation <= MAX_FRAGMENT_SIZE)) throw new RangeError('fragment size must be 1..2^31-1');
    const n = Math.max(1, Math.ceil(total / fragmentation));
    const list = new Array<number>(n).fill(fragmentation);
    list[n - 1] = total - fragmentation * (n - 1);
    sizes = list;
  } else {
    let sum = 0;
    for (const f of fragmentation) {
      if (!(f >= 0 && f <= MAX_FRAGMENT_SIZE)) throw new RangeError('fragment size must be 0..2^31-1');
      sum += f;
    }
    if (sum !== total || fragmentation.length === 0) throw new RangeError(`fragment sizes add up to ${sum}, the record has ${total} bytes`);
    sizes = fragmentation;
  }
  const marks = new Uint8Array(4 * sizes.length);
  const out: Uint8Array[] = [];
  let seg = 0;
  let at = 0; // offset in segments[seg]
  for (let f = 0; f < sizes.length; f++) {
    let room = sizes[f]!;
    markBytes(marks, f * 4, room, f === sizes.length - 1);
    out.push(marks.subarray(f * 4, f * 4 + 4));
    while (room > 0) {
      const s = segments[seg]!;
      const take = Math.min(room, s.length - at);
      if (take > 0) out.push(at === 0 && take === s.length ? s : s.subarray(at, at + take));
      at += take;
      room -= take;
      if (at === s.length) {
        seg++;
        at = 0;
      }
    }
  }
  return out;
}

/**
 * Starts a record in `w`: resets it and reserves the 4-byte mark, so a message that fits one fragment
 * goes out as one contiguous buffer with its mark backfilled by `endRecord` (no second buffer, no copy).
 */
export function beginRecord(w: XdrWriter): void {
  w.reset();
  w.writeUint(0);
}

/**
 * Finishes a record begun with `beginRecord` and returns the buffers to write, in order. One buffer
 * (mark + message) when the message fits one fragment and nothing was spliced; otherwise the marks and
 * views that `frameRecord` makes. Views alias the writer: write them before reusing it.
 */
export function endRecord(w: XdrWriter, maxFragmentSize: number = MAX_FRAGMENT_SIZE): Uint8Array[] {
  const chunks = w.chunks();
  const size = w.length - 4;
  if (chunks.length === 1 && size <= maxFragmentSize) {
    markBytes(chunks[0]!, 0, size, true);
    return chunks;
  }
  chunks[0] = chunks[0]!.subarray(4);
  return frameRecord(chunks, maxFragmentSize);
}
