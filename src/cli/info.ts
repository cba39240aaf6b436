// `oncrpc info`: rpcinfo(8) of rpcbind 1.2 (with libtirpc 1.3), flag for flag and byte for byte, plus
// --json for scripts and --timeout.
//
// The command line is read as rpcinfo reads it — GNU getopt(3) with "a:bdlmn:pstT:u", options and
// operands in any order, clusters (-pT tcp), `--` — and every form does what rpcinfo does, in the same
// order, so that the same things go wrong the same way: the same stdout, the same stderr (usage, the
// "ready and waiting" / "is not available" lines, libtirpc's clnt_pcreateerror / clnt_perror texts),
// the same exit status. How each form reaches rpcbind is in info-tirpc.ts. Long options are oncrpc's
// own (rpcinfo has none): --json, --timeout MS, --help; an unknown one is `oncrpc info: unknown
// option '--x'` (exit 1), as for every oncrpc subcommand.
//
// This module is the whole of `oncrpc info`'s start-up path (main.ts imports it before anything
// else): it loads no logger, no compiler, no pcap code; broadcast code only for -b.

import { clnt_stat } from '../errors.js';
import { getRpcByName, getRpcByNumber } from '../rpc/rpc-names.js';
import {
  callErrorText,
  createErrorText,
  familyOf,
  getnetconfigent,
  netconfig,
  rpcbFindaddr,
  rpcbUnset,
  rpcinfoGetclnthandle,
  rpcinfoLocalRpcb,
  rpcinfoRpcbindCreate,
  taddr2uaddr,
  tliCreate,
  TirpcError,
  uaddr2taddr,
  UNIX_NETID_WARNING,
  RPCBPROG,
  type Clnt,
  type Nconf,
  type Taddr,
  type Timeouts,
} from './info-tirpc.js';
import type { XdrReader } from '../xdr/reader.js';
import { encodeText } from '../xdr/text.js';

// ---- output -----------------------------------------------------------------------------------------

/** The JSON document of --json (docs/info-json.md). */
type Json = Record<string, unknown>;

/** Thrown to end the command with an exit status (rpcinfo's exit()). */
class Exit {
  constructor(readonly status: number) {}
}

/** Where `oncrpc info` writes: the process's stdout and stderr, or a test's collectors. */
export interface InfoIo {
  stdout(s: string): void;
  stderr(s: string): void;
}

// Strings from the wire keep bytes that are not UTF-8 as lone surrogates (src/xdr/text.ts): written back
// as the same bytes, as rpcinfo's printf writes them.
const PROCESS_IO: InfoIo = {
  stdout: (s) => void process.stdout.write(encodeText(s)),
  stderr: (s) => void process.stderr.write(encodeText(s)),
};

/**
 * What the command prints. stdout is buffered as stdio buffers it: written at the end, or line by line
 * to a terminal (so that it interleaves with stderr as rpcinfo's does there); stderr at once.
 */
class Out {
  stdout = '';
  readonly json: Json | undefined;
  readonly #lineBuffered: boolean;
  constructor(json: boolean, readonly io: InfoIo) {
    this.json = json ? { schema: 'oncrpc-info/1', form: null, exitStatus: 0, warnings: [], error: null } : undefined;
    this.#lineBuffered = io === PROCESS_IO && !json && process.stdout.isTTY === true;
  }
  out(s: string): void {
    this.stdout += s;
    const nl = this.stdout.lastIndexOf('\n');
    if (this.#lineBuffered && nl >= 0) {
      this.io.stdout(this.stdout.slice(0, nl + 1));
      this.stdout = this.stdout.slice(nl + 1);
    }
  }
  err(s: string): void {
    if (!this.json) this.io.stderr(s);
  }
  /** Records the error that ends the command (--json) and prints it (text). */
  fatal(message: string, stat?: number): void {
    this.err(message.endsWith('\n') ? message : message + '\n');
    if (this.json) this.json.error = { message: message.replace(/\n$/, ''), stat: stat === undefined ? null : statName(stat) };
  }
  set(fields: Json): void {
    if (this.json) Object.assign(this.json, fields);
  }
}

const STAT_NAMES = Object.fromEntries(Object.entries(clnt_stat).map(([k, v]) => [v, k]));
Object.assign(STAT_NAMES, { 19: 'RPC_UNKNOWNADDR', 20: 'RPC_TLIERROR', 22: 'RPC_N2AXLATEFAILURE' });

function statName(stat: number): string {
  return STAT_NAMES[stat] ?? `RPC_STAT_${stat}`;
}

function errorJson(message: string, e: TirpcError): Json {
  return { message, stat: statName(e.stat) };
}

const USAGE =
  'Usage: rpcinfo [-m | -s] [host]\n' +
  '       rpcinfo -p [host]\n' +
  '       rpcinfo -T netid host prognum [versnum]\n' +
  '       rpcinfo -l host prognum versnum\n' +
  '       rpcinfo [-n portnum] -u | -t host prognum [versnum]\n' +
  '       rpcinfo -a serv_address -T netid prognum [version]\n' +
  '       rpcinfo -b prognum versnum\n' +
  '       rpcinfo -d [-T netid] prognum versnum\n';

const HELP = `Usage: oncrpc info [--json] [--timeout MS] [rpcinfo options]

rpcinfo(8), byte for byte: reports RPC information from rpcbind and probes services.

${USAGE.replace(/rpcinfo/g, 'oncrpc info').replace(/^Usage: /, '       ')}
Options (rpcinfo's):
  -p [host]        the portmap (v2) registrations; without host over the local unix socket
  [host]           rpcbind's (v3) registrations; -s: one line per program
  -m [host]        rpcbind's statistics
  -l host P V      every address of program P version V (rpcbind v4 GETADDRLIST)
  -t | -u host P [V]   call procedure 0 of P over TCP / UDP (every version when V is not given)
  -T netid host P [V]  the same over any transport of /etc/netconfig (local: the unix socket)
  -a uaddr -T netid P [V]  the same at a universal address, without rpcbind
  -b P V           broadcast procedure 0 of P V; every reply printed
  -d [-T netid] P V  delete the registration of P V (on every transport, or netid's)
  -n port          accepted and ignored by -t/-u, as by rpcinfo; with -p a usage error
Programs are numbers or names (/etc/rpc, or a built-in table when it does not exist).

Options (oncrpc's):
  --json           one JSON document on stdout instead (schema: docs/info-json.md); nothing on stderr
  --timeout MS     every connect, call and broadcast gives up after MS milliseconds
  --help           this text
`;

// ---- numbers, as rpcinfo reads them -----------------------------------------------------------------

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -(1n << 63n);

/** strtol(s, &end, 10): the value (clamped to long) and the index after the digits (0 when there are none). */
function strtol(s: string): { value: bigint; end: number } {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i]!)) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') neg = s[i++] === '-';
  const start = i;
  while (i < s.length && s[i]! >= '0' && s[i]! <= '9') i++;
  if (i === start) return { value: 0n, end: 0 };
  let v = BigInt(s.slice(start, i));
  if (neg) v = -v;
  if (v > LONG_MAX) v = LONG_MAX;
  if (v < LONG_MIN) v = LONG_MIN;
  return { value: v, end: i };
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));

/** rpcinfo's getprognum: a name of /etc/rpc when the argument is not all digits, else strtol. As u_long. */
function getprognum(o: Out, arg: string): bigint {
  const b = Buffer.from(arg, 'utf8');
  // while (*tptr && isdigit(*tptr++)); if (*tptr || isalpha(*(tptr - 1))) → a name
  let p = 0;
  while (p < b.length) {
    const c = b[p++]!;
    if (!(c >= 0x30 && c <= 0x39)) break;
  }
  const cur = p < b.length ? b[p]! : 0;
  const prev = p > 0 ? b[p - 1]! : 0;
  const isalpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  if (cur !== 0 || isalpha(prev)) {
    const e = getRpcByName(arg);
    if (!e) {
      o.fatal(`rpcinfo: ${arg} is unknown service`);
      throw new Exit(1);
    }
    return BigInt(e.number);
  }
  const { value, end } = strtol(arg);
  if (end === 0 || end !== arg.length) {
    o.fatal(`rpcinfo: ${arg} is illegal program number`);
    throw new Exit(1);
  }
  return u64(value);
}

/** rpcinfo's getvers: (int) strtol(arg), as u_long. */
function getvers(o: Out, arg: string): bigint {
  const { value, end } = strtol(arg);
  if (end === 0 || end !== arg.length) {
    o.fatal(`rpcinfo: ${arg} is illegal version number`);
    throw new Exit(1);
  }
  return u64(BigInt.asIntN(32, value));
}

/** The name rpcinfo prints for a program, or undefined. */
function progName(prog: number): string | undefined {
  return getRpcByNumber(prog)?.name;
}

// ---- printf ---------------------------------------------------------------------------------------------

const padL = (v: string | number | bigint, n: number): string => String(v).padStart(n);
const padR = (v: string | number | bigint, n: number): string => String(v).padEnd(n);

// ---- the command line ---------------------------------------------------------------------------------

const OPTSTRING = 'a:bdlmn:pstT:u';
const enum Fn {
  NONE,
  PMAPDUMP,
  TCPPING,
  UDPPING,
  BROADCAST,
  DELETES,
  ADDRPING,
  PROGPING,
  RPCBDUMP,
  RPCBDUMP_SHORT,
  RPCBADDRLIST,
  RPCBGETSTAT,
}

interface Options {
  json: boolean;
  timeoutMs: number | undefined;
  help: boolean;
}

/** oncrpc's own error for a long option (same form as every oncrpc subcommand's). */
class LongOptionError {
  constructor(readonly message: string) {}
}

function longOption(arg: string, next: () => string | undefined, opts: Options): void {
  const eq = arg.indexOf('=');
  const name = eq >= 0 ? arg.slice(0, eq) : arg;
  const inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
  switch (name) {
    case '--json':
    case '--help':
      if (inline !== undefined) throw new LongOptionError(`option '${name}' does not take an argument`);
      if (name === '--json') opts.json = true;
      else opts.help = true;
      return;
    case '--timeout': {
      const v = inline ?? next();
      if (v === undefined) throw new LongOptionError(`option '--timeout <ms>' argument missing`);
      const n = /^[0-9]+$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && Number.isSafeInteger(n))) throw new LongOptionError(`option '--timeout <ms>' argument '${v}' is invalid. It must be a whole number of milliseconds, 1 or more.`);
      opts.timeoutMs = n;
      return;
    }
    default:
      throw new LongOptionError(`unknown option '${name}'`);
  }
}

/** One getopt(3) event: an option (with its argument) or an error getopt printed. */
type OptEvent = { c: string; arg?: string } | { error: string };

/** GNU getopt over `args` (permuting, POSIXLY_CORRECT honoured), with oncrpc's long options taken out. */
function getopt(args: string[], opts: Options): { events: OptEvent[]; operands: string[] } {
  const events: OptEvent[] = [];
  const operands: string[] = [];
  const posix = process.env['POSIXLY_CORRECT'] !== undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (a.startsWith('--')) {
      longOption(a, () => args[++i], opts);
      continue;
    }
    if (a === '-' || !a.startsWith('-')) {
      if (posix) break;
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = c === ':' ? -1 : OPTSTRING.indexOf(c);
      if (at < 0) {
        events.push({ error: `rpcinfo: invalid option -- '${c}'\n` });
        continue;
      }
      if (OPTSTRING[at + 1] === ':') {
        if (j + 1 < a.length) events.push({ c, arg: a.slice(j + 1) });
        else if (i + 1 < args.length) events.push({ c, arg: args[++i]! });
        else events.push({ error: `rpcinfo: option requires an argument -- '${c}'\n` });
        break;
      }
      events.push({ c });
    }
  }
  operands.push(...args.slice(i));
  return { events, operands };
}

// ---- the forms --------------------------------------------------------------------------------------

const MIN_VERS = 0n;
const MAX_VERS = 4294967295n;
const PMAPVERS = 2;
const RPCBVERS = 3;
const RPCBVERS4 = 4;

interface Ctx {
  o: Out;
  t: Timeouts;
  /** Every handle made, destroyed at the end. */
  handles: Clnt[];
}

function track(ctx: Ctx, c: Clnt): Clnt {
  ctx.handles.push(c);
  return c;
}

/** Timeouts: rpcinfo's (60 s for rpcbind's lists, 10 s for a ping), or --timeout for all. */
const MINUTE = 60_000;
const PING = 10_000;
const tmo = (ctx: Ctx, dflt: number): number => ctx.t.all ?? dflt;

const readVoid = (): void => undefined;

function usage(o: Out): never {
  o.set({ form: 'usage' });
  o.fatal(USAGE);
  throw new Exit(1);
}

/** libtirpc's getnetconfigent, with its "unix" warning and 10 s pause. */
function nconfOf(ctx: Ctx, netid: string): Promise<Nconf | undefined> {
  return getnetconfigent(netid, async () => {
    ctx.o.err(UNIX_NETID_WARNING);
    if (ctx.o.json) (ctx.o.json.warnings as string[]).push(UNIX_NETID_WARNING.trimEnd());
    await new Promise((r) => setTimeout(r, 10_000));
  });
}

/** A Registration object of --json. */
function registration(prog: number, vers: number, netid: string | null, protocol: number | null, address: string | null, port: number | null, owner: string | null): Json {
  return { program: prog, name: progName(prog) ?? null, version: vers, netid, protocol, address, port, owner };
}

/** The port of a universal address of netid `netid`, or null (local and unparsable ones). */
function uaddrPort(netid: string, uaddr: string): number | null {
  const n = netconfig().find((x) => x.netid === netid);
  if (!n) return null;
  const a = uaddr2taddr(n, uaddr);
  return a && a.family !== 'local' ? a.port : null;
}

// -p [host]
async function pmapdump(ctx: Ctx, args: string[], portnum: number): Promise<void> {
  const { o } = ctx;
  o.set({ form: 'pmapdump' });
  if (portnum !== 0) usage(o);
  if (args.length > 1) usage(o);
  const host = args[0];
  o.set({ host: host ?? null });
  let clnt: Clnt;
  if (host !== undefined) {
    clnt = await ipGetclient(ctx, host, RPCBPROG, PMAPVERS, 'tcp');
  } else {
    try {
      clnt = track(ctx, await rpcinfoLocalRpcb(tmo(ctx, MINUTE)));
    } catch (e) {
      const te = e as TirpcError;
      const m = createErrorText("rpcinfo: can't contact portmapper", te);
      o.fatal(m, te.stat);
      throw new Exit(1);
    }
  }
  let list: { prog: number; vers: number; prot: number; port: number }[];
  try {
    list = await clnt.call(RPCBPROG, PMAPVERS, 4, undefined, readPmaplist, tmo(ctx, MINUTE));
  } catch (e) {
    const te = e as TirpcError;
    if (te.stat === clnt_stat.RPC_PROGVERSMISMATCH || te.stat === clnt_stat.RPC_PROGUNAVAIL) {
      if ((te.low ?? 0) > PMAPVERS) o.fatal(`${host ?? '(null)'} does not support portmapper.  Try rpcinfo ${host ?? '(null)'} instead`, te.stat);
      else if (o.json) o.json.error = errorJson(callErrorText("rpcinfo: can't contact portmapper", te), te);
      throw new Exit(1);
    }
    o.fatal(callErrorText("rpcinfo: can't contact portmapper", te), te.stat);
    throw new Exit(1);
  }
  o.set({
    registrations: list.map((m) => {
      const netid = m.prot === 17 ? 'udp' : m.prot === 6 ? 'tcp' : null;
      return registration(m.prog, m.vers, netid, m.prot, null, m.port, null);
    }),
  });
  if (list.length === 0) return o.out('No remote programs registered.\n');
  o.out('   program vers proto   port  service\n');
  for (const m of list) {
    let line = padL(m.prog, 10) + padL(m.vers, 5);
    line += m.prot === 17 ? padL('udp', 6) : m.prot === 6 ? padL('tcp', 6) : padL(m.prot, 6);
    line += padL(m.port, 7);
    const name = progName(m.prog);
    o.out(line + (name !== undefined ? `  ${name}\n` : '\n'));
  }
}

function readPmaplist(r: XdrReader): { prog: number; vers: number; prot: number; port: number }[] {
  const out = [];
  while (r.readBool()) out.push({ prog: r.readUint(), vers: r.readUint(), prot: r.readUint(), port: r.readUint() });
  return out;
}

interface Rpcb {
  prog: number;
  vers: number;
  netid: string;
  addr: string;
  owner: string;
}

function readRpcblist(r: XdrReader): Rpcb[] {
  const out: Rpcb[] = [];
  while (r.readBool()) out.push({ prog: r.readUint(), vers: r.readUint(), netid: r.readString(), addr: r.readString(), owner: r.readString() });
  return out;
}

/**
 * rpcinfo's ip_getclient: rpcb_getaddr over each netconfig entry of protocol `proto` (udp, udp6 / tcp,
 * tcp6) until one has an address of `host`, then a handle to the program there. The errors are
 * printed as `HOST: RPC: …` (exit 1).
 */
async function ipGetclient(ctx: Ctx, host: string, prog: number, vers: number, proto: string): Promise<Clnt> {
  const { o } = ctx;
  let saved: TirpcError | undefined;
  for (const nconf of netconfig()) {
    if (nconf.proto !== proto) continue;
    let addr: Taddr;
    try {
      addr = await rpcbFindaddr(prog, vers, nconf, host, ctx.t);
    } catch (e) {
      const te = e as TirpcError;
      if (te.stat !== clnt_stat.RPC_UNKNOWNHOST) {
        o.fatal(createErrorText(host, te), te.stat);
        throw new Exit(1);
      }
      saved = te;
      continue;
    }
    try {
      return track(ctx, await tliCreate(nconf, addr, tmo(ctx, MINUTE)));
    } catch (e) {
      const te = e as TirpcError;
      o.fatal(createErrorText(host, te), te.stat);
      throw new Exit(1);
    }
  }
  if (saved) o.fatal(createErrorText(host, saved), saved.stat);
  else o.fatal(`Cannot find suitable transport for protocol ${proto}`);
  throw new Exit(1);
}

/** One probe of --json. */
interface Probe {
  version: number;
  ok: boolean;
  rttMs: number | null;
  error: Json | null;
}

/** clnt_call of procedure 0: undefined on success, else the error; with the round-trip time. */
async function nullCall(ctx: Ctx, clnt: Clnt, prog: number, vers: number): Promise<{ err: TirpcError | undefined; rttMs: number }> {
  const t0 = performance.now();
  try {
    await clnt.call(prog, vers, 0, undefined, readVoid, tmo(ctx, PING));
    return { err: undefined, rttMs: performance.now() - t0 };
  } catch (e) {
    if (!(e instanceof TirpcError)) throw e;
    return { err: e, rttMs: performance.now() - t0 };
  }
}

/** rpcinfo's pstatus: the verdict line on stdout, libtirpc's error on stderr. Returns false on failure. */
function pstatus(ctx: Ctx, probes: Probe[], prog: bigint | number, vers: bigint | number, r: { err: TirpcError | undefined; rttMs: number }): boolean {
  const { o } = ctx;
  // The version called (rpcinfo prints -t/-u versions as an unsigned long: `-- -1` is 2^64-1 there).
  const version = Number(BigInt.asUintN(32, BigInt(vers)));
  if (r.err) {
    const m = callErrorText('rpcinfo', r.err);
    o.err(m + '\n');
    o.out(`program ${prog} version ${vers} is not available\n`);
    probes.push({ version, ok: false, rttMs: r.err.stat === clnt_stat.RPC_TIMEDOUT ? null : round(r.rttMs), error: errorJson(m, r.err) });
    return false;
  }
  o.out(`program ${prog} version ${vers} ready and waiting\n`);
  probes.push({ version, ok: true, rttMs: round(r.rttMs), error: null });
  return true;
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/**
 * The version loop of ip_ping, progping and addrping: version `vers` alone, or (none given) version 0
 * to learn the range from PROG_MISMATCH (then MAX_VERS if 0 answers), then every version of it.
 * `call(v)` makes the call of version v; returns the exit status.
 */
async function versionLoop(
  ctx: Ctx,
  prog: bigint | number,
  given: bigint | number | undefined,
  first: { err: TirpcError | undefined; rttMs: number },
  call: (v: bigint) => Promise<{ err: TirpcError | undefined; rttMs: number }>,
): Promise<number> {
  const { o } = ctx;
  const probes: Probe[] = [];
  o.set({ probes });
  if (given !== undefined) return pstatus(ctx, probes, prog, given, first) ? 0 : 1;
  let min: bigint;
  let max: bigint;
  let r = first;
  if (r.err?.stat === clnt_stat.RPC_PROGVERSMISMATCH) {
    min = BigInt(r.err.low!);
    max = BigInt(r.err.high!);
  } else if (!r.err) {
    r = await call(MAX_VERS);
    if (r.err?.stat === clnt_stat.RPC_PROGVERSMISMATCH) {
      min = BigInt(r.err.low!);
      max = BigInt(r.err.high!);
    } else if (!r.err) {
      min = 0n;
      max = MAX_VERS;
    } else {
      pstatus(ctx, probes, prog, typeof prog === 'bigint' ? MAX_VERS : Number(MAX_VERS), r);
      return 1;
    }
  } else {
    pstatus(ctx, probes, prog, 0, r);
    return 1;
  }
  o.set({ versionRange: { low: Number(min), high: Number(max) } });
  let failure = false;
  for (let v = min; v <= max; v++) {
    if (!pstatus(ctx, probes, prog, v, await call(v))) failure = true;
  }
  return failure ? 1 : 0;
}

// -t / -u host prog [vers]
async function ipPing(ctx: Ctx, proto: 'tcp' | 'udp', args: string[]): Promise<number> {
  const { o } = ctx;
  o.set({ form: 'ping', transport: proto });
  if (args.length < 2 || args.length > 3) usage(o);
  const host = args[0]!;
  o.set({ host });
  const prognum = getprognum(o, args[1]!);
  const vers = args.length === 2 ? MIN_VERS : getvers(o, args[2]!);
  o.set({ program: u32(prognum), name: progName(u32(prognum)) ?? null });
  const clnt = await ipGetclient(ctx, host, u32(prognum), u32(vers), proto);
  o.set({ server: { netid: clnt.nconf.netid, address: taddr2uaddr(clnt.addr) } });
  const call = (v: bigint): Promise<{ err: TirpcError | undefined; rttMs: number }> => nullCall(ctx, clnt, u32(prognum), u32(v));
  const first = await call(vers);
  return versionLoop(ctx, prognum, args.length === 2 ? undefined : vers, first, call);
}

// -T netid host prog [vers]
async function progping(ctx: Ctx, netid: string | undefined, args: string[]): Promise<number> {
  const { o } = ctx;
  o.set({ form: 'ping', transport: netid ?? null });
  if (args.length < 2 || args.length > 3 || netid === undefined) usage(o);
  o.set({ host: args[0]! });
  const prognum = u32(getprognum(o, args[1]!));
  const versnum = args.length === 2 ? 0 : u32(getvers(o, args[2]!));
  o.set({ program: prognum, name: progName(prognum) ?? null });
  const nconf = await nconfOf(ctx, netid);
  if (!nconf) {
    o.fatal(`rpcinfo: Could not find ${netid}`);
    throw new Exit(1);
  }
  // clnt_tp_create: rpcb_getaddr, then a handle to the address.
  let clnt: Clnt;
  try {
    const addr = await rpcbFindaddr(prognum, versnum, nconf, args[0]!, ctx.t);
    clnt = track(ctx, await tliCreate(nconf, addr, tmo(ctx, MINUTE)));
  } catch (e) {
    const te = e as TirpcError;
    o.fatal(createErrorText('rpcinfo', te), te.stat);
    throw new Exit(1);
  }
  o.set({ server: { netid: nconf.netid, address: taddr2uaddr(clnt.addr) } });
  const call = (v: bigint | number): Promise<{ err: TirpcError | undefined; rttMs: number }> => nullCall(ctx, clnt, prognum, u32(BigInt(v)));
  const first = await call(versnum);
  return versionLoop(ctx, prognum, args.length === 2 ? undefined : versnum, first, (v) => call(BigInt.asUintN(32, v)));
}

// -a uaddr -T netid prog [vers]
async function addrping(ctx: Ctx, address: string, netid: string | undefined, args: string[]): Promise<number> {
  const { o } = ctx;
  o.set({ form: 'ping', transport: netid ?? null, host: null });
  if (args.length < 1 || args.length > 2 || netid === undefined) usage(o);
  const nconf = await nconfOf(ctx, netid);
  if (!nconf) {
    o.fatal(`rpcinfo: Could not find ${netid}`);
    throw new Exit(1);
  }
  const prognum = u32(getprognum(o, args[0]!));
  const versnum = args.length === 1 ? 0 : u32(getvers(o, args[1]!));
  o.set({ program: prognum, name: progName(prognum) ?? null });
  if (familyOf(nconf) === 0 || (nconf.semantics === 'tpi_raw' && process.geteuid?.() !== 0)) {
    // __rpc_nconf2fd cannot make a socket: RPC_TLIERROR, which libtirpc has no text for.
    const e = new TirpcError(20);
    o.fatal(createErrorText('rpcinfo', e), e.stat);
    throw new Exit(1);
  }
  const taddr = uaddr2taddr(nconf, address);
  if (!taddr) {
    o.fatal('rpcinfo: rpcinfo: no address for client handle');
    throw new Exit(1);
  }
  o.set({ server: { netid: nconf.netid, address } });
  // clnt_addr_create keeps one descriptor for every version: one handle here.
  let clnt: Clnt;
  try {
    clnt = track(ctx, await tliCreate(nconf, taddr, tmo(ctx, MINUTE)));
  } catch (e) {
    const te = e as TirpcError;
    o.fatal(createErrorText('rpcinfo', te), te.stat);
    throw new Exit(1);
  }
  const call = (v: bigint | number): Promise<{ err: TirpcError | undefined; rttMs: number }> => nullCall(ctx, clnt, prognum, u32(BigInt(v)));
  const first = await call(versnum);
  return versionLoop(ctx, prognum, args.length === 1 ? undefined : versnum, first, (v) => call(BigInt.asUintN(32, v)));
}

/** The handle of rpcbdump / rpcbaddrlist / rpcbgetstat to a host's rpcbind (clnt_pcreateerror on failure). */
async function hostRpcbind(ctx: Ctx, host: string, netid: string | undefined): Promise<{ clnt: Clnt; targaddr: string }> {
  const { o } = ctx;
  try {
    if (netid === undefined) {
      const h = await rpcinfoRpcbindCreate(host, tmo(ctx, MINUTE));
      track(ctx, h.clnt);
      return h;
    }
    const nconf = await nconfOf(ctx, netid);
    if (!nconf) {
      o.fatal('rpcinfo: invalid transport: Netid not found in netconfig database');
      throw new Exit(1);
    }
    const h = await rpcinfoGetclnthandle(host, nconf, tmo(ctx, MINUTE));
    track(ctx, h.clnt);
    return h;
  } catch (e) {
    if (!(e instanceof TirpcError)) throw e;
    o.fatal(createErrorText("rpcinfo: can't contact rpcbind", e), e.stat);
    throw new Exit(1);
  }
}

async function localRpcbind(ctx: Ctx): Promise<Clnt> {
  try {
    return track(ctx, await rpcinfoLocalRpcb(tmo(ctx, MINUTE)));
  } catch (e) {
    const te = e as TirpcError;
    ctx.o.fatal(createErrorText("rpcinfo: can't contact rpcbind", te), te.stat);
    throw new Exit(1);
  }
}

// [host], -s [host]
async function rpcbdump(ctx: Ctx, short: boolean, netid: string | undefined, args: string[]): Promise<void> {
  const { o } = ctx;
  o.set({ form: short ? 'short' : 'dump' });
  if (args.length > 1) usage(o);
  const host = args[0];
  o.set({ host: host ?? null });
  const clnt = host !== undefined ? (await hostRpcbind(ctx, host, netid)).clnt : await localRpcbind(ctx);
  let list: Rpcb[] = [];
  const failed = (te: TirpcError): never => {
    o.fatal(callErrorText("rpcinfo: can't contact rpcbind: ", te), te.stat);
    throw new Exit(1);
  };
  try {
    list = await clnt.call(RPCBPROG, RPCBVERS, 4, undefined, readRpcblist, tmo(ctx, MINUTE));
  } catch (e) {
    const te = e as TirpcError;
    if (te.stat !== clnt_stat.RPC_PROGVERSMISMATCH && te.stat !== clnt_stat.RPC_PROGUNAVAIL) failed(te);
    if (te.low === RPCBVERS4) {
      list = await clnt.call(RPCBPROG, RPCBVERS4, 4, undefined, readRpcblist, tmo(ctx, MINUTE)).catch(failed);
    } else if (te.high === PMAPVERS) {
      const pm = await clnt.call(RPCBPROG, PMAPVERS, 4, undefined, readPmaplist, tmo(ctx, MINUTE)).catch(failed);
      list = pm.map((m) => ({
        prog: m.prog,
        vers: m.vers,
        netid: m.prot === 17 ? 'udp' : m.prot === 6 ? 'tcp' : padL(m.prot, 6),
        addr: `0.0.0.0.${(m.port >> 8) & 0xff}.${m.port & 0xff}`,
        owner: 'unknown',
      }));
    }
    // (neither: rpcinfo goes on with an empty list)
  }
  if (!short) {
    o.set({ registrations: list.map((r) => registration(r.prog, r.vers, r.netid, null, r.addr, uaddrPort(r.netid, r.addr), r.owner)) });
    if (list.length === 0) return o.out('No remote programs registered.\n');
    o.out('   program version netid     address                service    owner\n');
    for (const r of list) {
      o.out(`${padL(r.prog, 10)}${padL(r.vers, 5)}    ${padR(r.netid, 9)} ${padR(r.addr, 22)} ${padR(progName(r.prog) ?? '-', 10)} ${r.owner}\n`);
    }
    return;
  }
  // -s: one line per program; versions and netids each listed once, newest first (rpcinfo prepends).
  const progs: { prog: number; owner: string; vers: number[]; netids: string[] }[] = [];
  for (const r of list) {
    let p = progs.find((x) => x.prog === r.prog);
    if (!p) progs.push((p = { prog: r.prog, owner: r.owner, vers: [], netids: [] }));
    if (!p.vers.includes(r.vers)) p.vers.unshift(r.vers);
    if (!p.netids.includes(r.netid)) p.netids.unshift(r.netid);
  }
  o.set({
    programs: progs.map((p) => ({
      program: p.prog,
      name: progName(p.prog) ?? null,
      versions: [...p.vers].sort((a, b) => a - b),
      netids: [...p.netids].reverse(),
      owner: p.owner,
    })),
  });
  if (list.length === 0) return o.out('No remote programs registered.\n');
  o.out('   program version(s) netid(s)                         service     owner\n');
  for (const p of progs) {
    o.out(`${padL(p.prog, 10)}  ${padR(p.vers.map((v) => v | 0).join(','), 10)}${padR(p.netids.join(','), 32)} ${padR(progName(p.prog) ?? '-', 11)} ${p.owner}\n`);
  }
}

// -l host prog vers
async function rpcbaddrlist(ctx: Ctx, netid: string | undefined, args: string[]): Promise<void> {
  const { o } = ctx;
  o.set({ form: 'addrlist' });
  if (args.length !== 3) usage(o);
  o.set({ host: args[0]! });
  const { clnt, targaddr } = await hostRpcbind(ctx, args[0]!, netid);
  const prog = u32(getprognum(o, args[1]!));
  const vers = u32(getvers(o, args[2]!));
  o.set({ program: prog, name: progName(prog) ?? null, version: vers });
  let entries: { maddr: string; netid: string; semantics: number; protofmly: string; proto: string }[];
  try {
    entries = await clnt.call(
      RPCBPROG,
      RPCBVERS4,
      11,
      (w) => {
        w.writeUint(prog);
        w.writeUint(vers);
        w.writeString(clnt.nconf.netid);
        w.writeString(targaddr);
        w.writeString('');
      },
      (r) => {
        const out = [];
        while (r.readBool()) out.push({ maddr: r.readString(), netid: r.readString(), semantics: r.readUint(), protofmly: r.readString(), proto: r.readString() });
        return out;
      },
      tmo(ctx, MINUTE),
    );
  } catch (e) {
    const te = e as TirpcError;
    o.fatal(callErrorText("rpcinfo: can't contact rpcbind: ", te), te.stat);
    throw new Exit(1);
  }
  const cls = (s: number): string => (s === 1 ? 'clts' : s === 2 ? 'cots' : 'cots_ord');
  o.set({
    entries: entries.map((e) => ({ address: e.maddr, netid: e.netid, family: e.protofmly, protocol: e.proto, semantics: cls(e.semantics), port: uaddrPort(e.netid, e.maddr) })),
  });
  if (entries.length === 0) return o.out('No remote programs registered.\n');
  o.out('   program vers  tp_family/name/class    address\t\t  service\n');
  for (const e of entries) {
    o.out(`${padL(prog, 10)}${padL(vers, 3)}    ${padR(`${e.protofmly}/${e.proto}/${cls(e.semantics)} `, 24)}${padR(e.maddr, 24)} ${padR(progName(prog) ?? '-', 13)}\n`);
  }
}

// -m [host]
interface StatVers {
  info: number[];
  setinfo: number;
  unsetinfo: number;
  addrinfo: { prog: number; vers: number; success: number; failure: number; netid: string }[];
  rmtinfo: { prog: number; vers: number; proc: number; success: number; failure: number; indirect: number; netid: string }[];
}

function readStats(r: XdrReader): StatVers[] {
  const out: StatVers[] = [];
  for (let v = 0; v < 3; v++) {
    const info: number[] = [];
    for (let i = 0; i < 13; i++) info.push(r.readInt());
    const setinfo = r.readInt();
    const unsetinfo = r.readInt();
    const addrinfo = [];
    while (r.readBool()) addrinfo.push({ prog: r.readUint(), vers: r.readUint(), success: r.readInt(), failure: r.readInt(), netid: r.readString() });
    const rmtinfo = [];
    while (r.readBool()) rmtinfo.push({ prog: r.readUint(), vers: r.readUint(), proc: r.readUint(), success: r.readInt(), failure: r.readInt(), indirect: r.readInt(), netid: r.readString() });
    out.push({ info, setinfo, unsetinfo, addrinfo, rmtinfo });
  }
  return out;
}

const PMAP_HDR = ['NULL', 'SET', 'UNSET', 'GETPORT', 'DUMP', 'CALLIT'];
const RPCB3_HDR = ['NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'CALLIT', 'TIME', 'U2T', 'T2U'];
const RPCB4_HDR = [...RPCB3_HDR, 'VERADDR', 'INDRECT', 'GETLIST', 'GETSTAT'];
const PROC_NAMES = [
  ['NULL', 'SET', 'UNSET', 'GETPORT', 'DUMP', 'CALLIT'],
  ['NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'CALLIT', 'GETTIME', 'UADDR2TADDR', 'TADDR2UADDR'],
  ['NULL', 'SET', 'UNSET', 'GETADDR', 'DUMP', 'BCAST', 'GETTIME', 'UADDR2TADDR', 'TADDR2UADDR', 'GETVERSADDR', 'INDIRECT', 'GETADDRLIST', 'GETSTAT'],
];

/** rpcinfo's spaces(n): n blanks, none for n outside 1..64. */
const spaces = (n: number): string => (n <= 0 || n > 64 ? '' : ' '.repeat(n));

/** One row pair of -m: the procedure names and their counters, on 8-column tab stops. */
function statRows(s: StatVers, hdr: string[], from: number, to: number, v4: boolean): [string, string] {
  let h = '';
  let l = '';
  for (let i = from; i <= to; i++) {
    let field = '';
    if (i === 1) field = `${s.setinfo}/`;
    else if (i === 2) field = `${s.unsetinfo}/`;
    else if (i === 3) field = `${s.addrinfo.reduce((a, x) => a + x.success, 0)}/`;
    else if (i === 5) field = `${s.rmtinfo.reduce((a, x) => a + x.success, 0)}/`;
    // rpcbind counts GETADDRLIST successes under GETADDR; rpcinfo adds the two counters.
    field += String(v4 && i === 3 ? (s.info[3]! + s.info[11]!) | 0 : s.info[i]!);
    const width = 8 * (1 + Math.floor(field.length / 8));
    h += hdr[i]! + spaces(width - hdr[i]!.length);
    l += field + spaces(width - field.length);
  }
  return [h, l];
}

function rmtcallStat(o: Out, s: StatVers, v4: boolean): void {
  o.out(v4 ? 'prog\t\tvers\tproc\tnetid\tindirect success failure\n' : 'prog\t\tvers\tproc\tnetid\tsuccess\tfailure\n');
  for (const p of s.rmtinfo) {
    let line = padR(progName(p.prog) ?? String(p.prog | 0), 16) + `${p.vers | 0}\t${p.proc | 0}\t${p.netid}\t`;
    if (v4) line += `${p.indirect}\t `;
    o.out(line + `${p.success}\t${p.failure}\n`);
  }
}

function getaddrStat(o: Out, s: StatVers): void {
  o.out('prog\t\tvers\tnetid\t  success\tfailure\n');
  for (const a of s.addrinfo) {
    o.out(padR(progName(a.prog) ?? String(a.prog | 0), 16) + `${a.vers | 0}\t${a.netid}\t  ${padR(a.success, 12)}\t${a.failure}\n`);
  }
}

async function rpcbgetstat(ctx: Ctx, args: string[]): Promise<void> {
  const { o } = ctx;
  o.set({ form: 'stats', host: args[0] ?? null });
  const clnt = args.length >= 1 ? (await hostRpcbind(ctx, args[0]!, undefined)).clnt : await localRpcbind(ctx);
  let st: StatVers[];
  try {
    st = await clnt.call(RPCBPROG, RPCBVERS4, 12, undefined, readStats, tmo(ctx, MINUTE));
  } catch (e) {
    const te = e as TirpcError;
    o.fatal(callErrorText("rpcinfo: can't contact rpcbind: ", te), te.stat);
    throw new Exit(1);
  }
  o.set({
    versions: st.map((s, k) => ({
      version: k + 2,
      procedures: PROC_NAMES[k]!.map((name, i) => ({
        number: i,
        name,
        calls: s.info[i]!,
        succeeded: i === 1 ? s.setinfo : i === 2 ? s.unsetinfo : i === 3 ? s.addrinfo.reduce((a, x) => a + x.success, 0) : i === 5 ? s.rmtinfo.reduce((a, x) => a + x.success, 0) : null,
      })),
      getaddr: s.addrinfo.map((a) => ({ program: a.prog, name: progName(a.prog) ?? null, version: a.vers, netid: a.netid, success: a.success, failure: a.failure })),
      rmtcall: s.rmtinfo.map((p) => ({ program: p.prog, name: progName(p.prog) ?? null, version: p.vers, procedure: p.proc, netid: p.netid, indirect: p.indirect !== 0, success: p.success, failure: p.failure })),
    })),
  });
  const [v2, v3, v4] = st as [StatVers, StatVers, StatVers];
  o.out('PORTMAP (version 2) statistics\n');
  let [h, l] = statRows(v2, PMAP_HDR, 0, 5, false);
  o.out(`${h}\n${l}\n\n`);
  if (v2.info[5]) {
    o.out('PMAP_RMTCALL call statistics\n');
    rmtcallStat(o, v2, false);
    o.out('\n');
  }
  if (v2.info[3]) {
    o.out('PMAP_GETPORT call statistics\n');
    getaddrStat(o, v2);
    o.out('\n');
  }
  o.out('RPCBIND (version 3) statistics\n');
  [h, l] = statRows(v3, RPCB3_HDR, 0, 8, false);
  o.out(`${h}\n${l}\n\n`);
  if (v3.info[5]) {
    o.out('RPCB_RMTCALL (version 3) call statistics\n');
    rmtcallStat(o, v3, false);
    o.out('\n');
  }
  if (v3.info[3]) {
    o.out('RPCB_GETADDR (version 3) call statistics\n');
    getaddrStat(o, v3);
    o.out('\n');
  }
  o.out('RPCBIND (version 4) statistics\n');
  for (const [from, to] of [[0, 8], [9, 12]] as const) {
    [h, l] = statRows(v4, RPCB4_HDR, from, to, true);
    o.out(`${h}\n${l}\n`);
  }
  if (v4.info[5] || v4.info[10]) {
    o.out('\nRPCB_RMTCALL (version 4) call statistics\n');
    rmtcallStat(o, v4, true);
  }
  if (v4.info[3]) {
    o.out('\nRPCB_GETADDR (version 4) call statistics\n');
    getaddrStat(o, v4);
  }
}

// -d [-T netid] prog vers
async function deletereg(ctx: Ctx, netid: string | undefined, args: string[]): Promise<number> {
  const { o } = ctx;
  o.set({ form: 'delete' });
  if (args.length !== 2) usage(o);
  let nconf: Nconf | undefined;
  if (netid !== undefined) {
    nconf = await nconfOf(ctx, netid);
    if (!nconf) {
      o.fatal(`rpcinfo: netid ${netid} not supported`);
      throw new Exit(1);
    }
  }
  // rpcb_unset(getprognum(argv[0]), getvers(argv[1]), nconf): gcc evaluates the arguments right to left.
  const vers = u32(getvers(o, args[1]!));
  const prog = u32(getprognum(o, args[0]!));
  o.set({ program: prog, name: progName(prog) ?? null, version: vers, netid: nconf?.netid ?? null });
  const ok = await rpcbUnset(prog, vers, nconf?.netid ?? '', ctx.t);
  o.set({ deleted: ok });
  if (!ok) {
    o.fatal(`rpcinfo: Could not delete registration for prog ${args[0]} version ${args[1]}`);
    return 1;
  }
  return 0;
}

// -b prog vers
async function brdcst(ctx: Ctx, args: string[]): Promise<number> {
  const { o } = ctx;
  o.set({ form: 'broadcast' });
  if (args.length !== 2) usage(o);
  const prog = u32(getprognum(o, args[0]!));
  const vers = u32(getvers(o, args[1]!));
  const replies: Json[] = [];
  o.set({ program: prog, name: progName(prog) ?? null, version: vers, replies });
  const [{ rpcBroadcast }, { lookupService }] = await Promise.all([import('../client/broadcast.js'), import('node:dns')]);
  // Each reply is printed as it comes (uaddr, then the responder's name as getnameinfo gives it).
  let chain = Promise.resolve();
  const res = await rpcBroadcast({
    prog,
    vers,
    proc: 0,
    ...(ctx.t.all !== undefined ? { deadlineMs: ctx.t.all } : {}),
    onReply: (r) => {
      chain = chain.then(
        () =>
          new Promise<void>((done) => {
            lookupService(r.address, r.port, (err, hostname) => {
              // getnameinfo(3) without NI_NAMEREQD: the numeric address when there is no name, "unknown"
              // when the lookup itself failed (no DNS server, …).
              const host = !err ? hostname : (err as NodeJS.ErrnoException).code === 'ENOTFOUND' ? r.address : 'unknown';
              o.out(`${r.uaddr}\t${host}\n`);
              replies.push({ address: r.uaddr, host, netid: r.netid, via: r.via, elapsedMs: round(r.elapsedMs) });
              done();
            });
          }),
      );
    },
  });
  await chain;
  o.set({ timedOut: res.status === 'timedout' });
  if (res.status !== 'success' && res.status !== 'timedout') {
    const stat = res.status === 'unknownproto' ? clnt_stat.RPC_UNKNOWNPROTO : clnt_stat.RPC_CANTSEND;
    o.fatal(`rpcinfo: broadcast failed: ${new TirpcError(stat).message}`, stat);
    return 1;
  }
  return 0;
}

// ---- main -------------------------------------------------------------------------------------------

/**
 * Runs `oncrpc info` with the arguments after `info`; resolves with the exit status. Writes to the
 * process's stdout and stderr, or to `io`.
 */
export async function infoMain(args: string[], io: InfoIo = PROCESS_IO): Promise<number> {
  const opts: Options = { json: false, timeoutMs: undefined, help: false };
  let parsed: { events: OptEvent[]; operands: string[] };
  try {
    parsed = getopt(args, opts);
  } catch (e) {
    if (e instanceof LongOptionError) {
      io.stderr(`oncrpc info: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  if (opts.help) {
    io.stdout(HELP);
    return 0;
  }
  const o = new Out(opts.json, io);
  const ctx: Ctx = { o, t: { all: opts.timeoutMs }, handles: [] };
  let status = 0;
  try {
    status = await run(ctx, parsed);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    status = e.status;
  } finally {
    for (const h of ctx.handles) h.destroy();
  }
  if (o.json) {
    o.json.exitStatus = status;
    io.stdout(JSON.stringify(o.json) + '\n');
  } else if (o.stdout) io.stdout(o.stdout);
  return status;
}

async function run(ctx: Ctx, { events, operands }: { events: OptEvent[]; operands: string[] }): Promise<number> {
  const { o } = ctx;
  let fn = Fn.NONE as Fn;
  let errflg = false;
  let netid: string | undefined;
  let address: string | undefined;
  let portnum = 0;
  const set = (f: Fn): void => {
    if (fn !== Fn.NONE) errflg = true;
    else fn = f;
  };
  for (const ev of events) {
    if ('error' in ev) {
      o.err(ev.error);
      if (o.json) (o.json.warnings as string[]).push(ev.error.trimEnd());
      errflg = true;
      continue;
    }
    switch (ev.c) {
      case 'p':
        set(Fn.PMAPDUMP);
        break;
      case 't':
        set(Fn.TCPPING);
        break;
      case 'u':
        set(Fn.UDPPING);
        break;
      case 'n': {
        const { value, end } = strtol(ev.arg!);
        if (end === 0 || end !== ev.arg!.length) {
          o.fatal(`rpcinfo: ${ev.arg} is illegal port number`);
          return 1;
        }
        portnum = Number(BigInt.asUintN(16, value));
        break;
      }
      case 'a':
        address = ev.arg!;
        set(Fn.ADDRPING);
        break;
      case 'b':
        set(Fn.BROADCAST);
        break;
      case 'd':
        set(Fn.DELETES);
        break;
      case 'l':
        set(Fn.RPCBADDRLIST);
        break;
      case 'm':
        set(Fn.RPCBGETSTAT);
        break;
      case 's':
        set(Fn.RPCBDUMP_SHORT);
        break;
      case 'T':
        netid = ev.arg!;
        break;
    }
  }
  if (errflg || (fn === Fn.ADDRPING && netid === undefined)) usage(o);
  if (fn === Fn.NONE) fn = operands.length > 1 ? Fn.PROGPING : Fn.RPCBDUMP;
  switch (fn) {
    case Fn.PMAPDUMP:
      await pmapdump(ctx, operands, portnum);
      return 0;
    case Fn.UDPPING:
      return ipPing(ctx, 'udp', operands);
    case Fn.TCPPING:
      return ipPing(ctx, 'tcp', operands);
    case Fn.BROADCAST:
      return brdcst(ctx, operands);
    case Fn.DELETES:
      return deletereg(ctx, netid, operands);
    case Fn.ADDRPING:
      return addrping(ctx, address!, netid, operands);
    case Fn.PROGPING:
      return progping(ctx, netid, operands);
    case Fn.RPCBDUMP:
    case Fn.RPCBDUMP_SHORT:
      await rpcbdump(ctx, fn === Fn.RPCBDUMP_SHORT, netid, operands);
      return 0;
    case Fn.RPCBGETSTAT:
      await rpcbgetstat(ctx, operands);
      return 0;
    case Fn.RPCBADDRLIST:
      await rpcbaddrlist(ctx, netid, operands);
      return 0;
    default:
      return 0;
  }
}
