// What the `oncrpc info` interop tests share: running real `rpcinfo` and `oncrpc info` with the same
// arguments and comparing stdout, stderr and exit status byte for byte; the command lines of every
// rpcinfo form; the registrations they run against; the JSON schema of docs/info-json.md and a
// validator for it (the subset of JSON Schema that schema uses).
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { ALLTYPES_PROG, ROOT, rpcbindSet, run, type CBuild } from '../_helpers/lab.js';
import { RpcClient } from '../../src/client/rpc-client.js';

/** bin/oncrpc.js: dist/, built by `npm test` before tap runs. */
export const CLI = join(ROOT, 'bin/oncrpc.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (never rejects), killing it after `timeoutMs`. */
export function exec(cmd: string, args: string[], timeoutMs = 90_000): Promise<Result> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20, killSignal: 'SIGKILL', env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export const rpcinfo = (args: string[], timeoutMs?: number): Promise<Result> => exec('rpcinfo', args, timeoutMs);
/** `node bin/oncrpc.js info ARGS`: the command end to end. */
export const oncrpcInfo = (args: string[], timeoutMs?: number): Promise<Result> => exec(process.execPath, [CLI, 'info', ...args], timeoutMs);

/**
 * `oncrpc info ARGS` run in this process (src/cli/info.ts's infoMain, its output collected): the same
 * code without a node start per run, so the whole matrix fits in CI's time; a subset of every matrix
 * also runs end to end through bin/oncrpc.js.
 */
export async function infoInProcess(args: string[]): Promise<Result> {
  const { infoMain } = await import('../../src/cli/info.js');
  let stdout = '';
  let stderr = '';
  const code = await infoMain(args, { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s) });
  return { code, stdout, stderr };
}

/** -m: only the counters may differ (each run is one more GETSTAT); digits and the padding after them are normalised. */
export function normaliseStats(s: string): string {
  return s.replace(/\d+/g, 'N').replace(/ +/g, ' ');
}

export interface CompareOptions {
  /** Compare after this transformation of stdout (sorting broadcast replies, -m counters). */
  normalise?: (stdout: string) => string;
  /** Run one after the other instead of side by side (forms whose output the other run changes). */
  sequential?: boolean;
  timeoutMs?: number;
  /** Run bin/oncrpc.js (a node process) instead of infoMain in this process. */
  cli?: boolean;
}

/** Runs `rpcinfo ARGS` and `oncrpc info ARGS`; asserts the same stdout, stderr and exit status. */
export async function compare(t: Test, args: string[], opts: CompareOptions = {}): Promise<{ r: Result; o: Result }> {
  let r: Result;
  let o: Result;
  const ours = (): Promise<Result> => (opts.cli ? oncrpcInfo(args, opts.timeoutMs) : infoInProcess(args));
  if (opts.sequential) {
    r = await rpcinfo(args, opts.timeoutMs);
    o = await ours();
  } else [r, o] = await Promise.all([rpcinfo(args, opts.timeoutMs), ours()]);
  const n = opts.normalise ?? ((s: string): string => s);
  const label = `${opts.cli ? 'oncrpc info ' : ''}[${args.join(' ')}]`;
  const same = n(o.stdout) === n(r.stdout) && o.stderr === r.stderr && o.code === r.code;
  if (same) t.pass(`${label}: same stdout, stderr, exit ${r.code}`);
  else {
    t.equal(n(o.stdout), n(r.stdout), `${label}: stdout`);
    t.equal(o.stderr, r.stderr, `${label}: stderr`);
    t.equal(o.code, r.code, `${label}: exit status`);
  }
  return { r, o };
}

/** Runs `oncrpc info --json ARGS`: one document, valid against the schema, exit status as in the document. */
export async function checkJson(t: Test, args: string[], expectStatus?: number | null, cli = false): Promise<Record<string, unknown> | undefined> {
  const o = await (cli ? oncrpcInfo(['--json', ...args]) : infoInProcess(['--json', ...args]));
  const label = `--json ${args.join(' ')}`;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(o.stdout) as Record<string, unknown>;
  } catch {
    t.fail(`${label}: stdout is not one JSON document: ${JSON.stringify(o.stdout)} ${o.stderr}`);
    return undefined;
  }
  const errors = validate(infoSchema(), doc);
  t.same(errors, [], `${label}: valid against docs/info-json.md`);
  t.equal(o.stderr, '', `${label}: nothing on stderr`);
  t.equal(doc.exitStatus, o.code, `${label}: exitStatus is the exit status`);
  if (expectStatus !== undefined) t.equal(o.code, expectStatus, `${label}: exit status as rpcinfo's`);
  return doc;
}

// ---- the JSON schema ------------------------------------------------------------------------------

type Schema = Record<string, unknown>;
let schemaCache: Schema | undefined;

/** The schema in docs/info-json.md (its ```json block). */
export function infoSchema(): Schema {
  if (schemaCache) return schemaCache;
  const md = readFileSync(join(ROOT, 'docs/info-json.md'), 'utf8');
  const m = /^```json\n([\s\S]*?)^```$/m.exec(md);
  if (!m) throw new Error('docs/info-json.md has no ```json block');
  return (schemaCache = JSON.parse(m[1]!) as Schema);
}

/** The problems of `value` against `schema` (type, const, enum, required, properties, additionalProperties, items, $ref, oneOf, minimum, maximum, pattern). */
export function validate(schema: Schema, value: unknown, root: Schema = schema, path = '$'): string[] {
  const errs: string[] = [];
  if (typeof schema.$ref === 'string') {
    const ref = schema.$ref.replace(/^#\//, '').split('/');
    let s: unknown = root;
    for (const k of ref) s = (s as Record<string, unknown>)[k];
    if (!s) return [`${path}: unresolved ${schema.$ref}`];
    return validate(s as Schema, value, root, path);
  }
  if (Array.isArray(schema.oneOf)) {
    const ok = (schema.oneOf as Schema[]).filter((s) => validate(s, value, root, path).length === 0).length;
    if (ok !== 1) errs.push(`${path}: matches ${ok} of oneOf's ${schema.oneOf.length} schemas`);
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) errs.push(`${path}: not ${JSON.stringify(schema.const)}`);
  if (Array.isArray(schema.enum) && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) errs.push(`${path}: ${JSON.stringify(value)} not in enum`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value === 'number' && Number.isInteger(value) ? 'integer' : typeof value;
    if (!types.some((ty) => ty === actual || (ty === 'number' && actual === 'integer'))) return [...errs, `${path}: ${actual}, expected ${types.join('|')}`];
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) errs.push(`${path}: ${value} < ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) errs.push(`${path}: ${value} > ${schema.maximum}`);
  }
  if (typeof value === 'string' && typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) errs.push(`${path}: ${JSON.stringify(value)} !~ ${schema.pattern}`);
  if (Array.isArray(value) && schema.items) value.forEach((v, i) => errs.push(...validate(schema.items as Schema, v, root, `${path}[${i}]`)));
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    for (const k of (schema.required ?? []) as string[]) if (!(k in o)) errs.push(`${path}: missing ${k}`);
    for (const [k, v] of Object.entries(o)) {
      if (props[k]) errs.push(...validate(props[k]!, v, root, `${path}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${path}: unexpected member ${k}`);
    }
  }
  return errs;
}

// ---- the lab's registrations ----------------------------------------------------------------------

/** svc_create_server's program (fixtures/c/svc_create_server.c): versions 1 and 2 on udp, tcp, udp6, tcp6. */
export const SVC_PROG = 0x20406081;
/** Registrations made by hand: odd versions, a unix-socket entry, a portmap v2 one. */
export const EXTRA_PROG = 0x20406082;
export const PMAP_PROG = 0x20406083;

/** Compiles fixtures/c/svc_create_server.c into the lab build directory (host half). */
export function buildSvcCreateServer(build: CBuild): string {
  copyFileSync(join(ROOT, 'fixtures/c/svc_create_server.c'), join(build.dir, 'svc_create_server.c'));
  execFileSync('cc', ['-O1', '-Wall', '-I/usr/include/tirpc', '-o', 'svc_create_server', 'svc_create_server.c', '-ltirpc'], { cwd: build.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return join(build.dir, 'svc_create_server');
}

/** portmap v2 SET over UDP from an ordinary port (owner `unknown`, as an old portmap client registers). */
export async function pmapSet(prog: number, vers: number, prot: number, port: number): Promise<boolean> {
  const c = new RpcClient({ transport: 'udp', host: '127.0.0.1', port: 111 }, { timeoutMs: 5000, retransmitMs: 500 });
  try {
    return await c.callRaw(100000, 2, 1, (w) => {
      w.writeUint(prog);
      w.writeUint(vers);
      w.writeUint(prot);
      w.writeUint(port);
    }, (r) => r.readBool());
  } finally {
    c.destroy();
  }
}

/**
 * The registrations besides the C servers': well-known programs (names in the service column), a
 * version of 2^32-1 (rpcinfo -s prints it as -1), a `local` entry whose socket does not exist, a
 * portmap v2 entry with owner `unknown`.
 */
export async function extraRegistrations(t: Test): Promise<void> {
  const sets: [number, number, string, string][] = [
    [100003, 3, 'tcp', '0.0.0.0.8.1'],
    [100005, 1, 'udp', '0.0.0.0.3.0'],
    [EXTRA_PROG, 0xffffffff, 'udp', '127.0.0.1.4.210'],
    [EXTRA_PROG, 7, 'local', '/run/oncrpc-info-test.sock'],
  ];
  for (const [p, v, n, a] of sets) t.ok(await rpcbindSet(p, v, n, a), `SET ${p} ${v} ${n} ${a}`);
  t.ok(await pmapSet(PMAP_PROG, 1, 17, 4242), 'portmap SET over UDP');
}

/** Waits until `rpcinfo -p` works (the lab's rpcbind, real or oncrpc's, is serving). */
export async function waitForRpcbind(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await run('rpcinfo', ['-p'], 5000);
    if (r.code === 0) return;
    if (Date.now() > deadline) throw new Error(`rpcbind did not come up: ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Waits until `prog` has `n` registrations in the plain dump. */
export async function waitForRegistrations(prog: number, n: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await run('rpcinfo', []);
    const count = r.stdout.split('\n').filter((l) => l.trim().split(/\s+/)[0] === String(prog)).length;
    if (count >= n) return;
    if (Date.now() > deadline) throw new Error(`${prog}: ${count} of ${n} registrations`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const A = String(ALLTYPES_PROG);
const S = String(SVC_PROG);
const E = String(EXTRA_PROG);
const PM = String(PMAP_PROG);

const words = (lines: string): string[][] => lines.trim().split('\n').map((l) => (l.trim() === '' ? [] : l.trim().split(/\s+/)));

/** Forms against an rpcbind holding the registrations (the C servers running). */
export const FORMS_UP: string[][] = words(`
-p
-s

-p 127.0.0.1
-p ::1
-p localhost
127.0.0.1
::1
-s 127.0.0.1
-s ::1
-T tcp 127.0.0.1
-T udp 127.0.0.1
-T tcp6 ::1
-T udp6 ::1
-T local
-T tcp localhost
-T tcp6 127.0.0.1
-T udp ::1
-T local 127.0.0.1
-T bogus 127.0.0.1
-T bogus
-t 127.0.0.1 ${A}
-u 127.0.0.1 ${A}
-t 127.0.0.1 ${A} 1
-u 127.0.0.1 ${A} 2
-t 127.0.0.1 ${S}
-u 127.0.0.1 ${S}
-t ::1 ${S} 2
-u ::1 ${S}
-t localhost ${S} 3
-t 127.0.0.1 100000
-u 127.0.0.1 portmapper
-t 127.0.0.1 rpcbind 4
-t 127.0.0.1 nfs
-u 127.0.0.1 mountd
-u 127.0.0.1 mountd 1
-t 127.0.0.1 ypserv
-u 127.0.0.1 ${PM}
-u 127.0.0.1 ${E} 4294967295
-t 127.0.0.1 ${E}
-t nosuchhost.invalid 100000 2
-T tcp 127.0.0.1 ${S}
-T udp 127.0.0.1 ${S} 1
-T tcp6 ::1 ${S}
-T udp6 ::1 ${S} 2
-T udp6 127.0.0.1 ${S}
-T tcp6 localhost ${S} 1
-T local 127.0.0.1 100000
-T local x 100000 4
-T local 127.0.0.1 ${S}
-T local 127.0.0.1 ${E} 7
-T rawip 127.0.0.1 100000
-T tcp 127.0.0.1 nfs 3
-T tcp nosuchhost.invalid 100000
-a 127.0.0.1.0.111 -T udp 100000
-a 127.0.0.1.0.111 -T tcp 100000 2
-a ::1.0.111 -T tcp6 100000 5
-a ::1.0.111 -T udp6 portmapper
-a 127.0.0.1.0.111 -T tcp6 100000 2
-a bogus -T tcp 100000 2
-a /run/rpcbind.sock -T local 100000
-a /run/rpcbind.sock -T local 100000 3
-a /run/nonexistent.sock -T local 100000 2
-a 127.0.0.1.0.9 -T tcp 100000 2
-a 127.0.0.1.0.9 -T udp 100000 2
-a 127.0.0.1.0.111 -T tcp ${S}
-a 127.0.0.1.0.111 -T rawip 100000
-a 127.0.0.1.0.111 -T bogus 100000
-l 127.0.0.1 100000 2
-l 127.0.0.1 ${S} 1
-l ::1 ${S} 2
-l localhost 100000 4
-l 127.0.0.1 ${E} 7
-l 127.0.0.1 ${E} 4294967295
-l 127.0.0.1 ${A} 3
-l 127.0.0.1 nfs 3
-l 127.0.0.1 99 1
-T tcp6 -l ::1 ${S} 2
-T udp -l 127.0.0.1 ${S} 2
-T local -l 127.0.0.1 100000 4
-l nosuchhost.invalid 100000 2
-n 9 -t 127.0.0.1 100000 2
-n 9 -u 127.0.0.1 100000
-n 70000 -u 127.0.0.1 ${S} 2
-n -3 -T tcp 127.0.0.1 100000 2
-n 0 -p 127.0.0.1
-n 65536 -p
127.0.0.1 -p
-Ttcp 127.0.0.1 100000 2
-pT tcp
-b 100000 2
-p nosuchhost.invalid
-s nosuchhost.invalid
nosuchhost.invalid
-
-l 127.0.0.1 nosuch x
`);

/** The forms of FORMS_UP also run end to end (bin/oncrpc.js), one of each kind. */
export const CLI_FORMS_UP: string[][] = words(`

-p
-p 127.0.0.1
-s ::1
-T udp6 ::1
-t 127.0.0.1 ${S}
-u 127.0.0.1 ${A} 2
-T tcp6 ::1 ${S}
-T local 127.0.0.1 100000
-a 127.0.0.1.0.111 -T udp 100000
-l 127.0.0.1 ${S} 1
-t 127.0.0.1 nfs
-b 100000 2
nosuchhost.invalid
`);

/** Forms whose command line is wrong, or whose program, version, netid or port is: the same wherever they run. */
export const FORMS_ARGS: string[][] = words(`
-t 127.0.0.1 nosuch
-t 127.0.0.1 12x
-t 127.0.0.1 12-
-t 127.0.0.1 0x10
-t 127.0.0.1 -5
-t 127.0.0.1 100000 x
-t 127.0.0.1 100000 -1
-t 127.0.0.1 100000 0x2
-t 127.0.0.1
-t 127.0.0.1 1 2 3
-u
127.0.0.1 ${S}
127.0.0.1 ${S} 2
-T tcp 127.0.0.1 100000 2 3
-T bogus 127.0.0.1 nosuch
-T bogus 127.0.0.1 100000
-a 127.0.0.1.0.111 100000
-a 127.0.0.1.0.111 -T tcp
-a 127.0.0.1.0.111 -T tcp 1 2 3
-T bogus -a 1.2 1
-a
-l 127.0.0.1 100000
-b 100000
-b nosuch 2
-b 1 x
-b x 1
-d 100000
-d nosuch x
-d 100000 x
-d x 100000
-d -T bogus 1 1
-n 111 -p
-n abc -t 127.0.0.1 100000 2
-n '' -p
-x -n abc
-x
-T
-ppp
-pt 127.0.0.1
-p 127.0.0.1 x
-s 127.0.0.1 extra
-tu 127.0.0.1 1
-t nosuchhost.invalid nosuch
`).map((a) => a.map((w) => (w === "''" ? '' : w)));

/** Forms against a host with no rpcbind at all (no unix socket, nothing on port 111). */
export const FORMS_DOWN: string[][] = words(`

-p
-s
-m
-p 127.0.0.1
127.0.0.1
-m 127.0.0.1
-s 127.0.0.1
-l 127.0.0.1 100000 2
-l localhost 1 1
-t 127.0.0.1 100000
-u 127.0.0.1 100000 2
-t ::1 100000 2
-p ::1
-T tcp 127.0.0.1 100000
-T udp 127.0.0.1 100000 2
-T tcp6 ::1 100000
-T local 127.0.0.1 100000 2
-T tcp 127.0.0.1
-T udp 127.0.0.1
-T tcp6 ::1
-T local
-a 127.0.0.1.0.111 -T udp 100000 2
-a 127.0.0.1.0.111 -T tcp 100000
-a /run/rpcbind.sock -T local 100000
-d 100000 2
-d -T tcp 100000 2
-b 100000 2
-t nosuchhost.invalid 100000 2
nosuchhost.invalid
`);

/** With the rpcgen C server killed: its registrations stay, nothing answers at their addresses. */
export const FORMS_DEAD: string[][] = words(`
-t 127.0.0.1 ${A}
-u 127.0.0.1 ${A}
-u 127.0.0.1 ${A} 1
-T tcp 127.0.0.1 ${A} 1
-T udp 127.0.0.1 ${A}
-a 127.0.0.1.0.9 -T udp ${A} 1
-l 127.0.0.1 ${A} 1
-p
`);

// ---- the matrix -----------------------------------------------------------------------------------

/** A plain dump's rows as [prog, vers, netid, addr, service, owner]. */
function dumpRows(stdout: string): string[][] {
  return stdout.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
}

/** SETs (over the unix socket) the rows of `before` that are not in `after`, so a deletion can be made again. */
async function restore(before: string, after: string): Promise<void> {
  const gone = dumpRows(before).filter((r) => !dumpRows(after).some((a) => a.join(' ') === r.join(' ')));
  for (const [prog, vers, netid, addr] of gone) await rpcbindSet(Number(prog), Number(vers), netid!, addr!);
}

/**
 * -b: the replies as a set (rpcinfo's manual: pipe it through sort and uniq). How many copies of each
 * come back is a race in rpcbind (it drops a forwarded call whose xid is still pending), not a
 * property of either client.
 */
const uniqLines = (s: string): string => [...new Set(s.split('\n').filter(Boolean))].sort().join('\n');

export interface MatrixOptions {
  /** Kills the rpcgen C server (its registrations stay). */
  stopCServer: () => Promise<unknown>;
  /** Also run --json for every form and validate it. */
  json: boolean;
}

/**
 * Every form against the lab's rpcbind (real or oncrpc's), the C servers registered: the registrations
 * of extraRegistrations and one entry deleted by rpcinfo are added first.
 */
export async function runInfoMatrix(t: Test, opts: MatrixOptions): Promise<void> {
  await extraRegistrations(t);
  t.equal((await rpcinfo(['-d', '-T', 'udp6', S, '2'])).code, 0, `rpcinfo -d -T udp6 ${S} 2`);
  // -T unix: libtirpc warns about the netid's name and sleeps 10 s; once, beside the rest.
  const UNIX = ['-T', 'unix', '127.0.0.1', '100000', '3'];
  const unix = Promise.all([rpcinfo(UNIX), oncrpcInfo(UNIX)]);

  await t.test('every form, the registrations in place', async (t) => {
    for (const f of FORMS_UP) {
      if (!opts.json) {
        await compare(t, f);
        continue;
      }
      const [{ r }, doc] = await Promise.all([compare(t, f), checkJson(t, f)]);
      if (doc) t.equal(doc.exitStatus, r.code, `--json ${f.join(' ')}: rpcinfo's exit status`);
    }
    for (const f of [['-m'], ['-m', '127.0.0.1'], ['-m', '::1', 'extra']]) {
      await compare(t, f, { sequential: true, normalise: normaliseStats });
      if (opts.json) await checkJson(t, f, 0);
    }
    // End to end, through bin/oncrpc.js: one of each kind.
    for (const f of CLI_FORMS_UP) await compare(t, f, { cli: true });
    await compare(t, ['-m'], { cli: true, sequential: true, normalise: normaliseStats });
    await checkJson(t, ['-s'], 0, true);
    const [ur, uo] = await unix;
    t.equal(uo.stderr, ur.stderr, `[${UNIX.join(' ')}]: the unix-netid warning`);
    t.equal(uo.stdout, ur.stdout);
    t.equal(uo.code, ur.code);
  });

  if (opts.json) {
    await t.test('--json: what the text says, as data', async (t) => {
      const p = await checkJson(t, ['-p'], 0);
      const text = await rpcinfo(['-p']);
      t.equal((p?.registrations as unknown[]).length, text.stdout.trim().split('\n').length - 1, '-p: one registration per row');
      const d = (await checkJson(t, [], 0))?.registrations as { program: number; netid: string; address: string; port: number | null; owner: string; name: string | null }[];
      t.ok(d.some((r) => r.program === 100000 && r.name === 'portmapper' && r.netid === 'local' && r.address === '/run/rpcbind.sock' && r.port === null && r.owner === 'superuser'), 'dump: local entry');
      t.ok(d.some((r) => r.program === PMAP_PROG && r.port === 4242 && r.owner === 'unknown'), 'dump: portmap entry');
      const s = (await checkJson(t, ['-s'], 0))?.programs as { program: number; versions: number[]; netids: string[] }[];
      t.same(s.find((x) => x.program === 100000)?.versions, [2, 3, 4], '-s: versions ascending');
      const ping = await checkJson(t, ['-t', '127.0.0.1', S], 0);
      t.same(ping?.versionRange, { low: 1, high: 2 }, 'ping: the range from PROG_MISMATCH');
      t.same((ping?.probes as { version: number; ok: boolean }[]).map((x) => [x.version, x.ok]), [[1, true], [2, true]]);
      const l = await checkJson(t, ['-l', '127.0.0.1', '100000', '2'], 0);
      t.ok((l?.entries as { semantics: string }[]).some((e) => e.semantics === 'cots_ord'), '-l: entries');
      const m = await checkJson(t, ['-m'], 0);
      t.same((m?.versions as { version: number }[]).map((v) => v.version), [2, 3, 4], '-m: three versions');
    });
  }

  await t.test('-d: the same message and the same registrations left', async (t) => {
    for (const args of [['-d', E, '7'], ['-d', '-T', 'udp', S, '1'], ['-d', S, '2'], ['-d', '541089999', '1'], ['-d', '-T', 'tcp6', S, '9'], ['-d', 'nfs', '3']]) {
      const before = (await rpcinfo([])).stdout;
      const r = await rpcinfo(args);
      const afterR = (await rpcinfo([])).stdout;
      await restore(before, afterR);
      const o = args.includes('nfs') ? await oncrpcInfo(args) : await infoInProcess(args);
      const afterO = (await rpcinfo([])).stdout;
      const label = `[${args.join(' ')}]`;
      t.equal(o.stdout, r.stdout, `${label}: stdout`);
      t.equal(o.stderr, r.stderr, `${label}: stderr`);
      t.equal(o.code, r.code, `${label}: exit status ${r.code}`);
      t.equal(afterO, afterR, `${label}: the same registrations left`);
      await restore(before, afterO);
    }
    if (opts.json) {
      const doc = await checkJson(t, ['-d', String(PMAP_PROG), '1'], 0);
      t.equal(doc?.deleted, true);
    }
  });

  await t.test('a registered server that does not answer', async (t) => {
    await opts.stopCServer();
    for (const f of FORMS_DEAD) await compare(t, f);
    await compare(t, FORMS_DEAD[0]!, { cli: true });
  });

  await t.test('-b: every reply, on a veth pair', async (t) => {
    const sh = async (cmd: string): Promise<void> => {
      const r = await run('sh', ['-c', cmd]);
      if (r.code !== 0) throw new Error(`${cmd}: ${r.stderr}`);
    };
    // IPv4 with broadcast addresses; no IPv6 (its multicast sends would race duplicate address detection).
    await sh('ip link add v0 type veth peer name v1 && for i in v0 v1; do sysctl -qw net.ipv6.conf.$i.disable_ipv6=1; done');
    await sh('ip addr add 10.99.0.1/24 brd + dev v0 && ip addr add 10.99.0.2/24 brd + dev v1 && ip link set v0 up && ip link set v1 up');
    const t0 = Date.now();
    const [a, b, doc, quick] = await Promise.all([
      compare(t, ['-b', '100000', '2'], { normalise: uniqLines, cli: true }),
      compare(t, ['-b', S, '1'], { normalise: uniqLines }),
      checkJson(t, ['-b', '100000', '2'], 0),
      (async () => {
        const q0 = Date.now();
        const q = await oncrpcInfo(['--timeout', '1000', '-b', '100000', '2']);
        return { ...q, ms: Date.now() - q0 };
      })(),
    ]);
    t.comment(`broadcasts took ${Date.now() - t0} ms (libtirpc waits 4 s, sends again, waits 8 s)`);
    t.ok(a.r.stdout.trim().length > 0, `rpcinfo -b 100000 2 got replies: ${JSON.stringify(a.r.stdout)}`);
    t.ok(b.r.stdout.trim().length > 0, `rpcinfo -b ${S} 1 got replies: ${JSON.stringify(b.r.stdout)}`);
    const replies = (doc?.replies as { address: string; host: string }[] | undefined) ?? [];
    t.equal(uniqLines(replies.map((r) => `${r.address}\t${r.host}`).join('\n')), uniqLines(a.r.stdout), '--json: the same replies');
    t.equal(doc?.timedOut, true);
    t.equal(quick.code, 0, '--timeout 1000: the broadcast ends, exit 0 as for a timeout');
    t.ok(quick.ms < 8000, `--timeout 1000 -b ended after ${quick.ms} ms (without it: 12 s)`);
    t.match(quick.stdout, /^10\.99\.0\.\d+\.0\.111\t/, 'and printed the replies that came');
  });
}

/** Forms against no rpcbind at all, and one that waits libtirpc's 60 s (UDP over IPv6: no ICMP errors). */
export async function runDownMatrix(t: Test): Promise<void> {
  const SLOW = ['-T', 'udp6', '::1', '100000', '2'];
  const slow = Promise.all([rpcinfo(SLOW, 120_000), oncrpcInfo(SLOW, 120_000)]);
  for (const f of FORMS_DOWN) {
    const [{ r }, doc] = await Promise.all([compare(t, f), checkJson(t, f)]);
    if (doc) t.equal(doc.exitStatus, r.code, `--json ${f.join(' ')}: rpcinfo's exit status`);
  }
  for (const f of [[], ['-p'], ['-p', '127.0.0.1'], ['-u', '127.0.0.1', '100000', '2'], ['-T', 'local', '127.0.0.1', '100000', '2']]) await compare(t, f, { cli: true });
  const q = await oncrpcInfo(['--timeout', '500', ...SLOW]);
  t.equal(q.stderr, 'rpcinfo: RPC: Timed out\n', '--timeout 500: the rpcbind lookup over udp6 gives up');
  t.equal(q.code, 1);
  const [r, o] = await slow;
  t.equal(o.stderr, r.stderr, `[${SLOW.join(' ')}]: after libtirpc's 60 s, the same words`);
  t.equal(o.stdout, r.stdout);
  t.equal(o.code, r.code);
}
