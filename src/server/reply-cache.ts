// The duplicate-request cache (at-most-once execution): a retransmitted call gets the reply the first
// execution produced instead of running its handler again. Entries are keyed by the caller, xid,
// program, version, procedure and a checksum of the arguments (so a reused xid with other arguments is a
// new call). A call still running drops its duplicates; a finished one replays its exact reply bytes
// (a copy: the server's writers are reused). Bounded in entries and in reply bytes, least recently used
// out first. Like libtirpc's svc_dg_enablecache, but usable on every transport.

/** Default most entries (running and finished). */
export const DEFAULT_REPLY_CACHE_ENTRIES = 1024;
/** Default most bytes of cached replies. */
export const DEFAULT_REPLY_CACHE_BYTES = 8 * 1024 * 1024;

export interface ReplyCacheOptions {
  /** Most entries kept. Default 1024. */
  entries?: number;
  /** Most reply bytes kept. Default 8 MiB. */
  bytes?: number;
}

/** What the cache says of a call. */
export type CacheLookup = { state: 'new' } | { state: 'running' } | { state: 'done'; reply: Uint8Array };

interface Entry {
  reply: Uint8Array | null;
}

/** FNV-1a over the bytes: cheap, good enough to tell retransmissions from new calls with a reused xid. */
export function checksum(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

export class ReplyCache {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly #map = new Map<string, Entry>();
  #bytes = 0;
  /** Counters: hits replayed, duplicates of running calls dropped, entries evicted. */
  readonly stats = { replayed: 0, droppedInProgress: 0, evicted: 0 };

  constructor(options: ReplyCacheOptions = {}) {
    this.maxEntries = options.entries ?? DEFAULT_REPLY_CACHE_ENTRIES;
    this.maxBytes = options.bytes ?? DEFAULT_REPLY_CACHE_BYTES;
  }

  /** The key of a call. `caller` names the client (address, and port for datagrams). */
  static key(caller: string, xid: number, prog: number, vers: number, proc: number, args: Uint8Array): string {
    return `${caller}|${xid}|${prog}|${vers}|${proc}|${args.length}|${checksum(args)}`;
  }

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Looks a call up; a new call is entered as running. */
  begin(key: string): CacheLookup {
    const e = this.#map.get(key);
    if (e) {
      this.#map.delete(key); // refresh its place in the LRU order
      this.#map.set(key, e);
      if (e.reply === null) {
        this.stats.droppedInProgress++;
        return { state: 'running' };
      }
      this.stats.replayed++;
      return { state: 'done', reply: e.reply };
    }
    this.#map.set(key, { reply: null });
    this.#evict();
    return { state: 'new' };
  }

  /** Records the reply of a call begun with `begin` (the bytes are kept as given: pass a copy). */
  finish(key: string, reply: Uint8Array): void {
    const e = this.#map.get(key);
    if (!e || e.reply !== null) return;
    if (reply.length > this.maxBytes) {
      this.#map.delete(key);
      return;
    }
    e.reply = reply;
    this.#bytes += reply.length;
    this.#evict();
  }

  /** Forgets a call that produced no reply (dropped, orphaned), so a retransmission runs it. */
  abandon(key: string): void {
    const e = this.#map.get(key);
    if (e && e.reply === null) this.#map.delete(key);
  }

  #evict(): void {
    for (const [k, e] of this.#map) {
      if (this.#map.size <= this.maxEntries && this.#bytes <= this.maxBytes) break;
      this.#map.delete(k);
      if (e.reply) this.#bytes -= e.reply.length;
      this.stats.evicted++;
    }
  }
}
