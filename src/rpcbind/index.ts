// oncrpc/rpcbind: the rpcbind protocols (RFC 1833) and their client side — finding programs
// (createClient, rpcbGetaddr) and registering servers (register, rpcbSetAll).

export * from './rpcb-client.js';
export * as pmap from './pmap-prot.gen.js';
export * as rpcb from './rpcb-prot.gen.js';
