// `oncrpc decode FILE…`: prints every ONC-RPC message in pcap/pcapng captures, as text or JSON lines,
// reading them as they come (files in chunks, standard input as it arrives: `tcpdump -U -w - | oncrpc
// decode -`), with bounded memory (src/trace/rpc-trace.ts), optional filters and response-time statistics.
// With `--x FILE.x…`, arguments and results of the programs those files define are decoded and shown
// as JSON (docs/json-mapping.md); a reply is decoded with the procedure of the call it answers.

import { once } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Command, InvalidArgumentError } from 'commander';
import type { LoadedSchema } from '../codegen/interpret.js';
import type { OpaqueAuth } from '../rpc/messages.js';
import { findProcedure, type ProcedureDescriptor } from '../rpc/program.js';
import { toJson, type Json } from '../xdr/json.js';
import { OncRpcError } from '../errors.js';
import { formatIPv6 } from '../pcap/addr.js';
import { CaptureReader, type CaptureWarning } from '../pcap/file.js';
import { captureStream, openCaptureFile } from '../pcap/source.js';
import { accept_stat, auth_stat, nameOf, reject_stat } from '../rpc/constants.js';
import { PROGRAM_NAMES, procedureName, programName } from '../rpc/names.js';
import { DEFAULT_MAX_RECORD_SIZE } from '../rpc/record-marking.js';
import { compileFilter, type MessagePredicate } from '../trace/filter.js';
import { DEFAULT_MAX_PENDING_CALLS, DEFAULT_REPLY_WINDOW, RpcTracer, type TraceNotice, type TracedMessage } from '../trace/rpc-trace.js';
import { RpcStats, type StatsRow } from '../trace/stats.js';
import { decode } from '../xdr/index.js';
import {
  authJson, authText, cliError, endpointText as ep, fail, hex32, loadXFile, parseByteCount, parseCount, parseSeconds, procedureLabel, programLabel, progLabel, replyStatus,
} from './format.js';

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
  /** lookupX by prog/vers/proc (a few entries: the procedures seen). */
  readonly #known = new Map<string, XKnown | undefined>();
  constructor(schemas: readonly LoadedSchema[]) {
    this.#schemas = schemas;
  }
  #lookup(prog: number, vers: number, proc: number): XKnown | undefined {
    const k = `${prog}/${vers}/${proc}`;
    if (this.#known.has(k)) return this.#known.get(k);
    const x = lookupX(this.#schemas, prog, vers, proc);
    if (this.#known.size >= 4096) this.#known.clear();
    this.#known.set(k, x);
    return x;
  }
  /** What the .x files know about a call (its names), or undefined. */
  known(t: TracedMessage): XKnown | undefined {
    const m = t.message;
    if (!m || m.mtype !== 0 || m.rpcvers !== 2) return undefined;
    return this.#lookup(m.prog, m.vers, m.proc);
  }
  /**
   * The decoded body of `t`, or undefined when no .x defines its procedure (or it carries no body). A
   * reply is decoded with its call's procedure (a duplicate reply is not decoded again).
   */
  decode(t: TracedMessage, known = this.known(t)): BodyInfo | undefined {
    const m = t.message;
    if (!m) return undefined;
    if (m.mtype === 0) {
      if (!known?.procedure) return undefined;
      return body(known.program, known.version, known.procedure, 'args', m.body);
    }
    const call = t.call;
    if (m.stat !== 0 || m.acceptStat !== accept_stat.SUCCESS || !call || t.duplicate || call.rpcvers !== 2) return undefined;
    const c = this.#lookup(call.prog, call.vers, call.proc);
    if (!c?.procedure) return undefined;
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

interface DecodeCliOptions {
  json?: boolean;
  maxRecord: number;
  x?: string[];
  stats?: boolean;
  statsOnly?: boolean;
  prog?: string[];
  vers?: number[];
  proc?: string[];
  xid?: number[];
  host?: string[];
  port?: number[];
  replyWindow: number;
  maxPendingCalls: number;
  maxConnections: number;
  tcpIdle: number;
}

/** A repeatable option whose values may also be separated by commas, each parsed by `parse`. */
function list<T>(parse: (v: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), ...value.split(',').filter((v) => v !== '').map(parse)];
}

function parseUint(max: number, what: string): (v: string) => number {
  return (v) => {
    const n = /^[0-9]+$/.test(v) ? Number(v) : /^0x[0-9a-f]+$/i.test(v) ? parseInt(v.slice(2), 16) : NaN;
    if (!(n >= 0 && n <= max)) throw new InvalidArgumentError(`It must be ${what}.`);
    return n;
  };
}

function parseHost(v: string): string {
  const h = canonicalAddress(v);
  if (h === undefined) throw new InvalidArgumentError('It must be an IPv4 or IPv6 address.');
  return h;
}

/** An address as oncrpc prints it (dotted quad, RFC 5952 IPv6), or undefined if `v` is not one. */
export function canonicalAddress(v: string): string | undefined {
  const a = v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
  if (isIPv4(a)) return a.split('.').map(Number).join('.');
  if (!isIPv6(a)) return undefined;
  let text = a.toLowerCase();
  const bytes = new Uint8Array(16);
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const n = v4.slice(1).map(Number);
    text = `${text.slice(0, v4.index)}${((n[0]! << 8) | n[1]!).toString(16)}:${((n[2]! << 8) | n[3]!).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const x = parseInt(g, 16);
    bytes[2 * i] = x >> 8;
    bytes[2 * i + 1] = x & 0xff;
  });
  return formatIPv6(bytes);
}

/** Every well-known procedure name (for telling a mistyped `--procedure` name from one that is just not in the capture). */
function wellKnownProcedureNames(): Set<string> {
  const names = new Set<string>();
  for (const prog of PROGRAM_NAMES.keys()) {
    for (let vers = 1; vers <= 4; vers++) {
      for (let proc = 0; proc < 64; proc++) {
        const n = procedureName(prog, vers, proc);
        if (n) names.add(n.toUpperCase());
      }
    }
  }
  return names;
}

export function decodeCommand(): Command {
  return new Command('decode')
    .description('print every ONC-RPC call and reply in pcap/pcapng captures, read as they arrive (files, .gz, - for standard input)')
    .argument('[files...]', 'capture files (pcap or pcapng, as tcpdump, tshark or dumpcap write them; .gz read transparently); - for standard input')
    .option('--json', 'one JSON object per message (and per notice)')
    .option('--x <files...>', 'decode arguments and results of the programs these .x files define (names after --x not ending in .x are captures)')
    .option('--max-record <bytes>', 'largest TCP record decoded; a larger one is reported (a notice) and passed over', parseByteCount, DEFAULT_MAX_RECORD_SIZE)
    .option('--stats', 'after the messages, per program, version and procedure: calls, replies by status, unanswered calls, call→reply times (min, p50, p90, p99, max)')
    .option('--stats-only', 'print the statistics and not the messages')
    .option('--prog <prog>', 'only calls of this program and their replies: a number or a name (nfs, mountd…, or a program of the --x files); repeat or separate with commas', list(String))
    .option('--vers <vers>', 'only calls of this program version and their replies (repeat or separate with commas)', list(parseUint(0xffffffff, 'a version number')))
    .option('--proc <proc>', 'only calls of this procedure (number or name) and their replies (repeat or separate with commas)', list(String))
    .option('--xid <xid>', 'only messages with this xid (decimal or 0x hex; repeat or separate with commas)', list(parseUint(0xffffffff, 'an xid: decimal or 0x hex, at most 0xffffffff')))
    .option('--host <addr>', 'only messages from or to this IPv4 or IPv6 address (repeat or separate with commas)', list(parseHost))
    .option('--port <port>', 'only messages from or to this port (repeat or separate with commas)', list(parseUint(65535, 'a port number, 0 to 65535')))
    .option('--reply-window <seconds>', 'a call with no reply after this long (capture time) is reported and forgotten', parseSeconds, DEFAULT_REPLY_WINDOW)
    .option('--max-pending-calls <n>', 'calls awaiting replies held at once; beyond, the oldest is reported and forgotten', parseCount, DEFAULT_MAX_PENDING_CALLS)
    .option('--max-connections <n>', 'TCP connections followed at once; beyond, the quietest tenth is closed', parseCount, 10000)
    .option('--tcp-idle <seconds>', 'a TCP connection without packets this long (capture time) is closed; a later packet is picked up mid-stream', parseSeconds, 600)
    .action(async (args: string[], opts: DecodeCliOptions) => {
      // Nearly everything decode allocates dies within a packet or a chunk: a young generation that stays
      // at its first size (semispaces of 1-2 MiB instead of growing to 16) keeps peak RSS low at no
      // measurable cost. See also collectGarbage.
      setFlagsFromString('--semi-space-growth-factor=1');
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
      const filter = buildFilter(opts, schemas);
      if (filter === null) return;
      for (const file of files) {
        if (!(await decodeFile(file, files.length > 1, opts, schemas, filter))) failed = true;
      }
      if (failed) process.exitCode = 1;
    });
}

/** The compiled filter of the command line (undefined: everything), or null after reporting a bad name. */
function buildFilter(opts: DecodeCliOptions, schemas: readonly LoadedSchema[]): MessagePredicate | undefined | null {
  const programs: number[] = [];
  for (const p of opts.prog ?? []) {
    if (/^[0-9]+$/.test(p) || /^0x[0-9a-f]+$/i.test(p)) {
      const n = /^0x/i.test(p) ? parseInt(p.slice(2), 16) : Number(p);
      if (n <= 0xffffffff) {
        programs.push(n);
        continue;
      }
    }
    const matches = [
      ...[...PROGRAM_NAMES].filter(([, name]) => name.toLowerCase() === p.toLowerCase()).map(([n]) => n),
      ...schemas.flatMap((s) => s.programs).filter((d) => d.name.toLowerCase() === p.toLowerCase()).map((d) => d.prog),
    ];
    if (matches.length === 0) {
      fail('decode', `option '--prog <prog>' argument '${p}' is invalid. It must be a program number, a well-known name (${[...PROGRAM_NAMES.values()].slice(0, 6).join(', ')}, …) or a program of the --x files.`);
      return null;
    }
    programs.push(...matches);
  }
  const procedures: (number | string)[] = [];
  let known: Set<string> | undefined;
  for (const p of opts.proc ?? []) {
    if (/^[0-9]+$/.test(p) || /^0x[0-9a-f]+$/i.test(p)) {
      procedures.push(/^0x/i.test(p) ? parseInt(p.slice(2), 16) : Number(p));
      continue;
    }
    known ??= new Set([...wellKnownProcedureNames(), ...schemas.flatMap((s) => s.programs).flatMap((d) => Object.keys(d.procs).map((n) => n.toUpperCase()))]);
    if (!known.has(p.toUpperCase())) {
      fail('decode', `option '--proc <proc>' argument '${p}' is invalid. It must be a procedure number or the name of a procedure of a well-known program or of the --x files.`);
      return null;
    }
    procedures.push(p);
  }
  const nameOf = (prog: number, vers: number, proc: number): string | undefined =>
    procedureName(prog, vers, proc) ?? (schemas.length ? lookupX(schemas, prog, vers, proc)?.procedure?.name : undefined);
  return compileFilter(
    { programs: opts.prog ? programs : undefined, versions: opts.vers, procedures: opts.proc ? procedures : undefined, xids: opts.xid, hosts: opts.host, ports: opts.port },
    nameOf,
  );
}

/**
 * Text for stdout, written at the end of each input chunk (and before a notice goes to stderr); when
 * stdout is full, reading waits until it drains, so output never piles up in memory.
 */
class Output {
  #text = '';
  add(line: string): void {
    this.#text += line + '\n';
    // Written in small pieces: the text dies young (a long string built over a whole chunk would outlive
    // the young generation and pile up as garbage in the old one, which is collected much later).
    if (this.#text.length > 16384) this.write();
  }
  /** Writes what is buffered without waiting. */
  write(): void {
    if (this.#text === '') return;
    process.stdout.write(this.#text);
    this.#text = '';
  }
  /** Writes what is buffered and waits while stdout is full. */
  async flush(): Promise<void> {
    this.write();
    if (process.stdout.writableNeedDrain) await once(process.stdout, 'drain');
  }
}

/** Input bytes between two full garbage collections (see collectGarbage). */
const GC_EVERY = 32 * 1024 * 1024;
let gc: (() => void) | undefined;

/**
 * A full garbage collection. What survives the young generation (calls awaiting replies, lately
 * answered calls) dies soon after in the old one, which V8 lets grow to 30-40 MiB of garbage before
 * collecting it; collecting every 32 MiB of input (a few ms, once a second or so) keeps the peak RSS
 * under 100 MB whatever the capture's size.
 */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/** Decodes one capture (`-`: standard input); false when it could not be read. */
async function decodeFile(file: string, several: boolean, opts: DecodeCliOptions, schemas: readonly LoadedSchema[], filter: MessagePredicate | undefined): Promise<boolean> {
  let chunks: AsyncIterable<Uint8Array>;
  try {
    chunks = file === '-' ? await captureStream(process.stdin) : await openCaptureFile(file, { reuseBuffers: true });
  } catch (e) {
    cliError('decode', e, file);
    return false;
  }
  const out = new Output();
  if (several && !opts.json) out.add(`${file}:`);
  let first: number | undefined;
  const bodies = schemas.length ? new BodyDecoder(schemas) : undefined;
  const stats = opts.stats || opts.statsOnly ? new RpcStats() : undefined;
  const listMessages = !opts.statsOnly;
  const tracer = new RpcTracer({
    maxRecordSize: opts.maxRecord,
    replyWindow: opts.replyWindow,
    maxPendingCalls: opts.maxPendingCalls,
    maxConnections: opts.maxConnections,
    idleTimeout: opts.tcpIdle,
    onMessage: (m) => {
      if (filter && !filter.message(m)) return;
      stats?.message(m);
      if (!listMessages) return;
      first ??= m.timestamp;
      const known = bodies?.known(m);
      const b = bodies?.decode(m, known);
      if (opts.json) {
        const o = messageJson(m, file, known);
        if (b) {
          if (b.error) o[b.which === 'args' ? 'argsError' : 'resultError'] = b.error;
          else o[b.which] = b.value ?? null;
        }
        out.add(JSON.stringify(o));
      } else out.add(formatMessage(m, first, known) + (b ? '\n' + formatBody(b) : ''));
    },
    onNotice: (n) => {
      if (n.call && filter && !filter.call(n.call)) return;
      if (opts.json) out.add(JSON.stringify(noticeJson(n, file)));
      else {
        out.write(); // what came before it, first
        process.stderr.write(`note: ${n.packetIndex >= 0 ? `frame ${n.packetIndex + 1}: ` : ''}${n.message}\n`);
      }
    },
    onUnanswered: (c) => {
      if (!filter || filter.call(c)) stats?.unanswered(c);
    },
  });
  const warnings: CaptureWarning[] = [];
  const reader = new CaptureReader({ onWarning: (w) => warnings.push(w) });
  let read = 0;
  try {
    let packets = 0;
    let sinceGc = 0;
    for await (const chunk of chunks) {
      if ((sinceGc += chunk.length) >= GC_EVERY) {
        sinceGc = 0;
        collectGarbage();
      }
      reader.push(chunk);
      for (let p = reader.next(); p; p = reader.next(), packets++) tracer.push(p);
      reader.compact(); // the chunk's buffer is read into again (the tracer copies what it keeps)
      await out.flush();
    }
    reader.end();
    for (let p = reader.next(); p; p = reader.next(), packets++) tracer.push(p);
    read = packets;
    for (const w of warnings) tracer.warning(w);
    tracer.finish();
  } catch (e) {
    await out.flush();
    cliError('decode', e, file);
    return false;
  }
  if (stats) {
    if (opts.json) for (const o of statsJson(stats, file, schemas, tracer.messages, read)) out.add(JSON.stringify(o));
    else {
      if (listMessages) out.add('');
      for (const line of statsTable(stats, schemas)) out.add(line);
    }
  }
  await out.flush();
  return true;
}

/** progLabel of calls, kept by program, version and procedure (a few hundred at most in practice). */
const labels = new Map<number, Map<number, string>>();

function callLabel(prog: number, vers: number, proc: number, known: XKnown | undefined): string {
  if (known || vers > 0xffff || proc > 0xffff) return progLabel(prog, vers, proc, { program: known?.program, procedure: known?.procedure?.name });
  let byProg = labels.get(prog);
  if (!byProg) {
    if (labels.size >= 1024) labels.clear();
    labels.set(prog, (byProg = new Map()));
  }
  const k = vers * 65536 + proc;
  let label = byProg.get(k);
  if (label === undefined) {
    if (byProg.size >= 4096) byProg.clear();
    label = progLabel(prog, vers, proc);
    byProg.set(k, label);
  }
  return label;
}

/** authText of credentials, the last few kept with their bytes: a client sends the same one on every call. */
const creds: { flavor: number; body: Uint8Array; text: string }[] = [];

function credText(a: OpaqueAuth): string {
  const body = a.body;
  for (const c of creds) {
    if (c.flavor !== a.flavor || c.body.length !== body.length) continue;
    let i = 0;
    while (i < body.length && c.body[i] === body[i]) i++;
    if (i === body.length) return c.text;
  }
  const text = authText(a);
  if (creds.length >= 16) creds.pop();
  creds.unshift({ flavor: a.flavor, body: body.slice(), text });
  return text;
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
    return `${head} xid=${hex32(m.xid)} CALL ${callLabel(m.prog, m.vers, m.proc, known)}${vers} cred=${credText(m.cred)}${m.verf.flavor || m.verf.body.length ? ` verf=${authText(m.verf)}` : ''} args=${m.body.length}B${frags}`;
  }
  const call = t.callN !== undefined ? ` (reply to #${t.callN})` : '';
  return `${head} xid=${hex32(m.xid)} REPLY${call} ${replyStatus(m)}${m.stat === 0 && m.acceptStat === 0 ? ` results=${m.body.length}B` : ''}${frags}`;
}

/**
 * The JSON object printed by `--json` for a message. For a call, `programName`/`procedureName` are the
 * well-known names, else those of a loaded .x (`known`), else null; `versionName` is added when a .x names the version.
 */
export function messageJson(t: TracedMessage, file?: string, known?: XKnown): Record<string, unknown> {
  // Built key by key in output order (no spreads: they make slow dictionary objects, and this runs per message).
  const o: Record<string, unknown> = {};
  if (file !== undefined) o.file = file;
  o.n = t.n;
  o.frame = t.packetIndex + 1;
  o.time = t.timestamp;
  o.transport = t.transport;
  o.src = ep(t.src);
  o.dst = ep(t.dst);
  if (t.connection !== undefined) o.connection = t.connection;
  o.length = t.record.length;
  if (t.fragments) o.fragments = t.fragments;
  const m = t.message;
  if (!m) {
    o.type = 'malformed';
    o.xid = t.record.length >= 4 ? new DataView(t.record.buffer, t.record.byteOffset, 4).getUint32(0) : null;
    o.error = t.error;
    return o;
  }
  o.xid = m.xid;
  if (m.mtype === 0) {
    o.type = 'call';
    o.rpcvers = m.rpcvers;
    o.prog = m.prog;
    o.programName = programName(m.prog) ?? known?.program ?? null;
    o.vers = m.vers;
    if (known) o.versionName = known.version;
    o.proc = m.proc;
    o.procedureName = procedureName(m.prog, m.vers, m.proc) ?? known?.procedure?.name ?? null;
    o.cred = authJson(m.cred);
    o.verf = authJson(m.verf);
    o.bodyLength = m.body.length;
    return o;
  }
  o.type = 'reply';
  o.callN = t.callN ?? null;
  o.replyStat = m.stat === 0 ? 'MSG_ACCEPTED' : 'MSG_DENIED';
  if (m.stat === 0) {
    o.verf = authJson(m.verf);
    o.acceptStat = nameOf(accept_stat, m.acceptStat);
    if (m.acceptStat === accept_stat.PROG_MISMATCH) {
      o.low = m.low;
      o.high = m.high;
    }
  } else {
    o.rejectStat = nameOf(reject_stat, m.rejectStat);
    if (m.rejectStat === reject_stat.RPC_MISMATCH) {
      o.low = m.low;
      o.high = m.high;
    } else o.authStat = nameOf(auth_stat, m.authStat);
  }
  o.bodyLength = m.body.length;
  return o;
}

function noticeJson(n: TraceNotice, file: string): Record<string, unknown> {
  return {
    file, type: 'notice', frame: n.packetIndex >= 0 ? n.packetIndex + 1 : null, ...(n.code !== undefined ? { code: n.code } : {}), message: n.message,
    ...(n.call ? { callN: n.call.n, xid: n.call.xid } : {}),
  };
}

/** A duration for the statistics table: milliseconds, to the microsecond. */
const ms = (d: number | undefined): string => (d === undefined ? '-' : (d * 1000).toFixed(3));
/**
 * A duration for --json: seconds, to the microsecond (capture times are doubles of about 1.7e9 s, exact
 * to a quarter of a microsecond: finer digits of a difference would be noise).
 */
const sec = (d: number | undefined): number | null => (d === undefined ? null : Number(d.toFixed(6)));

/** The names the well-known table or the .x files give a statistics row's program, version and procedure. */
function rowNames(r: StatsRow, schemas: readonly LoadedSchema[]): { program: string; procedure: string; known: XKnown | undefined } {
  if (r.prog < 0) return { program: '(other)', procedure: '', known: undefined };
  const known = schemas.length ? lookupX(schemas, r.prog, r.vers, r.proc) : undefined;
  return { program: programLabel(r.prog, known?.program), procedure: procedureLabel(r.prog, r.vers, r.proc, known?.procedure?.name), known };
}

const statusText = (byStatus: Map<string, number>): string => [...byStatus].map(([s, n]) => `${s}=${n}`).join(' ');

/** The `--stats` table: one row per program, version and procedure, a total row, and what fits no row. */
export function statsTable(stats: RpcStats, schemas: readonly LoadedSchema[]): string[] {
  const head = ['program', 'version', 'procedure', 'calls', 'replies', 'unanswered', 'min ms', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'replies by status'];
  const right = [false, true, false, true, true, true, true, true, true, true, true, false];
  const rows: string[][] = [head];
  const all = new Map<string, number>();
  for (const r of stats.rows()) {
    const names = rowNames(r, schemas);
    const t = r.times;
    for (const [s, n] of r.byStatus) all.set(s, (all.get(s) ?? 0) + n);
    rows.push([
      names.program, r.prog < 0 ? '' : String(r.vers), names.procedure, String(r.calls), String(r.replies), String(r.unanswered),
      ms(t.count ? t.min : undefined), ms(t.percentile(50)), ms(t.percentile(90)), ms(t.percentile(99)), ms(t.count ? t.max : undefined), statusText(r.byStatus),
    ]);
  }
  const tot = stats.totals;
  rows.push(['total', '', '', String(tot.calls), String(tot.replies), String(tot.unanswered), '', '', '', '', '', statusText(all)]);
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
  const extra = [
    tot.retransmissions ? `${tot.retransmissions} retransmitted calls` : '',
    tot.duplicateReplies ? `${tot.duplicateReplies} duplicate replies` : '',
    tot.orphanReplies ? `${tot.orphanReplies} replies without their call` : '',
    tot.malformed ? `${tot.malformed} malformed` : '',
  ].filter(Boolean);
  if (extra.length) lines.push(`(also: ${extra.join(', ')})`);
  return lines;
}

/** The `--stats --json` objects: one `stats` object per row, then one `stats-total`. */
export function statsJson(stats: RpcStats, file: string, schemas: readonly LoadedSchema[], messages: number, packets: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of stats.rows()) {
    const { known } = rowNames(r, schemas);
    const t = r.times;
    out.push({
      file, type: 'stats', prog: r.prog, programName: r.prog < 0 ? null : (programName(r.prog) ?? known?.program ?? null), vers: r.vers,
      ...(known ? { versionName: known.version } : {}),
      proc: r.proc, procedureName: r.prog < 0 ? null : (procedureName(r.prog, r.vers, r.proc) ?? known?.procedure?.name ?? null),
      calls: r.calls, replies: r.replies, unanswered: r.unanswered, retransmissions: r.retransmissions, duplicateReplies: r.duplicateReplies,
      status: Object.fromEntries(r.byStatus),
      time: t.count ? { min: sec(t.min), p50: sec(t.percentile(50)), p90: sec(t.percentile(90)), p99: sec(t.percentile(99)), max: sec(t.max), mean: sec(t.sum / t.count) } : null,
    });
  }
  out.push({ file, type: 'stats-total', ...stats.totals, messages, packets });
  return out;
}
