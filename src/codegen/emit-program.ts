// Emits, for each program version of a .x module, its numbers as constants, a plain descriptor (data
// only: numbers and [read, write] codecs of every procedure's arguments and result) and the typed client
// and server-handler interfaces the RPC runtime binds to it (data, not classes: the runtime then takes a
// generated descriptor and one loaded from a .x at run time alike).

import type { Declaration, ProgramDefinition, Version } from './ast.js';
import type { CodecEmitter } from './emit-codec.js';
import { declText, type Model } from './emit-model.js';
import { numberLiteral, valueText, where } from './emit-types.js';
import { propKey, quote } from './names.js';
import type { Printer } from './printer.js';

interface ProcInfo {
  name: string;
  number: bigint;
  args: string;
  result: string;
  codecs: { args: string; res: string };
  signature: string;
}

/** Program, version and procedure numbers as constants (once per name; rpcgen #defines them). */
export function emitProgramConstants(m: Model, out: Printer): Map<string, string> {
  const names = new Map<string, string>();
  const seen = new Map<string, bigint>();
  const def = (x: string, v: bigint, doc: string): void => {
    if (seen.get(x) === v) return;
    const ts = m.names.claim(x, true);
    if (!seen.has(x)) names.set(x, ts);
    seen.set(x, v);
    out.line(`/** ${doc} */`);
    out.line(`export const ${ts} = ${numberLiteral(v)};`);
  };
  for (const p of m.programs) {
    def(p.name, m.value(p.number), `program ${p.name} (${where(p.pos)})`);
    for (const v of p.versions) {
      def(v.name, m.value(v.number), `version ${v.name} of ${p.name}`);
      for (const pr of v.procedures) def(pr.name, m.value(pr.number), `procedure ${pr.name} of ${p.name} version ${v.name}`);
    }
  }
  return names;
}

export function emitPrograms(m: Model, codecs: CodecEmitter, out: Printer): { usesCallTypes: boolean } {
  let any = false;
  for (const p of m.programs) {
    for (const v of p.versions) {
      any = true;
      emitVersion(m, codecs, p, v, out);
    }
  }
  if (any) {
    codecs.imports.add('ProgramDescriptor');
    codecs.imports.add('CallOptions');
    codecs.imports.add('CallContext');
  }
  return { usesCallTypes: any };
}

function tsOf(m: Model, decls: readonly Declaration[]): string {
  const live = decls.filter((d) => d.kind !== 'void');
  if (live.length === 0) return 'void';
  if (live.length === 1) return m.tsOfDecl(live[0]!);
  return `[${live.map((d) => m.tsOfDecl(d)).join(', ')}]`;
}

function emitVersion(m: Model, codecs: CodecEmitter, p: ProgramDefinition, v: Version, out: Printer): void {
  const vers = m.value(v.number);
  const base = `${v.name}_${vers}`;
  const desc = m.names.claim(base, true);
  const client = m.names.claim(`${base}_Client`, false);
  const handlers = m.names.claim(`${base}_Handlers`, false);
  const vt = valueText(m);
  const procs: ProcInfo[] = [];
  for (const pr of v.procedures) {
    const args = pr.args.filter((a) => a.kind !== 'void');
    const argsText = args.length ? args.map((a) => declText(a, vt)).join(', ') : 'void';
    const resText = pr.result.kind === 'void' ? 'void' : declText(pr.result, vt);
    procs.push({
      name: pr.name,
      number: m.value(pr.number),
      args: tsOf(m, args),
      result: tsOf(m, [pr.result]),
      codecs: {
        args: codecs.procCodec(args, args.length > 1 ? `${pr.name}_args` : `${pr.name}_arg`, out),
        res: codecs.procCodec([pr.result], `${pr.name}_res`, out),
      },
      signature: `${resText} ${pr.name}(${argsText}) = ${m.value(pr.number)}`,
    });
  }
  const progNum = m.value(p.number);
  out.line(`/** program ${p.name} version ${v.name} (${where(v.pos)}): numbers and codecs of each procedure; plain data. */`);
  out.block(`export const ${desc} = {`, () => {
    out.line(`name: ${quote(p.name)},`);
    out.line(`prog: ${numberLiteral(progNum)},`);
    out.line(`version: ${quote(v.name)},`);
    out.line(`vers: ${numberLiteral(vers)},`);
    out.block('procs: {', () => {
      for (const pr of procs) {
        out.line(`${propKey(pr.name)}: { name: ${quote(pr.name)}, proc: ${numberLiteral(pr.number)}, args: ${pr.codecs.args}, res: ${pr.codecs.res} },`);
      }
    }, '},');
  }, '} as const satisfies ProgramDescriptor;');
  out.line('');
  out.line(`/** A client of ${p.name} version ${v.name}: one Promise-returning method per procedure. */`);
  out.block(`export interface ${client} {`, () => {
    for (const pr of procs) {
      out.line(`/** ${pr.signature} */`);
      out.line(`${propKey(pr.name)}(args: ${pr.args}, options?: CallOptions): Promise<${pr.result}>;`);
    }
  });
  out.line('');
  out.line(`/** A server implementation of ${p.name} version ${v.name}: one handler per procedure. */`);
  out.block(`export interface ${handlers} {`, () => {
    for (const pr of procs) {
      out.line(`/** ${pr.signature} */`);
      out.line(`${propKey(pr.name)}(args: ${pr.args}, ctx: CallContext): ${pr.result} | Promise<${pr.result}>;`);
    }
  });
  out.line('');
}
