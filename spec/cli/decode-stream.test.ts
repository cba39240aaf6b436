// `oncrpc decode` reading as the capture arrives: standard input (`-`), gzip-compressed captures, a live
// `tcpdump -U -w - | oncrpc decode -` (each message printed while tcpdump still runs), stdout's
// backpressure (no more input read while stdout is full), and memory that does not grow with the capture.
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { labPrerequisites, runInLab } from '../_helpers/lab.js';
import { writeRpcCapture } from '../pcap/_helpers/rpc-capture.js';

const root = new URL('../../', import.meta.url).pathname;
const bin = join(root, 'bin/oncrpc.js');
const fixtures = join(root, 'fixtures/pcap');
const run = (args: string[], input?: Uint8Array) => spawnSync(process.execPath, [bin, 'decode', ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20 });
const dir = mkdtempSync(join(tmpdir(), 'oncrpc-decode-stream-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('- reads standard input; .gz captures are read as tshark reads them', async (t) => {
  for (const f of ['rpcinfo-p.pcap', 'c-tcp.pcap', 'c-bigarg-tcp.pcap', 'c-udp.pcap']) {
    const file = join(fixtures, f);
    const bytes = readFileSync(file);
    const gz = join(dir, `${f}.gz`);
    writeFileSync(gz, gzipSync(bytes));
    for (const mode of [[], ['--json']]) {
      const want = run([...mode, file]);
      t.equal(want.status, 0);
      const json = (s: string) => s.replaceAll(JSON.stringify(file).slice(1, -1), 'F').replaceAll(JSON.stringify(gz).slice(1, -1), 'F').replaceAll('"file":"-"', '"file":"F"');
      t.equal(json(run([...mode, '-'], bytes).stdout), json(want.stdout), `${f} ${mode}: stdin`);
      t.equal(json(run([...mode, gz]).stdout), json(want.stdout), `${f} ${mode}: .gz file`);
      t.equal(json(run([...mode, '-'], gzipSync(bytes)).stdout), json(want.stdout), `${f} ${mode}: gzip on stdin`);
    }
  }
  const empty = run(['-'], new Uint8Array(0));
  t.equal(empty.status, 1);
  t.match(empty.stderr, /^oncrpc decode: -: ERR_PCAP_FORMAT: not a pcap or pcapng file/);
  const gz = gzipSync(readFileSync(join(fixtures, 'c-tcp.pcap')));
  const cut = gz.subarray(0, gz.length >> 1);
  const r = run(['-'], cut);
  t.equal(r.status, 1);
  t.match(r.stdout, /CALL /, 'what came before the end of the gzip data is printed');
  t.match(r.stderr, /^oncrpc decode: -: unexpected end of file$/m);
});

t.test('stdout full: decode stops reading its input until it drains', async (t) => {
  const file = join(dir, 'bp.pcap');
  const s = writeRpcCapture(file, { messages: 120_000, seed: 2 });
  const bytes = readFileSync(file);
  const child = spawn(process.execPath, [bin, 'decode', '-'], { stdio: ['pipe', 'pipe', 'inherit'] });
  child.stdout.pause(); // nobody reads: the pipe (64 KiB) fills
  let accepted = 0;
  const piece = 64 * 1024;
  const feed = async (): Promise<void> => {
    for (let o = 0; o < bytes.length; o += piece) {
      const chunk = bytes.subarray(o, o + piece);
      await new Promise<void>((resolve, reject) => child.stdin.write(chunk, (e) => (e ? reject(e) : resolve())));
      accepted += chunk.length;
    }
    child.stdin.end();
  };
  const fed = feed().catch(() => {});
  await new Promise((r) => setTimeout(r, 3000));
  const inFlight = accepted;
  t.ok(inFlight < bytes.length / 4, `with stdout blocked, ${(inFlight / 1e6).toFixed(1)} MB of ${(bytes.length / 1e6).toFixed(1)} MB were taken from the pipe`);
  let lines = 0;
  child.stdout.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
  });
  child.stdout.resume();
  const code = await new Promise<number | null>((r) => child.on('close', r));
  await fed;
  t.equal(code, 0);
  t.equal(lines, s.calls + s.replies, 'then every message is printed');
});

/**
 * Peak RSS (KiB) of `oncrpc decode ARGS`: its VmHWM, read as it exits (getrusage's maxrss would count the
 * memory of this test process, copied into the child between fork and exec).
 */
function peak(args: string[]): number {
  const hook = "data:text/javascript,import { readFileSync, writeSync } from 'node:fs'; process.on('exit', () => writeSync(2, 'VmHWM ' + /VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1] + '\\n'));";
  // Through env(1): tap adds its process-info hook to the NODE_OPTIONS of every child it sees spawned.
  const r = spawnSync('env', ['-u', 'NODE_OPTIONS', process.execPath, `--import=${hook}`, bin, 'decode', ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const m = /^VmHWM (\d+)$/m.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`decode failed: ${r.stderr}`);
  return Number(m[1]);
}

t.test('peak memory does not grow with the capture', async (t) => {
  const small = join(dir, 'small.pcap');
  const big = join(dir, 'big.pcap');
  writeRpcCapture(small, { messages: 20_000, seed: 4 });
  writeRpcCapture(big, { messages: 400_000, seed: 4 });
  for (const mode of [['--stats-only'], []]) {
    const a = peak([...mode, small]);
    const b = peak([...mode, big]);
    t.comment(`${mode.join(' ') || 'text'}: peak RSS ${(a / 1024).toFixed(0)} MiB for 20 000 messages, ${(b / 1024).toFixed(0)} MiB for 400 000`);
    t.ok(b < 110 * 1024, `under 110 MiB (${(b / 1024).toFixed(0)})`);
    t.ok(b < a + 40 * 1024, '20 times the messages, not 20 times the memory');
  }
});

t.test('live: tcpdump -U -w - | oncrpc decode - prints each message while tcpdump runs', async (t) => {
  if (!labPrerequisites(t, ['tcpdump'])) return;
  // In a private network namespace with its own rpcbind: two rpcinfo -p, each awaited in decode's
  // output before the next, with tcpdump still capturing; then tcpdump is stopped and decode ends.
  const script = `
    out=$(mktemp); err=$(mktemp)
    tcpdump -U -i lo -s 0 -w - port 111 2>"$err" | "${process.execPath}" "${bin}" decode - > "$out" 2>&1 &
    for _ in $(seq 400); do grep -q 'listening on' "$err" && break; sleep 0.025; done
    waitlines() { for _ in $(seq 400); do [ "$(grep -c ' REPLY ' "$out")" -ge "$1" ] && return 0; sleep 0.025; done; return 1; }
    rpcinfo -p 127.0.0.1 > /dev/null
    waitlines 2 && echo "first: $(wc -l < "$out") lines, tcpdump running: $(pidof tcpdump > /dev/null && echo yes)"
    rpcinfo -p 127.0.0.1 > /dev/null
    waitlines 4 && echo "second: $(wc -l < "$out") lines, tcpdump running: $(pidof tcpdump > /dev/null && echo yes)"
    kill -INT $(pidof tcpdump)
    wait
    echo "decode ended"
    cat "$out"`;
  const r = await runInLab(['bash', '-c', script], { rpcbind: true, timeoutMs: 60_000 });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /^first: 4 lines, tcpdump running: yes$/m);
  t.match(r.stdout, /^second: 8 lines, tcpdump running: yes$/m);
  t.match(r.stdout, /decode ended\n {3}1 0\.000000 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:111 TCP xid=0x[0-9a-f]{8} CALL portmapper\(100000\) v4 GETADDR\(3\)/);
  t.match(r.stdout, /\n {3}8 \d+\.\d{6} 127\.0\.0\.1:111 -> 127\.0\.0\.1:\d+ TCP xid=0x[0-9a-f]{8} REPLY \(reply to #7\) SUCCESS/);
});
