// Checks: the rpcgen+libtirpc C client's calls and the C server's replies, rebuilt by oncrpc's encoder from the
// values the programs used (fixtures/c/values.json) with the captured xid and credential: byte-identical.
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { traceRpc, type TracedMessage } from '../../src/trace/index.js';
import { XdrReader, XdrWriter } from '../../src/xdr/index.js';
import { accept_stat, writeCallHeader, writeReplyHeader, type RpcCall } from '../../src/rpc/index.js';
import { toHex } from '../_helpers/hex.js';
import { PROCS, VALUES, allTypesValue, alltypes, jsonValue } from './alltypes.js';

/** All checks of the C client/server exchanges in fixtures directory `dir` (with c/ and pcap/). */
export async function checkClientServer(t: Test, dir: string): Promise<void> {
  t.test('libtirpc xdr_alltypes bytes of V equal oncrpc encoding of V', async (t) => {
    const bytes = readFileSync(join(dir, 'c/alltypes-value.xdr.hex'), 'utf8').replace(/\s+/g, '');
    const w = new XdrWriter();
    alltypes.write(w, allTypesValue());
    t.equal(toHex(w.finish()), bytes);
  });

  /** The C client's calls to ALLTYPES_PROG, each with its reply, in capture order. */
  function exchanges(dir: string, file: string): Array<{ call: TracedMessage; reply: TracedMessage | undefined }> {
    const b = readFileSync(join(dir, 'pcap', file));
    // A plain Uint8Array view (not a Buffer), so decoded opaques compare equal to plain Uint8Arrays.
    const { messages } = traceRpc(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    const out = [];
    for (const m of messages) {
      if (m.message?.mtype === 0 && m.message.prog === VALUES.program) {
        out.push({ call: m, reply: m.replyN ? messages[m.replyN - 1] : undefined });
      }
    }
    return out;
  }

  for (const [file, sequence] of [
    ['c-tcp.pcap', VALUES.sequence_all],
    ['c-udp.pcap', VALUES.sequence_all],
    ['c-bigarg-tcp.pcap', VALUES.sequence_big],
  ] as const) {
    t.test(`${file}: every call and reply rebuilt by oncrpc is byte-identical`, async (t) => {
      const ex = exchanges(dir, file);
      t.equal(ex.length, sequence.length, `${sequence.length} calls in the order the client made them`);
      for (let i = 0; i < Math.min(ex.length, sequence.length); i++) {
        const step = sequence[i] as { proc: string; auth: string; arg: unknown; result: unknown };
        const { call, reply } = ex[i]!;
        const c = call.message as RpcCall;
        const proc = PROCS[c.proc]!;
        t.equal(proc.name, step.proc, `call ${i + 1} is ${step.proc}`);
        t.equal(c.cred.flavor, step.auth === 'AUTH_SYS' ? 1 : 0, `call ${i + 1} credential flavor`);
        // Decode the captured arguments with oncrpc's codec: the value the C client was given.
        const argValue = jsonValue(step.proc, 'arg', step.arg);
        const r = new XdrReader(c.body);
        const decodedArg = proc.arg.read(r);
        r.expectEnd();
        t.same(decodedArg, argValue, `call ${i + 1} (${step.proc}) args decode to the client's value`);
        // Encode the call from scratch: same xid and credential as captured, args from the value.
        const w = new XdrWriter();
        writeCallHeader(w, { xid: c.xid, prog: c.prog, vers: c.vers, proc: c.proc, cred: c.cred, verf: c.verf });
        proc.arg.write(w, argValue);
        t.equal(toHex(w.finish()), toHex(call.record), `call ${i + 1} (${step.proc}) re-encoded from the value is byte-identical`);
        // The server's reply: SUCCESS with the result value.
        if (!reply?.message || reply.message.mtype !== 1) {
          t.fail(`call ${i + 1} has no reply`);
          continue;
        }
        const resValue = jsonValue(step.proc, 'result', step.result);
        const w2 = new XdrWriter();
        writeReplyHeader(w2, { xid: c.xid, mtype: 1, stat: 0, verf: { flavor: 0, body: new Uint8Array(0) }, acceptStat: accept_stat.SUCCESS });
        proc.res.write(w2, resValue);
        t.equal(toHex(w2.finish()), toHex(reply.record), `reply ${i + 1} (${step.proc}) encoded from the result value is byte-identical`);
      }
    });
  }
}
