// `oncrpc decode` on a generated capture of more than a million RPC messages (UDP and TCP, pipelined
// and fragmented records, error replies, unanswered calls): the same counts as tshark (calls, replies,
// replies by status, per procedure the rpc,srt table), in bounded memory. tshark and oncrpc run side by
// side; the whole test takes about a minute and a half on 2 cores.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePeer } from '../_helpers/peers.js';
import { writeRpcCapture } from '../pcap/_helpers/rpc-capture.js';
import { tsharkView } from '../trace/_helpers/tshark.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/oncrpc.js');

/** `oncrpc decode ARGS`: its stdout, and its peak RSS (VmHWM) in KiB, read as it exits. */
function decode(args: string[]): Promise<{ stdout: string; kb: number; code: number | null }> {
  const hook = "data:text/javascript,import { readFileSync, writeSync } from 'node:fs'; process.on('exit', () => writeSync(2, 'VmHWM ' + /VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));";
  // Through env(1): tap adds its process-info hook to the NODE_OPTIONS of every child it sees spawned.
  const child = spawn('env', ['-u', 'NODE_OPTIONS', process.execPath, `--import=${hook}`, bin, 'decode', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ stdout, code, kb: Number(/^VmHWM (\d+)$/m.exec(stderr)?.[1] ?? NaN) })));
}

t.test('a million messages: the same counts as tshark', { timeout: 600_000 }, async (t) => {
  const tshark = requirePeer(t, 'tshark');
  if (!tshark) return;
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-decode-scale-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'million.pcap');
  let t0 = Date.now();
  const g = writeRpcCapture(file, { messages: 1_000_000, seed: 7 });
  t.comment(`generated ${g.calls + g.replies} messages in ${g.packets} packets (${(g.bytes / 1e6).toFixed(0)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t.ok(g.calls + g.replies >= 1_000_000);

  t0 = Date.now();
  const srt: Array<[number, number]> = [[100000, 2], [100003, 3], [100005, 3]];
  const decodeAs = [...g.unknownPorts.udp.map((p) => `udp.port==${p},rpc`), ...g.unknownPorts.tcp.map((p) => `tcp.port==${p},rpc`)];
  const [theirs, ours] = await Promise.all([
    tsharkView(tshark, file, srt, decodeAs).then((v) => {
      t.comment(`tshark: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      return v;
    }),
    decode(['--stats-only', '--json', file]).then((r) => {
      t.comment(`oncrpc decode --stats-only --json: ${((Date.now() - t0) / 1000).toFixed(1)} s, peak RSS ${(r.kb / 1024).toFixed(0)} MiB`);
      return r;
    }),
  ]);
  t.equal(ours.code, 0);
  const objs = ours.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  const rows = objs.filter((o) => o.type === 'stats');
  const total = objs.find((o) => o.type === 'stats-total');

  t.equal(total.messages, g.calls + g.replies, 'every message written is found');
  t.equal(total.packets, g.packets, 'every packet read');
  t.equal(total.calls, theirs.calls, `calls: ${theirs.calls}, as tshark`);
  t.equal(total.replies, theirs.replies, `replies: ${theirs.replies}, as tshark`);
  t.equal(total.unanswered, total.calls - total.replies, 'every other call unanswered');
  t.equal(total.unanswered, g.calls - g.replies, 'as many as were written without a reply');
  t.same([total.orphanReplies, total.duplicateReplies, total.retransmissions, total.malformed], [0, 0, 0, 0]);
  const code: Record<string, string> = { SUCCESS: '0', PROG_UNAVAIL: '1', PROG_MISMATCH: '2', PROC_UNAVAIL: '3', GARBAGE_ARGS: '4', SYSTEM_ERR: '5', RPC_MISMATCH: 'denied:0', AUTH_ERROR: 'denied:1' };
  const byStatus = new Map<string, number>();
  for (const r of rows) for (const [s, n] of Object.entries(r.status as Record<string, number>)) byStatus.set(code[s]!, (byStatus.get(code[s]!) ?? 0) + n);
  t.same(new Map([...byStatus].sort()), new Map([...theirs.replyStates].sort()), 'replies by status, as tshark');
  t.same(new Set(byStatus.keys()).size, 8, 'every kind of reply is in the capture');
  const inTable = rows.filter((r) => srt.some(([p, v]) => p === r.prog && v === r.vers) && r.status.SUCCESS > 0 && r.procedureName !== null);
  t.same(
    inTable.map((r) => ({ prog: r.prog, vers: r.vers, proc: r.proc, name: r.procedureName, calls: r.status.SUCCESS })),
    theirs.srt.map(({ prog, vers, proc, name, calls }) => ({ prog, vers, proc, name, calls })),
    `per procedure, the SUCCESS replies of tshark's rpc,srt tables (${theirs.srt.length} rows)`,
  );
  for (const r of inTable) {
    const s = theirs.srt.find((x) => x.prog === r.prog && x.vers === r.vers && x.proc === r.proc)!;
    if (r.replies === r.status.SUCCESS) t.same([r.time.min.toFixed(6), r.time.max.toFixed(6)], [s.min, s.max], `${r.procedureName}: min and max response time as tshark's`);
    else t.ok(r.time.min <= Number(s.min) && Number(s.max) <= r.time.max, `${r.procedureName}: tshark's times (SUCCESS only) within ours (every reply)`);
  }
  t.ok(ours.kb < 110 * 1024, `peak RSS ${(ours.kb / 1024).toFixed(0)} MiB, under 110 MiB`);
});
