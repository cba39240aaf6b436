// Decode limits: caps applied to untrusted XDR on top of the bounds a type declares.

/** Limits a reader enforces while decoding. Every field is optional; defaults in `DEFAULT_LIMITS`. */
export interface DecodeLimits {
  /** Longest `string<>` accepted when the type declares no bound, in bytes. */
  maxStringBytes?: number;
  /** Longest `opaque<>` accepted when the type declares no bound, in bytes. */
  maxOpaqueBytes?: number;
  /** Most elements in a `T<>` array when the type declares no bound. */
  maxArrayLength?: number;
  /** Deepest nesting of recursive types (optional-data that is not a tail list, nested unions). */
  maxDepth?: number;
  /** Reject non-zero padding bytes after opaque/string data (RFC 4506 §3.8 says they are zero). */
  strictPadding?: boolean;
}

/** Resolved limits with every field present. */
export type ResolvedLimits = Required<DecodeLimits>;

/**
 * Defaults: no caps beyond the declared bounds and the bytes actually present (a length can never make
 * the reader allocate more than the input holds), recursion 1000 deep, padding checked.
 */
export const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({
  maxStringBytes: 0xffffffff,
  maxOpaqueBytes: 0xffffffff,
  maxArrayLength: 0xffffffff,
  maxDepth: 1000,
  strictPadding: true,
});

/** Merges user limits over the defaults. */
export function resolveLimits(limits?: DecodeLimits): ResolvedLimits {
  return limits ? { ...DEFAULT_LIMITS, ...limits } : DEFAULT_LIMITS;
}
