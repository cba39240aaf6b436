// The workload types described with oncrpc's run-time combinators (the interpretive path used when a
// .x file is loaded at run time). Same JS values as codec-oncrpc.js.

import {
  array,
  bool,
  enumeration,
  fixedOpaque,
  hyper,
  int,
  lazy,
  opaque,
  optional,
  string,
  struct,
  uhyper,
  uint,
  union,
} from '../../dist/xdr/index.js';

export const small_args = struct('small_args', [
  ['prog', uint],
  ['vers', uint],
  ['proc', uint],
  ['netid', string(32)],
  ['dir', opaque(64)],
  ['name', string(255)],
]);

const nfsstat3 = enumeration('nfsstat3', {
  NFS3_OK: 0,
  NFS3ERR_PERM: 1,
  NFS3ERR_NOENT: 2,
  NFS3ERR_IO: 5,
  NFS3ERR_ACCES: 13,
  NFS3ERR_NOTDIR: 20,
  NFS3ERR_BAD_COOKIE: 10003,
});
const ftype3 = enumeration('ftype3', { NF3REG: 1, NF3DIR: 2, NF3BLK: 3, NF3CHR: 4, NF3LNK: 5, NF3SOCK: 6, NF3FIFO: 7 });
const specdata3 = struct('specdata3', [
  ['specdata1', uint],
  ['specdata2', uint],
]);
const nfstime3 = struct('nfstime3', [
  ['seconds', uint],
  ['nseconds', uint],
]);
const fattr3 = struct('fattr3', [
  ['type', ftype3],
  ['mode', uint],
  ['nlink', uint],
  ['uid', uint],
  ['gid', uint],
  ['size', uhyper],
  ['used', uhyper],
  ['rdev', specdata3],
  ['fsid', uhyper],
  ['fileid', uhyper],
  ['atime', nfstime3],
  ['mtime', nfstime3],
  ['ctime', nfstime3],
]);
const post_op_attr = union('post_op_attr', {
  discriminant: ['attributes_follow', bool],
  arms: [
    [[true], ['attributes', fattr3]],
    [[false], null],
  ],
});
const nfs_fh3 = struct('nfs_fh3', [['data', opaque(64)]]);
const post_op_fh3 = union('post_op_fh3', {
  discriminant: ['handle_follows', bool],
  arms: [
    [[true], ['handle', nfs_fh3]],
    [[false], null],
  ],
});
const entryplus3 = struct('entryplus3', [
  ['fileid', uhyper],
  ['name', string()],
  ['cookie', uhyper],
  ['name_attributes', post_op_attr],
  ['name_handle', post_op_fh3],
  ['nextentry', optional(lazy('entryplus3', () => entryplus3))],
]);
const dirlistplus3 = struct('dirlistplus3', [
  ['entries', optional(entryplus3)],
  ['eof', bool],
]);
const READDIRPLUS3resok = struct('READDIRPLUS3resok', [
  ['dir_attributes', post_op_attr],
  ['cookieverf', fixedOpaque(8)],
  ['reply', dirlistplus3],
]);
const READDIRPLUS3resfail = struct('READDIRPLUS3resfail', [['dir_attributes', post_op_attr]]);
export const READDIRPLUS3res = union('READDIRPLUS3res', {
  discriminant: ['status', nfsstat3],
  arms: [[[0], ['resok', READDIRPLUS3resok]]],
  default: ['resfail', READDIRPLUS3resfail],
});

const READ3resok = struct('READ3resok', [
  ['file_attributes', post_op_attr],
  ['count', uint],
  ['eof', bool],
  ['data', opaque()],
]);
const READ3resfail = struct('READ3resfail', [['file_attributes', post_op_attr]]);
export const READ3res = union('READ3res', {
  discriminant: ['status', nfsstat3],
  arms: [[[0], ['resok', READ3resok]]],
  default: ['resfail', READ3resfail],
});

const point3 = struct('point3', [
  ['x', int],
  ['y', int],
  ['z', int],
]);
const variant = union('variant', {
  discriminant: ['kind', int],
  arms: [
    [[0], null],
    [[1], ['i', int]],
    [[2], ['h', hyper]],
    [[3], ['s', string(64)]],
    [[4], ['p', point3]],
  ],
});
export const variant_list = struct('variant_list', [['items', array(variant)]]);
