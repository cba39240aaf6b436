// RPC protocol constants, names verbatim from RFC 5531 §9 and appendix A, and libtirpc's <rpc/auth.h>.

/** msg_type (RFC 5531 §9). */
export const msg_type = { CALL: 0, REPLY: 1 } as const;
export type MsgType = (typeof msg_type)[keyof typeof msg_type];

/** reply_stat (RFC 5531 §9). */
export const reply_stat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const;
export type ReplyStat = (typeof reply_stat)[keyof typeof reply_stat];

/** accept_stat (RFC 5531 §9). */
export const accept_stat = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;
export type AcceptStat = (typeof accept_stat)[keyof typeof accept_stat];

/** reject_stat (RFC 5531 §9). */
export const reject_stat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const;
export type RejectStat = (typeof reject_stat)[keyof typeof reject_stat];

/** auth_stat (RFC 5531 §9; 13 and 14 from RFC 2203 RPCSEC_GSS). Unknown values are carried as numbers. */
export const auth_stat = {
  AUTH_OK: 0,
  AUTH_BADCRED: 1,
  AUTH_REJECTEDCRED: 2,
  AUTH_BADVERF: 3,
  AUTH_REJECTEDVERF: 4,
  AUTH_TOOWEAK: 5,
  AUTH_INVALIDRESP: 6,
  AUTH_FAILED: 7,
  AUTH_KERB_GENERIC: 8,
  AUTH_TIMEEXPIRE: 9,
  AUTH_TKT_FILE: 10,
  AUTH_DECODE: 11,
  AUTH_NET_ADDR: 12,
  RPCSEC_GSS_CREDPROBLEM: 13,
  RPCSEC_GSS_CTXPROBLEM: 14,
} as const;
export type AuthStat = (typeof auth_stat)[keyof typeof auth_stat];

/** auth_flavor (RFC 5531 §8.2 and the IANA registry). Any other number is carried as opaque. */
export const auth_flavor = {
  AUTH_NONE: 0,
  AUTH_SYS: 1,
  AUTH_SHORT: 2,
  AUTH_DH: 3,
  RPCSEC_GSS: 6,
} as const;

/** RPC protocol version this implementation speaks (RFC 5531 §9: rpcvers must be 2). */
export const RPC_VERSION = 2;

/** Largest opaque_auth body (RFC 5531 §8.2). */
export const MAX_AUTH_BYTES = 400;

/** Name of a value in one of the tables above, or its number as text. */
export function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const k in table) if (table[k] === value) return k;
  return String(value);
}
