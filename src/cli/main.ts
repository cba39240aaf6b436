// The `oncrpc` command line: one root command, one module per subcommand.

import { Command } from 'commander';
import { decodeCommand } from './decode.js';
import { genCommand } from './gen.js';
import { xdrCommand } from './xdr.js';

/** Runs the CLI with `argv` (as in process.argv). Sets process.exitCode; never calls process.exit on success. */
export async function main(argv: string[]): Promise<void> {
  // `oncrpc decode big.pcap | head`: the reader went away; stop quietly, as C tools do on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = new Command('oncrpc')
    .description('ONC-RPC (Sun RPC) tools: decode captures, and more to come (rpcbind, info, call, gen)')
    .version(await version(), '-V, --version')
    .showHelpAfterError();
  program.addCommand(decodeCommand());
  program.addCommand(genCommand());
  program.addCommand(xdrCommand());
  await program.parseAsync(argv);
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
