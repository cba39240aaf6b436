// The errors XDR encoders and decoders raise for bad values, built in one place so the writer, the
// run-time codecs and generated code (which imports these from 'oncrpc/runtime') say the same thing.

import { ErrorCodes, XdrDecodeError, XdrEncodeError, XdrError } from '../errors.js';

/** Adds `path` to an XDR error unwinding out of the field it names; returns `e` for `throw`. */
export function atPath(e: unknown, path: string): unknown {
  if (path !== '' && e instanceof XdrError) e.prependPath(path);
  return e;
}

function describe(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x !== 'object' || x === null) return String(x);
  try {
    const s = JSON.stringify(x);
    return s === undefined ? String(x) : s.length > 60 ? s.slice(0, 57) + '...' : s;
  } catch {
    return Object.prototype.toString.call(x);
  }
}

function encodeError(message: string, path: string): XdrEncodeError {
  const e = new XdrEncodeError(message);
  return path === '' ? e : e.prependPath(path);
}

export const notInt = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not an int (32-bit signed integer)`, path);
export const notUint = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not an unsigned int (0..2^32-1)`, path);
export const notHyper = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not a hyper (64-bit signed bigint)`, path);
export const notUhyper = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not an unsigned hyper (64-bit unsigned bigint)`, path);
export const notBool = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not a bool`, path);
export const notNumber = (x: unknown, path = ''): XdrEncodeError => encodeError(`${String(x)} is not a number`, path);
export const notEnum = (x: unknown, name: string, path = ''): XdrEncodeError => encodeError(`${String(x)} is not a value of enum ${name}`, path);
export const noArm = (x: unknown, union: string, path = ''): XdrEncodeError => encodeError(`${String(x)} selects no arm of union ${union}`, path);
/** A present value of an optional of optional-data (`nodeptr *p`) that is not `{ value: … }` (src/xdr/types.ts Optional). */
export const notBoxed = (x: unknown, path = ''): XdrEncodeError =>
  encodeError(`${describe(x)} is not { value: … } (a present optional whose type is itself optional-data is boxed)`, path);
export const badLength = (n: number, path = ''): XdrEncodeError => encodeError(`fixed array needs ${n} elements`, path);
/** A struct or union value (`what`: `struct point`) that is not an object. */
export const notObject = (_x: unknown, what: string, path = ''): XdrEncodeError => encodeError(`${what} value must be an object`, path);
/** A variable-length array value that is not an Array. */
export const notArray = (_x: unknown, path = ''): XdrEncodeError => encodeError('array value must be an Array', path);
/** The arguments of a several-argument procedure that are not an array of `n` values. */
export const notTuple = (n: number, path = ''): XdrEncodeError => encodeError(`a tuple of ${n} values is needed`, path);

/** ERR_XDR_ENUM for `x` read at `offset`. */
export function badEnum(x: number, name: string, offset: number, path = ''): XdrDecodeError {
  const e = new XdrDecodeError(ErrorCodes.ERR_XDR_ENUM, `${x} is not a value of enum ${name}`, offset);
  return path === '' ? e : e.prependPath(path);
}

/** ERR_XDR_BOOL for `x` read at `offset`. */
export function badBool(x: number, offset: number, path = ''): XdrDecodeError {
  const e = new XdrDecodeError(ErrorCodes.ERR_XDR_BOOL, `bool is ${x}, not 0 or 1`, offset);
  return path === '' ? e : e.prependPath(path);
}
