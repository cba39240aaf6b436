// `oncrpc info` against the real programs, in three private namespaces run side by side: for every
// rpcinfo form, the real `rpcinfo` and `oncrpc info` with the same arguments print the same stdout and
// stderr and exit with the same status (only the counters of -m may differ: each run is one more
// GETSTAT; -b replies are compared as a set), and `--json` of each form is valid against
// docs/info-json.md with rpcinfo's exit status.
//
//   real rpcbind    rpcbind -w -f -r holding the rpcgen C server's registrations (udp, tcp), a
//                   svc_create server's (udp, tcp, udp6, tcp6, versions 1 and 2, one entry deleted with
//                   rpcinfo -d), well-known programs, a version 2^32-1, a `local` entry, a portmap v2
//                   one; then -d, the C server killed (registered, not answering), -b on a veth pair
//   oncrpc rpcbind  the same, against `node bin/oncrpc.js rpcbind -f -r`
//   no rpcbind      no unix socket, nothing on port 111 (and one form that waits libtirpc's 60 s)
import t from 'tap';
import { join } from 'node:path';
import { which } from '../_helpers/peers.js';
import { buildAlltypesC, insideLab, labBuild, labPrerequisites, Proc, spawnInLab, startCServer } from '../_helpers/lab.js';
import { buildSvcCreateServer, CLI, runDownMatrix, runInfoMatrix, waitForRpcbind } from './info-lab.js';

const LAB = 'ONCRPC_INFO_LAB';

if (!insideLab()) {
  if (labPrerequisites(t)) {
    const build = buildAlltypesC();
    buildSvcCreateServer(build);
    t.jobs = 3;
    for (const lab of ['real rpcbind', 'oncrpc rpcbind', 'no rpcbind']) {
      spawnInLab(t, import.meta.url, build, { env: { [LAB]: lab }, name: `${lab}, in a private network namespace`, timeout: 240_000 });
    }
  }
} else if (process.env[LAB] === 'no rpcbind') {
  t.test('rpcinfo and oncrpc info, no rpcbind', async (t) => {
    await runDownMatrix(t);
  });
} else {
  const build = labBuild();
  const real = process.env[LAB] === 'real rpcbind';
  t.test(`rpcinfo and oncrpc info, against ${process.env[LAB]}`, async (t) => {
    // -r: rpcbind answers broadcast calls by forwarding them (Debian's does not by default).
    const rpcbind = real ? new Proc(which('rpcbind') ?? '/sbin/rpcbind', ['-w', '-f', '-r']) : new Proc(process.execPath, [CLI, 'rpcbind', '-f', '-r']);
    t.teardown(() => rpcbind.stop());
    await waitForRpcbind();
    const c = await startCServer(build, t);
    const svc = new Proc(join(build.dir, 'svc_create_server'), []);
    t.teardown(() => svc.stop());
    await svc.waitFor(/registered \d+\n/);
    await runInfoMatrix(t, { stopCServer: () => c.proc.stop(), json: real });
  });
}
