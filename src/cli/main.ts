// The `oncrpc` command line: one root command, one module per subcommand. What they print in common
// (labels, errors) is in format.ts. Modules are loaded when needed: `oncrpc info` (rpcinfo's command
// line, which is getopt's, not commander's) goes straight to info.ts and starts without commander or
// any other subcommand's code.

/** Runs the CLI with `argv` (as in process.argv). Sets process.exitCode; never calls process.exit on success. */
export async function main(argv: string[]): Promise<void> {
  // `oncrpc decode big.pcap | head`: the reader went away; stop quietly, as C tools do on SIGPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  if (argv[2] === 'info') {
    const { infoMain } = await import('./info.js');
    process.exitCode = await infoMain(argv.slice(3));
    return;
  }
  const [{ Command }, { callCommand }, { decodeCommand }, { applyCliConventions, cliError, commandName, exitStatusOf }, { genCommand }, { rpcbindCommand }, { serveCommand }, { xdrCommand }] =
    await Promise.all([import('commander'), import('./call.js'), import('./decode.js'), import('./format.js'), import('./gen.js'), import('./rpcbind.js'), import('./serve.js'), import('./xdr.js')]);
  const program = new Command('oncrpc')
    .description('ONC-RPC (Sun RPC) tools: decode RPC traffic in captures, compile .x files to TypeScript, encode and decode XDR values, call and serve programs described by .x files')
    .version(await version(), '-V, --version');
  program.addCommand(decodeCommand());
  program.addCommand(genCommand());
  program.addCommand(xdrCommand());
  program.addCommand(callCommand());
  program.addCommand(serveCommand());
  program.addCommand(rpcbindCommand());
  program.addCommand(
    new Command('info')
      .description("rpcinfo, byte for byte: rpcbind's registrations and statistics, probes of programs (--json for scripts)")
      .argument('[rpcinfo-arguments...]')
      .allowUnknownOption()
      .helpOption(false)
      .action(async (args: string[]) => {
        const { infoMain } = await import('./info.js');
        process.exitCode = await infoMain(args);
      }),
  );
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
