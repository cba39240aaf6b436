// RPC message types (RFC 5531 §9): calls and replies as plain data, discriminated on the RFC's fields.

import type { accept_stat, reject_stat } from './constants.js';

/** opaque_auth (RFC 5531 §8.2): a flavor number and its body (≤ 400 bytes), a view into the message. */
export interface OpaqueAuth {
  flavor: number;
  body: Uint8Array;
}

/** A call (msg_type CALL). `body` holds the procedure arguments: a zero-copy view into the record. */
export interface RpcCall {
  xid: number;
  mtype: 0;
  /** 2 for every valid call; anything else is carried so a server can refuse it. */
  rpcvers: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
  body: Uint8Array;
}

type AcceptStat = typeof accept_stat;

/** An accepted reply (reply_stat MSG_ACCEPTED). `body` holds the results for SUCCESS (a zero-copy view), else normally nothing. */
export type AcceptedReply = {
  xid: number;
  mtype: 1;
  stat: 0;
  verf: OpaqueAuth;
  body: Uint8Array;
} & (
  | { acceptStat: AcceptStat['PROG_MISMATCH']; low: number; high: number }
  | {
      acceptStat:
        | AcceptStat['SUCCESS']
        | AcceptStat['PROG_UNAVAIL']
        | AcceptStat['PROC_UNAVAIL']
        | AcceptStat['GARBAGE_ARGS']
        | AcceptStat['SYSTEM_ERR'];
    }
);

/** A denied reply (reply_stat MSG_DENIED): RPC version mismatch or an authentication error. */
export type DeniedReply = {
  xid: number;
  mtype: 1;
  stat: 1;
  /** Bytes after the reply (none from any real implementation; kept so re-encoding is exact). */
  body: Uint8Array;
} & (
  | { rejectStat: (typeof reject_stat)['RPC_MISMATCH']; low: number; high: number }
  | { rejectStat: (typeof reject_stat)['AUTH_ERROR']; authStat: number }
);

export type RpcReply = AcceptedReply | DeniedReply;
export type RpcMessage = RpcCall | RpcReply;

/** The header fields of a call, what a client supplies to encode one. */
export interface CallHeader {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
  /** Defaults to 2. */
  rpcvers?: number;
}

const NO_BYTES = new Uint8Array(0);

/** AUTH_NONE with an empty body: the usual verifier. Frozen, shared. */
export const AUTH_NONE: OpaqueAuth = Object.freeze({ flavor: 0, body: NO_BYTES });
