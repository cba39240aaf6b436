// oncrpc's runtime against the real rpcgen + libtirpc programs of fixtures/x/alltypes.x, live, in a
// private network namespace with the real rpcbind (spec/_helpers/lab.ts):
//   a. the C client calls an oncrpc RpcServer (registered with rpcbind by a hand-made v3 SET) over TCP
//      and UDP: every procedure, its own checks pass, its transcript is the one it prints against the C
//      server (fixtures/pcap/c-*.txt);
//   b. the oncrpc RpcClient calls the C server over TCP and UDP: every call of values.json's sequence;
//   c. an AT_BIGARG of more than 1 MiB crosses in multi-fragment records both ways (fragments checked
//      in a tcpdump capture of the lab's lo);
//   d. the same raw bytes (fixtures/rpc_raw.py's cases and more) sent to the C server and to an oncrpc
//      server get byte-identical replies, or the same silence / closed connection.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { loadX } from '../../src/codegen/interpret.js';
import { RpcClient } from '../../src/client/rpc-client.js';
import { RpcServer } from '../../src/server/rpc-server.js';
import { authSys } from '../../src/rpc/auth-sys.js';
import { AUTH_NONE, type RpcCall, type RpcReply } from '../../src/rpc/messages.js';
import { traceRpc } from '../../src/trace/index.js';
import { XdrReader } from '../../src/xdr/reader.js';
import { handlers } from '../../fixtures/js/alltypes-handlers.mjs';
import {
  ALLTYPES_PROG,
  ROOT,
  buildAlltypesC,
  captured,
  insideLab,
  labBuild,
  labPrerequisites,
  registeredPorts,
  rpcbindSet,
  rpcbindUnset,
  run,
  runInLab,
  spawnInLab,
  startCServer,
  tempDir,
  wildcardUaddr,
} from '../_helpers/lab.js';
import { callMessage, errorCases, opaque, tcpExchange, udpExchange, type RawResult } from '../_helpers/raw-rpc.js';
import { VALUES, bigargBytes, jsonValue } from './alltypes.js';

if (!insideLab()) {
  if (labPrerequisites(t, ['tcpdump'])) {
    t.test('runInLab: a command in a fresh lab sees only its own rpcbind and lo', async (t) => {
      const r = await runInLab(['bash', '-c', 'rpcinfo -p; ip -o link | wc -l; hostname'], { rpcbind: true, timeoutMs: 20_000 });
      t.equal(r.code, 0, 'exit status 0', { stderr: r.stderr });
      t.match(r.stdout, /100000\s+4\s+tcp\s+111\s+portmapper/, "the lab's own rpcbind answers rpcinfo -p");
      t.match(r.stdout, /\n1\noncrpc-fixtures\n$/, 'one link (lo), the fixtures hostname');
    });
    spawnInLab(t, import.meta.url, buildAlltypesC(), { rpcbind: true, timeout: 240_000 });
  }
} else {
  await inside();
}

/** More than 1 MiB, odd (the opaque is padded). */
const BIG = (1 << 20) + 3;
/** libtirpc's TCP client: a 64 KiB send buffer, fragments of 64 KiB minus the mark. */
const LIBTIRPC_FRAGMENT = 65532;

function bigSum(len: number): number {
  let s = 0;
  const b = bigargBytes(len);
  for (let i = 0; i < len; i++) s = (s + b[i]!) >>> 0;
  return s;
}

async function inside(): Promise<void> {
  t.setTimeout(200_000);
  const build = labBuild();
  const AT = (await loadX(join(ROOT, 'fixtures/x/alltypes.x'))).programs[0]!;
  const fixture = (f: string) => readFileSync(join(ROOT, 'fixtures/pcap', f), 'utf8');

  /** An oncrpc server of ALLTYPES_PROG v1 on TCP and UDP (all addresses), registered with the lab's rpcbind. */
  async function oncrpcServer(tt: Test, register: boolean) {
    const server = new RpcServer().addProgram(AT, handlers as never);
    tt.teardown(() => server.destroy());
    const tcp = await server.listen({ transport: 'tcp', host: '0.0.0.0' });
    const udp = await server.listen({ transport: 'udp', host: '0.0.0.0' });
    if (tcp.transport === 'unix' || udp.transport === 'unix') throw new Error('unreachable');
    if (register) {
      await rpcbindUnset(ALLTYPES_PROG, 1);
      tt.ok(await rpcbindSet(ALLTYPES_PROG, 1, 'udp', wildcardUaddr(udp.port)), 'rpcbind v3 SET udp');
      tt.ok(await rpcbindSet(ALLTYPES_PROG, 1, 'tcp', wildcardUaddr(tcp.port)), 'rpcbind v3 SET tcp');
      tt.teardown(() => rpcbindUnset(ALLTYPES_PROG, 1));
      tt.same(await registeredPorts(ALLTYPES_PROG), { tcp: tcp.port, udp: udp.port }, 'rpcinfo -p lists the oncrpc server');
    }
    return { server, tcp: tcp.port, udp: udp.port };
  }

  t.test('a. the rpcgen C client calls an oncrpc server: every procedure, TCP and UDP', async (t) => {
    const { server } = await oncrpcServer(t, true);
    for (const proto of ['tcp', 'udp'] as const) {
      const r = await run(build.client, ['127.0.0.1', proto, 'all']);
      t.equal(r.code, 0, `alltypes_client 127.0.0.1 ${proto} all: every check passes`, { stderr: r.stderr });
      t.equal(r.stdout, fixture(`c-${proto}.txt`), `its transcript is the one it prints against the C server (fixtures/pcap/c-${proto}.txt)`);
    }
    t.equal(server.stats.calls, 2 * VALUES.sequence_all.length, 'the server saw every call once');
    t.equal(server.stats.garbage + server.stats.handlerErrors, 0, 'no garbage, no handler error');
  });

  t.test('b. the oncrpc client calls the C server: every call of values.json, TCP and UDP', async (t) => {
    const c = await startCServer(build, t);
    const sys = authSys({ stamp: Math.floor(Date.now() / 1000), machinename: hostname(), uid: 0, gid: 0, gids: [] });
    t.equal(hostname(), 'oncrpc-fixtures', 'the lab has the hostname the values were captured with');
    for (const proto of ['tcp', 'udp'] as const) {
      const client = new RpcClient({ transport: proto, host: '127.0.0.1', port: c[proto] }, { timeoutMs: 10_000 });
      t.teardown(() => client.destroy());
      const at = client.bind(AT) as Record<string, (a: unknown, o?: object) => Promise<unknown>>;
      for (const step of VALUES.sequence_all as { n: number; proc: string; auth: string; arg: unknown; result: unknown }[]) {
        const cred = step.auth === 'AUTH_SYS' ? sys : AUTH_NONE;
        const got = await at[step.proc]!(jsonValue(step.proc, 'arg', step.arg), { cred });
        t.strictSame(plain(got), jsonValue(step.proc, 'result', step.result), `${proto} #${step.n} ${step.proc} [${step.auth}]`);
      }
      t.equal(client.stats.unknownXid, 0, `${proto}: no stray reply`);
    }
    t.test("AT_GETCOLOR(WHITE), a result the C server cannot encode: libtirpc's truncated SUCCESS, then SYSTEM_ERR", async (t) => {
      const WHITE = 16;
      const tcp = new RpcClient({ transport: 'tcp', host: '127.0.0.1', port: c.tcp }, { timeoutMs: 10_000 });
      t.teardown(() => tcp.destroy());
      const at = tcp.bind(AT);
      await t.rejects(at.AT_GETCOLOR(WHITE), { code: 'ERR_RPC_CANT_DECODE_RES' }, 'TCP: the first reply (SUCCESS, discriminant only) cannot be decoded');
      t.equal(await at.AT_NEGATE(true), false, 'the connection goes on');
      t.equal(tcp.stats.unknownXid, 1, 'the second reply (SYSTEM_ERR, same xid) is dropped as a late duplicate');
      const udp = new RpcClient({ transport: 'udp', host: '127.0.0.1', port: c.udp }, { timeoutMs: 10_000 });
      t.teardown(() => udp.destroy());
      await t.rejects(udp.bind(AT).AT_GETCOLOR(WHITE), { code: 'ERR_RPC_SYSTEM_ERR' }, 'UDP: SYSTEM_ERR only');
    });
    t.equal(c.proc.child.exitCode, null, 'the C server is still running');
  });

  t.test('c. AT_BIGARG of more than 1 MiB in multi-fragment records, both ways', async (t) => {
    const dir = tempDir(t);
    const sum = bigSum(BIG);

    t.test('C client -> oncrpc server: libtirpc fragments of 65532 bytes', async (t) => {
      const { tcp } = await oncrpcServer(t, true);
      const pcap = join(dir, 'c-to-oncrpc.pcap');
      const r = await captured(pcap, `tcp port ${tcp}`, () => run(build.big, ['127.0.0.1', 'tcp', String(BIG)]));
      t.equal(r.code, 0, 'the C client checks the result', { stderr: r.stderr });
      t.equal(r.stdout, `AT_BIGARG(${BIG} bytes) -> len ${BIG} sum ${sum}\n`);
      const { call, reply } = bigExchange(pcap);
      const frags = call.fragments!;
      t.ok(frags.length > 16, `the call came in ${frags.length} fragments`);
      t.strictSame(frags.slice(0, -1), frags.slice(0, -1).map(() => LIBTIRPC_FRAGMENT), 'every fragment but the last is 65532 bytes');
      t.equal(frags.reduce((a, b) => a + b, 0), call.record.length);
      t.ok((call.message as RpcCall).body.length >= BIG, 'the argument is all there');
      t.strictSame(bigresult(reply.message as RpcReply), { len: BIG, sum }, 'the oncrpc reply, as captured');
    });

    for (const maxFragmentSize of [LIBTIRPC_FRAGMENT, 4099, undefined]) {
      t.test(`oncrpc client -> C server, maxFragmentSize ${maxFragmentSize ?? 'default (one fragment)'}`, async (t) => {
        const c = await startCServer(build, t);
        const client = new RpcClient({ transport: 'tcp', host: '127.0.0.1', port: c.tcp }, { timeoutMs: 20_000, ...(maxFragmentSize ? { maxFragmentSize } : {}) });
        t.teardown(() => client.destroy());
        const at = client.bind(AT);
        const pcap = join(dir, `oncrpc-to-c-${maxFragmentSize}.pcap`);
        const res = await captured(pcap, `tcp port ${c.tcp}`, () => at.AT_BIGARG(bigargBytes(BIG)));
        t.strictSame(res, { len: BIG, sum }, 'the C server summed every byte');
        const { call, reply } = bigExchange(pcap);
        const frags = call.fragments!;
        const size = maxFragmentSize ?? call.record.length;
        t.equal(frags.length, Math.ceil(call.record.length / size), `${frags.length} fragment(s)`);
        t.ok(frags.slice(0, -1).every((f) => f === size), `every fragment but the last is ${size} bytes`);
        t.strictSame(bigresult(reply.message as RpcReply), { len: BIG, sum });
        t.equal(c.proc.child.exitCode, null, 'the C server is still running');
      });
    }

    /** The AT_BIGARG call and its reply in a capture. */
    function bigExchange(pcap: string) {
      const b = readFileSync(pcap);
      const { messages } = traceRpc(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
      const call = messages.find((m) => m.message?.mtype === 0 && m.message.prog === ALLTYPES_PROG && m.message.proc === 2);
      if (!call || !call.replyN) throw new Error(`no AT_BIGARG call and reply in ${pcap} (${messages.length} messages)`);
      return { call, reply: messages[call.replyN - 1]! };
    }
    function bigresult(m: RpcReply) {
      if (m.stat !== 0 || m.acceptStat !== 0) throw new Error('not SUCCESS');
      const r = new XdrReader(m.body);
      return { len: r.readUint(), sum: r.readUint() };
    }
  });

  t.test('d. the same bad calls get byte-identical replies from the C server and from oncrpc', async (t) => {
    const c = await startCServer(build, t);
    const o = await oncrpcServer(t, false);
    const transcript = {
      tcp: capturedReplies([fixture('c-errors-tcp.txt'), fixture('c-malformed-tcp.txt'), fixture('c-frags-tcp.txt')]),
      udp: capturedReplies([fixture('c-errors-udp.txt'), fixture('c-malformed-udp.txt')]),
    };
    for (const proto of ['tcp', 'udp'] as const) {
      const cases = errorCases().filter((k) => !k.only || k.only === proto);
      const send = (port: number, k: (typeof cases)[number]): Promise<RawResult> =>
        proto === 'tcp' ? tcpExchange('127.0.0.1', port, k.stream ?? Buffer.concat([u32be(0x80000000 | k.message.length), k.message])) : udpExchange('127.0.0.1', port, k.message);
      // All cases at once (each on its own connection or socket): the waits for silence overlap.
      const results = await Promise.all(cases.map(async (k) => ({ k, c: await send(c[proto], k), o: await send(o[proto], k) })));
      for (const { k, c: fromC, o: fromO } of results) {
        const label = `${proto} ${k.name} (xid ${k.xid.toString(16).padStart(8, '0')})`;
        const known = KNOWN_DIFFERENCES[`${proto} ${k.name}`];
        if (known) {
          known(t, label, fromC, fromO);
          continue;
        }
        t.strictSame(fromO, fromC, `${label}: ${describe(fromC)}`);
        const fromPcap = transcript[proto].get(k.xid);
        if (fromPcap) t.strictSame(fromO.replies, fromPcap, `${label}: the replies captured from the C server in fixtures/pcap`);
      }
    }
    t.test('a cut datagram: libtirpc decodes past its end (stale bytes of an earlier caller), oncrpc does not', async (t) => {
      // Caller A: AT_ECHONAME("AAAA…", 20 bytes). Caller B, later, from another socket: the same call
      // with the string's length but without its bytes. The C server reads B's string from where A's
      // call and A's reply (written into the same buffer) left their bytes: all 'A's, as its length is
      // a multiple of 4 (no NUL padding in between).
      const secret = Buffer.alloc(20, 'A');
      const full = callMessage(0x0b000001, { proc: 6, args: opaque(secret) });
      const cut = callMessage(0x0b000002, { proc: 6, args: u32be(secret.length) });
      for (const [who, port] of [['C', c.udp], ['oncrpc', o.udp]] as const) {
        const a = await udpExchange('127.0.0.1', port, full);
        t.equal(a.replies.length, 1, `${who}: caller A answered`);
        const b = await udpExchange('127.0.0.1', port, cut);
        if (who === 'C') {
          t.strictSame(b.replies, [ACCEPTED(0x0b000002, 0) + opaque(secret).toString('hex')], "C: caller B gets caller A's bytes (libtirpc over-read)");
        } else {
          t.strictSame(b.replies, [ACCEPTED(0x0b000002, 4)], 'oncrpc: caller B gets GARBAGE_ARGS');
        }
      }
    });
    t.equal(c.proc.child.exitCode, null, 'the C server survived');
    t.equal(await new RpcClient({ transport: 'tcp', host: '127.0.0.1', port: o.tcp }).bind(AT).AT_NEGATE(false), true, 'the oncrpc server still serves');
  });
}

/** `v` with every Buffer (opaques decoded from a socket's chunk are Buffer views) as a plain Uint8Array. */
function plain(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function u32be(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function describe(r: RawResult): string {
  const what = r.replies.length === 0 ? 'no reply' : r.replies.length === 1 ? 'one reply' : `${r.replies.length} replies`;
  return r.closed ? `${what}, connection closed` : what;
}

/** xid → reply hexes, from fixtures/rpc_raw.py transcripts (`XID name: [summary] HEX [summary] HEX …`). */
function capturedReplies(texts: string[]): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const line of texts.join('\n').split('\n')) {
    const m = /^([0-9a-f]{8}) [^:]+: (.*)$/.exec(line);
    if (!m) continue;
    const hexes = [...m[2]!.matchAll(/\] ([0-9a-f]+)/g)].map((x) => x[1]!);
    out.set(parseInt(m[1]!, 16), hexes);
  }
  return out;
}

/**
 * Where oncrpc deliberately answers differently from libtirpc. Each entry asserts both sides, so a
 * change on either side shows.
 */
const KNOWN_DIFFERENCES: Record<string, (t: Test, label: string, c: RawResult, o: RawResult) => void> = {
  // libtirpc ends the record although xdr_replymsg failed half-way, so a truncated SUCCESS goes out
  // before the SYSTEM_ERR (two replies with one xid); oncrpc sends only the SYSTEM_ERR.
  'tcp unencodable-result': (t, label, c, o) => {
    t.equal(c.replies.length, 2, `${label}: the C server sends a truncated SUCCESS, then SYSTEM_ERR`);
    t.strictSame(o, { replies: c.replies.slice(1), closed: c.closed }, `${label}: oncrpc sends only the SYSTEM_ERR, byte-identical`);
  },
  // A zero-length fragment that is not the last one: libtirpc closes the connection; RFC 5531 §11 allows
  // it (only the last-fragment bit ends a record), and oncrpc reassembles the call and answers it.
  'tcp empty-first-fragment': (t, label, c, o) => {
    t.strictSame(c, { replies: [], closed: true }, `${label}: the C server closes the connection`);
    t.strictSame(o, { replies: [NULL_OK(0x0d000002)], closed: false }, `${label}: oncrpc answers the NULL call`);
  },
  // libtirpc's UDP server decodes the call from its whole receive buffer, not from the bytes received
  // (svc_dg.c sets up the XDR stream once with su_iosz and never limits it to the datagram's length):
  // a call cut short is completed with whatever an earlier datagram left in the buffer. Here the
  // 8-byte AT_ECHO argument decodes as an `alltypes` padded out with stale bytes — SUCCESS or
  // GARBAGE_ARGS depending on what came before. oncrpc answers GARBAGE_ARGS, as libtirpc does on TCP.
  'udp garbage-args-truncated': (t, label, c, o) => {
    t.comment(`${label}: the C server answered ${c.replies.map((r) => r.slice(40, 48)).join(', ') || 'nothing'} (accept_stat; depends on stale buffer bytes)`);
    t.strictSame(o, { replies: [ACCEPTED(0x0e000005, 4)], closed: false }, `${label}: oncrpc answers GARBAGE_ARGS`);
  },
  // The same over-read: a 20-byte datagram (the header up to the version) is completed by stale bytes
  // into a NULL call and answered SUCCESS by the C server. oncrpc drops it (libtirpc on TCP closes).
  'udp truncated-header': (t, label, c, o) => {
    t.comment(`${label}: the C server answered ${c.replies.length} time(s) (from stale buffer bytes)`);
    t.strictSame(o, { replies: [], closed: false }, `${label}: oncrpc does not answer`);
  },
};

/** An accepted reply with this accept_stat and no body, AUTH_NONE verifier, as hex. */
function ACCEPTED(xid: number, acceptStat: number): string {
  return Buffer.concat([u32be(xid), u32be(1), u32be(0), u32be(0), u32be(0), u32be(acceptStat)]).toString('hex');
}
function NULL_OK(xid: number): string {
  return ACCEPTED(xid, 0);
}
