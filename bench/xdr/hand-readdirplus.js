// The hand-written ceiling for workload (b), READDIRPLUS3res: oncrpc's own, written for this bench as
// fast as we know how to write this one shape by hand, over the same XdrWriter/XdrReader and the same
// values as the generated code (hypers are bigints, opaques views, the list a chain of objects).
//
// It makes the checks the generated codec makes, so the distance between the two rows is the cost of
// generality, not of safety:
//   encode: nfsstat3 and ftype3 values, bool discriminants (a union with no arm for the value is an
//   error), every unsigned int in 0..2^32-1, every unsigned hyper a bigint in 0..2^64-1, `eof` a boolean,
//   cookieverf a Uint8Array of 8 bytes, handles Uint8Arrays of at most 64 bytes, names strings (lone
//   surrogates refused), struct and union values objects; zero padding; errors are XdrEncodeError with
//   the field path (`resok.reply.entries.nextentry#3.name_attributes.attributes.size`).
//   decode: every length checked against its bound and the bytes left before anything is made, bools
//   and optional flags 0 or 1, enum values, padding bytes zero (strictPadding), the reader's limits
//   (maxStringBytes, maxOpaqueBytes); errors are XdrDecodeError with offset and path.
// What it does not do that the generated code does: nothing of the above is skipped. It differs only in
// shape: one function per direction (no calls but the string slow paths), one capacity check per entry
// (its size is bounded once the name's length is known), one bounds check per fixed part.

import { ErrorCodes, XdrDecodeError, XdrEncodeError } from '../../dist/errors.js';
import { encodeTextInto, decodeText } from '../../dist/xdr/text.js';
import { atPath, badBool, badEnum, notBool, notEnum, notUhyper, notUint } from '../../dist/xdr/value-errors.js';

const NFSSTAT3 = new Set([0, 1, 2, 5, 13, 20, 10003]);
const FTYPE3 = new Set([1, 2, 3, 4, 5, 6, 7]);

// A bigint is stored into a BigUint64Array and its two 32-bit halves written big-endian: one inlined
// element store instead of DataView.setBigUint64's runtime call.
const U64 = new BigUint64Array(1);
const W32 = new Uint32Array(U64.buffer);
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LE ? 1 : 0;
const LO = LE ? 0 : 1;

function notObject(v, what, path) {
  return new XdrEncodeError(`${what} value must be an object, got ${v === null ? 'null' : typeof v}`).prependPath(path);
}

/** Writes fattr3 at p (84 bytes reserved); `path` is only used to build an error. */
function putFattr3(d, p, a, path) {
  if (a === null || typeof a !== 'object') throw notObject(a, 'struct fattr3', path);
  let x = a.type;
  if (!FTYPE3.has(x)) throw notEnum(x, 'ftype3', `${path}.type`);
  d.setInt32(p, x);
  x = a.mode;
  if (x >>> 0 !== x) throw notUint(x, `${path}.mode`);
  d.setUint32(p + 4, x);
  x = a.nlink;
  if (x >>> 0 !== x) throw notUint(x, `${path}.nlink`);
  d.setUint32(p + 8, x);
  x = a.uid;
  if (x >>> 0 !== x) throw notUint(x, `${path}.uid`);
  d.setUint32(p + 12, x);
  x = a.gid;
  if (x >>> 0 !== x) throw notUint(x, `${path}.gid`);
  d.setUint32(p + 16, x);
  let h = a.size;
  if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${path}.size`);
  U64[0] = h;
  d.setUint32(p + 20, W32[HI]);
  d.setUint32(p + 24, W32[LO]);
  h = a.used;
  if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${path}.used`);
  U64[0] = h;
  d.setUint32(p + 28, W32[HI]);
  d.setUint32(p + 32, W32[LO]);
  const rdev = a.rdev;
  if (rdev === null || typeof rdev !== 'object') throw notObject(rdev, 'struct specdata3', `${path}.rdev`);
  x = rdev.specdata1;
  if (x >>> 0 !== x) throw notUint(x, `${path}.rdev.specdata1`);
  d.setUint32(p + 36, x);
  x = rdev.specdata2;
  if (x >>> 0 !== x) throw notUint(x, `${path}.rdev.specdata2`);
  d.setUint32(p + 40, x);
  h = a.fsid;
  if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${path}.fsid`);
  U64[0] = h;
  d.setUint32(p + 44, W32[HI]);
  d.setUint32(p + 48, W32[LO]);
  h = a.fileid;
  if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${path}.fileid`);
  U64[0] = h;
  d.setUint32(p + 52, W32[HI]);
  d.setUint32(p + 56, W32[LO]);
  let t = a.atime;
  if (t === null || typeof t !== 'object') throw notObject(t, 'struct nfstime3', `${path}.atime`);
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.atime.seconds`);
  d.setUint32(p + 60, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.atime.nseconds`);
  d.setUint32(p + 64, x);
  t = a.mtime;
  if (t === null || typeof t !== 'object') throw notObject(t, 'struct nfstime3', `${path}.mtime`);
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.mtime.seconds`);
  d.setUint32(p + 68, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.mtime.nseconds`);
  d.setUint32(p + 72, x);
  t = a.ctime;
  if (t === null || typeof t !== 'object') throw notObject(t, 'struct nfstime3', `${path}.ctime`);
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.ctime.seconds`);
  d.setUint32(p + 76, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x, `${path}.ctime.nseconds`);
  d.setUint32(p + 80, x);
}

/** post_op_attr at w.pos. */
function writePostOpAttr(w, v, path) {
  if (v === null || typeof v !== 'object') throw notObject(v, 'union post_op_attr', path);
  const f = v.attributes_follow;
  if (f === true) {
    w.reserve(88);
    const d = w.view;
    const p = w.pos;
    d.setUint32(p, 1);
    putFattr3(d, p + 4, v.attributes, `${path}.attributes`);
    w.pos = p + 88;
  } else if (f === false) w.writeUint(0);
  else throw new XdrEncodeError(`${String(f)} selects no arm of union post_op_attr`).prependPath(`${path}.attributes_follow`);
}

export function writeREADDIRPLUS3res(w, v) {
  if (v === null || typeof v !== 'object') throw notObject(v, 'union READDIRPLUS3res', '');
  const status = v.status;
  if (status !== 0) {
    if (!NFSSTAT3.has(status)) throw notEnum(status, 'nfsstat3', 'status');
    w.writeInt(status);
    const f = v.resfail;
    if (f === null || typeof f !== 'object') throw notObject(f, 'struct READDIRPLUS3resfail', 'resfail');
    writePostOpAttr(w, f.dir_attributes, 'resfail.dir_attributes');
    return;
  }
  w.writeInt(0);
  const ok = v.resok;
  if (ok === null || typeof ok !== 'object') throw notObject(ok, 'struct READDIRPLUS3resok', 'resok');
  writePostOpAttr(w, ok.dir_attributes, 'resok.dir_attributes');
  const cv = ok.cookieverf;
  if (!(cv instanceof Uint8Array) || cv.length !== 8) throw new XdrEncodeError('fixed opaque needs 8 bytes').prependPath('resok.cookieverf');
  const reply = ok.reply;
  if (reply === null || typeof reply !== 'object') throw notObject(reply, 'struct dirlistplus3', 'resok.reply');
  w.reserve(12);
  {
    const b = w.buf;
    const p = w.pos;
    for (let i = 0; i < 8; i++) b[p + i] = cv[i];
    w.pos = p + 8;
  }
  let e = reply.entries;
  let i = 0;
  w.view.setUint32(w.pos, e === null || e === undefined ? 0 : 1);
  w.pos += 4;
  for (; e !== null && e !== undefined; e = e.nextentry, i++) {
    if (typeof e !== 'object') throw notObject(e, 'struct entryplus3', entryPath(i));
    const name = e.name;
    if (typeof name !== 'string') throw new XdrEncodeError(`${String(name)} is not a string`).prependPath(`${entryPath(i)}.name`);
    const nl = name.length;
    // fileid 8, name 4 + ≤ 3 bytes per UTF-16 unit + 3 padding, cookie 8, attributes 4 + 84, handle 4 + 4 + 64, next flag 4
    w.reserve(187 + nl * 3);
    const d = w.view;
    const b = w.buf;
    let p = w.pos;
    let h = e.fileid;
    if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${entryPath(i)}.fileid`);
    U64[0] = h;
    d.setUint32(p, W32[HI]);
    d.setUint32(p + 4, W32[LO]);
    // name: ASCII in place; anything else through the UTF-8 (surrogate-escape) encoder
    let n = 0;
    const q = p + 12;
    for (; n < nl; n++) {
      const c = name.charCodeAt(n);
      if (c >= 0x80) break;
      b[q + n] = c;
    }
    if (n < nl) {
      n = encodeTextInto(name, b, q);
      if (n < 0) throw new XdrEncodeError('string holds a lone surrogate that maps to no byte').prependPath(`${entryPath(i)}.name`);
    }
    d.setUint32(p + 8, n);
    p = q + n;
    while (n & 3) {
      b[p++] = 0;
      n++;
    }
    h = e.cookie;
    if (typeof h !== 'bigint' || BigInt.asUintN(64, h) !== h) throw notUhyper(h, `${entryPath(i)}.cookie`);
    U64[0] = h;
    d.setUint32(p, W32[HI]);
    d.setUint32(p + 4, W32[LO]);
    p += 8;
    const na = e.name_attributes;
    if (na === null || typeof na !== 'object') throw notObject(na, 'union post_op_attr', `${entryPath(i)}.name_attributes`);
    const f = na.attributes_follow;
    if (f === true) {
      d.setUint32(p, 1);
      putFattr3(d, p + 4, na.attributes, `${entryPath(i)}.name_attributes.attributes`);
      p += 88;
    } else if (f === false) {
      d.setUint32(p, 0);
      p += 4;
    } else throw new XdrEncodeError(`${String(f)} selects no arm of union post_op_attr`).prependPath(`${entryPath(i)}.name_attributes.attributes_follow`);
    const nh = e.name_handle;
    if (nh === null || typeof nh !== 'object') throw notObject(nh, 'union post_op_fh3', `${entryPath(i)}.name_handle`);
    const hf = nh.handle_follows;
    if (hf === true) {
      const fh = nh.handle;
      if (fh === null || typeof fh !== 'object') throw notObject(fh, 'struct nfs_fh3', `${entryPath(i)}.name_handle.handle`);
      const data = fh.data;
      if (!(data instanceof Uint8Array)) throw new XdrEncodeError('opaque data must be a Uint8Array').prependPath(`${entryPath(i)}.name_handle.handle.data`);
      let m = data.length;
      if (m > 64) throw new XdrEncodeError(`opaque length ${m} exceeds maximum 64`).prependPath(`${entryPath(i)}.name_handle.handle.data`);
      d.setUint32(p, 1);
      d.setUint32(p + 4, m);
      p += 8;
      if (m > 16) b.set(data, p);
      else for (let k = 0; k < m; k++) b[p + k] = data[k];
      p += m;
      while (m & 3) {
        b[p++] = 0;
        m++;
      }
    } else if (hf === false) {
      d.setUint32(p, 0);
      p += 4;
    } else throw new XdrEncodeError(`${String(hf)} selects no arm of union post_op_fh3`).prependPath(`${entryPath(i)}.name_handle.handle_follows`);
    const next = e.nextentry;
    d.setUint32(p, next === null || next === undefined ? 0 : 1);
    w.pos = p + 4;
  }
  const eof = reply.eof;
  if (typeof eof !== 'boolean') throw notBool(eof, 'resok.reply.eof');
  w.writeUint(eof ? 1 : 0);
}

const entryPath = (i) => (i === 0 ? 'resok.reply.entries' : `resok.reply.entries.nextentry#${i}`);

// ---- decode ---------------------------------------------------------------------------------------------

const short = (r, n, at, path) => atPath(r.shortError(n, at), path);

/** fattr3 at p (84 bytes present). */
function getFattr3(d, p, path) {
  const type = d.getInt32(p);
  if (!FTYPE3.has(type)) throw badEnum(type, 'ftype3', p, `${path}.type`);
  return {
    type,
    mode: d.getUint32(p + 4),
    nlink: d.getUint32(p + 8),
    uid: d.getUint32(p + 12),
    gid: d.getUint32(p + 16),
    size: d.getBigUint64(p + 20),
    used: d.getBigUint64(p + 28),
    rdev: { specdata1: d.getUint32(p + 36), specdata2: d.getUint32(p + 40) },
    fsid: d.getBigUint64(p + 44),
    fileid: d.getBigUint64(p + 52),
    atime: { seconds: d.getUint32(p + 60), nseconds: d.getUint32(p + 64) },
    mtime: { seconds: d.getUint32(p + 68), nseconds: d.getUint32(p + 72) },
    ctime: { seconds: d.getUint32(p + 76), nseconds: d.getUint32(p + 80) },
  };
}

const POST_OP_ATTR_FALSE = Object.freeze({ attributes_follow: false });
const POST_OP_FH3_FALSE = Object.freeze({ handle_follows: false });

function readPostOpAttr(r, path) {
  const d = r.view;
  const p = r.pos;
  if (p + 4 > r.end) throw short(r, 4, p, `${path}.attributes_follow`);
  const f = d.getUint32(p);
  if (f === 0) {
    r.pos = p + 4;
    return POST_OP_ATTR_FALSE;
  }
  if (f !== 1) throw badBool(f, p, `${path}.attributes_follow`);
  if (p + 88 > r.end) throw short(r, 84, p + 4, `${path}.attributes`);
  r.pos = p + 88;
  return { attributes_follow: true, attributes: getFattr3(d, p + 4, `${path}.attributes`) };
}

export function readREADDIRPLUS3res(r) {
  const d = r.view;
  const start = r.pos;
  if (start + 4 > r.end) throw short(r, 4, start, 'status');
  const status = d.getInt32(start);
  r.pos = start + 4;
  if (status !== 0) {
    if (!NFSSTAT3.has(status)) throw badEnum(status, 'nfsstat3', start, '');
    return { status, resfail: { dir_attributes: readPostOpAttr(r, 'resfail.dir_attributes') } };
  }
  const dir_attributes = readPostOpAttr(r, 'resok.dir_attributes');
  const b = r.buf;
  const end = r.end;
  const strict = r.limits.strictPadding;
  const maxName = r.limits.maxStringBytes;
  const maxOpaque = 64; // opaque data<64>: the bound is declared, so the reader's maxOpaqueBytes does not apply
  let p = r.pos;
  if (p + 12 > end) throw short(r, 12, p, 'resok.cookieverf');
  const cookieverf = b.subarray(p, p + 8);
  let more = d.getUint32(p + 8);
  p += 12;
  let head = null;
  let last = null;
  let i = 0;
  for (; ; i++) {
    if (more === 0) break;
    if (more !== 1) throw badBool(more, p - 4, i === 0 ? 'resok.reply.entries' : `${entryPath(i - 1)}.nextentry`);
    // fileid, name length
    if (p + 12 > end) throw short(r, 12, p, `${entryPath(i)}.fileid`);
    const fileid = d.getBigUint64(p);
    const n = d.getUint32(p + 8);
    if (n > maxName) throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOUND, `string length ${n} exceeds maximum ${maxName}`, p + 8).prependPath(`${entryPath(i)}.name`);
    p += 12;
    const padded = (n + 3) & ~3;
    // name bytes and padding, cookie, attributes flag
    if (p + padded + 12 > end) throw short(r, padded + 12, p, `${entryPath(i)}.name`);
    if (strict) for (let k = p + n; k < p + padded; k++) if (b[k] !== 0) throw new XdrDecodeError(ErrorCodes.ERR_XDR_PADDING, `padding byte is 0x${b[k].toString(16)}`, k).prependPath(`${entryPath(i)}.name`);
    const name = shortText(b, p, n);
    p += padded;
    const cookie = d.getBigUint64(p);
    const af = d.getUint32(p + 8);
    p += 12;
    let name_attributes;
    if (af === 1) {
      if (p + 84 > end) throw short(r, 84, p, `${entryPath(i)}.name_attributes.attributes`);
      name_attributes = { attributes_follow: true, attributes: getFattr3(d, p, `${entryPath(i)}.name_attributes.attributes`) };
      p += 84;
    } else if (af === 0) name_attributes = POST_OP_ATTR_FALSE;
    else throw badBool(af, p - 4, `${entryPath(i)}.name_attributes.attributes_follow`);
    if (p + 4 > end) throw short(r, 4, p, `${entryPath(i)}.name_handle.handle_follows`);
    const hf = d.getUint32(p);
    p += 4;
    let name_handle;
    if (hf === 1) {
      if (p + 4 > end) throw short(r, 4, p, `${entryPath(i)}.name_handle.handle.data`);
      const m = d.getUint32(p);
      if (m > maxOpaque) throw new XdrDecodeError(ErrorCodes.ERR_XDR_BOUND, `opaque length ${m} exceeds maximum ${maxOpaque}`, p).prependPath(`${entryPath(i)}.name_handle.handle.data`);
      p += 4;
      const mp = (m + 3) & ~3;
      if (p + mp > end) throw short(r, mp, p, `${entryPath(i)}.name_handle.handle.data`);
      if (strict) for (let k = p + m; k < p + mp; k++) if (b[k] !== 0) throw new XdrDecodeError(ErrorCodes.ERR_XDR_PADDING, `padding byte is 0x${b[k].toString(16)}`, k).prependPath(`${entryPath(i)}.name_handle.handle.data`);
      name_handle = { handle_follows: true, handle: { data: b.subarray(p, p + m) } };
      p += mp;
    } else if (hf === 0) name_handle = POST_OP_FH3_FALSE;
    else throw badBool(hf, p - 4, `${entryPath(i)}.name_handle.handle_follows`);
    const e = { fileid, name, cookie, name_attributes, name_handle, nextentry: null };
    if (last === null) head = e;
    else last.nextentry = e;
    last = e;
    if (p + 4 > end) throw short(r, 4, p, `${entryPath(i)}.nextentry`);
    more = d.getUint32(p);
    p += 4;
  }
  if (p + 4 > end) throw short(r, 4, p, 'resok.reply.eof');
  const eof = d.getUint32(p);
  if (eof > 1) throw badBool(eof, p, 'resok.reply.eof');
  r.pos = p + 4;
  return { status, resok: { dir_attributes, cookieverf, reply: { entries: head, eof: eof === 1 } } };
}

/** Short ASCII as one String.fromCharCode call; anything else through decodeText (UTF-8, escapes). */
function shortText(b, p, n) {
  if (n <= 12) {
    let or = 0;
    for (let k = p; k < p + n; k++) or |= b[k];
    if (or < 0x80) {
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
        default: break;
      }
    }
  }
  return decodeText(b, p, p + n);
}
