// RPC program names as the C library finds them (getrpcbyname(3), getrpcbynumber(3)): the entries of
// /etc/rpc when the file exists, else a built-in table — the well-known names of src/rpc/names.ts
// (PROGRAM_NAMES) extended with the rest of what Debian's netbase ships in /etc/rpc, and the aliases.
//
// /etc/rpc is read as glibc's files backend reads it: `#` starts a comment anywhere on a line; fields
// are separated by blanks (space, tab); a line is `name number alias…` and needs at least the first
// two; the number is read as atoi(3) reads it. The first entry matching a number or a name (the name
// or any alias, case-sensitive) wins.

import { readFileSync } from 'node:fs';
import { PROGRAM_NAMES } from './names.js';

/** One entry of /etc/rpc. */
export interface RpcEntry {
  readonly name: string;
  readonly number: number;
  readonly aliases: readonly string[];
}

/** The file the C library reads. */
export const ETC_RPC = '/etc/rpc';

/** Programs of netbase's /etc/rpc that PROGRAM_NAMES does not name, as [number, name]. */
const MORE_PROGRAMS: readonly (readonly [number, string])[] = [
  [100010, 'etherstatd'], [100013, '3270_mapper'], [100014, 'rje_mapper'], [100015, 'selection_svc'],
  [100016, 'database_svc'], [100017, 'rexd'], [100018, 'alis'], [100019, 'sched'], [100020, 'llockmgr'],
  [100022, 'x25.inr'], [100023, 'statmon'], [100037, 'tfsd'], [100038, 'nsed'], [100039, 'nsemntd'],
  [391002, 'sgi_fam'], [545580417, 'ugidd'], [600100069, 'fypxfrd'], [788585389, 'bwnfsd'],
];

/** Aliases of netbase's /etc/rpc, by program number. */
const ALIASES: ReadonlyMap<number, readonly string[]> = new Map([
  [100000, ['portmap', 'sunrpc', 'rpcbind']],
  [100001, ['rstat', 'rstat_svc', 'rup', 'perfmeter']],
  [100002, ['rusers']],
  [100003, ['nfsprog']],
  [100004, ['ypprog']],
  [100005, ['mount', 'showmount']],
  [100008, ['rwall', 'shutdown']],
  [100009, ['yppasswd']],
  [100010, ['etherstat']],
  [100011, ['rquotaprog', 'quota', 'rquota']],
  [100012, ['spray']],
  [100015, ['selnsvc']],
  [100017, ['rex']],
  [100028, ['ypupdate']],
  [100029, ['keyserver']],
  [300019, ['amq']],
  [600100069, ['freebsd-ypxfrd']],
]);

/** The table used when /etc/rpc does not exist, in number order. */
export const BUILTIN_RPC_ENTRIES: readonly RpcEntry[] = [...PROGRAM_NAMES, ...MORE_PROGRAMS]
  .sort((a, b) => a[0] - b[0])
  .map(([number, name]) => ({ name, number, aliases: ALIASES.get(number) ?? [] }));

/** atoi(3): optional blanks, an optional sign, decimal digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)!;
  const n = Number(m[2] || '0') | 0;
  return m[1] === '-' ? -n | 0 : n;
}

/** The entries of a file in /etc/rpc's format, in file order. */
export function parseRpcFile(text: string): RpcEntry[] {
  const out: RpcEntry[] = [];
  for (const raw of text.split('\n')) {
    const hash = raw.indexOf('#');
    const fields = (hash >= 0 ? raw.slice(0, hash) : raw).split(/[ \t]+/).filter(Boolean);
    if (fields.length < 2) continue;
    out.push({ name: fields[0]!, number: atoi(fields[1]!) >>> 0, aliases: fields.slice(2) });
  }
  return out;
}

/** The entries of `path` (default /etc/rpc), or the built-in table when it does not exist or cannot be read. */
export function loadRpcEntries(path: string = ETC_RPC): readonly RpcEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return BUILTIN_RPC_ENTRIES;
  }
  return parseRpcFile(text);
}

let cached: readonly RpcEntry[] | undefined;

/** The system's entries (/etc/rpc, read once), or the built-in table. */
export function rpcEntries(): readonly RpcEntry[] {
  return (cached ??= loadRpcEntries());
}

/** getrpcbynumber(3): the first entry for program `prog`, or undefined. */
export function getRpcByNumber(prog: number, entries: readonly RpcEntry[] = rpcEntries()): RpcEntry | undefined {
  const n = prog >>> 0;
  return entries.find((e) => e.number === n);
}

/** getrpcbyname(3): the first entry whose name or an alias is `name`, or undefined. */
export function getRpcByName(name: string, entries: readonly RpcEntry[] = rpcEntries()): RpcEntry | undefined {
  return entries.find((e) => e.name === name || e.aliases.includes(name));
}
