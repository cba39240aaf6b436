// RPC over a byte stream (TCP or a unix socket): record marking (RFC 5531 §11) on a net.Socket, shared
// by the client and the server.
//
// Sending: a message is encoded into the connection's one XdrWriter behind a reserved record mark and
// written with a single write (or, when large opaques were spliced in, one corked writev), never
// concatenated. Node does not copy a buffer handed to socket.write: if the kernel did not take all of
// it at once the socket keeps a reference, so the writer's buffer then belongs to the socket and the
// next message gets a fresh writer; while the socket is congested, messages are handed over as
// exact-size copies instead (one small copy beats a fresh 4 KiB buffer per queued message). Receiving: a RecordDecoder with size and fragment caps; a record
// over the cap, or any record-marking error, destroys the socket (the stream cannot be trusted).

import type { Socket } from 'node:net';
import { RecordError } from '../errors.js';
import { beginRecord, endRecord, RecordDecoder, type RecordDecoderOptions } from '../rpc/record-marking.js';
import { XdrWriter } from '../xdr/writer.js';

/** Limits of one stream connection. */
export interface StreamOptions extends RecordDecoderOptions {
  /** Opaque data at least this long is written from the caller's buffer, not copied. Default 8192. */
  spliceThreshold?: number;
  /** Largest fragment sent; longer records go out in several fragments. Default 2^31-1 (one fragment). */
  maxFragmentSize?: number;
}

/** Default splice threshold: opaques from 8 KiB up are written without a copy. */
export const DEFAULT_SPLICE_THRESHOLD = 8192;

/**
 * One framed connection. `onRecord` gets each complete record (a view: valid as long as the caller keeps
 * it; the bytes are never reused). Record-marking errors destroy the socket with the RecordError as the
 * cause; the socket's own 'close' event is where callers fail their in-flight work.
 */
export class RecordStream {
  readonly socket: Socket;
  readonly #decoder: RecordDecoder;
  readonly #writerOptions: { initialSize: number; spliceThreshold: number };
  readonly #maxFragment: number | undefined;
  #writer: XdrWriter;

  constructor(socket: Socket, onRecord: (record: Uint8Array) => void, options: StreamOptions = {}) {
    this.socket = socket;
    this.#writerOptions = { initialSize: 4096, spliceThreshold: options.spliceThreshold ?? DEFAULT_SPLICE_THRESHOLD };
    this.#writer = new XdrWriter(this.#writerOptions);
    this.#maxFragment = options.maxFragmentSize;
    this.#decoder = new RecordDecoder((record) => onRecord(record), options);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.#decoder.push(chunk);
      } catch (e) {
        socket.destroy(e instanceof Error ? e : new Error(String(e)));
      }
    });
    socket.on('end', () => {
      try {
        this.#decoder.end();
      } catch (e) {
        if (e instanceof RecordError) socket.destroy(e);
      }
    });
  }

  /** Bytes of a partial record buffered (for idle and memory accounting). */
  get buffered(): number {
    return this.#decoder.buffered;
  }

  /** Starts a message: the writer, reset, with the record mark reserved. Finish with `send()`. */
  begin(): XdrWriter {
    beginRecord(this.#writer);
    return this.#writer;
  }

  /**
   * Sends the message begun with `begin()`: one write, or one corked writev of [head, spliced opaque,
   * tail…]. Returns false when the socket's buffer is over its high-water mark: wait for 'drain' before
   * sending more.
   */
  send(): boolean {
    const s = this.socket;
    const w = this.#writer;
    const vector = endRecord(w, this.#maxFragment);
    if (s.destroyed) return false;
    // Already congested: the socket will hold what we write for a while, so give it exact-size copies
    // of the parts that live in our buffer (the writer stays ours; spliced opaques are the caller's).
    const congested = s.writableLength > 0;
    const own = (v: Uint8Array): Uint8Array => (congested && v.buffer === w.buf.buffer ? Uint8Array.prototype.slice.call(v) : v);
    if (vector.length === 1) s.write(own(vector[0]!));
    else {
      s.cork();
      for (const v of vector) s.write(own(v));
      s.uncork();
    }
    // Not congested before, but the kernel did not take it all: the socket still holds (part of) our
    // buffer, which is the socket's now; the next message gets a fresh writer.
    if (!congested && s.writableLength > 0) this.#writer = new XdrWriter(this.#writerOptions);
    return !s.writableNeedDrain;
  }
}
