// oncrpc: ONC-RPC (Sun RPC) for Node.js. The root exports what an application needs most: every error
// class and code, the XDR reader/writer and one-shot encode/decode, the program descriptor types that
// generated modules and loaded .x files share, the client and server, and rpcbind lookup and
// registration. Everything else lives in a subpath: oncrpc/xdr (combinators, limits, JSON mapping),
// oncrpc/rpc (messages, AUTH_SYS, record marking), oncrpc/transport (universal addresses, framed
// streams), oncrpc/client, oncrpc/server, oncrpc/rpcbind (protocols), oncrpc/codegen (compiler and
// run-time loader), oncrpc/pcap and oncrpc/trace (captures), oncrpc/runtime (what generated code imports).

export * from './errors.js';
export { XdrReader, XdrWriter, Quadruple, encode, decode, type XdrType, type DecodeLimits } from './xdr/index.js';
export * from './rpc/program.js';
export { authSys, decodeAuthSys, type AuthSysParms } from './rpc/auth-sys.js';
export { AUTH_NONE, type OpaqueAuth } from './rpc/messages.js';
export type { Endpoint, Netid } from './transport/uaddr.js';
export { RpcClient, type ClientOptions } from './client/rpc-client.js';
export { RpcServer, type ServerOptions, type ListenOptions } from './server/rpc-server.js';
export { createClient, register, rpcbGetaddr, type CreateClientOptions, type RegisterOptions } from './rpcbind/rpcb-client.js';
