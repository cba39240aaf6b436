// Strips link-layer headers (Ethernet, VLAN, BSD loopback, Linux cooked v1/v2, raw IP) to reach the IP packet.

/** The LINKTYPE_ values this library decodes (from the tcpdump.org link-layer header type registry). */
export const LinkTypes = {
  /** BSD loopback: 4-byte address family in the writer's byte order. */
  NULL: 0,
  /** Ethernet (with optional 802.1Q / 802.1ad VLAN tags). */
  EN10MB: 1,
  /** Raw IP on some platforms (DLT_RAW on most BSDs and Linux). */
  RAW_12: 12,
  /** Raw IP on OpenBSD (DLT_RAW). */
  RAW_14: 14,
  /** Raw IPv4 or IPv6, told apart by the version nibble. */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux cooked capture v1 (`tcpdump -i any`). */
  LINUX_SLL: 113,
  /** Raw IPv4. */
  IPV4: 228,
  /** Raw IPv6. */
  IPV6: 229,
  /** Linux cooked capture v2 (`tcpdump -i any -y LINUX_SLL2`). */
  LINUX_SLL2: 276,
} as const;

/** Outcome of {@link decodeLinkLayer}. */
export type LinkResult =
  | {
      ok: true;
      /** IP version announced by the link layer (or the version nibble for raw IP). */
      ipVersion: 4 | 6;
      /** The IP packet: a subarray of the frame. */
      payload: Uint8Array;
      /** 802.1Q / 802.1ad VLAN IDs, outermost first; empty when untagged. */
      vlanIds: number[];
    }
  | { ok: false; reason: string };

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function u16(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset + o, 2).getUint16(0);
}

function fail(reason: string): LinkResult {
  return { ok: false, reason };
}

/** Follows VLAN tags from an EtherType at `typeOff`, then hands the payload over if it is IP. */
function fromEtherType(frame: Uint8Array, typeOff: number): LinkResult {
  const vlanIds: number[] = [];
  let off = typeOff;
  for (;;) {
    if (frame.length < off + 2) return fail('frame truncated in link header');
    const type = u16(frame, off);
    if (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
      if (frame.length < off + 6) return fail('frame truncated in VLAN tag');
      vlanIds.push(u16(frame, off + 2) & 0x0fff);
      off += 4;
      continue;
    }
    if (type <= 1500) {
      // 802.3 length field: only IP over LLC/SNAP (AA AA 03 00 00 00 <type>) is followed.
      const p = off + 2;
      if (
        frame.length >= p + 8 && frame[p] === 0xaa && frame[p + 1] === 0xaa && frame[p + 2] === 0x03 &&
        frame[p + 3] === 0 && frame[p + 4] === 0 && frame[p + 5] === 0
      ) {
        off = p + 6;
        continue;
      }
      return fail('802.3 frame without SNAP (not IP)');
    }
    const payload = frame.subarray(off + 2);
    if (type === ETH_IPV4) return { ok: true, ipVersion: 4, payload, vlanIds };
    if (type === ETH_IPV6) return { ok: true, ipVersion: 6, payload, vlanIds };
    return fail(`EtherType 0x${type.toString(16).padStart(4, '0')} is not IP`);
  }
}

function fromAddressFamily(af: number, payload: Uint8Array): LinkResult {
  if (af === 2) return { ok: true, ipVersion: 4, payload, vlanIds: [] };
  // AF_INET6 differs by OS: Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, macOS 30.
  if (af === 10 || af === 24 || af === 28 || af === 30) return { ok: true, ipVersion: 6, payload, vlanIds: [] };
  return fail(`loopback address family ${af} is not IP`);
}

function rawIp(payload: Uint8Array): LinkResult {
  if (payload.length < 1) return fail('empty raw IP frame');
  const v = payload[0]! >> 4;
  if (v === 4 || v === 6) return { ok: true, ipVersion: v, payload, vlanIds: [] };
  return fail(`raw IP frame with version ${v}`);
}

/**
 * Removes the link-layer header of a captured frame and returns the IP packet inside.
 * Never throws: frames that are not IP, or too short, give `{ ok: false, reason }`.
 * @param linkType the packet's LINKTYPE_ value ({@link LinkTypes}).
 * @param frame the captured bytes.
 */
export function decodeLinkLayer(linkType: number, frame: Uint8Array): LinkResult {
  switch (linkType) {
    case LinkTypes.EN10MB:
      return fromEtherType(frame, 12);
    case LinkTypes.NULL: {
      if (frame.length < 4) return fail('frame truncated in loopback header');
      // Host byte order of the writer: the family is small, so a big value means the other order.
      const dv = new DataView(frame.buffer, frame.byteOffset, 4);
      let af = dv.getUint32(0, true);
      if (af > 0xffff) af = dv.getUint32(0, false);
      return fromAddressFamily(af, frame.subarray(4));
    }
    case LinkTypes.LOOP: {
      if (frame.length < 4) return fail('frame truncated in loopback header');
      const af = new DataView(frame.buffer, frame.byteOffset, 4).getUint32(0, false);
      return fromAddressFamily(af, frame.subarray(4));
    }
    case LinkTypes.RAW:
    case LinkTypes.RAW_12:
    case LinkTypes.RAW_14:
      return rawIp(frame);
    case LinkTypes.IPV4:
      return frame.length > 0 ? { ok: true, ipVersion: 4, payload: frame, vlanIds: [] } : fail('empty frame');
    case LinkTypes.IPV6:
      return frame.length > 0 ? { ok: true, ipVersion: 6, payload: frame, vlanIds: [] } : fail('empty frame');
    case LinkTypes.LINUX_SLL:
      // packet type(2) ARPHRD(2) address length(2) address(8) protocol(2)
      if (frame.length < 16) return fail('frame truncated in Linux cooked header');
      return fromEtherType(frame, 14);
    case LinkTypes.LINUX_SLL2:
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8)
      if (frame.length < 20) return fail('frame truncated in Linux cooked v2 header');
      return fromProtocolAt(frame, 0, 20);
    default:
      return fail(`link type ${linkType} not supported`);
  }
}

/** SLL2 keeps the protocol at the front and the payload after a fixed header. */
function fromProtocolAt(frame: Uint8Array, protoOff: number, payloadOff: number): LinkResult {
  const type = u16(frame, protoOff);
  if (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
    // A VLAN tag left in the payload: its TCI and inner type follow the cooked header.
    if (frame.length < payloadOff + 4) return fail('frame truncated in VLAN tag');
    const inner = fromEtherType(frame, payloadOff + 2);
    if (inner.ok) inner.vlanIds.unshift(u16(frame, payloadOff) & 0x0fff);
    return inner;
  }
  const payload = frame.subarray(payloadOff);
  if (type === ETH_IPV4) return { ok: true, ipVersion: 4, payload, vlanIds: [] };
  if (type === ETH_IPV6) return { ok: true, ipVersion: 6, payload, vlanIds: [] };
  return fail(`protocol 0x${type.toString(16).padStart(4, '0')} is not IP`);
}
