// UDP amplification (portmap over UDP is a known 7-28x DDoS amplifier): oncrpc rpcbind does not answer
// a caller off this host with a UDP reply larger than its request, unless --allow-udp-amplification.
// In a private namespace, 198.18.0.1 on lo stands for a caller on the network.
import t from 'tap';
import { join } from 'node:path';
import { labPrerequisites, ROOT, runInLab } from '../_helpers/lab.js';

const driver = `
  const { startRpcbind } = await import(${JSON.stringify(join(ROOT, 'dist/rpcbind/daemon.js'))});
  const { RpcClient } = await import(${JSON.stringify(join(ROOT, 'dist/client/rpc-client.js'))});
  const { RPCBVERS_3 } = await import(${JSON.stringify(join(ROOT, 'dist/rpcbind/rpcb-prot.gen.js'))});
  const { PMAP_VERS_2 } = await import(${JSON.stringify(join(ROOT, 'dist/rpcbind/pmap-prot.gen.js'))});
  const out = {};
  for (const allow of [false, true]) {
    const rb = await startRpcbind({ port: 111, abstractSocket: false, allowUdpAmplification: allow });
    const ask = async (from, call) => {
      const c = new RpcClient({ transport: 'udp', host: '127.0.0.1', port: 111 }, { timeoutMs: 700, retransmitMs: 300, localAddress: from });
      try { return await call(c); } catch (e) { return e.code; } finally { c.destroy(); }
    };
    out[allow ? 'allowed' : 'default'] = {
      dumpLocal: await ask('127.0.0.1', (c) => c.bind(RPCBVERS_3).RPCBPROC_DUMP(undefined).then((l) => !!l)),
      dumpRemote: await ask('198.18.0.1', (c) => c.bind(RPCBVERS_3).RPCBPROC_DUMP(undefined).then((l) => !!l)),
      getportRemote: await ask('198.18.0.1', (c) => c.bind(PMAP_VERS_2).PMAPPROC_GETPORT({ prog: 100000, vers: 2, prot: 17, port: 0 })),
      drops: rb.server.stats.amplificationDrops,
    };
    await rb.close();
  }
  console.log(JSON.stringify(out));
`;

if (labPrerequisites(t)) {
  t.test('DUMP over UDP from off this host is not answered; small replies are; the opt-out answers all', async (t) => {
    const r = await runInLab(['bash', '-c', `ip addr add 198.18.0.1/32 dev lo && exec "${process.execPath}" --input-type=module -e '${driver.replace(/'/g, "'\\''")}'`], { timeoutMs: 60_000 });
    t.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    t.same(out.default, { dumpLocal: true, dumpRemote: 'ERR_RPC_TIMEOUT', getportRemote: 111, drops: out.default.drops });
    t.ok(out.default.drops >= 1, 'the refused replies are counted');
    t.same(out.allowed, { dumpLocal: true, dumpRemote: true, getportRemote: 111, drops: 0 }, '--allow-udp-amplification');
  });
}
