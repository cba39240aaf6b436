// Which RPC messages to show: by program, version, procedure, xid, host and port. A reply is judged by
// the call it answers for program, version and procedure, and by its own xid and endpoints.

import type { Endpoint } from '../pcap/events.js';
import type { CallInfo, TracedMessage } from './rpc-trace.js';

/** What to keep. Each field given narrows the selection; within a field, any value matches. */
export interface MessageFilter {
  programs?: readonly number[];
  versions?: readonly number[];
  /** Procedure numbers, or names matched (case-insensitively) against the procedure's name. */
  procedures?: readonly (number | string)[];
  xids?: readonly number[];
  /** Addresses as oncrpc prints them (dotted quad, RFC 5952 IPv6 text): either end of the message. */
  hosts?: readonly string[];
  /** Either end's port. */
  ports?: readonly number[];
}

/** A compiled {@link MessageFilter}: tests messages, and calls given up on (for statistics). */
export interface MessagePredicate {
  message(m: TracedMessage): boolean;
  call(c: CallInfo): boolean;
}

/**
 * Compiles `f`; `procedureName` gives a procedure's name (well-known or from a loaded .x) for name
 * matches. Undefined when `f` selects everything.
 */
export function compileFilter(f: MessageFilter, procedureName: (prog: number, vers: number, proc: number) => string | undefined): MessagePredicate | undefined {
  const set = <T>(xs: readonly T[] | undefined): Set<T> | undefined => (xs && xs.length ? new Set(xs) : undefined);
  const programs = set(f.programs);
  const versions = set(f.versions);
  const xids = set(f.xids);
  const hosts = set(f.hosts);
  const ports = set(f.ports);
  const procNumbers = set(f.procedures?.filter((p): p is number => typeof p === 'number'));
  const procNames = set(f.procedures?.filter((p): p is string => typeof p === 'string').map((p) => p.toUpperCase()));
  const byProcedure = procNumbers !== undefined || procNames !== undefined;
  if (!programs && !versions && !xids && !hosts && !ports && !byProcedure) return undefined;

  const ends = (src: Endpoint, dst: Endpoint): boolean =>
    (!hosts || hosts.has(src.addr) || hosts.has(dst.addr)) && (!ports || ports.has(src.port) || ports.has(dst.port));
  const proc = (prog: number, vers: number, p: number): boolean => {
    if (programs && !programs.has(prog)) return false;
    if (versions && !versions.has(vers)) return false;
    if (!byProcedure) return true;
    if (procNumbers?.has(p)) return true;
    if (!procNames) return false;
    const name = procedureName(prog, vers, p);
    return name !== undefined && procNames.has(name.toUpperCase());
  };
  const anyProc = programs !== undefined || versions !== undefined || byProcedure;
  return {
    message(m: TracedMessage): boolean {
      if (!ends(m.src, m.dst)) return false;
      const msg = m.message;
      if (xids) {
        const xid = msg ? msg.xid : m.record.length >= 4 ? new DataView(m.record.buffer, m.record.byteOffset, 4).getUint32(0) : undefined;
        if (xid === undefined || !xids.has(xid)) return false;
      }
      if (!anyProc) return true;
      if (!msg) return false;
      if (msg.mtype === 0) return proc(msg.prog, msg.vers, msg.proc);
      return m.call !== undefined && proc(m.call.prog, m.call.vers, m.call.proc);
    },
    call(c: CallInfo): boolean {
      return ends(c.src, c.dst) && (!xids || xids.has(c.xid)) && (!anyProc || proc(c.prog, c.vers, c.proc));
    },
  };
}
