// Public XDR API (RFC 4506): reader/writer primitives, run-time codecs, quadruple and string helpers.

import { XdrReader } from './reader.js';
import type { XdrType } from './types.js';
import { XdrWriter } from './writer.js';
import type { DecodeLimits } from './limits.js';

export { XdrReader } from './reader.js';
export { XdrWriter, type XdrWriterOptions } from './writer.js';
export { Quadruple } from './quadruple.js';
export { DEFAULT_LIMITS, type DecodeLimits, type ResolvedLimits, resolveLimits } from './limits.js';
export { decodeText, encodeText } from './text.js';
export * from './types.js';
export { fromJson, toJson, type Json } from './json.js';

/** Encodes `value` as `type` into a new Uint8Array. */
export function encode<T>(type: XdrType<T>, value: T): Uint8Array {
  const w = new XdrWriter({ initialSize: 256 });
  type.write(w, value);
  return w.toBytes();
}

/** Decodes one `type` value that must span all of `bytes` (`ERR_XDR_TRAILING` otherwise). */
export function decode<T>(type: XdrType<T>, bytes: Uint8Array, limits?: DecodeLimits): T {
  const r = new XdrReader(bytes, 0, bytes.length, limits);
  const v = type.read(r);
  r.expectEnd();
  return v;
}
