// The interface list rpcbind's addrmerge works on: getifaddrs through the native addon, every interface
// that is up — also one without carrier (up, not running), which os.networkInterfaces() leaves out and
// rpcbind 1.2.6 merges to (seen in a namespace: a GETADDR hint equal to such an address gets it back).
import t from 'tap';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { interfaceAddresses } from '../../src/transport/native.js';
import { labPrerequisites, ROOT, runModuleInLab } from '../_helpers/lab.js';

t.test('getifaddrs lists every address os.networkInterfaces() lists, in the same order', async (t) => {
  const all = interfaceAddresses();
  if (all === undefined) {
    t.fail('the native addon is not loaded');
    return;
  }
  const node = Object.entries(networkInterfaces()).flatMap(([name, l]) => (l ?? []).map((a) => ({ name, family: a.family === 'IPv4' ? 4 : 6, address: a.address })));
  for (const fam of [4, 6]) {
    const ours = all.filter((a) => a.family === fam).map((a) => `${a.name} ${a.address}`);
    const theirs = node.filter((a) => a.family === fam).map((a) => `${a.name} ${a.address}`);
    t.same(ours.filter((x) => theirs.includes(x)), theirs, `IPv${fam}: os.networkInterfaces()'s addresses, in its order`);
  }
  const lo = all.find((a) => a.address === '127.0.0.1');
  t.ok(lo && lo.flags & 0x1 && lo.flags & 0x8, '127.0.0.1: IFF_UP | IFF_LOOPBACK');
  t.equal(lo?.netmask, '255.0.0.0');
});

const CHILD = `
import { networkInterfaces } from 'node:os';
import { interfaceAddresses } from ${JSON.stringify(join(ROOT, 'src/transport/native.ts'))};
import { addrmerge } from ${JSON.stringify(join(ROOT, 'src/rpcbind/addrmerge.ts'))};
const x0 = interfaceAddresses().find((a) => a.address === '10.98.0.1');
console.log(JSON.stringify({
  native: x0 ?? null,
  node: Object.values(networkInterfaces()).flat().some((a) => a.address === '10.98.0.1'),
  merged: addrmerge('127.0.0.1', '0.0.0.0.8.1', '10.98.0.1.0.111'),
}));
`;

t.test('an interface without carrier: listed (up, not running), and merged to as rpcbind does', async (t) => {
  if (!labPrerequisites(t)) return;
  // x0 is up; its peer x1 is down, so x0 has no carrier. v0 comes first and is an ordinary interface.
  const r = await runModuleInLab(`
    ip link add v0 type veth peer name v1 && ip addr add 10.99.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up &&
    ip link add x0 type veth peer name x1 && ip addr add 10.98.0.1/24 dev x0 && ip link set x0 up || exit 3`, CHILD);
  t.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { native: { name: string; flags: number } | null; node: boolean; merged: string };
  t.equal(o.native?.name, 'x0', 'getifaddrs lists 10.98.0.1 on x0');
  t.ok((o.native?.flags ?? 0) & 0x1, 'x0 is up');
  t.notOk((o.native?.flags ?? 0) & 0x40, 'x0 is not running (no carrier)');
  t.equal(o.node, false, 'os.networkInterfaces() leaves it out');
  t.equal(o.merged, '10.98.0.1.8.1', 'a hint equal to its address merges to it (rpcbind 1.2.6 answered 10.98.0.1 in the same setup)');
});
