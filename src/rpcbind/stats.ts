// rpcbind's statistics (RPCBPROC_GETSTAT, `rpcinfo -m`), counted as rpcbind 1.2 counts them: per
// version (v2, v3, v4) a counter per procedure up to that version's highest, successful SETs and
// UNSETs, per (prog, vers, netid) lookups that found an address or not, and per (prog, vers, proc,
// netid) remote calls. New list entries go to the front, as rpcbind links them.

import type { rpcb_stat, rpcbs_addrlist, rpcbs_rmtcalllist } from './rpcb-prot.gen.js';

/** The index of a protocol version in the statistics: v2 0, v3 1, v4 2. */
export type StatVersion = 0 | 1 | 2;

/** Highest procedure counted per version (rpcb_highproc_2/3/4: CALLIT, TADDR2UADDR, GETSTAT). */
const HIGHPROC = [5, 8, 12] as const;

export class RpcbStats {
  readonly byVersion: rpcb_stat[] = [0, 1, 2].map(() => ({ info: new Array<number>(13).fill(0), setinfo: 0, unsetinfo: 0, addrinfo: null, rmtinfo: null }));

  /** rpcbs_procinfo: every call to version v's procedure proc. */
  proc(v: StatVersion, proc: number): void {
    if (proc > HIGHPROC[v]) return;
    this.byVersion[v]!.info[proc]!++;
  }

  set(v: StatVersion, ok: boolean): void {
    if (ok) this.byVersion[v]!.setinfo++;
  }

  unset(v: StatVersion, ok: boolean): void {
    if (ok) this.byVersion[v]!.unsetinfo++;
  }

  /** rpcbs_getaddr: a lookup that answered `uaddr` ("" or undefined: not found). */
  getaddr(v: StatVersion, prog: number, vers: number, netid: string, uaddr: string | undefined): void {
    const s = this.byVersion[v]!;
    const ok = uaddr !== undefined && uaddr !== '';
    for (let a: rpcbs_addrlist | null = s.addrinfo; a; a = a.next) {
      if (a.prog === prog && a.vers === vers && a.netid === netid) {
        if (ok) a.success++;
        else a.failure++;
        return;
      }
    }
    s.addrinfo = { prog, vers, success: ok ? 1 : 0, failure: ok ? 0 : 1, netid, next: s.addrinfo };
  }

  /** rpcbs_rmtcall: a CALLIT/INDIRECT of (prog, vers, proc); `found` when the exact version was registered. */
  rmtcall(v: StatVersion, indirect: boolean, prog: number, vers: number, proc: number, netid: string, found: boolean): void {
    const s = this.byVersion[v]!;
    for (let r: rpcbs_rmtcalllist | null = s.rmtinfo; r; r = r.next) {
      if (r.prog === prog && r.vers === vers && r.proc === proc && r.netid === netid) {
        if (found) r.success++;
        else r.failure++;
        if (indirect) r.indirect++;
        return;
      }
    }
    s.rmtinfo = { prog, vers, proc, success: found ? 1 : 0, failure: found ? 0 : 1, indirect: 1, netid, next: s.rmtinfo };
  }
}
