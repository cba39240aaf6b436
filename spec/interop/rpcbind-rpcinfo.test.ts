// `oncrpc rpcbind` against the real rpcbind 1.2.6, seen through real `rpcinfo` (../shared/LAB.md): the same
// scenario (rpcbind-rpcinfo.lab.ts) runs in two fresh labs, one with `/sbin/rpcbind -w -f`, one with
// `node bin/oncrpc.js rpcbind -f -w`; the rpcgen classic C server and a svc_create C server register with
// the daemon, `rpcinfo -d` deletes entries, and rpcinfo runs in every mode (-p with and without host,
// plain with and without host, -s, -l, -m, -T tcp|udp|tcp6|udp6, -t/-u with and without version, -d,
// errors). stdout, stderr and exit status must be identical once the C servers' ephemeral ports are
// named. The rpcgen C client must pass every check through oncrpc rpcbind.
//
// Then the registration fallback: without /run/rpcbind.sock libtirpc servers register over TCP
// [::1]:111 (rpcbind v4, from a reserved port: owner superuser); rpcinfo with a host and the C client
// must see the same through both daemons (socket file removed from both; and oncrpc --socket none, which
// differs only in not listing rpcbind's own `local` entries).
import t, { type Test } from 'tap';
import { labPrerequisites } from '../_helpers/lab.js';
import { buildRpcbindLab, runScenario } from '../_helpers/rpcbind-lab.js';
import type { RpcinfoResult } from './rpcbind-rpcinfo.lab.js';

const SCENARIO = new URL('./rpcbind-rpcinfo.lab.ts', import.meta.url);

/** `-m` output with every counter replaced (its structure stays). */
function countersMasked(s: string): string {
  return s.replace(/\d+/g, 'N');
}

/** rpcinfo output without rpcbind's `local` entries (lines, and the netid in `-s` lists; spacing not compared). */
function withoutLocal(s: string): string {
  return s.replace(/^.* local .*\n/gm, '').replace(/\blocal,/g, '').replace(/ {2,}/g, ' ');
}

function compare(t: Test, real: RpcinfoResult, oncrpc: RpcinfoResult, filter: (s: string) => string = (s) => s): void {
  t.equal(oncrpc.commands.length, real.commands.length, 'the same commands ran');
  const exactCounters = real.polls === oncrpc.polls;
  for (let i = 0; i < real.commands.length; i++) {
    const r = real.commands[i]!;
    const o = oncrpc.commands[i]!;
    t.equal(o.cmd, r.cmd);
    const m = (s: string): string => (r.cmd.startsWith('rpcinfo -m') && !exactCounters ? countersMasked(filter(s)) : filter(s));
    t.same({ stdout: m(o.stdout), stderr: m(o.stderr), code: o.code }, { stdout: m(r.stdout), stderr: m(r.stderr), code: r.code }, r.cmd);
  }
  t.same(real.client, { tcp: 0, udp: 0, output: '' }, 'the rpcgen C client passes every check through the real rpcbind (tcp, udp)');
  t.same(oncrpc.client, { tcp: 0, udp: 0, output: '' }, 'the rpcgen C client passes every check through oncrpc rpcbind (tcp, udp)');
}

if (labPrerequisites(t, ['setpriv'])) {
  const build = buildRpcbindLab();

  t.test('registrations over the unix socket: rpcinfo in every mode prints the same', async (t) => {
    const [real, oncrpc] = await Promise.all([runScenario<RpcinfoResult>(build, SCENARIO, 'real', { timeoutMs: 150_000 }), runScenario<RpcinfoResult>(build, SCENARIO, 'oncrpc', { timeoutMs: 150_000 })]);
    // What the scenario saw of the real rpcbind, so that "the same" means something.
    const plain = real.commands.find((c) => c.cmd === 'rpcinfo ')!;
    t.match(plain.stdout, / 541089920 1 tcp 0\.0\.0\.0\.<541089920-tcp> - superuser\n/, 'the classic server is registered (wildcard IPv4 address, owner superuser: SO_PEERCRED uid 0)');
    t.match(plain.stdout, / 541089921 2 tcp6 ::\.<541089921-tcp6> - superuser\n/, 'the svc_create server is registered (tcp6…) as superuser');
    t.match(real.commands.find((c) => c.cmd === 'rpcinfo -d 541089921 1 (uid 65534)')!, { code: 1 }, 'a uid cannot delete root\'s entries');
    compare(t, real, oncrpc);
  });

  t.test('without the unix socket: servers register over TCP [::1]:111, rpcinfo HOST prints the same', async (t) => {
    const [real, oncrpc, none] = await Promise.all([
      runScenario<RpcinfoResult>(build, SCENARIO, 'real', { args: ['removed'], timeoutMs: 150_000 }),
      runScenario<RpcinfoResult>(build, SCENARIO, 'oncrpc', { args: ['removed'], timeoutMs: 150_000 }),
      runScenario<RpcinfoResult>(build, SCENARIO, 'oncrpc', { args: ['none'], timeoutMs: 150_000 }),
    ]);
    const dump = real.commands.find((c) => c.cmd === 'rpcinfo 127.0.0.1')!;
    t.match(dump.stdout, / 541089921 1 udp6 ::\.<541089921-udp6> - superuser\n/, 'registered over TCP from a reserved port: superuser');
    t.test('socket file removed from both', async (t) => compare(t, real, oncrpc));
    // --socket none: no unix socket at all, so no `local` entries of rpcbind's own (and -p without a host fails the same way).
    t.test('oncrpc --socket none', async (t) => compare(t, real, none, withoutLocal));
  });
}
