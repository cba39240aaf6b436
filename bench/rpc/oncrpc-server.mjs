// The oncrpc server of the bench: ALLTYPES_PROG v1 from the module `oncrpc gen` made of
// fixtures/x/alltypes.x (path in argv[2]), with the handlers of fixtures/js/alltypes-handlers.mjs, on
// TCP and UDP 127.0.0.1 (ephemeral ports). Prints `PORTS <tcp> <udp>` and serves until killed.
import { pathToFileURL } from 'node:url';
import { RpcServer } from 'oncrpc';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';

const gen = await import(pathToFileURL(process.argv[2]).href);
const server = new RpcServer().addProgram(gen.ALLTYPES_VERS_1, handlers);
const tcp = await server.listen({ transport: 'tcp', host: '127.0.0.1' });
const udp = await server.listen({ transport: 'udp', host: '127.0.0.1' });
process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
process.stdout.write(`PORTS ${tcp.port} ${udp.port}\n`);
