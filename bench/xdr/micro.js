// Micro-benchmarks of the constructs a generated XDR codec is made of, each against its alternatives,
// to decide what the emitter and XdrReader/XdrWriter should do (bench/README.md, "Constructs").
//
//   node --expose-gc bench/xdr/micro.js [filter]        # after `npm run build`; BENCH_SECONDS (default 0.3), BENCH_CLOCK=cpu|wall
//
// Every case does the same work N times per call (N below), so ns/item = 1e9 / (ops/s × N). Variants of
// one construct are measured interleaved (3 rounds, median) and printed side by side.

import { XdrReader, XdrWriter } from '../../dist/xdr/index.js';
import { median, timer } from './timing.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 0.3);
const filter = process.argv[2] ?? '';
const N = 1000;

const buf = new Uint8Array(64 * 1024);
const dv = new DataView(buf.buffer);
const u32s = Array.from({ length: N }, (_, i) => (i * 2654435761) >>> 0);
const u64s = u32s.map((x, i) => (BigInt(x) << 20n) | BigInt(i));
const W = new XdrWriter({ initialSize: 64 * 1024 });
const B64 = new BigUint64Array(1);
const B8 = new Uint8Array(B64.buffer);
const U32 = new Uint32Array(B64.buffer);
const CACHE_BYTES = new Uint8Array(256 * 16);
const CACHE_LEN = new Int8Array(256).fill(-1);
const CACHE_STR = new Array(256).fill('');
const names = Array.from({ length: N }, (_, i) => ['report', 'a', 'data.txt', 'IMG_0042.jpeg', 'notes', 'build-output.tar.gz'][i % 6] + (i % 3 ? '' : String(i)));

/** Runs the variants of one construct interleaved; prints ns per item. */
function group(title, variants) {
  if (filter && !title.includes(filter)) return;
  const timers = Object.entries(variants).map(([name, fn]) => [name, timer(fn)]);
  for (let round = 0; round < 3; round++) for (const [, t] of timers) t.run(seconds, round === 0 ? 0.1 : 0.02);
  console.log(`\n${title}`);
  const base = median(timers[0][1].result().runs);
  for (const [name, t] of timers) {
    const ops = t.result().ops;
    console.log(`  ${name.padEnd(58)} ${((1e9 / ops) / N).toFixed(2).padStart(7)} ns/item  ${(base / ops).toFixed(2)}× the first`);
  }
}

// ---- encode: range checks -----------------------------------------------------------------------------

group('uint: check + DataView.setUint32 (per value)', {
  'check `x >>> 0 !== x`, setUint32': () => {
    for (let i = 0, p = 0; i < N; i++, p += 4) {
      const x = u32s[i];
      if (x >>> 0 !== x) throw new Error();
      dv.setUint32(p, x);
    }
  },
  'no check, setUint32 (hand-written stick)': () => {
    for (let i = 0, p = 0; i < N; i++, p += 4) dv.setUint32(p, u32s[i]);
  },
  'writer.writeUint() per value (method call, own capacity check)': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) w.writeUint(u32s[i]);
  },
});

const MAXU = 0xffffffffffffffffn;
group('unsigned hyper: check + write (per value)', {
  "check typeof/<0n/>MAX, setBigUint64": () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      const h = u64s[i];
      if (typeof h !== 'bigint' || h < 0n || h > MAXU) throw new Error();
      dv.setBigUint64(p, h);
    }
  },
  'no check, setBigUint64 (hand-written stick)': () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) dv.setBigUint64(p, u64s[i]);
  },
  'check BigInt.asUintN(64, h) === h, setBigUint64': () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      const h = u64s[i];
      if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw new Error();
      dv.setBigUint64(p, h);
    }
  },
  'check, two setUint32 of Number(h >> 32n) / Number(h & 0xffffffffn)': () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      const h = u64s[i];
      if (typeof h !== 'bigint' || h < 0n || h > MAXU) throw new Error();
      dv.setUint32(p, Number(h >> 32n));
      dv.setUint32(p + 4, Number(h & 0xffffffffn));
    }
  },
  'check asUintN, BigUint64Array store, two setUint32 of its Uint32Array halves': () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      const h = u64s[i];
      if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw new Error();
      B64[0] = h;
      dv.setUint32(p, U32[1]);
      dv.setUint32(p + 4, U32[0]);
    }
  },
  'check, BigUint64Array store + byte swap': () => {
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      const h = u64s[i];
      if (typeof h !== 'bigint' || h < 0n || h > MAXU) throw new Error();
      B64[0] = h;
      buf[p] = B8[7]; buf[p + 1] = B8[6]; buf[p + 2] = B8[5]; buf[p + 3] = B8[4];
      buf[p + 4] = B8[3]; buf[p + 5] = B8[2]; buf[p + 6] = B8[1]; buf[p + 7] = B8[0];
    }
  },
});

group('unsigned hyper: read (per value)', {
  'getBigUint64': () => {
    let s;
    for (let i = 0, p = 0; i < N; i++, p += 8) s = dv.getBigUint64(p);
    return s;
  },
  'byte swap into a BigUint64Array scratch, read its element': () => {
    let s;
    for (let i = 0, p = 0; i < N; i++, p += 8) {
      B8[7] = buf[p]; B8[6] = buf[p + 1]; B8[5] = buf[p + 2]; B8[4] = buf[p + 3];
      B8[3] = buf[p + 4]; B8[2] = buf[p + 5]; B8[1] = buf[p + 6]; B8[0] = buf[p + 7];
      s = B64[0];
    }
    return s;
  },
  '(BigInt(hi) << 32n) | BigInt(lo)': () => {
    let s;
    for (let i = 0, p = 0; i < N; i++, p += 8) s = (BigInt(dv.getUint32(p)) << 32n) | BigInt(dv.getUint32(p + 4));
    return s;
  },
  'two getUint32 as a number (not bigint: what the stick with numbers does)': () => {
    let s = 0;
    for (let i = 0, p = 0; i < N; i++, p += 8) s += dv.getUint32(p) * 4294967296 + dv.getUint32(p + 4);
    return s;
  },
});

// ---- capacity checks ----------------------------------------------------------------------------------

group('capacity: 1000 × 84-byte fattr3-like runs of 21 words', {
  'one reserve(84) per run, local cursor': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) {
      w.reserve(84);
      const d = w.view;
      const p = w.pos;
      for (let k = 0; k < 84; k += 4) d.setUint32(p + k, k);
      w.pos = p + 84;
    }
  },
  'one reserve(84000) for all (the message bound)': () => {
    const w = W.reset();
    w.reserve(84 * N);
    const d = w.view;
    let p = w.pos;
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < 84; k += 4) d.setUint32(p + k, k);
      p += 84;
    }
    w.pos = p;
  },
  '21 writeUint() calls per run': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) for (let k = 0; k < 84; k += 4) w.writeUint(k);
  },
});

// ---- strings ------------------------------------------------------------------------------------------

const enc = new TextEncoder();
group('string encode, ~8-byte ASCII names (per string, with length and padding)', {
  'writer.writeString(s, 255)': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) w.writeString(names[i], 255);
  },
  'inline ASCII loop into w.buf (fallback on non-ASCII)': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) {
      const s = names[i];
      const n = s.length;
      w.reserve(n + 8);
      const b = w.buf;
      let p = w.pos + 4;
      let j = 0;
      for (; j < n; j++) {
        const c = s.charCodeAt(j);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (j < n || n > 255) throw new Error('slow path');
      w.view.setUint32(w.pos, n);
      while (p & 3) b[p++] = 0;
      w.pos = p;
    }
  },
  'TextEncoder.encodeInto per string': () => {
    const w = W.reset();
    for (let i = 0; i < N; i++) {
      const s = names[i];
      w.reserve(s.length * 3 + 8);
      const r = enc.encodeInto(s, w.buf.subarray(w.pos + 4));
      w.view.setUint32(w.pos, r.written);
      let p = w.pos + 4 + r.written;
      while (p & 3) w.buf[p++] = 0;
      w.pos = p;
    }
  },
});

const strBytes = (() => {
  const w = new XdrWriter();
  for (let i = 0; i < N; i++) w.writeString(names[i]);
  return w.toBytes();
})();
const strBuf = Buffer.from(strBytes.buffer, strBytes.byteOffset, strBytes.length);
const R = new XdrReader();
const td = new TextDecoder();
group('string decode, ~8-byte ASCII names (per string)', {
  'reader.readString(255) (decodeText: one fromCharCode call ≤ 12 bytes)': () => {
    const r = R.reset(strBytes);
    let s;
    for (let i = 0; i < N; i++) s = r.readString(255);
    return s;
  },
  'Buffer latin1Slice after an ASCII scan': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      for (let j = p; j < p + n; j++) if (strBuf[j] > 0x7f) throw new Error();
      s = strBuf.latin1Slice(p, p + n);
      p += (n + 3) & ~3;
    }
    return s;
  },
  'Buffer utf8Slice (hand-written stick: buf.toString("utf8"))': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      s = strBuf.utf8Slice(p, p + n);
      p += (n + 3) & ~3;
    }
    return s;
  },
  'String.fromCharCode(b[p], b[p+1], …) by length (switch, ≤ 16)': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      s = shortAscii(strBytes, p, n);
      p += (n + 3) & ~3;
    }
    return s;
  },
  'interning cache of short strings (hash of the bytes, compare, reuse)': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      s = interned(strBytes, p, n);
      p += (n + 3) & ~3;
    }
    return s;
  },
  'String.fromCharCode.apply(null, subarray)': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      s = String.fromCharCode.apply(null, strBytes.subarray(p, p + n));
      p += (n + 3) & ~3;
    }
    return s;
  },
  'TextDecoder.decode(subarray)': () => {
    let p = 0;
    let s;
    for (let i = 0; i < N; i++) {
      const n = strBuf.readUInt32BE(p);
      p += 4;
      s = td.decode(strBytes.subarray(p, p + n));
      p += (n + 3) & ~3;
    }
    return s;
  },
});

// ---- views --------------------------------------------------------------------------------------------

group('opaque decode: a 28-byte view of the input (per view)', {
  'buf.subarray(p, p + 28)': () => {
    let s;
    for (let i = 0; i < N; i++) s = buf.subarray(i * 32, i * 32 + 28);
    return s;
  },
  'new Uint8Array(buf.buffer, buf.byteOffset + p, 28)': () => {
    let s;
    const ab = buf.buffer;
    for (let i = 0; i < N; i++) s = new Uint8Array(ab, buf.byteOffset + i * 32, 28);
    return s;
  },
  'a copy: buf.slice(p, p + 28)': () => {
    let s;
    for (let i = 0; i < N; i++) s = buf.slice(i * 32, i * 32 + 28);
    return s;
  },
});

const small = new Uint8Array(28).fill(7);
group('opaque encode: 28 bytes into the buffer (per opaque)', {
  'byte loop': () => {
    let p = 0;
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < 28; j++) buf[p + j] = small[j];
      p += 28;
    }
  },
  'buf.set(v, p)': () => {
    let p = 0;
    for (let i = 0; i < N; i++) {
      buf.set(small, p);
      p += 28;
    }
  },
});

// ---- union dispatch, object shapes, calls -------------------------------------------------------------

const ARMS = new Map([[0, () => 1], [1, (v) => v.i], [2, () => 2], [3, (v) => v.s.length], [4, (v) => v.p.x]]);
const variants = Array.from({ length: N }, (_, i) => (i % 5 === 0 ? { kind: 0 } : i % 5 === 1 ? { kind: 1, i } : i % 5 === 2 ? { kind: 2, h: BigInt(i) } : i % 5 === 3 ? { kind: 3, s: 'x' } : { kind: 4, p: { x: i, y: i, z: i } }));
group('union dispatch on encode (per value; 5 shapes)', {
  'switch (v.kind) with literal cases': () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const v = variants[i];
      switch (v.kind) {
        case 0: s += 1; break;
        case 1: s += v.i; break;
        case 2: s += 2; break;
        case 3: s += v.s.length; break;
        case 4: s += v.p.x; break;
        default: throw new Error();
      }
    }
    return s;
  },
  'Map lookup of an arm function (the run-time combinators)': () => {
    let s = 0;
    for (let i = 0; i < N; i++) {
      const v = variants[i];
      const f = ARMS.get(v.kind);
      if (f === undefined) throw new Error();
      s += f(v);
    }
    return s;
  },
});

group('decode objects: entry-like record with a nested 3-field object (per object)', {
  'one object literal, fields in order': () => {
    let o;
    for (let i = 0; i < N; i++) o = { a: i, b: i, c: { x: i, y: i, z: i }, d: null };
    return o;
  },
  'empty object, then assigned field by field (the run-time combinators)': () => {
    let o;
    for (let i = 0; i < N; i++) {
      const x = {};
      x.a = i;
      x.b = i;
      const c = {};
      c.x = i;
      c.y = i;
      c.z = i;
      x.c = c;
      x.d = null;
      o = x;
    }
    return o;
  },
});

function withTry(w, v, i) {
  let at = '';
  try {
    at = 'a';
    w.pos += v;
    at = 'b';
    w.pos += i;
  } catch (e) {
    throw new Error(at);
  }
}
function withoutTry(w, v, i) {
  w.pos += v;
  w.pos += i;
}
group('error paths: a try/catch tracking `at` in each function (per call)', {
  'function with try/catch and `at` assignments': () => {
    const w = { pos: 0 };
    for (let i = 0; i < N; i++) withTry(w, 1, i);
    return w.pos;
  },
  'the same function without': () => {
    const w = { pos: 0 };
    for (let i = 0; i < N; i++) withoutTry(w, 1, i);
    return w.pos;
  },
});

group('per message: writer reset + finish (per message, N = 1000 messages)', {
  'reset(), finish() (same length: the view of the previous message)': () => {
    let s;
    for (let i = 0; i < N; i++) {
      W.reset();
      W.pos = 64;
      s = W.finish();
    }
    return s;
  },
  'reset(), buf.subarray(0, pos) (a view per message: finish() before)': () => {
    let s;
    for (let i = 0; i < N; i++) {
      W.reset();
      W.pos = 64;
      s = W.buf.subarray(0, W.pos);
    }
    return s;
  },
  'reset(), new Uint8Array(buffer, 0, pos)': () => {
    let s;
    for (let i = 0; i < N; i++) {
      W.reset();
      W.pos = 64;
      s = new Uint8Array(W.buf.buffer, 0, W.pos);
    }
    return s;
  },
  'reset() only': () => {
    for (let i = 0; i < N; i++) {
      W.reset();
      W.pos = 64;
    }
    return W.pos;
  },
});

function shortAscii(b, p, n) {
  switch (n) {
    case 0: return '';
    case 1: return String.fromCharCode(b[p]);
    case 2: return String.fromCharCode(b[p], b[p + 1]);
    case 3: return String.fromCharCode(b[p], b[p + 1], b[p + 2]);
    case 4: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
    case 5: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4]);
    case 6: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5]);
    case 7: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6]);
    case 8: return String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7]);
    default: {
      let s = '';
      for (let i = p; i < p + n; i++) s += String.fromCharCode(b[i]);
      return s;
    }
  }
}

function interned(b, p, n) {
  if (n > 16) return shortAscii(b, p, n);
  let h = n;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ b[p + i], 0x9e3779b1);
  h = (h >>> 24) & 0xff;
  const o = h * 16;
  if (CACHE_LEN[h] === n) {
    let i = 0;
    while (i < n && CACHE_BYTES[o + i] === b[p + i]) i++;
    if (i === n) return CACHE_STR[h];
  }
  const s = shortAscii(b, p, n);
  for (let i = 0; i < n; i++) CACHE_BYTES[o + i] = b[p + i];
  CACHE_LEN[h] = n;
  CACHE_STR[h] = s;
  return s;
}
