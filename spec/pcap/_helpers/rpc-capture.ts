// Writes large synthetic captures of RPC traffic quickly (a million messages in a few seconds): Ethernet,
// IPv4, UDP and TCP (handshake, pipelined calls, records split across segments and several records in one
// segment, multi-fragment records, FIN), portmapper v2, NFS v3, mountd v3 and ALLTYPES_PROG with well-formed
// bodies tshark dissects, error replies of every kind, calls that get no reply. Deterministic per seed.
// Used by spec/cli/decode-scale.test.ts (counts against tshark) and the memory tests.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Rng } from '../../_helpers/hex.js';

export interface RpcCaptureOptions {
  /** RPC messages to write (calls + replies), at least. */
  messages: number;
  seed?: number;
  /** Fraction of calls that get no reply (default 0.004). */
  unanswered?: number;
  /** Mean time between the starts of two exchanges, in microseconds (default 10). */
  gapUs?: number;
  /** Concurrent TCP connections (default 6). */
  tcpConnections?: number;
  /** Exchanges on a TCP connection before it is closed and another opened (default 5000). */
  exchangesPerConnection?: number;
  /**
   * Delay of replies in microseconds given the random draw `u` in [0, 1): default a long-tailed spread
   * from ~20 µs to ~80 ms.
   */
  rtt?: (u: number) => number;
}

/** What was written, for the tests to compare with. */
export interface RpcCaptureSummary {
  packets: number;
  calls: number;
  replies: number;
  bytes: number;
  /** UDP and TCP server ports of programs tshark does not know (for `-d PORT,rpc`). */
  unknownPorts: { udp: number[]; tcp: number[] };
}

export const ALLTYPES_PROG = 0x20406080;
const BASE_SEC = 1_700_000_000;
const SERVER = [10, 0, 0, 1];
const MSS = 1448;

/** A growable big-endian byte builder for message bodies. */
class X {
  b = Buffer.alloc(1 << 15);
  n = 0;
  u32(v: number): this {
    this.b.writeUInt32BE(v >>> 0, this.n);
    this.n += 4;
    return this;
  }
  u64(v: number): this {
    return this.u32(Math.floor(v / 0x100000000)).u32(v >>> 0);
  }
  opaque(bytes: Uint8Array): this {
    this.u32(bytes.length);
    this.b.set(bytes, this.n);
    this.n += bytes.length;
    while (this.n % 4) this.b[this.n++] = 0;
    return this;
  }
  fixed(bytes: Uint8Array): this {
    this.b.set(bytes, this.n);
    this.n += bytes.length;
    return this;
  }
  zeros(n: number): this {
    this.b.fill(0, this.n, this.n + n);
    this.n += n;
    return this;
  }
  done(): Buffer {
    return Buffer.from(this.b.subarray(0, this.n));
  }
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const MACHINES = Array.from({ length: 64 }, (_, i) => text(`client${i}`));

function fattr3(x: X, rng: Rng): X {
  // type, mode, nlink, uid, gid, size, used, rdev, fsid, fileid, atime, mtime, ctime
  return x.u32(1).u32(0o644).u32(1).u32(1000).u32(1000).u64(rng.int(1 << 20)).u64(4096).u32(0).u32(0).u64(1).u64(rng.int(1e6)).zeros(24);
}

/** One kind of exchange: where it goes and how its call and reply look. */
interface Kind {
  weight: number;
  transport: 'udp' | 'tcp';
  port: number;
  prog: number;
  vers: number;
  proc: number;
  call(x: X, rng: Rng): void;
  /** The reply after the 24-byte header's xid+mtype: from reply_stat on. */
  reply(x: X, rng: Rng): void;
}

const fh = (rng: Rng): Uint8Array => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = (i * 13 + rng.int(4)) & 0xff;
  return b;
};
const ok = (x: X): X => x.u32(0).u32(0).u32(0).u32(0); // MSG_ACCEPTED, verf AUTH_NONE, SUCCESS
const accepted = (x: X, stat: number): X => x.u32(0).u32(0).u32(0).u32(stat);

const KINDS: Kind[] = [
  // portmapper v2 over UDP
  { weight: 20, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 3, call: (x, r) => x.u32(100003).u32(3).u32(r.int(2) ? 6 : 17).u32(0), reply: (x) => ok(x).u32(2049) },
  { weight: 3, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 0, call: () => {}, reply: (x) => ok(x) },
  {
    weight: 2, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 4, call: () => {},
    reply: (x, r) => {
      ok(x);
      for (let i = 1 + r.int(12); i > 0; i--) x.u32(1).u32(100000 + r.int(30)).u32(1 + r.int(4)).u32(r.int(2) ? 6 : 17).u32(r.int(65536));
      x.u32(0);
    },
  },
  { weight: 1, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 3, call: (x) => x.u32(100003).u32(3), reply: (x) => accepted(x, 4) }, // GARBAGE_ARGS
  { weight: 0.5, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 9, call: () => {}, reply: (x) => accepted(x, 3) }, // PROC_UNAVAIL
  { weight: 0.5, transport: 'udp', port: 111, prog: 100000, vers: 5, proc: 0, call: () => {}, reply: (x) => accepted(x, 2).u32(2).u32(4) }, // PROG_MISMATCH
  { weight: 0.3, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 1, call: (x) => x.u32(100003).u32(3).u32(17).u32(2049), reply: (x) => x.u32(1).u32(1).u32(5) }, // AUTH_ERROR AUTH_TOOWEAK
  { weight: 0.2, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 1, call: (x) => x.u32(100003).u32(3).u32(17).u32(2049), reply: (x) => x.u32(1).u32(0).u32(2).u32(4) }, // RPC_MISMATCH(2, 4)
  { weight: 0.2, transport: 'udp', port: 111, prog: 100000, vers: 2, proc: 3, call: (x) => x.u32(100003).u32(3).u32(6).u32(0), reply: (x) => accepted(x, 5) }, // SYSTEM_ERR
  { weight: 0.2, transport: 'udp', port: 111, prog: 100099, vers: 1, proc: 0, call: () => {}, reply: (x) => accepted(x, 1) }, // PROG_UNAVAIL
  // NFS v3 over UDP and TCP
  { weight: 10, transport: 'udp', port: 2049, prog: 100003, vers: 3, proc: 1, call: (x, r) => x.opaque(fh(r)), reply: (x, r) => fattr3(ok(x).u32(0), r) },
  { weight: 30, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 1, call: (x, r) => x.opaque(fh(r)), reply: (x, r) => fattr3(ok(x).u32(0), r) },
  {
    weight: 12, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 3, call: (x, r) => x.opaque(fh(r)).opaque(text(`file-${r.int(100000)}.dat`)),
    reply: (x, r) => {
      ok(x);
      if (r.int(5) === 0) x.u32(2).u32(0); // NFS3ERR_NOENT, no dir attributes
      else fattr3(fattr3(x.u32(0).opaque(fh(r)).u32(1), r).u32(1), r);
    },
  },
  { weight: 6, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 4, call: (x, r) => x.opaque(fh(r)).u32(0x1f), reply: (x, r) => fattr3(ok(x).u32(0).u32(1), r).u32(0x1f) },
  {
    weight: 2, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 6, call: (x, r) => x.opaque(fh(r)).u64(r.int(1 << 20) * 4096).u32(4096),
    reply: (x, r) => {
      const n = 512 * (1 + r.int(8));
      fattr3(ok(x).u32(0).u32(1), r).u32(n).u32(0).u32(n).zeros(n);
    },
  },
  { weight: 0.5, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 0, call: () => {}, reply: (x) => ok(x) },
  { weight: 0.3, transport: 'tcp', port: 2049, prog: 100003, vers: 3, proc: 1, call: (x, r) => x.opaque(fh(r)), reply: (x) => x.u32(1).u32(1).u32(2) }, // AUTH_ERROR AUTH_REJECTEDCRED
  // mountd v3 over UDP
  {
    weight: 2, transport: 'udp', port: 20048, prog: 100005, vers: 3, proc: 1, call: (x, r) => x.opaque(text(`/export/vol${r.int(10)}`)),
    reply: (x, r) => ok(x).u32(0).opaque(fh(r)).u32(1).u32(1),
  },
  // a program tshark does not know, over UDP and TCP
  { weight: 2, transport: 'udp', port: 40000, prog: ALLTYPES_PROG, vers: 1, proc: 1, call: (x, r) => x.u32(r.u32()).u32(r.u32()), reply: (x, r) => ok(x).u32(r.u32()) },
  { weight: 1.5, transport: 'tcp', port: 40001, prog: ALLTYPES_PROG, vers: 1, proc: 3, call: (x, r) => x.u32(r.int(6)), reply: (x, r) => ok(x).u32(1).u32(r.u32()) },
];
const TOTAL_WEIGHT = KINDS.reduce((n, k) => n + k.weight, 0);

function pickKind(rng: Rng): Kind {
  let w = (rng.u32() / 0x100000000) * TOTAL_WEIGHT;
  for (const k of KINDS) if ((w -= k.weight) < 0) return k;
  return KINDS[0]!;
}

/** An RPC call message with `xid` for `k`: AUTH_SYS credential for most, AUTH_NONE for some. */
function callBytes(k: Kind, xid: number, rng: Rng, x: X): Buffer {
  x.n = 0;
  x.u32(xid).u32(0).u32(2).u32(k.prog).u32(k.vers).u32(k.proc);
  if (rng.int(4) === 0) x.u32(0).u32(0);
  else {
    // AUTH_SYS: stamp, machine name, uid, gid, 2 gids (the body's length first).
    const machine = MACHINES[rng.int(MACHINES.length)]!;
    x.u32(1).u32(4 + 4 + ((machine.length + 3) & ~3) + 4 + 4 + 4 + 8);
    x.u32(rng.u32()).opaque(machine).u32(rng.int(2000)).u32(100).u32(2).u32(100).u32(10);
  }
  x.u32(0).u32(0);
  k.call(x, rng);
  return x.done();
}

function replyBytes(k: Kind, xid: number, rng: Rng, x: X): Buffer {
  x.n = 0;
  x.u32(xid).u32(1);
  k.reply(x, rng);
  return x.done();
}

/** A binary heap of scheduled packets, by time then insertion order. */
class Heap<T extends { t: number; seq: number }> {
  a: T[] = [];
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  get size(): number {
    return this.a.length;
  }
}
const less = (x: { t: number; seq: number }, y: { t: number; seq: number }): boolean => x.t < y.t || (x.t === y.t && x.seq < y.seq);

interface TcpConn {
  client: number[];
  cport: number;
  sport: number;
  /** Next sequence numbers: client -> server, server -> client. */
  cseq: number;
  sseq: number;
  left: number;
  closing: boolean;
}

type Ev =
  | { t: number; seq: number; kind: 'udp'; client: number[]; cport: number; sport: number; toServer: boolean; payload: Buffer }
  | { t: number; seq: number; kind: 'tcp'; conn: TcpConn; toServer: boolean; records: Buffer[]; flags?: number }
  | { t: number; seq: number; kind: 'next' };

/**
 * Writes the capture to `path` (classic pcap, Ethernet, microsecond timestamps) and returns what it holds.
 */
export function writeRpcCapture(path: string, opts: RpcCaptureOptions): RpcCaptureSummary {
  const rng = new Rng(opts.seed ?? 1);
  const unanswered = opts.unanswered ?? 0.004;
  const gap = opts.gapUs ?? 10;
  const rtt = opts.rtt ?? ((u: number) => 20 + Math.round(Math.exp(u * u * 8.3) * 15 + u * 200));
  const perConn = opts.exchangesPerConnection ?? 5000;
  const fd = openSync(path, 'w');
  const out = Buffer.alloc(8 << 20);
  let o = 0;
  let bytes = 0;
  const flush = (): void => {
    writeSync(fd, out, 0, o);
    bytes += o;
    o = 0;
  };
  // pcap header: LE, microseconds, v2.4, snaplen 262144, Ethernet
  out.writeUInt32LE(0xa1b2c3d4, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeUInt32LE(262144, 16);
  out.writeUInt32LE(1, 20);
  o = 24;
  let packets = 0;
  let ipId = 0;
  const packet = (tUs: number, src: number[], dst: number[], proto: number, l4: (at: number) => number, l4Len: number): void => {
    const frame = 14 + 20 + l4Len;
    if (o + 16 + frame > out.length) flush();
    out.writeUInt32LE(BASE_SEC + Math.floor(tUs / 1e6), o);
    out.writeUInt32LE(tUs % 1e6, o + 4);
    out.writeUInt32LE(frame, o + 8);
    out.writeUInt32LE(frame, o + 12);
    const e = o + 16;
    out.fill(0, e, e + 12);
    out[e + 5] = dst[3]!;
    out[e + 11] = src[3]!;
    out.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    out[ip] = 0x45;
    out[ip + 1] = 0;
    out.writeUInt16BE(20 + l4Len, ip + 2);
    out.writeUInt16BE(ipId++ & 0xffff, ip + 4);
    out.writeUInt16BE(0x4000, ip + 6);
    out[ip + 8] = 64;
    out[ip + 9] = proto;
    out.writeUInt16BE(0, ip + 10);
    out.set(src, ip + 12);
    out.set(dst, ip + 16);
    const written = l4(ip + 20);
    if (written !== l4Len) throw new Error(`layer 4 wrote ${written} of ${l4Len} bytes`);
    o = e + frame;
    packets++;
  };
  const udpPacket = (tUs: number, src: number[], dst: number[], sp: number, dp: number, payload: Uint8Array): void => {
    packet(tUs, src, dst, 17, (at) => {
      out.writeUInt16BE(sp, at);
      out.writeUInt16BE(dp, at + 2);
      out.writeUInt16BE(8 + payload.length, at + 4);
      out.writeUInt16BE(0, at + 6);
      out.set(payload, at + 8);
      return 8 + payload.length;
    }, 8 + payload.length);
  };
  const tcpPacket = (tUs: number, c: TcpConn, toServer: boolean, flags: number, payload: Uint8Array): void => {
    const [src, dst, sp, dp] = toServer ? [c.client, SERVER, c.cport, c.sport] : [SERVER, c.client, c.sport, c.cport];
    const seq = toServer ? c.cseq : c.sseq;
    const ack = toServer ? c.sseq : c.cseq;
    packet(tUs, src, dst, 6, (at) => {
      out.writeUInt16BE(sp, at);
      out.writeUInt16BE(dp, at + 2);
      out.writeUInt32BE(seq >>> 0, at + 4);
      out.writeUInt32BE(ack >>> 0, at + 8);
      out[at + 12] = 5 << 4;
      out[at + 13] = flags;
      out.writeUInt16BE(65535, at + 14);
      out.writeUInt32BE(0, at + 16);
      out.set(payload, at + 20);
      return 20 + payload.length;
    }, 20 + payload.length);
    const adv = payload.length + ((flags & 0x03) !== 0 ? 1 : 0); // SYN and FIN take a sequence number
    if (toServer) c.cseq = (c.cseq + adv) >>> 0;
    else c.sseq = (c.sseq + adv) >>> 0;
  };
  const ACK = 0x10;
  const PSH = 0x08;
  /** The record-marked stream bytes of `records`; now and then a record in two fragments. */
  const frame = (records: Buffer[]): Buffer => {
    const parts: Buffer[] = [];
    for (const r of records) {
      if (r.length > 64 && rng.int(40) === 0) {
        const cut = 32 + 4 * rng.int(Math.floor((r.length - 36) / 4)); // tshark needs the header in the first fragment
        const m1 = Buffer.alloc(4);
        m1.writeUInt32BE(cut);
        const m2 = Buffer.alloc(4);
        m2.writeUInt32BE((0x80000000 | (r.length - cut)) >>> 0);
        parts.push(m1, r.subarray(0, cut), m2, r.subarray(cut));
      } else {
        const m = Buffer.alloc(4);
        m.writeUInt32BE((0x80000000 | r.length) >>> 0);
        parts.push(m, r);
      }
    }
    return Buffer.concat(parts);
  };

  const heap = new Heap<Ev>();
  let order = 0;
  let now = 0;
  let calls = 0;
  let replies = 0;
  let xid = 0x10000000 + rng.int(0x1000000);
  let nextPort = 0;
  const clientAddr = (): number[] => [10, 0, 1 + rng.int(3), 2 + rng.int(200)];
  const newConn = (tUs: number, sport: number): TcpConn => {
    const c: TcpConn = { client: clientAddr(), cport: 41000 + (nextPort++ % 24000), sport, cseq: rng.u32(), sseq: rng.u32(), left: perConn, closing: false };
    tcpPacket(tUs, c, true, 0x02, Buffer.alloc(0));
    tcpPacket(tUs, c, false, 0x12, Buffer.alloc(0));
    tcpPacket(tUs, c, true, ACK, Buffer.alloc(0));
    return c;
  };
  const conns: TcpConn[] = [];
  const connsAlltypes: TcpConn[] = [];
  const x = new X();
  heap.push({ t: 0, seq: order++, kind: 'next' });
  const emitTcp = (ev: Ev & { kind: 'tcp' }): void => {
    const c = ev.conn;
    if (ev.flags !== undefined) {
      tcpPacket(ev.t, c, ev.toServer, ev.flags, Buffer.alloc(0));
      return;
    }
    const stream = frame(ev.records);
    // Segments of at most MSS; a small record now and then split in two segments.
    let cuts: number[] = [];
    for (let i = MSS; i < stream.length; i += MSS) cuts.push(i);
    if (cuts.length === 0 && stream.length > 16 && rng.int(50) === 0) cuts = [8 + rng.int(stream.length - 8)];
    let from = 0;
    for (const end of [...cuts, stream.length]) {
      tcpPacket(ev.t, c, ev.toServer, ACK | PSH, stream.subarray(from, end));
      from = end;
    }
  };
  while (heap.size > 0) {
    const ev = heap.pop()!;
    now = ev.t;
    if (ev.kind === 'udp') {
      if (ev.toServer) udpPacket(ev.t, ev.client, SERVER, ev.cport, ev.sport, ev.payload);
      else udpPacket(ev.t, SERVER, ev.client, ev.sport, ev.cport, ev.payload);
      continue;
    }
    if (ev.kind === 'tcp') {
      emitTcp(ev);
      continue;
    }
    // Start the next exchange (or a pipelined pair), unless enough messages are under way.
    if (calls + replies >= opts.messages) continue;
    heap.push({ t: now + 1 + rng.int(2 * gap), seq: order++, kind: 'next' });
    const k = pickKind(rng);
    const n = k.transport === 'tcp' && rng.int(8) === 0 ? 2 + rng.int(2) : 1; // calls sent in one segment
    const callRecords: Buffer[] = [];
    let conn: TcpConn | undefined;
    if (k.transport === 'tcp') {
      const pool = k.port === 2049 ? conns : connsAlltypes;
      const want = k.port === 2049 ? (opts.tcpConnections ?? 6) : 1;
      const i = rng.int(want);
      if (!pool[i] || pool[i]!.left <= 0) {
        const old = pool[i];
        if (old && !old.closing) {
          // Close after the last replies: FIN from the client well after, then from the server.
          old.closing = true;
          heap.push({ t: now + 200_000, seq: order++, kind: 'tcp', conn: old, toServer: true, records: [], flags: ACK | 0x01 });
          heap.push({ t: now + 200_010, seq: order++, kind: 'tcp', conn: old, toServer: false, records: [], flags: ACK | 0x01 });
          heap.push({ t: now + 200_020, seq: order++, kind: 'tcp', conn: old, toServer: true, records: [], flags: ACK });
        }
        pool[i] = newConn(now, k.port);
      }
      conn = pool[i]!;
      conn.left -= n;
    }
    const client = conn ? conn.client : clientAddr();
    const cport = conn ? conn.cport : 41000 + rng.int(24000);
    for (let i = 0; i < n; i++) {
      const id = (xid = (xid + 1 + rng.int(3)) >>> 0);
      const call = callBytes(k, id, rng, x);
      calls++;
      if (conn) callRecords.push(call);
      else heap.push({ t: now, seq: order++, kind: 'udp', client, cport, sport: k.port, toServer: true, payload: call });
      if ((rng.u32() / 0x100000000) < unanswered) continue;
      const reply = replyBytes(k, id, rng, x);
      replies++;
      const when = now + Math.max(1, rtt(rng.u32() / 0x100000000));
      if (conn) heap.push({ t: when, seq: order++, kind: 'tcp', conn, toServer: false, records: [reply] });
      else heap.push({ t: when, seq: order++, kind: 'udp', client, cport, sport: k.port, toServer: false, payload: reply });
    }
    if (conn) heap.push({ t: now, seq: order++, kind: 'tcp', conn, toServer: true, records: callRecords });
  }
  // Close the connections still open.
  for (const c of [...conns, ...connsAlltypes]) {
    if (!c || c.closing) continue;
    tcpPacket(now + 100, c, true, ACK | 0x01, Buffer.alloc(0));
    tcpPacket(now + 110, c, false, ACK | 0x01, Buffer.alloc(0));
    tcpPacket(now + 120, c, true, ACK, Buffer.alloc(0));
  }
  flush();
  closeSync(fd);
  return { packets, calls, replies, bytes, unknownPorts: { udp: [40000], tcp: [40001] } };
}
