// The closest TypeScript peer, @jsonjoy.com/json-pack 18.28.0 (pinned: 18.30.0 needs a package version
// the registry does not serve), through its documented API:
//   (b) its hand-written NFSv3 codecs: Nfsv3Encoder.encodeMessage(response, READDIRPLUS, false) and
//       Nfsv3Decoder.decodeMessage(reader, READDIRPLUS, false), values as its message/struct classes;
//   (d) its schema-driven XDR codec: XdrSchemaEncoder.encode(value, schema) / XdrSchemaDecoder.decode(bytes,
//       schema), unions as XdrUnion instances.
// Values are built once, outside the timed loop (as for js-xdr); `toOncrpc` converts its decoded values
// back to oncrpc's shape so run.js can check they equal the originals.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const nfs = require('@jsonjoy.com/json-pack/lib/nfs/v3/index.js');
const { XdrSchemaEncoder } = require('@jsonjoy.com/json-pack/lib/xdr/XdrSchemaEncoder.js');
const { XdrSchemaDecoder } = require('@jsonjoy.com/json-pack/lib/xdr/XdrSchemaDecoder.js');
const { XdrUnion } = require('@jsonjoy.com/json-pack/lib/xdr/XdrUnion.js');
const { Writer } = require('@jsonjoy.com/buffers/lib/Writer.js');
const { Reader } = require('@jsonjoy.com/buffers/lib/Reader.js');

export const version = require('@jsonjoy.com/json-pack/package.json').version;

const READDIRPLUS = 17;

// ---- (b) READDIRPLUS reply through Nfsv3Encoder / Nfsv3Decoder -----------------------------------------

const time = (t) => new nfs.Nfsv3Time(t.seconds, t.nseconds);
const fattr = (a) =>
  new nfs.Nfsv3Fattr(a.type, a.mode, a.nlink, a.uid, a.gid, a.size, a.used, new nfs.Nfsv3SpecData(a.rdev.specdata1, a.rdev.specdata2), a.fsid, a.fileid, time(a.atime), time(a.mtime), time(a.ctime));
const postOpAttr = (p) => new nfs.Nfsv3PostOpAttr(p.attributes_follow, p.attributes_follow ? fattr(p.attributes) : undefined);
const postOpFh = (p) => new nfs.Nfsv3PostOpFh(p.handle_follows, p.handle_follows ? new nfs.Nfsv3Fh(p.handle.data) : undefined);

function readdirplusValue(v) {
  if (v.status !== 0) throw new Error('bench values are NFS3_OK replies');
  const list = [];
  for (let e = v.resok.reply.entries; e; e = e.nextentry) list.push(e);
  let next;
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i];
    next = new nfs.Nfsv3EntryPlus(e.fileid, e.name, e.cookie, postOpAttr(e.name_attributes), postOpFh(e.name_handle), next);
  }
  const resok = new nfs.Nfsv3ReaddirplusResOk(postOpAttr(v.resok.dir_attributes), v.resok.cookieverf, new nfs.Nfsv3DirListPlus(v.resok.reply.eof, next));
  return new nfs.Nfsv3ReaddirplusResponse(0, resok);
}

const backTime = (t) => ({ seconds: t.seconds, nseconds: t.nseconds });
const backAttr = (p) =>
  p.attributesFollow
    ? {
        attributes_follow: true,
        attributes: {
          type: p.attributes.type,
          mode: p.attributes.mode,
          nlink: p.attributes.nlink,
          uid: p.attributes.uid,
          gid: p.attributes.gid,
          size: p.attributes.size,
          used: p.attributes.used,
          rdev: { specdata1: p.attributes.rdev.specdata1, specdata2: p.attributes.rdev.specdata2 },
          fsid: p.attributes.fsid,
          fileid: p.attributes.fileid,
          atime: backTime(p.attributes.atime),
          mtime: backTime(p.attributes.mtime),
          ctime: backTime(p.attributes.ctime),
        },
      }
    : { attributes_follow: false };

function readdirplusBack(m) {
  const entries = [];
  for (let e = m.resok.reply.entries; e; e = e.nextentry) {
    entries.push({
      fileid: e.fileid,
      name: e.name,
      cookie: e.cookie,
      name_attributes: backAttr(e.nameAttributes),
      name_handle: e.nameHandle.handleFollows ? { handle_follows: true, handle: { data: new Uint8Array(e.nameHandle.handle.data) } } : { handle_follows: false },
      nextentry: null,
    });
  }
  for (let i = 0; i + 1 < entries.length; i++) entries[i].nextentry = entries[i + 1];
  return {
    status: m.status,
    resok: {
      dir_attributes: backAttr(m.resok.dirAttributes),
      cookieverf: new Uint8Array(m.resok.cookieverf),
      reply: { entries: entries[0] ?? null, eof: m.resok.reply.eof },
    },
  };
}

// ---- (d) 1000 unions through XdrSchemaEncoder / XdrSchemaDecoder ----------------------------------------

const int = { type: 'int' };
const variantSchema = {
  type: 'union',
  arms: [
    [0, { type: 'void' }],
    [1, int],
    [2, { type: 'hyper' }],
    [3, { type: 'string', size: 64 }],
    [4, { type: 'struct', fields: [[int, 'x'], [int, 'y'], [int, 'z']] }],
  ],
};
const variantListSchema = { type: 'struct', fields: [[{ type: 'varray', elements: variantSchema }, 'items']] };
const ARM = ['', 'i', 'h', 's', 'p'];

const variantsValue = (v) => ({ items: v.items.map((u) => new XdrUnion(u.kind, u.kind === 0 ? undefined : u[ARM[u.kind]])) });
const variantsBack = (d) => ({ items: d.items.map((u) => (u.discriminant === 0 ? { kind: 0 } : { kind: u.discriminant, [ARM[u.discriminant]]: u.value })) });

// ---- the codecs run.js times ----------------------------------------------------------------------------

/** For workload `id` and its oncrpc value: { encode(), decode(bytes), back(decoded) }, or null (no row). */
export function jsonPackCodec(id, value) {
  if (id === 'readdirplus') {
    const encoder = new nfs.Nfsv3Encoder(new Writer(64 * 1024));
    const decoder = new nfs.Nfsv3Decoder();
    const reader = new Reader();
    const msg = readdirplusValue(value);
    return {
      impl: 'json-pack Nfsv3Encoder/Decoder (hand-written)',
      encode: () => encoder.encodeMessage(msg, READDIRPLUS, false),
      decode: (bytes) => {
        reader.reset(bytes);
        return decoder.decodeMessage(reader, READDIRPLUS, false);
      },
      back: readdirplusBack,
    };
  }
  if (id === 'variants') {
    const encoder = new XdrSchemaEncoder(new Writer(64 * 1024));
    const decoder = new XdrSchemaDecoder();
    const v = variantsValue(value);
    return {
      impl: 'json-pack XdrSchemaEncoder/Decoder',
      encode: () => encoder.encode(v, variantListSchema),
      decode: (bytes) => decoder.decode(bytes, variantListSchema),
      back: variantsBack,
    };
  }
  return null;
}
