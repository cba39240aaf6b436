// The native addon (src/transport/native.ts, native/oncrpc_native.c): SO_PEERCRED on unix sockets, and a
// UDP socket that sees each datagram's destination address and answers from it. Under CI=true a missing
// addon is a failure (npm ci builds it); elsewhere the fallback is checked and the rest passed over.
import t from 'tap';
import { createSocket, type Socket as DgramSocket } from 'node:dgram';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer, connect, Socket, type Server } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { nativeAvailable, nativeLoadError, peerCredentials, PktinfoUdpSocket, type LocalInfo, type PktinfoRemoteInfo } from '../../src/transport/native.js';
import { OncRpcError } from '../../src/errors.js';
import { IN_CI, which } from '../_helpers/peers.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const NATIVE_TS = new URL('../../src/transport/native.ts', import.meta.url).href;
const isRoot = process.getuid?.() === 0;

/** node's flags to run TypeScript of this repository in a child (tap's loader). */
function tsArgs(): string[] {
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  if (loader.length === 0) loader.push(`--import=${new URL('../../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href}`);
  return loader;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, cwd: '/' });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- without the addon ---------------------------------------------------------------------------------

t.test('ONCRPC_NATIVE=off: the fallback (nativeAvailable false, peerCredentials undefined, bind rejects)', async (t) => {
  const code = `
    import { nativeAvailable, nativeLoadError, peerCredentials, PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
    import { createServer, connect } from 'node:net';
    const out = { available: nativeAvailable(), loadError: nativeLoadError()?.message };
    const srv = createServer((s) => { out.cred = peerCredentials(s) ?? null; s.destroy(); srv.close(); });
    await new Promise((r) => srv.listen('\\0oncrpc-native-off-${process.pid}', r));
    const c = connect('\\0oncrpc-native-off-${process.pid}');
    await new Promise((r) => srv.on('close', r));
    c.destroy();
    try { await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 }); out.bind = 'bound'; }
    catch (e) { out.bind = e.code; out.bindName = e.name; out.cause = e.cause?.message; }
    console.log(JSON.stringify(out));`;
  const r = await run(process.execPath, [...tsArgs(), '--input-type=module', '-e', code], { ...process.env, ONCRPC_NATIVE: 'off', TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' });
  t.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  t.same(out, { available: false, loadError: 'disabled by ONCRPC_NATIVE=off', cred: null, bind: 'ERR_NATIVE_UNAVAILABLE', bindName: 'OncRpcError', cause: 'disabled by ONCRPC_NATIVE=off' });
});

if (!nativeAvailable()) {
  const why = nativeLoadError()?.message ?? '?';
  if (IN_CI) t.fail(`the native addon is not available under CI=true (npm ci builds it: scripts/build-native.sh): ${why}`);
  else t.comment(`native addon not available, its tests are not run (CI=true would fail here): ${why}`);
  t.test('without the addon', async (t) => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const c = connect((srv.address() as { port: number }).port, '127.0.0.1');
    await once(c, 'connect');
    t.equal(peerCredentials(c), undefined);
    c.destroy();
    srv.close();
    await t.rejects(PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 }), { code: 'ERR_NATIVE_UNAVAILABLE' });
  });
} else {
  nativeTests();
}

function nativeTests(): void {
  t.equal(nativeLoadError(), undefined, 'the addon loaded');

  // ---- peer credentials ------------------------------------------------------------------------------

  async function unixServer(t: Tap, path: string): Promise<{ server: Server; accepted: Promise<Socket> }> {
    let resolve!: (s: Socket) => void;
    const accepted = new Promise<Socket>((r) => (resolve = r));
    const server = createServer((s) => resolve(s));
    await new Promise<void>((r) => server.listen(path, r));
    t.teardown(() => server.close());
    return { server, accepted };
  }

  t.test('peerCredentials: a unix socket in this process (path and abstract), both ends', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'oncrpc-native-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const me = { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() };
    for (const path of [join(dir, 's.sock'), `\0oncrpc-native-${process.pid}`]) {
      const { accepted } = await unixServer(t, path);
      const c = connect(path);
      await once(c, 'connect');
      const s = await accepted;
      t.same(peerCredentials(s), me, `server side of ${JSON.stringify(path)}`);
      t.same(peerCredentials(c), me, `client side of ${JSON.stringify(path)} (the listener's credentials)`);
      c.destroy();
      await once(s, 'close');
      t.equal(peerCredentials(s), undefined, 'destroyed socket: no fd, undefined');
    }
  });

  t.test('peerCredentials: an unprivileged client (setpriv uid/gid 65534) is seen as such', { skip: !isRoot && 'needs root to change uid' }, async (t) => {
    const setpriv = which('setpriv');
    if (!setpriv) {
      if (IN_CI) t.fail('setpriv (util-linux) is missing');
      else t.comment('setpriv is missing: not run');
      return;
    }
    const path = `\0oncrpc-native-nobody-${process.pid}`; // abstract: no file permissions in the way
    const { accepted } = await unixServer(t, path);
    const code = `const c = require('net').connect(${JSON.stringify(path)}, () => c.write(JSON.stringify({ pid: process.pid, uid: process.getuid(), gid: process.getgid(), groups: process.getgroups() }) + '\\n')); c.on('data', () => c.end());`;
    const child = spawn(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', code], { cwd: '/', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const s = await accepted;
    const line: string = await new Promise((resolve) => {
      let buf = '';
      s.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(buf.trim());
      });
    });
    const said = JSON.parse(line);
    t.same(said, { pid: child.pid, uid: 65534, gid: 65534, groups: [65534] }, 'the child really runs as 65534 (getgroups adds the egid)');
    t.same(peerCredentials(s), { pid: child.pid, uid: 65534, gid: 65534 }, 'SO_PEERCRED: pid, uid and gid of the unprivileged client');
    s.end('bye');
    const [exit] = await once(child, 'exit');
    t.equal(exit, 0, 'the child exited cleanly');
  });

  t.test('peerCredentials: undefined for TCP, for unconnected sockets, for things that are not sockets', async (t) => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.teardown(() => srv.close());
    const acc = once(srv, 'connection');
    const c = connect((srv.address() as { port: number }).port, '127.0.0.1');
    await once(c, 'connect');
    const [s] = (await acc) as [Socket];
    t.equal(peerCredentials(s), undefined, 'accepted TCP socket');
    t.equal(peerCredentials(c), undefined, 'connected TCP client');
    c.destroy();
    s.destroy();
    t.equal(peerCredentials(new Socket()), undefined, 'a net.Socket without a handle');
    t.equal(peerCredentials({ _handle: { fd: 0 } } as unknown as Socket), undefined, 'fd 0 (not a socket)');
    t.equal(peerCredentials({ _handle: { fd: 99999 } } as unknown as Socket), undefined, 'a closed fd');
    t.equal(peerCredentials({ _handle: { fd: -1 } } as unknown as Socket), undefined, 'fd -1');
    t.equal(peerCredentials({} as unknown as Socket), undefined, 'no handle at all');
  });

  // ---- PktinfoUdpSocket ------------------------------------------------------------------------------

  interface Received {
    msg: Buffer;
    rinfo: PktinfoRemoteInfo;
    local: LocalInfo;
  }

  async function echoServer(t: Tap, host: string, opts: Partial<Parameters<typeof PktinfoUdpSocket.bind>[0]> = {}): Promise<{ sock: PktinfoUdpSocket; got: Received[] }> {
    const sock = await PktinfoUdpSocket.bind({ host, port: 0, ...opts });
    t.teardown(() => sock.close());
    const got: Received[] = [];
    sock.on('message', (msg, rinfo, local) => {
      got.push({ msg, rinfo, local });
      if (msg.toString().startsWith('echo')) sock.send(Buffer.from('reply:' + msg.toString()), rinfo.port, rinfo.address, local.replyFrom);
    });
    return { sock, got };
  }

  /** A dgram client connect()ed to address:port; resolves with the first datagram it accepts, or null. */
  async function connectedClient(t: Tap, address: string, port: number): Promise<{ c: DgramSocket; next: (ms?: number) => Promise<Buffer | null> }> {
    const c = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    t.teardown(() => c.close());
    await new Promise<void>((r) => c.connect(port, address, r));
    const queue: Buffer[] = [];
    let wake: (() => void) | undefined;
    c.on('message', (m) => {
      queue.push(m);
      wake?.();
    });
    const next = async (ms = 2000): Promise<Buffer | null> => {
      if (queue.length === 0) await Promise.race([new Promise<void>((r) => (wake = r)), delay(ms)]);
      wake = undefined;
      return queue.shift() ?? null;
    };
    return { c, next };
  }

  const cases: [bind: string, dest: string, family: 'IPv4' | 'IPv6'][] = [
    ['0.0.0.0', '127.0.0.2', 'IPv4'],
    ['0.0.0.0', '127.0.0.1', 'IPv4'],
    ['::', '127.0.0.2', 'IPv4'],
    ['::', '127.0.0.1', 'IPv4'],
    ['::', '::1', 'IPv6'],
    ['127.0.0.2', '127.0.0.2', 'IPv4'],
    ['::1', '::1', 'IPv6'],
  ];
  for (const [bind, dest, family] of cases) {
    t.test(`bound to ${bind}: a datagram to ${dest} is reported with local address ${dest}; the reply from it reaches a client connect()ed to ${dest}`, async (t) => {
      const { sock, got } = await echoServer(t, bind);
      const a = sock.address();
      t.same(a.family, bind.includes(':') ? 'IPv6' : 'IPv4');
      t.equal(a.address, bind);
      t.ok(a.port > 0);
      const { c, next } = await connectedClient(t, dest, a.port);
      c.send(`echo ${dest}`);
      const reply = await next();
      t.equal(reply?.toString(), `reply:echo ${dest}`, 'the connected client accepted the reply (its source is ' + dest + ')');
      t.equal(got.length, 1);
      const { rinfo, local, msg } = got[0]!;
      t.equal(msg.toString(), `echo ${dest}`);
      t.equal(local.address, dest, 'destination address');
      t.equal(local.replyFrom, dest, 'reply from the destination address');
      t.equal(local.interfaceIndex, 1, 'lo');
      t.equal(rinfo.family, family);
      t.equal(rinfo.address, dest.includes(':') ? '::1' : '127.0.0.1', 'the kernel picks the client source (loopback: 127.0.0.1 / ::1)');
      t.equal(rinfo.port, (c.address() as { port: number }).port);
      t.equal(rinfo.size, msg.length);
    });
  }

  t.test('the reason for the addon: Node\'s dgram bound to 0.0.0.0 answers a datagram sent to 127.0.0.2 from 127.0.0.1', async (t) => {
    const srv = createSocket('udp4');
    t.teardown(() => srv.close());
    await new Promise<void>((r) => srv.bind(0, '0.0.0.0', () => r()));
    const port = srv.address().port;
    srv.on('message', (_m, rinfo) => srv.send(Buffer.from('reply'), rinfo.port, rinfo.address));
    const { c, next } = await connectedClient(t, '127.0.0.2', port);
    c.send('echo');
    t.equal(await next(500), null, 'a client connect()ed to 127.0.0.2 never sees the reply');
    const u = createSocket('udp4');
    t.teardown(() => u.close());
    const got = once(u, 'message');
    u.send('echo', port, '127.0.0.2');
    const [, rinfo] = (await got) as [Buffer, { address: string }];
    t.equal(rinfo.address, '127.0.0.1', 'an unconnected client sees it come from 127.0.0.1, not from 127.0.0.2');
  });

  t.test('from: explicit source addresses, both spellings of IPv4 on a dual-stack socket; no from: the kernel chooses', async (t) => {
    const sock = await PktinfoUdpSocket.bind({ host: '::', port: 0 });
    t.teardown(() => sock.close());
    const { c, next } = await connectedClient(t, '127.0.0.3', sock.address().port); // accepts only 127.0.0.3:port
    const cport = (c.address() as { port: number }).port;
    for (const from of ['127.0.0.3', '::ffff:127.0.0.3']) {
      await new Promise<void>((resolve, reject) => sock.send(Buffer.from(from), cport, '127.0.0.1', from, (e) => (e ? reject(e) : resolve())));
      t.equal((await next())?.toString(), from, `from ${from}`);
    }
    sock.send(Buffer.from('kernel'), cport, '::ffff:127.0.0.1');
    t.equal(await next(300), null, 'without from the reply leaves from 127.0.0.1: the connected client drops it');
  });

  t.test('ipv6Only: a dual-stack bind and an IPv6-only bind', async (t) => {
    const only = await PktinfoUdpSocket.bind({ host: '::', port: 0, ipv6Only: true });
    t.teardown(() => only.close());
    // IPv4 on the same port is free because the socket is IPv6-only.
    const v4 = await PktinfoUdpSocket.bind({ host: '0.0.0.0', port: only.address().port });
    t.teardown(() => v4.close());
    t.equal(v4.address().port, only.address().port);
    await t.rejects(PktinfoUdpSocket.bind({ host: '::', port: only.address().port }), { code: 'EADDRINUSE', syscall: 'bind', port: only.address().port });
  });

  t.test('a burst of 10 000 datagrams: every one delivered or counted as dropped by the kernel', async (t) => {
    const N = 10_000;
    const sock = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0, recvBufferSize: 1 << 20 });
    t.teardown(() => sock.close());
    let burst = 0;
    let markers = 0;
    let last = Date.now();
    sock.on('message', (m) => {
      last = Date.now();
      if (m[0] === 0x4d) markers++;
      else burst++;
    });
    const c = createSocket('udp4');
    t.teardown(() => c.close());
    await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
    const payload = Buffer.alloc(100, 0x42);
    let sent = 0;
    await new Promise<void>((resolve) => {
      for (let i = 0; i < N; i++) c.send(payload, sock.address().port, '127.0.0.1', () => ++sent === N && resolve());
    });
    while (Date.now() - last < 300) await delay(50);
    // SO_RXQ_OVFL is reported with the next datagram read: markers until one arrives.
    let markersSent = 0;
    while (markers === 0 && markersSent < 50) {
      c.send(Buffer.from('M'), sock.address().port, '127.0.0.1');
      markersSent++;
      await delay(50);
    }
    t.ok(markers > 0, 'a marker arrived after the burst');
    const dropped = sock.dropped;
    t.comment(`${burst} delivered, ${dropped} dropped by the kernel`);
    t.ok(burst > 0, 'datagrams were delivered');
    t.equal(burst + markers + dropped, N + markersSent, 'delivered + dropped = sent');
  });

  t.test('a paced burst of 10 000 request/reply exchanges from 127.0.0.2: all answered from 127.0.0.2', async (t) => {
    const N = 10_000;
    const { sock, got } = await echoServer(t, '0.0.0.0');
    const { c, next } = await connectedClient(t, '127.0.0.2', sock.address().port);
    let replies = 0;
    const window = 64;
    let inFlight = 0;
    let i = 0;
    const deadline = Date.now() + 60_000;
    while (replies < N && Date.now() < deadline) {
      while (inFlight < window && i < N) {
        c.send(`echo ${i++}`);
        inFlight++;
      }
      const r = await next(200);
      if (r) {
        replies++;
        inFlight--;
      } else inFlight = 0; // something was lost (kernel drops under load): resend more
    }
    t.ok(replies >= N, `${replies} replies from 127.0.0.2 for ${i} requests`);
    t.ok(got.every((g) => g.local.address === '127.0.0.2'), 'every request seen as sent to 127.0.0.2');
    t.equal(got.length + sock.dropped >= i, true, 'received + dropped covers what was sent');
  });

  t.test('close() during traffic: no message after close, "close" emitted, later sends call back EBADF', async (t) => {
    const sock = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    let received = 0;
    let afterClose = 0;
    let closed = false;
    sock.on('message', () => {
      if (closed) afterClose++;
      if (++received === 100) {
        sock.close(); // inside the read loop, other datagrams still queued
        closed = true;
      }
    });
    const closeEvent = once(sock, 'close');
    const c = createSocket('udp4');
    t.teardown(() => c.close());
    let stop = false;
    const pump = (async () => {
      while (!stop) {
        for (let k = 0; k < 50; k++) c.send('x', sock.address().port, '127.0.0.1');
        await delay(1);
      }
    })();
    await closeEvent;
    await delay(100);
    stop = true;
    await pump;
    t.equal(received, 100, 'exactly 100 delivered: nothing after close() inside the 100th');
    t.equal(afterClose, 0);
    const err = await new Promise<Error | undefined>((r) => sock.send(Buffer.from('late'), 9, '127.0.0.1', undefined, r));
    t.match(err, { code: 'EBADF', syscall: 'send' }, 'send after close: EBADF to the callback, no throw');
    sock.close();
    sock.close(); // idempotent
    t.same(sock.address().address, '127.0.0.1', 'address() still answers after close');
    t.equal(sock.dropped, 0);
  });

  t.test('close() while sends are queued and while the other side floods', async (t) => {
    for (let round = 0; round < 20; round++) {
      const a = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
      const b = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
      a.on('message', (m, r, l) => a.send(m, r.port, r.address, l.replyFrom, () => {}));
      b.on('message', (m, r, l) => b.send(m, r.port, r.address, l.replyFrom, () => {}));
      for (let k = 0; k < 200; k++) b.send(Buffer.alloc(1000), a.address().port, '127.0.0.1', undefined, () => {});
      await delay(round % 5);
      a.close();
      b.close();
    }
    t.pass('no crash');
  });

  t.test('in a private network namespace: a full send buffer (EAGAIN) queues sends, flushed in order when writable; queue cap and kernel ENOBUFS are errors; broadcasts', { skip: !isRoot && 'needs root for a private network namespace' }, async (t) => {
    // Loopback never fills a send buffer (it hands datagrams over at once): a veth with a slow token-bucket
    // qdisc in a private network namespace does, with a 4 KiB SO_SNDBUF.
    for (const cmd of ['unshare', 'ip', 'tc']) {
      if (!which(cmd)) {
        if (IN_CI) t.fail(`${cmd} is missing`);
        else t.comment(`${cmd} is missing: not run`);
        return;
      }
    }
    const code = `
      import { PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
      const s = await PktinfoUdpSocket.bind({ host: '198.18.0.1', port: 0, sendBufferSize: 4096, maxSendQueue: Number(process.argv[1]) });
      const out = { order: [], errors: {} };
      let done = 0;
      const N = 40;
      await new Promise((resolve) => {
        for (let i = 0; i < N; i++) s.send(Buffer.alloc(1000, i), 9, '198.18.0.2', undefined, (e) => {
          if (e) out.errors[e.code] = (out.errors[e.code] ?? 0) + 1; else out.order.push(i);
          if (++done === N) resolve();
        });
        out.queued = s.sendQueueLength;
      });
      out.after = s.sendQueueLength;
      s.close();
      console.log(JSON.stringify(out));`;
    // Broadcasts (there are none on lo): the destination is the broadcast address, the reply leaves from
    // the interface's address (IP_PKTINFO's ipi_spec_dst), on an IPv4 and on a dual-stack socket.
    const broadcast = `
      import { PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
      import { createSocket } from 'node:dgram';
      const out = [];
      for (const host of ['0.0.0.0', '::']) {
        const s = await PktinfoUdpSocket.bind({ host, port: 0 });
        const c = createSocket('udp4');
        await new Promise((r) => c.bind(0, '198.18.0.1', r));
        c.setBroadcast(true);
        s.on('message', (m, r, l) => {
          out.push({ host, dest: l.address, replyFrom: l.replyFrom });
          s.send(Buffer.from('re'), r.port, r.address, l.replyFrom);
        });
        c.on('message', (m, r) => out.push({ host, replySource: r.address }));
        for (const d of ['198.18.0.255', '255.255.255.255']) {
          c.send('hi', s.address().port, d);
          await new Promise((r) => setTimeout(r, 150));
        }
        s.close();
        c.close();
      }
      console.log(JSON.stringify(out));`;
    const node = [process.execPath, ...tsArgs(), '--input-type=module', '-e', code];
    const q = (a: string[]) => a.map((x) => `'${x.replace(/'/g, `'\\''`)}'`).join(' ');
    const script = [
      'set -e',
      'ip link set lo up',
      'ip link add v0 type veth peer name v1',
      'ip link set v1 up',
      'ip addr add 198.18.0.1/24 dev v0',
      'ip link set v0 up',
      'ip neigh add 198.18.0.2 lladdr 02:00:00:00:00:02 dev v0',
      'tc qdisc add dev v0 root tbf rate 1mbit burst 1600 latency 2s',
      `${q(node)} 1024`,
      `${q(node)} 5`,
      'tc qdisc replace dev v0 root tbf rate 1mbit burst 1600 limit 3000',
      `${q(node)} 1024`,
      'ip route add default dev v0',
      q([process.execPath, ...tsArgs(), '--input-type=module', '-e', broadcast]),
    ].join('\n');
    const r = await run('unshare', ['--net', 'bash', '-c', script], { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' });
    t.equal(r.code, 0, r.stderr);
    const [queued, capped, dropped, bcast] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    t.ok(queued.queued > 0, `${queued.queued} of 40 waited for room in the send buffer`);
    t.same(queued.order, [...Array(40).keys()], 'all 40 sent, in order');
    t.same(queued.errors, {});
    t.equal(queued.after, 0, 'queue empty at the end');
    t.equal(capped.queued, 5, 'maxSendQueue 5: five wait');
    t.ok(capped.errors.ENOBUFS > 0 && capped.order.length + capped.errors.ENOBUFS === 40, `beyond the cap: ENOBUFS (${capped.errors.ENOBUFS})`);
    t.ok(dropped.errors.ENOBUFS > 0, `the qdisc's own limit: ENOBUFS from the kernel reported (${dropped.errors.ENOBUFS}), not retried`);
    t.equal(dropped.order.length + dropped.errors.ENOBUFS, 40, 'every send called back once');
    const expect = [];
    for (const host of ['0.0.0.0', '::']) {
      for (const dest of ['198.18.0.255', '255.255.255.255']) expect.push({ host, dest, replyFrom: '198.18.0.1' }, { host, replySource: '198.18.0.1' });
    }
    t.same(bcast, expect, 'broadcasts: local.address is the broadcast address, replyFrom the interface address');
  });

  t.test('a send to a port nobody listens on: ECONNREFUSED reported as an error event (ICMP), the socket goes on', async (t) => {
    for (const [host, dest] of [['127.0.0.1', '127.0.0.1'], ['::1', '::1'], ['::', '127.0.0.1']] as const) {
      const { sock, got } = await echoServer(t, host);
      const probe = createSocket(dest.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((r) => probe.bind(0, dest, () => r()));
      const dead = probe.address().port;
      await new Promise<void>((r) => probe.close(() => r()));
      const errs: NodeJS.ErrnoException[] = [];
      sock.on('error', (e) => errs.push(e));
      const cb = await new Promise<Error | undefined>((r) => sock.send(Buffer.from('hello?'), dead, dest, undefined, r));
      t.equal(cb, undefined, `${host}: the send itself succeeds`);
      for (let k = 0; k < 40 && errs.length === 0; k++) await delay(25);
      t.match(errs[0], { code: 'ECONNREFUSED', address: dest, port: dead }, `${host}: ICMP port unreachable reported with the destination`);
      // A second one with nobody listening to 'error': nothing thrown.
      sock.removeAllListeners('error');
      sock.send(Buffer.from('again'), dead, dest);
      await delay(100);
      const { c, next } = await connectedClient(t, dest, sock.address().port);
      c.send('echo after');
      t.equal((await next())?.toString(), 'reply:echo after', `${host}: still receiving and answering`);
      t.equal(got.length, 1);
    }
  });

  t.test('EMSGSIZE: an oversized datagram is reported to the callback or as an error event', async (t) => {
    for (const host of ['127.0.0.1', '::1']) {
      const sock = await PktinfoUdpSocket.bind({ host, port: 0 });
      t.teardown(() => sock.close());
      const err = await new Promise<Error | undefined>((r) => sock.send(Buffer.alloc(70_000), 9, host, host, r));
      t.match(err, { code: 'EMSGSIZE', syscall: 'send', address: host, port: 9 }, `${host}: to the callback`);
      const ev = once(sock, 'error');
      sock.send(Buffer.alloc(70_000), 9, host);
      const [e] = (await ev) as [NodeJS.ErrnoException];
      t.match(e, { code: 'EMSGSIZE' }, `${host}: without a callback, as 'error'`);
      sock.removeAllListeners('error');
      sock.send(Buffer.alloc(70_000), 9, host); // nobody listens: dropped, not thrown
      // The largest IPv4 datagram passes.
      if (host === '127.0.0.1') {
        const big = await new Promise<Error | undefined>((r) => sock.send(Buffer.alloc(65_507), sock.address().port, host, undefined, r));
        t.equal(big, undefined, '65 507 bytes (the IPv4 maximum) can be sent');
        const [m] = (await once(sock, 'message')) as [Buffer];
        t.equal(m.length, 65_507, 'and is received whole');
      }
    }
  });

  t.test('bind errors are Node-style system errors', async (t) => {
    const a = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    t.teardown(() => a.close());
    await t.rejects(PktinfoUdpSocket.bind({ host: '127.0.0.1', port: a.address().port }), { code: 'EADDRINUSE', syscall: 'bind', address: '127.0.0.1' });
    await t.rejects(PktinfoUdpSocket.bind({ host: '192.0.2.77', port: 0 }), { code: 'EADDRNOTAVAIL' }, 'an address this host does not have');
  });

  // ---- arguments -------------------------------------------------------------------------------------

  const isArgError = (e: unknown): boolean => e instanceof OncRpcError && e.code === 'ERR_NATIVE_ARGUMENT';

  t.test('invalid arguments throw OncRpcError ERR_NATIVE_ARGUMENT synchronously (bind rejects)', async (t) => {
    const v4 = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    const v6 = await PktinfoUdpSocket.bind({ host: '::', port: 0 });
    t.teardown(() => {
      v4.close();
      v6.close();
    });
    const bad: [string, () => void][] = [
      ['address not an IP', () => v4.send(Buffer.from('x'), 9, 'localhost')],
      ['address empty', () => v4.send(Buffer.from('x'), 9, '')],
      ['address 999.1.1.1', () => v4.send(Buffer.from('x'), 9, '999.1.1.1')],
      ['address 1.2.3', () => v4.send(Buffer.from('x'), 9, '1.2.3')],
      ['address with NUL', () => v4.send(Buffer.from('x'), 9, '127.0.0.1\0evil')],
      ['address a number', () => v4.send(Buffer.from('x'), 9, 2130706433 as unknown as string)],
      ['address null', () => v4.send(Buffer.from('x'), 9, null as unknown as string)],
      ['IPv6 address on an IPv4 socket', () => v4.send(Buffer.from('x'), 9, '::1')],
      ['IPv6 from on an IPv4 socket', () => v4.send(Buffer.from('x'), 9, '127.0.0.1', '::1')],
      ['from not an IP', () => v4.send(Buffer.from('x'), 9, '127.0.0.1', 'me')],
      ['IPv4 to, IPv6 from', () => v6.send(Buffer.from('x'), 9, '127.0.0.1', '::1')],
      ['IPv6 to, IPv4 from', () => v6.send(Buffer.from('x'), 9, '::1', '127.0.0.1')],
      ['IPv6 to, v4-mapped from', () => v6.send(Buffer.from('x'), 9, '::1', '::ffff:127.0.0.1')],
      ['unknown zone', () => v6.send(Buffer.from('x'), 9, 'fe80::1%nosuchif0')],
      ['very long address', () => v6.send(Buffer.from('x'), 9, 'f'.repeat(5000))],
      ['port 0', () => v4.send(Buffer.from('x'), 0, '127.0.0.1')],
      ['port 65536', () => v4.send(Buffer.from('x'), 65536, '127.0.0.1')],
      ['port -1', () => v4.send(Buffer.from('x'), -1, '127.0.0.1')],
      ['port 1.5', () => v4.send(Buffer.from('x'), 1.5, '127.0.0.1')],
      ['port NaN', () => v4.send(Buffer.from('x'), NaN, '127.0.0.1')],
      ['port a string', () => v4.send(Buffer.from('x'), '53' as unknown as number, '127.0.0.1')],
      ['msg a string', () => v4.send('x' as unknown as Uint8Array, 9, '127.0.0.1')],
      ['msg an array', () => v4.send([1, 2] as unknown as Uint8Array, 9, '127.0.0.1')],
      ['msg null', () => v4.send(null as unknown as Uint8Array, 9, '127.0.0.1')],
      ['cb not a function', () => v4.send(Buffer.from('x'), 9, '127.0.0.1', undefined, 5 as unknown as () => void)],
    ];
    for (const [what, f] of bad) {
      let thrown: unknown;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      t.ok(isArgError(thrown), `${what}: ${(thrown as Error | undefined)?.message}`);
    }
    for (const opts of [
      { host: 'localhost', port: 0 },
      { host: '', port: 0 },
      { host: '127.0.0.1', port: -1 },
      { host: '127.0.0.1', port: 70000 },
      { host: '127.0.0.1', port: 1.5 },
      { host: 5 as unknown as string, port: 0 },
      { host: '127.0.0.1', port: 0, recvBufferSize: -5 },
      { host: '127.0.0.1', port: 0, maxSendQueue: -1 },
    ]) {
      await t.rejects(PktinfoUdpSocket.bind(opts), { code: 'ERR_NATIVE_ARGUMENT', name: 'OncRpcError' }, JSON.stringify(opts));
    }
    // A Uint8Array view of part of a buffer sends exactly that part.
    const whole = Buffer.from('..exact..');
    const got = once(v4, 'message');
    v4.send(new Uint8Array(whole.buffer, whole.byteOffset + 2, 5), v4.address().port, '127.0.0.1');
    t.equal(((await got)[0] as Buffer).toString(), 'exact');
  });

  t.test('fuzz: random strings and values as addresses never crash; only valid literals are accepted', async (t) => {
    // Bound to loopback: whatever random address is accepted, nothing can leave the host (EINVAL,
    // ENETUNREACH from the kernel, reported to the callback).
    const v4 = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
    const v6 = await PktinfoUdpSocket.bind({ host: '::1', port: 0 });
    t.teardown(() => {
      v4.close();
      v6.close();
    });
    v4.on('error', () => {});
    v6.on('error', () => {});
    const alphabet = '0123456789abcdefABCDEF:.%/ \0ffff::-x';
    let thrown = 0;
    let sent = 0;
    for (let i = 0; i < 2000; i++) {
      const r = randomBytes(24);
      const len = r[0]! % 45;
      let s = '';
      for (let k = 0; k < len; k++) s += i % 3 === 0 ? String.fromCharCode(r[(k % 23) + 1]! * 7) : alphabet[r[(k % 23) + 1]! % alphabet.length];
      for (const [sock, from] of [[v4, undefined], [v6, undefined], [v6, s]] as const) {
        try {
          sock.send(Buffer.from('f'), 9, from === undefined ? s : '::1', from, () => {});
          sent++;
        } catch (e) {
          if (!isArgError(e)) throw e;
          thrown++;
        }
      }
    }
    t.ok(thrown > 0 && sent > 0, `${thrown} rejected, ${sent} accepted`);
  });

  t.test('the raw addon rejects wrong handles and argument types with TypeError, never crashes', async (t) => {
    const raw = createRequire(import.meta.url)(ROOT + 'build/Release/oncrpc_native.node') as Record<string, (...a: unknown[]) => unknown>;
    const junk: unknown[] = [undefined, null, 0, -1, 1.5, 'x', {}, [], () => {}, Symbol('s'), 10n, Buffer.alloc(4), new Error('e')];
    let calls = 0;
    for (const name of Object.keys(raw)) {
      for (const a of junk) {
        for (const args of [[a], [a, a, a, a, a, a, a], [a, Buffer.alloc(1), 9, '127.0.0.1', null]]) {
          try {
            const r = raw[name]!(...args);
            if (name === 'peerCred') t.ok(r === null, `peerCred(${String(a)}) is null`);
            else if (name === 'udpOpen' && r && typeof r === 'object' && !Array.isArray(r)) raw['udpClose']!(r);
          } catch (e) {
            t.ok(e instanceof TypeError && (e as { code?: string }).code === 'ERR_NATIVE_ARGUMENT', `${name}: ${(e as Error).message}`);
          }
          calls++;
        }
      }
    }
    t.ok(calls > 100, `${calls} calls`);
  });

  t.test("a throwing 'message' listener is an uncaught exception (as in dgram); the socket goes on", async (t) => {
    const code = `
      import { PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
      import { createSocket } from 'node:dgram';
      const caught = [];
      process.on('uncaughtException', (e) => caught.push(e.message));
      const s = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
      const seen = [];
      s.on('message', (m) => { seen.push(m.toString()); if (m.toString() === 'boom') throw new Error('listener threw'); if (seen.length === 2) { console.log(JSON.stringify({ seen, caught })); s.close(); c.close(); } });
      const c = createSocket('udp4');
      c.send('boom', s.address().port, '127.0.0.1', () => setTimeout(() => c.send('after', s.address().port, '127.0.0.1'), 50));`;
    const r = await run(process.execPath, [...tsArgs(), '--input-type=module', '-e', code], { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' });
    t.equal(r.code, 0, r.stderr);
    t.same(JSON.parse(r.stdout.trim()), { seen: ['boom', 'after'], caught: ['listener threw'] });
  });

  t.test('worker threads: sockets open, closing or closed when a worker ends; the addon is unloaded only after libuv let go', async (t) => {
    // A worker that loaded the addon unloads it when it ends: a poll handle still closing then would call
    // into unmapped code (a segfault seen before the async cleanup hook). Run in a child: a crash is a failure.
    const code = `
      import { Worker } from 'node:worker_threads';
      import { createSocket } from 'node:dgram';
      const worker = (mode) => \`
        import { parentPort } from 'node:worker_threads';
        import { PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
        const s = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
        s.on('message', (b, r, l) => {
          parentPort.postMessage(['msg', b.toString(), l.address]);
          if ('\${mode}' === 'close-then-exit') { s.close(); process.exit(0); }
          if ('\${mode}' === 'close') { s.close(); parentPort.close(); }
        });
        parentPort.postMessage(['port', s.address().port]);\`;
      const results = [];
      for (const mode of ['terminate', 'close-then-exit', 'close', 'terminate']) {
        const w = new Worker(worker(mode), { eval: true });
        const port = await new Promise((r) => w.on('message', (m) => m[0] === 'port' && r(m[1])));
        const got = new Promise((r) => w.on('message', (m) => m[0] === 'msg' && r(m[1])));
        const c = createSocket('udp4');
        c.send('hi', port, '127.0.0.1');
        const msg = await got;
        c.close();
        const exit = mode === 'terminate' ? await w.terminate() : await new Promise((r) => w.on('exit', r));
        results.push([mode, msg, exit]);
      }
      console.log(JSON.stringify(results));`;
    const r = await run(process.execPath, [...tsArgs(), '--input-type=module', '-e', code], { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' });
    t.equal(r.code, 0, `exit status ${r.code} ${r.stderr}`);
    t.same(JSON.parse(r.stdout.trim() || 'null'), [['terminate', 'hi', 1], ['close-then-exit', 'hi', 0], ['close', 'hi', 0], ['terminate', 'hi', 1]]);
  });

  t.test('unref() lets the process exit with the socket open; ref() keeps it alive', async (t) => {
    const code = (unref: boolean) => `
      import { PktinfoUdpSocket } from ${JSON.stringify(NATIVE_TS)};
      const s = await PktinfoUdpSocket.bind({ host: '127.0.0.1', port: 0 });
      ${unref ? 's.unref();' : 's.unref(); s.ref(); setTimeout(() => { console.log("closing"); s.close(); }, 300);'}
      console.log('bound');`;
    for (const unref of [true, false]) {
      const started = Date.now();
      const r = await run(process.execPath, [...tsArgs(), '--input-type=module', '-e', code(unref)], { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', NODE_OPTIONS: '' });
      t.equal(r.code, 0, r.stderr);
      t.same(r.stdout.trim().split('\n'), unref ? ['bound'] : ['bound', 'closing'], unref ? 'exits at once' : `stays until close() (${Date.now() - started} ms)`);
    }
  });
}

type Tap = { teardown(f: () => void): void };
