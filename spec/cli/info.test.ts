// `oncrpc info` where no rpcbind is needed: every command line rpcinfo refuses (usage, bad numbers,
// unknown program names, bad netids and ports) prints what the real rpcinfo prints, byte for byte,
// with its exit status; oncrpc's own long options (--json, --timeout, --help); --timeout fires;
// program names from /etc/rpc or the built-in table. The forms that talk to rpcbind are compared in
// spec/interop/info-*.test.ts, in private namespaces.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:net';
import { createSocket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { requirePeer } from '../_helpers/peers.js';
import { checkJson, compare, FORMS_ARGS, infoInProcess, oncrpcInfo, rpcinfo } from '../interop/info-lab.js';
import { BUILTIN_RPC_ENTRIES, getRpcByName, getRpcByNumber, loadRpcEntries, parseRpcFile, rpcEntries } from '../../src/rpc/rpc-names.js';
import { PROGRAM_NAMES } from '../../src/rpc/names.js';

t.test('wrong command lines, numbers, names, netids: what rpcinfo prints', async (t) => {
  if (!requirePeer(t, 'rpcinfo')) return;
  for (const args of FORMS_ARGS) await compare(t, args);
  // End to end through bin/oncrpc.js: main.ts hands `info` its arguments untouched.
  for (const args of [['-x'], ['-t', '127.0.0.1', 'nosuch'], ['-n', 'abc', '-p'], ['-d', '-T', 'bogus', '1', '1'], ['-T']]) await compare(t, args, { cli: true });
});

t.test('--json for a wrong command line: a usage document', async (t) => {
  const doc = await checkJson(t, ['-t', '127.0.0.1'], 1);
  t.equal(doc?.form, 'usage');
  t.match((doc?.error as { message: string }).message, /^Usage: rpcinfo \[-m \| -s\] \[host\]\n/);
  const bad = await checkJson(t, ['-x', '-t', '127.0.0.1', 'nosuch'], 1);
  t.same(bad?.warnings, ["rpcinfo: invalid option -- 'x'"], "getopt's complaint is a warning");
  const name = await checkJson(t, ['-t', '127.0.0.1', 'nosuch'], 1);
  t.same(name?.error, { message: 'rpcinfo: nosuch is unknown service', stat: null });
});

t.test("oncrpc's long options", async (t) => {
  const one = async (args: string[], line: string): Promise<void> => {
    const r = await (args[0] === '--no-such-option' ? oncrpcInfo(args) : infoInProcess(args));
    t.equal(r.stderr, line + '\n', args.join(' '));
    t.equal(r.stdout, '');
    t.equal(r.code, 1);
  };
  await one(['--no-such-option'], "oncrpc info: unknown option '--no-such-option'");
  await one(['-p', '--no-such-option', '127.0.0.1'], "oncrpc info: unknown option '--no-such-option'");
  await one(['--timeout', 'abc', '-p'], "oncrpc info: option '--timeout <ms>' argument 'abc' is invalid. It must be a whole number of milliseconds, 1 or more.");
  await one(['--timeout=0', '-p'], "oncrpc info: option '--timeout <ms>' argument '0' is invalid. It must be a whole number of milliseconds, 1 or more.");
  await one(['-p', '--timeout'], "oncrpc info: option '--timeout <ms>' argument missing");
  await one(['--json=yes'], "oncrpc info: option '--json' does not take an argument");
  const help = await infoInProcess(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /^Usage: oncrpc info \[--json\] \[--timeout MS\]/);
  t.match(help.stdout, /--json .*docs\/info-json\.md/);
  // An option's argument is taken as it is, as getopt takes it: `-T --json` is netid "--json".
  if (requirePeer(t, 'rpcinfo')) await compare(t, ['-T', '--json', '127.0.0.1', '100000', '2']);
});

/** A TCP and a UDP server on loopback that never answer. */
async function silentServers(t: Test): Promise<{ tcp: number; udp: number }> {
  const tcp: Server = createServer((s) => s.on('data', () => undefined));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  const udp = createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  t.teardown(() => {
    tcp.close();
    udp.close();
  });
  return { tcp: (tcp.address() as { port: number }).port, udp: udp.address().port };
}

const uaddr = (port: number): string => `127.0.0.1.${port >> 8}.${port & 255}`;

t.test('--timeout fires: connects and calls give up after it, with rpcinfo\'s words', async (t) => {
  const { tcp, udp } = await silentServers(t);
  // rpcinfo waits its own 10 s for a NULL call: once, beside the rest, to hold the words to its.
  const real = requirePeer(t, 'rpcinfo') ? rpcinfo(['-a', uaddr(tcp), '-T', 'tcp', '100000', '2'], 30_000) : undefined;
  for (const [netid, port] of [['tcp', tcp], ['udp', udp]] as const) {
    const t0 = Date.now();
    const r = await oncrpcInfo(['--timeout', '300', '-a', uaddr(port), '-T', netid, '100000', '2']);
    const ms = Date.now() - t0;
    t.equal(r.stderr, 'rpcinfo: RPC: Timed out\n', `${netid}: libtirpc's words`);
    t.equal(r.stdout, 'program 100000 version 2 is not available\n');
    t.equal(r.code, 1);
    t.ok(ms < 5000, `${netid}: gave up after ${ms} ms (--timeout 300, node's start included)`);
  }
  const doc = await checkJson(t, ['--timeout', '200', '-a', uaddr(udp), '-T', 'udp', '100000'], 1);
  const probe = (doc?.probes as { rttMs: unknown; error: { stat: string } }[] | undefined)?.[0];
  t.equal(probe?.rttMs, null, 'a timed-out probe has no round-trip time');
  t.equal(probe?.error.stat, 'RPC_TIMEDOUT');
  if (real) {
    const r = await real;
    t.equal(r.stderr, 'rpcinfo: RPC: Timed out\n', 'rpcinfo says the same after its 10 s');
    t.equal(r.stdout, 'program 100000 version 2 is not available\n');
    t.equal(r.code, 1);
  }
});

t.test('program names: /etc/rpc when it exists, else a built-in table', async (t) => {
  const sample = '# comment\nportmapper\t100000\tportmap sunrpc rpcbind\nnfs 100003 nfsprog # trailing\n\nbroken\nsecond 100003 again\n  lead  42\n';
  const entries = parseRpcFile(sample);
  t.same(entries, [
    { name: 'portmapper', number: 100000, aliases: ['portmap', 'sunrpc', 'rpcbind'] },
    { name: 'nfs', number: 100003, aliases: ['nfsprog'] },
    { name: 'second', number: 100003, aliases: ['again'] },
    { name: 'lead', number: 42, aliases: [] },
  ]);
  t.equal(getRpcByNumber(100003, entries)?.name, 'nfs', 'the first entry of a number wins');
  t.equal(getRpcByName('rpcbind', entries)?.number, 100000, 'aliases are names');
  t.equal(getRpcByName('again', entries)?.number, 100003);
  t.equal(getRpcByName('NFS', entries), undefined, 'case-sensitive');
  t.equal(loadRpcEntries('/nonexistent/rpc'), BUILTIN_RPC_ENTRIES, 'no file: the built-in table');
  for (const [n, name] of PROGRAM_NAMES) t.equal(getRpcByNumber(n, BUILTIN_RPC_ENTRIES)?.name, name, `built-in ${n} is ${name} (src/rpc/names.ts)`);
  t.equal(getRpcByName('showmount', BUILTIN_RPC_ENTRIES)?.number, 100005, 'built-in aliases');
  t.equal(getRpcByNumber(545580417, BUILTIN_RPC_ENTRIES)?.name, 'ugidd');
  if (existsSync('/etc/rpc')) {
    t.same(rpcEntries(), parseRpcFile(readFileSync('/etc/rpc', 'utf8')), '/etc/rpc is read when it exists');
    // Where /etc/rpc is netbase's, the built-in table is the same list.
    const sys = rpcEntries().map((e) => `${e.number} ${e.name} ${e.aliases.join(',')}`).sort();
    const builtin = BUILTIN_RPC_ENTRIES.map((e) => `${e.number} ${e.name} ${e.aliases.join(',')}`).sort();
    if (sys.length === builtin.length) t.same(builtin, sys, "the built-in table is netbase's /etc/rpc");
  }
});
