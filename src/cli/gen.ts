// `oncrpc gen FILE.x… [-o DIR]`: rpcgen for TypeScript — one `<name>.gen.ts` module per .x file.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import { formatDiagnostic } from '../codegen/ast.js';
import { checkFile } from '../codegen/compile.js';
import { generateTypeScript, outputPath } from '../codegen/generate.js';
import { cliError } from './format.js';

export function genCommand(): Command {
  return new Command('gen')
    .description('generate TypeScript types, codecs and program descriptors from .x files (like rpcgen)')
    .argument('<files...>', '.x files (RFC 4506 / RFC 5531 language, rpcgen extensions)')
    .option('-o, --out-dir <dir>', 'write <name>.gen.ts here (default: next to each .x file)')
    .option('--runtime <module>', "the module generated code imports its runtime from (default 'oncrpc/runtime')")
    .action(async (files: string[], opts: { outDir?: string; runtime?: string }) => {
      let failed = false;
      for (const file of files) {
        // A file that cannot be read is a command error (`oncrpc gen: FILE: no such file or directory`),
        // not a diagnostic at line 1 that repeats the path; unreadable #includes stay diagnostics.
        try {
          await readFile(file);
        } catch (e) {
          cliError('gen', e, file);
          failed = true;
          continue;
        }
        const { schema, diagnostics } = checkFile(file);
        // Every diagnostic, as rpcgen and compilers print them; warnings do not stop generation.
        for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        if (!schema) {
          failed = true;
          continue;
        }
        const out = outputPath(file, opts.outDir);
        try {
          const text = generateTypeScript(schema, { source: file, ...(opts.runtime ? { runtimeModule: opts.runtime } : {}) });
          if (opts.outDir) await mkdir(opts.outDir, { recursive: true });
          await writeFile(out, text);
        } catch (e) {
          cliError('gen', e, e instanceof Error && (e as NodeJS.ErrnoException).path === out ? out : file);
          failed = true;
          continue;
        }
        process.stdout.write(`${file} -> ${out}\n`);
      }
      if (failed) process.exitCode = 1;
    });
}
