// `oncrpc xdr encode|decode`: JSON lines <-> hex lines through a .x loaded at run time; bad lines are
// reported with their number and skipped; exit 1 if any failed.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VALUES } from '../interop/alltypes.js';

const root = new URL('../../', import.meta.url).pathname;
const ALLTYPES = join(root, 'fixtures/x/alltypes.x');
const run = (args: string[], input: string) => spawnSync(process.execPath, [join(root, 'bin/oncrpc.js'), 'xdr', ...args], { input, encoding: 'utf8' });
const cHex = readFileSync(join(root, 'fixtures/c/alltypes-value.xdr.hex'), 'utf8').replace(/\s+/g, '');

function plain(v: any): any {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => !/_(bits|hex)$/.test(k)).map(([k, w]) => [k, plain(w)]));
  return v;
}

t.test('encode: values.json V gives libtirpc bytes; one hex line per JSON line', async (t) => {
  const r = run(['encode', '--x', ALLTYPES, '--type', 'alltypes'], JSON.stringify(plain(VALUES.V)) + '\n');
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stdout, cHex + '\n');
  const p = run(['encode', '--x', ALLTYPES, '--type', 'choice'], '{"kind":4,"where":{"x":1,"y":2}}\n\n{"kind":5}\n{"kind":42,"text":"hi"}\n');
  t.equal(p.stdout, '000000040000000100000002\n00000005\n0000002a000000026869' + '0000\n');
  t.equal(p.stderr, '');
});

t.test('decode: libtirpc bytes print as values.json V', async (t) => {
  const r = run(['decode', '--x', ALLTYPES, '--type', 'alltypes'], cHex + '\n');
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), plain(VALUES.V));
  const spaced = run(['decode', '--x', ALLTYPES, '--type', 'point'], '0x00000001 fffffffe\n');
  t.equal(spaced.stdout, '{"x":1,"y":-2}\n', 'spaces and 0x allowed');
});

t.test('bad lines: error with the line number on stderr, the others converted, exit 1', async (t) => {
  const e = run(['encode', '--x', ALLTYPES, '--type', 'point'], '{"x":1,"y":2}\n{"x":1}\nnot json\n{"x":1,"y":"2"}\n{"x":3,"y":4}\n');
  t.equal(e.status, 1);
  t.equal(e.stdout, '0000000100000002\n0000000300000004\n');
  t.match(e.stderr, /^oncrpc xdr encode: line 2: ERR_XDR_VALUE: missing field "y" \(struct point\)$/m);
  t.match(e.stderr, /^oncrpc xdr encode: line 3: ERR_CLI_INPUT: not JSON: /m);
  t.match(e.stderr, /^oncrpc xdr encode: line 4: ERR_XDR_VALUE: y: "2" is not an int/m);
  const d = run(['decode', '--x', ALLTYPES, '--type', 'point'], '0000000100000002\n0000\n000000010000000200\nxyz\n0000000300000004\n');
  t.equal(d.status, 1);
  t.equal(d.stdout, '{"x":1,"y":2}\n{"x":3,"y":4}\n');
  t.match(d.stderr, /line 2: ERR_XDR_SHORT: x: need 4 bytes, 2 left \(at byte 0\)/);
  t.match(d.stderr, /line 3: ERR_XDR_TRAILING/);
  t.match(d.stderr, /line 4: ERR_CLI_INPUT: not hex/);
});

t.test('bad .x, unknown type: clear message, exit 1', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-xdr-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.x'), 'struct s { int a; widget b; };\n');
  const bad = run(['decode', '--x', join(dir, 'bad.x'), '--type', 's'], '');
  t.equal(bad.status, 1);
  t.match(bad.stderr, /bad\.x:1:\d+: error: .*widget/);
  const unknown = run(['decode', '--x', ALLTYPES, '--type', 'nope'], '');
  t.equal(unknown.status, 1);
  t.match(unknown.stderr, /no type named nope .*known: color, name/);
});

t.test('round trip: decode output fed to encode gives the bytes back (strings with raw bytes too)', async (t) => {
  const hexes = ['0000000361ff6200', '00000000', '0000000568656c6c6f000000'];
  const d = run(['decode', '--x', ALLTYPES, '--type', 'name'], hexes.join('\n') + '\n');
  t.equal(d.stdout.split('\n')[0], '"a\\udcffb"', 'a byte that is not UTF-8 prints as \\udcXX');
  const e = run(['encode', '--x', ALLTYPES, '--type', 'name'], d.stdout);
  t.equal(e.stdout, hexes.join('\n') + '\n');
});
