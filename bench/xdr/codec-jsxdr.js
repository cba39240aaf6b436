// The workload types described with @stellar/js-xdr 3.1.2's config() DSL, plus converters between
// its values (struct/union/enum class instances, Hyper objects, Buffers) and the plain oncrpc values
// of values.js. The converters only run outside the timed loops (to build inputs and check outputs).

import jsxdr from '@stellar/js-xdr';

export const types = jsxdr.config((x) => {
  x.struct('small_args', [
    ['prog', x.uint()],
    ['vers', x.uint()],
    ['proc', x.uint()],
    ['netid', x.string(32)],
    ['dir', x.varOpaque(64)],
    ['name', x.string(255)],
  ]);

  x.enum('nfsstat3', {
    nfs3Ok: 0,
    nfs3errPerm: 1,
    nfs3errNoent: 2,
    nfs3errIo: 5,
    nfs3errAcces: 13,
    nfs3errNotdir: 20,
    nfs3errBadCookie: 10003,
  });
  x.enum('ftype3', { nf3reg: 1, nf3dir: 2, nf3blk: 3, nf3chr: 4, nf3lnk: 5, nf3sock: 6, nf3fifo: 7 });
  x.struct('specdata3', [
    ['specdata1', x.uint()],
    ['specdata2', x.uint()],
  ]);
  x.struct('nfstime3', [
    ['seconds', x.uint()],
    ['nseconds', x.uint()],
  ]);
  x.struct('fattr3', [
    ['type', x.lookup('ftype3')],
    ['mode', x.uint()],
    ['nlink', x.uint()],
    ['uid', x.uint()],
    ['gid', x.uint()],
    ['size', x.uhyper()],
    ['used', x.uhyper()],
    ['rdev', x.lookup('specdata3')],
    ['fsid', x.uhyper()],
    ['fileid', x.uhyper()],
    ['atime', x.lookup('nfstime3')],
    ['mtime', x.lookup('nfstime3')],
    ['ctime', x.lookup('nfstime3')],
  ]);
  x.union('post_op_attr', {
    switchOn: x.bool(),
    switches: [
      [true, 'attributes'],
      [false, x.void()],
    ],
    arms: { attributes: x.lookup('fattr3') },
  });
  x.struct('nfs_fh3', [['data', x.varOpaque(64)]]);
  x.union('post_op_fh3', {
    switchOn: x.bool(),
    switches: [
      [true, 'handle'],
      [false, x.void()],
    ],
    arms: { handle: x.lookup('nfs_fh3') },
  });
  x.struct('entryplus3', [
    ['fileid', x.uhyper()],
    ['name', x.string()],
    ['cookie', x.uhyper()],
    ['name_attributes', x.lookup('post_op_attr')],
    ['name_handle', x.lookup('post_op_fh3')],
    ['nextentry', x.option(x.lookup('entryplus3'))],
  ]);
  x.struct('dirlistplus3', [
    ['entries', x.option(x.lookup('entryplus3'))],
    ['eof', x.bool()],
  ]);
  x.struct('READDIRPLUS3resok', [
    ['dir_attributes', x.lookup('post_op_attr')],
    ['cookieverf', x.opaque(8)],
    ['reply', x.lookup('dirlistplus3')],
  ]);
  x.struct('READDIRPLUS3resfail', [['dir_attributes', x.lookup('post_op_attr')]]);
  x.union('READDIRPLUS3res', {
    switchOn: x.lookup('nfsstat3'),
    switches: [['nfs3Ok', 'resok']],
    defaultArm: 'resfail',
    arms: { resok: x.lookup('READDIRPLUS3resok'), resfail: x.lookup('READDIRPLUS3resfail') },
  });

  x.struct('READ3resok', [
    ['file_attributes', x.lookup('post_op_attr')],
    ['count', x.uint()],
    ['eof', x.bool()],
    ['data', x.varOpaque()],
  ]);
  x.struct('READ3resfail', [['file_attributes', x.lookup('post_op_attr')]]);
  x.union('READ3res', {
    switchOn: x.lookup('nfsstat3'),
    switches: [['nfs3Ok', 'resok']],
    defaultArm: 'resfail',
    arms: { resok: x.lookup('READ3resok'), resfail: x.lookup('READ3resfail') },
  });

  x.struct('point3', [
    ['x', x.int()],
    ['y', x.int()],
    ['z', x.int()],
  ]);
  x.union('variant', {
    switchOn: x.int(),
    switches: [
      [0, x.void()],
      [1, 'i'],
      [2, 'h'],
      [3, 's'],
      [4, 'p'],
    ],
    arms: { i: x.int(), h: x.hyper(), s: x.string(64), p: x.lookup('point3') },
  });
  x.struct('variant_list', [['items', x.varArray(x.lookup('variant'))]]);
});

const t = types;
const buf = (u8) => Buffer.from(u8);

// plain oncrpc value -> js-xdr value ---------------------------------------------------------------

function fattr3To(v) {
  return new t.fattr3({
    type: t.ftype3.fromValue(v.type),
    mode: v.mode,
    nlink: v.nlink,
    uid: v.uid,
    gid: v.gid,
    size: v.size,
    used: v.used,
    rdev: new t.specdata3({ specdata1: v.rdev.specdata1, specdata2: v.rdev.specdata2 }),
    fsid: v.fsid,
    fileid: v.fileid,
    atime: new t.nfstime3({ ...v.atime }),
    mtime: new t.nfstime3({ ...v.mtime }),
    ctime: new t.nfstime3({ ...v.ctime }),
  });
}

function postOpAttrTo(v) {
  return new t.post_op_attr(v.attributes_follow, v.attributes_follow ? fattr3To(v.attributes) : undefined);
}

function postOpFhTo(v) {
  return new t.post_op_fh3(v.handle_follows, v.handle_follows ? new t.nfs_fh3({ data: buf(v.handle.data) }) : undefined);
}

function entryTo(v) {
  return new t.entryplus3({
    fileid: v.fileid,
    name: v.name,
    cookie: v.cookie,
    name_attributes: postOpAttrTo(v.name_attributes),
    name_handle: postOpFhTo(v.name_handle),
    nextentry: v.nextentry === null ? undefined : entryTo(v.nextentry),
  });
}

export const to = {
  small: (v) => new t.small_args({ ...v, dir: buf(v.dir) }),
  readdirplus: (v) =>
    new t.READDIRPLUS3res(
      t.nfsstat3.fromValue(v.status),
      new t.READDIRPLUS3resok({
        dir_attributes: postOpAttrTo(v.resok.dir_attributes),
        cookieverf: buf(v.resok.cookieverf),
        reply: new t.dirlistplus3({
          entries: v.resok.reply.entries === null ? undefined : entryTo(v.resok.reply.entries),
          eof: v.resok.reply.eof,
        }),
      }),
    ),
  read: (v) =>
    new t.READ3res(
      t.nfsstat3.fromValue(v.status),
      new t.READ3resok({
        file_attributes: postOpAttrTo(v.resok.file_attributes),
        count: v.resok.count,
        eof: v.resok.eof,
        data: buf(v.resok.data),
      }),
    ),
  variants: (v) =>
    new t.variant_list({
      items: v.items.map((it) => {
        switch (it.kind) {
          case 0:
            return new t.variant(0);
          case 1:
            return new t.variant(1, it.i);
          case 2:
            return new t.variant(2, it.h);
          case 3:
            return new t.variant(3, it.s);
          default:
            return new t.variant(4, new t.point3({ ...it.p }));
        }
      }),
    }),
};

// js-xdr value -> plain oncrpc value ---------------------------------------------------------------

const u8 = (b) => new Uint8Array(b);
const str = (b) => (typeof b === 'string' ? b : b.toString('utf8'));
const big = (h) => (typeof h === 'bigint' ? h : h.toBigInt());

function fattr3From(a) {
  const time = (x) => ({ seconds: x.seconds(), nseconds: x.nseconds() });
  return {
    type: a.type().value,
    mode: a.mode(),
    nlink: a.nlink(),
    uid: a.uid(),
    gid: a.gid(),
    size: big(a.size()),
    used: big(a.used()),
    rdev: { specdata1: a.rdev().specdata1(), specdata2: a.rdev().specdata2() },
    fsid: big(a.fsid()),
    fileid: big(a.fileid()),
    atime: time(a.atime()),
    mtime: time(a.mtime()),
    ctime: time(a.ctime()),
  };
}

function postOpAttrFrom(u) {
  return u.switch() ? { attributes_follow: true, attributes: fattr3From(u.value()) } : { attributes_follow: false };
}

function postOpFhFrom(u) {
  return u.switch() ? { handle_follows: true, handle: { data: u8(u.value().data()) } } : { handle_follows: false };
}

function entryFrom(e) {
  // iterative, so long lists convert without deep recursion
  let head = null;
  let tail = null;
  for (let n = e; n !== undefined && n !== null; n = n.nextentry()) {
    const o = {
      fileid: big(n.fileid()),
      name: str(n.name()),
      cookie: big(n.cookie()),
      name_attributes: postOpAttrFrom(n.name_attributes()),
      name_handle: postOpFhFrom(n.name_handle()),
      nextentry: null,
    };
    if (tail === null) head = o;
    else tail.nextentry = o;
    tail = o;
  }
  return head;
}

export const from = {
  small: (s) => ({
    prog: s.prog(),
    vers: s.vers(),
    proc: s.proc(),
    netid: str(s.netid()),
    dir: u8(s.dir()),
    name: str(s.name()),
  }),
  readdirplus: (u) => {
    const ok = u.value();
    return {
      status: u.switch().value,
      resok: {
        dir_attributes: postOpAttrFrom(ok.dir_attributes()),
        cookieverf: u8(ok.cookieverf()),
        reply: { entries: entryFrom(ok.reply().entries()), eof: ok.reply().eof() },
      },
    };
  },
  read: (u) => {
    const ok = u.value();
    return {
      status: u.switch().value,
      resok: {
        file_attributes: postOpAttrFrom(ok.file_attributes()),
        count: ok.count(),
        eof: ok.eof(),
        data: u8(ok.data()),
      },
    };
  },
  variants: (l) => ({
    items: l.items().map((v) => {
      const kind = v.switch();
      switch (kind) {
        case 0:
          return { kind };
        case 1:
          return { kind, i: v.value() };
        case 2:
          return { kind, h: big(v.value()) };
        case 3:
          return { kind, s: str(v.value()) };
        default: {
          const p = v.value();
          return { kind, p: { x: p.x(), y: p.y(), z: p.z() } };
        }
      }
    }),
  }),
};
