// Public API of oncrpc/pcap: read pcap/pcapng files, decode link/IP/UDP/TCP, reassemble TCP streams.
export { CaptureReader, MAX_BLOCK_SIZE, detectFormat, readPackets } from './file.js';
export type { CaptureFormat, CapturedPacket, CaptureWarning, ReadOptions } from './file.js';
export { LinkTypes, decodeLinkLayer } from './link.js';
export type { LinkResult } from './link.js';
export { FILE_CHUNK_SIZE, captureStream, openCaptureFile } from './source.js';
export { formatEndpoint, formatIPv4, formatIPv6 } from './addr.js';
export { parseIp, parseIPv4, parseIPv6, skipIPv6ExtensionHeaders } from './ip.js';
export type { IpFragment, IpPacket, Ipv6Upper, Parsed } from './ip.js';
export { IpProtocols, TcpFlags, parseTcp, parseUdp } from './udp-tcp.js';
export type { TcpSegment, UdpDatagram } from './udp-tcp.js';
export { decodeIpPayload, decodePacket } from './packet.js';
export type { DecodedPacket, IpPayload } from './packet.js';
export { IpReassembler } from './ip-frag.js';
export type { ReassemblerOptions } from './ip-frag.js';
export { TcpHalfStream } from './tcp-stream.js';
export type { HalfStreamOptions, HalfStreamOutput, SegmentMeta } from './tcp-stream.js';
export { TcpTracker } from './tcp-conn.js';
export type { TcpTrackerOptions } from './tcp-conn.js';
export { FlowDecoder, decodeFlows } from './flows.js';
export type { FlowOptions, FlowPacket, FlowState } from './flows.js';
export type {
  CloseReason,
  Endpoint,
  EventBase,
  FlowEvent,
  SkipEvent,
  TcpCloseEvent,
  TcpConnection,
  TcpDataEvent,
  TcpDirection,
  TcpEndEvent,
  TcpGapEvent,
  TcpOpenEvent,
  UdpEvent,
  WarningEvent,
} from './events.js';
