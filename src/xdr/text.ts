// XDR string bytes <-> JS strings, lossless for bytes that are not valid UTF-8.
//
// XDR strings are byte strings (RFC 4506 §4.11); C programs put ASCII, UTF-8 or anything else in them.
// We decode valid UTF-8 as usual and map every byte that is not part of a valid UTF-8 sequence to the
// lone surrogate U+DC80..U+DCFF (Python's "surrogateescape", PEP 383). Valid UTF-8 never decodes to a
// lone surrogate, so the mapping is a bijection: encoding the string gives back exactly the original bytes.

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8enc = new TextEncoder();

/** Decodes `b[start, end)` as an XDR string (UTF-8, invalid bytes escaped to U+DC80..U+DCFF). */
export function decodeText(b: Uint8Array, start: number, end: number): string {
  // Short ASCII is the common case (netids, hostnames, uaddrs, file names): no TextDecoder call, no
  // subarray. Up to 12 bytes, one String.fromCharCode call with the bytes as arguments makes the string
  // at once (3x faster than appending character by character: bench/xdr/micro.js "string decode").
  const n = end - start;
  if (n <= 12) {
    let or = 0;
    for (let i = start; i < end; i++) or |= b[i]!;
    if (or < 0x80) return shortAscii(b, start, n);
    return decodeSlow(b, start, end);
  }
  if (n <= 32) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return decodeSlow(b, start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decodeSlow(b, start, end);
}

/** `n` (≤ 12) bytes known to be ASCII, as a string. */
function shortAscii(b: Uint8Array, p: number, n: number): string {
  const f = String.fromCharCode;
  switch (n) {
    case 0: return '';
    case 1: return f(b[p]!);
    case 2: return f(b[p]!, b[p + 1]!);
    case 3: return f(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    case 9: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!);
    case 10: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!);
    case 11: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!);
    default: return f(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!, b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!);
  }
}

function decodeSlow(b: Uint8Array, start: number, end: number): string {
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    return decodeEscaped(b, start, end);
  }
}

/** Length in bytes of the valid UTF-8 sequence starting at `i`, or 0 if the byte there starts none. */
function validSequenceLength(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  let n: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0; // no overlong forms
    if (c === 0xed) hi = 0x9f; // no UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    if (c === 0xf4) hi = 0x8f; // nothing above U+10FFFF
  } else return 0;
  if (i + n > end) return 0;
  const c1 = b[i + 1]!;
  if (c1 < lo || c1 > hi) return 0;
  for (let k = 2; k < n; k++) {
    const ck = b[i + k]!;
    if (ck < 0x80 || ck > 0xbf) return 0;
  }
  return n;
}

function decodeEscaped(b: Uint8Array, start: number, end: number): string {
  const parts: string[] = [];
  let i = start;
  while (i < end) {
    const n = validSequenceLength(b, i, end);
    if (n === 0) {
      parts.push(String.fromCharCode(0xdc00 | b[i]!));
      i++;
      continue;
    }
    let j = i + n;
    while (j < end) {
      const m = validSequenceLength(b, j, end);
      if (m === 0) break;
      j += m;
    }
    parts.push(utf8.decode(b.subarray(i, j)));
    i = j;
  }
  return parts.join('');
}

/** Worst-case number of bytes `encodeTextInto` may write for `s`. */
export function maxEncodedLength(s: string): number {
  return s.length * 3;
}

/**
 * Writes the bytes of `s` into `out` at `pos` (which must have `maxEncodedLength(s)` bytes free) and
 * returns the number written. Returns -1 if `s` holds a lone surrogate outside U+DC80..U+DCFF, which
 * no byte string decodes to.
 */
export function encodeTextInto(s: string, out: Uint8Array, pos: number): number {
  const len = s.length;
  let i = 0;
  // ASCII fast path.
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    out[pos + i] = c;
  }
  if (i === len) return len;
  if (s.isWellFormed()) {
    const r = utf8enc.encodeInto(s.substring(i), out.subarray(pos + i));
    return i + r.written;
  }
  let p = pos + i;
  for (; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) out[p++] = c;
    else if (c < 0x800) {
      out[p++] = 0xc0 | (c >> 6);
      out[p++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < len && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      out[p++] = 0xf0 | (cp >> 18);
      out[p++] = 0x80 | ((cp >> 12) & 0x3f);
      out[p++] = 0x80 | ((cp >> 6) & 0x3f);
      out[p++] = 0x80 | (cp & 0x3f);
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      out[p++] = c & 0xff; // an escaped raw byte
    } else if (c >= 0xd800 && c <= 0xdfff) {
      return -1;
    } else {
      out[p++] = 0xe0 | (c >> 12);
      out[p++] = 0x80 | ((c >> 6) & 0x3f);
      out[p++] = 0x80 | (c & 0x3f);
    }
  }
  return p - pos;
}

/** The bytes of an XDR string value (see the module comment for the escape rule). */
export function encodeText(s: string): Uint8Array {
  const out = new Uint8Array(maxEncodedLength(s));
  const n = encodeTextInto(s, out, 0);
  if (n < 0) throw new TypeError('string holds a lone surrogate that maps to no byte');
  return out.subarray(0, n);
}
