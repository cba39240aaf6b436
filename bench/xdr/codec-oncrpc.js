// Hand-written straight-line codecs for bench/xdr/workloads.x, in the shape `oncrpc gen` will emit:
// one read<Name>/write<Name> pair per type calling XdrReader/XdrWriter methods directly, result
// objects built in one literal with the fields in .x order, unions dispatched by `switch`, the
// self-referential tail pointer of entryplus3 read and written with a loop (no recursion).

const NFSSTAT3 = new Set([0, 1, 2, 5, 13, 20, 10003]);
const FTYPE3 = new Set([1, 2, 3, 4, 5, 6, 7]);

// (a) ---------------------------------------------------------------------------------------------

export function writeSmall_args(w, v) {
  w.writeUint(v.prog);
  w.writeUint(v.vers);
  w.writeUint(v.proc);
  w.writeString(v.netid, 32);
  w.writeOpaque(v.dir, 64);
  w.writeString(v.name, 255);
}

export function readSmall_args(r) {
  return {
    prog: r.readUint(),
    vers: r.readUint(),
    proc: r.readUint(),
    netid: r.readString(32),
    dir: r.readOpaque(64),
    name: r.readString(255),
  };
}

// (b) ---------------------------------------------------------------------------------------------

export function writeSpecdata3(w, v) {
  w.writeUint(v.specdata1);
  w.writeUint(v.specdata2);
}

export function readSpecdata3(r) {
  return { specdata1: r.readUint(), specdata2: r.readUint() };
}

export function writeNfstime3(w, v) {
  w.writeUint(v.seconds);
  w.writeUint(v.nseconds);
}

export function readNfstime3(r) {
  return { seconds: r.readUint(), nseconds: r.readUint() };
}

export function writeFattr3(w, v) {
  w.writeEnum(v.type, FTYPE3, 'ftype3');
  w.writeUint(v.mode);
  w.writeUint(v.nlink);
  w.writeUint(v.uid);
  w.writeUint(v.gid);
  w.writeUhyper(v.size);
  w.writeUhyper(v.used);
  writeSpecdata3(w, v.rdev);
  w.writeUhyper(v.fsid);
  w.writeUhyper(v.fileid);
  writeNfstime3(w, v.atime);
  writeNfstime3(w, v.mtime);
  writeNfstime3(w, v.ctime);
}

export function readFattr3(r) {
  return {
    type: r.readEnum(FTYPE3, 'ftype3'),
    mode: r.readUint(),
    nlink: r.readUint(),
    uid: r.readUint(),
    gid: r.readUint(),
    size: r.readUhyper(),
    used: r.readUhyper(),
    rdev: readSpecdata3(r),
    fsid: r.readUhyper(),
    fileid: r.readUhyper(),
    atime: readNfstime3(r),
    mtime: readNfstime3(r),
    ctime: readNfstime3(r),
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

export function writeNfs_fh3(w, v) {
  w.writeOpaque(v.data, 64);
}

export function readNfs_fh3(r) {
  return { data: r.readOpaque(64) };
}

const POST_OP_FH3_NONE = Object.freeze({ handle_follows: false });

export function writePost_op_fh3(w, v) {
  w.writeBool(v.handle_follows);
  if (v.handle_follows) writeNfs_fh3(w, v.handle);
}

export function readPost_op_fh3(r) {
  return r.readBool() ? { handle_follows: true, handle: readNfs_fh3(r) } : POST_OP_FH3_NONE;
}

/** The fields of one entryplus3 node; `nextentry` is handled by the list loop. */
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

/** entryplus3 (a linked list: its last field points to the next node), written with a loop. */
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

export function writeDirlistplus3(w, v) {
  if (v.entries === null) w.writeOptional(false);
  else {
    w.writeOptional(true);
    writeEntryplus3(w, v.entries);
  }
  w.writeBool(v.eof);
}

export function readDirlistplus3(r) {
  return { entries: r.readOptional() ? readEntryplus3(r) : null, eof: r.readBool() };
}

export function writeREADDIRPLUS3resok(w, v) {
  writePost_op_attr(w, v.dir_attributes);
  w.writeFixedOpaque(v.cookieverf, 8);
  writeDirlistplus3(w, v.reply);
}

export function readREADDIRPLUS3resok(r) {
  return {
    dir_attributes: readPost_op_attr(r),
    cookieverf: r.readFixedOpaque(8),
    reply: readDirlistplus3(r),
  };
}

export function writeREADDIRPLUS3resfail(w, v) {
  writePost_op_attr(w, v.dir_attributes);
}

export function readREADDIRPLUS3resfail(r) {
  return { dir_attributes: readPost_op_attr(r) };
}

export function writeREADDIRPLUS3res(w, v) {
  w.writeEnum(v.status, NFSSTAT3, 'nfsstat3');
  switch (v.status) {
    case 0:
      writeREADDIRPLUS3resok(w, v.resok);
      break;
    default:
      writeREADDIRPLUS3resfail(w, v.resfail);
  }
}

export function readREADDIRPLUS3res(r) {
  const status = r.readEnum(NFSSTAT3, 'nfsstat3');
  switch (status) {
    case 0:
      return { status, resok: readREADDIRPLUS3resok(r) };
    default:
      return { status, resfail: readREADDIRPLUS3resfail(r) };
  }
}

// (c) ---------------------------------------------------------------------------------------------

export function writeREAD3resok(w, v) {
  writePost_op_attr(w, v.file_attributes);
  w.writeUint(v.count);
  w.writeBool(v.eof);
  w.writeOpaque(v.data);
}

export function readREAD3resok(r) {
  return {
    file_attributes: readPost_op_attr(r),
    count: r.readUint(),
    eof: r.readBool(),
    data: r.readOpaque(),
  };
}

export function writeREAD3resfail(w, v) {
  writePost_op_attr(w, v.file_attributes);
}

export function readREAD3resfail(r) {
  return { file_attributes: readPost_op_attr(r) };
}

export function writeREAD3res(w, v) {
  w.writeEnum(v.status, NFSSTAT3, 'nfsstat3');
  switch (v.status) {
    case 0:
      writeREAD3resok(w, v.resok);
      break;
    default:
      writeREAD3resfail(w, v.resfail);
  }
}

export function readREAD3res(r) {
  const status = r.readEnum(NFSSTAT3, 'nfsstat3');
  switch (status) {
    case 0:
      return { status, resok: readREAD3resok(r) };
    default:
      return { status, resfail: readREAD3resfail(r) };
  }
}

// (d) ---------------------------------------------------------------------------------------------

export function writePoint3(w, v) {
  w.writeInt(v.x);
  w.writeInt(v.y);
  w.writeInt(v.z);
}

export function readPoint3(r) {
  return { x: r.readInt(), y: r.readInt(), z: r.readInt() };
}

const VARIANT_0 = Object.freeze({ kind: 0 });

export function writeVariant(w, v) {
  w.writeInt(v.kind);
  switch (v.kind) {
    case 0:
      break;
    case 1:
      w.writeInt(v.i);
      break;
    case 2:
      w.writeHyper(v.h);
      break;
    case 3:
      w.writeString(v.s, 64);
      break;
    case 4:
      writePoint3(w, v.p);
      break;
    default:
      throw new RangeError(`${v.kind} selects no arm of union variant`);
  }
}

export function readVariant(r) {
  const at = r.pos;
  const kind = r.readInt();
  switch (kind) {
    case 0:
      return VARIANT_0;
    case 1:
      return { kind, i: r.readInt() };
    case 2:
      return { kind, h: r.readHyper() };
    case 3:
      return { kind, s: r.readString(64) };
    case 4:
      return { kind, p: readPoint3(r) };
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
