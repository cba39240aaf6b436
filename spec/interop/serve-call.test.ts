// `oncrpc serve` and `oncrpc call` against the real programs, in a private namespace (../shared/LAB.md):
// the server registers with the real rpcbind (unix socket, as libtirpc does) for tcp, udp, tcp6, udp6;
// real `rpcinfo -p`, plain `rpcinfo`, `rpcinfo -T tcp|udp` and `-t`/`-u` see and reach it; the rpcgen C
// client finds it through rpcbind and every one of its checks passes; SIGTERM unregisters it. Then
// `oncrpc call` calls the rpcgen C server for every procedure over TCP and UDP.
import t from 'tap';
import { join } from 'node:path';
import { buildAlltypesC, insideLab, labBuild, labPrerequisites, Proc, ROOT, run, spawnInLab, startCServer, ALLTYPES_PROG } from '../_helpers/lab.js';
import { CALL_EXIT } from '../../src/cli/call.js';

const X = join(ROOT, 'fixtures/x/alltypes.x');
const HANDLERS = join(ROOT, 'fixtures/js/alltypes-handlers.mjs');
const CLI = join(ROOT, 'bin/oncrpc.js'); // dist/, built by `npm test` before tap runs

/** `oncrpc ARGS…`, without blocking this process. */
function oncrpc(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = new Proc(process.execPath, [CLI, ...args]);
    void p.exited.then(({ code }) => resolve({ code, stdout: p.stdout, stderr: p.stderr }));
  });
}

if (!insideLab()) {
  if (labPrerequisites(t)) spawnInLab(t, import.meta.url, buildAlltypesC(), { rpcbind: true, timeout: 180_000 });
} else {
  const build = labBuild();
  const P = String(ALLTYPES_PROG);

  t.test('oncrpc serve registers with the real rpcbind; rpcinfo and the C client reach it; SIGTERM unregisters', async (t) => {
    const serve = new Proc(process.execPath, [CLI, 'serve', '--x', X, '--handlers', HANDLERS]);
    t.teardown(() => serve.stop());
    const ready = await serve.waitFor(/serving ALLTYPES_PROG\(541089920\) v1 on tcp \[::\]:(\d+), udp \[::\]:(\d+); registered with rpcbind\n/, 20_000);
    const [tcp, udp] = [Number(ready[1]), Number(ready[2])];

    const p = await run('rpcinfo', ['-p']);
    t.match(p.stdout, new RegExp(` ${P}\\s+1\\s+tcp\\s+${tcp}\\n`), 'rpcinfo -p lists tcp');
    t.match(p.stdout, new RegExp(` ${P}\\s+1\\s+udp\\s+${udp}\\n`), 'rpcinfo -p lists udp');
    const plain = await run('rpcinfo', []);
    for (const [netid, port] of [['tcp', tcp], ['udp', udp]] as const) {
      t.match(plain.stdout, new RegExp(` ${P}\\s+1\\s+${netid}\\s+0\\.0\\.0\\.0\\.${port >> 8}\\.${port & 255}\\s+-\\s+superuser\\n`), `rpcinfo: ${netid} wildcard, owner superuser (unix socket)`);
      t.match(plain.stdout, new RegExp(` ${P}\\s+1\\s+${netid}6\\s+::\\.${port >> 8}\\.${port & 255}\\s+-\\s+superuser\\n`), `rpcinfo: ${netid}6`);
    }
    for (const args of [['-T', 'tcp', '127.0.0.1', P, '1'], ['-T', 'udp', '127.0.0.1', P, '1'], ['-t', '127.0.0.1', P], ['-u', '127.0.0.1', P, '1'], ['-T', 'tcp6', '::1', P, '1'], ['-T', 'udp6', '::1', P, '1']]) {
      const r = await run('rpcinfo', args);
      t.equal(r.stdout, `program ${P} version 1 ready and waiting\n`, `rpcinfo ${args.join(' ')}`);
      t.equal(r.code, 0);
    }
    const v2 = await run('rpcinfo', ['-t', '127.0.0.1', P, '2']);
    t.match(v2.stderr + v2.stdout, /rpcinfo: RPC: Program\/version mismatch; low version = 1, high version = 1/, 'PROG_MISMATCH as rpcinfo reports it');
    for (const proto of ['tcp', 'udp']) {
      const c = await run(build.client, ['127.0.0.1', proto, 'all']);
      t.equal(c.code, 0, `the C client over ${proto}: every call and check passes against oncrpc serve${c.code ? `\n${c.stdout}${c.stderr}` : ''}`);
      t.match(c.stdout, /AT_ECHO/);
    }
    await serve.stop('SIGTERM');
    t.equal(serve.child.exitCode, 0, 'exits 0 on SIGTERM');
    const after = await run('rpcinfo', ['-p']);
    t.notMatch(after.stdout, new RegExp(` ${P} `), 'unregistered');
  });

  t.test('oncrpc call: every procedure of the rpcgen C server, over TCP and UDP, found through rpcbind', async (t) => {
    const c = await startCServer(build, t);
    void c;
    const cases: [string, string | undefined, unknown][] = [
      ['AT_NULL', undefined, null],
      ['AT_GETCHOICE', '4', { kind: 4, where: { x: 4, y: -4 } }],
      ['AT_GETCHOICE', '42', { kind: 42, text: 'kind 42' }],
      ['AT_MKLIST', '2', { value: 1, tag: 'n1', next: { value: 2, tag: 'n2', next: null } }],
      ['AT_ECHONAME', '"Grüße, XDR!"', 'Grüße, XDR!'],
      ['AT_GETCOLOR', '"BLUE"', { c: 'BLUE', ratio: 0.75 }],
      ['AT_NEGATE', 'true', false],
      ['AT_SUM', '[1,2,3,-10]', '-4'],
      ['AT_BIGARG', '"00ff10"', { len: 3, sum: 0x10f }],
      ['AT_WHOAMI', undefined, { flavor: 0, stamp_seen: 0, uid: 0, gid: 0, machine: '', gids: [] }],
    ];
    for (const transport of ['--tcp', '--udp']) {
      for (const [proc, args, want] of cases) {
        const r = await oncrpc(['call', transport, '127.0.0.1', 'ALLTYPES_PROG', 'ALLTYPES_VERS', proc, '--x', X, ...(args ? ['--args', args] : [])]);
        t.same({ code: r.code, out: r.stdout ? JSON.parse(r.stdout) : r.stderr }, { code: 0, out: want }, `${transport} ${proc}`);
      }
      const who = await oncrpc(['call', transport, '127.0.0.1', P, '1', '5', '--x', X, '--auth-sys', '1000:100:4,5']);
      t.same(JSON.parse(who.stdout), { flavor: 1, stamp_seen: 1, uid: 1000, gid: 100, machine: 'oncrpc-fixtures', gids: [4, 5] }, `${transport} AT_WHOAMI with AUTH_SYS, by numbers`);
    }
    const ports = await run('rpcinfo', ['-p']);
    const tcpPort = /\s1\s+tcp\s+(\d+)\s*\n/.exec(ports.stdout.split('\n').filter((l) => l.includes(P)).join('\n') + '\n')?.[1];
    const direct = await oncrpc(['call', '--port', tcpPort!, '127.0.0.1', P, '1', 'AT_NEGATE', '--x', X, '--args', 'false']);
    t.same([direct.code, direct.stdout], [0, 'true\n'], '--port skips rpcbind');
    // Failures: one line on stderr, the documented exit status.
    const notreg = await oncrpc(['call', '127.0.0.1', 'ALLTYPES_PROG', '1', 'AT_NULL', '--x', join(ROOT, 'fixtures/x/rpcsvc/rstat.x'), '--x', X]);
    t.equal(notreg.code, 0, 'several .x files');
    const none = await oncrpc(['call', '127.0.0.1', '100001', '2', '0', '--x', join(ROOT, 'fixtures/x/rpcsvc/rstat.x')]);
    t.same([none.code, none.stderr], [CALL_EXIT.notRegistered, 'oncrpc call: RPC: Program not registered (program 100001 version 2 is not registered for tcp)\n'], 'not registered');
    const refused = await oncrpc(['call', '--port', '9', '127.0.0.1', P, '1', '0', '--x', X]);
    t.same([refused.code, refused.stderr], [CALL_EXIT.unreachable, 'oncrpc call: RPC: Remote system error (127.0.0.1:9: Connection refused)\n'], 'connection refused');
    const timeout = await oncrpc(['call', '--udp', '--port', '9', '--timeout', '300', '127.0.0.1', P, '1', '0', '--x', X]);
    t.same([timeout.code, timeout.stderr], [CALL_EXIT.timeout, 'oncrpc call: RPC: Timed out (no reply within 300 ms)\n'], 'timeout over UDP');
    const garbage = await oncrpc(['call', '127.0.0.1', P, '1', 'AT_ECHONAME', '--x', X, '--args', '5']);
    t.equal(garbage.code, CALL_EXIT.usage, 'arguments that do not fit the type');
    t.match(garbage.stderr, /^oncrpc call: .*not a string/);
  });

  t.test('without the unix socket, registration falls back to TCP [::1]:111 (rpcbind v4) from a reserved port', async (t) => {
    const serve = new Proc(process.execPath, [CLI, 'serve', '--x', X, '--handlers', HANDLERS, '--rpcbind-socket', '/run/no-such.sock']);
    t.teardown(() => serve.stop());
    const ready = await serve.waitFor(/on tcp \[::\]:(\d+), udp \[::\]:(\d+); registered with rpcbind\n/, 20_000);
    const tcp = Number(ready[1]);
    const dump = await run('rpcinfo', ['127.0.0.1']);
    t.match(dump.stdout, new RegExp(` ${P}\\s+1\\s+tcp\\s+0\\.0\\.0\\.0\\.${tcp >> 8}\\.${tcp & 255}\\s+-\\s+superuser\\n`), 'registered over TCP from a reserved port: owner superuser');
    const r = await run('rpcinfo', ['-T', 'tcp', '127.0.0.1', P, '1']);
    t.equal(r.stdout, `program ${P} version 1 ready and waiting\n`);
    await serve.stop('SIGTERM');
    t.notMatch((await run('rpcinfo', ['127.0.0.1'])).stdout, new RegExp(` ${P} `), 'unregistered over TCP too');
  });
}
