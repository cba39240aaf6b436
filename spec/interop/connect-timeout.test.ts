// The client's connect timeout and an AbortSignal while connecting, where a TCP connect really hangs: in
// a private network namespace, 10.55.0.2 is reached through a veth pair with a static neighbour entry for
// a MAC address nobody has, so a SYN to it is dropped by the peer and never answered (neither accepted
// nor refused, and no ARP failure to end the wait). The child runs in the lab with the
// TypeScript sources (nodeTsArgs) and prints one JSON line per case. No timing is asserted: which error
// comes says which timer fired.
import t from 'tap';
import { join } from 'node:path';
import { labPrerequisites, ROOT, runModuleInLab } from '../_helpers/lab.js';

const CHILD = `
import { RpcClient } from ${JSON.stringify(join(ROOT, 'src/client/rpc-client.ts'))};
const out = (o) => console.log(JSON.stringify(o));
const failure = (e) => ({ name: e?.name, code: e?.code, message: e?.message });
const where = { transport: 'tcp', host: '10.55.0.2', port: 111 };

// 1. connectTimeoutMs: the call fails with ERR_RPC_CANT_CONNECT, not the call's own (longer) timeout.
const c = new RpcClient(where, { connectTimeoutMs: 300, timeoutMs: 20000 });
try { await c.callRaw(100000, 2, 0, () => {}, () => undefined); out({ case: 'connect', answered: true }); }
catch (e) { out({ case: 'connect', ...failure(e) }); }
// 2. The next call connects again (and fails the same way): the client is not left broken.
try { await c.callRaw(100000, 2, 0, () => {}, () => undefined); out({ case: 'again', answered: true }); }
catch (e) { out({ case: 'again', ...failure(e) }); }
c.destroy();

// 3. An AbortSignal that fires while the connection is being made.
const d = new RpcClient(where, { connectTimeoutMs: 60000, timeoutMs: 60000 });
const ac = new AbortController();
setTimeout(() => ac.abort(), 200);
try { await d.callRaw(100000, 2, 0, () => {}, () => undefined, { signal: ac.signal }); out({ case: 'abort', answered: true }); }
catch (e) { out({ case: 'abort', ...failure(e) }); }
d.destroy();

// 4. The call's own timeout, shorter than the connect timeout, fires while connecting.
const f = new RpcClient(where, { connectTimeoutMs: 60000, timeoutMs: 250 });
try { await f.callRaw(100000, 2, 0, () => {}, () => undefined); out({ case: 'call timeout', answered: true }); }
catch (e) { out({ case: 'call timeout', ...failure(e) }); }
f.destroy();
// 5. destroy() ends connection attempts still under way: nothing is left to keep the process alive.
setTimeout(() => { console.error('still alive 2 s after destroy():', process._getActiveHandles().map((h) => h.constructor.name + ' ' + (h.remoteAddress ?? '') + ' ' + (h.connecting ?? '') + ' ' + (h.destroyed ?? ''))); process.exit(9); }, 2000).unref();
`;

t.test('a TCP connect that never completes: connect timeout, retry, abort, call timeout, destroy', async (t) => {
  if (!labPrerequisites(t)) return;
  const r = await runModuleInLab(`
    ip link add d0 type veth peer name d1 && ip addr add 10.55.0.1/24 dev d0 && ip link set d0 up && ip link set d1 up &&
      ip neigh replace 10.55.0.2 lladdr 02:00:00:00:00:02 dev d0 nud permanent || exit 3`, CHILD);
  t.equal(r.code, 0, `the child ran every case and exited on its own (destroy() ends connection attempts) ${r.stderr}`);
  const rows = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const row = (name: string) => rows.find((x) => x.case === name) ?? {};
  t.match(row('connect'), { name: 'RpcCallError', code: 'ERR_RPC_CANT_CONNECT', message: /timed out after 300 ms/ }, 'connectTimeoutMs: a typed error naming the timeout');
  t.match(row('again'), { code: 'ERR_RPC_CANT_CONNECT', message: /timed out after 300 ms/ }, 'the next call tries to connect again');
  t.match(row('abort'), { name: 'RpcCallError', code: 'ERR_RPC_ABORTED' }, 'an AbortSignal fired while connecting rejects the call');
  t.match(row('call timeout'), { code: 'ERR_RPC_TIMEOUT' }, "the call's timeout fires while connecting");
});
