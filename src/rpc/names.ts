// Names of well-known RPC programs and procedures, for people reading traffic (oncrpc decode, rpcinfo).
// Program names follow /etc/rpc (the first name, as rpcinfo prints them); procedure names are the ones
// in each protocol's .x file or RFC.

/** Program number -> name, as in /etc/rpc. */
export const PROGRAM_NAMES: ReadonlyMap<number, string> = new Map([
  [100000, 'portmapper'],
  [100001, 'rstatd'],
  [100002, 'rusersd'],
  [100003, 'nfs'],
  [100004, 'ypserv'],
  [100005, 'mountd'],
  [100007, 'ypbind'],
  [100008, 'walld'],
  [100009, 'yppasswdd'],
  [100011, 'rquotad'],
  [100012, 'sprayd'],
  [100021, 'nlockmgr'],
  [100024, 'status'],
  [100026, 'bootparam'],
  [100028, 'ypupdated'],
  [100029, 'keyserv'],
  [100069, 'ypxfrd'],
  [100227, 'nfs_acl'],
  [150001, 'pcnfsd'],
  [300019, 'amd'],
]);

const seq = (...names: string[]): readonly string[] => names;

const PMAP_V2 = seq('NULL', 'SET', 'UNSET', 'GETPORT', 'DUMP', 'CALLIT');
const RPCB_V3 = seq('NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'CALLIT', 'GETTIME', 'UADDR2TADDR', 'TADDR2UADDR');
const RPCB_V4 = seq(...RPCB_V3, 'GETVERSADDR', 'INDIRECT', 'GETADDRLIST', 'GETSTAT');
// RPCBPROC_BCAST is procedure 5 in version 4 (same number as CALLIT).
const RPCB_V4_NAMES = RPCB_V4.map((n, i) => (i === 5 ? 'BCAST' : n));
const NFS_V2 = seq('NULL', 'GETATTR', 'SETATTR', 'ROOT', 'LOOKUP', 'READLINK', 'READ', 'WRITECACHE', 'WRITE', 'CREATE', 'REMOVE', 'RENAME', 'LINK', 'SYMLINK', 'MKDIR', 'RMDIR', 'READDIR', 'STATFS');
const NFS_V3 = seq('NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT');
const NFS_V4 = seq('NULL', 'COMPOUND');
const MOUNT = seq('NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT', 'EXPORTALL', 'PATHCONF');
const NLM = seq('NULL', 'TEST', 'LOCK', 'CANCEL', 'UNLOCK', 'GRANTED', 'TEST_MSG', 'LOCK_MSG', 'CANCEL_MSG', 'UNLOCK_MSG', 'GRANTED_MSG', 'TEST_RES', 'LOCK_RES', 'CANCEL_RES', 'UNLOCK_RES', 'GRANTED_RES');
const NLM_V4 = seq(...NLM, '', '', '', '', 'SHARE', 'UNSHARE', 'NM_LOCK', 'FREE_ALL');
const NSM = seq('NULL', 'STAT', 'MON', 'UNMON', 'UNMON_ALL', 'SIMU_CRASH', 'NOTIFY');
const RQUOTA = seq('NULL', 'GETQUOTA', 'GETACTIVEQUOTA', 'SETQUOTA', 'SETACTIVEQUOTA');
const YPSERV = seq('NULL', 'DOMAIN', 'DOMAIN_NONACK', 'MATCH', 'FIRST', 'NEXT', 'XFR', 'CLEAR', 'ALL', 'MASTER', 'ORDER', 'MAPLIST');
const YPBIND = seq('NULL', 'DOMAIN', 'SETDOM');
const RSTAT = seq('NULL', 'STATS');
const RUSERS = seq('NULL', 'NUM', 'NAMES', 'ALLNAMES');
const NFS_ACL = seq('NULL', 'GETACL', 'SETACL', 'GETATTR', 'ACCESS', 'GETXATTRDIR');

/** `prog/vers` -> procedure names by number. */
const PROCEDURES = new Map<string, readonly string[]>([
  ['100000/2', PMAP_V2],
  ['100000/3', RPCB_V3],
  ['100000/4', RPCB_V4_NAMES],
  ['100003/2', NFS_V2],
  ['100003/3', NFS_V3],
  ['100003/4', NFS_V4],
  ['100005/1', MOUNT],
  ['100005/2', MOUNT],
  ['100005/3', MOUNT],
  ['100021/1', NLM],
  ['100021/3', NLM_V4],
  ['100021/4', NLM_V4],
  ['100024/1', NSM],
  ['100011/1', RQUOTA],
  ['100011/2', RQUOTA],
  ['100004/2', YPSERV],
  ['100007/2', YPBIND],
  ['100001/1', RSTAT],
  ['100001/2', RSTAT],
  ['100001/3', RSTAT],
  ['100002/2', RUSERS],
  ['100002/3', RUSERS],
  ['100227/2', NFS_ACL],
  ['100227/3', NFS_ACL],
]);

/** The name of a program, or undefined. */
export function programName(prog: number): string | undefined {
  return PROGRAM_NAMES.get(prog);
}

/** The name of a procedure of a well-known program version (`GETPORT`), or undefined. */
export function procedureName(prog: number, vers: number, proc: number): string | undefined {
  const n = PROCEDURES.get(`${prog}/${vers}`)?.[proc];
  return n ? n : undefined;
}
