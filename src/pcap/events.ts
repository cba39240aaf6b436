// Types of the events a capture decodes into: TCP stream data, gaps and closes, UDP datagrams, skips, warnings.

/** One end of a conversation. */
export interface Endpoint {
  /** IPv4 dotted quad or RFC 5952 IPv6 text. */
  addr: string;
  port: number;
}

/** Why a TCP connection's `close` event was emitted. */
export type CloseReason =
  /** Both directions sent a FIN and every byte before it was delivered or reported missing. */
  | 'fin'
  /** A RST was seen. */
  | 'rst'
  /** A new SYN on the same addresses and ports started another connection. */
  | 'reuse'
  /** The capture ended with the connection still open. */
  | 'eof'
  /** No packet for the idle timeout (capture time); a later packet starts a new connection. */
  | 'idle'
  /** Too many connections were open; this one had been quiet longest. */
  | 'evicted';

/** Direction of a segment: from the client to the server, or back. */
export type TcpDirection = 'toServer' | 'toClient';

/** A TCP connection, shared by all the events that concern it. */
export interface TcpConnection {
  /** Number of the connection in the capture, from 0, in order of first packet. */
  id: number;
  /** The side that sent the SYN; when no SYN was seen, a guess (see {@link handshakeSeen}). */
  client: Endpoint;
  server: Endpoint;
  /**
   * True when the client's SYN or the server's SYN-ACK was captured, so the roles are known.
   * Otherwise the side with the lower port number is taken as the server (the sender of the
   * first packet is taken as client when both ports are equal).
   */
  handshakeSeen: boolean;
  /** Index of the first packet of the connection. */
  firstPacketIndex: number;
  /** Set once `close` was emitted. */
  closed: CloseReason | undefined;
}

/** Fields every packet-driven event has. */
export interface EventBase {
  /** Index of the captured packet that produced (or, for data, carried) the event. */
  packetIndex: number;
  /** Capture time of that packet, in seconds. */
  timestamp: number;
}

/** A TCP connection was seen for the first time. */
export interface TcpOpenEvent extends EventBase {
  kind: 'open';
  conn: TcpConnection;
}

/** In-order bytes of one direction of a TCP connection. */
export interface TcpDataEvent extends EventBase {
  kind: 'data';
  conn: TcpConnection;
  dir: TcpDirection;
  /** Stream offset of `bytes[0]` in this direction (0 = first byte after the SYN, or first byte seen). */
  offset: number;
  /** A subarray of the capture (or of a reassembled IP datagram). */
  bytes: Uint8Array;
}

/** Bytes of one direction were never captured; the stream continues after them. */
export interface TcpGapEvent extends EventBase {
  kind: 'gap';
  conn: TcpConnection;
  dir: TcpDirection;
  /** Stream offset of the first missing byte. */
  offset: number;
  /** Number of missing bytes. */
  length: number;
}

/** One direction ended with a FIN, after all its bytes were delivered or reported missing. */
export interface TcpEndEvent extends EventBase {
  kind: 'end';
  conn: TcpConnection;
  dir: TcpDirection;
}

/** The connection is over; no more events will name it. */
export interface TcpCloseEvent extends EventBase {
  kind: 'close';
  conn: TcpConnection;
  reason: CloseReason;
}

/** A UDP datagram (reassembled if it came in IP fragments). */
export interface UdpEvent extends EventBase {
  kind: 'udp';
  src: Endpoint;
  dst: Endpoint;
  /** The UDP data. */
  payload: Uint8Array;
  /** The capture cut the datagram short. */
  truncated: boolean;
}

/** A packet that yields no TCP or UDP data: not IP, another protocol, malformed, or a fragment not reassembled. */
export interface SkipEvent extends EventBase {
  kind: 'skip';
  reason: string;
}

/** A survivable problem with the capture file, such as a truncated last packet. */
export interface WarningEvent {
  kind: 'warning';
  message: string;
  /** File offset of the problem. */
  fileOffset: number;
}

/** Everything {@link decodeFlows} and {@link FlowDecoder} produce. */
export type FlowEvent =
  | TcpOpenEvent
  | TcpDataEvent
  | TcpGapEvent
  | TcpEndEvent
  | TcpCloseEvent
  | UdpEvent
  | SkipEvent
  | WarningEvent;
