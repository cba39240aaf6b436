// Public API of oncrpc/trace: the RPC messages in a capture.
export { traceRpc } from './rpc-trace.js';
export type { TraceNotice, TraceOptions, TraceResult, TracedMessage } from './rpc-trace.js';
