// tshark's view of RPC traffic, for comparing `oncrpc decode --stats` with it: the service response time
// tables of `-z rpc,srt,PROG,VERS` and the count of calls and replies of `-T fields -e rpc.msgtyp`.
import { spawn } from 'node:child_process';

/** One row of tshark's `rpc,srt` table: replies matched to their call, and min/max response time. */
export interface SrtRow {
  prog: number;
  vers: number;
  proc: number;
  name: string;
  calls: number;
  min: string;
  max: string;
}

/** What one tshark run found. */
export interface TsharkView {
  srt: SrtRow[];
  calls: number;
  replies: number;
  /** Replies by accept state (0 SUCCESS…) or `denied:N` (reject state). */
  replyStates: Map<string, number>;
}

/**
 * Runs tshark once over `file` with an srt table per program version in `srt` (tshark must know the
 * program), counting calls and replies on the way; `decodeAs` are `-d` options (`udp.port==40000,rpc`).
 * Resolves with tshark's findings (streams its output: a million messages are fine).
 */
export function tsharkView(tshark: string, file: string, srt: Array<[number, number]>, decodeAs: string[] = []): Promise<TsharkView> {
  const args = [
    '-r', file, '-o', 'rpc.dissect_unknown_programs:TRUE', ...decodeAs.flatMap((d) => ['-d', d]),
    '-T', 'fields', '-e', 'rpc.msgtyp', '-e', 'rpc.replystat', '-e', 'rpc.state_accept', '-e', 'rpc.state_reject', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...srt.flatMap(([p, v]) => ['-z', `rpc,srt,${p},${v}`]),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(tshark, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let rest = '';
    let err = '';
    const view: TsharkView = { srt: [], calls: 0, replies: 0, replyStates: new Map() };
    const tables: string[] = [];
    let inTables = false;
    const line = (l: string): void => {
      if (inTables || l.startsWith('====')) {
        inTables = true;
        tables.push(l);
        return;
      }
      const [types, stats, accepts, rejects] = l.split('\t');
      if (!types) return;
      const acc = (accepts ?? '').split(',').filter(Boolean);
      const rej = (rejects ?? '').split(',').filter(Boolean);
      let r = 0;
      const st = (stats ?? '').split(',');
      for (const ty of types.split(',')) {
        if (ty === '0') view.calls++;
        else if (ty === '1') {
          view.replies++;
          r++;
        }
      }
      // Reply states in order: accepted ones take the next accept state, denied ones the next reject state.
      let a = 0;
      let d = 0;
      for (let i = 0; i < r; i++) {
        const k = st[i] === '0' ? String(acc[a++]) : `denied:${rej[d++]}`;
        view.replyStates.set(k, (view.replyStates.get(k) ?? 0) + 1);
      }
    };
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      rest += d;
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const l of lines) line(l);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (rest) line(rest);
      if (code !== 0) {
        reject(new Error(`tshark exited ${code}: ${err}`));
        return;
      }
      view.srt = parseSrt(tables.join('\n'), srt);
      resolve(view);
    });
  });
}

/** The rows of tshark's `RPC SRT Statistics` tables, which come in the order of the `-z` options. */
export function parseSrt(text: string, srt: Array<[number, number]>): SrtRow[] {
  const rows: SrtRow[] = [];
  const tables = text.split(/^RPC SRT Statistics:$/m).slice(1);
  tables.forEach((tbl, i) => {
    // tshark prints the tables in reverse order of the -z options.
    const [prog, vers] = srt[srt.length - 1 - i]!;
    for (const m of tbl.matchAll(/^\s+(\d+)\s+(\S+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+[\d.]+\s+[\d.]+$/gm)) {
      rows.push({ prog, vers, proc: Number(m[1]), name: m[2]!, calls: Number(m[3]), min: m[4]!, max: m[5]! });
    }
  });
  return rows.sort((a, b) => a.prog - b.prog || a.vers - b.vers || a.proc - b.proc);
}
