// Test helpers: build capture files, link-layer frames, IP/UDP/TCP packets, and collect reassembled streams.
import { PcapError } from '../../../src/errors.js';
import type { FlowEvent } from '../../../src/pcap/index.js';

/** The assertions the helpers below use (a structural subset of tap's Test). */
export interface Asserts {
  ok(...a: any[]): unknown;
  equal(...a: any[]): unknown;
  match(...a: any[]): unknown;
  fail(...a: any[]): unknown;
}

/** Asserts that `fn` throws a PcapError whose message matches `re`. */
export function throwsPcap(t: Asserts, fn: () => unknown, re: RegExp): void {
  try {
    fn();
    t.fail(`expected PcapError matching ${re}`);
  } catch (e) {
    t.ok(e instanceof PcapError, `PcapError, got ${String(e)}`);
    t.match((e as Error).message, re);
    t.equal((e as PcapError).code, 'ERR_PCAP_FORMAT');
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Byte i is (seed + 31*i + (i >> 8)) % 256, as in ../data/exchange.py. */
export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (seed + 31 * i + (i >> 8)) % 256;
  return out;
}

class W {
  bytes: number[] = [];
  constructor(readonly le: boolean) {}
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [(v >> 8) & 0xff, v & 0xff];
    this.bytes.push(...(this.le ? b.reverse() : b));
    return this;
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    this.bytes.push(...(this.le ? b.reverse() : b));
    return this;
  }
  raw(b: Uint8Array | number[]): this {
    this.bytes.push(...b);
    return this;
  }
  pad4(): this {
    while (this.bytes.length % 4) this.bytes.push(0);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export interface ClassicPacket {
  sec?: number;
  frac?: number;
  data: Uint8Array;
  origLen?: number;
}

/** A classic pcap file. */
export function pcapFile(opts: { le?: boolean; nano?: boolean; linkType: number; packets: ClassicPacket[]; magic?: number }): Uint8Array {
  const le = opts.le ?? true;
  const w = new W(le);
  w.u32(opts.magic ?? (opts.nano ? 0xa1b23c4d : 0xa1b2c3d4)).u16(2).u16(4).u32(0).u32(0).u32(262144).u32(opts.linkType);
  for (const p of opts.packets) {
    w.u32(p.sec ?? 0).u32(p.frac ?? 0).u32(p.data.length).u32(p.origLen ?? p.data.length).raw(p.data);
  }
  return w.done();
}

/** A pcapng block with the given body (padded), in the given byte order. */
export function block(le: boolean, type: number, body: Uint8Array): Uint8Array {
  const padded = new W(le).raw(body).pad4().done();
  const total = padded.length + 12;
  return new W(le).u32(type).u32(total).raw(padded).u32(total).done();
}

export function option(le: boolean, code: number, value: Uint8Array): Uint8Array {
  return new W(le).u16(code).u16(value.length).raw(value).pad4().done();
}

export function shb(le: boolean): Uint8Array {
  const body = new W(le).u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff).done();
  return block(le, 0x0a0d0d0a, body);
}

export function idb(le: boolean, linkType: number, opts: { snapLen?: number; tsresol?: number; tsoffset?: bigint } = {}): Uint8Array {
  const w = new W(le).u16(linkType).u16(0).u32(opts.snapLen ?? 0);
  if (opts.tsresol !== undefined) w.raw(option(le, 9, Uint8Array.of(opts.tsresol)));
  if (opts.tsoffset !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, opts.tsoffset, le);
    w.raw(option(le, 14, b));
  }
  if (opts.tsresol !== undefined || opts.tsoffset !== undefined) w.u32(0);
  return block(le, 1, w.done());
}

export function epb(le: boolean, ifId: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const w = new W(le).u32(ifId).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(origLen).raw(data).pad4();
  return block(le, 6, w.done());
}

export function spb(le: boolean, data: Uint8Array, origLen = data.length): Uint8Array {
  return block(le, 3, new W(le).u32(origLen).raw(data).pad4().done());
}

export function pb(le: boolean, ifId: number, ts: bigint, data: Uint8Array): Uint8Array {
  const w = new W(le).u16(ifId).u16(0).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(data.length).raw(data).pad4();
  return block(le, 2, w.done());
}

// ---- link layers ----

const MAC_A = [2, 0, 0, 0, 0, 1];
const MAC_B = [2, 0, 0, 0, 0, 2];

export function ethernet(etherType: number, payload: Uint8Array, vlans: number[] = []): Uint8Array {
  const w = new W(false).raw(MAC_B).raw(MAC_A);
  for (const v of vlans) w.u16(0x8100).u16(v);
  return w.u16(etherType).raw(payload).done();
}

export function sll(protocol: number, payload: Uint8Array): Uint8Array {
  return new W(false).u16(0).u16(1).u16(6).raw([...MAC_A, 0, 0]).u16(protocol).raw(payload).done();
}

export function sll2(protocol: number, payload: Uint8Array): Uint8Array {
  return new W(false).u16(protocol).u16(0).u32(1).u16(1).u8(0).u8(6).raw([...MAC_A, 0, 0]).raw(payload).done();
}

export function nullLink(af: number, payload: Uint8Array, le: boolean): Uint8Array {
  return new W(le).u32(af).raw(payload).done();
}

// ---- IP ----

export function ipv4Addr(s: string): number[] {
  return s.split('.').map(Number);
}

export function ipv6Addr(s: string): number[] {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

export interface Ipv4Opts {
  src?: string;
  dst?: string;
  protocol: number;
  payload: Uint8Array;
  id?: number;
  /** Fragment offset in bytes (multiple of 8). */
  fragOffset?: number;
  more?: boolean;
  totalLength?: number;
  options?: Uint8Array;
  ttl?: number;
}

export function ipv4(o: Ipv4Opts): Uint8Array {
  const optLen = o.options?.length ?? 0;
  const ihl = 20 + optLen;
  const w = new W(false)
    .u8(0x40 | (ihl / 4))
    .u8(0)
    .u16(o.totalLength ?? ihl + o.payload.length)
    .u16(o.id ?? 1)
    .u16(((o.more ? 1 : 0) << 13) | ((o.fragOffset ?? 0) / 8))
    .u8(o.ttl ?? 64)
    .u8(o.protocol)
    .u16(0)
    .raw(ipv4Addr(o.src ?? '10.0.0.1'))
    .raw(ipv4Addr(o.dst ?? '10.0.0.2'));
  if (o.options) w.raw(o.options);
  return w.raw(o.payload).done();
}

/** An IPv6 packet; `ext` are [type, body] extension headers (body excludes next-header byte). */
export function ipv6(o: { src?: string; dst?: string; next: number; payload: Uint8Array; ext?: Uint8Array[]; payloadLength?: number }): Uint8Array {
  const rest = concat(...(o.ext ?? []), o.payload);
  return new W(false)
    .u32(0x60000000)
    .u16(o.payloadLength ?? rest.length)
    .u8(o.next)
    .u8(64)
    .raw(ipv6Addr(o.src ?? '2001:db8::1'))
    .raw(ipv6Addr(o.dst ?? '2001:db8::2'))
    .raw(rest)
    .done();
}

/** A generic IPv6 extension header (hop-by-hop, routing, destination options) of 8*(units+1) bytes. */
export function ext6(next: number, units = 0): Uint8Array {
  const b = new Uint8Array(8 * (units + 1));
  b[0] = next;
  b[1] = units;
  return b;
}

export function frag6(next: number, offset: number, more: boolean, id: number): Uint8Array {
  return new W(false).u8(next).u8(0).u16(offset | (more ? 1 : 0)).u32(id).done();
}

export function udp(srcPort: number, dstPort: number, payload: Uint8Array, length = payload.length + 8): Uint8Array {
  return new W(false).u16(srcPort).u16(dstPort).u16(length).u16(0).raw(payload).done();
}

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export function tcp(o: { sp: number; dp: number; seq: number; ack?: number; flags: number; payload?: Uint8Array; options?: Uint8Array }): Uint8Array {
  const hl = 20 + (o.options?.length ?? 0);
  const w = new W(false)
    .u16(o.sp)
    .u16(o.dp)
    .u32(o.seq >>> 0)
    .u32((o.ack ?? 0) >>> 0)
    .u8((hl / 4) << 4)
    .u8(o.flags)
    .u16(65535)
    .u16(0)
    .u16(0);
  if (o.options) w.raw(o.options);
  return w.raw(o.payload ?? new Uint8Array(0)).done();
}

// ---- collecting flows ----

export interface CollectedConn {
  toServer: Uint8Array;
  toClient: Uint8Array;
  /** Gaps as `dir@offset+length`. */
  gaps: string[];
  /** Directions that ended with a FIN. */
  ends: string[];
  closed: string | undefined;
}

/** Collects TCP data per connection and direction; gaps are recorded as `dir@offset+length`. */
export function collect(events: Iterable<FlowEvent>): Map<number, CollectedConn> {
  const acc = new Map<number, { toServer: Uint8Array[]; toClient: Uint8Array[]; gaps: string[]; ends: string[]; closed: string | undefined }>();
  const get = (id: number) => {
    let a = acc.get(id);
    if (!a) acc.set(id, (a = { toServer: [], toClient: [], gaps: [], ends: [], closed: undefined }));
    return a;
  };
  for (const ev of events) {
    if (ev.kind === 'data') get(ev.conn.id)[ev.dir].push(ev.bytes);
    else if (ev.kind === 'gap') get(ev.conn.id).gaps.push(`${ev.dir}@${ev.offset}+${ev.length}`);
    else if (ev.kind === 'end') get(ev.conn.id).ends.push(ev.dir);
    else if (ev.kind === 'close') get(ev.conn.id).closed = ev.reason;
    else if (ev.kind === 'open') get(ev.conn.id);
  }
  const out = new Map<number, CollectedConn>();
  for (const [id, a] of acc) out.set(id, { ...a, toServer: concat(...a.toServer), toClient: concat(...a.toClient) });
  return out;
}
