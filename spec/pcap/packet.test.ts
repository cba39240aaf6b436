// Tests of link-layer, IPv4/IPv6 (extension headers, fragments), UDP/TCP header decoding and address text.
import t from 'tap';
import {
  LinkTypes,
  decodeLinkLayer,
  decodePacket,
  formatIPv6,
  parseIPv4,
  parseIPv6,
  parseTcp,
  parseUdp,
} from '../../src/pcap/index.js';
import { concat, ethernet, ext6, frag6, ipv4, ipv6, ipv6Addr, nullLink, sll, sll2, tcp, udp, F } from './_helpers/build.js';

const hello = new TextEncoder().encode('hello');
const v4 = ipv4({ protocol: 17, payload: udp(1234, 111, hello) });
const v6 = ipv6({ next: 17, payload: udp(1234, 111, hello) });

t.test('link layers reach the IP packet', async (t) => {
  const cases: Array<[string, number, Uint8Array, 4 | 6, Uint8Array]> = [
    ['Ethernet v4', LinkTypes.EN10MB, ethernet(0x0800, v4), 4, v4],
    ['Ethernet v6', LinkTypes.EN10MB, ethernet(0x86dd, v6), 6, v6],
    ['NULL LE v4', LinkTypes.NULL, nullLink(2, v4, true), 4, v4],
    ['NULL BE v4', LinkTypes.NULL, nullLink(2, v4, false), 4, v4],
    ['NULL LE v6 (macOS 30)', LinkTypes.NULL, nullLink(30, v6, true), 6, v6],
    ['NULL BE v6 (FreeBSD 28)', LinkTypes.NULL, nullLink(28, v6, false), 6, v6],
    ['NULL v6 (OpenBSD 24)', LinkTypes.NULL, nullLink(24, v6, true), 6, v6],
    ['LOOP v4', LinkTypes.LOOP, nullLink(2, v4, false), 4, v4],
    ['LOOP v6', LinkTypes.LOOP, nullLink(24, v6, false), 6, v6],
    ['RAW v4', LinkTypes.RAW, v4, 4, v4],
    ['RAW v6', LinkTypes.RAW, v6, 6, v6],
    ['RAW 12', 12, v4, 4, v4],
    ['RAW 14', 14, v6, 6, v6],
    ['IPV4', LinkTypes.IPV4, v4, 4, v4],
    ['IPV6', LinkTypes.IPV6, v6, 6, v6],
    ['SLL v4', LinkTypes.LINUX_SLL, sll(0x0800, v4), 4, v4],
    ['SLL v6', LinkTypes.LINUX_SLL, sll(0x86dd, v6), 6, v6],
    ['SLL2 v4', LinkTypes.LINUX_SLL2, sll2(0x0800, v4), 4, v4],
    ['SLL2 v6', LinkTypes.LINUX_SLL2, sll2(0x86dd, v6), 6, v6],
  ];
  for (const [name, lt, frame, ver, ip] of cases) {
    const r = decodeLinkLayer(lt, frame);
    if (!r.ok) {
      t.fail(`${name}: ${r.reason}`);
      continue;
    }
    t.equal(r.ipVersion, ver, name);
    t.same([...r.payload], [...ip], name);
    const p = decodePacket(lt, frame);
    t.ok(p.ok && p.value.udp && p.value.udp.dstPort === 111, `${name}: UDP decoded`);
  }
});

t.test('VLAN tags and LLC/SNAP', async (t) => {
  const r = decodeLinkLayer(1, ethernet(0x0800, v4, [0x2005, 0x0007]));
  t.ok(r.ok);
  if (r.ok) {
    t.same(r.vlanIds, [5, 7]);
    t.same([...r.payload], [...v4]);
  }
  const qinq = concat(Uint8Array.of(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xa8, 0, 10, 0x81, 0, 0, 20, 0x86, 0xdd), v6);
  const q = decodeLinkLayer(1, qinq);
  t.ok(q.ok && q.ipVersion === 6 && q.vlanIds.join() === '10,20', '802.1ad + 802.1Q');
  const snap = concat(Uint8Array.of(2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0, v4.length + 8, 0xaa, 0xaa, 3, 0, 0, 0, 8, 0), v4);
  const s = decodeLinkLayer(1, snap);
  t.ok(s.ok && s.ipVersion === 4 && s.payload.length === v4.length, '802.3 + SNAP');
  const sllVlan = sll(0x8100, concat(Uint8Array.of(0, 42, 0x08, 0), v4));
  const sv = decodeLinkLayer(113, sllVlan);
  t.ok(sv.ok && sv.vlanIds[0] === 42 && sv.payload.length === v4.length, 'SLL with VLAN tag');
  const sll2Vlan = sll2(0x8100, concat(Uint8Array.of(0, 43, 0x86, 0xdd), v6));
  const sv2 = decodeLinkLayer(276, sll2Vlan);
  t.ok(sv2.ok && sv2.vlanIds[0] === 43 && sv2.ipVersion === 6, 'SLL2 with VLAN tag');
});

t.test('link layer failures are reasons, not exceptions', async (t) => {
  const bad: Array<[number, Uint8Array, RegExp]> = [
    [1, ethernet(0x0806, new Uint8Array(28)), /EtherType 0x0806 is not IP/],
    [1, new Uint8Array(13), /truncated/],
    [1, Uint8Array.of(...new Array(12).fill(0), 0x81, 0, 0), /truncated in VLAN/],
    [1, concat(new Uint8Array(12), Uint8Array.of(0, 46, 0x42, 0x42, 3)), /802.3/],
    [0, nullLink(7, v4, true), /family 7/],
    [0, Uint8Array.of(2, 0), /truncated/],
    [108, Uint8Array.of(0, 0), /truncated/],
    [101, new Uint8Array(0), /empty/],
    [101, Uint8Array.of(0x50), /version 5/],
    [228, new Uint8Array(0), /empty/],
    [113, new Uint8Array(15), /truncated/],
    [276, new Uint8Array(19), /truncated/],
    [276, sll2(0x0806, new Uint8Array(4)), /not IP/],
    [147, v4, /link type 147 not supported/],
  ];
  for (const [lt, frame, re] of bad) {
    const r = decodeLinkLayer(lt, frame);
    t.notOk(r.ok);
    if (!r.ok) t.match(r.reason, re);
  }
  const mismatch = decodePacket(0, nullLink(2, v6, true));
  t.ok(!mismatch.ok && /says IPv4, packet is IPv6/.test(mismatch.reason));
});

t.test('IPv4 header: options, padding, truncation, TSO, fragments', async (t) => {
  const withOpts = ipv4({ protocol: 6, payload: hello, options: Uint8Array.of(1, 1, 1, 0), src: '192.168.1.10', dst: '8.8.4.4', ttl: 9 });
  const r = parseIPv4(concat(withOpts, new Uint8Array(6))); // Ethernet padding after the packet
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.value.src, '192.168.1.10');
    t.equal(r.value.dst, '8.8.4.4');
    t.equal(r.value.ttl, 9);
    t.equal(r.value.protocol, 6);
    t.same([...r.value.payload], [...hello], 'options skipped, padding dropped');
    t.equal(r.value.truncated, false);
    t.equal(r.value.fragment, undefined);
  }
  const cut = parseIPv4(withOpts.subarray(0, withOpts.length - 2));
  t.ok(cut.ok && cut.value.truncated && cut.value.payload.length === 3);
  const tso = parseIPv4(ipv4({ protocol: 6, payload: hello, totalLength: 0 }));
  t.ok(tso.ok && tso.value.payload.length === 5 && !tso.value.truncated, 'total length 0: rest of frame');
  const f1 = parseIPv4(ipv4({ protocol: 17, payload: hello, id: 77, more: true }));
  t.ok(f1.ok && f1.value.fragment?.more === true && f1.value.fragment.offset === 0 && f1.value.fragment.id === 77);
  const f2 = parseIPv4(ipv4({ protocol: 17, payload: hello, id: 77, fragOffset: 1480 }));
  t.ok(f2.ok && f2.value.fragment?.more === false && f2.value.fragment.offset === 1480);
  const bad: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(19), /truncated/],
    [v6, /not an IPv4/],
    [Uint8Array.of(0x44, ...new Array(19).fill(0)), /header length 16/],
    [Uint8Array.of(0x4f, ...new Array(19).fill(0)), /options truncated/],
    [ipv4({ protocol: 6, payload: hello, totalLength: 10 }), /total length 10/],
  ];
  for (const [b, re] of bad) {
    const x = parseIPv4(b);
    t.ok(!x.ok && re.test(x.reason), String(re));
  }
});

t.test('IPv6: extension headers skipped, fragments found', async (t) => {
  // hop-by-hop (16 bytes) -> routing (8) -> destination options (8) -> UDP
  const p = ipv6({ next: 0, ext: [ext6(43, 1), ext6(60, 0), ext6(17, 0)], payload: udp(1, 2, hello), src: 'fe80::1', dst: 'ff02::1:ff00:1' });
  const r = parseIPv6(concat(p, Uint8Array.of(0, 0)));
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.value.protocol, 17);
    t.equal(r.value.src, 'fe80::1');
    t.equal(r.value.dst, 'ff02::1:ff00:1');
    t.equal(r.value.payload.length, 13, 'padding beyond payload length dropped');
    t.equal(r.value.fragment, undefined);
  }
  const ah = new Uint8Array(12);
  ah[0] = 6;
  ah[1] = 1; // (1 + 2) * 4 = 12 bytes
  const a = parseIPv6(ipv6({ next: 51, ext: [ah], payload: tcp({ sp: 1, dp: 2, seq: 0, flags: F.SYN }) }));
  t.ok(a.ok && a.value.protocol === 6 && a.value.payload.length === 20, 'AH skipped');
  const frag = parseIPv6(ipv6({ next: 44, ext: [frag6(17, 0, true, 0xdeadbeef)], payload: hello }));
  t.ok(frag.ok && frag.value.protocol === 17 && frag.value.fragment?.id === 0xdeadbeef && frag.value.fragment.more, 'fragment');
  const atomic = parseIPv6(ipv6({ next: 44, ext: [frag6(17, 0, false, 5)], payload: udp(1, 2, hello) }));
  t.ok(atomic.ok && atomic.value.fragment === undefined && atomic.value.payload.length === 13, 'atomic fragment is whole');
  const nonext = parseIPv6(ipv6({ next: 59, payload: new Uint8Array(0) }));
  t.ok(nonext.ok && nonext.value.protocol === 59);
  const jumbo = parseIPv6(ipv6({ next: 17, payload: udp(1, 2, hello), payloadLength: 0 }));
  t.ok(jumbo.ok && jumbo.value.payload.length === 13);
  const cut = parseIPv6(ipv6({ next: 17, payload: udp(1, 2, hello), payloadLength: 100 }));
  t.ok(cut.ok && cut.value.truncated);
  const truncExt = parseIPv6(ipv6({ next: 0, payload: Uint8Array.of(17, 4) }));
  t.ok(!truncExt.ok && /extension header truncated/.test(truncExt.reason));
  t.notOk(parseIPv6(new Uint8Array(39)).ok);
  t.notOk(parseIPv6(v4.length >= 40 ? v4 : concat(v4, new Uint8Array(40))).ok);
});

t.test('RFC 5952 IPv6 text', async (t) => {
  const cases: Array<[string, string]> = [
    ['0:0:0:0:0:0:0:1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:DB8:AAAA:0:0:0:0:0', '2001:db8:aaaa::'],
    ['0:0:0:0:0:ffff:c000:0201', '::ffff:192.0.2.1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
  ];
  for (const [full, want] of cases) t.equal(formatIPv6(Uint8Array.from(ipv6Addr(full.toLowerCase()))), want, full);
});

t.test('UDP and TCP headers', async (t) => {
  const u = parseUdp(concat(udp(53, 5353, hello), Uint8Array.of(9, 9)));
  t.ok(u.ok && u.value.srcPort === 53 && u.value.dstPort === 5353 && u.value.payload.length === 5 && !u.value.truncated);
  const uc = parseUdp(udp(53, 5353, hello).subarray(0, 10));
  t.ok(uc.ok && uc.value.truncated && uc.value.payload.length === 2);
  t.notOk(parseUdp(new Uint8Array(7)).ok);
  t.notOk(parseUdp(udp(1, 2, hello, 7)).ok);
  const opts = Uint8Array.of(2, 4, 5, 0xb4, 1, 1, 1, 0); // MSS, NOPs, EOL
  const seg = parseTcp(tcp({ sp: 2049, dp: 800, seq: 0xfffffff0, ack: 0x80000001, flags: F.ACK | F.PSH, payload: hello, options: opts }));
  t.ok(seg.ok);
  if (seg.ok) {
    t.equal(seg.value.srcPort, 2049);
    t.equal(seg.value.dstPort, 800);
    t.equal(seg.value.seq, 0xfffffff0);
    t.equal(seg.value.ack, 0x80000001);
    t.equal(seg.value.flags, F.ACK | F.PSH);
    t.equal(seg.value.headerLength, 28);
    t.equal(seg.value.window, 65535);
    t.same([...seg.value.payload], [...hello]);
  }
  t.notOk(parseTcp(new Uint8Array(19)).ok);
  const short = tcp({ sp: 1, dp: 2, seq: 0, flags: 0 });
  short[12] = 0x40;
  t.notOk(parseTcp(short).ok);
  short[12] = 0xf0;
  t.notOk(parseTcp(short).ok);
});

t.test('decodeIpPayload: the UDP or TCP header by IP protocol; "transport" names nothing in oncrpc/pcap', async (t) => {
  const pcap = await import('../../src/pcap/index.js');
  const u = pcap.decodeIpPayload(17, udp(53, 5353, hello));
  t.ok(u.ok && u.value.kind === 'udp' && u.value.udp.dstPort === 5353);
  const tc = pcap.decodeIpPayload(6, tcp({ sp: 1, dp: 2, seq: 0, flags: F.ACK, payload: hello }));
  t.ok(tc.ok && tc.value.kind === 'tcp' && tc.value.tcp.srcPort === 1);
  t.same(pcap.decodeIpPayload(1, hello), { ok: true, value: { kind: 'other', protocol: 1 } });
  // In this project a transport is the RPC runtime's (src/transport/); the capture layer says UDP/TCP.
  t.same(Object.keys(pcap).filter((k) => /transport/i.test(k)), []);
  const { existsSync } = await import('node:fs');
  t.notOk(existsSync(new URL('../../src/pcap/transport.ts', import.meta.url)), 'no src/pcap/transport.ts');
});
