// Warm start between the real rpcbind 1.2.6 and `oncrpc rpcbind` (rpcbind-warmstart.lab.ts, one lab, the
// daemons in turn on the same /run): the files rpcbind writes with -w on SIGTERM (/run/rpcbind/rpcbind.xdr
// and portmap.xdr, mode 0600) are read by oncrpc -w, which then shows the same registrations to rpcinfo
// and deletes them, as rpcbind does; the files oncrpc writes are byte for byte rpcbind's and rpcbind reads
// them. Beyond rpcbind: oncrpc -w persists every change, so kill -9 loses nothing. Corrupt, truncated,
// empty and missing files give both daemons the same registrations; oncrpc reports each bad file in a
// log line and starts anyway.
import t from 'tap';
import { labPrerequisites } from '../_helpers/lab.js';
import { buildRpcbindLab, runScenario } from '../_helpers/rpcbind-lab.js';
import type { WarmStartResult } from './rpcbind-warmstart.lab.js';

const SCENARIO = new URL('./rpcbind-warmstart.lab.ts', import.meta.url);

if (labPrerequisites(t, ['setpriv'])) {
  const build = buildRpcbindLab();
  t.test('warm-start files from rpcbind to oncrpc and back; kill -9; corrupt files', async (t) => {
    const r = await runScenario<WarmStartResult>(build, SCENARIO, 'both', { timeoutMs: 180_000 });
    t.match(r.realBefore.plain, / 805306384 +1 +tcp +0\.0\.0\.0\.14\.1 +- +65534\n/, 'rpcbind holds a uid 65534 registration');
    t.match(r.realBefore.plain, / 541089921 +1 +tcp6 /, 'and the svc_create server\'s');
    t.notMatch(r.realBefore.plain, / 541089921 +2 /, 'rpcinfo -d removed its version 2');
    t.same([r.realFiles.rpcbind?.mode, r.realFiles.portmap?.mode], [0o600, 0o600], 'rpcbind wrote both files on SIGTERM, mode 0600');

    t.same(r.oncrpcAfter, r.realBefore, 'oncrpc -w on rpcbind\'s files: rpcinfo, rpcinfo -p and rpcinfo -s print the same');
    t.notOk(r.oncrpcLeftFiles, 'oncrpc deleted the files it read');
    t.match(r.oncrpcLog, /rpcbind info: warm start /, 'and said so');
    t.equal(r.clientCode, 0, 'the C client reaches the C server through oncrpc after the hand-over');

    t.same([r.oncrpcFiles.rpcbind?.mode, r.oncrpcFiles.portmap?.mode], [0o600, 0o600], 'oncrpc wrote both files on SIGTERM, mode 0600');
    t.same([r.oncrpcFiles.rpcbind?.uid, r.oncrpcFiles.portmap?.uid], [r.realFiles.rpcbind?.uid, r.realFiles.portmap?.uid], 'owned by the user rpcbind runs as (the owner of /run/rpcbind), so that it can read them');
    t.equal(r.oncrpcFiles.rpcbind?.hex, r.realFiles.rpcbind?.hex, 'rpcbind.xdr: the bytes rpcbind wrote for the same registrations');
    t.equal(r.oncrpcFiles.portmap?.hex, r.realFiles.portmap?.hex, 'portmap.xdr: the bytes rpcbind wrote');
    t.same(r.realAfter, r.realBefore, 'rpcbind -w on oncrpc\'s files: the same registrations');
    t.notOk(r.realLeftFiles, 'rpcbind deleted them too');

    t.match(r.beforeKill.plain, / 805306388 +1 +udp6 +::\.14\.3 /, 'a registration made after the restart');
    t.notMatch(r.beforeKill.plain, / 541089921 +1 +tcp6 /, 'an UNSET made after the restart');
    t.same(r.afterKill, r.beforeKill, 'oncrpc -w: kill -9 then restart keeps every registration (persisted on every change)');

    t.match(r.first.oncrpc.plain, / 805306389 +1 +tcp +0\.0\.0\.0\.14\.4 /, 'oncrpc first, on a fresh /run');
    t.same(r.first.dir, { uid: r.realFiles.rpcbind?.uid, gid: 0, mode: 0o750 }, '/run/rpcbind made as rpcbind makes it (its user, mode 0750)');
    t.same(r.first.real, r.first.oncrpc, 'rpcbind -w then reads oncrpc\'s files');

    for (let i = 0; i < r.corrupt.length; i += 2) {
      const real = r.corrupt[i]!;
      const onc = r.corrupt[i + 1]!;
      t.test(real.name, async (t) => {
        t.equal(onc.exit, null, 'oncrpc is running');
        t.same(onc.view, real.view, 'the same registrations as rpcbind');
        t.same(onc.left, real.left, 'the same files left behind');
        if (/garbage|truncated|empty/.test(real.name)) t.match(onc.log, /rpcbind warn: warm-start file \/run\/rpcbind\/\w+\.xdr is corrupt; ignored/, 'oncrpc reports the bad file');
      });
    }
  });
}
