// Every rpcbind rule of ../shared/LAB.md ("rpcbind semantics", "rpcbind details"), as the same bytes sent
// to the real rpcbind 1.2.6 and to `oncrpc rpcbind`, each in a fresh lab (rpcbind-semantics.lab.ts sends
// them, over the transport, from the address, port and uid each rule is about): the replies must be byte
// for byte the same — or the same silence, or the same closed connection. The rules themselves are also
// checked on rpcbind's answers (a step named "…: FALSE" must be answered FALSE), so that "the same" means
// the documented behaviour. A few steps are intended differences, each checked on both sides:
// multi-fragment records (rpcbind drops the connection, oncrpc accepts them, as RFC 5531 allows), the
// stale UDP receive buffer libtirpc reads truncated arguments from (oncrpc never reads bytes that were not
// sent), and UDP replies larger than the request to callers off this host (oncrpc's amplification limit).
import t from 'tap';
import { labPrerequisites } from '../_helpers/lab.js';
import { buildRpcbindLab, decodeDump, decodeStat, describeExchange, readXdrString, results, runScenario } from '../_helpers/rpcbind-lab.js';
import { P, Q, R, S, U, type SemanticsResult, type StepResult } from './rpcbind-semantics.lab.js';

const SCENARIO = new URL('./rpcbind-semantics.lab.ts', import.meta.url);

/** What a step's name promises after its last ': ', as describeExchange writes it. */
const OUTCOMES: Record<string, RegExp> = {
  TRUE: /^SUCCESS 00000001$/,
  FALSE: /^SUCCESS 00000000$/,
  TOOWEAK: /^DENIED AUTH_TOOWEAK$/,
  GARBAGE_ARGS: /^GARBAGE_ARGS$/,
  REJECTEDCRED: /^DENIED AUTH_REJECTEDCRED$/,
  BADCRED: /^DENIED AUTH_BADCRED$/,
  FAILED: /^DENIED AUTH_FAILED$/,
  closed: /^closed$/,
  silence: /^silence$/,
  'no reply': /^silence$/,
  'PROG_MISMATCH 2-4': /^PROG_MISMATCH 2-4$/,
  PROG_UNAVAIL: /^PROG_UNAVAIL$/,
  PROC_UNAVAIL: /^PROC_UNAVAIL$/,
  SYSTEM_ERR: /^SYSTEM_ERR$/,
  'SUCCESS port 0': /^SUCCESS 00000000$/,
  'exact, ""': /^SUCCESS 00000000$/,
  '""': /^SUCCESS 00000000$/,
};

/** Lookups and the address rpcbind answers (wildcards rewritten, the netid of the transport, version fallback). */
const ADDRESSES: Record<string, string> = {};
for (const v of ['v3', 'v4']) {
  Object.assign(ADDRESSES, {
    [`${v} GETADDR P v1 over UDP (r_netid tcp ignored)`]: '127.0.0.1.8.1',
    [`${v} GETADDR P v1 over TCP (r_netid udp ignored)`]: '127.0.0.1.8.2',
    [`${v} GETADDR P v1 over udp6`]: '::1.8.3',
    [`${v} GETADDR P v1 over tcp6`]: '::1.8.4',
    [`${v} GETADDR P v1 over unix (the local entry)`]: '/run/p1.sock',
    [`${v} GETADDR R v1 over unix (no local entry)`]: '',
    [`${v} GETADDR rpcbind v4 over unix`]: '/run/rpcbind.sock',
    [`${v} GETADDR P v7 over TCP: the last tcp entry of P in list order`]: '127.0.0.1.8.6',
    [`${v} GETADDR P v7 over UDP`]: '127.0.0.1.8.7',
    [`${v} GETADDR P v3 over TCP (exact)`]: '127.0.0.1.8.5',
    [`${v} GETADDR with an IPv6 hint over UDP`]: '0.0.0.0.8.1',
    [`${v} GETADDR S v1 over TCP (IPv6 only)`]: '',
  });
}
Object.assign(ADDRESSES, {
  'v4 GETVERSADDR P v3 over TCP': '127.0.0.1.8.5',
  "v3 GETADDR P v1 from 198.18.0.1: its network's address": '198.18.0.1.8.1',
  'v4 GETADDR P v1 from 2001:db8::1 over tcp6': '2001:db8::1.8.4',
  'v3 GETADDR T v4 (port parts 300.1)': '127.0.0.1.44.1',
});
const PORTS: Record<string, number> = {
  'v2 GETPORT P v7 tcp: the last in list order': 0x806,
  'v2 GETPORT P v1 udp': 0x801,
  'v2 GETPORT S v1 tcp (tcp6 is invisible to v2)': 0,
  'v2 GETPORT Q v5 udp (version fallback)': 2049,
};

/** The intended differences: what each daemon answers. */
const DIFFERENCES: Record<string, { real: RegExp; oncrpc: RegExp }> = {
  'TCP: an empty fragment first': { real: /^closed$/, oncrpc: /^SUCCESS$/ },
  'TCP: NULL in 3 fragments': { real: /^closed$/, oncrpc: /^SUCCESS$/ },
  'unix: a GETADDR in 2 fragments': { real: /^GARBAGE_ARGS(, then closed)?$/, oncrpc: /^SUCCESS 0000000c2f72756e2f70312e736f636b$/ },
  'UDP: the same GETADDR truncated after it': { real: /^SUCCESS 0000000d3132372e302e302e312e382e31000000$/, oncrpc: /^GARBAGE_ARGS$/ },
  'v2 DUMP over UDP from 198.18.0.1': { real: /^SUCCESS 00000001000186a0/, oncrpc: /^silence$/ },
  'v4 GETADDRLIST P v1 over UDP from 198.18.0.1': { real: /^SUCCESS 00000001/, oncrpc: /^silence$/ },
};

function find(steps: StepResult[], name: string): StepResult {
  const s = steps.find((x) => x.name === name);
  if (!s) throw new Error(`no step named ${name}`);
  return s;
}

if (labPrerequisites(t, ['setpriv'])) {
  const build = buildRpcbindLab();
  t.test('the same bytes to both daemons, the same answers', async (t) => {
    const [real, oncrpc] = await Promise.all([runScenario<SemanticsResult>(build, SCENARIO, 'real', { timeoutMs: 200_000 }), runScenario<SemanticsResult>(build, SCENARIO, 'oncrpc', { timeoutMs: 200_000 })]);
    t.same(oncrpc.steps.map((s) => s.name), real.steps.map((s) => s.name), 'the same steps ran');
    t.test('rpcbind answers as LAB.md says', async (t) => {
      for (const r of real.steps) {
        const said = /: ([^:]+)$/.exec(r.name)?.[1];
        if (said && OUTCOMES[said] && !r.differs) t.match(describeExchange(r.result), OUTCOMES[said]!, r.name);
        if (r.name in ADDRESSES) t.equal(readXdrString(results(r.result.replies[0] ?? '') ?? Buffer.alloc(4))[0], ADDRESSES[r.name], `${r.name}: ${ADDRESSES[r.name] || '""'}`);
        if (r.name in PORTS) t.equal(results(r.result.replies[0] ?? '')?.readUInt32BE(0), PORTS[r.name], `${r.name}: port ${PORTS[r.name]}`);
        if (r.timeOk !== undefined) t.ok(r.timeOk, `${r.name}: the time of day`);
      }
      const v2 = decodeDump(find(real.steps, 'v2 DUMP over TCP (tcp/udp only)').result.replies[0]!, 2) as string[];
      const v3 = decodeDump(find(real.steps, 'v3 DUMP over unix').result.replies[0]!, 3) as string[];
      t.notOk(v2.some((l) => l.startsWith(`${S} `)), 'v2 DUMP: no tcp6/udp6 entry');
      t.ok(v2.includes(`${P} 1 6 2050`), 'v2 DUMP: a v3 SET of tcp shows in the v2 view');
      t.ok(v2.every((l) => ['6', '17'].includes(l.split(' ')[2]!)), 'v2 DUMP: only tcp and udp');
      for (const line of [
        `${P} 1 local /run/p1.sock superuser`, // unix socket, uid 0
        `${Q} 1 tcp 0.0.0.0.8.1 superuser`, // v2 SET from a reserved port
        `${R} 1 tcp 0.0.0.0.12.1 unknown`, // from an unreserved port
        `${S} 1 tcp6 ::.12.3 superuser`, // [::1], reserved port
        `${S} 1 udp6 ::.12.4 unknown`,
        `${U} 1 tcp 0.0.0.0.13.1 65534`, // unix socket, uid 65534 (SO_PEERCRED)
      ]) {
        t.ok(v3.includes(line), `v3 DUMP: ${line}`);
      }
    });
    t.test('oncrpc answers the same bytes', async (t) => {
      for (let i = 0; i < real.steps.length; i++) {
        const r = real.steps[i]!;
        const o = oncrpc.steps[i]!;
        if (r.differs) continue;
        if (/GETSTAT/.test(r.name)) t.same(decodeStat(o.result.replies[0] ?? ''), decodeStat(r.result.replies[0] ?? ''), `${r.name} (decoded)`);
        t.same(o, r, `${r.name}: ${describeExchange(r.result)}`);
      }
    });
    t.test('intended differences', async (t) => {
      const names = real.steps.filter((s) => s.differs).map((s) => s.name);
      t.same(names, Object.keys(DIFFERENCES), 'the steps that differ are the documented ones');
      for (const name of names) {
        t.match(describeExchange(find(real.steps, name).result), DIFFERENCES[name]!.real, `rpcbind: ${name}`);
        t.match(describeExchange(find(oncrpc.steps, name).result), DIFFERENCES[name]!.oncrpc, `oncrpc: ${name}`);
      }
    });
  });
}
