// The system's own /usr/include/tirpc/rpc/rpcb_prot.x compiles as rpcgen compiles it: program, version
// and procedure names stand as constants (`const rpcb_highproc_2 = RPCBPROC_CALLIT;`), and the types it
// takes from libtirpc's C headers (rpcprog_t…, struct netbuf) are known. Its codecs read and re-encode,
// byte for byte, what the real rpcbind sent in the captures of fixtures/pcap.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { checkFile } from '../../src/codegen/compile.js';
import { loadSchema } from '../../src/codegen/interpret.js';
import { generateTypeScript } from '../../src/codegen/generate.js';
import { traceRpc } from '../../src/trace/index.js';
import { decode, encode } from '../../src/xdr/index.js';
import { IN_CI } from '../_helpers/peers.js';

const SYSTEM = '/usr/include/tirpc/rpc/rpcb_prot.x';
const root = new URL('../../', import.meta.url).pathname;

if (!existsSync(SYSTEM)) {
  if (IN_CI) t.fail(`${SYSTEM} is missing: libtirpc-dev is installed by scripts/install-peers.sh`);
  else t.comment(`${SYSTEM} is missing (libtirpc-dev): not checked`);
} else {
  t.test('compiles with no diagnostics; numbered names are constants', async (t) => {
    const { schema, diagnostics } = checkFile(SYSTEM);
    t.same(diagnostics.filter((d) => d.severity === 'error'), []);
    t.equal(schema!.constants.get('rpcb_highproc_2'), 5n);
    t.equal(schema!.constants.get('rpcb_highproc_3'), 8n);
    t.equal(schema!.constants.get('rpcb_highproc_4'), 12n);
    const ts = generateTypeScript(schema!, { version: 'test' });
    t.match(ts, 'export const rpcb_highproc_4 = 12;');
    t.match(ts, /RPCBPROC_BCAST: \{ name: 'RPCBPROC_BCAST', proc: 5,/);
    t.match(ts, 'export type rpcprog_t = number;');
  });

  t.test("its codecs read and re-encode the real rpcbind's replies byte for byte", async (t) => {
    const loaded = loadSchema(checkFile(SYSTEM).schema!);
    const v4 = loaded.programs.find((p) => p.vers === 4)!;
    let checked = 0;
    for (const [file, proc] of [['rpcinfo-m.pcap', 'RPCBPROC_GETSTAT'], ['rpcinfo-l.pcap', 'RPCBPROC_GETADDRLIST'], ['rpcinfo-plain.pcap', 'RPCBPROC_DUMP']] as const) {
      const { messages } = traceRpc(readFileSync(root + 'fixtures/pcap/' + file));
      for (const m of messages) {
        const call = m.callN !== undefined ? messages.find((c) => c.n === m.callN)?.message : undefined;
        if (m.message?.mtype !== 1 || !call || call.mtype !== 0 || call.proc !== v4.procs[proc]!.proc || call.vers < 3) continue;
        const type = v4.procs[proc]!.types!.res;
        const value = decode(type, m.message.body);
        t.equal(Buffer.from(encode(type, value)).toString('hex'), Buffer.from(m.message.body).toString('hex'), `${file}: ${proc} reply`);
        checked++;
      }
    }
    t.ok(checked >= 3, `${checked} replies`);
  });
}
