// `oncrpc serve`: serves a program from .x files and a JavaScript module of handlers, over TCP and UDP
// (IPv4 and IPv6) and optionally a unix socket, registered with the local rpcbind like an rpcgen server.
// How a test lab stands up a fake NFS, NIS or custom service in one command.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { LoadedSchema } from '../codegen/interpret.js';
import { ErrorCodes, OncRpcError } from '../errors.js';
import type { ProgramDescriptor } from '../rpc/program.js';
import { register } from '../rpcbind/rpcb-client.js';
import { RpcServer } from '../server/rpc-server.js';
import { endpointText } from '../transport/uaddr.js';
import { parsePort } from './call.js';
import { InvalidArgumentError } from 'commander';
import { cliError, loadXFile } from './format.js';

/** A count of entries, 1 or more. */
function parseCount(v: string): number {
  const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) throw new InvalidArgumentError('It must be a whole number, 1 or more.');
  return n;
}

type HandlerModule = Record<string, Record<string, (args: unknown, ctx: unknown) => unknown>>;

interface ServeOptions {
  x: string[];
  handlers: string;
  program?: string;
  tcpPort?: number;
  udpPort?: number;
  unix?: string;
  register: boolean;
  replyCache?: number;
  rpcbindSocket?: string;
  rpcbindPort?: number;
}

/** The program versions to serve: those of `--program` (or of the .x's programs) that have handlers. */
export function servedVersions(schemas: readonly LoadedSchema[], module: HandlerModule, program?: string): { program: ProgramDescriptor; handlers: HandlerModule[string] }[] {
  const all = schemas.flatMap((s) => s.programs);
  const names = [...new Set(all.map((p) => p.name))];
  if (program !== undefined && !names.includes(program) && !all.some((p) => String(p.prog) === program)) {
    throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `no program ${program} in the .x files (they define ${names.join(', ') || 'none'})`);
  }
  const chosen = all.filter((p) => program === undefined || p.name === program || String(p.prog) === program);
  const out = chosen.filter((p) => module[p.version] !== undefined).map((p) => ({ program: p, handlers: module[p.version]! }));
  if (out.length === 0) {
    throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `the handlers module has no version of ${program ?? names.join(', ')} (its keys: ${Object.keys(module).join(', ') || 'none'}; versions: ${chosen.map((p) => p.version).join(', ')})`);
  }
  for (const { program: p, handlers } of out) {
    for (const name of Object.keys(handlers)) {
      if (!(name in p.procs)) throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `handler ${p.version}.${name}: ${p.name} version ${p.version} has no procedure ${name} (it has ${Object.keys(p.procs).join(', ')})`);
      if (typeof handlers[name] !== 'function') throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `handler ${p.version}.${name} is not a function`);
    }
  }
  return out;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('serve a program from .x files with handlers from a JavaScript module (default export: { VERSION: { PROCEDURE(args, ctx) {…} } })')
    .requiredOption('--x <files...>', '.x files describing the program')
    .requiredOption('--handlers <module>', 'JavaScript module whose default export maps version name -> procedure name -> handler')
    .option('--program <name>', 'the program to serve when the .x files define several')
    .option('--tcp-port <n>', 'TCP port (default: an ephemeral port)', parsePort)
    .option('--udp-port <n>', 'UDP port (default: an ephemeral port)', parsePort)
    .option('--unix <path>', 'also listen on this unix socket (@name: abstract)')
    .option('--no-register', 'do not register with the local rpcbind')
    .option('--reply-cache <entries>', 'answer retransmissions from a duplicate-request cache of this many entries (at-most-once)', parseCount)
    .option('--rpcbind-socket <path>', "the local rpcbind's unix socket (for labs)")
    .option('--rpcbind-port <n>', "the local rpcbind's port (for labs)", parsePort)
    .action(async (opts: ServeOptions) => {
      let server: RpcServer;
      try {
        const schemas: LoadedSchema[] = [];
        for (const f of opts.x) schemas.push(await loadXFile(f));
        const mod = (await import(pathToFileURL(resolve(opts.handlers)).href)) as { default?: HandlerModule };
        if (!mod.default || typeof mod.default !== 'object') throw new OncRpcError(ErrorCodes.ERR_SCHEMA, `${opts.handlers} has no default export mapping versions to handlers`);
        const versions = servedVersions(schemas, mod.default, opts.program);
        server = new RpcServer(opts.replyCache ? { replyCache: { entries: opts.replyCache } } : {});
        for (const v of versions) server.addProgram(v.program, v.handlers as never);
        await server.listen({ transport: 'tcp', port: opts.tcpPort ?? 0 });
        await server.listen({ transport: 'udp', port: opts.udpPort ?? 0 });
        if (opts.unix !== undefined) await server.listen({ transport: 'unix', path: opts.unix });
        if (opts.register) await register(server, { ...(opts.rpcbindSocket ? { rpcbindSocket: opts.rpcbindSocket } : {}), ...(opts.rpcbindPort ? { rpcbindPort: opts.rpcbindPort } : {}) });
        const what = versions.map((v) => `${v.program.name}(${v.program.prog}) v${v.program.vers}`).join(', ');
        const where = server.endpoints.map((e) => `${e.transport} ${endpointText(e)}`).join(', ');
        process.stdout.write(`oncrpc serve: serving ${what} on ${where}${opts.register ? '; registered with rpcbind' : ''}\n`);
      } catch (e) {
        server!?.destroy();
        cliError('serve', e);
        return;
      }
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
          // Unregisters (close hook), lets calls in progress answer, then closes.
          const force = setTimeout(() => server.destroy(), 5000);
          force.unref();
          server.close().then(done, done);
        };
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
      });
    });
}
