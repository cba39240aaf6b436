// The daemon's pure parts, rule by rule as rpcbind 1.2 applies them: the registry (SET/UNSET/lookup),
// address merging, owners and loopback, remote-call policy, statistics, warm-start bytes.
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { NetworkInterfaceInfo } from 'node:os';
import { Registry, uaddrPort } from '../../src/rpcbind/registry.js';
import { addrmerge, type InterfaceList } from '../../src/rpcbind/addrmerge.js';
import { RpcbStats } from '../../src/rpcbind/stats.js';
import { callitAllowed, decodeWarmStart, encodeWarmStart, isLoopback, ownerOf } from '../../src/rpcbind/daemon.js';
import { traceRpc } from '../../src/trace/index.js';
import { RPCBVERS4_4 } from '../../src/rpcbind/rpcb-prot.gen.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { XdrWriter } from '../../src/xdr/writer.js';

const root = new URL('../../', import.meta.url).pathname;

t.test('registry: SET duplicates, UNSET owners, lookups with version fallback, two views', async (t) => {
  const r = new Registry();
  const P = 300000;
  t.ok(r.set({ prog: P, vers: 1, netid: 'tcp', addr: '0.0.0.0.8.1' }, '1000'));
  t.ok(r.set({ prog: P, vers: 1, netid: 'tcp', addr: '0.0.0.0.8.1' }, '1000'), 'the same registration again: TRUE');
  t.notOk(r.set({ prog: P, vers: 1, netid: 'tcp', addr: '0.0.0.0.8.2' }, '1000'), 'another address: FALSE');
  t.ok(r.set({ prog: P, vers: 2, netid: 'tcp', addr: '0.0.0.0.8.2' }, 'superuser'));
  t.ok(r.set({ prog: P, vers: 3, netid: 'tcp6', addr: '::.8.3' }, '1000'));
  t.ok(r.set({ prog: P, vers: 1, netid: 'udp', addr: '0.0.0.0.8.4' }, 'unknown'));
  t.same(r.findService(P, 2, 'tcp')?.addr, '0.0.0.0.8.2', 'exact version');
  t.same(r.findService(P, 9, 'tcp')?.vers, 2, 'another version: the last entry of the program on that netid');
  t.same(r.findService(P, 1, 'TCP')?.addr, '0.0.0.0.8.1', 'netids compare without case');
  t.equal(r.findService(P, 1, 'local'), undefined);
  t.same(r.findVersions(P, 'tcp'), [1, 2]);
  t.same(r.pml.map((p) => [p.vers, p.prot, p.port]), [[1, 6, 0x801], [2, 6, 0x802], [1, 17, 0x804]], 'tcp6 is invisible to the v2 view');
  t.equal(r.findServicePmap(P, 7, 6)?.vers, 2);
  t.notOk(r.unset({ prog: P, vers: 2, netid: 'tcp' }, '1000'), 'a uid cannot unset the superuser\'s entry');
  t.notOk(r.unset({ prog: P, vers: 1, netid: 'udp' }, '1000'), '…nor another owner\'s');
  t.ok(r.unset({ prog: P, vers: 1, netid: 'udp' }, 'superuser'), 'the superuser can');
  t.ok(r.unset({ prog: P, vers: 1, netid: '' }, '1000'), 'netid "" unsets every netid of the owner');
  t.equal(r.findService(P, 1, 'tcp')?.vers, 2);
  t.ok(r.unset({ prog: P, vers: 42, netid: 'tcp' }, 'unknown'), 'nothing registered: TRUE');
  t.same(r.pml.map((p) => p.vers), [2]);
  t.equal(uaddrPort('::1.8.1'), 0x801);
});

t.test('registry --spread: replicas in rotation, dead ones skipped', async (t) => {
  const r = new Registry({ spread: true });
  t.ok(r.set({ prog: 7, vers: 1, netid: 'tcp', addr: '127.0.0.1.0.10' }, 'x'));
  t.ok(r.set({ prog: 7, vers: 1, netid: 'tcp', addr: '127.0.0.1.0.11' }, 'x'));
  t.ok(r.set({ prog: 7, vers: 1, netid: 'tcp', addr: '127.0.0.1.0.12' }, 'x'));
  t.same([1, 2, 3, 4].map(() => r.findService(7, 1, 'tcp')!.addr), ['127.0.0.1.0.10', '127.0.0.1.0.11', '127.0.0.1.0.12', '127.0.0.1.0.10']);
  r.dead.add(r.rbl[1]!);
  const seen = new Set([1, 2, 3, 4].map(() => r.findService(7, 1, 'tcp')!.addr));
  t.notOk(seen.has('127.0.0.1.0.11'), 'a dead replica is skipped');
  t.equal(r.findServicePmap(7, 1, 6)!.port > 0, true);
});

t.test('addrmerge: the interface whose address is the hint (else the first ordinary one), the registration\'s port', async (t) => {
  const ifs: NetworkInterfaceInfo[] = [
    { address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null },
    { address: '192.0.2.10', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: null },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', family: 'IPv6', mac: '', internal: true, cidr: null, scopeid: 0 },
    { address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac: '', internal: false, cidr: null, scopeid: 0 },
  ];
  const list = () => ifs;
  t.equal(addrmerge('127.0.0.1', '0.0.0.0.8.1', '127.0.0.1.0.111', list), '127.0.0.1.8.1', 'wildcard → the loopback address');
  t.equal(addrmerge('127.0.0.2', '0.0.0.0.8.1', undefined, list), '192.0.2.10.8.1', '127.0.0.2 is no interface\'s address: the first ordinary interface');
  t.equal(addrmerge('192.0.2.77', '0.0.0.0.8.1', undefined, list), '192.0.2.10.8.1', 'a LAN caller gets the first ordinary interface');
  t.equal(addrmerge('192.0.2.77', '127.0.0.1.8.1', undefined, list), '192.0.2.10.8.1', 'even for a specific registration (rpcbind merges always)');
  t.equal(addrmerge('198.51.100.1', '0.0.0.0.8.1', undefined, list), '192.0.2.10.8.1', 'no interface has the address: the first ordinary interface');
  t.equal(addrmerge('::1', '::.8.1', undefined, list), '::1.8.1');
  t.equal(addrmerge('2001:db8::5', '::.8.1', undefined, list), '2001:db8::5.8.1');
  t.equal(addrmerge('127.0.0.1', '0.0.0.0.8.1', '::1.0.111', list), undefined, 'a hint of another family fails the merge (rpcbind then answers the registration as it is)');
  t.equal(addrmerge('127.0.0.1', '0.0.0.0.300.1', undefined, list), '127.0.0.1.44.1', 'ports as libtirpc reads them: (300 << 8 | 1) & 0xffff');
  t.equal(addrmerge('/run/rpcbind.sock', '/run/x.sock', undefined, list), '/run/x.sock', 'local callers: as registered');
  t.equal(addrmerge('127.0.0.1', '0.0.0.0.8.1', 'garbage', list), undefined, 'an unparsable hint fails the merge');

  // What rpcbind 1.2.6 answered in a private network namespace with these interfaces, in getifaddrs order
  // (x0's peer in another namespace): CALLIT from each caller (no hint) and GETADDR from 127.0.0.1 with an r_addr.
  const lab: NetworkInterfaceInfo[] = [
    ['lo', '127.0.0.1', '255.0.0.0'], ['v1', '10.99.0.2', '255.255.255.0'], ['v1', '10.99.0.4', '255.255.255.0'],
    ['v0', '10.99.0.1', '255.255.255.0'], ['v0', '10.99.0.3', '255.255.255.0'], ['x0', '10.98.0.1', '255.255.255.0'],
  ].map(([name, address, netmask]) => ({ address: address!, netmask: netmask!, family: 'IPv4', mac: '', internal: name === 'lo', cidr: null }));
  const seen: [string, string | undefined, string][] = [
    ['10.99.0.1', undefined, '10.99.0.1'], ['10.99.0.2', undefined, '10.99.0.2'], ['10.99.0.3', undefined, '10.99.0.3'],
    ['10.99.0.4', undefined, '10.99.0.4'], ['127.0.0.1', undefined, '127.0.0.1'], ['10.98.0.7', undefined, '10.99.0.2'],
    ['127.0.0.1', '10.99.0.77.0.111', '10.99.0.2'], ['127.0.0.1', '10.98.0.9.0.111', '10.99.0.2'],
    ['127.0.0.1', '10.98.0.1.0.111', '10.98.0.1'], ['127.0.0.1', '127.0.0.5.0.111', '10.99.0.2'],
  ];
  for (const [caller, hint, want] of seen) {
    t.equal(addrmerge(caller, '0.0.0.0.0.111', hint, () => lab), `${want}.0.111`, `rpcbind 1.2.6: caller ${caller}, hint ${hint ?? 'none'} → ${want}`);
  }

  // A list read before an address was added: a merge that finds no interface with the hint's address reads it again.
  let fresh = 0;
  const stale: InterfaceList = (again) => (again ? (fresh++, lab) : lab.slice(0, 1));
  t.equal(addrmerge('10.99.0.3', '0.0.0.0.0.111', undefined, stale), '10.99.0.3.0.111', 'the new address is found');
  t.equal(fresh, 1, 'by reading the list once more');
  t.equal(addrmerge('127.0.0.1', '0.0.0.0.0.111', undefined, stale), '127.0.0.1.0.111');
  t.equal(fresh, 1, 'not when the cached list has the address');
});

t.test('owners and loopback, as rpcbind\'s getowner and is_loopback', async (t) => {
  t.equal(ownerOf({ netid: 'local', address: '/run/rpcbind.sock', port: 0, uid: 0 }), 'superuser');
  t.equal(ownerOf({ netid: 'local', address: '/run/rpcbind.sock', port: 0, uid: 1000 }), '1000');
  t.equal(ownerOf({ netid: 'local', address: '/run/rpcbind.sock', port: 0 }), 'unknown');
  t.equal(ownerOf({ netid: 'tcp', address: '127.0.0.1', port: 700 }), 'superuser');
  t.equal(ownerOf({ netid: 'udp6', address: '::1', port: 1023 }), 'superuser');
  t.equal(ownerOf({ netid: 'tcp', address: '127.0.0.1', port: 1024 }), 'unknown');
  t.equal(ownerOf({ netid: 'tcp', address: '127.0.0.2', port: 700 }), 'unknown');
  t.ok(isLoopback({ netid: 'tcp', address: '127.0.0.1', port: 5000 }));
  t.notOk(isLoopback({ netid: 'tcp', address: '127.0.0.2', port: 5000 }), '127.0.0.2 is not loopback to rpcbind');
  t.notOk(isLoopback({ netid: 'udp', address: '192.0.2.1', port: 5000 }));
  t.ok(isLoopback({ netid: 'local', address: '/run/rpcbind.sock', port: 0 }));
});

t.test('remote calls rpcbind refuses to forward', async (t) => {
  t.ok(callitAllowed(100003, 0, false), 'NULL always');
  t.notOk(callitAllowed(100003, 1, false), 'NFS');
  t.notOk(callitAllowed(100005, 1, false), 'MOUNTPROC_MNT');
  t.ok(callitAllowed(100005, 5, false), 'MOUNTPROC_EXPORT');
  t.notOk(callitAllowed(100000, 3, false), 'rpcbind itself unless -i');
  t.ok(callitAllowed(100000, 3, true));
  t.notOk(callitAllowed(100004, 8, false), 'YPPROC_ALL');
  t.ok(callitAllowed(541089920, 3, false));
});

t.test('statistics decode as a real rpcbind\'s GETSTAT reply does, and count like it', async (t) => {
  const s = new RpcbStats();
  s.proc(2, 3);
  s.proc(2, 13); // over v4's highest: not counted
  s.proc(0, 6); // over v2's highest
  s.set(1, true);
  s.set(1, false);
  s.getaddr(2, 100000, 4, 'tcp', '127.0.0.1.0.111');
  s.getaddr(2, 100000, 4, 'tcp', '');
  s.getaddr(2, 5, 1, 'udp', undefined);
  t.same(s.byVersion[2]!.info.slice(0, 4), [0, 0, 0, 1]);
  t.equal(s.byVersion[0]!.info.reduce((a, b) => a + b), 0);
  t.equal(s.byVersion[1]!.setinfo, 1, 'failed SETs are not counted');
  t.same(s.byVersion[2]!.addrinfo, { prog: 5, vers: 1, success: 0, failure: 1, netid: 'udp', next: { prog: 100000, vers: 4, success: 1, failure: 1, netid: 'tcp', next: null } }, 'newest first');
  // The encoding is the one rpcbind sends: a captured GETSTAT reply decodes and re-encodes byte for byte.
  const { messages } = traceRpc(readFileSync(root + 'fixtures/pcap/rpcinfo-m.pcap'));
  const reply = messages.find((m) => m.message?.mtype === 1 && m.message.body.length > 100)!.message!;
  const [read, write] = RPCBVERS4_4.procs.RPCBPROC_GETSTAT.res;
  const v = read(new XdrReader(reply.body));
  const w = new XdrWriter();
  write(w, v);
  t.equal(Buffer.from(w.toBytes()).toString('hex'), Buffer.from(reply.body).toString('hex'));
});

t.test('warm-start files: rpcbind\'s XDR lists, round trip', async (t) => {
  const r = new Registry();
  r.set({ prog: 100000, vers: 4, netid: 'tcp', addr: '0.0.0.0.0.111' }, 'superuser');
  r.set({ prog: 300001, vers: 1, netid: 'udp', addr: '0.0.0.0.3.1' }, '1000');
  r.set({ prog: 300001, vers: 1, netid: 'local', addr: '/run/x.sock' }, '1000');
  const files = encodeWarmStart(r);
  t.equal(Buffer.from(files.portmap).toString('hex'),
    '00000001' + '000186a0000000040000000600000' + '06f' + '00000001' + '000493e1000000010000001100000301' + '00000000', 'portmap.xdr: pmaplist');
  const back = decodeWarmStart(files.rpcbind, files.portmap);
  t.same(back.rbl, r.rbl);
  t.same(back.pml, r.pml);
  t.throws(() => decodeWarmStart(files.rpcbind.subarray(0, 30), undefined), { name: 'XdrDecodeError' }, 'a truncated file is an error the daemon reports');
});
