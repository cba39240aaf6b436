// Service-response-time statistics of RPC traffic, per program, version and procedure: calls, replies by
// status, unanswered calls, and the call→reply time (min, percentiles, max), in memory that does not grow
// with the number of messages (a fixed histogram per procedure once it has more than a few hundred replies).

import { accept_stat, nameOf } from '../rpc/constants.js';
import type { RpcMessage } from '../rpc/messages.js';
import type { CallInfo, TracedMessage } from './rpc-trace.js';

/** The status of a reply as the statistics count it: an accept_stat name, `RPC_MISMATCH` or `AUTH_ERROR`. */
export function replyStatusName(m: RpcMessage & { mtype: 1 }): string {
  if (m.stat === 0) return nameOf(accept_stat, m.acceptStat);
  return m.rejectStat === 0 ? 'RPC_MISMATCH' : 'AUTH_ERROR';
}

/** Samples kept exactly before a distribution switches to its histogram. */
const EXACT = 512;
/** Histogram bucket width: each bucket spans a factor of 1.01 (percentiles within 0.5 %). */
const RATIO = 1.01;
const LOG_RATIO = Math.log(RATIO);
/** Lower edge of bucket 1, in seconds (bucket 0 holds everything below: 0 and sub-0.1 µs). */
const FLOOR = 1e-7;
/** Buckets up to FLOOR·RATIO^N ≈ 2·10^4 s; longer times go to the last bucket. */
const BUCKETS = 2600;

/**
 * A distribution of durations (seconds): exact min and max, exact percentiles up to 512 samples, then
 * percentiles from a logarithmic histogram (bucket midpoint, within 0.5 %, clamped to [min, max]).
 */
export class Durations {
  count = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;
  #exact: number[] | undefined = [];
  #hist: Uint32Array | undefined;

  add(d: number): void {
    this.count++;
    if (d < this.min) this.min = d;
    if (d > this.max) this.max = d;
    this.sum += d;
    if (this.#exact) {
      this.#exact.push(d);
      if (this.#exact.length > EXACT) {
        this.#hist = new Uint32Array(BUCKETS);
        for (const x of this.#exact) this.#hist[bucket(x)]!++;
        this.#exact = undefined;
      }
    } else this.#hist![bucket(d)]!++;
  }

  /** The nearest-rank percentile `p` (0 < p ≤ 100): the smallest sample with at least p % of them at or below it. */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (this.#exact) return [...this.#exact].sort((a, b) => a - b)[rank - 1];
    let seen = 0;
    const h = this.#hist!;
    for (let i = 0; i < BUCKETS; i++) {
      seen += h[i]!;
      if (seen >= rank) {
        const mid = i === 0 ? 0 : FLOOR * RATIO ** (i - 0.5);
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }
}

function bucket(d: number): number {
  if (d < FLOOR) return 0;
  return Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(d / FLOOR) / LOG_RATIO));
}

/** The statistics of one program version procedure. */
export interface StatsRow {
  prog: number;
  vers: number;
  proc: number;
  /** Call messages (retransmissions included). */
  calls: number;
  /** Replies matched to a call (duplicates not included). */
  replies: number;
  /** Replies by {@link replyStatusName}. */
  byStatus: Map<string, number>;
  /** Calls that got no reply (given up on after the reply window, or still waiting at the end). */
  unanswered: number;
  /** Calls sent again (same xid and endpoints) while the first was awaiting its reply. */
  retransmissions: number;
  /** Second and later replies to one call. */
  duplicateReplies: number;
  /** Call→reply times of the replies, in seconds. */
  times: Durations;
}

/** Totals over every row, and what belongs to no row. */
export interface StatsTotals {
  calls: number;
  replies: number;
  unanswered: number;
  retransmissions: number;
  duplicateReplies: number;
  /** Replies whose call is not in the capture (or was given up on before they came). */
  orphanReplies: number;
  /** Records and datagrams that looked like RPC but did not decode. */
  malformed: number;
}

/** Most rows kept; calls of further program/version/procedure triples are counted in one row (prog -1). */
const MAX_ROWS = 4096;

/**
 * Collects {@link StatsRow}s from traced messages: feed it every call and reply ({@link message}) and
 * every call given up on ({@link unanswered}, from the tracer's `onUnanswered`).
 */
export class RpcStats {
  /** Rows by program, version and procedure (numbers: no key string to build per message). */
  readonly #rows = new Map<number, Map<number, Map<number, StatsRow>>>();
  #count = 0;
  readonly totals: StatsTotals = { calls: 0, replies: 0, unanswered: 0, retransmissions: 0, duplicateReplies: 0, orphanReplies: 0, malformed: 0 };

  #row(prog: number, vers: number, proc: number): StatsRow {
    let byProg = this.#rows.get(prog);
    if (!byProg) this.#rows.set(prog, (byProg = new Map()));
    let byVers = byProg.get(vers);
    if (!byVers) byProg.set(vers, (byVers = new Map()));
    let r = byVers.get(proc);
    if (!r) {
      if (this.#count >= MAX_ROWS && prog !== -1) return this.#row(-1, 0, 0);
      r = { prog, vers, proc, calls: 0, replies: 0, byStatus: new Map(), unanswered: 0, retransmissions: 0, duplicateReplies: 0, times: new Durations() };
      byVers.set(proc, r);
      this.#count++;
    }
    return r;
  }

  /** Counts a message: a call, a reply (under its call's procedure), or a malformed one. */
  message(m: TracedMessage): void {
    const msg = m.message;
    if (!msg) {
      this.totals.malformed++;
      return;
    }
    if (msg.mtype === 0) {
      const r = this.#row(msg.prog, msg.vers, msg.proc);
      r.calls++;
      this.totals.calls++;
      if (m.retransmits !== undefined) {
        r.retransmissions++;
        this.totals.retransmissions++;
      }
      return;
    }
    const c = m.call;
    if (!c) {
      this.totals.orphanReplies++;
      return;
    }
    const r = this.#row(c.prog, c.vers, c.proc);
    if (m.duplicate) {
      r.duplicateReplies++;
      this.totals.duplicateReplies++;
      return;
    }
    r.replies++;
    this.totals.replies++;
    const status = replyStatusName(msg);
    r.byStatus.set(status, (r.byStatus.get(status) ?? 0) + 1);
    r.times.add(Math.max(0, m.timestamp - c.timestamp));
  }

  /** Counts a call that got no reply. */
  unanswered(c: CallInfo): void {
    this.#row(c.prog, c.vers, c.proc).unanswered++;
    this.totals.unanswered++;
  }

  /** The rows, by program, version and procedure number. */
  rows(): StatsRow[] {
    return [...this.#rows.values()].flatMap((p) => [...p.values()].flatMap((v) => [...v.values()])).sort((a, b) => a.prog - b.prog || a.vers - b.vers || a.proc - b.proc);
  }
}
