// oncrpc/server: serving program versions (RpcServer) and its duplicate-request cache.

export {
  RpcServer,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CALLS_PER_CONNECTION,
  DEFAULT_MAX_CALLS,
  DEFAULT_SERVER_MAX_RECORD,
  DEFAULT_SERVER_MAX_DATAGRAM,
  type ServerOptions,
  type ListenOptions,
  type ServerStats,
} from './rpc-server.js';
export { ReplyCache, checksum, DEFAULT_REPLY_CACHE_ENTRIES, DEFAULT_REPLY_CACHE_BYTES, type ReplyCacheOptions, type CacheLookup } from './reply-cache.js';
