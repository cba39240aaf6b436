// `oncrpc decode`: text and JSON output on real captures, exit codes, bad files.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const fixtures = join(root, 'fixtures/pcap');
const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/oncrpc.js'), 'decode', ...args], { encoding: 'utf8' });

t.test('text: rpcinfo -p traffic', async (t) => {
  const r = run(join(fixtures, 'rpcinfo-p.pcap'));
  t.equal(r.status, 0);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, 4);
  t.match(lines[0], /^ {3}1 0\.000000 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:111 TCP xid=0x[0-9a-f]{8} CALL portmapper\(100000\) v4 GETADDR\(3\) cred=AUTH_NONE args=\d+B$/);
  t.match(lines[1], /REPLY \(reply to #1\) SUCCESS results=\d+B$/);
  t.match(lines[2], /CALL portmapper\(100000\) v2 DUMP\(4\) cred=AUTH_NONE args=0B$/);
  t.match(lines[3], /REPLY \(reply to #3\) SUCCESS/);
});

t.test('text: AUTH_SYS fields, fragments, error replies', async (t) => {
  const big = run(join(fixtures, 'c-bigarg-tcp.pcap')).stdout;
  t.match(big, /cred=AUTH_SYS\(stamp=0x[0-9a-f]{8} machine="oncrpc-fixtures" uid=0 gid=0 gids=\[\]\) args=140008B fragments=3\[\d+,\d+,\d+\]/);
  const errs = run(join(fixtures, 'c-errors-tcp.pcap')).stdout;
  for (const s of ['PROG_UNAVAIL', 'PROG_MISMATCH(low=1 high=1)', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'MSG_DENIED AUTH_ERROR(AUTH_REJECTEDCRED)', 'MSG_DENIED AUTH_ERROR(AUTH_FAILED)', 'rpcvers=3', 'MALFORMED ERR_RPC_AUTH_TOO_LARGE']) {
    t.ok(errs.includes(s), s);
  }
});

t.test('--json: one object per message, replies linked to calls', async (t) => {
  const r = run('--json', join(fixtures, 'rpcinfo-t-prog.pcap'));
  t.equal(r.status, 0);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.ok(objs.length >= 4);
  for (const o of objs) {
    t.ok(['call', 'reply'].includes(o.type), `type ${o.type}`);
    t.type(o.xid, 'number');
    t.type(o.frame, 'number');
    if (o.type === 'reply') t.equal(objs[o.callN - 1].xid, o.xid, `reply #${o.n} answers call #${o.callN}`);
  }
  const mismatch = objs.find((o) => o.acceptStat === 'PROG_MISMATCH');
  t.ok(mismatch, 'rpcinfo -t without a version provokes PROG_MISMATCH');
  t.type(mismatch?.low, 'number');
  const call = objs.find((o) => o.type === 'call' && o.procedureName === 'GETADDR');
  t.match(call, { programName: 'portmapper', prog: 100000, vers: 4, proc: 3, cred: { flavor: 'AUTH_NONE' } });
});

t.test('bad files: clear message, exit 1, other files still decoded', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-decode-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'junk.pcap'), 'this is not a capture file at all');
  const good = readFileSync(join(fixtures, 'rpcinfo-p.pcap'));
  writeFileSync(join(dir, 'cut.pcap'), good.subarray(0, good.length - 30));
  const r = run(join(dir, 'junk.pcap'), join(dir, 'missing.pcap'), join(dir, 'cut.pcap'));
  t.equal(r.status, 1);
  t.match(r.stderr, /^oncrpc decode: \S*junk\.pcap: ERR_PCAP_FORMAT: not a pcap or pcapng file/m);
  t.match(r.stderr, new RegExp(`^oncrpc decode: ${join(dir, 'missing.pcap')}: no such file or directory$`, 'm'), 'the errno text, the path once');
  t.match(r.stdout, /cut\.pcap:\n.*CALL portmapper/, 'the truncated capture is still decoded');
  t.match(r.stderr, /note: .*truncated|note: .*cut|note: .*ended/i, 'the truncation is reported');
});

t.test('a reader that goes away (| head) ends the command quietly', async (t) => {
  const r = spawnSync('bash', ['-c', `set -o pipefail; node ${join(root, 'bin/oncrpc.js')} decode ${join(fixtures, 'c-tcp.pcap')} ${join(fixtures, 'c-udp.pcap')} | head -1`], { encoding: 'utf8' });
  t.equal(r.status, 0, 'exit 0');
  t.equal(r.stderr, '', 'no EPIPE trace');
  t.equal(r.stdout.split('\n').filter(Boolean).length, 1);
});

t.test('--max-record: a record over it is a notice (text and --json), the rest still decoded', async (t) => {
  const file = join(fixtures, 'c-bigarg-tcp.pcap');
  const all = run(file).stdout.trimEnd().split('\n');
  const r = run('--max-record', '1000', file);
  t.equal(r.status, 0);
  t.match(r.stderr, /^note: frame \d+: TCP 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+: record of 140084 bytes in 3 fragments exceeds the maximum of 1000; passed over$/m);
  const lines = r.stdout.trimEnd().split('\n');
  t.equal(lines.length, all.length - 1, 'only the big call is missing');
  t.match(r.stdout, /CALL 541089920 v1 proc 0 /, 'the call after it on the same connection is decoded');
  const j = run('--json', '--max-record', '1000', file);
  const notices = j.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)).filter((o) => o.type === 'notice');
  t.match(notices, [{ type: 'notice', code: 'ERR_RECORD_TOO_LARGE', frame: Number, message: /record of 140084 bytes in 3 fragments exceeds the maximum of 1000/ }]);
});

t.test('--max-record: anything but a positive whole number is refused', async (t) => {
  for (const bad of ['abc', '1e3', '-5', '0', '12k']) {
    const r = run('--max-record', bad, join(fixtures, 'rpcinfo-p.pcap'));
    t.equal(r.status, 1, `${bad}: exit 1`);
    t.equal(r.stdout, '', `${bad}: nothing decoded`);
    t.match(r.stderr, new RegExp(`^oncrpc decode: option '--max-record <bytes>' argument '${bad}' is invalid\\. It must be a whole number of bytes, 1 or more\\.\\n$`));
  }
});
