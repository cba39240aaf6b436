// Differential tests against rpcgen's C (issue 3 item 7). For fixtures/x/alltypes.x and the corpus
// (fixtures/x/rpcsvc/*.x), rpcgen -h/-c and a generated main (spec/codegen/_helpers/c-harness.ts) are
// built in a temp dir against libtirpc. For every named type that rpcgen gives an xdr_ routine:
//   1. seeded random values (respecting bounds, enum members, union arms, short lists) are encoded by
//      oncrpc's run-time loader; libtirpc decodes each and re-encodes it: the bytes must be identical,
//      and oncrpc must decode C's bytes to a value equal to the original;
//   2. each encoding is mutated (truncated, a bit flipped, a word replaced, bytes appended): whenever C
//      rejects the bytes, oncrpc must reject them too. The other direction does not hold: libtirpc does
//      not check enum values (any int is stored), bool and optional-data flags (anything non-zero is
//      TRUE) or padding bytes; oncrpc rejects those (ERR_XDR_ENUM, ERR_XDR_BOOL, ERR_XDR_PADDING) and
//      the test checks that these three codes are the only disagreements. When both accept, oncrpc
//      decodes C's re-encoding to the value it decoded from the mutant (unless a mutation put a NUL
//      byte in a string: C strings end there).
// Known C behaviour the test allows for: rpcgen's char/short/u_char/u_short are 4-byte ints on the wire
// that C narrows on decode without an error (oncrpc's front end maps them to int, so it keeps the full
// value): random values stay in range, and a mutant that C narrows is counted, not failed. Strings hold
// no NUL byte (xdr_string encodes strlen()). C side set-up: nis.x's multi-line `%#define` is joined
// (rpcgen 1.4.3 cannot parse it), nis_callback.x is built with nis.x (buildHarness `deps`). Every corpus
// file and every named type is compared (built-ins such as u_int, netobj through libtirpc's routines).
// The emitter's generated TypeScript (generateTypeScript, written for every file into one temp dir inside
// the repository so `from 'oncrpc'` resolves to dist/ and nis_callback's `./nis.gen.js` to nis's module) is
// a third side, for every compared type that has read<Name>/write<Name> (names as Model gives them):
//   3. the generated writer gives the loader's (and so C's) bytes for the same values, and the generated
//      reader decodes C's bytes to the loader's values;
//   4. for every mutant, the generated reader accepts exactly when the loader does (so it rejects whatever
//      C rejects), throws only XdrErrors, and when both accept the values are equal. Where both reject
//      with different codes the pairs are counted in a comment (a fixed-size run is checked for length
//      with one need() before its enums are validated, so a truncated run with a bad enum in it is
//      ERR_XDR_SHORT for the generated reader and ERR_XDR_ENUM for the loader).
import t from 'tap';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileFile } from '../../src/codegen/compile.js';
import { Model } from '../../src/codegen/emit-model.js';
import { generateTypeScript, outputPath } from '../../src/codegen/generate.js';
import { loadSchema, type AnyXdrType } from '../../src/codegen/interpret.js';
import { toJson } from '../../src/xdr/json.js';
import { XdrDecodeError } from '../../src/errors.js';
import * as x from '../../src/xdr/index.js';
import { requirePeer } from '../_helpers/peers.js';
import { Rng, toHex } from '../_helpers/hex.js';
import { buildHarness, joinPassthroughContinuations, runHarness } from './_helpers/c-harness.js';
import { narrowIntRanges, randomValues, sameValue } from './_helpers/random-values.js';
import type { Declaration, Schema, TypeSpec } from '../../src/codegen/ast.js';

const root = new URL('../../', import.meta.url).pathname;
const VALUES_PER_TYPE = Number(process.env.ONCRPC_DIFF_VALUES ?? 150);

/** Corpus files the C side cannot build, with the reason. Every other file is tested. None today. */
const EXCLUDED: Record<string, string> = {};

/**
 * Files that use another file's types through a C header rather than #include: nis_callback.x uses
 * nis.x's nis_object via `%#include <rpcsvc/nis.h>` (see buildHarness's `deps`).
 */
const C_DEPS: Record<string, string[]> = { nis_callback: ['nis'] };

/** Types oncrpc's front end knows as built-ins whose xdr_ routine libtirpc itself exports. */
const LIBTIRPC_ROUTINES = new Set(['u_int', 'u_long', 'u_short', 'u_char', 'uint32_t', 'u_int32_t', 'int32_t', 'int64_t', 'uint64_t', 'u_int64_t', 'quad_t', 'u_quad_t', 'des_block', 'netobj']);

/** Laxities of libtirpc: oncrpc rejects these where C accepts. */
const KNOWN_LAX = new Set(['ERR_XDR_ENUM', 'ERR_XDR_BOOL', 'ERR_XDR_PADDING']);

const corpusDir = join(root, 'fixtures/x/rpcsvc');
const corpus = existsSync(corpusDir) ? readdirSync(corpusDir).filter((f) => f.endsWith('.x')).sort() : [];
/**
 * .x files written for the differential test besides the corpus: golden inputs whose every type rpcgen
 * compiles (optionals: optional-data of typedef'd arrays, strings, opaques, enums and unions, and optionals
 * of optionals).
 */
const extra = [join(root, 'spec/codegen/golden/optionals/input.x')];
const files = [join(root, 'fixtures/x/alltypes.x'), ...extra, ...corpus.filter((f) => !(f in EXCLUDED)).map((f) => join(corpusDir, f))];

const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** One mutation of valid bytes, chosen at random. */
function mutate(rng: Rng, b: Uint8Array): Uint8Array {
  const words = b.length >> 2;
  switch (rng.int(words ? 5 : 2)) {
    case 0:
      return b.slice(0, rng.int(b.length)); // a strict prefix
    case 1: {
      const out = new Uint8Array(b.length + 4);
      out.set(b);
      out.set(rng.bytes(4), b.length);
      return out;
    }
    case 2: {
      // a bit of the low byte of a word: counts, enums, discriminants, flags, padding, data
      const out = b.slice();
      out[rng.int(words) * 4 + 3]! ^= 1 << rng.int(8);
      return out;
    }
    case 3: {
      const out = b.slice();
      out[rng.int(b.length)]! ^= 1 << rng.int(8);
      return out;
    }
    default: {
      const out = b.slice();
      const v = rng.pick([0, 1, 2, 3, 0xffffffff, 0x7fffffff, 0x80000000, rng.u32()]);
      new DataView(out.buffer).setUint32(rng.int(words) * 4, v);
      return out;
    }
  }
}

function decodes(type: AnyXdrType, b: Uint8Array): { ok: true; value: unknown } | { ok: false; code: string; error: unknown } {
  try {
    return { ok: true, value: x.decode(type, b) };
  } catch (e) {
    return { ok: false, code: e instanceof XdrDecodeError ? e.code : 'NOT_AN_XDR_DECODE_ERROR', error: e };
  }
}

/** Whether values of `name` can hold an rpcgen char/short (C narrows those on decode, without an error). */
function holdsNarrowInt(schema: Schema, name: string, isNarrow: (t: Extract<TypeSpec, { kind: 'int' }>) => boolean): boolean {
  const seen = new Set<string>();
  const spec = (t: TypeSpec): boolean => {
    switch (t.kind) {
      case 'int':
        return isNarrow(t);
      case 'ref': {
        if (seen.has(t.name)) return false;
        seen.add(t.name);
        const d = schema.lookup(t.name)!;
        if (d.kind === 'typedef') return decl(d.decl);
        if (d.kind === 'enum') return false;
        return spec({ kind: d.kind, body: d.body, pos: d.pos } as TypeSpec);
      }
      case 'struct':
        return t.body.fields.some(decl);
      case 'union':
        return decl(t.body.discriminant) || t.body.cases.some((c) => decl(c.arm)) || (t.body.default !== undefined && decl(t.body.default));
      default:
        return false;
    }
  };
  const decl = (d: Declaration): boolean => 'type' in d && spec(d.type);
  return spec({ kind: 'ref', name, pos: { file: '', line: 0, col: 0 } });
}

const hasNul = (type: AnyXdrType, v: unknown): boolean => JSON.stringify(toJson(type, v)).includes('\\u0000');

/** The package as generated modules see it (`from 'oncrpc'`: dist/, a second copy of the classes in src/). */
type Runtime = typeof import('oncrpc');
/** A generated module's `read<Name>` / `write<Name>` pair, with the names (for messages). */
interface GenCodec {
  readName: string;
  writeName: string;
  read: (r: InstanceType<Runtime['XdrReader']>) => unknown;
  write: (w: InstanceType<Runtime['XdrWriter']>, v: unknown) => void;
}

function genEncode(rt: Runtime, g: GenCodec, v: unknown): { ok: true; hex: string } | { ok: false; error: unknown } {
  try {
    const w = new rt.XdrWriter();
    g.write(w, v);
    return { ok: true, hex: toHex(w.toBytes()) };
  } catch (e) {
    return { ok: false, error: e };
  }
}

/** Decodes all of `b` with a generated reader (trailing bytes rejected, as x.decode does). */
function genDecode(rt: Runtime, g: GenCodec, b: Uint8Array): { ok: true; value: unknown } | { ok: false; code: string; error: unknown } {
  try {
    const r = new rt.XdrReader(b);
    const value = g.read(r);
    r.expectEnd();
    return { ok: true, value };
  } catch (e) {
    return { ok: false, code: e instanceof rt.XdrError ? e.code : 'NOT_AN_XDR_ERROR', error: e };
  }
}

/**
 * The generated codecs of the named types of `model`'s .x, from its module and (for types used from
 * another .x, Schema.imports) the sibling modules in the same directory; names by names.ts via Model.
 */
async function generatedCodecs(model: Model, dir: string): Promise<(name: string) => GenCodec | undefined> {
  const modules = new Map<Model, Record<string, unknown>>();
  for (const m of [model, ...model.allImported()]) {
    modules.set(m, (await import(pathToFileURL(outputPath(m.schema.spec.file, dir)).href)) as Record<string, unknown>);
  }
  return (name) => {
    const info = model.lookup(name);
    if (!info) return undefined;
    const mod = modules.get(info.owner)!;
    const read = mod[info.read];
    const write = mod[info.write];
    if (typeof read !== 'function' || typeof write !== 'function') throw new Error(`generated module for ${basename(info.owner.schema.spec.file)} does not export ${info.read}/${info.write}`);
    return { readName: info.read, writeName: info.write, read: read as GenCodec['read'], write: write as GenCodec['write'] };
  };
}

t.test('differential: oncrpc vs rpcgen + libtirpc', async (t) => {
  const rpcgen = requirePeer(t, 'rpcgen');
  const cc = requirePeer(t, 'cc');
  if (!rpcgen || !cc) return;
  if (!existsSync('/usr/include/tirpc/rpc/rpc.h')) {
    t.fail('libtirpc-dev is not installed (/usr/include/tirpc/rpc/rpc.h)');
    return;
  }
  t.ok(corpus.length >= 17, `corpus: ${corpus.length} files in fixtures/x/rpcsvc`);
  for (const [f, why] of Object.entries(EXCLUDED)) t.comment(`excluded ${f}: ${why}`);
  const tmp = mkdtempSync(join(tmpdir(), 'oncrpc-diff-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  // The generated modules, all in one directory (nis_callback's imports ./nis.gen.js), inside the
  // repository so that `from 'oncrpc'` resolves to this package (its dist/, which must be built).
  const genDir = mkdtempSync(join(root, '.gen-test-diff-'));
  t.teardown(() => rmSync(genDir, { recursive: true, force: true }));
  const genInputs = [...new Set([...files, ...Object.values(C_DEPS).flat().map((d) => join(corpusDir, `${d}.x`))])];
  for (const f of genInputs) writeFileSync(outputPath(f, genDir), generateTypeScript(compileFile(f)));
  const rt: Runtime = await import('oncrpc');

  for (const file of files) {
    t.test(basename(file), async (t) => {
      const base = basename(file, '.x');
      const dir = mkdtempSync(join(tmp, base + '-'));
      // The file and its siblings (for #include), passthrough continuations joined for rpcgen 1.4.3.
      for (const f of readdirSync(dirname(file)).filter((f) => f.endsWith('.x'))) {
        writeFileSync(join(dir, f), joinPassthroughContinuations(readFileSync(join(dirname(file), f), 'utf8')));
      }
      const loaded = loadSchema(compileFile(file));
      const names = [...loaded.types.keys()];
      const { bin, types } = buildHarness(dir, base, (routines) => names.filter((n) => routines.has(n) || LIBTIRPC_ROUTINES.has(n)), C_DEPS[base]);
      const noC = names.filter((n) => !types.includes(n));
      if (noC.length) t.comment(`${base}: not compared (neither rpcgen -c nor libtirpc has an xdr_ routine for them): ${noC.join(', ')}`);
      t.ok(types.length > 0, `${types.length} types compared`);
      const intRange = narrowIntRanges((f) => readFileSync(existsSync(f) ? f : join(dirname(file), basename(f)), 'utf8'));
      const gen = randomValues(loaded.schema, { intRange });
      const rng = new Rng(0x5eed ^ base.length);
      const lax = new Map<string, number>();
      const model = new Model(loaded.schema);
      const generated = await generatedCodecs(model, genDir);
      const noGen = types.filter((n) => !generated(n));
      if (noGen.length) t.comment(`${base}: generated codecs not compared (no read/write<Name> for them: built-ins): ${noGen.join(', ')}`);
      let genTypes = 0;
      const genCodeDiffs = new Map<string, number>();
      let mutantsRejectedByBoth = 0;
      let mutantsAcceptedByBoth = 0;

      for (const name of types) {
        const type = loaded.type(name);
        const narrow = holdsNarrowInt(loaded.schema, name, (t) => intRange(t) !== undefined);
        const values = Array.from({ length: VALUES_PER_TYPE }, () => gen(rng, name));
        const long = base === 'alltypes' && name === 'nodeptr' ? values.length : -1;
        if (long >= 0) {
          let head: unknown = null;
          for (let i = 3000; i > 0; i--) head = { value: i, tag: `n${i}`.slice(0, 16), next: head };
          values.push(head); // a long optional-data list
        }
        const encoded = values.map((v) => toHex(x.encode(type, v)));
        const fromC = runHarness(bin, name, encoded);
        const diffs: string[] = [];
        encoded.forEach((h, i) => {
          if (fromC[i] !== h) diffs.push(`value ${i}: oncrpc ${h.slice(0, 80)} C ${fromC[i]!.slice(0, 80)}`);
          else {
            const back = decodes(type, unhex(fromC[i]!));
            if (!back.ok) diffs.push(`value ${i}: C bytes do not decode: ${String(back.error)}`);
            else if (i === long ? toHex(x.encode(type, back.value)) !== h : !sameValue(back.value, values[i])) diffs.push(`value ${i}: decoded value differs`);
          }
        });
        t.same(diffs.slice(0, 5), [], `${name}: ${encoded.length} values, C reproduces oncrpc's bytes and they decode to the same values`);

        const g = generated(name);
        if (g) {
          genTypes++;
          const gd: string[] = [];
          values.forEach((v, i) => {
            const e = genEncode(rt, g, v);
            if (!e.ok) gd.push(`value ${i}: generated ${g.writeName} throws ${String(e.error)}`);
            else if (e.hex !== encoded[i]) gd.push(`value ${i}: generated ${g.writeName} gives ${e.hex.slice(0, 80)}, the loader ${encoded[i]!.slice(0, 80)}, C ${fromC[i]!.slice(0, 80)}`);
            if (!/^[0-9a-f]*$/.test(fromC[i]!)) return; // C failed on a valid value: reported above
            const ours = decodes(type, unhex(fromC[i]!));
            const d = genDecode(rt, g, unhex(fromC[i]!));
            if (!d.ok) gd.push(`value ${i}: generated ${g.readName} rejects C's bytes with ${d.code}: ${String(d.error)}`);
            // The 3000-node list is compared by re-encoding (sameValue recurses once per node).
            else if (i === long ? toHex(x.encode(type, d.value)) !== encoded[i] : !ours.ok || !sameValue(d.value, ours.value)) gd.push(`value ${i}: generated ${g.readName} decodes C's bytes to a value other than the loader's`);
          });
          t.same(gd.slice(0, 5), [], `${name}: generated ${g.writeName} gives the loader's and C's bytes, ${g.readName} decodes C's bytes to the loader's values`);
        }

        const mutants = encoded.map((h) => toHex(mutate(rng, unhex(h))));
        const cm = runHarness(bin, name, mutants);
        const bad: string[] = [];
        const genBad: string[] = [];
        mutants.forEach((h, i) => {
          const ours = decodes(type, unhex(h));
          const c = cm[i]!;
          if (g) {
            const gm = genDecode(rt, g, unhex(h));
            const says = (r: typeof gm | typeof ours): string => (r.ok ? 'accepts' : `rejects (${r.code}: ${String(r.error)})`);
            if (!gm.ok && gm.code === 'NOT_AN_XDR_ERROR') genBad.push(`mutant ${h.slice(0, 120)}: generated ${g.readName} throws something other than an XdrError: ${String(gm.error)}`);
            else if (c === 'REJECT' && gm.ok) genBad.push(`mutant ${h.slice(0, 120)}: C rejects, generated ${g.readName} accepts`);
            else if (gm.ok !== ours.ok) genBad.push(`mutant ${h.slice(0, 120)}: generated ${g.readName} ${says(gm)}, the run-time loader ${says(ours)}`);
            else if (gm.ok && ours.ok && (i === long ? toHex(x.encode(type, gm.value)) !== toHex(x.encode(type, ours.value)) : !sameValue(gm.value, ours.value))) genBad.push(`mutant ${h.slice(0, 120)}: generated ${g.readName} and the loader both accept, with different values`);
            else if (!gm.ok && !ours.ok && gm.code !== ours.code) {
              const k = `${ours.code} (loader) vs ${gm.code} (generated)`;
              genCodeDiffs.set(k, (genCodeDiffs.get(k) ?? 0) + 1);
            }
          }
          if (c === 'REJECT') {
            if (ours.ok) bad.push(`mutant ${h.slice(0, 120)}: C rejects, oncrpc accepts`);
            else if (ours.code === 'NOT_AN_XDR_DECODE_ERROR') bad.push(`mutant ${h.slice(0, 120)}: ${String(ours.error)}`);
            else mutantsRejectedByBoth++;
            return;
          }
          if (c === 'ENCODE_FAILED') return; // C decoded a value it cannot encode (e.g. an enum it does not check)
          if (!ours.ok) {
            if (!KNOWN_LAX.has(ours.code)) bad.push(`mutant ${h.slice(0, 120)}: C accepts, oncrpc rejects with ${ours.code}: ${String(ours.error)}`);
            lax.set(ours.code, (lax.get(ours.code) ?? 0) + 1);
            return;
          }
          mutantsAcceptedByBoth++;
          if (hasNul(type, ours.value)) return;
          const again = decodes(type, unhex(c));
          if (again.ok && narrow && !sameValue(again.value, ours.value)) {
            lax.set('char/short narrowed by C', (lax.get('char/short narrowed by C') ?? 0) + 1);
            return;
          }
          if (!again.ok || !sameValue(again.value, ours.value)) bad.push(`mutant ${h.slice(0, 120)}: both accept, but C re-encodes as ${c.slice(0, 120)}`);
        });
        t.same(bad.slice(0, 5), [], `${name}: ${mutants.length} mutants, whatever C rejects oncrpc rejects`);
        if (g) t.same(genBad.slice(0, 5), [], `${name}: ${mutants.length} mutants, generated ${g.readName} accepts/rejects as the loader does (and rejects whatever C rejects)`);
      }
      t.comment(`${base}: generated codecs compared for ${genTypes} of ${types.length} types; error codes where both reject but differ: ${[...genCodeDiffs].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
      t.comment(`${base}: ${types.length} types; mutants: ${mutantsRejectedByBoth} rejected by both, ${mutantsAcceptedByBoth} accepted by both, accepted only by C (libtirpc laxity): ${[...lax].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
    });
  }
});
