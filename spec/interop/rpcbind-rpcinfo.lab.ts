// Runs inside a lab (see rpcbind-rpcinfo.test.ts): one daemon, the real C servers registering with it,
// and real `rpcinfo` in every mode. Returns every command's output with ephemeral ports named.
//
// args[0]: 'unix' (default: the servers register over /run/rpcbind.sock), 'removed' (the socket is
// deleted once the daemon listens: libtirpc falls back to TCP [::1]:111) or 'none' (oncrpc --socket none).
import { Proc } from '../_helpers/lab.js';
import { CLASSIC_PROG, portNormaliser, rpcinfo, sleep, startDaemon, SVC_PROG, waitUntil, type CommandResult, type Kind } from '../_helpers/rpcbind-lab.js';
import type { Scenario } from '../_helpers/rpcbind-driver.js';

const P1 = String(CLASSIC_PROG);
const P2 = String(SVC_PROG);
const P3 = String(SVC_PROG + 1); // never registered

export interface RpcinfoResult {
  /** Every command, output normalised (ports named). */
  commands: CommandResult[];
  /** The rpcgen C client through the daemon: exit status per transport. */
  client: { tcp: number | null; udp: number | null; output: string };
  /** How many lookups waiting for the classic server took (they show in `-m`'s counters). */
  polls: number;
}

const scenario: Scenario = async (kind, { build, args }) => {
  const mode = (args[0] ?? 'unix') as 'unix' | 'removed' | 'none';
  const daemon = await startDaemon(kind as Kind, { socket: mode === 'unix' ? 'default' : mode });
  const host = mode === 'unix' ? [] : ['127.0.0.1'];
  const commands: CommandResult[] = [];

  // The rpcgen classic server: UNSET + SET udp and tcp (wildcard IPv4) over the unix socket (or TCP [::1]).
  const classic = new Proc(build.server, []);
  let polls = 0;
  await sleep(300);
  await waitUntil('the classic server to register', async () => {
    polls++;
    const p = await rpcinfo(['-p', '127.0.0.1']);
    return p.stdout.includes(` ${P1}    1   tcp`) && p.stdout.includes(` ${P1}    1   udp`);
  }, 30_000); // generous: on a loaded 2-core machine libtirpc's fallback to TCP [::1]:111 can take seconds
  // The svc_create server: versions 1 and 2 on udp, tcp, udp6, tcp6.
  const svc = new Proc(build.svcCreate, []);
  await svc.waitFor(/registered/);
  const dump = await rpcinfo(['127.0.0.1']);
  const normalise = portNormaliser(dump.stdout);
  const cmd = async (argv: string[], uid?: number): Promise<void> => {
    const r = await rpcinfo(argv, uid);
    commands.push({ ...r, stdout: normalise(r.stdout), stderr: normalise(r.stderr) });
  };

  // Every listing, before and after deletions.
  const listings = async (): Promise<void> => {
    await cmd(['-p']);
    await cmd(['-p', '127.0.0.1']);
    await cmd(['-p', 'localhost']);
    await cmd([]);
    await cmd(['127.0.0.1']);
    await cmd(['::1']);
    await cmd(['-s']);
    await cmd(['-s', '127.0.0.1']);
  };
  await listings();
  // Lookups and calls through the daemon.
  for (const a of [
    ['-l', '127.0.0.1', P1, '1'],
    ['-l', '127.0.0.1', P2, '1'],
    ['-l', '::1', P2, '2'],
    ['-l', '127.0.0.1', '100000', '2'],
    ['-l', '::1', '100000', '4'],
    ['-l', '127.0.0.1', P3, '1'],
    ['-T', 'tcp', '127.0.0.1', P1, '1'],
    ['-T', 'udp', '127.0.0.1', P1, '1'],
    ['-T', 'tcp6', '::1', P2, '1'],
    ['-T', 'udp6', '::1', P2, '2'],
    ['-T', 'tcp6', '::1', P2],
    ['-T', 'tcp6', '::1', P1, '1'], // the classic server has no IPv6 registration
    ['-T', 'udp', '127.0.0.1', P3, '1'],
    ['-t', '127.0.0.1', P1],
    ['-t', '127.0.0.1', P1, '1'],
    ['-u', '127.0.0.1', P1],
    ['-u', '127.0.0.1', P1, '1'],
    ['-t', '127.0.0.1', P2],
    ['-u', '127.0.0.1', P2, '2'],
    ['-t', 'localhost', '100000'],
    ['-u', '127.0.0.1', '100000', '2'],
    ['-n', '111', '-t', '127.0.0.1', P2, '1'],
    // errors: unregistered program, bad version (the server's PROG_MISMATCH, rpcbind's own)
    ['-t', '127.0.0.1', P3],
    ['-u', '127.0.0.1', P3, '1'],
    ['-t', '127.0.0.1', P1, '3'],
    ['-u', '127.0.0.1', P2, '5'],
    ['-t', '127.0.0.1', '100000', '5'],
    ['-u', '127.0.0.1', '100000', '1'],
    ['-T', 'udp', '127.0.0.1', '100000', '7'],
  ]) {
    await cmd(a);
  }
  // The rpcgen C client finds the C server through the daemon (v4 GETADDR) and every check passes.
  const tcpClient = new Proc(build.client, ['127.0.0.1', 'tcp', 'all']);
  const tcp = await tcpClient.exited;
  const udpClient = new Proc(build.client, ['127.0.0.1', 'udp', 'all']);
  const udp = await udpClient.exited;

  // Deletions: by a uid that does not own the entries (refused), of nothing, of one version on every
  // netid, of one version on one netid.
  if (mode === 'unix') await cmd(['-d', P2, '1'], 65534);
  await cmd(['-d', P3, '1']);
  await cmd(['-d', P2, '2']);
  await cmd(['-T', 'udp', '-d', P1, '1']);
  await listings();
  await cmd(['-t', '127.0.0.1', P2]);
  await cmd(['-u', '127.0.0.1', P1, '1']);

  // -m last (its counters include everything above); once without a host (over the unix socket).
  await cmd(['-m', ...host]);
  await cmd(['-m', '127.0.0.1']);

  classic.child.kill('SIGKILL');
  svc.child.kill('SIGKILL');
  await daemon.stop('SIGKILL');
  return { commands, polls, client: { tcp: tcp.code, udp: udp.code, output: tcpClient.stderr + udpClient.stderr } } satisfies RpcinfoResult;
};
export default scenario;
