// The README's examples run and print what the README says; docs/errors.md lists every error.
import t from 'tap';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as errors from '../src/errors.js';

const root = new URL('..', import.meta.url).pathname;

t.test('README js examples run and print the outputs shown in their comments', async (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
  t.ok(blocks.length >= 4, `${blocks.length} examples`);
  // Inside the package so `import 'oncrpc/...'` resolves to this package (self-reference via exports).
  const dir = mkdtempSync(join(root, '.readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  blocks.forEach((code, i) => {
    const lines = code.split('\n');
    const expected: string[] = [];
    lines.forEach((l, k) => {
      if (!l.includes('console.log')) return;
      for (let j = k + 1; j < lines.length && /^\s*\/\/ /.test(lines[j]!); j++) expected.push(lines[j]!.replace(/^\s*\/\/ /, ''));
    });
    const file = join(dir, `example-${i}.mjs`);
    writeFileSync(file, code);
    const out = execFileSync(process.execPath, [file], { cwd: root, encoding: 'utf8' });
    if (expected.length) t.same(out.trimEnd().split('\n'), expected, `example ${i + 1}`);
    else t.ok(out.length > 0, `example ${i + 1} ran and printed`);
  });
});

t.test('docs/errors.md names every error class and code', async (t) => {
  const doc = readFileSync(join(root, 'docs/errors.md'), 'utf8');
  for (const code of Object.values(errors.ErrorCodes)) t.ok(doc.includes('`' + code + '`'), code);
  for (const [name, v] of Object.entries(errors)) {
    if (typeof v === 'function' && /Error$/.test(name)) t.ok(doc.includes('`' + name + '`'), name);
  }
});
