// oncrpc rpcbind stays up and answering (a lookup within a second over TCP, UDP, tcp6 and the unix socket)
// after rpcbomb-style packets — CVE-2017-8779: every string- and opaque-carrying procedure of v2/v3/v4
// announcing lengths up to 4 GiB in small UDP datagrams and TCP records, a 2 GiB record mark, a record
// left unfinished — without its memory growing, and with 3000 idle TCP connections open
// (CVE-2021-46828: at its connection cap the longest-idle connections are closed for new ones, where
// rpcbind keeps every one). rpcbind-hardening.lab.ts does it in a lab with a raised open-file limit.
import t, { type Test } from 'tap';
import { labPrerequisites } from '../_helpers/lab.js';
import { buildRpcbindLab, runScenario } from '../_helpers/rpcbind-lab.js';
import type { HardeningResult, Lookup } from './rpcbind-hardening.lab.js';

const SCENARIO = new URL('./rpcbind-hardening.lab.ts', import.meta.url);

const ANSWERS: Record<string, string> = { tcp: '127.0.0.1.8.1', udp: '127.0.0.1.8.1', tcp6: '', unix: '/run/p.sock' };

function answered(t: Test, what: string, lookups: Lookup[]): void {
  t.same(lookups.map((l) => l.via), Object.keys(ANSWERS));
  for (const l of lookups) {
    t.same({ ok: l.ok, answer: l.answer }, { ok: true, answer: ANSWERS[l.via] }, `${what}: GETADDR over ${l.via} answered (${l.ms} ms)`);
    t.ok(l.ms < 1000, `${what}: over ${l.via} within a second`);
  }
}

if (labPrerequisites(t)) {
  const build = buildRpcbindLab();
  t.test('rpcbomb packets and 3000 idle connections leave oncrpc rpcbind answering', async (t) => {
    const r = await runScenario<HardeningResult>(build, SCENARIO, 'oncrpc', { nofile: 16384, timeoutMs: 150_000 });
    t.ok(r.alive, 'still running');
    t.ok(r.bombs > 1400, `${r.bombs} rpcbomb-style requests sent`);
    answered(t, 'after the rpcbombs', r.afterBombs);
    const grew = (r.rssKiB.afterBombs - r.rssKiB.start) / 1024;
    t.ok(grew < 48, `memory after the rpcbombs: +${grew.toFixed(1)} MiB (RSS ${(r.rssKiB.afterBombs / 1024).toFixed(1)} MiB; nothing is allocated for an announced length)`);
    t.equal(r.connections.opened, 3000, '3000 idle TCP connections opened');
    t.ok(r.connections.closedByDaemon >= 3000 - 1024, `${r.connections.closedByDaemon} of them closed by the daemon to make room (cap 1024, longest-idle first)`);
    answered(t, 'with 3000 idle connections', r.afterConnections);
    const total = (r.rssKiB.afterConnections - r.rssKiB.start) / 1024;
    t.ok(total < 128, `memory with the connections: +${total.toFixed(1)} MiB`);
    t.notMatch(r.log, /\berror\b/i, 'nothing logged as an error');
  });
}
