// Decodes one captured frame down to its UDP or TCP header: link layer, IP, UDP/TCP.
import { parseIp, type IpPacket, type Parsed } from './ip.js';
import { decodeLinkLayer } from './link.js';
import { IpProtocols, parseTcp, parseUdp, type TcpSegment, type UdpDatagram } from './udp-tcp.js';

/** A frame decoded as far as this library goes. */
export interface DecodedPacket {
  /** VLAN IDs from the link layer, outermost first. */
  vlanIds: number[];
  ip: IpPacket;
  /** Set for UDP packets that are not fragments. */
  udp: UdpDatagram | undefined;
  /** Set for TCP packets that are not fragments. */
  tcp: TcpSegment | undefined;
}

/** The UDP or TCP header inside an unfragmented (or reassembled) IP payload. */
export type IpPayload =
  | { kind: 'udp'; udp: UdpDatagram }
  | { kind: 'tcp'; tcp: TcpSegment }
  | { kind: 'other'; protocol: number };

/** Parses the UDP or TCP header of `payload`, carried as IP `protocol`. Never throws. */
export function decodeIpPayload(protocol: number, payload: Uint8Array): Parsed<IpPayload> {
  if (protocol === IpProtocols.UDP) {
    const u = parseUdp(payload);
    return u.ok ? { ok: true, value: { kind: 'udp', udp: u.value } } : u;
  }
  if (protocol === IpProtocols.TCP) {
    const t = parseTcp(payload);
    return t.ok ? { ok: true, value: { kind: 'tcp', tcp: t.value } } : t;
  }
  return { ok: true, value: { kind: 'other', protocol } };
}

/**
 * Decodes a captured frame: link layer, IP header, and the UDP or TCP header when the packet is
 * not a fragment. Never throws; undecodable frames give `{ ok: false, reason }`.
 * @param linkType the frame's LINKTYPE_ value.
 */
export function decodePacket(linkType: number, frame: Uint8Array): Parsed<DecodedPacket> {
  const link = decodeLinkLayer(linkType, frame);
  if (!link.ok) return link;
  const ip = parseIp(link.payload);
  if (!ip.ok) return ip;
  if (ip.value.version !== link.ipVersion) return { ok: false, reason: `link layer says IPv${link.ipVersion}, packet is IPv${ip.value.version}` };
  const value: DecodedPacket = { vlanIds: link.vlanIds, ip: ip.value, udp: undefined, tcp: undefined };
  if (ip.value.fragment) return { ok: true, value };
  const tr = decodeIpPayload(ip.value.protocol, ip.value.payload);
  if (!tr.ok) return tr;
  if (tr.value.kind === 'udp') value.udp = tr.value.udp;
  else if (tr.value.kind === 'tcp') value.tcp = tr.value.tcp;
  return { ok: true, value };
}
