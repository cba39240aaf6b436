// Reassembles IPv4 and IPv6 fragments into whole datagram payloads.
import type { IpFragment } from './ip.js';

/** Limits for {@link IpReassembler}. */
export interface ReassemblerOptions {
  /** Datagrams kept waiting for missing fragments; the oldest is dropped beyond this. Default 1024. */
  maxPending?: number;
  /** Fragments kept per datagram; the datagram is dropped beyond this. Default 256. */
  maxFragments?: number;
}

interface Pending {
  parts: { offset: number; bytes: Uint8Array }[];
  /** Payload length, known once the last fragment (no "more" flag) arrived. */
  total: number | undefined;
}

/** Largest reassembled payload an IP datagram can carry. */
const MAX_PAYLOAD = 65535;

/**
 * Collects fragments by datagram key and returns the payload once every byte is present.
 * Overlapping fragments are allowed; the earliest copy of a byte wins.
 * Memory is bounded: the output is never larger than the fragment bytes received.
 */
export class IpReassembler {
  readonly #pending = new Map<string, Pending>();
  readonly #maxPending: number;
  readonly #maxFragments: number;

  constructor(options: ReassemblerOptions = {}) {
    this.#maxPending = options.maxPending ?? 1024;
    this.#maxFragments = options.maxFragments ?? 256;
  }

  /** Number of datagrams still missing fragments. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Adds one fragment.
   * @param key identifies the datagram: version, addresses, protocol and fragment id.
   * @returns the reassembled payload (a new array) when complete, else `undefined`.
   */
  add(key: string, fragment: IpFragment, payload: Uint8Array): Uint8Array | undefined {
    const end = fragment.offset + payload.length;
    if (end > MAX_PAYLOAD) {
      this.#pending.delete(key);
      return undefined;
    }
    let p = this.#pending.get(key);
    if (!p) {
      if (this.#pending.size >= this.#maxPending) {
        const oldest = this.#pending.keys().next().value;
        if (oldest !== undefined) this.#pending.delete(oldest);
      }
      p = { parts: [], total: undefined };
      this.#pending.set(key, p);
    }
    if (p.parts.length >= this.#maxFragments) {
      this.#pending.delete(key);
      return undefined;
    }
    p.parts.push({ offset: fragment.offset, bytes: payload });
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
    this.#pending.delete(key);
    return out;
  }
}
