// Turns captured packets into flow events: reassembled TCP streams, UDP datagrams, skips and warnings.
import { formatIPv4, formatIPv6 } from './addr.js';
import type { FlowEvent, SkipEvent, WarningEvent } from './events.js';
import { readPackets, type CapturedPacket } from './file.js';
import { IpReassembler, type ReassemblerOptions } from './ip-frag.js';
import { skipIPv6ExtensionHeaders, type IpPacket } from './ip.js';
import { decodeIpPayload, decodePacket, type IpPayload } from './packet.js';
import { TcpTracker, type TcpTrackerOptions } from './tcp-conn.js';
import type { SegmentMeta } from './tcp-stream.js';

/** Addresses formatted and kept (per decoder); the table is emptied when full. */
const ADDRESS_CACHE = 4096;

/** Options for {@link FlowDecoder} and {@link decodeFlows}. */
export interface FlowOptions extends TcpTrackerOptions, ReassemblerOptions {
  /** Reassemble fragmented IP datagrams (default true). When false each fragment gives a `skip` event. */
  reassembleFragments?: boolean;
}

/** The packet fields a {@link FlowDecoder} needs; a {@link CapturedPacket} has them all. */
export type FlowPacket = Pick<CapturedPacket, 'index' | 'timestamp' | 'linkType' | 'data'>;

/**
 * Decodes packets one at a time into {@link FlowEvent}s, in capture order.
 *
 * Per packet: `skip` if it carries no usable UDP or TCP, `udp` for a datagram, and for TCP any of
 * `open`, `data`, `gap`, `end`, `close`. Fragments are held until their datagram is complete (no
 * event until then). Call {@link finish} after the last packet to flush connections still open.
 *
 * @example
 * ```ts
 * const dec = new FlowDecoder();
 * for (const p of readPackets(bytes)) for (const ev of dec.push(p)) handle(ev);
 * for (const ev of dec.finish()) handle(ev);
 * ```
 */
export class FlowDecoder {
  readonly #tcp: TcpTracker;
  readonly #frags: IpReassembler;
  readonly #reassemble: boolean;
  #last: SegmentMeta = { packetIndex: -1, timestamp: 0 };

  constructor(options: FlowOptions = {}) {
    this.#tcp = new TcpTracker(options);
    this.#frags = new IpReassembler(options);
    this.#reassemble = options.reassembleFragments ?? true;
  }

  /** Decodes one packet. Never throws. */
  push(packet: FlowPacket): FlowEvent[] {
    const meta: SegmentMeta = { packetIndex: packet.index, timestamp: packet.timestamp };
    this.#last = meta;
    const expired = this.#tcp.expire(meta);
    if (expired.length === 0) return this.#push(packet, meta);
    return [...expired, ...this.#push(packet, meta)];
  }

  #push(packet: FlowPacket, meta: SegmentMeta): FlowEvent[] {
    return this.#fast(packet, meta) ?? this.#general(packet, meta);
  }

  /** Formatted IPv4 addresses by value, IPv6 ones by their 16 bytes (as an 8-character string). */
  readonly #v4 = new Map<number, string>();
  readonly #v6 = new Map<string, string>();

  #addr4(d: Uint8Array, o: number): string {
    const k = ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
    return cached(this.#v4, k, () => formatIPv4(d, o));
  }

  #addr6(d: Uint8Array, o: number): string {
    let k = '';
    for (let i = 0; i < 16; i += 2) k += String.fromCharCode((d[o + i]! << 8) | d[o + i + 1]!);
    return cached(this.#v6, k, () => formatIPv6(d, o));
  }

  /**
   * The common case without building the intermediate objects of {@link decodePacket}: Ethernet or
   * Linux cooked or raw IP, IPv4 without fragmentation or IPv6 without extension headers, UDP or TCP
   * with sane lengths. Undefined for anything else, which {@link #general} decodes (with the same result).
   */
  #fast(packet: FlowPacket, meta: SegmentMeta): FlowEvent[] | undefined {
    const d = packet.data;
    const len = d.length;
    let off: number;
    switch (packet.linkType) {
      case 1: // Ethernet
        if (len < 14) return undefined;
        off = 14;
        if (!((d[12] === 0x08 && d[13] === 0x00) || (d[12] === 0x86 && d[13] === 0xdd))) return undefined;
        break;
      case 113: // Linux cooked v1
        if (len < 16) return undefined;
        off = 16;
        if (!((d[14] === 0x08 && d[15] === 0x00) || (d[14] === 0x86 && d[15] === 0xdd))) return undefined;
        break;
      case 276: // Linux cooked v2
        if (len < 20) return undefined;
        off = 20;
        if (!((d[0] === 0x08 && d[1] === 0x00) || (d[0] === 0x86 && d[1] === 0xdd))) return undefined;
        break;
      case 101:
      case 12:
      case 14: // raw IP
        off = 0;
        break;
      default:
        return undefined;
    }
    if (len <= off) return undefined;
    const linkV6 = packet.linkType === 1 ? d[12] === 0x86 : packet.linkType === 113 ? d[14] === 0x86 : packet.linkType === 276 ? d[0] === 0x86 : d[0]! >> 4 === 6;
    const version = d[off]! >> 4;
    let src: string;
    let dst: string;
    let proto: number;
    let p: number;
    let declaredEnd: number;
    if (version === 4 && !linkV6) {
      if (len - off < 20) return undefined;
      const ihl = (d[off]! & 0x0f) * 4;
      const total = (d[off + 2]! << 8) | d[off + 3]!;
      if (ihl < 20 || off + ihl > len || total < ihl) return undefined;
      if (((d[off + 6]! << 8) | d[off + 7]!) & 0x3fff) return undefined; // a fragment
      proto = d[off + 9]!;
      src = this.#addr4(d, off + 12);
      dst = this.#addr4(d, off + 16);
      p = off + ihl;
      declaredEnd = off + total;
    } else if (version === 6 && linkV6) {
      if (len - off < 40) return undefined;
      const plen = (d[off + 4]! << 8) | d[off + 5]!;
      proto = d[off + 6]!;
      if (plen === 0 || (proto !== 6 && proto !== 17)) return undefined;
      src = this.#addr6(d, off + 8);
      dst = this.#addr6(d, off + 24);
      p = off + 40;
      declaredEnd = off + 40 + plen;
    } else return undefined;
    const end = declaredEnd < len ? declaredEnd : len;
    const avail = end - p;
    if (proto === 17) {
      if (avail < 8) return undefined;
      const ulen = (d[p + 4]! << 8) | d[p + 5]!;
      if (ulen !== 0 && ulen < 8) return undefined;
      const uend = ulen === 0 ? avail : ulen;
      return [{
        kind: 'udp',
        src: { addr: src, port: (d[p]! << 8) | d[p + 1]! },
        dst: { addr: dst, port: (d[p + 2]! << 8) | d[p + 3]! },
        payload: d.subarray(p + 8, p + (uend < avail ? uend : avail)),
        truncated: declaredEnd > len || uend > avail,
        packetIndex: meta.packetIndex,
        timestamp: meta.timestamp,
      }];
    }
    if (proto !== 6 || avail < 20) return undefined;
    const hl = (d[p + 12]! >> 4) * 4;
    if (hl < 20 || hl > avail) return undefined;
    const events: FlowEvent[] = [];
    this.#tcp.segmentTo(
      src, (d[p]! << 8) | d[p + 1]!, dst, (d[p + 2]! << 8) | d[p + 3]!,
      ((d[p + 4]! << 24) | (d[p + 5]! << 16) | (d[p + 6]! << 8) | d[p + 7]!) >>> 0,
      ((d[p + 8]! << 24) | (d[p + 9]! << 16) | (d[p + 10]! << 8) | d[p + 11]!) >>> 0,
      ((d[p + 12]! << 8) | d[p + 13]!) & 0x1ff,
      d.subarray(p + hl, end),
      meta, events,
    );
    return events;
  }

  #general(packet: FlowPacket, meta: SegmentMeta): FlowEvent[] {
    const skip = (reason: string): SkipEvent[] => [{ kind: 'skip', reason, ...meta }];
    const d = decodePacket(packet.linkType, packet.data);
    if (!d.ok) return skip(d.reason);
    const ip = d.value.ip;
    let l4: IpPayload;
    if (d.value.udp) l4 = { kind: 'udp', udp: d.value.udp };
    else if (d.value.tcp) l4 = { kind: 'tcp', tcp: d.value.tcp };
    else if (ip.fragment) {
      if (!this.#reassemble) return skip('IP fragment (reassembly disabled)');
      if (ip.truncated) return skip('IP fragment cut short by the capture');
      const whole = this.#defragment(ip);
      if (whole === undefined) return [];
      if (typeof whole === 'string') return skip(whole);
      l4 = whole;
    } else l4 = { kind: 'other', protocol: ip.protocol };

    if (l4.kind === 'udp') {
      const u = l4.udp;
      return [{
        kind: 'udp',
        src: { addr: ip.src, port: u.srcPort },
        dst: { addr: ip.dst, port: u.dstPort },
        payload: u.payload,
        truncated: ip.truncated || u.truncated,
        ...meta,
      }];
    }
    if (l4.kind === 'tcp') {
      const t = l4.tcp;
      return this.#tcp.segment({ addr: ip.src, port: t.srcPort }, { addr: ip.dst, port: t.dstPort }, t, meta);
    }
    return skip(`IP protocol ${l4.protocol} not supported`);
  }

  /** What is held now: open TCP connections, bytes of IP fragments. */
  get state(): FlowState {
    return { connections: this.#tcp.open, fragmentBytes: this.#frags.pendingBytes };
  }

  /** Ends the capture: connections still open are flushed (holes reported as gaps) and closed with reason `eof`. */
  finish(): FlowEvent[] {
    return this.#tcp.finish(this.#last);
  }

  /** Adds a fragment; returns the UDP/TCP header of the completed datagram, `undefined` while incomplete, or a skip reason. */
  #defragment(ip: IpPacket): IpPayload | string | undefined {
    const frag = ip.fragment!;
    const key = `${ip.version}|${ip.src}|${ip.dst}|${ip.protocol}|${frag.id}`;
    const whole = this.#frags.add(key, frag, ip.payload);
    if (!whole) return undefined;
    let protocol = ip.protocol;
    let payload = whole;
    if (ip.version === 6) {
      const up = skipIPv6ExtensionHeaders(whole, protocol, 0);
      if (!up.ok) return up.reason;
      if (up.value.fragment) return 'IPv6 fragment inside a fragmented datagram';
      protocol = up.value.protocol;
      payload = whole.subarray(up.value.offset);
    }
    const tr = decodeIpPayload(protocol, payload);
    return tr.ok ? tr.value : tr.reason;
  }
}

/** Connections open now, and bytes of IP fragments held (what a {@link FlowDecoder} holds beyond its limits' defaults). */
export interface FlowState {
  connections: number;
  fragmentBytes: number;
}

/**
 * Reads a whole pcap or pcapng file and yields its {@link FlowEvent}s in capture order, then any
 * file warnings (a truncated last packet), then the events that close connections still open.
 * @throws PcapError when the file is malformed (not for a truncated last packet, which is a warning).
 */
export function* decodeFlows(bytes: Uint8Array, options: FlowOptions = {}): Generator<FlowEvent, void, undefined> {
  const warnings: WarningEvent[] = [];
  const dec = new FlowDecoder(options);
  const packets = readPackets(bytes, {
    onWarning: (w) => warnings.push({ kind: 'warning', message: w.message, fileOffset: w.offset }),
  });
  for (const p of packets) yield* dec.push(p);
  yield* warnings;
  yield* dec.finish();
}

/** `map`'s text for `key`, formatted once; the map is emptied when it reaches ADDRESS_CACHE entries. */
function cached<K>(map: Map<K, string>, key: K, format: () => string): string {
  let a = map.get(key);
  if (a === undefined) {
    if (map.size >= ADDRESS_CACHE) map.clear();
    a = format();
    map.set(key, a);
  }
  return a;
}
