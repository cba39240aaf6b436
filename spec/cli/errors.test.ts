// Every error of the oncrpc command is one line `oncrpc <cmd>: what went wrong` on stderr, exit 1:
// commander's own (unknown option, missing argument, bad value), file errors (the errno's text, the
// path once), and the subcommands' own. The help texts describe what exists.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('../../', import.meta.url).pathname;
const oncrpc = (args: string[], input = '') => spawnSync(process.execPath, [join(root, 'bin/oncrpc.js'), ...args], { encoding: 'utf8', input });
const ALLTYPES = join(root, 'fixtures/x/alltypes.x');

/** The subcommands `--help` lists (`help` aside), as paths: `decode`, `xdr encode`, … */
function commands(path: string[] = []): string[][] {
  const help = oncrpc([...path, '--help']).stdout;
  const section = help.split(/^Commands:$/m)[1];
  if (!section) return [path];
  const names = [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((n) => n !== 'help');
  return names.flatMap((n) => commands([...path, n]));
}

function oneLine(t: Test, args: string[], expected: string | RegExp, input = ''): void {
  const r = oncrpc(args, input);
  t.equal(r.status, 1, `oncrpc ${args.join(' ')}: exit 1`);
  const lines = r.stderr.split('\n').filter(Boolean);
  t.equal(lines.length, 1, `one line: ${JSON.stringify(r.stderr)}`);
  if (typeof expected === 'string') t.equal(lines[0], expected);
  else t.match(lines[0], expected);
}

t.test("commander's errors carry the oncrpc <cmd>: prefix, for every subcommand", async (t) => {
  const all = commands();
  t.ok(all.length >= 4, all.map((p) => p.join(' ')).join(', '));
  // (commander checks required options first: `xdr encode` without --x says so instead.)
  for (const path of all) oneLine(t, [...path, '--no-such-option'], new RegExp(`^oncrpc ${path.join(' ')}: (unknown option '--no-such-option'|required option '.*' not specified)$`));
  oneLine(t, ['decode', '--no-such-option'], "oncrpc decode: unknown option '--no-such-option'");
  oneLine(t, ['no-such-command'], "oncrpc: unknown command 'no-such-command'");
  oneLine(t, ['gen'], "oncrpc gen: missing required argument 'files'");
  oneLine(t, ['xdr', 'encode', '--type', 'point'], "oncrpc xdr encode: required option '--x <files...>' not specified");
  oneLine(t, ['xdr', 'decode', '--x'], "oncrpc xdr decode: option '--x <files...>' argument missing");
  oneLine(t, ['decode', '--max-record', 'abc', 'f.pcap'], /^oncrpc decode: option '--max-record <bytes>' argument 'abc' is invalid\. /);
});

t.test('file errors: the errno text, the path once', async (t) => {
  const missing = '/nonexistent/dir/file';
  oneLine(t, ['decode', `${missing}.pcap`], `oncrpc decode: ${missing}.pcap: no such file or directory`);
  oneLine(t, ['decode', '--x', `${missing}.x`, join(root, 'fixtures/pcap/c-udp.pcap')], `oncrpc decode: ${missing}.x: no such file or directory`);
  oneLine(t, ['gen', `${missing}.x`], `oncrpc gen: ${missing}.x: no such file or directory`);
  oneLine(t, ['xdr', 'encode', '--x', `${missing}.x`, '--type', 't'], `oncrpc xdr encode: ${missing}.x: no such file or directory`);
  oneLine(t, ['decode', root], `oncrpc decode: ${root}: illegal operation on a directory`);
});

t.test('subcommand errors: the same line; a .x with errors adds its diagnostics before it', async (t) => {
  oneLine(t, ['decode'], 'oncrpc decode: no capture files given');
  oneLine(t, ['xdr', 'decode', '--x', ALLTYPES, '--type', 'nope'], /^oncrpc xdr decode: ERR_SCHEMA: no type named nope in .*alltypes\.x \(known: /);
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-errors-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.x'), 'struct s { int a; widget b; };\n');
  for (const args of [['xdr', 'encode', '--x', join(dir, 'bad.x'), '--type', 's'], ['decode', '--x', join(dir, 'bad.x'), join(root, 'fixtures/pcap/c-udp.pcap')]]) {
    const r = oncrpc(args);
    t.equal(r.status, 1);
    const lines = r.stderr.trimEnd().split('\n');
    t.match(lines[0], /bad\.x:1:\d+: error: .*widget/);
    t.equal(lines.at(-1), `oncrpc ${args[0] === 'xdr' ? 'xdr encode' : 'decode'}: ${join(dir, 'bad.x')}: 1 error`);
  }
  const bad = oncrpc(['xdr', 'encode', '--x', ALLTYPES, '--type', 'point'], '{"x":1,"y":2}\nnot json\n');
  t.equal(bad.status, 1);
  t.match(bad.stderr, /^oncrpc xdr encode: line 2: ERR_CLI_INPUT: not JSON: /);
});

t.test('--help describes the subcommands that exist; each has a section in the manual', async (t) => {
  const r = oncrpc(['--help']);
  t.equal(r.status, 0);
  t.notMatch(r.stdout, /to come/i);
  const manual = readFileSync(join(root, 'docs/oncrpc.1.md'), 'utf8');
  for (const path of commands()) t.match(manual, new RegExp(`^## oncrpc ${path.join(' ')}\\b`, 'm'), `docs/oncrpc.1.md: oncrpc ${path.join(' ')}`);
  const v = oncrpc(['--version']);
  t.equal(v.status, 0);
  t.match(v.stdout, /^\d+\.\d+\.\d+/);
});
