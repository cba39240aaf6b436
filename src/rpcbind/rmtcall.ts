// rpcbind's remote-call sockets: one UDP socket per address family, opened on first use on an ephemeral
// port, from which CALLIT, BCAST and INDIRECT calls are forwarded to the local service, and from which the
// answer goes back to the caller. rpcbind does the same (its handle_reply answers through the remote-call
// transport), so a caller sees the reply come from that socket's port — not 111 — and from the address
// the kernel picks to reach it (spec/interop/rpcbind-semantics compares the two daemons on this).
//
// A forwarded call is sent once: the caller retransmits, and the daemon forwards a retransmission only if
// the first forward is over. No reply within the timeout: the promise resolves with undefined (rpcbind
// then answers nothing). Replies are matched by xid alone; anything else arriving on the socket is dropped.
// At most MAX_FORWARDS calls are forwarded at once (rpcbind's forward table has 64 slots and reuses the
// oldest when full): beyond, the oldest is given up, so a flood of remote calls costs bounded memory.

import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { decodeRpcMessage, writeCallHeader } from '../rpc/header.js';
import { AUTH_NONE, type OpaqueAuth, type RpcReply } from '../rpc/messages.js';
import { XdrWriter } from '../xdr/writer.js';

type Family = 'udp4' | 'udp6';

/** Calls forwarded and awaiting their reply at once; the oldest is given up for a new one beyond. */
export const MAX_FORWARDS = 64;

interface Pending {
  resolve: (reply: RpcReply | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Where a forwarded call goes, and what it is. */
export interface ForwardedCall {
  host: string;
  port: number;
  prog: number;
  vers: number;
  proc: number;
  cred: OpaqueAuth;
  /** The arguments, already encoded. */
  args: Uint8Array;
}

export class RmtcallSockets {
  readonly #max: number;
  readonly #sockets = new Map<Family, Promise<Socket>>();
  readonly #pending = new Map<number, Pending>();
  #xid = randomInt(0x7fffffff);
  #closed = false;

  constructor(maxForwards = MAX_FORWARDS) {
    this.#max = maxForwards;
  }

  /** Calls forwarded and awaiting their reply. */
  get forwarding(): number {
    return this.#pending.size;
  }

  #socket(family: Family): Promise<Socket> {
    let p = this.#sockets.get(family);
    if (p === undefined) {
      p = new Promise<Socket>((resolve, reject) => {
        const s = createSocket({ type: family, ipv6Only: family === 'udp6' });
        s.once('error', reject);
        s.on('message', (m) => this.#onMessage(m));
        s.bind(0, () => {
          s.removeListener('error', reject);
          s.on('error', () => {}); // ICMP errors of a forward: the call times out
          s.unref();
          resolve(s);
        });
      });
      this.#sockets.set(family, p);
      p.catch(() => this.#sockets.delete(family));
    }
    return p;
  }

  #onMessage(m: Buffer): void {
    let reply;
    try {
      reply = decodeRpcMessage(m);
    } catch {
      return;
    }
    if (reply.mtype !== 1) return;
    const p = this.#pending.get(reply.xid);
    if (p === undefined) return;
    this.#pending.delete(reply.xid);
    clearTimeout(p.timer);
    // The results are a view of the datagram, which is this message's alone.
    p.resolve(reply);
  }

  /** Forwards a call; resolves with the service's reply, or undefined if none came within `timeoutMs`. */
  async forward(call: ForwardedCall, timeoutMs: number): Promise<RpcReply | undefined> {
    if (this.#closed) return undefined;
    const s = await this.#socket(isIP(call.host) === 6 ? 'udp6' : 'udp4');
    this.#xid = (this.#xid + 1) >>> 0;
    const xid = this.#xid;
    const w = new XdrWriter({ initialSize: 64 + call.cred.body.length + call.args.length });
    writeCallHeader(w, { xid, prog: call.prog, vers: call.vers, proc: call.proc, cred: call.cred, verf: AUTH_NONE });
    w.writeRaw(call.args);
    const bytes = w.toBytes();
    return new Promise((resolve) => {
      const done = (r: RpcReply | undefined): void => {
        if (this.#pending.get(xid) !== pending) return;
        this.#pending.delete(xid);
        clearTimeout(pending.timer);
        resolve(r);
      };
      const pending: Pending = { resolve, timer: setTimeout(() => done(undefined), timeoutMs) };
      if (this.#pending.size >= this.#max) {
        const [oldXid, oldest] = this.#pending.entries().next().value as [number, Pending];
        this.#pending.delete(oldXid);
        clearTimeout(oldest.timer);
        oldest.resolve(undefined);
      }
      this.#pending.set(xid, pending);
      s.send(bytes, call.port, call.host, (err) => {
        if (err) done(undefined);
      });
    });
  }

  /** Sends `bytes` (a whole reply) to a caller from the remote-call socket of its family. */
  async answer(host: string, port: number, bytes: Uint8Array): Promise<void> {
    if (this.#closed) return;
    const s = await this.#socket(isIP(host) === 6 ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => s.send(bytes, port, host, () => resolve()));
  }

  /** Closes the sockets; calls still forwarded resolve with undefined. */
  close(): void {
    this.#closed = true;
    for (const [xid, p] of this.#pending) {
      this.#pending.delete(xid);
      clearTimeout(p.timer);
      p.resolve(undefined);
    }
    for (const p of this.#sockets.values()) p.then((s) => s.close(), () => {});
    this.#sockets.clear();
  }
}
