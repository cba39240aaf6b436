// `oncrpc gen FILE.x… [-o DIR]`: rpcgen for TypeScript — one `<name>.gen.ts` module per .x file.

import { mkdir, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { formatDiagnostic } from '../codegen/ast.js';
import { checkFile } from '../codegen/compile.js';
import { generateTypeScript, outputPath } from '../codegen/generate.js';

export function genCommand(): Command {
  return new Command('gen')
    .description('generate TypeScript types, codecs and program descriptors from .x files (like rpcgen)')
    .argument('<files...>', '.x files (RFC 4506 / RFC 5531 language, rpcgen extensions)')
    .option('-o, --out-dir <dir>', 'write <name>.gen.ts here (default: next to each .x file)')
    .action(async (files: string[], opts: { outDir?: string }) => {
      let failed = false;
      for (const file of files) {
        const { schema, diagnostics } = checkFile(file);
        // Every diagnostic, as rpcgen and compilers print them; warnings do not stop generation.
        for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        if (!schema) {
          failed = true;
          continue;
        }
        const out = outputPath(file, opts.outDir);
        try {
          const text = generateTypeScript(schema, { source: file });
          if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
          await writeFile(out, text);
        } catch (e) {
          process.stderr.write(`oncrpc gen: ${file}: ${(e as Error).message}\n`);
          failed = true;
          continue;
        }
        process.stdout.write(`${file} -> ${out}\n`);
      }
      if (failed) process.exitCode = 1;
    });
}
