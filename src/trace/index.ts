// Public API of oncrpc/trace: the RPC messages in a capture, found all at once or as packets arrive.
export { DEFAULT_MAX_PENDING_CALLS, DEFAULT_REPLY_WINDOW, RpcTracer, traceRpc } from './rpc-trace.js';
export type { CallInfo, TraceNotice, TraceOptions, TraceResult, TracedMessage, TracerState, UnansweredReason } from './rpc-trace.js';
export { RpcStats, Durations, replyStatusName } from './stats.js';
export type { StatsRow, StatsTotals } from './stats.js';
export { compileFilter } from './filter.js';
export type { MessageFilter, MessagePredicate } from './filter.js';
