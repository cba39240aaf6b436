// oncrpc/transport: universal addresses and netids (RFC 5665), and record-marked streams on sockets.

export * from './uaddr.js';
export { RecordStream, DEFAULT_SPLICE_THRESHOLD, type StreamOptions } from './stream.js';
export { nativeAvailable, nativeLoadError, peerCredentials, PktinfoUdpSocket, type PeerCredentials, type LocalInfo } from './native.js';
