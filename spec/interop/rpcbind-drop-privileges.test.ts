// `oncrpc rpcbind -s -w` started as root in a private namespace: after binding port 111 and
// /run/rpcbind.sock it runs as the rpc user (_rpc on Debian, else nobody) with that user's group only,
// still answers real rpcinfo over UDP/TCP and over the unix socket, and on SIGTERM writes its
// warm-start files as that user into /run/rpcbind (made for it while it was root).
import t from 'tap';
import { join } from 'node:path';
import { labPrerequisites, ROOT, runInLab } from '../_helpers/lab.js';
import { systemUser } from '../../src/rpcbind/daemon.js';

t.test('rpcbind -s: drops to the rpc user after binding, and keeps working', async (t) => {
  if (!labPrerequisites(t, ['rpcinfo'])) return;
  const user = systemUser(['_rpc', 'rpc', 'nobody']);
  if (!user) {
    t.fail('no _rpc, rpc or nobody user in /etc/passwd');
    return;
  }
  const script = `
    log=$(mktemp)
    "${process.execPath}" "${join(ROOT, 'bin/oncrpc.js')}" rpcbind -f -s -w > "$log" 2>&1 &
    P=$!
    for _ in $(seq 400); do grep -q 'dropped privileges' "$log" && break; sleep 0.025; done
    echo "uid: $(awk '/^Uid:/ { print $2, $3, $4, $5 }' /proc/$P/status)"
    echo "gid: $(awk '/^Gid:/ { print $2, $3, $4, $5 }' /proc/$P/status)"
    echo "groups: $(awk '/^Groups:/ { $1 = ""; print }' /proc/$P/status)"
    echo "rpcinfo: $(rpcinfo -p 127.0.0.1 | grep -c portmapper)"
    rpcinfo -s | grep -c portmapper | sed 's/^/rpcinfo -s: /'
    kill -TERM $P; wait $P; echo "exit: $?"
    stat -c 'file: %n %u %a' /run/rpcbind/rpcbind.xdr /run/rpcbind/portmap.xdr
    echo "--- log"; cat "$log"`;
  const r = await runInLab(['bash', '-c', script], { timeoutMs: 60_000 });
  const out = r.stdout;
  t.equal(r.code, 0, r.stderr);
  t.match(out, new RegExp(`^uid: ${user.uid} ${user.uid} ${user.uid} ${user.uid}$`, 'm'), `runs as ${user.name} (real, effective, saved, fs uid)`);
  t.match(out, new RegExp(`^gid: ${user.gid} ${user.gid} ${user.gid} ${user.gid}$`, 'm'), "with the user's primary group");
  t.match(out, new RegExp(`^groups:\\s*${user.gid}\\s*$`, 'm'), "root's supplementary groups dropped");
  t.match(out, /^rpcinfo: [1-9]\d*$/m, 'real rpcinfo -p still gets answers');
  t.match(out, /^rpcinfo -s: 1$/m, 'and rpcinfo -s over the unix socket');
  t.match(out, /^exit: 0$/m, 'SIGTERM: a clean exit');
  t.match(out, new RegExp(`^file: /run/rpcbind/rpcbind.xdr ${user.uid} 600$`, 'm'), 'warm-start file written as that user, mode 0600');
  t.match(out, new RegExp(`^file: /run/rpcbind/portmap.xdr ${user.uid} 600$`, 'm'));
  t.match(out, /dropped privileges/, 'logged');
});
