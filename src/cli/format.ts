// What every `oncrpc` subcommand prints the same way: endpoints, program/procedure labels, credentials,
// reply statuses, errors. A subcommand reports a failure with `cliError` or `fail`, which print one line
// `oncrpc <cmd>: what went wrong` on stderr and set the exit status; commander's own errors (unknown
// option, missing or bad argument) get the same form through `applyCliConventions`.
//
//   endpointText({addr, port})          '127.0.0.1:111', '[::1]:111'
//   hex32(n)                            '0x0000abcd'
//   progLabel(prog, vers, proc, names?) 'portmapper(100000) v4 GETADDR(3)', '541089920 v1 proc 2'
//   authText(auth) / authJson(auth)     a credential or verifier for text / for --json
//   replyStatus(reply)                  'SUCCESS', 'PROG_MISMATCH(low=2 high=4)', 'MSG_DENIED AUTH_ERROR(…)'
//   errorText(err)                      'ERR_XDR_SHORT: …', 'no such file or directory', …
//   cliError(cmd, err, file?)           prints 'oncrpc <cmd>: [file: ]errorText(err)', exit status 1
//   fail(cmd, message, exitCode = 1)    prints 'oncrpc <cmd>: message', sets the exit status
//   programLabel / procedureLabel       the two halves of progLabel: 'portmapper(100000)', 'GETADDR(3)'
//   parseByteCount(value)               commander option parser: a positive integer number of bytes
//   parseCount(value) / parseSeconds(v) commander option parsers: a positive integer / seconds > 0
//   loadXFile(path)                     loadX, but an unreadable file fails with the system error
//   commandName(cmd)                    'decode', 'xdr encode'
//   applyCliConventions(program)        the rules above for commander's errors, on every subcommand

import { readFile } from 'node:fs/promises';
import { CommanderError, InvalidArgumentError, type Command } from 'commander';
import { loadX, type LoadedSchema } from '../codegen/interpret.js';
import { CompileError, OncRpcError } from '../errors.js';
import { formatEndpoint } from '../pcap/addr.js';
import { decodeAuthSys } from '../rpc/auth-sys.js';
import { accept_stat, auth_flavor, auth_stat, nameOf, reject_stat } from '../rpc/constants.js';
import type { OpaqueAuth, RpcMessage } from '../rpc/messages.js';
import { procedureName, programName } from '../rpc/names.js';

/** An address and port: `a.b.c.d:port`, `[v6]:port`. */
export const endpointText: (e: { readonly addr: string; readonly port: number }) => string = formatEndpoint;

const HEX2 = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** A 32-bit number as `0x` and 8 hex digits (xids, stamps). */
export function hex32(n: number): string {
  // Four table lookups: decode prints one per message, and toString(16) + padStart cost more.
  return '0x' + HEX2[(n >>> 24) & 0xff]! + HEX2[(n >>> 16) & 0xff]! + HEX2[(n >>> 8) & 0xff]! + HEX2[n & 0xff]!;
}

/** Names for a program and procedure that the well-known table does not have (from a loaded .x). */
export interface ProgNames {
  program?: string | undefined;
  procedure?: string | undefined;
}

/**
 * `portmapper(100000) v4 GETADDR(3)`: each number with its name when known — the well-known name
 * first (src/rpc/names.ts), else the one in `names` — and the bare number (`proc N`) otherwise.
 */
export function progLabel(prog: number, vers: number, proc: number, names: ProgNames = {}): string {
  return `${programLabel(prog, names.program)} v${vers} ${procedureLabel(prog, vers, proc, names.procedure)}`;
}

/** `portmapper(100000)`: the program's number with its name (well-known, else `name`), or the bare number. */
export function programLabel(prog: number, name?: string): string {
  const pn = programName(prog) ?? name;
  return pn ? `${pn}(${prog})` : String(prog);
}

/** `GETADDR(3)`: the procedure's number with its name (well-known, else `name`), or `proc N`. */
export function procedureLabel(prog: number, vers: number, proc: number, name?: string): string {
  const pr = procedureName(prog, vers, proc) ?? name;
  return pr ? `${pr}(${proc})` : `proc ${proc}`;
}

/** A credential or verifier in text: `AUTH_NONE`, `AUTH_SYS(stamp=… machine="…" uid=… gid=… gids=[…])`, `RPCSEC_GSS(40 bytes)`. */
export function authText(a: OpaqueAuth): string {
  const name = nameOf(auth_flavor, a.flavor);
  if (a.flavor === auth_flavor.AUTH_SYS) {
    try {
      const p = decodeAuthSys(a.body);
      return `AUTH_SYS(stamp=${hex32(p.stamp)} machine=${JSON.stringify(p.machinename)} uid=${p.uid} gid=${p.gid} gids=[${p.gids.join(',')}])`;
    } catch (e) {
      return `AUTH_SYS(malformed: ${(e as Error).message})`;
    }
  }
  return a.body.length ? `${name}(${a.body.length} bytes)` : name;
}

/** A credential or verifier as a JSON object: `flavor`, `flavorNumber`, `length`, the AUTH_SYS fields or the body in hex. */
export function authJson(a: OpaqueAuth): Record<string, unknown> {
  const o: Record<string, unknown> = { flavor: nameOf(auth_flavor, a.flavor), flavorNumber: a.flavor, length: a.body.length };
  if (a.flavor === auth_flavor.AUTH_SYS) {
    try {
      Object.assign(o, decodeAuthSys(a.body));
    } catch (e) {
      o.error = (e as Error).message;
    }
  } else if (a.body.length) o.body = Buffer.from(a.body).toString('hex');
  return o;
}

/** A reply's status: the accept_stat (`PROG_MISMATCH(low=… high=…)`), or `MSG_DENIED RPC_MISMATCH(…)` / `MSG_DENIED AUTH_ERROR(auth_stat)`. */
export function replyStatus(m: RpcMessage & { mtype: 1 }): string {
  if (m.stat === 0) {
    const s = nameOf(accept_stat, m.acceptStat);
    return m.acceptStat === accept_stat.PROG_MISMATCH ? `${s}(low=${m.low} high=${m.high})` : s;
  }
  if (m.rejectStat === reject_stat.RPC_MISMATCH) return `MSG_DENIED RPC_MISMATCH(low=${m.low} high=${m.high})`;
  return `MSG_DENIED AUTH_ERROR(${nameOf(auth_stat, m.authStat)})`;
}

/**
 * The plain text of a system error (`no such file or directory`), without Node's `ENOENT: ` prefix and
 * `, open '…'` suffix (the caller names the file once); undefined for other errors.
 */
export function systemErrorText(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string' || typeof err.syscall !== 'string' || !/^E[A-Z0-9]+$/.test(err.code)) return undefined;
  let text = e.message.startsWith(`${err.code}: `) ? e.message.slice(err.code.length + 2) : e.message;
  const at = text.lastIndexOf(`, ${err.syscall}`);
  if (at > 0) text = text.slice(0, at);
  return text;
}

/**
 * How an error reads in one line: `CODE: message` for oncrpc's errors (a CompileError: its count, the
 * diagnostics are printed apart), the plain text of a system error, else the message.
 */
export function errorText(e: unknown): string {
  if (e instanceof CompileError) {
    const n = e.diagnostics.filter((d) => d.severity === 'error').length;
    return `${n} error${n === 1 ? '' : 's'}`;
  }
  if (e instanceof OncRpcError) return `${e.code}: ${e.message}`;
  const sys = systemErrorText(e);
  if (sys !== undefined) return sys;
  return e instanceof Error ? e.message : String(e);
}

/**
 * Reports a failure of subcommand `cmd` (`decode`, `xdr encode`): one line `oncrpc <cmd>: [file: ]<errorText>`
 * on stderr, preceded for a CompileError by its diagnostics (`file:line:col: error: …`, as `oncrpc gen`
 * prints them). Sets the exit status to 1.
 */
export function cliError(cmd: string, err: unknown, file?: string): void {
  if (err instanceof CompileError) {
    for (const d of err.diagnostics) process.stderr.write(`${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.severity}: ${d.message}\n`);
  }
  fail(cmd, file === undefined ? errorText(err) : `${file}: ${errorText(err)}`);
}

/** Prints `oncrpc <cmd>: <message>` on stderr and sets the exit status (1 unless told). */
export function fail(cmd: string, message: string, exitCode = 1): void {
  process.stderr.write(`oncrpc${cmd ? ' ' + cmd : ''}: ${message}\n`);
  process.exitCode = exitCode;
}

/**
 * Commander option parser for a number of bytes: decimal digits only, at least 1, at most 2^53 - 1.
 * Anything else (`abc`, `1e3`, `-5`, `0`, `12k`) is refused with commander's usage error.
 */
export function parseByteCount(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('It must be a whole number of bytes, 1 or more.');
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`It must be at most ${Number.MAX_SAFE_INTEGER}.`);
  return n;
}

/** Commander option parser for a count: decimal digits only, at least 1, at most 2^53 - 1. */
export function parseCount(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('It must be a whole number, 1 or more.');
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`It must be at most ${Number.MAX_SAFE_INTEGER}.`);
  return n;
}

/** Commander option parser for a duration in seconds: a decimal number (fraction allowed) above 0. */
export function parseSeconds(value: string): number {
  const n = /^[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : NaN;
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError('It must be a number of seconds, more than 0.');
  return n;
}

/**
 * Loads a .x file at run time (oncrpc/codegen's loadX). A file that cannot be read fails with the
 * system error (shown by `cliError` as `FILE: no such file or directory`), not a compiler diagnostic
 * that repeats the path; errors inside the file are a CompileError.
 */
export async function loadXFile(path: string): Promise<LoadedSchema> {
  await readFile(path);
  return loadX(path);
}

/** The subcommand's path below the root command: `decode`, `xdr encode` ('' for the root). */
export function commandName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Applies the CLI's error rules to `program` and every subcommand under it (call it once all are added):
 * commander's own errors print as `oncrpc <cmd>: what went wrong` (one line, no help dump), and commander
 * throws a CommanderError instead of calling process.exit (see `exitStatusOf`).
 */
export function applyCliConventions(program: Command): void {
  const apply = (cmd: Command): void => {
    cmd.showHelpAfterError(false);
    cmd.configureOutput({
      outputError: (str, write) => {
        const name = commandName(cmd);
        write(`oncrpc${name ? ' ' + name : ''}: ${str.replace(/^error: /, '')}`);
      },
    });
    cmd.exitOverride();
    for (const sub of cmd.commands) apply(sub);
  };
  apply(program);
}

/** The exit status for an error thrown out of `parseAsync` (commander's usage errors and --help/--version carry theirs), or undefined for any other error. */
export function exitStatusOf(err: unknown): number | undefined {
  return err instanceof CommanderError ? err.exitCode : undefined;
}
