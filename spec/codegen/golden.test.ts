// oncrpc gen golden files: spec/codegen/golden/<case>/input.x must generate exactly expected.ts
// (committed, so generator changes are reviewed as diffs). UPDATE_GOLDEN=1 rewrites them.
import t from 'tap';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileFile } from '../../src/codegen/compile.js';
import { generateTypeScript } from '../../src/codegen/generate.js';

const dir = new URL('golden/', import.meta.url).pathname;
const update = process.env.UPDATE_GOLDEN === '1';

for (const name of readdirSync(dir).sort()) {
  const input = join(dir, name, 'input.x');
  if (!existsSync(input)) continue;
  t.test(name, async (t) => {
    const text = generateTypeScript(compileFile(input));
    const expected = join(dir, name, 'expected.ts');
    if (update || !existsSync(expected)) {
      writeFileSync(expected, text);
      t.pass(`wrote ${expected}`);
      return;
    }
    t.equal(text, readFileSync(expected, 'utf8'), `${name}/expected.ts is up to date (UPDATE_GOLDEN=1 npx tap ${'spec/codegen/golden.test.ts'} to accept)`);
  });
}

t.test('generation is deterministic', async (t) => {
  const input = join(dir, 'shapes', 'input.x');
  t.equal(generateTypeScript(compileFile(input)), generateTypeScript(compileFile(input)));
});
