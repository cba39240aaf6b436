// Runs the real programs now: fixtures/capture.sh, in a copy of fixtures/, starts rpcbind in private
// namespaces, runs rpcinfo and the rpcgen+libtirpc client and server and captures them; then the fresh
// captures get the same checks as the committed ones. This keeps interop proven against the installed
// programs on every CI run, not only against bytes captured once.
import t from 'tap';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_CI, requirePeer } from '../_helpers/peers.js';
import { captureFiles, checkCapture } from './check-captures.js';
import { checkClientServer } from './check-alltypes.js';

t.setTimeout(15 * 60 * 1000);

const peers = ['rpcgen', 'cc', 'rpcbind', 'rpcinfo', 'tcpdump', 'tshark', 'strace', 'unshare', 'ip', 'python3'];
const missing = peers.filter((p) => !requirePeer(t, p));
const root = process.getuid?.() === 0;
if (!root) {
  if (IN_CI) t.fail('live capture needs root (namespaces, tcpdump, rpcbind); CI runs as root');
  else t.comment('not root: live capture of the real programs not run (CI=true would fail here)');
}

if (missing.length === 0 && root) {
  const dir = mkdtempSync(join(tmpdir(), 'oncrpc-live-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fixtures = new URL('../../fixtures/', import.meta.url).pathname;
  cpSync(fixtures, dir, { recursive: true });
  t.test('fixtures/capture.sh runs the real programs', async (t) => {
    execFileSync('bash', [join(dir, 'capture.sh')], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60 * 1000 });
    t.ok(captureFiles(join(dir, 'pcap')).length >= 15, 'captures written');
  });
  t.test('fresh captures', async (t) => {
    for (const f of captureFiles(join(dir, 'pcap'))) await t.test(f, (t) => checkCapture(t, join(dir, 'pcap'), f));
  });
  t.test('fresh C client/server exchanges', (t) => checkClientServer(t, dir));
}
