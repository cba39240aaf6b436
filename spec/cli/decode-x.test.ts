// `oncrpc decode --x FILE.x…`: arguments and results of known programs decoded with the JSON mapping;
// replies through the call they answer; a body that does not decode is reported, not fatal.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { VALUES } from '../interop/alltypes.js';

const root = new URL('../../', import.meta.url).pathname;
const ALLTYPES = join(root, 'fixtures/x/alltypes.x');
const pcap = (f: string) => join(root, 'fixtures/pcap', f);
const run = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin/oncrpc.js'), 'decode', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });

function plain(v: any): any {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !/_(bits|hex)$/.test(k)).map(([k, w]) => [k, plain(w)]));
  return v;
}

t.test('--json: every call of the C client shows args and result as values.json says', async (t) => {
  const r = run('--json', '--x', ALLTYPES, pcap('c-tcp.pcap'));
  t.equal(r.status, 0, r.stderr);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  const calls = objs.filter((o) => o.type === 'call' && o.prog === VALUES.program);
  t.equal(calls.length, VALUES.sequence_all.length);
  VALUES.sequence_all.forEach((s: any, i: number) => {
    const call = calls[i];
    const reply = objs.find((o) => o.type === 'reply' && o.callN === call.n); // replyN is not known yet when a call is printed
    t.equal(call.procedureName, s.proc);
    const arg = s.arg === 'V' ? plain(VALUES.V) : s.proc === 'AT_BIGARG' ? undefined : s.arg;
    if (arg !== undefined) t.same(call.args, arg, `#${s.n} ${s.proc} args`);
    else t.equal(call.args.length, s.arg.pattern_len * 2, `#${s.n} ${s.proc} args: ${s.arg.pattern_len} bytes of hex`);
    t.same(reply.result, s.result === 'V' ? plain(VALUES.V) : s.result, `#${s.n} ${s.proc} result`);
  });
  const portmap = objs.find((o) => o.prog === 100000);
  t.notOk('args' in portmap, 'programs not in the .x files are shown as before');
});

t.test('text: an indented line with the decoded body', async (t) => {
  const r = run('--x', ALLTYPES, pcap('c-udp.pcap'));
  t.equal(r.status, 0, r.stderr);
  t.match(r.stdout, /CALL ALLTYPES_PROG\(541089920\) v1 AT_GETCHOICE\(3\) .*\n {7}args AT_GETCHOICE: 4\n.*REPLY .*\n {7}result AT_GETCHOICE: \{"kind":4,"where":\{"x":4,"y":-4\}\}\n/);
  t.match(r.stdout, / {7}result AT_GETCOLOR: \{"c":"BLACK"\}/);
  t.match(r.stdout, / {7}result AT_SUM: "2147483648"/);
});

t.test('bodies that do not decode: argsError per message, the rest still shown', async (t) => {
  const r = run('--json', '--x', ALLTYPES, pcap('c-errors-tcp.pcap'));
  t.equal(r.status, 0, r.stderr);
  const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  const bad = objs.filter((o) => o.argsError);
  t.ok(bad.length >= 2);
  t.match(bad.find((o) => o.procedureName === 'AT_ECHO'), { argsError: { code: 'ERR_XDR_SHORT' } });
  t.match(bad.find((o) => o.procedureName === 'AT_ECHONAME'), { argsError: { code: 'ERR_XDR_BOUND', message: /exceeds maximum 32/ } });
  const text = run('--x', ALLTYPES, pcap('c-errors-tcp.pcap'));
  t.match(text.stdout, / {7}args AT_ECHONAME: decode error ERR_XDR_BOUND: string length 100 exceeds maximum 32/);
});

t.test('--x files and captures in any order; a bad .x is an error', async (t) => {
  const a = run(pcap('c-udp.pcap'), '--x', ALLTYPES);
  const b = run('--x', ALLTYPES, pcap('c-udp.pcap'));
  t.equal(a.stdout, b.stdout);
  t.match(a.stdout, /args AT_ECHO: \{/);
  const bad = run('--x', join(root, 'fixtures/x/missing.x'), pcap('c-udp.pcap'));
  t.equal(bad.status, 1);
  t.match(bad.stderr, /missing\.x/);
});

t.test('the call line names program and procedure as the .x does; --json adds versionName', async (t) => {
  const text = run('--x', ALLTYPES, pcap('c-errors-tcp.pcap')).stdout;
  t.match(text, / CALL ALLTYPES_PROG\(541089920\) v1 AT_ECHO\(1\) /);
  t.match(text, / CALL ALLTYPES_PROG\(541089920\) v1 proc 99 /, 'a procedure the .x lacks: the program still named');
  t.match(text, / CALL 541089920 v2 proc 0 /, 'a version the .x lacks: numbers only');
  t.match(run('--x', ALLTYPES, pcap('c-udp.pcap')).stdout, / CALL portmapper\(100000\) v4 GETADDR\(3\) /, 'well-known names unchanged');
  const objs = run('--json', '--x', ALLTYPES, pcap('c-errors-tcp.pcap')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.match(objs.find((o) => o.procedureName === 'AT_ECHO'), { programName: 'ALLTYPES_PROG', versionName: 'ALLTYPES_VERS', prog: 541089920, vers: 1, proc: 1 });
  t.match(objs.find((o) => o.type === 'call' && o.proc === 99), { programName: 'ALLTYPES_PROG', versionName: 'ALLTYPES_VERS', procedureName: null });
  const udp = run('--json', '--x', ALLTYPES, pcap('c-udp.pcap')).stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  t.notOk('versionName' in udp.find((o) => o.prog === 100000), 'no versionName without a .x naming it');
});
