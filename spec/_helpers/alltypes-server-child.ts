// A child process serving ALLTYPES_PROG v1 (fixtures/js/alltypes-handlers.mjs) on TCP 127.0.0.1, for
// tests that kill a server mid-call. Prints `PORT <tcp port>` when listening and `CALL <proc> <xid>` as
// each call starts. AT_ECHONAME never answers (the call stays in progress until the process dies).
//
//   node <tap's TypeScript loader> spec/_helpers/alltypes-server-child.ts
import { loadX } from '../../src/codegen/interpret.js';
import { RpcServer } from '../../src/server/rpc-server.js';
import type { CallContext } from '../../src/rpc/program.js';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';

const AT = (await loadX(new URL('../../fixtures/x/alltypes.x', import.meta.url).pathname)).programs[0]!;
const log = (ctx: CallContext) => process.stdout.write(`CALL ${ctx.proc} ${ctx.xid}\n`);
const server = new RpcServer().addProgram(AT, {
  ...(handlers as object),
  AT_NULL: (_: void, ctx: CallContext) => void log(ctx),
  AT_ECHONAME: (_: string, ctx: CallContext) => {
    log(ctx);
    return new Promise<string>(() => {});
  },
} as never);
const ep = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
if (ep.transport !== 'unix') process.stdout.write(`PORT ${ep.port}\n`);
