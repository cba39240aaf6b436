// The same codecs as codec-oncrpc.js, in the shape STYLE.md §7.5.6 asks of generated code: a run of
// fixed-size fields (a fixed-size struct, or consecutive fixed-size fields, or a union arm) makes one
// capacity check (`w.reserve(n)` / `r.need(n)`) and then reads or writes through a local cursor on the
// DataView, still checking every value's range on encode. Variable-size items (strings, opaques,
// arrays, optional data) still call the XdrWriter/XdrReader methods. Only what differs is redefined;
// types with no fixed-size run are the same straight-line calls as in codec-oncrpc.js.

import { XdrEncodeError } from '../../dist/errors.js';

const NFSSTAT3 = new Set([0, 1, 2, 5, 13, 20, 10003]);
const FTYPE3 = new Set([1, 2, 3, 4, 5, 6, 7]);

function notUint(x) {
  return new XdrEncodeError(`${String(x)} is not an unsigned int (0..2^32-1)`);
}
function notInt(x) {
  return new XdrEncodeError(`${String(x)} is not an int (32-bit signed integer)`);
}
function notUhyper(x) {
  return new XdrEncodeError(`${String(x)} is not an unsigned hyper (64-bit unsigned bigint)`);
}
function notHyper(x) {
  return new XdrEncodeError(`${String(x)} is not a hyper (64-bit signed bigint)`);
}
function notEnum(x, name) {
  return new XdrEncodeError(`${String(x)} is not a value of enum ${name}`);
}

// (a) ---------------------------------------------------------------------------------------------

export function writeSmall_args(w, v) {
  w.reserve(12);
  const d = w.view;
  const p = w.pos;
  let x = v.prog;
  if (x >>> 0 !== x) throw notUint(x).prependPath('prog');
  d.setUint32(p, x);
  x = v.vers;
  if (x >>> 0 !== x) throw notUint(x).prependPath('vers');
  d.setUint32(p + 4, x);
  x = v.proc;
  if (x >>> 0 !== x) throw notUint(x).prependPath('proc');
  d.setUint32(p + 8, x);
  w.pos = p + 12;
  w.writeString(v.netid, 32);
  w.writeOpaque(v.dir, 64);
  w.writeString(v.name, 255);
}

export function readSmall_args(r) {
  r.need(12);
  const d = r.view;
  const p = r.pos;
  r.pos = p + 12;
  return {
    prog: d.getUint32(p),
    vers: d.getUint32(p + 4),
    proc: d.getUint32(p + 8),
    netid: r.readString(32),
    dir: r.readOpaque(64),
    name: r.readString(255),
  };
}

// (b) ---------------------------------------------------------------------------------------------

/** fattr3 is fixed-size (84 bytes), nested specdata3/nfstime3 included. */
export function writeFattr3(w, v) {
  w.reserve(84);
  const d = w.view;
  const p = w.pos;
  let x = v.type;
  if (!FTYPE3.has(x)) throw notEnum(x, 'ftype3').prependPath('type');
  d.setInt32(p, x);
  x = v.mode;
  if (x >>> 0 !== x) throw notUint(x).prependPath('mode');
  d.setUint32(p + 4, x);
  x = v.nlink;
  if (x >>> 0 !== x) throw notUint(x).prependPath('nlink');
  d.setUint32(p + 8, x);
  x = v.uid;
  if (x >>> 0 !== x) throw notUint(x).prependPath('uid');
  d.setUint32(p + 12, x);
  x = v.gid;
  if (x >>> 0 !== x) throw notUint(x).prependPath('gid');
  d.setUint32(p + 16, x);
  let h = v.size;
  if (typeof h !== 'bigint' || h < 0n || h > 0xffffffffffffffffn) throw notUhyper(h).prependPath('size');
  d.setBigUint64(p + 20, h);
  h = v.used;
  if (typeof h !== 'bigint' || h < 0n || h > 0xffffffffffffffffn) throw notUhyper(h).prependPath('used');
  d.setBigUint64(p + 28, h);
  const rdev = v.rdev;
  x = rdev.specdata1;
  if (x >>> 0 !== x) throw notUint(x).prependPath('specdata1').prependPath('rdev');
  d.setUint32(p + 36, x);
  x = rdev.specdata2;
  if (x >>> 0 !== x) throw notUint(x).prependPath('specdata2').prependPath('rdev');
  d.setUint32(p + 40, x);
  h = v.fsid;
  if (typeof h !== 'bigint' || h < 0n || h > 0xffffffffffffffffn) throw notUhyper(h).prependPath('fsid');
  d.setBigUint64(p + 44, h);
  h = v.fileid;
  if (typeof h !== 'bigint' || h < 0n || h > 0xffffffffffffffffn) throw notUhyper(h).prependPath('fileid');
  d.setBigUint64(p + 52, h);
  let t = v.atime;
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('seconds').prependPath('atime');
  d.setUint32(p + 60, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('nseconds').prependPath('atime');
  d.setUint32(p + 64, x);
  t = v.mtime;
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('seconds').prependPath('mtime');
  d.setUint32(p + 68, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('nseconds').prependPath('mtime');
  d.setUint32(p + 72, x);
  t = v.ctime;
  x = t.seconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('seconds').prependPath('ctime');
  d.setUint32(p + 76, x);
  x = t.nseconds;
  if (x >>> 0 !== x) throw notUint(x).prependPath('nseconds').prependPath('ctime');
  d.setUint32(p + 80, x);
  w.pos = p + 84;
}

export function readFattr3(r) {
  r.need(84);
  const d = r.view;
  const p = r.pos;
  const type = d.getInt32(p);
  if (!FTYPE3.has(type)) r.readEnum(FTYPE3, 'ftype3'); // throws the reader's ERR_XDR_ENUM at p
  r.pos = p + 84;
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

const POST_OP_ATTR_NONE = Object.freeze({ attributes_follow: false });

export function writePost_op_attr(w, v) {
  w.writeBool(v.attributes_follow);
  if (v.attributes_follow) writeFattr3(w, v.attributes);
}

export function readPost_op_attr(r) {
  return r.readBool() ? { attributes_follow: true, attributes: readFattr3(r) } : POST_OP_ATTR_NONE;
}

const POST_OP_FH3_NONE = Object.freeze({ handle_follows: false });

export function writePost_op_fh3(w, v) {
  w.writeBool(v.handle_follows);
  if (v.handle_follows) w.writeOpaque(v.handle.data, 64);
}

export function readPost_op_fh3(r) {
  return r.readBool() ? { handle_follows: true, handle: { data: r.readOpaque(64) } } : POST_OP_FH3_NONE;
}

function writeEntryplus3Fields(w, v) {
  w.writeUhyper(v.fileid);
  w.writeString(v.name);
  w.writeUhyper(v.cookie);
  writePost_op_attr(w, v.name_attributes);
  writePost_op_fh3(w, v.name_handle);
}

function readEntryplus3Fields(r) {
  return {
    fileid: r.readUhyper(),
    name: r.readString(),
    cookie: r.readUhyper(),
    name_attributes: readPost_op_attr(r),
    name_handle: readPost_op_fh3(r),
    nextentry: null,
  };
}

export function writeEntryplus3(w, v) {
  writeEntryplus3Fields(w, v);
  for (let n = v.nextentry; n !== null && n !== undefined; n = n.nextentry) {
    w.writeOptional(true);
    writeEntryplus3Fields(w, n);
  }
  w.writeOptional(false);
}

export function readEntryplus3(r) {
  const head = readEntryplus3Fields(r);
  let node = head;
  while (r.readOptional()) {
    const next = readEntryplus3Fields(r);
    node.nextentry = next;
    node = next;
  }
  return head;
}

export function writeREADDIRPLUS3res(w, v) {
  w.writeEnum(v.status, NFSSTAT3, 'nfsstat3');
  if (v.status === 0) {
    const ok = v.resok;
    writePost_op_attr(w, ok.dir_attributes);
    w.writeFixedOpaque(ok.cookieverf, 8);
    const reply = ok.reply;
    if (reply.entries === null) w.writeOptional(false);
    else {
      w.writeOptional(true);
      writeEntryplus3(w, reply.entries);
    }
    w.writeBool(reply.eof);
  } else writePost_op_attr(w, v.resfail.dir_attributes);
}

export function readREADDIRPLUS3res(r) {
  const status = r.readEnum(NFSSTAT3, 'nfsstat3');
  if (status === 0) {
    return {
      status,
      resok: {
        dir_attributes: readPost_op_attr(r),
        cookieverf: r.readFixedOpaque(8),
        reply: { entries: r.readOptional() ? readEntryplus3(r) : null, eof: r.readBool() },
      },
    };
  }
  return { status, resfail: { dir_attributes: readPost_op_attr(r) } };
}

// (d) ---------------------------------------------------------------------------------------------

const VARIANT_0 = Object.freeze({ kind: 0 });

/** Each arm is a fixed-size run (discriminant included) except the string arm. */
export function writeVariant(w, v) {
  const kind = v.kind;
  let p;
  let x;
  switch (kind) {
    case 0:
      w.writeInt(0);
      return;
    case 1:
      w.reserve(8);
      p = w.pos;
      x = v.i;
      if ((x | 0) !== x) throw notInt(x).prependPath('i');
      w.view.setInt32(p, 1);
      w.view.setInt32(p + 4, x);
      w.pos = p + 8;
      return;
    case 2:
      w.reserve(12);
      p = w.pos;
      x = v.h;
      if (typeof x !== 'bigint' || x < -0x8000000000000000n || x > 0x7fffffffffffffffn) throw notHyper(x).prependPath('h');
      w.view.setInt32(p, 2);
      w.view.setBigInt64(p + 4, x);
      w.pos = p + 12;
      return;
    case 3:
      w.writeInt(3);
      w.writeString(v.s, 64);
      return;
    case 4: {
      w.reserve(16);
      p = w.pos;
      const d = w.view;
      const pt = v.p;
      d.setInt32(p, 4);
      x = pt.x;
      if ((x | 0) !== x) throw notInt(x).prependPath('x').prependPath('p');
      d.setInt32(p + 4, x);
      x = pt.y;
      if ((x | 0) !== x) throw notInt(x).prependPath('y').prependPath('p');
      d.setInt32(p + 8, x);
      x = pt.z;
      if ((x | 0) !== x) throw notInt(x).prependPath('z').prependPath('p');
      d.setInt32(p + 12, x);
      w.pos = p + 16;
      return;
    }
    default:
      throw new XdrEncodeError(`${String(kind)} selects no arm of union variant`).prependPath('kind');
  }
}

export function readVariant(r) {
  const at = r.pos;
  const kind = r.readInt();
  let p;
  switch (kind) {
    case 0:
      return VARIANT_0;
    case 1:
      return { kind, i: r.readInt() };
    case 2:
      return { kind, h: r.readHyper() };
    case 3:
      return { kind, s: r.readString(64) };
    case 4: {
      r.need(12);
      p = r.pos;
      r.pos = p + 12;
      const d = r.view;
      return { kind, p: { x: d.getInt32(p), y: d.getInt32(p + 4), z: d.getInt32(p + 8) } };
    }
    default:
      throw r.badDiscriminant(kind, 'variant', at);
  }
}

export function writeVariant_list(w, v) {
  const items = v.items;
  const n = items.length;
  w.writeArrayLength(n);
  for (let i = 0; i < n; i++) writeVariant(w, items[i]);
}

export function readVariant_list(r) {
  const n = r.readArrayLength(undefined, 4);
  const items = new Array(n);
  for (let i = 0; i < n; i++) items[i] = readVariant(r);
  return { items };
}
