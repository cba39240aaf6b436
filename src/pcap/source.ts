// Capture bytes as they are read: from a file in large chunks, or from any stream (standard input, a
// pipe from tcpdump), gunzipped on the way when they are gzip-compressed (as tshark reads `.gz` files).
import { open } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';

/** Bytes read from a file at a time (small enough that chunks waiting for the garbage collector cost little). */
export const FILE_CHUNK_SIZE = 256 * 1024;

/** Options for {@link openCaptureFile}. */
export interface OpenCaptureOptions {
  /** Bytes read at a time (default {@link FILE_CHUNK_SIZE}). */
  chunkSize?: number;
  /**
   * Read into a ring of two buffers instead of a new one each time (an uncompressed file only). Only for
   * a consumer done with every view of a chunk once it asks for the next one: e.g. a CaptureReader whose
   * packets are all handled (what is kept of them copied) and which is then `compact()`ed.
   */
  reuseBuffers?: boolean;
}

/**
 * The chunks of a capture file, decompressed if it is gzip. Resolves once the first chunk is read, so
 * that a missing or unreadable file (or a directory) rejects here with the system's error.
 */
export async function openCaptureFile(path: string, options: OpenCaptureOptions = {}): Promise<AsyncIterable<Uint8Array>> {
  const size = options.chunkSize ?? FILE_CHUNK_SIZE;
  const handle = await open(path, 'r');
  try {
    const first = await readChunk(handle, Buffer.allocUnsafe(size));
    const ring = options.reuseBuffers && !isGzip(first) ? [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] : undefined;
    async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
      try {
        if (first) yield first;
        else return;
        for (let i = 0; ; i++) {
          const c = await readChunk(handle, ring ? ring[i % 2]! : Buffer.allocUnsafe(size));
          if (!c) return;
          yield c;
        }
      } finally {
        await handle.close();
      }
    }
    return maybeGunzip(first, chunks());
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Fills `buf` (or what is left of the file); undefined at the end of the file. */
async function readChunk(handle: import('node:fs/promises').FileHandle, buf: Buffer): Promise<Uint8Array | undefined> {
  const size = buf.length;
  let n = 0;
  while (n < size) {
    const { bytesRead } = await handle.read(buf, n, size - n, null);
    if (bytesRead === 0) break;
    n += bytesRead;
  }
  // A plain Uint8Array view: subarrays of it (every packet, payload, record) are cheaper than a Buffer's.
  return n === 0 ? undefined : new Uint8Array(buf.buffer, buf.byteOffset, n);
}

/**
 * The chunks of a capture arriving on `stream` (e.g. `process.stdin`), decompressed if they are gzip.
 * Resolves once the first chunk arrived (or the stream ended).
 */
export async function captureStream(stream: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  const view = (c: Uint8Array): Uint8Array => (Buffer.isBuffer(c) ? new Uint8Array(c.buffer, c.byteOffset, c.byteLength) : c);
  async function* chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    if (first.done) return;
    yield view(first.value);
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield view(r.value);
    }
  }
  return maybeGunzip(first.done ? undefined : first.value, chunks());
}

/** gzip's magic number, and the deflate method: what tells a gzip file from a capture (whose magic differs). */
function isGzip(first: Uint8Array | undefined): boolean {
  return first !== undefined && first.length >= 3 && first[0] === 0x1f && first[1] === 0x8b && first[2] === 8;
}

function maybeGunzip(first: Uint8Array | undefined, chunks: AsyncGenerator<Uint8Array, void, undefined>): AsyncIterable<Uint8Array> {
  if (!isGzip(first)) return chunks;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  // Errors of either side (a read error, corrupt or truncated gzip data) end the iteration with that error.
  pipeline(Readable.from(chunks, { objectMode: false }), gunzip, () => {});
  return plain(gunzip);
}

/** The chunks as plain Uint8Array views (subarrays of a Buffer are Buffers, and slower to make). */
async function* plain(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  for await (const c of chunks) yield Buffer.isBuffer(c) ? new Uint8Array(c.buffer, c.byteOffset, c.byteLength) : c;
}
