// Reassembles IPv4 and IPv6 fragments into whole datagram payloads.
import type { IpFragment } from './ip.js';

/** Limits for {@link IpReassembler}. */
export interface ReassemblerOptions {
  /** Datagrams kept waiting for missing fragments; the oldest is dropped beyond this. Default 1024. */
  maxPending?: number;
  /** Fragments kept per datagram; the datagram is dropped beyond this. Default 256. */
  maxFragments?: number;
  /** Bytes of fragments kept, all datagrams together; the oldest datagrams are dropped beyond this. Default 8 MiB. */
  maxPendingBytes?: number;
}

interface Pending {
  parts: { offset: number; bytes: Uint8Array }[];
  /** Payload length, known once the last fragment (no "more" flag) arrived. */
  total: number | undefined;
  /** Bytes held in `parts`. */
  bytes: number;
}

/** Largest reassembled payload an IP datagram can carry. */
const MAX_PAYLOAD = 65535;

/**
 * Collects fragments by datagram key and returns the payload once every byte is present.
 * Overlapping fragments are allowed; the earliest copy of a byte wins.
 * Memory is bounded: fragments are copied (they never keep a capture chunk alive), at most `maxPending`
 * datagrams and `maxPendingBytes` bytes are held, and the output is never larger than the fragment bytes
 * received.
 */
export class IpReassembler {
  readonly #pending = new Map<string, Pending>();
  readonly #maxPending: number;
  readonly #maxFragments: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: ReassemblerOptions = {}) {
    this.#maxPending = options.maxPending ?? 1024;
    this.#maxFragments = options.maxFragments ?? 256;
    this.#maxBytes = options.maxPendingBytes ?? 8 * 1024 * 1024;
  }

  /** Number of datagrams still missing fragments. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Bytes of fragments held. */
  get pendingBytes(): number {
    return this.#bytes;
  }

  #drop(key: string): void {
    const p = this.#pending.get(key);
    if (!p) return;
    this.#bytes -= p.bytes;
    this.#pending.delete(key);
  }

  /**
   * Adds one fragment.
   * @param key identifies the datagram: version, addresses, protocol and fragment id.
   * @returns the reassembled payload (a new array) when complete, else `undefined`.
   */
  add(key: string, fragment: IpFragment, payload: Uint8Array): Uint8Array | undefined {
    const end = fragment.offset + payload.length;
    if (end > MAX_PAYLOAD) {
      this.#drop(key);
      return undefined;
    }
    let p = this.#pending.get(key);
    if (!p) {
      if (this.#pending.size >= this.#maxPending) {
        const oldest = this.#pending.keys().next().value;
        if (oldest !== undefined) this.#drop(oldest);
      }
      p = { parts: [], total: undefined, bytes: 0 };
      this.#pending.set(key, p);
    }
    if (p.parts.length >= this.#maxFragments) {
      this.#drop(key);
      return undefined;
    }
    p.parts.push({ offset: fragment.offset, bytes: payload.slice() });
    p.bytes += payload.length;
    this.#bytes += payload.length;
    // Over the byte budget: drop the oldest datagrams (this one last).
    while (this.#bytes > this.#maxBytes) {
      const oldest = this.#pending.keys().next().value!;
      this.#drop(oldest);
      if (oldest === key) return undefined;
    }
    if (!fragment.more) p.total = end;
    if (p.total === undefined) return undefined;
    // Complete when the fragments, sorted by offset, cover [0, total) without holes.
    const sorted = [...p.parts].sort((a, b) => a.offset - b.offset);
    let covered = 0;
    for (const part of sorted) {
      if (part.offset > covered) return undefined;
      covered = Math.max(covered, part.offset + part.bytes.length);
    }
    if (covered < p.total) return undefined;
    const out = new Uint8Array(p.total);
    // Write in reverse arrival order so the earliest copy of each byte is written last.
    for (let i = p.parts.length - 1; i >= 0; i--) {
      const part = p.parts[i]!;
      const room = p.total - part.offset;
      if (room > 0) out.set(part.bytes.subarray(0, room), part.offset);
    }
    this.#drop(key);
    return out;
  }
}
