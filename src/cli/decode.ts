// `oncrpc decode FILE…`: prints every ONC-RPC message in pcap/pcapng captures, as text or JSON lines.
// With `--x FILE.x…`, arguments and results of the programs those files define are decoded and shown
// as JSON (docs/json-mapping.md); a reply is decoded with the procedure of the call it answers.

import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { LoadedSchema } from '../codegen/interpret.js';
import { findProcedure, type ProcedureDescriptor } from '../rpc/program.js';
import { toJson, type Json } from '../xdr/json.js';
import { OncRpcError } from '../errors.js';
import { accept_stat, auth_stat, nameOf, reject_stat } from '../rpc/constants.js';
import { procedureName, programName } from '../rpc/names.js';
import { DEFAULT_MAX_RECORD_SIZE } from '../rpc/record-marking.js';
import { traceRpc, type TraceNotice, type TracedMessage } from '../trace/rpc-trace.js';
import { decode } from '../xdr/index.js';
import { authJson, authText, cliError, endpointText as ep, fail, hex32, loadXFile, parseByteCount, progLabel, replyStatus } from './format.js';

/** What the loaded .x files know about a call's program number, version and procedure number. */
export interface XKnown {
  program: string;
  version: string;
  /** Undefined when the .x defines the program version but not this procedure. */
  procedure: ProcedureDescriptor | undefined;
}

/**
 * The one place `decode` reads the loaded programs' descriptors: the first .x (in command-line order)
 * that defines program `prog` version `vers`, with procedure `proc` if it has it.
 */
export function lookupX(schemas: readonly LoadedSchema[], prog: number, vers: number, proc: number): XKnown | undefined {
  let found: XKnown | undefined;
  for (const s of schemas) {
    for (const p of s.programs) {
      if (p.prog !== prog || p.vers !== vers) continue;
      const procedure = findProcedure(p, proc);
      if (procedure) return { program: p.name, version: p.version, procedure };
      found ??= { program: p.name, version: p.version, procedure: undefined };
    }
  }
  return found;
}

/** What `--x` found for one message: the procedure (named by the .x) and its decoded body. */
export interface BodyInfo {
  program: string;
  version: string;
  procedure: string;
  /** 'args' for a call, 'result' for a reply. */
  which: 'args' | 'result';
  value?: Json;
  error?: { code: string; message: string };
}

/** Decodes message bodies with the procedures of loaded .x files; replies through the call they answer. */
export class BodyDecoder {
  readonly #schemas: readonly LoadedSchema[];
  readonly #calls = new Map<number, { program: string; version: string; procedure: ProcedureDescriptor }>();
  constructor(schemas: readonly LoadedSchema[]) {
    this.#schemas = schemas;
  }
  /** What the .x files know about a call (its names), or undefined. */
  known(t: TracedMessage): XKnown | undefined {
    const m = t.message;
    if (!m || m.mtype !== 0 || m.rpcvers !== 2) return undefined;
    return lookupX(this.#schemas, m.prog, m.vers, m.proc);
  }
  /** The decoded body of `t`, or undefined when no .x defines its procedure (or it carries no body). */
  decode(t: TracedMessage, known = this.known(t)): BodyInfo | undefined {
    const m = t.message;
    if (!m) return undefined;
    if (m.mtype === 0) {
      if (!known?.procedure) return undefined;
      const c = { program: known.program, version: known.version, procedure: known.procedure };
      this.#calls.set(t.n, c);
      return body(c.program, c.version, c.procedure, 'args', m.body);
    }
    if (m.stat !== 0 || m.acceptStat !== accept_stat.SUCCESS || t.callN === undefined) return undefined;
    const c = this.#calls.get(t.callN);
    if (!c) return undefined;
    this.#calls.delete(t.callN);
    return body(c.program, c.version, c.procedure, 'result', m.body);
  }
}

function body(program: string, version: string, p: ProcedureDescriptor, which: 'args' | 'result', bytes: Uint8Array): BodyInfo {
  const info: BodyInfo = { program, version, procedure: p.name, which };
  const type = which === 'args' ? p.types!.args : p.types!.res;
  try {
    info.value = toJson(type, decode(type, bytes));
  } catch (e) {
    info.error = e instanceof OncRpcError ? { code: e.code, message: e.message } : { code: 'ERR_UNEXPECTED', message: String(e) };
  }
  return info;
}

/** The indented line `--x` adds under a message in text output. */
export function formatBody(b: BodyInfo): string {
  const head = `       ${b.which === 'args' ? 'args' : 'result'} ${b.procedure}:`;
  return b.error ? `${head} decode error ${b.error.code}: ${b.error.message}` : `${head} ${JSON.stringify(b.value)}`;
}

export function decodeCommand(): Command {
  return new Command('decode')
    .description('print every ONC-RPC call and reply in pcap/pcapng capture files')
    .argument('[files...]', 'capture files (pcap or pcapng, as tcpdump, tshark or dumpcap write them)')
    .option('--json', 'one JSON object per message (and per notice)')
    .option('--x <files...>', 'decode arguments and results of the programs these .x files define (names after --x not ending in .x are captures)')
    .option('--max-record <bytes>', 'largest TCP record decoded; a larger one is reported (a notice) and passed over', parseByteCount, DEFAULT_MAX_RECORD_SIZE)
    .action(async (args: string[], opts: { json?: boolean; maxRecord: number; x?: string[] }) => {
      let failed = false;
      const xFiles = (opts.x ?? []).filter((f) => f.endsWith('.x'));
      const files = [...(opts.x ?? []).filter((f) => !f.endsWith('.x')), ...args];
      if (files.length === 0) {
        fail('decode', 'no capture files given');
        return;
      }
      const schemas: LoadedSchema[] = [];
      for (const f of xFiles) {
        try {
          schemas.push(await loadXFile(f));
        } catch (e) {
          cliError('decode', e, f);
          return;
        }
      }
      for (const file of files) {
        let bytes: Uint8Array;
        try {
          bytes = await readFile(file);
        } catch (e) {
          cliError('decode', e, file);
          failed = true;
          continue;
        }
        if (files.length > 1 && !opts.json) process.stdout.write(`${file}:\n`);
        let first: number | undefined;
        const bodies = schemas.length ? new BodyDecoder(schemas) : undefined;
        try {
          traceRpc(bytes, {
            maxRecordSize: opts.maxRecord,
            onMessage: (m) => {
              first ??= m.timestamp;
              const known = bodies?.known(m);
              const b = bodies?.decode(m, known);
              let line: string;
              if (opts.json) {
                const o = messageJson(m, file, known);
                if (b) {
                  if (b.error) o[b.which === 'args' ? 'argsError' : 'resultError'] = b.error;
                  else o[b.which] = b.value ?? null;
                }
                line = JSON.stringify(o);
              } else line = formatMessage(m, first, known) + (b ? '\n' + formatBody(b) : '');
              process.stdout.write(line + '\n');
            },
            onNotice: (n) => {
              if (opts.json) process.stdout.write(JSON.stringify(noticeJson(n, file)) + '\n');
              else process.stderr.write(`note: ${n.packetIndex >= 0 ? `frame ${n.packetIndex + 1}: ` : ''}${n.message}\n`);
            },
          });
        } catch (e) {
          cliError('decode', e, file);
          failed = true;
        }
      }
      if (failed) process.exitCode = 1;
    });
}

/**
 * One line of text for a message, with time relative to the first message; `known`: the names a loaded
 * .x gives its program and procedure.
 */
export function formatMessage(t: TracedMessage, t0: number, known?: XKnown): string {
  const head = `${String(t.n).padStart(4)} ${(t.timestamp - t0).toFixed(6)} ${ep(t.src)} -> ${ep(t.dst)} ${t.transport.toUpperCase()}`;
  const frags = t.fragments && t.fragments.length > 1 ? ` fragments=${t.fragments.length}[${t.fragments.join(',')}]` : '';
  const m = t.message;
  if (!m) {
    const xid = t.record.length >= 4 ? ` xid=${hex32(new DataView(t.record.buffer, t.record.byteOffset, 4).getUint32(0))}` : '';
    return `${head}${xid} len=${t.record.length}${frags} MALFORMED ${t.error?.code}: ${t.error?.message}`;
  }
  if (m.mtype === 0) {
    const vers = m.rpcvers === 2 ? '' : ` rpcvers=${m.rpcvers}`;
    return `${head} xid=${hex32(m.xid)} CALL ${progLabel(m.prog, m.vers, m.proc, { program: known?.program, procedure: known?.procedure?.name })}${vers} cred=${authText(m.cred)}${m.verf.flavor || m.verf.body.length ? ` verf=${authText(m.verf)}` : ''} args=${m.body.length}B${frags}`;
  }
  const call = t.callN !== undefined ? ` (reply to #${t.callN})` : '';
  return `${head} xid=${hex32(m.xid)} REPLY${call} ${replyStatus(m)}${m.stat === 0 && m.acceptStat === 0 ? ` results=${m.body.length}B` : ''}${frags}`;
}

/**
 * The JSON object printed by `--json` for a message. For a call, `programName`/`procedureName` are the
 * well-known names, else those of a loaded .x (`known`), else null; `versionName` is added when a .x names the version.
 */
export function messageJson(t: TracedMessage, file?: string, known?: XKnown): Record<string, unknown> {
  const o: Record<string, unknown> = {
    ...(file !== undefined ? { file } : {}),
    n: t.n,
    frame: t.packetIndex + 1,
    time: t.timestamp,
    transport: t.transport,
    src: ep(t.src),
    dst: ep(t.dst),
    ...(t.connection !== undefined ? { connection: t.connection } : {}),
    length: t.record.length,
    ...(t.fragments ? { fragments: t.fragments } : {}),
  };
  const m = t.message;
  if (!m) {
    const xid = t.record.length >= 4 ? new DataView(t.record.buffer, t.record.byteOffset, 4).getUint32(0) : null;
    return { ...o, type: 'malformed', xid, error: t.error };
  }
  o.xid = m.xid;
  if (m.mtype === 0) {
    return {
      ...o,
      type: 'call',
      rpcvers: m.rpcvers,
      prog: m.prog,
      programName: programName(m.prog) ?? known?.program ?? null,
      vers: m.vers,
      ...(known ? { versionName: known.version } : {}),
      proc: m.proc,
      procedureName: procedureName(m.prog, m.vers, m.proc) ?? known?.procedure?.name ?? null,
      cred: authJson(m.cred),
      verf: authJson(m.verf),
      bodyLength: m.body.length,
    };
  }
  const r: Record<string, unknown> = { ...o, type: 'reply', callN: t.callN ?? null, replyStat: m.stat === 0 ? 'MSG_ACCEPTED' : 'MSG_DENIED' };
  if (m.stat === 0) {
    r.verf = authJson(m.verf);
    r.acceptStat = nameOf(accept_stat, m.acceptStat);
    if (m.acceptStat === accept_stat.PROG_MISMATCH) Object.assign(r, { low: m.low, high: m.high });
  } else {
    r.rejectStat = nameOf(reject_stat, m.rejectStat);
    if (m.rejectStat === reject_stat.RPC_MISMATCH) Object.assign(r, { low: m.low, high: m.high });
    else r.authStat = nameOf(auth_stat, m.authStat);
  }
  r.bodyLength = m.body.length;
  return r;
}

function noticeJson(n: TraceNotice, file: string): Record<string, unknown> {
  return { file, type: 'notice', frame: n.packetIndex >= 0 ? n.packetIndex + 1 : null, ...(n.code !== undefined ? { code: n.code } : {}), message: n.message };
}
