// The registry of rpcbind (RFC 1833): one list of rpcb entries (the v3/v4 view, `rpcinfo`) and the
// portmap list (the v2 view, `rpcinfo -p`), kept as rpcbind 1.2 keeps them: entries in the order they
// were set, a SET of a tcp/udp entry mirrored into the portmap list, an UNSET removing from both.
//
// The rules, as rpcbind applies them (and tested against it byte for byte):
// - SET of (prog, vers, netid) already registered: TRUE if the address is the same, FALSE otherwise.
// - UNSET of (prog, vers, netid) — netid "" means every netid — succeeds only for the superuser or the
//   entry's owner; at the first entry it may not remove it stops with FALSE (entries before it stay
//   removed, and the portmap list is left as it was: rpcbind's map_unset returns before del_pmaplist);
//   nothing registered is TRUE.
// - A lookup of (prog, vers, netid) returns the exact version if registered, else the LAST entry of
//   that program and netid in list order (how clients discover the versions offered).
// With `spread` (an oncrpc extension, off by default) several addresses may be registered for one
// (prog, vers, netid): lookups rotate among them, skipping those marked dead.

/** An rpcb entry (the v3/v4 view). */
export interface RpcbEntry {
  prog: number;
  vers: number;
  netid: string;
  addr: string;
  owner: string;
}

/** A portmap entry (the v2 view). */
export interface PmapEntry {
  prog: number;
  vers: number;
  prot: number;
  port: number;
}

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** The IP protocol of a netid for the portmap view (tcp 6, udp 17), 0 for any other. */
export function netidToProt(netid: string): number {
  return netid === 'tcp' ? IPPROTO_TCP : netid === 'udp' ? IPPROTO_UDP : 0;
}

/** The netid of a portmap protocol number, or undefined. */
export function protToNetid(prot: number): 'tcp' | 'udp' | undefined {
  return prot === IPPROTO_TCP ? 'tcp' : prot === IPPROTO_UDP ? 'udp' : undefined;
}

/** The port of an IP universal address, as rpcbind's uaddr2port reads it (the last two dotted numbers). */
export function uaddrPort(uaddr: string): number | undefined {
  const m = /\.(\d+)\.(\d+)$/.exec(uaddr);
  return m ? ((Number(m[1]) & 0xff) << 8) + (Number(m[2]) & 0xff) : undefined;
}

const C_INT = String.raw`[ \t\n\v\f\r]*[+-]?\d+`;
const PMAP_UADDR = new RegExp(`^${C_INT}\\.${C_INT}\\.${C_INT}\\.${C_INT}\\.(${C_INT})\\.(${C_INT})`);

/**
 * The port of a tcp/udp registration in the portmap list, as rpcbind's add_pmaplist computes it:
 * sscanf(r_addr, "%d.%d.%d.%d.%d.%d") must read six numbers, and the port is (p1 << 8) + p2, unmasked
 * (`0.0.0.0.300.1` → 76801, `0.0.0.0.1.-1` → 255); undefined (no portmap entry) otherwise.
 */
export function pmapPort(uaddr: string): number | undefined {
  const m = PMAP_UADDR.exec(uaddr);
  return m ? ((Number(m[1]) << 8) + Number(m[2])) >>> 0 : undefined;
}

const sameNetid = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export interface RegistryOptions {
  /** Several servers may register one (prog, vers, netid); lookups rotate among live ones. */
  spread?: boolean;
}

export class Registry {
  /** The v3/v4 list, in order. */
  readonly rbl: RpcbEntry[] = [];
  /** The v2 list, in order. */
  readonly pml: PmapEntry[] = [];
  readonly spread: boolean;
  /** Entries the reaper found dead (their addresses), skipped by spread lookups. */
  readonly dead = new Set<RpcbEntry>();
  #rotation = new Map<string, number>();
  /** Called after every change (persistence). */
  onChange: (() => void) | null = null;

  constructor(options: RegistryOptions = {}) {
    this.spread = options.spread ?? false;
  }

  /** rpcbind's find_service: the exact version, else the last entry of the program on that netid. */
  findService(prog: number, vers: number, netid: string): RpcbEntry | undefined {
    let hit: RpcbEntry | undefined;
    if (this.spread) {
      const exact = this.rbl.filter((e) => e.prog === prog && e.vers === vers && sameNetid(e.netid, netid));
      if (exact.length > 0) return this.#rotate(`${prog}/${vers}/${netid}`, exact);
    }
    for (const e of this.rbl) {
      if (e.prog !== prog || !sameNetid(e.netid, netid)) continue;
      hit = e;
      if (e.vers === vers) break;
    }
    return hit;
  }

  #rotate(key: string, list: RpcbEntry[]): RpcbEntry {
    const live = list.filter((e) => !this.dead.has(e));
    const pool = live.length > 0 ? live : list;
    const n = this.#rotation.get(key) ?? 0;
    this.#rotation.set(key, n + 1);
    return pool[n % pool.length]!;
  }

  /** The portmap lookup (v2 GETPORT): exact version, else the last entry of the program and protocol. */
  findServicePmap(prog: number, vers: number, prot: number): PmapEntry | undefined {
    let hit: PmapEntry | undefined;
    if (this.spread) {
      const netid = protToNetid(prot);
      if (netid) {
        const e = this.findService(prog, vers, netid);
        if (e && e.vers === vers) {
          const port = uaddrPort(e.addr);
          if (port !== undefined) return { prog, vers, prot, port };
        }
      }
    }
    for (const e of this.pml) {
      if (e.prog !== prog || e.prot !== prot) continue;
      hit = e;
      if (e.vers === vers) break;
    }
    return hit;
  }

  /** The lowest and highest version of `prog` registered on `netid` (0, 0 if none). */
  findVersions(prog: number, netid: string): [number, number] {
    let low = 0;
    let high = 0;
    for (const e of this.rbl) {
      if (e.prog !== prog || !sameNetid(e.netid, netid)) continue;
      if (low === 0) low = high = e.vers;
      else if (e.vers < low) low = e.vers;
      else if (e.vers > high) high = e.vers;
    }
    return [low, high];
  }

  /** rpcbind's map_set. */
  set(reg: { prog: number; vers: number; netid: string; addr: string }, owner: string): boolean {
    if (this.spread) {
      if (this.rbl.some((e) => e.prog === reg.prog && e.vers === reg.vers && sameNetid(e.netid, reg.netid) && e.addr === reg.addr)) return true;
    } else {
      const found = this.findService(reg.prog, reg.vers, reg.netid);
      if (found && found.vers === reg.vers) return found.addr === reg.addr;
    }
    this.rbl.push({ prog: reg.prog, vers: reg.vers, netid: reg.netid, addr: reg.addr, owner });
    const prot = netidToProt(reg.netid);
    const port = pmapPort(reg.addr);
    if (prot && port !== undefined) this.pml.push({ prog: reg.prog, vers: reg.vers, prot, port });
    this.onChange?.();
    return true;
  }

  /** rpcbind's map_unset (netid "" = every netid). */
  unset(reg: { prog: number; vers: number; netid: string }, owner: string): boolean {
    let removed = false;
    for (let i = 0; i < this.rbl.length; ) {
      const e = this.rbl[i]!;
      if (e.prog !== reg.prog || e.vers !== reg.vers || (reg.netid !== '' && !sameNetid(e.netid, reg.netid))) {
        i++;
        continue;
      }
      if (owner !== 'superuser' && e.owner !== owner) {
        // rpcbind returns here: what was removed stays removed, the portmap list is not touched.
        if (removed) this.onChange?.();
        return false;
      }
      this.rbl.splice(i, 1);
      this.dead.delete(e);
      removed = true;
    }
    if (removed) {
      this.#unsetPmap(reg.prog, reg.vers, reg.netid);
      this.onChange?.();
    }
    return true;
  }

  /** rpcbind's del_pmaplist. */
  #unsetPmap(prog: number, vers: number, netid: string): void {
    const prot = netid === '' ? 0 : netidToProt(netid);
    if (netid !== '' && prot === 0) return;
    for (let i = 0; i < this.pml.length; ) {
      const p = this.pml[i]!;
      if (p.prog === prog && p.vers === vers && (prot === 0 || p.prot === prot)) this.pml.splice(i, 1);
      else i++;
    }
  }

  /** Replaces the whole state (warm start). */
  load(rbl: readonly RpcbEntry[], pml: readonly PmapEntry[]): void {
    this.rbl.push(...rbl);
    this.pml.push(...pml);
  }

  /** Removes one exact entry (the reaper), from both views. */
  remove(entry: RpcbEntry): void {
    const i = this.rbl.indexOf(entry);
    if (i < 0) return;
    this.rbl.splice(i, 1);
    this.dead.delete(entry);
    const prot = netidToProt(entry.netid);
    const port = pmapPort(entry.addr);
    const j = this.pml.findIndex((p) => p.prog === entry.prog && p.vers === entry.vers && p.prot === prot && p.port === port);
    if (j >= 0) this.pml.splice(j, 1);
    this.onChange?.();
  }
}
