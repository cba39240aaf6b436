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
  /** A line the oncrpc command reads is not in the form it expects (not JSON, not hex). */
  ERR_CLI_INPUT: 'ERR_CLI_INPUT',
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

/** One diagnostic of a CompileError: `file:line:col: severity: message`. */
export interface CompileDiagnostic {
  severity: 'error' | 'warning';
  message: string;
  pos: { file: string; line: number; col: number };
}

/** A .x file could not be compiled; `diagnostics` lists every problem found (not only the first). */
export class CompileError extends OncRpcError {
  readonly diagnostics: readonly CompileDiagnostic[];
  constructor(diagnostics: readonly CompileDiagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === 'error');
    const lines = diagnostics.map((d) => `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.severity}: ${d.message}`);
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

/** The oncrpc command was given input it cannot read (a line that is not JSON, not hex). */
export class CliInputError extends OncRpcError {
  constructor(message: string) {
    super(ErrorCodes.ERR_CLI_INPUT, message);
  }
}
