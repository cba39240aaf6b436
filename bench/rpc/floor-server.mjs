// The floor of a Node server on this machine: TCP and UDP sockets on 127.0.0.1 that answer every AT_NULL
// call with the 24-byte SUCCESS reply (its xid copied in) and do nothing else: no RPC decoding, no
// dispatch, one write per reply as RpcServer does. What a Node server cannot go below; the bench shows
// it next to RpcServer for AT_NULL. Prints `PORTS <tcp> <udp>`.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

const reply = (xid, mark) => {
  const r = Buffer.alloc(mark ? 28 : 24);
  let at = 0;
  if (mark) r.writeUInt32BE(0x80000018, (at += 4) - 4);
  r.writeUInt32BE(xid, at);
  r.writeUInt32BE(1, at + 4); // REPLY; MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS are zeros
  return r;
};
const tcp = createServer({ noDelay: true }, (sock) => {
  let pending = Buffer.alloc(0);
  sock.on('data', (d) => {
    let buf = pending.length ? Buffer.concat([pending, d]) : d;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0) & 0x7fffffff;
      if (buf.length < 4 + n) break;
      sock.write(reply(buf.readUInt32BE(4), true));
      buf = buf.subarray(4 + n);
    }
    pending = buf;
  });
  sock.on('error', () => {});
});
await new Promise((r) => tcp.listen(0, '127.0.0.1', r));
const udp = createSocket('udp4');
udp.on('message', (msg, rinfo) => udp.send(reply(msg.readUInt32BE(0), false), rinfo.port, rinfo.address));
await new Promise((r) => udp.bind(0, '127.0.0.1', r));
process.stdout.write(`PORTS ${tcp.address().port} ${udp.address().port}\n`);
