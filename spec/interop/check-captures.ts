// Checks a directory of captures of the real programs: every RPC message decodes, re-encodes to exactly
// the captured bytes (record marks and fragmentation included), and tshark's RPC dissector finds the
// same messages. Used on the committed fixtures and on captures made live in CI.
import type { Test } from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { traceRpc, type TracedMessage } from '../../src/trace/index.js';
import { decodeFlows } from '../../src/pcap/index.js';
import { encodeRpcMessage, frameRecord } from '../../src/rpc/index.js';
import { concat, toHex } from '../_helpers/hex.js';
import { requirePeer } from '../_helpers/peers.js';

/** The capture files in `dir`. */
export function captureFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.pcap') || f.endsWith('.pcapng')).sort();
}
/** Each TCP direction's whole byte stream, keyed `connection|dir`. */
function tcpStreams(bytes: Uint8Array): Map<string, Uint8Array> {
  const parts = new Map<string, Uint8Array[]>();
  for (const ev of decodeFlows(bytes)) {
    if (ev.kind !== 'data') continue;
    const k = `${ev.conn.id}|${ev.dir === 'toServer' ? `${ev.conn.client.port}>${ev.conn.server.port}` : `${ev.conn.server.port}>${ev.conn.client.port}`}`;
    (parts.get(k) ?? parts.set(k, []).get(k)!).push(ev.bytes);
  }
  return new Map([...parts].map(([k, v]) => [k, concat(v)]));
}

/** tshark's view: "frame xid msgtyp" for every RPC message it dissects. */
function tsharkMessages(tshark: string, file: string, messages: TracedMessage[]): string[] {
  const decodeAs: string[] = [];
  const ports = new Set<string>();
  for (const m of messages) {
    const server = m.message?.mtype === 0 ? m.dst : m.src;
    ports.add(`${m.transport}.port==${server.port}`);
  }
  for (const p of ports) decodeAs.push('-d', `${p},rpc`);
  const out = execFileSync(
    tshark,
    ['-r', file, '-o', 'rpc.dissect_unknown_programs:TRUE', ...decodeAs, '-T', 'fields', '-e', 'frame.number', '-e', 'rpc.xid', '-e', 'rpc.msgtyp', '-E', 'occurrence=a', '-E', 'aggregator=,'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows: string[] = [];
  for (const line of out.split('\n')) {
    const [frame, xids, types] = line.split('\t');
    if (!xids) continue;
    const xs = xids.split(',');
    const ts = types!.split(',');
    xs.forEach((xid, i) => rows.push(`${frame} ${Number(xid) >>> 0} ${ts[i]}`));
  }
  return rows.sort();
}

/**
 * Messages the fixtures send on purpose that break RFC 5531, by capture and xid, with the error oncrpc
 * must report. The real C server refuses them too (it closes the TCP connection or drops the datagram).
 */
const EXPECTED_MALFORMED: Record<string, Array<[xid: number, code: string]>> = {
  'c-errors-tcp.pcap': [[0x0e00000c, 'ERR_RPC_AUTH_TOO_LARGE']],
  'c-errors-udp.pcap': [[0x0e00000c, 'ERR_RPC_AUTH_TOO_LARGE']],
};

/**
 * Where tshark 4.0's RPC dissector and oncrpc disagree, and why oncrpc is right. Each entry is the
 * "frame xid msgtyp" line only oncrpc reports.
 */
const TSHARK_MISSES: Record<string, Array<[xid: number, mtype: number, why: string]>> = {
  // A record whose first fragment is empty ([0, 40]): valid RFC 5531 record marking (libtirpc's server
  // closes the connection on it, but the record is well-formed); tshark does not reassemble it.
  'c-malformed-tcp.pcap': [[0x0d000002, 0, 'empty first fragment']],
  // A call with rpcvers 3: a well-formed RPC message (the server answers it by closing the connection or
  // dropping the datagram); tshark's heuristics only accept rpcvers 2.
  'c-errors-tcp.pcap': [[0x0e00000e, 0, 'rpcvers 3']],
  'c-errors-udp.pcap': [[0x0e00000e, 0, 'rpcvers 3']],
};

const xidOf = (m: TracedMessage): number => m.message?.xid ?? new DataView(m.record.buffer, m.record.byteOffset, 4).getUint32(0);
const mtypeOf = (m: TracedMessage): number => m.message?.mtype ?? new DataView(m.record.buffer, m.record.byteOffset + 4, 4).getUint32(0);

/** All checks on capture `f` of `dir`. */
export async function checkCapture(t: Test, dir: string, f: string): Promise<void> {
  const bytes = readFileSync(join(dir, f));
  const { messages, notices } = traceRpc(bytes);
  t.ok(messages.length > 0, `${messages.length} RPC messages`);
  t.same(notices, [], 'no stream problems');

  // Every message decodes (but the deliberately malformed ones, which fail as expected) and
  // re-encodes to exactly its captured bytes.
  const malformed = messages.filter((m) => !m.message).map((m) => [xidOf(m), m.error!.code]);
  t.same(malformed, EXPECTED_MALFORMED[f] ?? [], 'only the deliberately malformed messages fail, with the expected error');
  let exact = 0;
  for (const m of messages) {
    if (!m.message) continue;
    if (toHex(encodeRpcMessage(m.message)) === toHex(m.record)) exact++;
    else t.fail(`message ${m.n} (xid ${m.message.xid}) re-encodes differently`);
  }
  t.equal(exact, messages.length - malformed.length, `all ${exact} decoded messages re-encode byte for byte`);

  // Each TCP stream is exactly the re-encoded messages, framed with the fragments the sender used.
  const streams = tcpStreams(bytes);
  const rebuilt = new Map<string, Uint8Array[]>();
  for (const m of messages) {
    if (m.transport !== 'tcp' || !m.message) continue;
    const k = `${m.connection}|${m.src.port}>${m.dst.port}`;
    (rebuilt.get(k) ?? rebuilt.set(k, []).get(k)!).push(...frameRecord([encodeRpcMessage(m.message)], m.fragments!));
  }
  for (const m of messages) {
    if (m.transport !== 'tcp' || m.message) continue;
    // A malformed record cannot be re-encoded from a value; its framing still must match.
    const k = `${m.connection}|${m.src.port}>${m.dst.port}`;
    (rebuilt.get(k) ?? rebuilt.set(k, []).get(k)!).push(...frameRecord([m.record], m.fragments!));
  }
  for (const [k, stream] of streams) {
    const mine = rebuilt.get(k) ?? [];
    t.equal(toHex(concat(mine)), toHex(stream), `TCP stream ${k}: ${stream.length} bytes re-encoded exactly, record marks included`);
  }

  // tshark's RPC dissector sees the same messages (frame, xid, call/reply).
  const tshark = requirePeer(t, 'tshark');
  if (!tshark) return;
  const theirs = tsharkMessages(tshark, join(dir, f), messages);
  const misses = new Set((TSHARK_MISSES[f] ?? []).map(([xid, mtype]) => `${xid} ${mtype}`));
  const ours = messages.filter((m) => !misses.has(`${xidOf(m)} ${mtypeOf(m)}`)).map((m) => `${m.packetIndex + 1} ${xidOf(m)} ${mtypeOf(m)}`).sort();
  t.equal(ours.length + misses.size, messages.length, 'every known tshark miss was seen');
  t.equal(ours.length, theirs.length, `message count equals tshark's (${theirs.length})${misses.size ? ` plus ${misses.size} tshark misses` : ''}`);
  t.same(ours, theirs, 'same frames, xids and message types as tshark');
}
