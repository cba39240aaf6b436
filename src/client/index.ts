// oncrpc/client: calling Sun RPC services (RpcClient), its retransmission schedule, and broadcast calls (rpcBroadcast).

export { RpcClient, replyOutcome, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRANSMIT_MS, DEFAULT_MAX_DATAGRAM, type ClientOptions, type ClientStats, type ProcedureCodecs } from './rpc-client.js';
export { retransmitTimes, MAX_BACKOFF_MS } from './retransmit.js';
export { rpcBroadcast, broadcastTargets, defaultAuthSys, RPCB_MULTICAST_ADDR, BROADCAST_INITIAL_WAIT_MS, BROADCAST_MAX_WAIT_MS, type BroadcastOptions, type BroadcastReply, type BroadcastStatus, type BroadcastTarget } from './broadcast.js';
