// oncrpc/client: calling Sun RPC services (RpcClient), and its retransmission schedule.

export { RpcClient, replyOutcome, DEFAULT_CALL_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_RETRANSMIT_MS, DEFAULT_MAX_DATAGRAM, type ClientOptions, type ClientStats, type ProcedureCodecs } from './rpc-client.js';
export { retransmitTimes, MAX_BACKOFF_MS } from './retransmit.js';
