// `oncrpc call`: one remote call described by .x files, arguments and result in the JSON mapping
// (docs/json-mapping.md) — grpcurl for Sun RPC.

import { hostname } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { LoadedSchema } from '../codegen/interpret.js';
import { CliInputError, CompileError, ErrorCodes, OncRpcError, RpcCallError } from '../errors.js';
import { authSys } from '../rpc/auth-sys.js';
import { AUTH_NONE } from '../rpc/messages.js';
import { findProcedure, type ProcedureDescriptor, type ProgramDescriptor } from '../rpc/program.js';
import { RpcClient } from '../client/rpc-client.js';
import { rpcbGetaddr } from '../rpcbind/rpcb-client.js';
import type { Endpoint } from '../transport/uaddr.js';
import { fromJson, toJson, type Json } from '../xdr/json.js';
import { voidType } from '../xdr/types.js';
import { cliError, fail, loadXFile } from './format.js';

/** Exit statuses of `oncrpc call` (documented in docs/oncrpc.1.md). */
export const CALL_EXIT = {
  /** Usage, a .x file, or arguments that do not fit the procedure's type. */
  usage: 1,
  /** The program is not registered with the host's rpcbind, or rpcbind could not be asked. */
  notRegistered: 2,
  /** The server could not be reached, or the connection was lost. */
  unreachable: 3,
  /** No reply before --timeout. */
  timeout: 4,
  /** The server refused the call (PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR, auth, RPC version). */
  refused: 5,
  /** The reply's results did not decode as the .x says. */
  badReply: 6,
} as const;

/** The exit status for a failed call. */
export function callExitStatus(e: unknown): number {
  switch ((e as { code?: string }).code) {
    case ErrorCodes.ERR_RPC_NOT_REGISTERED:
    case ErrorCodes.ERR_RPC_RPCB_FAILURE:
      return CALL_EXIT.notRegistered;
    case ErrorCodes.ERR_RPC_CANT_CONNECT:
    case ErrorCodes.ERR_RPC_CANT_SEND:
    case ErrorCodes.ERR_RPC_CONNECTION_LOST:
    case ErrorCodes.ERR_RPC_CLOSED:
      return CALL_EXIT.unreachable;
    case ErrorCodes.ERR_RPC_TIMEOUT:
      return CALL_EXIT.timeout;
    case ErrorCodes.ERR_RPC_CANT_DECODE_RES:
      return CALL_EXIT.badReply;
    default:
      return e instanceof RpcCallError ? CALL_EXIT.refused : CALL_EXIT.usage;
  }
}

/** A whole number in 0..2^32-1 (decimal or 0x hex), for commander. */
export function parseUint(value: string): number {
  const n = /^(0x[0-9a-f]+|[0-9]+)$/i.test(value) ? Number(value) : NaN;
  if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new InvalidArgumentError('It must be a number from 0 to 4294967295.');
  return n;
}

/** A TCP/UDP port, 1..65535. */
export function parsePort(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new InvalidArgumentError('It must be a port number from 1 to 65535.');
  return n;
}

/** Milliseconds, 1 or more. */
export function parseMs(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) throw new InvalidArgumentError('It must be a whole number of milliseconds, 1 or more.');
  return n;
}

/** `UID:GID[:G1,G2…]` → an AUTH_SYS credential with this machine's name. */
export function parseAuthSys(value: string): { uid: number; gid: number; gids: number[] } {
  const m = /^(\d+):(\d+)(?::(\d+(?:,\d+)*))?$/.exec(value);
  const nums = m ? [m[1]!, m[2]!, ...(m[3] ? m[3].split(',') : [])].map(Number) : [];
  if (!m || nums.some((n) => n > 0xffffffff)) throw new InvalidArgumentError('It must be UID:GID or UID:GID:G1,G2,… (numbers).');
  if (nums.length - 2 > 16) throw new InvalidArgumentError('AUTH_SYS carries at most 16 supplementary gids.');
  return { uid: nums[0]!, gid: nums[1]!, gids: nums.slice(2) };
}

/** The program version and procedure named (by number or .x name) in the loaded schemas. */
export function resolveProcedure(schemas: readonly LoadedSchema[], prog: string, vers: string, proc: string): { program: ProgramDescriptor; procedure: ProcedureDescriptor } {
  const all = schemas.flatMap((s) => s.programs);
  const progNum = /^(0x[0-9a-f]+|\d+)$/i.test(prog) ? Number(prog) : undefined;
  const versions = all.filter((p) => (progNum !== undefined ? p.prog === progNum : p.name === prog));
  if (versions.length === 0) throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `no program ${prog} in the .x files (they define ${[...new Set(all.map((p) => `${p.name} (${p.prog})`))].join(', ') || 'none'})`);
  const versNum = /^\d+$/.test(vers) ? Number(vers) : undefined;
  const program = versions.find((p) => (versNum !== undefined ? p.vers === versNum : p.version === vers));
  if (!program) throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `program ${prog} has no version ${vers} (it has ${versions.map((p) => `${p.version} (${p.vers})`).join(', ')})`);
  // Procedure 0 is every server's NULL (rpcgen's dispatch answers it even when the .x does not declare it).
  const procedure = findProcedure(program, /^\d+$/.test(proc) ? Number(proc) : proc) ?? (/^0+$/.test(proc) ? NULL_PROC : undefined);
  if (!procedure) throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `${program.name} version ${program.vers} has no procedure ${proc} (it has ${Object.values(program.procs).map((p) => `${p.name} (${p.proc})`).join(', ')})`);
  return { program, procedure };
}

const NULL_PROC: ProcedureDescriptor = Object.freeze({
  name: 'NULL',
  proc: 0,
  args: [(r) => voidType.read(r), (w, v) => voidType.write(w, v)],
  res: [(r) => voidType.read(r), (w, v) => voidType.write(w, v)],
  types: { args: voidType, res: voidType },
} satisfies ProcedureDescriptor);

interface CallCliOptions {
  tcp?: boolean;
  udp?: boolean;
  unix?: string;
  port?: number;
  x: string[];
  args?: string;
  authSys?: { uid: number; gid: number; gids: number[] };
  timeout: number;
  rpcbindPort?: number;
}

export function callCommand(): Command {
  return new Command('call')
    .description('call a procedure described by .x files; the result is printed as one line of JSON (docs/json-mapping.md)')
    .usage('[--tcp|--udp|--unix PATH] [--port N] HOST PROG VERS PROC --x FILE.x... [--args JSON] [--auth-sys UID:GID[:G1,G2…]] [--timeout MS]')
    .argument('<words...>', 'HOST PROG VERS PROC (HOST is left out with --unix); PROG, VERS, PROC by number or .x name')
    .addOption(new Option('--tcp', 'call over TCP (the default)').conflicts(['udp', 'unix']))
    .addOption(new Option('--udp', 'call over UDP').conflicts(['unix']))
    .option('--unix <path>', 'call over a unix stream socket (@name: abstract)')
    .option('--port <n>', "the program's port: skip the rpcbind lookup", parsePort)
    .requiredOption('--x <files...>', '.x files describing the program')
    .option('--args <json>', 'the argument in the JSON mapping (an array for several arguments; omit for void)')
    .option('--auth-sys <uid:gid[:gids]>', 'send an AUTH_SYS credential (default AUTH_NONE)', parseAuthSys)
    .option('--timeout <ms>', 'give up after this many milliseconds', parseMs, 25000)
    .option('--rpcbind-port <n>', "the host's rpcbind port (for labs)", parsePort)
    .action(async (words: string[], opts: CallCliOptions) => {
      const want = opts.unix !== undefined ? [3, 4] : [4];
      if (!want.includes(words.length)) {
        fail('call', `expected ${opts.unix !== undefined ? '[HOST] ' : 'HOST '}PROG VERS PROC, got ${words.length} argument${words.length === 1 ? '' : 's'}`, CALL_EXIT.usage);
        return;
      }
      const [host, prog, vers, proc] = words.length === 4 ? words : ['', ...words];
      let schemas: LoadedSchema[];
      let program: ProgramDescriptor;
      let procedure: ProcedureDescriptor;
      let args: unknown;
      try {
        schemas = [];
        for (const f of opts.x) schemas.push(await loadXFile(f));
        ({ program, procedure } = resolveProcedure(schemas, prog!, vers!, proc!));
        const types = procedure.types!;
        let json: Json = null;
        if (opts.args !== undefined) {
          try {
            json = JSON.parse(opts.args) as Json;
          } catch (e) {
            throw new CliInputError(`--args is not JSON: ${(e as Error).message}`);
          }
        } else if (types.args.name !== 'void') {
          throw new OncRpcError(ErrorCodes.ERR_XDR_VALUE, `${procedure.name} takes ${types.args.name}: give it with --args JSON`);
        }
        args = fromJson(types.args, json);
      } catch (e) {
        if (e instanceof CompileError || !(e instanceof OncRpcError)) cliError('call', e);
        else fail('call', errorLine(e), CALL_EXIT.usage);
        return;
      }
      const cred = opts.authSys ? authSys({ stamp: Math.floor(Date.now() / 1000) >>> 0, machinename: hostname().slice(0, 255), ...opts.authSys }) : AUTH_NONE;
      const transport = opts.udp ? 'udp' : 'tcp';
      let client: RpcClient | undefined;
      try {
        const endpoint: Endpoint =
          opts.unix !== undefined
            ? { transport: 'unix', path: opts.unix }
            : opts.port !== undefined
              ? { transport, host: host!, port: opts.port }
              : await rpcbGetaddr(host!, program.prog, program.vers, transport, { timeoutMs: opts.timeout, ...(opts.rpcbindPort ? { rpcbindPort: opts.rpcbindPort } : {}) });
        client = new RpcClient(endpoint, { timeoutMs: opts.timeout, connectTimeoutMs: opts.timeout, cred });
        const result = await client.call(program.prog, program.vers, procedure.proc, args, procedure);
        process.stdout.write(JSON.stringify(toJson(procedure.types!.res, result)) + '\n');
      } catch (e) {
        fail('call', errorLine(e), callExitStatus(e));
      } finally {
        client?.destroy();
      }
    });
}

/** One line: libtirpc's text for call failures (`RPC: Program not registered`), else code and message. */
function errorLine(e: unknown): string {
  if (e instanceof RpcCallError) return e.message;
  if (e instanceof OncRpcError) return e.message;
  return e instanceof Error ? e.message : String(e);
}
