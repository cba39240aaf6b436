// The oncrpc codecs the bench measures, made from bench/xdr/workloads.x at bench time exactly as users
// make them: `oncrpc gen` (generated TypeScript, transpiled here) and the run-time loader (no codegen).
// Also times the compiler itself: workloads.x, the largest corpus file, and all corpus files.

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';
import { compileFile } from '../../dist/codegen/compile.js';
import { generateTypeScript } from '../../dist/codegen/generate.js';
import { loadSchema } from '../../dist/codegen/interpret.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Generates, transpiles and imports workloads.gen.ts; returns the module and the loader's codecs. */
export async function buildCodecs(buildDir) {
  mkdirSync(buildDir, { recursive: true });
  const schema = compileFile(join(here, 'workloads.x'));
  const source = generateTypeScript(schema);
  writeFileSync(join(buildDir, 'workloads.gen.ts'), source);
  // Transpile only (types were checked by the tests); the module imports 'oncrpc/runtime', which resolves to
  // this package's dist/ through its own exports map because .build/ is inside the package.
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
  const file = join(buildDir, 'workloads.gen.mjs');
  writeFileSync(file, js);
  const generated = await import(pathToFileURL(file).href);
  const loaded = loadSchema(schema);
  return { generated, loaded };
}

/** Milliseconds to compile and generate: workloads.x, the largest corpus .x, and the whole corpus. */
export function compileTimes() {
  const corpusDir = join(here, '../../fixtures/x/rpcsvc');
  const files = readdirSync(corpusDir).filter((f) => f.endsWith('.x')).map((f) => join(corpusDir, f));
  const largest = files.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const time = (list) => {
    const best = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      for (const f of list) generateTypeScript(compileFile(f));
      best.push(performance.now() - t0);
    }
    return Math.min(...best);
  };
  time(files); // warm-up: the first run includes loading and JIT
  return {
    largest: { file: largest.split('/').pop(), bytes: readFileSync(largest).length, ms: time([largest]) },
    corpus: { files: files.length, ms: time(files) },
  };
}
