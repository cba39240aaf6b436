// oncrpc: ONC-RPC (Sun RPC) for Node.js. The stable public API; subpaths ./xdr, ./rpc, ./pcap also exist.

export * from './errors.js';
export * from './xdr/index.js';
export * from './rpc/index.js';
export * from './codegen/runtime.js';
