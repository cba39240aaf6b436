// Runs inside one lab (see rpcbind-warmstart.test.ts): the real rpcbind and oncrpc rpcbind in turn, on
// the same /run, handing their registrations over through the warm-start files (-w).
import { chownSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Proc } from '../_helpers/lab.js';
import { CLASSIC_PROG, exchange, rpcbArgs, rpcbCall, rpcinfo, sleep, startDaemon, waitUntil, type Daemon, type Kind } from '../_helpers/rpcbind-lab.js';
import type { Scenario } from '../_helpers/rpcbind-driver.js';

const RPCB_FILE = '/run/rpcbind/rpcbind.xdr';
const PMAP_FILE = '/run/rpcbind/portmap.xdr';

/** What `rpcinfo` shows of a daemon (the outputs compared across restarts), and its raw dumps. */
export interface View {
  plain: string;
  p: string;
  s: string;
}

export interface FileState {
  rpcbind?: { hex: string; mode: number; uid: number };
  portmap?: { hex: string; mode: number; uid: number };
}

export interface WarmStartResult {
  /** rpcbind with the C servers and the other registrations. */
  realBefore: View;
  /** The files rpcbind wrote on SIGTERM. */
  realFiles: FileState;
  /** oncrpc -w started on them. */
  oncrpcAfter: View;
  oncrpcLeftFiles: boolean;
  oncrpcLog: string;
  /** The C client through oncrpc after the hand-over. */
  clientCode: number | null;
  /** The files oncrpc wrote on SIGTERM, then rpcbind -w started on them. */
  oncrpcFiles: FileState;
  realAfter: View;
  realLeftFiles: boolean;
  /** oncrpc: a registration more, kill -9, restart. */
  beforeKill: View;
  afterKill: View;
  /** oncrpc first on a fresh /run, then rpcbind: the views, and the state directory oncrpc made. */
  first: { oncrpc: View; real: View; dir: { uid: number; gid: number; mode: number } };
  /** Corrupt and truncated files: each daemon's view and log, and what it left of the files. */
  corrupt: { name: string; kind: Kind; view: View; log: string; left: boolean[]; exit: number | null }[];
}

async function view(): Promise<View> {
  const [plain, p, s] = await Promise.all([rpcinfo([]), rpcinfo(['-p']), rpcinfo(['-s'])]);
  return { plain: plain.stdout + plain.stderr, p: p.stdout + p.stderr, s: s.stdout + s.stderr };
}

function files(): FileState {
  const one = (f: string) => (existsSync(f) ? { hex: readFileSync(f).toString('hex'), mode: statSync(f).mode & 0o777, uid: statSync(f).uid } : undefined);
  const rpcbind = one(RPCB_FILE);
  const portmap = one(PMAP_FILE);
  return { ...(rpcbind ? { rpcbind } : {}), ...(portmap ? { portmap } : {}) };
}

const scenario: Scenario = async (_kind, { build }) => {
  // rpcbind first: the C servers register with it (unix socket), then more by hand.
  let d: Daemon = await startDaemon('real');
  const classic = new Proc(build.server, []);
  await waitUntil('the classic server to register', async () => (await rpcinfo(['-p'])).stdout.includes(` ${CLASSIC_PROG}    1   tcp`));
  const svc = new Proc(build.svcCreate, []);
  await svc.waitFor(/registered/);
  await rpcinfo(['-d', String(CLASSIC_PROG + 1), '2']);
  await exchange({ transport: 'unix', uid: 65534 }, rpcbCall(1, 3, 1, rpcbArgs(0x30000010, 1, 'tcp', '0.0.0.0.14.1'))); // owner 65534
  await exchange({ transport: 'tcp' }, rpcbCall(2, 4, 1, rpcbArgs(0x30000011, 1, 'udp', '0.0.0.0.14.2'))); // owner unknown
  await exchange({ transport: 'tcp', fromPort: 700 }, rpcbCall(3, 2, 1, Buffer.from('3000001200000001000000060000abcd', 'hex'))); // v2 SET, superuser
  await exchange({ transport: 'unix' }, rpcbCall(4, 3, 1, rpcbArgs(0x30000013, 1, 'local', '/run/x.sock')));
  const realBefore = await view();
  await d.stop('SIGTERM');
  const realFiles = files();

  // oncrpc -w reads them (and deletes them), and serves the same registrations.
  d = await startDaemon('oncrpc');
  const oncrpcLeftFiles = existsSync(RPCB_FILE) || existsSync(PMAP_FILE);
  const oncrpcAfter = await view();
  const client = await new Proc(build.client, ['127.0.0.1', 'tcp', 'all']).exited;
  await d.stop('SIGTERM');
  const oncrpcLog = d.proc.stderr;
  const oncrpcFiles = files();

  // rpcbind -w reads what oncrpc wrote.
  d = await startDaemon('real');
  const realLeftFiles = existsSync(RPCB_FILE) || existsSync(PMAP_FILE);
  const realAfter = await view();
  await d.stop('SIGTERM');

  // oncrpc persists every change: one more registration, kill -9, restart.
  d = await startDaemon('oncrpc');
  await exchange({ transport: 'unix' }, rpcbCall(5, 3, 1, rpcbArgs(0x30000014, 1, 'udp6', '::.14.3')));
  await exchange({ transport: 'unix' }, rpcbCall(6, 3, 2, rpcbArgs(CLASSIC_PROG + 1, 1, 'tcp6', ''))); // an UNSET too
  const beforeKill = await view();
  await d.stop('SIGKILL');
  d = await startDaemon('oncrpc');
  const afterKill = await view();
  await d.stop('SIGKILL');
  classic.child.kill('SIGKILL');
  svc.child.kill('SIGKILL');

  // Corrupt and truncated files: reported, ignored, never fatal — for both daemons, the same files.
  const valid = { rpcbind: Buffer.from(oncrpcFiles.rpcbind!.hex, 'hex'), portmap: Buffer.from(oncrpcFiles.portmap!.hex, 'hex') };
  const cases: [string, Buffer | null, Buffer | null][] = [
    ['rpcbind.xdr garbage, portmap.xdr valid', Buffer.from('this is not XDR at all\n'), valid.portmap],
    ['rpcbind.xdr truncated, portmap.xdr valid', valid.rpcbind.subarray(0, 100), valid.portmap],
    ['rpcbind.xdr valid, portmap.xdr truncated', valid.rpcbind, valid.portmap.subarray(0, 30)],
    ['rpcbind.xdr empty, portmap.xdr empty', Buffer.alloc(0), Buffer.alloc(0)],
    ['rpcbind.xdr valid, no portmap.xdr', valid.rpcbind, null],
    ['no rpcbind.xdr, portmap.xdr valid', null, valid.portmap],
  ];
  const corrupt: WarmStartResult['corrupt'] = [];
  for (const [name, rb, pm] of cases) {
    for (const kind of ['real', 'oncrpc'] as const) {
      rmSync(RPCB_FILE, { force: true });
      rmSync(PMAP_FILE, { force: true });
      // As rpcbind writes them: mode 0600, owned by the owner of /run/rpcbind (Debian's rpcbind runs as _rpc).
      const dir = statSync('/run/rpcbind');
      for (const [f, bytes] of [[RPCB_FILE, rb], [PMAP_FILE, pm]] as const) {
        if (!bytes) continue;
        writeFileSync(f, bytes, { mode: 0o600 });
        chownSync(f, dir.uid, dir.gid);
      }
      d = await startDaemon(kind);
      await sleep(100);
      const v = await view();
      const left = [existsSync(RPCB_FILE), existsSync(PMAP_FILE)];
      const exit = d.proc.child.exitCode;
      await d.stop('SIGKILL');
      corrupt.push({ name, kind, view: v, log: d.proc.stderr, left, exit });
    }
  }
  // oncrpc first, on a /run without /run/rpcbind: it makes the directory as rpcbind would, and rpcbind reads its files.
  rmSync('/run/rpcbind', { recursive: true, force: true });
  d = await startDaemon('oncrpc');
  await exchange({ transport: 'unix' }, rpcbCall(7, 3, 1, rpcbArgs(0x30000015, 1, 'tcp', '0.0.0.0.14.4')));
  const firstView = await view();
  await d.stop('SIGTERM');
  const stateDir = statSync('/run/rpcbind');
  d = await startDaemon('real');
  const firstThenReal = await view();
  await d.stop('SIGKILL');
  return {
    first: { oncrpc: firstView, real: firstThenReal, dir: { uid: stateDir.uid, gid: stateDir.gid, mode: stateDir.mode & 0o777 } },
    realBefore,
    realFiles,
    oncrpcAfter,
    oncrpcLeftFiles,
    oncrpcLog,
    clientCode: client.code,
    oncrpcFiles,
    realAfter,
    realLeftFiles,
    beforeKill,
    afterKill,
    corrupt,
  } satisfies WarmStartResult;
};
export default scenario;
