// `oncrpc xdr encode|decode --x FILE.x --type NAME`: JSON lines <-> hex lines through a .x loaded at run
// time (no codegen step). The JSON mapping is docs/json-mapping.md. A bad line is reported on stderr with
// its line number and skipped; the exit status is 1 if any line failed.

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Command } from 'commander';
import { CliInputError, SchemaError } from '../errors.js';
import type { AnyXdrType, LoadedSchema } from '../codegen/interpret.js';
import { fromJson, toJson } from '../xdr/json.js';
import { decode, encode } from '../xdr/index.js';
import { cliError, errorText, loadXFile } from './format.js';

interface XdrOptions {
  x: string[];
  type: string;
}

/** Finds the named type in loaded .x files (the last file that defines it wins). @throws SchemaError (ERR_SCHEMA) naming the known types. */
export function findType(loaded: readonly LoadedSchema[], files: readonly string[], name: string): AnyXdrType {
  for (let i = loaded.length - 1; i >= 0; i--) {
    const t = loaded[i]!.types.get(name);
    if (t) return t;
  }
  const known = loaded.flatMap((l) => [...l.types.keys()]);
  throw new SchemaError(`no type named ${name} in ${files.join(', ')}${known.length ? ` (known: ${known.join(', ')})` : ''}`);
}

const HEX_LINE = /^(?:0x)?((?:[0-9a-fA-F]{2}|\s)*)$/;

/**
 * Converts each non-blank input line with `convert`, writing one output line per good input line.
 * Returns the number of lines that failed.
 */
export async function convertLines(input: Readable, output: Writable, errors: Writable, what: string, convert: (line: string) => string): Promise<number> {
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  let failed = 0;
  for await (const line of rl) {
    n++;
    if (line.trim() === '') continue;
    let out: string;
    try {
      out = convert(line);
    } catch (e) {
      failed++;
      errors.write(`oncrpc xdr ${what}: line ${n}: ${errorText(e)}\n`);
      continue;
    }
    if (!output.write(out + '\n')) await new Promise((r) => output.once('drain', r));
  }
  return failed;
}

export function encodeLine(type: AnyXdrType, line: string): string {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch (e) {
    throw new CliInputError(`not JSON: ${(e as Error).message}`);
  }
  const bytes = encode(type, fromJson(type, json));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function decodeLine(type: AnyXdrType, line: string): string {
  const m = HEX_LINE.exec(line.trim());
  const digits = m ? m[1]!.replace(/\s+/g, '') : '';
  if (!m || digits.length % 2) throw new CliInputError('not hex: expected pairs of hex digits (spaces allowed, optional 0x)');
  const bytes = new Uint8Array(Buffer.from(digits, 'hex'));
  return JSON.stringify(toJson(type, decode(type, bytes)));
}

function sub(name: 'encode' | 'decode'): Command {
  const desc =
    name === 'encode'
      ? 'read JSON values (one per line) on stdin, print their XDR encoding as hex lines'
      : 'read XDR encodings as hex (one per line) on stdin, print the values as JSON lines';
  return new Command(name)
    .description(desc)
    .requiredOption('--x <files...>', '.x files that define the type')
    .requiredOption('--type <name>', 'the type (typedef, struct, union or enum name)')
    .action(async (opts: XdrOptions) => {
      const loaded: LoadedSchema[] = [];
      for (const f of opts.x) {
        try {
          loaded.push(await loadXFile(f));
        } catch (e) {
          cliError(`xdr ${name}`, e, f);
          return;
        }
      }
      let type: AnyXdrType;
      try {
        type = findType(loaded, opts.x, opts.type);
      } catch (e) {
        cliError(`xdr ${name}`, e);
        return;
      }
      const failed = await convertLines(process.stdin, process.stdout, process.stderr, name, (line) => (name === 'encode' ? encodeLine(type, line) : decodeLine(type, line)));
      if (failed) process.exitCode = 1;
    });
}

export function xdrCommand(): Command {
  return new Command('xdr')
    .description('encode and decode XDR values of a type from .x files (JSON mapping: docs/json-mapping.md)')
    .addCommand(sub('encode'))
    .addCommand(sub('decode'));
}
