// The UDP retransmission schedule (at-least-once semantics): libtirpc's clnt_dg_call resends the same
// datagram, with the same xid, after a wait that doubles from an initial value up to a cap, until the
// call's total timeout. Kept a pure function so the schedule is tested without sockets.

/** libtirpc's RPC_MAX_BACKOFF: the wait between retransmissions never exceeds 30 s. */
export const MAX_BACKOFF_MS = 30_000;

/**
 * The times (ms after the first send) at which a call is sent again: waits of `initialMs`, then twice
 * that, … capped at `maxMs`, for as long as they fall before `totalMs`.
 */
export function retransmitTimes(initialMs: number, totalMs: number, maxMs: number = MAX_BACKOFF_MS): number[] {
  const out: number[] = [];
  if (!(initialMs > 0)) return out;
  let wait = Math.min(initialMs, maxMs);
  let t = wait;
  while (t < totalMs && out.length < 10_000) {
    out.push(t);
    wait = Math.min(wait * 2, maxMs);
    t += wait;
  }
  return out;
}

/** The wait after a send that was itself preceded by a wait of `previousMs`. */
export function nextWait(previousMs: number, maxMs: number = MAX_BACKOFF_MS): number {
  return Math.min(previousMs * 2, maxMs);
}
