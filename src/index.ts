// oncrpc: ONC-RPC (Sun RPC) for Node.js. The root exports what an application needs most: every error
// class and code, the XDR reader/writer and one-shot encode/decode, and the program descriptor types
// that generated modules and loaded .x files share. Everything else lives in a subpath: oncrpc/xdr
// (combinators, limits, JSON mapping), oncrpc/rpc (messages, AUTH_SYS, record marking), oncrpc/codegen
// (compiler and run-time loader), oncrpc/pcap and oncrpc/trace (captures), oncrpc/runtime (what
// generated code imports).

export * from './errors.js';
export { XdrReader, XdrWriter, Quadruple, encode, decode, type XdrType, type DecodeLimits } from './xdr/index.js';
export * from './rpc/program.js';
