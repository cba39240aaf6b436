// Turns captured packets into flow events: reassembled TCP streams, UDP datagrams, skips and warnings.
import type { FlowEvent, SkipEvent, WarningEvent } from './events.js';
import { readPackets, type CapturedPacket } from './file.js';
import { IpReassembler, type ReassemblerOptions } from './ip-frag.js';
import { skipIPv6ExtensionHeaders, type IpPacket } from './ip.js';
import { decodeIpPayload, decodePacket, type IpPayload } from './packet.js';
import { TcpTracker } from './tcp-conn.js';
import type { HalfStreamOptions, SegmentMeta } from './tcp-stream.js';

/** Options for {@link FlowDecoder} and {@link decodeFlows}. */
export interface FlowOptions extends HalfStreamOptions, ReassemblerOptions {
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
