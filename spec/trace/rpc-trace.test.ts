// The tracer on damaged captures: only PcapError escapes; everything else is reported, never thrown.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { traceRpc } from '../../src/trace/index.js';
import { PcapError } from '../../src/errors.js';
import { Rng } from '../_helpers/hex.js';

const dir = new URL('../../fixtures/pcap/', import.meta.url).pathname;
const seeds = readdirSync(dir)
  .filter((f) => f.endsWith('.pcap') && !f.includes('bigarg'))
  .map((f) => new Uint8Array(readFileSync(dir + f)));

t.test('mutated captures never crash the tracer', async (t) => {
  const rng = new Rng(2024);
  let thrown = 0;
  let traced = 0;
  for (let i = 0; i < 3000; i++) {
    const b = rng.pick(seeds).slice();
    const mode = rng.int(3);
    if (mode === 0) for (let k = 1 + rng.int(8); k > 0; k--) b[rng.int(b.length)] = rng.u32() & 0xff;
    else if (mode === 1) for (let k = 1 + rng.int(4); k > 0; k--) b[24 + rng.int(b.length - 24)] = rng.u32() & 0xff; // packet data only
    try {
      traceRpc(mode === 2 ? b.subarray(0, rng.int(b.length)) : b);
      traced++;
    } catch (e) {
      if (!(e instanceof PcapError)) {
        t.fail(`case ${i}: ${String((e as Error).stack ?? e)}`);
        return;
      }
      thrown++;
    }
  }
  t.ok(traced > 0, `${traced} traced, ${thrown} rejected as malformed files`);
});

t.test('a reply is matched to its call only on the same endpoints', async (t) => {
  const { messages } = traceRpc(new Uint8Array(readFileSync(dir + 'rpcinfo-p.pcap')));
  for (const m of messages) {
    if (m.message?.mtype !== 1) continue;
    const call = messages[m.callN! - 1]!;
    t.equal(call.message?.xid, m.message.xid);
    t.same([call.src, call.dst], [m.dst, m.src]);
    t.equal(call.replyN, m.n);
  }
});
