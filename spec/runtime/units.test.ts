// Pure pieces of the runtime: universal addresses (RFC 5665), the retransmission schedule, the reply cache.
import t from 'tap';
import { endpointOf, formatUaddr, netidOf, parseUaddr, socketPath, transportOf, uaddrOf } from '../../src/transport/uaddr.js';
import { MAX_BACKOFF_MS, retransmitTimes } from '../../src/client/retransmit.js';
import { ReplyCache, checksum } from '../../src/server/reply-cache.js';
import { registrationsFor } from '../../src/rpcbind/rpcb-client.js';

t.test('universal addresses', async (t) => {
  t.equal(formatUaddr('127.0.0.1', 2049), '127.0.0.1.8.1');
  t.equal(formatUaddr('::1', 111), '::1.0.111');
  t.equal(formatUaddr('0.0.0.0', 65535), '0.0.0.0.255.255');
  t.same(parseUaddr('127.0.0.1.8.1'), { host: '127.0.0.1', port: 2049 });
  t.same(parseUaddr('fe80::1.3.0'), { host: 'fe80::1', port: 768 });
  t.same(parseUaddr('::.0.111'), { host: '::', port: 111 });
  for (const bad of ['', '127.0.0.1', '127.0.0.1.8', '127.0.0.1.256.1', 'host.example.0.1', '1.2.3.4.5.6.7', '::1.1.x']) {
    t.throws(() => parseUaddr(bad), { code: 'ERR_RPC_UADDR' }, `'${bad}' refused`);
  }
  t.throws(() => formatUaddr('127.0.0.1', 65536), { code: 'ERR_RPC_UADDR' });
  t.throws(() => formatUaddr('localhost', 1), { code: 'ERR_RPC_UADDR' });
  t.same(endpointOf('tcp6', '::1.8.1'), { transport: 'tcp', host: '::1', port: 2049 });
  t.same(endpointOf('local', '/run/rpcbind.sock'), { transport: 'unix', path: '/run/rpcbind.sock' });
  t.same(endpointOf('unix', '@/run/rpcbind.sock'), { transport: 'unix', path: '@/run/rpcbind.sock' });
  t.throws(() => endpointOf('sctp', '1.2.3.4.0.1'), { code: 'ERR_RPC_UADDR' });
  t.equal(transportOf('udp6'), 'udp');
  t.equal(netidOf({ transport: 'udp', host: '::1', port: 1 }), 'udp6');
  t.equal(netidOf({ transport: 'unix', path: '/x' }), 'local');
  t.equal(uaddrOf({ transport: 'tcp', host: '10.0.0.1', port: 258 }), '10.0.0.1.1.2');
  t.equal(socketPath('@/run/rpcbind.sock'), '\0/run/rpcbind.sock', 'abstract names');
  t.equal(socketPath('/run/rpcbind.sock'), '/run/rpcbind.sock');
});

t.test('registrations as libtirpc writes them', async (t) => {
  const regs = registrationsFor(
    [{ transport: 'tcp', host: '::', port: 0x1234 }, { transport: 'udp', host: '127.0.0.1', port: 0x0102 }, { transport: 'unix', path: '/run/x.sock' }],
    [{ prog: 100099, vers: 1 }, { prog: 100099, vers: 2 }],
  );
  t.same(regs.map((r) => `${r.vers} ${r.netid} ${r.uaddr}`), [
    '1 tcp 0.0.0.0.18.52', '1 tcp6 ::.18.52', '2 tcp 0.0.0.0.18.52', '2 tcp6 ::.18.52',
    '1 udp 127.0.0.1.1.2', '2 udp 127.0.0.1.1.2',
    '1 local /run/x.sock', '2 local /run/x.sock',
  ]);
});

t.test('retransmission schedule: doubling waits, capped, within the deadline', async (t) => {
  t.same(retransmitTimes(1000, 25_000), [1000, 3000, 7000, 15000]);
  t.same(retransmitTimes(500, 5000), [500, 1500, 3500]);
  t.same(retransmitTimes(20_000, 100_000), [20_000, 50_000, 80_000], 'capped at 30 s (RPC_MAX_BACKOFF)');
  t.equal(MAX_BACKOFF_MS, 30_000);
  t.same(retransmitTimes(1000, 1000), [], 'none at or after the deadline');
  t.same(retransmitTimes(0, 1000), []);
});

t.test('reply cache: running drops, done replays, bounded by entries and bytes, LRU', async (t) => {
  const c = new ReplyCache({ entries: 3, bytes: 100 });
  const k = (xid: number, args = new Uint8Array([1, 2, 3])) => ReplyCache.key('udp:127.0.0.1:700', xid, 1, 1, 1, args);
  t.same(c.begin(k(1)), { state: 'new' });
  t.same(c.begin(k(1)), { state: 'running' }, 'a duplicate of a running call');
  c.finish(k(1), new Uint8Array([9]));
  t.same(c.begin(k(1)), { state: 'done', reply: new Uint8Array([9]) });
  t.same(c.begin(k(1, new Uint8Array([4]))), { state: 'new' }, 'same xid, other arguments: a new call');
  t.not(checksum(new Uint8Array([1, 2])), checksum(new Uint8Array([2, 1])));
  c.begin(k(2));
  c.begin(k(3));
  t.equal(c.size, 3, 'bounded in entries');
  t.same(c.begin(k(1)), { state: 'new' }, 'the least recently used entry went');
  c.abandon(k(1));
  t.same(c.begin(k(1)), { state: 'new' }, 'an abandoned call runs again');
  c.finish(k(1), new Uint8Array(60));
  c.finish(k(3), new Uint8Array(60));
  t.ok(c.bytes <= 100, `bounded in bytes (${c.bytes})`);
  c.finish(k(9), new Uint8Array(1)); // never begun: ignored
  t.ok(c.stats.evicted > 0);
  t.equal(c.stats.replayed, 1);
  t.equal(c.stats.droppedInProgress, 1);
});
