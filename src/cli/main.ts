// The `oncrpc` command line: one root command, one module per subcommand. What they print in common
// (labels, errors) is in format.ts.

import { Command } from 'commander';
import { callCommand } from './call.js';
import { decodeCommand } from './decode.js';
import { applyCliConventions, cliError, commandName, exitStatusOf } from './format.js';
import { genCommand } from './gen.js';
import { rpcbindCommand } from './rpcbind.js';
import { serveCommand } from './serve.js';
import { xdrCommand } from './xdr.js';

/** Runs the CLI with `argv` (as in process.argv). Sets process.exitCode; never calls process.exit on success. */
export async function main(argv: string[]): Promise<void> {
  // `oncrpc decode big.pcap | head`: the reader went away; stop quietly, as C tools do on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = new Command('oncrpc')
    .description('ONC-RPC (Sun RPC) tools: decode RPC traffic in captures, compile .x files to TypeScript, encode and decode XDR values, call and serve programs described by .x files')
    .version(await version(), '-V, --version');
  program.addCommand(decodeCommand());
  program.addCommand(genCommand());
  program.addCommand(xdrCommand());
  program.addCommand(callCommand());
  program.addCommand(serveCommand());
  program.addCommand(rpcbindCommand());
  // After every subcommand is added: commander's own errors read `oncrpc <cmd>: …` too.
  applyCliConventions(program);
  let running = program;
  program.hook('preAction', (_root, action) => {
    running = action;
  });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    const status = exitStatusOf(e);
    if (status !== undefined) process.exitCode = status; // commander printed the message (or the help)
    else cliError(commandName(running), e);
  }
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
