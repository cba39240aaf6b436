// `oncrpc decode --stats` / `--stats-only` (per program, version and procedure: calls, replies by status,
// unanswered, call→reply times) as a table and in --json, checked against tshark's `-z rpc,srt`; and the
// filters (--prog, --vers, --proc, --xid, --host, --port).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from '../_helpers/peers.js';
import { ethernet, ipv4, pcapFile, udp } from '../pcap/_helpers/build.js';
import { writeRpcCapture } from '../pcap/_helpers/rpc-capture.js';
import { tsharkView } from '../trace/_helpers/tshark.js';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'fixtures/pcap');
const ALLTYPES = join(root, 'fixtures/x/alltypes.x');
const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/oncrpc.js'), 'decode', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
const jsonLines = (s: string): any[] => s.trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const dir = mkdtempSync(join(tmpdir(), 'oncrpc-decode-stats-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('--stats: the table after the messages; --stats-only: the table alone', async (t) => {
  const file = join(fixtures, 'rpcinfo-p.pcap');
  const only = run('--stats-only', file);
  t.equal(only.status, 0);
  t.equal(only.stdout, [
    'program             version  procedure   calls  replies  unanswered  min ms  p50 ms  p90 ms  p99 ms  max ms  replies by status',
    'portmapper(100000)        2  DUMP(4)         1        1           0   0.048   0.048   0.048   0.048   0.048  SUCCESS=1',
    'portmapper(100000)        4  GETADDR(3)      1        1           0   0.271   0.271   0.271   0.271   0.271  SUCCESS=1',
    'total                                        2        2           0                                          SUCCESS=2',
    '',
  ].join('\n'));
  const both = run('--stats', file);
  t.equal(both.stdout, run(file).stdout + '\n' + only.stdout, 'the messages as without --stats, a blank line, the table');

  const errs = run('--stats-only', join(fixtures, 'c-errors-udp.pcap')).stdout;
  t.match(errs, /^541089920 +1 +proc 0 +7 +6 +1 .* SUCCESS=3 AUTH_ERROR=3$/m, 'the rpcvers 3 call got no reply');
  t.match(errs, /^541089920 +2 +proc 0 +1 +1 +0 .* PROG_MISMATCH=1$/m);
  t.match(errs, /^541089921 +1 +proc 0 +1 +1 +0 .* PROG_UNAVAIL=1$/m);
  t.match(errs, /^\(also: 1 malformed\)$/m);
  const x = run('--stats-only', '--x', ALLTYPES, join(fixtures, 'c-udp.pcap')).stdout;
  t.match(x, /^ALLTYPES_PROG\(541089920\) +1 +AT_GETCHOICE\(3\) +4 +4 +0 /m, 'names from the --x files');

  const two = run('--stats-only', file, join(fixtures, 'rpcinfo-s.pcap')).stdout;
  t.match(two, new RegExp(`^${file}:\nprogram .*\n(.*\n)*${join(fixtures, 'rpcinfo-s.pcap')}:\nprogram `, 'm'), 'a table per file');
});

t.test('--stats --json: a stats object per row and a stats-total', async (t) => {
  const file = join(fixtures, 'rpcinfo-t-prog.pcap');
  const objs = jsonLines(run('--stats', '--json', file).stdout);
  const messages = objs.filter((o) => o.type === 'call' || o.type === 'reply');
  const rows = objs.filter((o) => o.type === 'stats');
  const total = objs.filter((o) => o.type === 'stats-total');
  t.ok(messages.length > 0);
  t.same(objs.slice(messages.length).map((o) => o.type), [...rows.map(() => 'stats'), 'stats-total'], 'after the messages');
  t.match(rows.find((r) => r.prog === 100000), { file, programName: 'portmapper', vers: 4, proc: 3, procedureName: 'GETADDR', calls: 1, replies: 1, unanswered: 0, retransmissions: 0, duplicateReplies: 0, status: { SUCCESS: 1 } });
  t.match(rows.find((r) => r.prog === 0x20406080 && r.vers === 0), { calls: 1, replies: 1, status: { PROG_MISMATCH: 1 }, programName: null, procedureName: null });
  for (const r of rows) {
    t.ok(r.time.min <= r.time.p50 && r.time.p50 <= r.time.p90 && r.time.p90 <= r.time.p99 && r.time.p99 <= r.time.max, 'min ≤ p50 ≤ p90 ≤ p99 ≤ max');
    const call = messages.find((m) => m.type === 'call' && m.prog === r.prog && m.vers === r.vers && m.proc === r.proc)!;
    const reply = messages.find((m) => m.type === 'reply' && m.callN === call.n)!;
    t.equal(r.time.max, Number((reply.time - call.time).toFixed(6)), 'the time from the call to its reply, to the microsecond');
  }
  t.match(total, [{ type: 'stats-total', file, calls: rows.reduce((n, r) => n + r.calls, 0), replies: rows.reduce((n, r) => n + r.replies, 0), unanswered: 0, messages: messages.length, orphanReplies: 0, malformed: 0 }]);
  const only = jsonLines(run('--stats-only', '--json', file).stdout);
  t.same(only, objs.slice(messages.length), '--stats-only: only those');
});

t.test('percentiles: nearest rank, exact up to 512 replies, within 0.5 % beyond', async (t) => {
  const file = join(dir, 'p.pcap');
  // Reply delays of 1..2000 µs, one of each (in a shuffled order): p50 = 1000 µs, p90 = 1800, p99 = 1980.
  const delays = Array.from({ length: 2000 }, (_, i) => i + 1);
  for (let i = delays.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [delays[i], delays[j]] = [delays[j]!, delays[i]!];
  }
  let k = 0;
  writeRpcCapture(file, { messages: 4000, seed: 12, unanswered: 0, tcpConnections: 1, rtt: () => delays[k++ % delays.length]! });
  const rows = jsonLines(run('--stats-only', '--json', file).stdout).filter((o) => o.type === 'stats');
  const all = jsonLines(run('--json', file).stdout);
  const byN = new Map(all.map((m) => [m.n, m]));
  for (const r of rows) {
    const times = all.filter((m) => m.type === 'reply' && m.callN && byN.get(m.callN).prog === r.prog && byN.get(m.callN).vers === r.vers && byN.get(m.callN).proc === r.proc)
      .map((m) => m.time - byN.get(m.callN).time).sort((a, b) => a - b);
    t.equal(times.length, r.replies);
    const rank = (p: number) => times[Math.max(1, Math.ceil((p / 100) * times.length)) - 1]!;
    for (const p of [50, 90, 99]) {
      const want = rank(p);
      const got = r.time[`p${p}`];
      if (times.length <= 512) t.equal(got, Number(want.toFixed(6)), `${r.prog}/${r.vers}/${r.proc} p${p} exact (${times.length} replies)`);
      else t.ok(Math.abs(got - want) <= want * 0.005 + 1e-6, `${r.prog}/${r.vers}/${r.proc} p${p}: ${got} ≈ ${want} (${times.length} replies)`);
    }
    t.equal(r.time.min, Number(times[0]!.toFixed(6)));
    t.equal(r.time.max, Number(times.at(-1)!.toFixed(6)));
  }
});

t.test('the counts and response times agree with tshark -z rpc,srt', async (t) => {
  const tshark = requirePeer(t, 'tshark');
  if (!tshark) return;
  const cases: Array<{ file: string; srt: Array<[number, number]>; decodeAs: string[] }> = readdirSync(fixtures)
    .filter((f) => f.startsWith('rpcinfo-') && f.endsWith('.pcap'))
    .map((f) => ({ file: join(fixtures, f), srt: [[100000, 2], [100000, 3], [100000, 4]], decodeAs: [] }));
  const gen = join(dir, 'gen.pcap');
  const g = writeRpcCapture(gen, { messages: 40_000, seed: 21 });
  cases.push({ file: gen, srt: [[100000, 2], [100003, 3], [100005, 3]], decodeAs: [...g.unknownPorts.udp.map((p) => `udp.port==${p},rpc`), ...g.unknownPorts.tcp.map((p) => `tcp.port==${p},rpc`)] });
  for (const c of cases) {
    const theirs = await tsharkView(tshark, c.file, c.srt, c.decodeAs);
    const objs = jsonLines(run('--stats-only', '--json', c.file).stdout);
    const rows = objs.filter((o) => o.type === 'stats');
    const total = objs.find((o) => o.type === 'stats-total');
    t.equal(total.calls, theirs.calls, `${c.file}: calls`);
    t.equal(total.replies + total.orphanReplies + total.duplicateReplies, theirs.replies, `${c.file}: replies`);
    // tshark's table counts the SUCCESS replies of the procedures it has names for, and their times.
    const inTable = rows.filter((r) => c.srt.some(([p, v]) => p === r.prog && v === r.vers) && r.status.SUCCESS > 0 && r.procedureName !== null);
    t.same(
      inTable.map((r) => ({ prog: r.prog, vers: r.vers, proc: r.proc, name: r.procedureName, calls: r.status.SUCCESS })),
      theirs.srt.map(({ prog, vers, proc, name, calls }) => ({ prog, vers, proc, name, calls })),
      `${c.file}: per procedure, the SUCCESS replies tshark's rpc,srt counts (${theirs.srt.length} rows)`,
    );
    for (const r of inTable) {
      const s = theirs.srt.find((x) => x.prog === r.prog && x.vers === r.vers && x.proc === r.proc)!;
      if (r.replies === r.status.SUCCESS) t.same([r.time.min.toFixed(6), r.time.max.toFixed(6)], [s.min, s.max], `${r.procedureName}: min and max response time`);
      else t.ok(r.time.min <= Number(s.min) && Number(s.max) <= r.time.max, `${r.procedureName}: tshark's times (SUCCESS only) within ours (every reply)`);
    }
    const byStatus = new Map<string, number>();
    const code = { SUCCESS: '0', PROG_UNAVAIL: '1', PROG_MISMATCH: '2', PROC_UNAVAIL: '3', GARBAGE_ARGS: '4', SYSTEM_ERR: '5', RPC_MISMATCH: 'denied:0', AUTH_ERROR: 'denied:1' } as Record<string, string>;
    for (const r of rows) for (const [s, n] of Object.entries(r.status as Record<string, number>)) byStatus.set(code[s]!, (byStatus.get(code[s]!) ?? 0) + n);
    if (total.orphanReplies === 0 && total.duplicateReplies === 0) t.same(new Map([...byStatus].sort()), new Map([...theirs.replyStates].sort()), `${c.file}: replies by status`);
  }
});

t.test('filters: program, version, procedure, xid, host, port; replies go with their calls', async (t) => {
  const file = join(fixtures, 'c-udp.pcap');
  const all = jsonLines(run('--json', file).stdout);
  const keep = (args: string[]) => jsonLines(run('--json', ...args, file).stdout).map((o) => o.n);
  const replies = (calls: any[]) => all.filter((m) => m.type === 'reply' && calls.some((c) => c.n === m.callN));
  const ns = (xs: any[]) => xs.map((m) => m.n).sort((a, b) => a - b);
  const calls = (f: (m: any) => boolean) => all.filter((m) => m.type === 'call' && f(m));
  const expect = (f: (m: any) => boolean) => ns([...calls(f), ...replies(calls(f))]);
  t.same(keep(['--prog', '100000']), expect((m) => m.prog === 100000), '--prog NUMBER');
  t.same(keep(['--prog', 'portmapper']), expect((m) => m.prog === 100000), '--prog well-known name');
  t.same(keep(['--prog', '0x20406080']), expect((m) => m.prog === 0x20406080), '--prog hex');
  t.same(jsonLines(run('--json', '--x', ALLTYPES, '--prog', 'alltypes_prog', file).stdout).map((o) => o.n), expect((m) => m.prog === 0x20406080), '--prog name from --x (any case)');
  t.same(keep(['--vers', '4']), expect((m) => m.vers === 4), '--vers');
  t.same(keep(['--prog', '541089920', '--proc', '3,7']), expect((m) => m.prog === 541089920 && [3, 7].includes(m.proc)), '--proc numbers, comma-separated');
  t.same(keep(['--proc', 'getaddr']), expect((m) => m.procedureName === 'GETADDR'), '--proc well-known name');
  t.same(jsonLines(run('--json', '--x', ALLTYPES, '--proc', 'AT_ECHO', '--proc', 'AT_SUM', file).stdout).map((o) => o.n), expect((m) => m.prog === 541089920 && [1, 9].includes(m.proc)), '--proc names from --x, repeated');
  const one = all.find((m) => m.type === 'call' && m.proc === 6)!;
  t.same(keep(['--xid', `0x${one.xid.toString(16)}`]), ns(all.filter((m) => m.xid === one.xid)), '--xid hex');
  t.same(keep(['--xid', String(one.xid)]), ns(all.filter((m) => m.xid === one.xid)), '--xid decimal');
  const port = Number(one.src.split(':')[1]);
  t.same(keep(['--port', String(port)]), ns(all.filter((m) => m.src.endsWith(`:${port}`) || m.dst.endsWith(`:${port}`))), '--port');
  t.same(keep(['--host', '127.0.0.1']), ns(all), '--host');
  t.same(keep(['--host', '::ffff:127.0.0.1']), [], '--host (another address)');
  t.same(keep(['--host', '10.1.1.1']), []);
  // Filters combine; statistics count only what the filters keep.
  const stats = jsonLines(run('--stats-only', '--json', '--prog', 'portmapper', file).stdout);
  t.same(stats.filter((o) => o.type === 'stats').map((o) => o.prog), [100000]);
  // The time of the first shown message is 0.
  t.match(run('--proc', '6', '--prog', '541089920', file).stdout, /^ *\d+ 0\.000000 /);
  // IPv6 addresses compare in their RFC 5952 form.
  const v6 = join(root, 'spec/pcap/data/lo-ipv6.pcap');
  t.equal(run('--host', '0:0:0:0:0:0:0:1', v6).stdout, run(v6).stdout);
});

t.test('filters: bad values are refused', async (t) => {
  const file = join(fixtures, 'rpcinfo-p.pcap');
  for (const [args, re] of [
    [['--prog', 'nosuch'], /^oncrpc decode: option '--prog <prog>' argument 'nosuch' is invalid\. It must be a program number, a well-known name \(portmapper, .*\) or a program of the --x files\.\n$/],
    [['--proc', 'NOSUCH'], /^oncrpc decode: option '--proc <proc>' argument 'NOSUCH' is invalid\. It must be a procedure number or the name of a procedure of a well-known program or of the --x files\.\n$/],
    [['--vers', 'x'], /^oncrpc decode: option '--vers <vers>' argument 'x' is invalid\. It must be a version number\.\n$/],
    [['--xid', '0x1ffffffff'], /^oncrpc decode: option '--xid <xid>' argument '0x1ffffffff' is invalid\. It must be an xid: decimal or 0x hex, at most 0xffffffff\.\n$/],
    [['--port', '65536'], /^oncrpc decode: option '--port <port>' argument '65536' is invalid\. It must be a port number, 0 to 65535\.\n$/],
    [['--host', 'localhost'], /^oncrpc decode: option '--host <addr>' argument 'localhost' is invalid\. It must be an IPv4 or IPv6 address\.\n$/],
    [['--reply-window', '0'], /^oncrpc decode: option '--reply-window <seconds>' argument '0' is invalid\. It must be a number of seconds, more than 0\.\n$/],
    [['--max-pending-calls', '-1'], /^oncrpc decode: option '--max-pending-calls <n>' argument '-1' is invalid\. It must be a whole number, 1 or more\.\n$/],
  ] as const) {
    const r = run(...args, file);
    t.equal(r.status, 1, args.join(' '));
    t.equal(r.stdout, '');
    t.match(r.stderr, re);
  }
});

t.test('--reply-window: a call without a reply that long is a notice (text: stderr; --json: with its callN)', async (t) => {
  // Calls at t = 1000, 1001 and 1003 s; only the second is answered (at 1001.5).
  const words = (...w: number[]): Uint8Array => {
    const b = new Uint8Array(w.length * 4);
    w.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x >>> 0));
    return b;
  };
  const dgram = (sec: number, frac: number, toServer: boolean, payload: Uint8Array) => ({
    sec, frac,
    data: ethernet(0x0800, ipv4({ src: toServer ? '10.0.0.9' : '10.0.0.1', dst: toServer ? '10.0.0.1' : '10.0.0.9', protocol: 17, payload: toServer ? udp(800, 111, payload) : udp(111, 800, payload) })),
  });
  const call = (xid: number) => words(xid, 0, 2, 100000, 2, 3, 0, 0, 0, 0, 100003, 3, 17, 0);
  const file = join(dir, 'window.pcap');
  writeFileSync(file, pcapFile({ linkType: 1, packets: [dgram(1000, 0, true, call(1)), dgram(1001, 0, true, call(2)), dgram(1001, 500000, false, words(2, 1, 0, 0, 0, 0, 2049)), dgram(1003, 0, true, call(3))] }));
  const r = run('--reply-window', '1.5', file);
  t.equal(r.stderr, 'note: frame 4: UDP 10.0.0.9:800 -> 10.0.0.1:111: call #1 (xid 0x00000001) got no reply within 1.5 s\n');
  const objs = jsonLines(run('--json', '--stats', '--reply-window', '1.5', file).stdout);
  t.match(objs.filter((o) => o.type === 'notice'), [{ type: 'notice', frame: 4, callN: 1, xid: 1, message: /call #1 \(xid 0x00000001\) got no reply within 1\.5 s$/ }]);
  t.match(objs.find((o) => o.type === 'stats'), { prog: 100000, vers: 2, proc: 3, calls: 3, replies: 1, unanswered: 2 }, 'the one given up on and the one still waiting at the end');
  t.equal(run(file).stderr, '', 'not within the default window of 60 s: no notice');
  t.equal(run('--reply-window', '1.5', '--prog', '100003', file).stderr, '', 'calls the filters leave out: no notice');
});
