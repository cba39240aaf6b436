// systemd socket activation, as rpcbind.socket starts rpcbind: the sockets (a TCP listener, a UDP
// socket, a unix listener) are made by the "systemd" side (a python3 stand-in that binds them and execs
// the daemon with LISTEN_PID/LISTEN_FDS, exactly the protocol of sd_listen_fds), and the daemon serves
// them instead of binding its own (it would fail with EADDRINUSE if it tried).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RpcClient } from '../../src/client/rpc-client.js';
import { PMAP_VERS_2 } from '../../src/rpcbind/pmap-prot.gen.js';
import { RPCBVERS4_4 } from '../../src/rpcbind/rpcb-prot.gen.js';
import { nativeAvailable } from '../../src/transport/native.js';
import { IN_CI, requirePeer } from '../_helpers/peers.js';

const root = new URL('../../', import.meta.url).pathname;

if (!nativeAvailable()) {
  if (IN_CI) t.fail('the native addon is needed to adopt UDP sockets (npm ci builds it)');
  else t.comment('native addon missing: not checked');
} else if (requirePeer(t, 'python3')) {
  t.test('the daemon serves the TCP, UDP and unix sockets it is handed', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'oncrpc-activation-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const port = 30000 + (process.pid % 3000);
    const path = join(dir, 'rpcbind.sock');
    const py = `
import os, socket, sys
t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("::", ${port})); t.listen(64)
u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u.bind(("::", ${port}))
x = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); x.bind(${JSON.stringify(path)}); x.listen(64)
for i, s in enumerate([t, u, x]):
    os.dup2(s.fileno(), 3 + i)
    os.set_inheritable(3 + i, True)
os.environ["LISTEN_FDS"] = "3"
os.environ["LISTEN_PID"] = str(os.getpid())
node = sys.argv[1]
os.execv(node, [node, ${JSON.stringify(join(root, 'bin/oncrpc.js'))}, "rpcbind", "-f", "--port", "${port}", "--socket", ${JSON.stringify(path)}])
`;
    const child = spawn('python3', ['-c', py, process.execPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
    t.teardown(() => child.kill('SIGKILL'));
    for (let i = 0; i < 100 && !/listening/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
    t.match(log, /listening/, 'started');
    const ask = async (c: RpcClient) => {
      try {
        return await c.bind(PMAP_VERS_2).PMAPPROC_GETPORT({ prog: 100000, vers: 2, prot: 6, port: 0 });
      } finally {
        c.destroy();
      }
    };
    t.equal(await ask(new RpcClient({ transport: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 3000 })), port, 'TCP (IPv4 on the dual-stack listener)');
    t.equal(await ask(new RpcClient({ transport: 'udp', host: '::1', port }, { timeoutMs: 3000 })), port, 'UDP');
    const local = new RpcClient({ transport: 'unix', path }, { timeoutMs: 3000 });
    t.equal(await local.bind(RPCBVERS4_4).RPCBPROC_GETADDR({ r_prog: 100000, r_vers: 4, r_netid: 'local', r_addr: '', r_owner: '' }), path, 'the unix socket');
    local.destroy();
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    t.equal(code, 0, 'SIGTERM: a clean exit');
    t.notMatch(log, /EADDRINUSE|error/i);
  });
}
