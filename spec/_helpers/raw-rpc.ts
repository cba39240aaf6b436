// Hand-built RPC messages and raw exchanges over TCP/UDP sockets: the same calls fixtures/rpc_raw.py
// sends to provoke a server's error replies (and a few more), and a client that reports exactly which
// bytes came back and whether the server closed the connection.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';

export const AUTH_NONE = 0, AUTH_SYS = 1, AUTH_SHORT = 2, AUTH_DES = 3, RPCSEC_GSS = 6;
const PROG = 0x20406080;

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

export function opaque(b: Uint8Array): Buffer {
  return Buffer.concat([u32(b.length), b, Buffer.alloc(-b.length & 3)]);
}

export function auth(flavor: number, body: Uint8Array = new Uint8Array(0)): Buffer {
  return Buffer.concat([u32(flavor), opaque(body)]);
}

export function authSysBody(p: { machine?: Uint8Array; uid?: number; gid?: number; gids?: number[]; stamp?: number } = {}): Buffer {
  const gids = p.gids ?? [0];
  return Buffer.concat([u32(p.stamp ?? 0x12345678), opaque(p.machine ?? Buffer.from('pyclient')), u32(p.uid ?? 0), u32(p.gid ?? 0), u32(gids.length), ...gids.map(u32)]);
}

export interface CallFields {
  prog?: number;
  vers?: number;
  proc?: number;
  cred?: Buffer;
  verf?: Buffer;
  args?: Uint8Array;
  rpcvers?: number;
  mtype?: number;
}

/** A call message (no record mark). */
export function callMessage(xid: number, f: CallFields = {}): Buffer {
  return Buffer.concat([
    u32(xid),
    u32(f.mtype ?? 0),
    u32(f.rpcvers ?? 2),
    u32(f.prog ?? PROG),
    u32(f.vers ?? 1),
    u32(f.proc ?? 0),
    f.cred ?? auth(AUTH_NONE),
    f.verf ?? auth(AUTH_NONE),
    Buffer.from(f.args ?? new Uint8Array(0)),
  ]);
}

/** A message as one last fragment. */
export function recordOf(msg: Uint8Array): Buffer {
  return Buffer.concat([u32(0x80000000 | msg.length), msg]);
}

/** `msg` as fragments of these sizes (the last one the last fragment). */
export function fragmented(msg: Uint8Array, sizes: number[]): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  sizes.forEach((n, i) => {
    out.push(u32((i === sizes.length - 1 ? 0x80000000 : 0) | n), Buffer.from(msg.subarray(at, at + n)));
    at += n;
  });
  if (at !== msg.length) throw new Error(`fragments cover ${at} of ${msg.length} bytes`);
  return Buffer.concat(out);
}

export interface RawCase {
  name: string;
  xid: number;
  /** The message (UDP: the datagram; TCP: sent as one record unless `stream` is given). */
  message: Buffer;
  /** TCP: the exact bytes to send instead of recordOf(message). */
  stream?: Buffer;
  /** Only over this transport. */
  only?: 'tcp' | 'udp';
}

const ECHONAME = 6;

/**
 * fixtures/rpc_raw.py's CASES (xids 0x0e0000NN, the same bytes), MALFORMED (0x0d0000NN), and cases it
 * does not send (0x0c0000NN): other flavors, a REPLY and an unknown message type sent to the server.
 */
export function errorCases(): RawCase[] {
  const c = (name: string, xid: number, f: CallFields, extra: Partial<RawCase> = {}): RawCase => ({ name, xid, message: callMessage(xid, f), ...extra });
  const range = (a: number, b: number) => Buffer.from(Array.from({ length: b - a }, (_, i) => a + i));
  const cases: RawCase[] = [
    c('null-ok', 0x0e000001, {}),
    c('prog-unavail', 0x0e000002, { prog: PROG + 1 }),
    c('prog-mismatch', 0x0e000003, { vers: 2 }),
    c('proc-unavail', 0x0e000004, { proc: 99 }),
    c('garbage-args-truncated', 0x0e000005, { proc: 1, args: Buffer.concat([u32(1), u32(2)]) }),
    c('garbage-args-string-over-bound', 0x0e000006, { proc: ECHONAME, args: opaque(Buffer.alloc(100, 'x')) }),
    c('auth-flavor-99', 0x0e000007, { cred: auth(99, Buffer.from([1, 2, 3, 4])) }),
    c('auth-des-garbage', 0x0e000008, { cred: auth(AUTH_DES, range(0x10, 0x30)), verf: auth(AUTH_DES, range(0x40, 0x4c)) }),
    c('auth-sys-machinename-300', 0x0e000009, { cred: auth(AUTH_SYS, authSysBody({ machine: Buffer.alloc(300, 'm') })) }),
    c('auth-sys-ok', 0x0e00000a, { cred: auth(AUTH_SYS, authSysBody()) }),
    c('verf-flavor-99', 0x0e00000b, { verf: auth(99, Buffer.from([0xaa, 0xbb, 0xcc, 0xdd])) }),
    c('cred-over-400-bytes', 0x0e00000c, { cred: auth(AUTH_SYS, Buffer.alloc(404)) }),
    c('unencodable-result', 0x0e00000d, { proc: 7, args: u32(0x10) }), // AT_GETCOLOR(WHITE): no arm
    c('rpcvers-3', 0x0e00000e, { rpcvers: 3 }),
    c('auth-sys-truncated', 0x0d000001, { cred: auth(AUTH_SYS, Buffer.concat([u32(0x12345678), u32(8)])) }),
    c('auth-short', 0x0c000001, { cred: auth(AUTH_SHORT, Buffer.from([1, 2, 3, 4])) }),
    c('rpcsec-gss-garbage', 0x0c000002, { cred: auth(RPCSEC_GSS, range(0x20, 0x40)) }),
    c('reply-sent-to-server', 0x0c000003, { mtype: 1 }),
    c('msg-type-2', 0x0c000004, { mtype: 2 }),
    c('cred-400-bytes-exactly', 0x0c000005, { cred: auth(99, Buffer.alloc(400)) }),
    c('verf-over-400-bytes', 0x0c000006, { verf: auth(AUTH_NONE, Buffer.alloc(404)) }),
    c('auth-sys-17-gids', 0x0c000007, { cred: auth(AUTH_SYS, authSysBody({ gids: Array.from({ length: 17 }, (_, i) => i) })) }),
    c('auth-sys-16-gids', 0x0c000008, { cred: auth(AUTH_SYS, authSysBody({ gids: Array.from({ length: 16 }, (_, i) => i) })) }),
    c('auth-sys-trailing-bytes', 0x0c000009, { cred: auth(AUTH_SYS, Buffer.concat([authSysBody(), u32(7)])) }),
    c('null-args-trailing-bytes', 0x0c00000a, { args: Buffer.concat([u32(1), u32(2)]) }),
    c('truncated-header', 0x0c00000b, {}, { message: callMessage(0x0c00000b).subarray(0, 20) }),
    c('version-0', 0x0c00000c, { vers: 0 }),
    // TCP framing (fixtures/rpc_raw.py frags and malformed)
    c('empty-first-fragment', 0x0d000002, {}, { only: 'tcp', stream: Buffer.concat([u32(0), recordOf(callMessage(0x0d000002))]) }),
    c('null-in-3-fragments', 0x0f000001, {}, { only: 'tcp', stream: fragmented(callMessage(0x0f000001), [28, 4, 8]) }),
    c('three-records-one-write', 0x0f000003, {}, {
      only: 'tcp',
      stream: Buffer.concat([recordOf(callMessage(0x0f000003)), recordOf(callMessage(0x0f000004, { proc: 3, args: u32(2) })), recordOf(callMessage(0x0f000005, { proc: 8, args: u32(0) }))]),
    }),
  ];
  return cases;
}

export interface RawResult {
  /** Reply records (TCP, fragments joined) or datagrams, hex. */
  replies: string[];
  /** TCP: the server closed the connection (EOF or reset) within the wait. */
  closed: boolean;
}

/**
 * Sends `bytes` on a new TCP connection and collects reply records until the server closes the
 * connection or nothing more arrived for `quietMs` after the last reply (or `quietMs` with no reply).
 */
export function tcpExchange(host: string, port: number, bytes: Uint8Array, quietMs = 600): Promise<RawResult> {
  return new Promise((resolve) => {
    const sock: Socket = connect({ host, port });
    let buf = Buffer.alloc(0);
    let frags: Buffer[] = [];
    const replies: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ replies, closed });
    };
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    };
    sock.on('connect', () => {
      sock.write(bytes);
      arm();
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4) {
        const mark = buf.readUInt32BE(0);
        const n = mark & 0x7fffffff;
        if (buf.length < 4 + n) break;
        frags.push(buf.subarray(4, 4 + n));
        buf = buf.subarray(4 + n);
        if (mark & 0x80000000) {
          replies.push(Buffer.concat(frags).toString('hex'));
          frags = [];
        }
      }
      arm();
    });
    sock.on('error', () => {});
    sock.on('close', () => finish(true));
  });
}

/** Sends one datagram and collects every datagram that comes back within `waitMs`. */
export function udpExchange(host: string, port: number, bytes: Uint8Array, waitMs = 600): Promise<RawResult> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const replies: string[] = [];
    sock.on('message', (m) => replies.push(m.toString('hex')));
    sock.on('error', () => {});
    sock.send(bytes, port, host);
    setTimeout(() => {
      sock.close();
      resolve({ replies, closed: false });
    }, waitMs);
  });
}
