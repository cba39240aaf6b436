// RPC message headers (RFC 5531 §9): read and write calls and replies; arguments/results stay raw views.

import { ErrorCodes, RpcMessageError, XdrEncodeError } from '../errors.js';
import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { MAX_AUTH_BYTES, accept_stat, msg_type, reject_stat, reply_stat } from './constants.js';
import type { CallHeader, OpaqueAuth, RpcCall, RpcMessage, RpcReply } from './messages.js';

/** opaque_auth: flavor, then a body of at most 400 bytes (checked before the body is read). */
export function readOpaqueAuth(r: XdrReader): OpaqueAuth {
  const flavor = r.readUint();
  const at = r.pos;
  const n = r.readUint();
  if (n > MAX_AUTH_BYTES) {
    throw new RpcMessageError(ErrorCodes.ERR_RPC_AUTH_TOO_LARGE, `opaque_auth body of ${n} bytes exceeds ${MAX_AUTH_BYTES}`, at);
  }
  return { flavor, body: r.readFixedOpaque(n) };
}

export function writeOpaqueAuth(w: XdrWriter, a: OpaqueAuth): void {
  if (a.body.length > MAX_AUTH_BYTES) {
    throw new XdrEncodeError(`opaque_auth body of ${a.body.length} bytes exceeds ${MAX_AUTH_BYTES}`);
  }
  w.writeUint(a.flavor);
  w.writeOpaque(a.body);
}

/**
 * Reads one whole RPC message from `r` (a record or a datagram); `body` is a view of what follows the
 * header. Throws `XdrDecodeError` for truncated input and `RpcMessageError` for values RFC 5531 does not
 * allow. A call's `rpcvers` is not checked here: a server needs the xid to decide how to refuse it.
 */
export function readRpcMessage(r: XdrReader): RpcMessage {
  const xid = r.readUint();
  const mtypeAt = r.pos;
  const mtype = r.readUint();
  if (mtype === msg_type.CALL) return readCallBody(r, xid);
  if (mtype === msg_type.REPLY) return readReplyBody(r, xid);
  throw new RpcMessageError(ErrorCodes.ERR_RPC_HEADER, `msg_type ${mtype} is neither CALL nor REPLY`, mtypeAt);
}

function rest(r: XdrReader): Uint8Array {
  const body = r.buf.subarray(r.pos, r.end);
  r.pos = r.end;
  return body;
}

function readCallBody(r: XdrReader, xid: number): RpcCall {
  const rpcvers = r.readUint();
  const prog = r.readUint();
  const vers = r.readUint();
  const proc = r.readUint();
  const cred = readOpaqueAuth(r);
  const verf = readOpaqueAuth(r);
  return { xid, mtype: 0, rpcvers, prog, vers, proc, cred, verf, body: rest(r) };
}

function readReplyBody(r: XdrReader, xid: number): RpcReply {
  const statAt = r.pos;
  const stat = r.readUint();
  if (stat === reply_stat.MSG_ACCEPTED) {
    const verf = readOpaqueAuth(r);
    const asAt = r.pos;
    const acceptStat = r.readUint();
    switch (acceptStat) {
      case accept_stat.PROG_MISMATCH: {
        const low = r.readUint();
        const high = r.readUint();
        return { xid, mtype: 1, stat: 0, verf, acceptStat, low, high, body: rest(r) };
      }
      case accept_stat.SUCCESS:
      case accept_stat.PROG_UNAVAIL:
      case accept_stat.PROC_UNAVAIL:
      case accept_stat.GARBAGE_ARGS:
      case accept_stat.SYSTEM_ERR:
        return { xid, mtype: 1, stat: 0, verf, acceptStat, body: rest(r) };
      default:
        throw new RpcMessageError(ErrorCodes.ERR_RPC_HEADER, `accept_stat ${acceptStat} is not defined`, asAt);
    }
  }
  if (stat === reply_stat.MSG_DENIED) {
    const rsAt = r.pos;
    const rejectStat = r.readUint();
    if (rejectStat === reject_stat.RPC_MISMATCH) {
      const low = r.readUint();
      const high = r.readUint();
      return { xid, mtype: 1, stat: 1, rejectStat, low, high, body: rest(r) };
    }
    if (rejectStat === reject_stat.AUTH_ERROR) {
      const authStat = r.readUint();
      return { xid, mtype: 1, stat: 1, rejectStat, authStat, body: rest(r) };
    }
    throw new RpcMessageError(ErrorCodes.ERR_RPC_HEADER, `reject_stat ${rejectStat} is not defined`, rsAt);
  }
  throw new RpcMessageError(ErrorCodes.ERR_RPC_HEADER, `reply_stat ${stat} is neither MSG_ACCEPTED nor MSG_DENIED`, statAt);
}

/** One reader for every decodeRpcMessage (a new one per message was 8 % of `oncrpc decode`). */
const messageReader = new XdrReader();
const NOTHING = new Uint8Array(0);
const NOTHING_VIEW = new DataView(NOTHING.buffer);

/** Decodes one RPC message that spans all of `bytes`. */
export function decodeRpcMessage(bytes: Uint8Array): RpcMessage {
  try {
    return readRpcMessage(messageReader.reset(bytes));
  } finally {
    // Hold nothing between calls: the bytes may be a view of a capture chunk or of a large record.
    messageReader.buf = NOTHING;
    messageReader.view = NOTHING_VIEW;
  }
}

/** Writes a call header; the caller writes the arguments after it. */
export function writeCallHeader(w: XdrWriter, h: CallHeader): void {
  w.reserve(24);
  w.writeUint(h.xid);
  w.writeUint(msg_type.CALL);
  w.writeUint(h.rpcvers ?? 2);
  w.writeUint(h.prog);
  w.writeUint(h.vers);
  w.writeUint(h.proc);
  writeOpaqueAuth(w, h.cred);
  writeOpaqueAuth(w, h.verf);
}

/** A reply without its body: what a server supplies to encode one. */
export type ReplyHeader = DistributiveOmit<RpcReply, 'body'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Writes a reply header; for SUCCESS the caller writes the results after it. */
export function writeReplyHeader(w: XdrWriter, h: ReplyHeader): void {
  w.writeUint(h.xid);
  w.writeUint(msg_type.REPLY);
  w.writeUint(h.stat);
  if (h.stat === reply_stat.MSG_ACCEPTED) {
    writeOpaqueAuth(w, h.verf);
    w.writeUint(h.acceptStat);
    if (h.acceptStat === accept_stat.PROG_MISMATCH) {
      w.writeUint(h.low);
      w.writeUint(h.high);
    }
  } else {
    w.writeUint(h.rejectStat);
    if (h.rejectStat === reject_stat.RPC_MISMATCH) {
      w.writeUint(h.low);
      w.writeUint(h.high);
    } else w.writeUint(h.authStat);
  }
}

/** Writes a whole message: header, then `body` as raw bytes. */
export function writeRpcMessage(w: XdrWriter, m: RpcMessage): void {
  if (m.mtype === msg_type.CALL) writeCallHeader(w, m);
  else writeReplyHeader(w, m);
  w.writeRaw(m.body);
}

/** Encodes a whole message into new bytes. */
export function encodeRpcMessage(m: RpcMessage): Uint8Array {
  const w = new XdrWriter({ initialSize: 128 + m.body.length });
  writeRpcMessage(w, m);
  return w.toBytes();
}
