// The rpcsvc corpus (fixtures/x/rpcsvc, rpcsvc-proto 1.4.3) and the repo's own .x files compile
// with zero errors, and a few resolved facts are right.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { checkFile, compileFile } from '../../src/codegen/compile.js';
import { formatDiagnostic, type Definition, type Schema } from '../../src/codegen/ast.js';

const DIR = 'fixtures/x/rpcsvc';
const files = readdirSync(DIR).filter((f) => f.endsWith('.x')).sort();
const schemas = new Map<string, Schema>();

t.test('every corpus file compiles with zero errors (and zero warnings)', async (t) => {
  t.equal(files.length, 17);
  const started = performance.now();
  for (const f of [...files.map((f) => `${DIR}/${f}`), 'fixtures/x/alltypes.x', 'fixtures/x/quadruple.x']) {
    const r = checkFile(f);
    t.same(r.diagnostics.map(formatDiagnostic), [], f);
    if (r.schema) schemas.set(f.replace(/^.*\//, ''), r.schema);
  }
  t.comment(`compiled ${files.length + 2} files in ${(performance.now() - started).toFixed(1)} ms`);
});

const s = (name: string): Schema => schemas.get(name) ?? compileFile(name === 'alltypes.x' || name === 'quadruple.x' ? `fixtures/x/${name}` : `${DIR}/${name}`);

t.test('nfs_prot.x', async (t) => {
  const nfs = s('nfs_prot.x');
  t.equal(nfs.programs.length, 1);
  const prog = nfs.programs[0]!;
  t.equal(prog.name, 'NFS_PROGRAM');
  t.equal(nfs.value(prog.number), 100003n);
  t.same(prog.versions.map((v) => [v.name, nfs.value(v.number)]), [['NFS_VERSION', 2n]]);
  t.equal(prog.versions[0]!.procedures.length, 18);
  t.equal(nfs.constants.get('NFS_MAXDATA'), 8192n);
  t.equal(nfs.constants.get('NFSERR_NAMETOOLONG'), 63n);
  const attrstat = nfs.definition('attrstat');
  t.equal(attrstat.kind, 'union');
  if (attrstat.kind === 'union') {
    t.match(attrstat.body.discriminant, { kind: 'plain', name: 'status', type: { kind: 'ref', name: 'nfsstat' } });
    t.same(attrstat.body.cases.map((c) => c.values.map((v) => nfs.value(v))), [[0n]]);
    t.match(attrstat.body.cases[0]!.arm, { kind: 'plain', name: 'attributes', type: { kind: 'ref', name: 'fattr' } });
    t.match(attrstat.body.default, { kind: 'void' });
  }
  t.match(nfs.definition('readres'), { kind: 'union', pos: { file: `${DIR}/nfs_prot.x`, line: 208, col: 7 } });
});

t.test('mount.x linked lists', async (t) => {
  const m = s('mount.x');
  t.match(m.types.get('mountlist'), { kind: 'typedef', decl: { kind: 'optional', name: 'mountlist', type: { kind: 'ref', name: 'mountbody' } } });
  t.match(m.definition('mountbody'), {
    kind: 'struct',
    body: { fields: [{ name: 'ml_hostname' }, { name: 'ml_directory' }, { kind: 'plain', name: 'ml_next', type: { kind: 'ref', name: 'mountlist' } }] },
  });
  const dump = m.programs[0]!.versions[0]!.procedures.find((p) => p.name === 'MOUNTPROC_DUMP')!;
  t.match(dump, { result: { kind: 'plain', type: { kind: 'ref', name: 'mountlist' } }, args: [] });
  t.equal(m.value(dump.number), 2n);
  t.same(m.programs[0]!.versions.map((v) => m.value(v.number)), [1n]);
});

t.test('rpcgen-isms in the corpus', async (t) => {
  // yp.x: three programs, bool discriminant with TRUE/FALSE, #ifdef STUPID_SUN_BUG (not defined)
  const yp = s('yp.x');
  t.same(yp.programs.map((p) => [p.name, yp.value(p.number)]), [['YPPROG', 100004n], ['YPPUSH_XFRRESPPROG', 0x40000000n], ['YPBINDPROG', 100007n]]);
  t.match(yp.definition('ypresp_key_val'), { body: { fields: [{ name: 'stat' }, { name: 'val' }, { name: 'key' }] } });
  t.match(yp.definition('ypresp_all'), { kind: 'union', body: { cases: [{ values: [{ kind: 'name', name: 'TRUE' }] }, { values: [{ kind: 'name', name: 'FALSE' }] }] } });
  t.equal(yp.constants.get('TRUE'), 1n);
  // key_prot.x: string constant, des_block, MAXNETNAMELEN, u_int
  const key = s('key_prot.x');
  t.match(key.spec.definitions.find((d) => d.kind === 'stringConst'), { name: 'HEXMODULUS', value: 'd4a0ba0250b6fd2ec626e7efd637df76c716e22d0944b88b' });
  t.match(key.types.get('des_block'), { decl: { kind: 'fixedOpaque' } });
  t.equal(key.constants.get('MAXNETNAMELEN'), 255n);
  // nlm_prot.x: sizes from %#define lines
  const nlm = s('nlm_prot.x');
  t.equal(nlm.constants.get('LM_MAXSTRLEN'), 1024n);
  t.equal(nlm.constants.get('MAXNAMELEN'), 1025n);
  // nis.x includes nis_object.x (#include), nis_callback.x uses nis.x's types (%#include <rpcsvc/nis.h>)
  const nis = s('nis.x');
  t.ok(nis.types.has('nis_object'));
  t.match(nis.definition('nis_object'), { pos: { file: `${DIR}/nis_object.x` } });
  // `typedef struct nis_bound_endpoint nis_bound_endpoint;` is dropped: the name is the struct
  t.equal(nis.types.get('nis_bound_endpoint')!.kind, 'struct');
  t.notOk(nis.spec.definitions.some((d: Definition) => d.kind === 'typedef' && d.decl.kind !== 'void' && d.decl.name === 'nis_bound_endpoint'));
  const cb = s('nis_callback.x');
  t.equal(cb.imports.length, 1);
  t.equal(cb.imports[0]!.spec.file, `${DIR}/nis.x`);
  t.equal(cb.definition('nis_object').kind, 'struct');
  t.notOk(cb.types.has('nis_object'));
  // rusers.x: RPC_HDR passthrough kept, RPC_XDR's not
  const ru = s('rusers.x');
  const pass = ru.spec.definitions.filter((d) => d.kind === 'passthrough').map((d) => d.text);
  t.ok(pass.includes('#define\tMAXUSERS 100'));
  t.notOk(pass.some((p) => p.includes('xdr_utmp (XDR *xdrs, struct ru_utmp *objp)')));
  // bootparam_prot.x: char fields are 4-byte ints
  t.match(s('bootparam_prot.x').definition('ip_addr_t'), { body: { fields: [{ type: { kind: 'int' } }, {}, {}, {}] } });
});

t.test('alltypes.x and quadruple.x', async (t) => {
  const a = s('alltypes.x');
  t.match(a.definition('node'), { kind: 'struct', body: { fields: [{ name: 'value' }, { kind: 'string', name: 'tag' }, { kind: 'optional', name: 'next' }] } });
  t.equal(a.constants.get('BLACK'), -1n);
  t.equal(a.constants.get('WHITE'), 16n);
  const q = s('quadruple.x');
  t.match(q.definition('quadholder'), { body: { fields: [{ type: { kind: 'quadruple' } }, { kind: 'fixedArray', type: { kind: 'quadruple' } }] } });
});
