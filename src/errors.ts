// Every error oncrpc throws. Classes are split by who must react; `code` says what happened.
// Match on `err.code` rather than `instanceof` when two copies of oncrpc may be loaded.

/** Stable error codes, one per distinct failure. Documented in docs/errors.md. */
export const ErrorCodes = {
  /** Fewer bytes remain than the next item needs. */
  ERR_XDR_SHORT: 'ERR_XDR_SHORT',
  /** A length exceeds the declared maximum (`string<255>`, `opaque<16>`, `T<100>`) or a configured limit. */
  ERR_XDR_BOUND: 'ERR_XDR_BOUND',
  /** A union discriminant selects no arm and the union has no default. */
  ERR_XDR_DISCRIMINANT: 'ERR_XDR_DISCRIMINANT',
  /** An enum value is not one of the declared values. */
  ERR_XDR_ENUM: 'ERR_XDR_ENUM',
  /** A bool is neither 0 nor 1 (also used for optional-data flags). */
  ERR_XDR_BOOL: 'ERR_XDR_BOOL',
  /** Padding bytes after opaque or string data are not zero. */
  ERR_XDR_PADDING: 'ERR_XDR_PADDING',
  /** Bytes remain after a value that should have consumed the whole input. */
  ERR_XDR_TRAILING: 'ERR_XDR_TRAILING',
  /** Nesting deeper than the reader's recursion budget. */
  ERR_XDR_DEPTH: 'ERR_XDR_DEPTH',
  /** A value handed to an encoder does not fit its XDR type (range, bound, missing arm, wrong JS type). */
  ERR_XDR_VALUE: 'ERR_XDR_VALUE',
  /** A record is larger than the configured maximum. */
  ERR_RECORD_TOO_LARGE: 'ERR_RECORD_TOO_LARGE',
  /** A record has more fragments than the configured maximum. */
  ERR_RECORD_FRAGMENTS: 'ERR_RECORD_FRAGMENTS',
  /** The stream ended in the middle of a record. */
  ERR_RECORD_TRUNCATED: 'ERR_RECORD_TRUNCATED',
  /** An RPC header field has a value RFC 5531 does not allow (msg_type, reply_stat, accept_stat, …). */
  ERR_RPC_HEADER: 'ERR_RPC_HEADER',
  /** An opaque_auth body is longer than 400 bytes (RFC 5531 §8.2). */
  ERR_RPC_AUTH_TOO_LARGE: 'ERR_RPC_AUTH_TOO_LARGE',
  /** A capture file is malformed or uses a format oncrpc does not read. */
  ERR_PCAP_FORMAT: 'ERR_PCAP_FORMAT',
  /** A .x file has errors (the diagnostics say which). */
  ERR_XDR_COMPILE: 'ERR_XDR_COMPILE',
  /** A loaded .x has no type, program, version or procedure of that name or number, or a type has no JSON mapping. */
  ERR_SCHEMA: 'ERR_SCHEMA',
  // ---- calls (client side): one code per outcome; `clntStat` and `text` say it as libtirpc does ----
  /** The server has no such program (accept_stat PROG_UNAVAIL). */
  ERR_RPC_PROG_UNAVAIL: 'ERR_RPC_PROG_UNAVAIL',
  /** The server has the program but not this version (PROG_MISMATCH; `low`, `high`). */
  ERR_RPC_PROG_MISMATCH: 'ERR_RPC_PROG_MISMATCH',
  /** The program has no such procedure (PROC_UNAVAIL). */
  ERR_RPC_PROC_UNAVAIL: 'ERR_RPC_PROC_UNAVAIL',
  /** The server could not decode the arguments (GARBAGE_ARGS). */
  ERR_RPC_GARBAGE_ARGS: 'ERR_RPC_GARBAGE_ARGS',
  /** The server failed (SYSTEM_ERR). */
  ERR_RPC_SYSTEM_ERR: 'ERR_RPC_SYSTEM_ERR',
  /** The server does not speak RPC version 2 (MSG_DENIED RPC_MISMATCH; `low`, `high`). */
  ERR_RPC_VERSION_MISMATCH: 'ERR_RPC_VERSION_MISMATCH',
  /** The server refused the credential (MSG_DENIED AUTH_ERROR; `authStat`). */
  ERR_RPC_AUTH: 'ERR_RPC_AUTH',
  /** No reply before the call's deadline. */
  ERR_RPC_TIMEOUT: 'ERR_RPC_TIMEOUT',
  /** The call's AbortSignal fired (`cause`: the signal's reason). */
  ERR_RPC_ABORTED: 'ERR_RPC_ABORTED',
  /** The connection could not be made (refused, unreachable, connect timeout, unknown host). */
  ERR_RPC_CANT_CONNECT: 'ERR_RPC_CANT_CONNECT',
  /** The call could not be sent (too large for a datagram, or the send failed). */
  ERR_RPC_CANT_SEND: 'ERR_RPC_CANT_SEND',
  /** The connection closed or failed while the call was in flight. */
  ERR_RPC_CONNECTION_LOST: 'ERR_RPC_CONNECTION_LOST',
  /** The reply's results could not be decoded. */
  ERR_RPC_CANT_DECODE_RES: 'ERR_RPC_CANT_DECODE_RES',
  /** The program (or this version over this transport) is not registered with the host's rpcbind. */
  ERR_RPC_NOT_REGISTERED: 'ERR_RPC_NOT_REGISTERED',
  /** rpcbind itself could not be asked (no rpcbind, or it failed). */
  ERR_RPC_RPCB_FAILURE: 'ERR_RPC_RPCB_FAILURE',
  /** The client was closed or destroyed. */
  ERR_RPC_CLOSED: 'ERR_RPC_CLOSED',
  /** A handler refused the call with a chosen accept_stat or auth_stat (RpcReject; server side). */
  ERR_RPC_REJECT: 'ERR_RPC_REJECT',
  /** A universal address (RFC 5665) or netid could not be parsed. */
  ERR_RPC_UADDR: 'ERR_RPC_UADDR',
  /** A line the oncrpc command reads is not in the form it expects (not JSON, not hex). */
  ERR_CLI_INPUT: 'ERR_CLI_INPUT',
  /** The native addon (build/Release/oncrpc_native.node) is not built or does not load (`cause`: why). */
  ERR_NATIVE_UNAVAILABLE: 'ERR_NATIVE_UNAVAILABLE',
  /** A native socket was given an invalid argument (not an IP literal of its family, a bad port or buffer). */
  ERR_NATIVE_ARGUMENT: 'ERR_NATIVE_ARGUMENT',
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base of every oncrpc error. `code` is stable; `message` is for people. */
export class OncRpcError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Base of XDR errors; `path` names the field being handled (`entries[3].name`), '' at top level. */
export class XdrError extends OncRpcError {
  #path: string[] = [];
  readonly detail: string;
  constructor(code: ErrorCode, detail: string) {
    super(code, detail);
    this.detail = detail;
  }
  /** The field path, outermost first, e.g. `entries[3].name`. */
  get path(): string {
    let s = '';
    for (const p of this.#path) s += p.startsWith('[') || s === '' ? p : '.' + p;
    return s;
  }
  /** Records that the failure happened inside field or element `segment` (called while unwinding). */
  prependPath(segment: string): this {
    this.#path.unshift(segment);
    this.message = this.describe();
    return this;
  }
  protected describe(): string {
    const p = this.path;
    return p ? `${p}: ${this.detail}` : this.detail;
  }
}

/** Untrusted bytes are not valid XDR for the expected type. `offset` is the byte where the bad item starts. */
export class XdrDecodeError extends XdrError {
  readonly offset: number;
  constructor(code: ErrorCode, detail: string, offset: number) {
    super(code, detail);
    this.offset = offset;
    this.message = this.describe();
  }
  protected override describe(): string {
    return `${super.describe()} (at byte ${this.offset})`;
  }
}

/** A value given to an encoder cannot be represented in its XDR type. A programming error: never sent. */
export class XdrEncodeError extends XdrError {
  constructor(detail: string) {
    super(ErrorCodes.ERR_XDR_VALUE, detail);
  }
}

/** Base of RPC-layer errors (message headers, record marking). */
export class RpcError extends OncRpcError {}

/** An RPC message header breaks RFC 5531 (bad msg_type, oversized auth body, bad AUTH_SYS). */
export class RpcMessageError extends RpcError {
  readonly offset: number;
  constructor(code: ErrorCode, message: string, offset: number) {
    super(code, `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** Record marking (RFC 5531 §11) failed: the stream must be closed. */
export class RecordError extends RpcError {
  /** The limit that was crossed (bytes or fragments). */
  readonly limit: number;
  /** What the peer announced or sent. */
  readonly seen: number;
  constructor(code: ErrorCode, message: string, limit: number, seen: number) {
    super(code, message);
    this.limit = limit;
    this.seen = seen;
  }
}

/** A capture file could not be read. `offset` is the file offset of the bad block. */
export class PcapError extends OncRpcError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(ErrorCodes.ERR_PCAP_FORMAT, `${message} (at file offset ${offset})`);
    this.offset = offset;
  }
}

/** A place in a source file, 1-based. `file` is the path as given (or as `#include` named it). */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/**
 * A compiler message about a .x file: the one diagnostic type of oncrpc (the front end collects them,
 * CompileError carries them, `oncrpc gen` prints them). Printed by {@link formatDiagnostic}.
 */
export interface Diagnostic {
  severity: 'error' | 'warning';
  message: string;
  pos: SourcePos;
}

/** @deprecated The same type as {@link Diagnostic} (its former name). */
export type CompileDiagnostic = Diagnostic;

/** `file:line:col`: how every diagnostic and every "first defined at …" names a place. */
export function formatSourcePos(p: SourcePos): string {
  return `${p.file}:${p.line}:${p.col}`;
}

/** `file:line:col: severity: message`, as compilers print them. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${formatSourcePos(d.pos)}: ${d.severity}: ${d.message}`;
}

/**
 * A .x file could not be compiled; `diagnostics` lists every problem found (not only the first). The
 * message is the error count, then one {@link formatDiagnostic} line per diagnostic.
 */
export class CompileError extends OncRpcError {
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const lines = diagnostics.map(formatDiagnostic);
    super(ErrorCodes.ERR_XDR_COMPILE, `${errors.length} error${errors.length === 1 ? '' : 's'}\n${lines.join('\n')}`);
    this.diagnostics = diagnostics;
  }
}

/** A loaded .x specification lacks what was asked of it (a type, program, version or procedure). */
export class SchemaError extends OncRpcError {
  constructor(message: string) {
    super(ErrorCodes.ERR_SCHEMA, message);
  }
}

/** libtirpc's `enum clnt_stat` values (rpc/clnt_stat.h) the runtime reports. */
export const clnt_stat = {
  RPC_SUCCESS: 0, RPC_CANTENCODEARGS: 1, RPC_CANTDECODERES: 2, RPC_CANTSEND: 3, RPC_CANTRECV: 4, RPC_TIMEDOUT: 5,
  RPC_VERSMISMATCH: 6, RPC_AUTHERROR: 7, RPC_PROGUNAVAIL: 8, RPC_PROGVERSMISMATCH: 9, RPC_PROCUNAVAIL: 10,
  RPC_CANTDECODEARGS: 11, RPC_SYSTEMERROR: 12, RPC_UNKNOWNHOST: 13, RPC_PMAPFAILURE: 14, RPC_PROGNOTREGISTERED: 15,
  RPC_FAILED: 16, RPC_UNKNOWNPROTO: 17, RPC_INTR: 18,
} as const;

/** libtirpc's `clnt_sperrno` texts, by clnt_stat. */
const CLNT_SPERRNO: Readonly<Record<number, string>> = {
  0: 'RPC: Success', 1: "RPC: Can't encode arguments", 2: "RPC: Can't decode result", 3: 'RPC: Unable to send',
  4: 'RPC: Unable to receive', 5: 'RPC: Timed out', 6: 'RPC: Incompatible versions of RPC', 7: 'RPC: Authentication error',
  8: 'RPC: Program unavailable', 9: 'RPC: Program/version mismatch', 10: 'RPC: Procedure unavailable',
  11: "RPC: Server can't decode arguments", 12: 'RPC: Remote system error', 13: 'RPC: Unknown host',
  14: 'RPC: Port mapper failure', 15: 'RPC: Program not registered', 16: 'RPC: Failed (unspecified error)',
  17: 'RPC: Unknown protocol',
};

/** libtirpc's `clnt_sperrno(stat)`. */
export function clntSperrno(stat: number): string {
  return CLNT_SPERRNO[stat] ?? 'RPC: (unknown error code)';
}

/** libtirpc's texts for `auth_stat` (the `; why = …` of clnt_sperror). */
export function authStatText(stat: number): string {
  return (
    ['Authentication OK', 'Invalid client credential', 'Server rejected credential', 'Invalid client verifier',
      'Server rejected verifier', 'Client credential too weak', 'Invalid server verifier', 'Failed (unspecified error)'][stat] ??
    `Unknown authentication error - ${stat}`
  );
}

const CALL_STAT: Partial<Record<ErrorCode, number>> = {
  ERR_RPC_PROG_UNAVAIL: 8, ERR_RPC_PROG_MISMATCH: 9, ERR_RPC_PROC_UNAVAIL: 10, ERR_RPC_GARBAGE_ARGS: 11,
  ERR_RPC_SYSTEM_ERR: 12, ERR_RPC_VERSION_MISMATCH: 6, ERR_RPC_AUTH: 7, ERR_RPC_TIMEOUT: 5, ERR_RPC_ABORTED: 18,
  ERR_RPC_CANT_CONNECT: 12, ERR_RPC_CANT_SEND: 3, ERR_RPC_CONNECTION_LOST: 4, ERR_RPC_CANT_DECODE_RES: 2, ERR_RPC_NOT_REGISTERED: 15,
  ERR_RPC_RPCB_FAILURE: 14, ERR_RPC_CLOSED: 3,
};

/**
 * A remote call failed. `code` says how (one per outcome); `clntStat` is libtirpc's clnt_stat for it and
 * `text` its clnt_sperror wording (`RPC: Program/version mismatch; low version = 1, high version = 2`),
 * which the CLIs print. `low`/`high` come with the two mismatches, `authStat` with ERR_RPC_AUTH.
 */
export class RpcCallError extends RpcError {
  readonly clntStat: number;
  readonly text: string;
  readonly low?: number;
  readonly high?: number;
  readonly authStat?: number;
  constructor(code: ErrorCode, detail: string, extra: { low?: number; high?: number; authStat?: number; cause?: unknown } = {}) {
    const stat = CALL_STAT[code] ?? clnt_stat.RPC_FAILED;
    let text = clntSperrno(stat);
    if (extra.low !== undefined) text += `; low version = ${extra.low}, high version = ${extra.high}`;
    if (extra.authStat !== undefined) text += `; why = ${authStatText(extra.authStat)}`;
    super(code, detail ? `${text} (${detail})` : text, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.clntStat = stat;
    this.text = text;
    if (extra.low !== undefined) this.low = extra.low;
    if (extra.high !== undefined) this.high = extra.high;
    if (extra.authStat !== undefined) this.authStat = extra.authStat;
  }
}

/**
 * Thrown by a server handler to refuse a call with a chosen status: an accept_stat (PROG_UNAVAIL,
 * PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR) or, with `authStat`, MSG_DENIED AUTH_ERROR.
 */
export class RpcReject extends RpcError {
  readonly acceptStat?: number;
  readonly authStat?: number;
  /** With acceptStat PROG_MISMATCH (2): the versions served. */
  readonly low?: number;
  readonly high?: number;
  constructor(reply: { acceptStat: 1 | 3 | 4 | 5 } | { acceptStat: 2; low: number; high: number } | { authStat: number }, message?: string) {
    super(ErrorCodes.ERR_RPC_REJECT, message ?? ('authStat' in reply ? `auth error ${reply.authStat}` : `accept_stat ${reply.acceptStat}`));
    if ('authStat' in reply) this.authStat = reply.authStat;
    else {
      this.acceptStat = reply.acceptStat;
      if (reply.acceptStat === 2) {
        this.low = reply.low;
        this.high = reply.high;
      }
    }
  }
}

/** A universal address or netid (RFC 5665) is malformed or unsupported. */
export class UaddrError extends RpcError {
  constructor(message: string) {
    super(ErrorCodes.ERR_RPC_UADDR, message);
  }
}

/** The oncrpc command was given input it cannot read (a line that is not JSON, not hex). */
export class CliInputError extends OncRpcError {
  constructor(message: string) {
    super(ErrorCodes.ERR_CLI_INPUT, message);
  }
}
